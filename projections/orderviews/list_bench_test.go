package orderviews_test

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/pgtest"
	"github.com/honten/honten/internal/projtest"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/projections/orderviews"
)

// BenchmarkListOn100kOrders times the backoffice's orders list (the query
// behind GET /admin/orders and /admin/orders) on a shop with 100,000 orders
// written straight into the read model: the first page, a page deep in the
// list by cursor, a status filter and searches (rare and common terms, a
// Japanese name, a search with a filter). It reports the p95.
func BenchmarkListOn100kOrders(b *testing.B) {
	ctx := context.Background()
	pool := pgtest.New(b)
	projtest.Run(b, pool, orderviews.Projector{Registry: app.Registry()})
	shop := tenant.NewID()
	const seed = `INSERT INTO order_views (tenant_id, order_id, number, status, payment_method, email, name, phone,
  shipping_address, lines, totals, total, currency, vendor_ids, access_token_hash, created_at, updated_at, version)
SELECT $1, gen_random_uuid(), 'HT-' || lpad(i::text, 6, '0'),
  (ARRAY['pending_payment','pending_shipment','shipped','completed','cancelled'])[1 + i % 5],
  CASE WHEN i % 3 = 0 THEN 'cod' ELSE 'bank_transfer' END,
  'buyer' || i || '@example.jp', '購入者 ' || i, '090', '{}', '[]', '{}', 1000 + i % 5000, 'JPY', ARRAY[]::uuid[], '',
  now() - make_interval(mins => i), now(), 1
FROM generate_series(1, 100000) AS i`
	_, err := pool.Exec(ctx, seed, shop)
	require.NoError(b, err)
	// order_views is a view of the live generation's table: analyse the
	// table itself, as autovacuum would after such a load.
	var schema string
	require.NoError(b, pool.QueryRow(ctx, `SELECT schema_name FROM projections WHERE model = 'order_views' AND state = 'live'`).Scan(&schema))
	_, err = pool.Exec(ctx, `ANALYZE `+pgx.Identifier{schema, "order_views"}.Sanitize())
	require.NoError(b, err)

	first, err := orderviews.List(ctx, pool, shop, orderviews.Filter{}, projections.Page{Limit: 50})
	require.NoError(b, err)
	deep := projections.Page{Limit: 50, Cursor: *first.NextCursor}
	for range 200 { // 10,000 orders in
		l, err := orderviews.List(ctx, pool, shop, orderviews.Filter{}, deep)
		require.NoError(b, err)
		deep.Cursor = *l.NextCursor
	}
	cases := []struct {
		name string
		f    orderviews.Filter
		p    projections.Page
	}{
		{"first-page", orderviews.Filter{}, projections.Page{Limit: 50}},
		{"page-201", orderviews.Filter{}, deep},
		{"status", orderviews.Filter{Status: "pending_payment"}, projections.Page{Limit: 50}},
		{"search", orderviews.Filter{Query: "HT-0999"}, projections.Page{Limit: 50}},
		{"search-common", orderviews.Filter{Query: "buyer1"}, projections.Page{Limit: 50}},
		{"search-name", orderviews.Filter{Query: "購入者 9999"}, projections.Page{Limit: 50}},
		{"search-status", orderviews.Filter{Query: "HT-0999", Status: "pending_payment"}, projections.Page{Limit: 50}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				start := time.Now()
				_, err := orderviews.List(ctx, pool, shop, c.f, c.p)
				took = append(took, time.Since(start))
				require.NoError(b, err)
			}
			sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
			b.ReportMetric(float64(took[len(took)*95/100].Microseconds())/1000, "p95-ms")
		})
	}
}
