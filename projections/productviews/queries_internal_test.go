package productviews

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/feedcost"
	"github.com/honten/honten/internal/pgtest"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/search/searchtest"
)

// A page of the product list reads each variant's units by its key: the
// cost of a page does not grow with the shop's catalog. (Joined instead,
// the planner hashed the tenant's whole variant_stock once per product of
// the page: 45,000 buffers and 20–50 ms a page on the demo shop.)
func TestAPageReadsEachVariantsStockByItsKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := searchtest.Start(t, pgtest.New(t), func(t *testing.T, _ *pgxpool.Pool, reg *eventstore.Registry) searchtest.Backend {
		return searchtest.Backend{Projectors: []projections.Projector{Projector{Registry: reg}}}
	})
	shop := searchtest.NewShop(env.Store)
	require.NoError(t, shop.LoadCatalog(ctx, searchtest.Catalog()))
	env.Wait(t, shop.Last)
	_, err := env.Pool.Exec(ctx, `ANALYZE`)
	require.NoError(t, err)
	var variants int
	require.NoError(t, env.Pool.QueryRow(ctx, `SELECT count(*) FROM variant_stock WHERE tenant_id = $1`, shop.Tenant).Scan(&variants))
	require.Greater(t, variants, 60, "a catalog with more variants than a page shows")

	for _, generic := range []bool{false, true} {
		plan, err := feedcost.Explain(ctx, env.Pool, feedcost.Query{Feed: "product list", SQL: listSQL,
			Args: []any{shop.Tenant.String(), uuid.Max.String(), "active", nil, nil, nil, 21, true}}, generic)
		require.NoError(t, err)
		stockReads := 0
		for _, s := range plan.Scans {
			if s.Relation != "variant_stock" {
				continue
			}
			stockReads++
			require.NotEqual(t, "Seq Scan", s.Node, plan.JSON)
			require.True(t, strings.Contains(s.Cond, "variant_id"), "variant_stock is read by tenant and variant: %s\n%s", s.Cond, plan.JSON)
		}
		require.Equal(t, 1, stockReads, plan.JSON)
		require.Less(t, plan.Buffers, 600, "generic plan %v:\n%s", generic, plan.JSON)
	}

	// And the documents still carry the units.
	l, err := List(ctx, env.Pool, shop.Tenant, Filter{}, projections.Page{Limit: 100}, true)
	require.NoError(t, err)
	require.NotEmpty(t, l.Items)
	withUnits := 0
	for _, doc := range l.Items {
		if strings.Contains(string(doc), `"available": `) && !strings.Contains(string(doc), `"available": 0,`) {
			withUnits++
		}
	}
	require.Positive(t, withUnits)
}
