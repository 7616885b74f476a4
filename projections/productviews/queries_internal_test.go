package productviews

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/demo"
	"github.com/honten/honten/internal/feedcost"
	"github.com/honten/honten/internal/pgtest"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/search/searchtest"
)

// start runs product_views alone on a fresh database.
func start(t *testing.T) *searchtest.Env {
	t.Helper()
	return searchtest.Start(t, pgtest.New(t), func(t *testing.T, _ *pgxpool.Pool, reg *eventstore.Registry) searchtest.Backend {
		return searchtest.Backend{Projectors: []projections.Projector{Projector{Registry: reg}}}
	})
}

// A page of the product list reads each variant's units by its key: the
// cost of a page does not grow with the shop's catalog. (Joined instead,
// the planner hashed the tenant's whole variant_stock once per product of
// the page: 45,000 buffers and 20–50 ms a page on the demo shop.)
func TestAPageReadsEachVariantsStockByItsKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := start(t)
	shop := searchtest.NewShop(env.Store)
	require.NoError(t, shop.LoadCatalog(ctx, searchtest.Catalog()))
	env.Wait(t, shop.Last)
	_, err := env.Pool.Exec(ctx, `ANALYZE`)
	require.NoError(t, err)
	var variants int
	require.NoError(t, env.Pool.QueryRow(ctx, `SELECT count(*) FROM variant_stock WHERE tenant_id = $1`, shop.Tenant).Scan(&variants))
	require.Greater(t, variants, 60, "a catalog with more variants than a page shows")

	for _, c := range []struct {
		sql     string
		generic bool
	}{{listSQL, false}, {listSQL, true}, {storefrontListSQL, false}, {storefrontListSQL, true}} {
		generic := c.generic
		plan, err := feedcost.Explain(ctx, env.Pool, feedcost.Query{Feed: "product list", SQL: c.sql,
			Args: []any{shop.Tenant.String(), uuid.Max.String(), "active", nil, nil, nil, 21}}, generic)
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

// The storefront's rendered document, filled with the stock figures when
// read, is the document the database builds from the stored one
// (docSQL(true)): the same bytes for every product of the demo catalog,
// including digital variants, a product that mixes both kinds, variants
// not on sale, no stock row, and stock below zero. Detail and list agree.
// A generation of the model from before the rendered document (live while
// a deploy rebuilds it) is still read, the database building the
// documents as before.
func TestTheRenderedStorefrontDocumentIsTheOneTheDatabaseWouldBuild(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := start(t)
	shop := searchtest.NewShop(env.Store)
	require.NoError(t, shop.LoadDemo(ctx, demo.Catalog(1)))

	// Pick a published product with several physical variants and bend it.
	var pid uuid.UUID
	var skus []string
	for _, p := range demo.Catalog(1) {
		if p.Status == "active" && len(p.Variants) >= 3 && !p.Variants[0].Digital {
			pid = shop.Products[p.Handle]
			for _, v := range p.Variants {
				skus = append(skus, v.SKU)
			}
			break
		}
	}
	require.NotEqual(t, uuid.Nil, pid, "the demo catalog has a product with three physical variants")
	inactive, digital := catalog.VariantInactive, catalog.FulfillmentDigital
	require.NoError(t, shop.Append(ctx, catalog.ProductStream, pid,
		catalog.VariantUpdated{Variant: catalog.VariantID{UUID: shop.Variants[skus[1]]}, Status: &inactive},
		catalog.VariantUpdated{Variant: catalog.VariantID{UUID: shop.Variants[skus[2]]}, FulfillmentType: &digital}))
	require.NoError(t, shop.SetStock(ctx, skus[0], -2))
	// A variant added after the stock was counted has no stock row.
	require.NoError(t, shop.Append(ctx, catalog.ProductStream, pid, catalog.VariantAdded{
		Variant: catalog.VariantID{UUID: uuid.Must(uuid.NewV7())}, SKU: "BENT-NEW", Title: "New",
		FulfillmentType: catalog.FulfillmentPhysical, Price: money.MustNew(decimal.NewFromInt(500), money.JPY),
		TaxRate: catalog.TaxStandard, Status: catalog.VariantActive}))
	env.Wait(t, shop.Last)

	want := map[uuid.UUID]string{}
	rows, err := env.Pool.Query(ctx, builtStorefrontListSQL, shop.Tenant, uuid.Max, "active", nil, nil, nil, 10_000)
	require.NoError(t, err)
	var id uuid.UUID
	var doc string
	_, err = pgx.ForEachRow(rows, []any{&id, &doc}, func() error { want[id] = doc; return nil })
	require.NoError(t, err)
	require.Greater(t, len(want), 100)
	require.Contains(t, want[pid], `"fulfillment_type": "digital"`)
	require.Contains(t, want[pid], `"available": null`)

	readAll := func() {
		t.Helper()
		got := map[uuid.UUID]string{}
		p := projections.Page{Limit: 100}
		for {
			l, err := List(ctx, env.Pool, shop.Tenant, Filter{}, p, true)
			require.NoError(t, err)
			for _, d := range l.Items {
				var x struct{ ID uuid.UUID }
				require.NoError(t, json.Unmarshal(d, &x), string(d))
				got[x.ID] = string(d)
			}
			if l.NextCursor == nil {
				break
			}
			p.Cursor = *l.NextCursor
		}
		require.Len(t, got, len(want))
		for id, w := range want {
			require.Equal(t, w, got[id], "product %s", id)
		}
		bent, err := Get(ctx, env.Pool, shop.Tenant, pid.String(), true)
		require.NoError(t, err)
		require.Equal(t, want[pid], string(bent.Doc))
	}
	readAll()

	// The live generation as product_views.v3 left it: no rendered document.
	var schema string
	require.NoError(t, env.Pool.QueryRow(ctx, `SELECT schema_name FROM projections WHERE model = 'product_views' AND state = 'live'`).Scan(&schema))
	_, err = env.Pool.Exec(ctx, fmt.Sprintf(`ALTER TABLE %[1]s.products DROP COLUMN storefront CASCADE;
ALTER TABLE %[1]s.products DROP COLUMN storefront_stock, DROP COLUMN storefront_digital;
CREATE VIEW public.products AS SELECT * FROM %[1]s.products`, pgx.Identifier{schema}.Sanitize()))
	require.NoError(t, err)
	readAll()
}
