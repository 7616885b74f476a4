package searchdocs_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/pgtest"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/projections/productviews"
	"github.com/honten/honten/projections/searchdocs"
	"github.com/honten/honten/search"
	"github.com/honten/honten/search/postgres"
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
		"search_available":    "tenant_id, id",
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

// A reservation of a plentiful SKU (stock that stays above zero) writes the
// narrow stock rows only: the product's storefront document (product_views)
// and its search document, hit, words and facets stay as they are, while
// both read paths show the new figures. A flip of in-stock rewrites the
// search document and moves the facet counts.
func TestStockMovesRewriteOnlyWhatAShopperSees(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := searchtest.Start(t, pgtest.New(t), func(t *testing.T, pool *pgxpool.Pool, reg *eventstore.Registry) searchtest.Backend {
		return searchtest.Backend{Index: postgres.New(pool),
			Projectors: []projections.Projector{searchdocs.Projector{Registry: reg}, productviews.Projector{Registry: reg}}}
	})
	shop := searchtest.NewShop(env.Store)
	var it searchtest.Item
	for _, c := range searchtest.Catalog() {
		if len(c.SKUs) == 1 && len(c.Options) <= 1 && c.Stock > 0 && !c.Draft {
			it = c
			break
		}
	}
	require.NotEmpty(t, it.Handle, "the fixture has a single-variant physical product")
	require.NoError(t, shop.LoadCatalog(ctx, []searchtest.Item{it}))
	sku, id := it.SKUs[0], shop.Products[it.Handle]
	require.NoError(t, shop.SetStock(ctx, sku, 10))
	env.Wait(t, shop.Last)

	// rows are the versions (xmin) of the product's wide rows, in the live
	// generations' tables (views have none), and the facet counts.
	live := func(model string) string {
		var s string
		require.NoError(t, env.Pool.QueryRow(ctx, `SELECT schema_name FROM projections WHERE model = $1 AND state = 'live'`, model).Scan(&s))
		return pgx.Identifier{s}.Sanitize()
	}
	sd, pv := live("search_documents"), live("product_views")
	rows := func() []string {
		var d, h, p string
		require.NoError(t, env.Pool.QueryRow(ctx, `SELECT (SELECT xmin::text FROM `+sd+`.search_documents WHERE tenant_id = $1 AND id = $2),
  (SELECT xmin::text FROM `+sd+`.search_hits WHERE tenant_id = $1 AND id = $2),
  (SELECT xmin::text FROM `+pv+`.products WHERE tenant_id = $1 AND id = $2)`, shop.Tenant, id).Scan(&d, &h, &p))
		return append([]string{d, h, p}, dump(t, ctx, env.Pool)["search_facet_counts"]...)
	}
	// narrow are the versions of the variant's and product's stock rows.
	narrow := func() []string {
		var vs, ss, sa string
		require.NoError(t, env.Pool.QueryRow(ctx, `SELECT (SELECT xmin::text FROM `+pv+`.variant_stock WHERE tenant_id = $1 AND variant_id = $2),
  (SELECT xmin::text FROM `+sd+`.search_stock WHERE tenant_id = $1 AND variant_id = $2),
  (SELECT xmin::text FROM `+sd+`.search_available WHERE tenant_id = $1 AND id = $3)`, shop.Tenant, shop.Variants[sku], id).Scan(&vs, &ss, &sa))
		return []string{vs, ss, sa}
	}
	// shown is what a shopper sees: the search hit's and the product
	// document's available units and in-stock flags.
	shown := func() (hitAvail int64, hitIn bool, docAvail, varAvail int64, docIn bool) {
		res, err := env.Backend.Index.Search(ctx, shop.Tenant, search.Query{Limit: 10})
		require.NoError(t, err)
		require.Len(t, res.Hits, 1)
		p, err := productviews.Get(ctx, env.Pool, shop.Tenant, id.String(), true)
		require.NoError(t, err)
		var d struct {
			Available int64 `json:"available"`
			InStock   bool  `json:"in_stock"`
			Variants  []struct {
				Available int64 `json:"available"`
			} `json:"variants"`
		}
		require.NoError(t, json.Unmarshal(p.Doc, &d))
		require.Len(t, d.Variants, 1)
		return res.Hits[0].Available, res.Hits[0].InStock, d.Available, d.Variants[0].Available, d.InStock
	}
	ha, hi, da, va, di := shown()
	require.Equal(t, []any{int64(10), true, int64(10), int64(10), true}, []any{ha, hi, da, va, di})

	before, stock := rows(), narrow()
	require.NoError(t, shop.SetStock(ctx, sku, 9))
	env.Wait(t, shop.Last)
	require.Equal(t, before, rows(), "a move that keeps the product in stock rewrites no wide row")
	ha, hi, da, va, di = shown()
	require.Equal(t, []any{int64(9), true, int64(9), int64(9), true}, []any{ha, hi, da, va, di})
	moved := narrow()
	for i := range moved {
		require.NotEqual(t, stock[i], moved[i], "the units moved: the narrow stock rows change")
	}

	// An event that leaves the units as they were (a hold committed at
	// checkout moves them from reserved to sold) writes no row at all.
	require.NoError(t, shop.SetStock(ctx, sku, 9))
	env.Wait(t, shop.Last)
	require.Equal(t, moved, narrow(), "the same units: no stock row is written")
	require.Equal(t, before, rows())

	require.NoError(t, shop.SetStock(ctx, sku, 0))
	env.Wait(t, shop.Last)
	after := rows()
	require.NotEqual(t, before[0], after[0], "sold out: the search document changes")
	require.NotEqual(t, before[3:], after[3:], "sold out: the facet counts move")
	require.Equal(t, before[2], after[2], "the stored product document holds no stock")
	ha, hi, da, va, di = shown()
	require.Equal(t, []any{int64(0), false, int64(0), int64(0), false}, []any{ha, hi, da, va, di})
	res, err := env.Backend.Index.Search(ctx, shop.Tenant, search.Query{Limit: 10, InStock: true})
	require.NoError(t, err)
	require.Empty(t, res.Hits)
}
