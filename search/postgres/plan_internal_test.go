package postgres

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/demo"
	"github.com/honten/honten/internal/pgtest"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/projections/searchdocs"
	"github.com/honten/honten/search"
	"github.com/honten/honten/search/searchtest"
)

// Text queries, hostile ones included, find their candidates through the
// search indexes: none needs a sequential scan of the documents.
func TestPlansUseTheIndexes(t *testing.T) {
	t.Parallel()
	env := searchtest.Start(t, pgtest.New(t), func(t *testing.T, pool *pgxpool.Pool, reg *eventstore.Registry) searchtest.Backend {
		return searchtest.Backend{Index: New(pool), Projectors: []projections.Projector{searchdocs.Projector{Registry: reg}}}
	})
	shop := searchtest.NewShop(env.Store)
	ctx := context.Background()
	require.NoError(t, shop.LoadDemo(ctx, demo.Catalog(1)))
	env.Wait(t, shop.Last)
	// Statistics as autovacuum (or a rebuild) leaves them: on the generation's table, not the view.
	var schema string
	require.NoError(t, env.Pool.QueryRow(ctx, `SELECT schema_name FROM projections WHERE model = 'search_documents' AND state = 'live'`).Scan(&schema))
	_, err := env.Pool.Exec(ctx, `ANALYZE `+pgx.Identifier{schema, "search_documents"}.Sanitize())
	require.NoError(t, err)
	ix := New(env.Pool)
	// On 1,200 documents a sequential scan can be the cheaper plan; with
	// sequential scans priced out, one that remains means the predicate had
	// no index to use (what would scan a 100k catalog).
	explain := func(sql string, a args) string {
		tx, err := env.Pool.Begin(ctx)
		require.NoError(t, err)
		defer tx.Rollback(ctx) //nolint:errcheck // read only
		_, err = tx.Exec(ctx, `SET LOCAL enable_seqscan = off`)
		require.NoError(t, err)
		rows, err := tx.Query(ctx, "EXPLAIN "+sql, append([]any{pgx.QueryExecModeExec}, a...)...)
		require.NoError(t, err)
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		return strings.Join(lines, "\n")
	}
	for _, text := range []string{"時計", "靴", "ヘッドホン", "香水 京都", "まっちゃ", "手拭い", "京都 どら焼き", "うじ", "headphones", "tea", "stonewrae mug", "%", "a_b%",
		strings.Repeat("ヘッドホン", 200), strings.Repeat("tea ", 250), "' OR 1=1 --"} {
		p := ix.parseText(text)
		if p.empty() {
			continue
		}
		sql, a, err := ix.strictSQL(ctx, shop.Tenant, search.Query{Text: text}.Normalized(), p)
		require.NoError(t, err)
		plan := explain(sql, a)
		require.NotContains(t, plan, "Seq Scan on search_documents", "query %q:\n%s", text, plan)
		if sql, a, ok := fallbackSQL(shop.Tenant, search.Query{Text: text}.Normalized(), p); ok {
			plan := explain(sql, a)
			require.NotContains(t, plan, "Seq Scan on search_documents", "fallback of %q:\n%s", text, plan)
		}
	}
}
