package feedcost_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/feedcost"
	"github.com/honten/honten/internal/pgtest"
	"github.com/honten/honten/projections"
)

// logSize is the size of the log the plans are checked on.
const logSize = 1_000_000

// fillLog appends n events across tenants in transactions of perTx events,
// server-side: a mix of stream and event types like a shop's, with payment
// events only in the first twentieth of the log (a sparse topic whose
// cursor lies far behind the head).
const fillLog = `
DO $$
DECLARE
    n      int := %d;
    per_tx int := %d;
    ts     uuid[] := ARRAY[%s]::uuid[];
    i      int := 0;
BEGIN
    WHILE i < n LOOP
        INSERT INTO events (tenant_id, stream_type, stream_id, stream_version, event_id, event_type, payload, correlation_id)
        -- Ids in time order, as UUIDv7 are.
        SELECT ts[1 + g %% array_length(ts, 1)], k.stream_type, ('00000000-0000-7000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, 1,
               ('00000000-0000-7000-9000-' || lpad(to_hex(g), 12, '0'))::uuid, k.event_type,
               '{"sku": "TEE-BLK-M", "quantity": 2}', ('00000000-0000-7000-a000-' || lpad(to_hex(g), 12, '0'))::uuid
        FROM generate_series(i, i + per_tx - 1) g,
        LATERAL (SELECT CASE
            WHEN g %% 100 < 20 THEN 'cart'
            WHEN g %% 100 < 50 THEN 'inventory'
            WHEN g %% 100 < 65 THEN 'product'
            WHEN g %% 100 < 80 THEN 'order'
            WHEN g %% 100 < 90 AND g < n / 20 THEN 'payment'
            ELSE 'shipment' END AS stream_type) st,
        LATERAL (SELECT CASE st.stream_type
            WHEN 'cart' THEN (ARRAY['cart.created.v1', 'cart.item_added.v1', 'cart.item_quantity_changed.v1', 'cart.item_removed.v1'])[1 + g %% 4]
            WHEN 'inventory' THEN (ARRAY['inventory.reservation.requested.v1', 'inventory.reserved.v1', 'inventory.released.v1'])[1 + g %% 3]
            WHEN 'product' THEN 'catalog.product_updated.v1'
            WHEN 'order' THEN (ARRAY['order.placed.v1', 'order.paid.v1', 'order.shipped.v1'])[1 + g %% 3]
            WHEN 'payment' THEN 'payment.settled.v1'
            ELSE 'shipment.shipped.v1' END AS event_type, st.stream_type) k;
        i := i + per_tx;
        COMMIT;
    END LOOP;
END $$`

// TestFeedQueriesCostTheSameOnALargeLog checks every feed query on a log of
// a million events after ANALYZE, under custom and generic plans: the
// cursor is an index condition, and a poll that finds nothing new reads
// fewer than 100 buffers — also for a sparse topic whose cursor is far
// behind the head, and for the read-model queries polled on a timer.
func TestFeedQueriesCostTheSameOnALargeLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)

	// Read models exist (the sweep reads order_view_payments).
	reg := app.Registry()
	r, err := projections.NewRunner(pool, app.Projectors(reg), projections.Options{})
	require.NoError(t, err)
	require.NoError(t, r.Ensure(ctx))

	tenants := make([]tenant.ID, 20)
	lits := ""
	for i := range tenants {
		tenants[i] = tenant.NewID()
		if i > 0 {
			lits += ", "
		}
		lits += "'" + tenants[i].String() + "'"
	}
	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	// Filling the log is set-up, not a measure: no wait for the disk.
	_, err = conn.Exec(ctx, "SET synchronous_commit = off", pgx.QueryExecModeSimpleProtocol)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, fmt.Sprintf(fillLog, logSize, 100, lits), pgx.QueryExecModeSimpleProtocol)
	require.NoError(t, err)
	conn.Release()

	now := time.Now().UTC()
	// Holds: many, none due; payments: many, none overdue.
	_, err = pool.Exec(ctx, `INSERT INTO reservation_index (reservation_id, tenant_id, variant_id, cart_id, line_id, status, quantity, expires_at, decided_at)
SELECT gen_random_uuid(), $1, gen_random_uuid(), gen_random_uuid(), gen_random_uuid(),
       (ARRAY['reserved', 'committed', 'released', 'expired'])[1 + g % 4], 1, $2::timestamptz + (g % 900) * interval '1 second', $2
FROM generate_series(1, 200000) g`, tenants[0], now.Add(time.Minute))
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `INSERT INTO order_views (tenant_id, order_id, number, status, payment_method, email, name, phone,
    shipping_address, lines, totals, total, currency, vendor_ids, access_token_hash, created_at, updated_at, version)
SELECT $1, gen_random_uuid(), 'HT-' || g, (ARRAY['pending_payment', 'pending_shipment', 'shipped', 'completed', 'cancelled'])[1 + g % 5],
       'bank_transfer', 'buyer@example.com', 'name', '0312345678', '{}', '[]', '{}', 1000, 'JPY', '{}', 'x', $2, $2, 1
FROM generate_series(1, 100000) g`, tenants[0], now)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `INSERT INTO order_view_payments (tenant_id, payment_id, order_id, method, status, currency, amount, due_at, created_at, updated_at, version)
SELECT tenant_id, gen_random_uuid(), order_id, 'bank_transfer',
       CASE status WHEN 'pending_payment' THEN 'pending' WHEN 'cancelled' THEN 'cancelled' ELSE 'settled' END, 'JPY', 1000,
       $1::timestamptz + (random() * 7) * interval '1 day', created_at, created_at, 1
FROM order_views`, now.Add(time.Hour))
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `ANALYZE`)
	require.NoError(t, err)

	// Cursors: every consumer at the head, the payment topic at its last
	// event (a twentieth of the way in), the typed admin feed at the head.
	pos := func(q string) eventstore.Position {
		var txText string
		var p eventstore.Position
		require.NoError(t, pool.QueryRow(ctx, q).Scan(&txText, &p.Pos))
		p.Tx, err = strconv.ParseUint(txText, 10, 64)
		require.NoError(t, err)
		return p
	}
	head := pos(`SELECT tx_id::text, global_position FROM events ORDER BY tx_id DESC, global_position DESC LIMIT 1`)
	lastPayment := pos(`SELECT tx_id::text, global_position FROM events WHERE stream_type = 'payment' ORDER BY tx_id DESC, global_position DESC LIMIT 1`)
	require.Less(t, lastPayment.Pos, head.Pos/10)
	tenantHead := pos(`SELECT tx_id::text, global_position FROM events WHERE tenant_id = '` + tenants[3].String() + `' ORDER BY tx_id DESC, global_position DESC LIMIT 1`)
	for group, p := range map[string]eventstore.Position{"plan_all": head, "plan_payment": lastPayment} {
		topic := "all"
		if group == "plan_payment" {
			topic = "payment"
		}
		_, err := pool.Exec(ctx, `INSERT INTO watermill_offsets_events (consumer_group, topic, offset_acked, last_processed_transaction_id)
VALUES ($1, $2, $3, $4::text::xid8)`, group, topic, p.Pos, p.TxText())
		require.NoError(t, err)
	}

	qs, err := feedcost.Feeds(ctx, pool, feedcost.Cursors{
		Projection: head, Reservations: head,
		Groups: map[string]string{"all": "plan_all", "payment": "plan_payment"},
		Tenant: tenants[3], Types: []string{"payment.refunded.v1"}, Typed: tenantHead,
		Now: now,
	})
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(qs), 10)
	for _, q := range qs {
		for _, generic := range []bool{false, true} {
			p, err := feedcost.Explain(ctx, pool, q, generic)
			require.NoError(t, err)
			mode := "custom"
			if generic {
				mode = "generic"
			}
			t.Logf("%-45s %-7s %3d buffers %v", q.Feed, mode, p.Buffers, p.Scans)
			if q.Cursor {
				require.True(t, p.CursorIndexed(), "%s (%s plan): the cursor is not an index condition:\n%s", q.Feed, mode, p.JSON)
			}
			require.Empty(t, p.SeqScans(), "%s (%s plan) scans a table:\n%s", q.Feed, mode, p.JSON)
			require.Less(t, p.Buffers, 100, "%s (%s plan) reads too much for an empty poll:\n%s", q.Feed, mode, p.JSON)
		}
	}
}
