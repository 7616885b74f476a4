package searchdocs_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/pgtest"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/projections/searchdocs"
	"github.com/honten/honten/search/searchtest"
)

// dump reads every row of the model's tables in a stable order, as text.
func dump(t *testing.T, ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for table, order := range map[string]string{
		"search_documents":    "tenant_id, id",
		"search_hits":         "tenant_id, id",
		"search_words":        "tenant_id, word",
		"search_facet_counts": "tenant_id, facet, value, in_stock",
		"search_categories":   "tenant_id, id",
		"search_vendors":      "tenant_id, id",
	} {
		rows, err := q.Query(ctx, `SELECT t::text FROM `+table+` t ORDER BY `+order)
		require.NoError(t, err)
		out[table], err = pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
	}
	return out
}

func TestRebuildGivesIdenticalRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := searchtest.Start(t, pgtest.New(t), func(t *testing.T, _ *pgxpool.Pool, reg *eventstore.Registry) searchtest.Backend {
		return searchtest.Backend{Projectors: []projections.Projector{searchdocs.Projector{Registry: reg}}}
	})
	shop := searchtest.NewShop(env.Store)
	require.NoError(t, shop.LoadCatalog(ctx, searchtest.Catalog()[:40]))
	// Some history after the load: a rename, an archive, stock moves.
	p := shop.Products["electric-kettle"]
	title := "電気ケトル 改"
	require.NoError(t, shop.Append(ctx, catalog.ProductStream, p, catalog.ProductUpdated{Title: &title}))
	require.NoError(t, shop.Append(ctx, catalog.ProductStream, shop.Products["blender"], catalog.Archived{}))
	require.NoError(t, shop.SetStock(ctx, "ZJ-NW10", 0))
	env.Wait(t, shop.Last)
	live := dump(t, ctx, env.Pool)
	require.NotEmpty(t, live["search_documents"])

	for range 2 {
		require.NoError(t, env.Runner.Rebuild(ctx, "search_documents", nil))
		require.Equal(t, live, dump(t, ctx, env.Pool), "a replay gives the rows the live tail built")
	}
}
