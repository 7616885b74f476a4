package chaos

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/honten/honten/commands/reservations"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/eventstore/bus"
	"github.com/honten/honten/projections"
)

// Check is one verified property.
type Check struct {
	Name   string
	OK     bool
	Detail string
}

// behindSQL counts the consumer groups (handler × topic) of the bus that
// have not handled every event of their topic up to a position.
const behindSQL = `SELECT count(*) FROM unnest($1::text[], $2::text[]) AS h(grp, topic)
LEFT JOIN watermill_offsets_events o ON o.consumer_group = h.grp AND o.topic = h.topic
WHERE EXISTS (SELECT 1 FROM events ev
              WHERE (h.topic = 'all' OR ev.stream_type = h.topic)
                AND (ev.tx_id, ev.global_position) <= ($3::text::xid8, $4::bigint)
                AND (ev.tx_id, ev.global_position) > (coalesce(o.last_processed_transaction_id, '0'::xid8), coalesce(o.offset_acked, 0)))`

// projBehindSQL counts live read models (internal ones) behind pos.
const projBehindSQL = `SELECT count(*) FROM projections
WHERE state = 'live' AND model = ANY($1) AND (tx_id, position) < ($2::text::xid8, $3::bigint)`

// Lagging returns how many read models (kept in PostgreSQL) and how many
// consumer groups of handlers have not yet applied every event up to pos.
func Lagging(ctx context.Context, pool *pgxpool.Pool, runner *projections.Runner, handlers []bus.Handler, pos eventstore.Position) (models, groups int, err error) {
	var names, topics []string
	for _, h := range handlers {
		for _, topic := range h.Topics {
			names, topics = append(names, h.Name), append(topics, topic)
		}
	}
	if err := pool.QueryRow(ctx, projBehindSQL, runner.InternalModels(), pos.TxText(), pos.Pos).Scan(&models); err != nil {
		return 0, 0, err
	}
	if err := pool.QueryRow(ctx, behindSQL, names, topics, pos.TxText(), pos.Pos).Scan(&groups); err != nil {
		return 0, 0, err
	}
	return models, groups, nil
}

// Settle waits until nothing is left to do: every policy has handled every
// event of its topics, every reservation request is decided, and every read
// model has applied the head of the log — and the head stays put while
// that is checked. handlers are the bus handlers of the workers role.
func Settle(ctx context.Context, pool *pgxpool.Pool, runner *projections.Runner, handlers []bus.Handler, shop Shop) error {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	var last string
	for {
		head, err := eventstore.Head(ctx, pool)
		if err == nil {
			var models, groups int
			var undecided int64
			models, groups, err = Lagging(ctx, pool, runner, handlers, head)
			if err == nil {
				undecided, err = reservations.CountUndecided(ctx, pool, shop.Tenant)
			}
			if err == nil {
				var again eventstore.Position
				if again, err = eventstore.Head(ctx, pool); err == nil && groups == 0 && undecided == 0 && models == 0 && again == head {
					return nil
				}
				last = fmt.Sprintf("%d consumer groups behind, %d reservation requests undecided, %d read models behind %s", groups, undecided, models, head)
			}
		}
		if err != nil {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("chaos: not settled: %s: %w", last, ctx.Err())
		case <-t.C:
		}
	}
}

// Verify checks the invariants a crash must not break, on a settled
// database: acknowledged writes are in the log, one order per checkout key,
// no oversell, no stuck reaction, and every read model equals a fresh
// rebuild from the log (it rebuilds them all: run it last).
func Verify(ctx context.Context, pool *pgxpool.Pool, runner *projections.Runner, shop Shop, load *Load) []Check {
	var out []Check
	add := func(name string, ok bool, detail string, args ...any) {
		out = append(out, Check{Name: name, OK: ok, Detail: fmt.Sprintf(detail, args...)})
	}
	count := func(q string, args ...any) (int64, error) {
		var n int64
		err := pool.QueryRow(ctx, q, args...).Scan(&n)
		return n, err
	}
	zero := func(name, what, q string, args ...any) {
		n, err := count(q, args...)
		switch {
		case err != nil:
			add(name, false, "%s: %v", what, err)
		default:
			add(name, n == 0, "%d %s", n, what)
		}
	}

	// Acknowledged writes: every X-Event-Position names an event; every
	// cart and order id answered has its stream.
	pos := load.Client.Positions()
	txs, ps := make([]string, len(pos)), make([]int64, len(pos))
	for i, p := range pos {
		txs[i], ps[i] = p.TxText(), p.Pos
	}
	n, err := count(`SELECT count(*) FROM unnest($1::text[], $2::bigint[]) AS a(tx, pos)
WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.tx_id = a.tx::xid8 AND e.global_position = a.pos)`, txs, ps)
	add("acknowledged writes are in the log", err == nil && n == 0 && len(pos) > 0, "%d of %d acknowledged positions missing (err %v)", n, len(pos), err)
	carts := load.Carts()
	orders := load.Orders()
	var orderIDs []uuid.UUID
	dupKeys := 0
	for _, ids := range orders {
		for _, id := range ids[1:] {
			if id != ids[0] {
				dupKeys++
				break
			}
		}
		orderIDs = append(orderIDs, ids[0])
	}
	const missingStreams = `SELECT count(*) FROM unnest($2::uuid[]) AS s(id)
WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.tenant_id = $1 AND e.stream_id = s.id AND e.stream_version = 1)`
	n, err = count(missingStreams, shop.Tenant, carts)
	add("acknowledged carts exist", err == nil && n == 0 && len(carts) > 0, "%d of %d carts missing (err %v)", n, len(carts), err)
	n, err = count(missingStreams, shop.Tenant, orderIDs)
	add("acknowledged orders exist", err == nil && n == 0 && len(orderIDs) > 0, "%d of %d orders missing (err %v)", n, len(orderIDs), err)

	// One order per checkout key (per cart), whatever was retried.
	add("one order per Idempotency-Key (answers)", dupKeys == 0, "%d keys answered with two order ids", dupKeys)
	zero("one order per Idempotency-Key (log)", "carts with two orders placed", `SELECT count(*) FROM (
  SELECT payload->>'cart_id' FROM events WHERE tenant_id = $1 AND event_type = 'order.placed.v1'
  GROUP BY 1 HAVING count(*) > 1) d`, shop.Tenant)

	// No oversell.
	zero("no oversell: stock never negative in the log", "inventory events with available < 0",
		`SELECT count(*) FROM events WHERE tenant_id = $1 AND stream_type = 'inventory' AND (payload->>'available')::bigint < 0`, shop.Tenant)
	zero("no oversell: stock levels", "stock rows with available < 0 or reserved < 0",
		`SELECT count(*) FROM stock_levels WHERE tenant_id = $1 AND (available < 0 OR reserved < 0 OR on_hand < 0)`, shop.Tenant)
	zero("no oversell: sold ≤ stock", "variants that sold more than their stock", `
WITH held AS (
  SELECT stream_id AS variant, payload->>'reservation_id' AS rid, (payload->>'quantity')::bigint AS qty
  FROM events WHERE tenant_id = $1 AND event_type IN ('inventory.reservation.reserved.v1', 'inventory.allocation.reallocated.v1')),
committed AS (
  SELECT DISTINCT payload->>'reservation_id' AS rid FROM events
  WHERE tenant_id = $1 AND event_type IN ('inventory.reservation.committed.v1', 'inventory.allocation.reallocated.v1')),
released AS (
  SELECT DISTINCT payload->>'reservation_id' AS rid FROM events
  WHERE tenant_id = $1 AND event_type = 'inventory.allocation.released.v1'),
reduced AS (
  SELECT payload->>'reservation_id' AS rid, sum((payload->>'quantity')::bigint) AS qty FROM events
  WHERE tenant_id = $1 AND event_type = 'inventory.allocation.reduced.v1' GROUP BY 1),
sold AS (
  SELECT h.variant, sum(h.qty - coalesce(d.qty, 0)) AS units FROM held h JOIN committed c USING (rid) LEFT JOIN released r USING (rid)
  LEFT JOIN reduced d USING (rid)
  WHERE r.rid IS NULL GROUP BY h.variant),
stock AS (
  SELECT stream_id AS variant, sum((payload->>'delta')::bigint) AS units FROM events
  WHERE tenant_id = $1 AND event_type = 'inventory.updated.v1' GROUP BY 1)
SELECT count(*) FROM sold LEFT JOIN stock USING (variant) WHERE sold.units > coalesce(stock.units, 0)`, shop.Tenant)

	// No stuck reaction.
	zero("no stuck reaction: settled payments paid their order", "orders still pending payment with a settled payment", `
SELECT count(*) FROM order_views o WHERE o.tenant_id = $1 AND o.status = 'pending_payment'
  AND EXISTS (SELECT 1 FROM events e WHERE e.tenant_id = $1 AND e.stream_id = o.payment_id AND e.event_type = 'payment.settled.v1')`, shop.Tenant)
	zero("no stuck reaction: COD and paid orders have shipments", "orders due a shipment without one", `
SELECT count(*) FROM order_views o WHERE o.tenant_id = $1 AND o.status NOT IN ('pending_payment', 'cancelled')
  AND NOT EXISTS (SELECT 1 FROM order_view_shipments s WHERE s.tenant_id = $1 AND s.order_id = o.order_id)`, shop.Tenant)
	zero("no stuck reaction: delivered and paid orders completed", "orders delivered and paid but not completed", `
SELECT count(*) FROM order_views o WHERE o.tenant_id = $1 AND o.status NOT IN ('completed', 'cancelled')
  AND EXISTS (SELECT 1 FROM events e WHERE e.tenant_id = $1 AND e.stream_id = o.payment_id AND e.event_type = 'payment.settled.v1')
  AND EXISTS (SELECT 1 FROM order_view_shipments s WHERE s.tenant_id = $1 AND s.order_id = o.order_id)
  AND NOT EXISTS (SELECT 1 FROM order_view_shipments s WHERE s.tenant_id = $1 AND s.order_id = o.order_id AND s.status <> 'delivered')`, shop.Tenant)
	zero("no double effect: one decision per reservation", "reservations decided twice", `SELECT count(*) FROM (
  SELECT payload->>'reservation_id' FROM events WHERE tenant_id = $1
    AND event_type IN ('inventory.reservation.reserved.v1', 'inventory.reservation.rejected.v1')
  GROUP BY 1 HAVING count(*) > 1) d`, shop.Tenant)
	zero("no double effect: one shipment per order and vendor", "orders with two shipments for a vendor", `SELECT count(*) FROM (
  SELECT payload->>'order_id', payload->>'vendor_id' FROM events WHERE tenant_id = $1 AND event_type = 'shipment.created.v1'
  GROUP BY 1, 2 HAVING count(*) > 1) d`, shop.Tenant)
	zero("no stuck reaction: poison queue empty", "messages in watermill_poison", `SELECT count(*) FROM watermill_poison`)

	// Read models equal a fresh rebuild, row by row.
	before, err := runner.DumpModels(ctx)
	if err != nil {
		add("read models equal a fresh rebuild", false, "dump: %v", err)
		return out
	}
	head, _ := eventstore.Head(ctx, pool)
	for _, m := range runner.Models() {
		if err := runner.Rebuild(ctx, m, nil); err != nil {
			add("read models equal a fresh rebuild", false, "rebuild %s: %v", m, err)
			return out
		}
	}
	after, err := runner.DumpModels(ctx)
	if err != nil {
		add("read models equal a fresh rebuild", false, "dump: %v", err)
		return out
	}
	if again, _ := eventstore.Head(ctx, pool); again != head {
		add("read models equal a fresh rebuild", false, "the log moved during the rebuild (%s → %s)", head, again)
		return out
	}
	diff := before.Diff(after, 10)
	add("read models equal a fresh rebuild", len(diff) == 0 && before.Count() > 0, "%d rows in %d tables compared; %s",
		before.Count(), len(before.Tables), strings.Join(append(diff, "no difference")[:1], "; "))
	if len(diff) > 0 {
		out[len(out)-1].Detail = fmt.Sprintf("%d rows in %d tables compared; differences: %s", before.Count(), len(before.Tables), strings.Join(diff, " | "))
	}
	return out
}
