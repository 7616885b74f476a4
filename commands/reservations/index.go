package reservations

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/inventory"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

// Status is a reservation's state in the index.
type Status struct {
	// Status is "pending" until decided, then "reserved", "rejected",
	// "released", "expired" or "committed".
	Status    string
	ExpiresAt *time.Time
}

// Pending is the status of a reservation not decided yet.
const Pending = "pending"

// Decided reports whether the status is a decision.
func (s Status) Decided() bool { return s.Status != "" && s.Status != Pending }

// Statuses returns the index status of a tenant's reservations; unknown
// ones are pending.
func Statuses(ctx context.Context, q eventstore.Querier, t tenant.ID, ids []uuid.UUID) (map[uuid.UUID]Status, error) {
	rows, err := q.Query(ctx, `SELECT reservation_id, status, expires_at FROM reservation_index WHERE tenant_id = $1 AND reservation_id = ANY($2)`, t, ids)
	if err != nil {
		return nil, fmt.Errorf("reservation statuses: %w", err)
	}
	defer rows.Close()
	out := make(map[uuid.UUID]Status, len(ids))
	for _, id := range ids {
		out[id] = Status{Status: Pending}
	}
	for rows.Next() {
		var id uuid.UUID
		var st Status
		if err := rows.Scan(&id, &st.Status, &st.ExpiresAt); err != nil {
			return nil, err
		}
		out[id] = st
	}
	return out, rows.Err()
}

// tenantStatuses is Statuses for reservations of several tenants, keyed
// by tenant and id; only decided ones are returned.
//
// The statement is planned at each look, for the index as it is then
// (pgx.QueryExecModeCacheDescribe: an unnamed statement). A plan kept by
// a pooled connection was made when the index was a few rows, a new shop's
// first minute: a hash join over the whole table, and the index grows by
// a few rows each order while the waiting room looks up to a hundred
// times a second. Planning costs a fraction of a millisecond.
func tenantStatuses(ctx context.Context, q eventstore.Querier, keys []waitKey) (map[waitKey]Status, error) {
	ts := make([]uuid.UUID, len(keys))
	ids := make([]uuid.UUID, len(keys))
	for i, k := range keys {
		ts[i], ids[i] = k.tenant.UUID, k.id
	}
	rows, err := q.Query(ctx, `SELECT r.tenant_id, r.reservation_id, r.status, r.expires_at
FROM unnest($1::uuid[], $2::uuid[]) AS w(tenant_id, reservation_id)
JOIN reservation_index r ON r.reservation_id = w.reservation_id AND r.tenant_id = w.tenant_id`, pgx.QueryExecModeCacheDescribe, ts, ids)
	if err != nil {
		return nil, fmt.Errorf("reservation statuses: %w", err)
	}
	defer rows.Close()
	out := map[waitKey]Status{}
	for rows.Next() {
		var k waitKey
		var st Status
		if err := rows.Scan(&k.tenant, &k.id, &st.Status, &st.ExpiresAt); err != nil {
			return nil, err
		}
		out[k] = st
	}
	return out, rows.Err()
}

// Indexed returns the index status of the reservations it knows (whatever
// their tenant: the ids are the caller's own).
func Indexed(ctx context.Context, q eventstore.Querier, ids []uuid.UUID) (map[uuid.UUID]string, error) {
	rows, err := q.Query(ctx, indexedQuery, ids)
	if err != nil {
		return nil, fmt.Errorf("reservation index: %w", err)
	}
	out := map[uuid.UUID]string{}
	return out, scanIndexed(rows, out)
}

const indexedQuery = `SELECT reservation_id, status FROM reservation_index WHERE reservation_id = ANY($1)`

// queueIndexed queues Indexed in b: out gets the statuses when the batch's
// callbacks run.
func queueIndexed(b *pgx.Batch, ids []uuid.UUID, out map[uuid.UUID]string) {
	b.Queue(indexedQuery, ids).Query(func(rows pgx.Rows) error { return scanIndexed(rows, out) })
}

// scanIndexed reads rows of indexedQuery into out and closes them.
func scanIndexed(rows pgx.Rows, out map[uuid.UUID]string) error {
	defer rows.Close()
	for rows.Next() {
		var id uuid.UUID
		var st string
		if err := rows.Scan(&id, &st); err != nil {
			return err
		}
		out[id] = st
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reservation index: %w", err)
	}
	return nil
}

// Live is Indexed as of now: a hold whose time ran out at now reads as
// "expired" even before the expiry loop has recorded it.
func Live(ctx context.Context, q eventstore.Querier, ids []uuid.UUID, now time.Time) (map[uuid.UUID]string, error) {
	rows, err := q.Query(ctx, `SELECT reservation_id, status, expires_at FROM reservation_index WHERE reservation_id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("reservation index: %w", err)
	}
	defer rows.Close()
	out := map[uuid.UUID]string{}
	for rows.Next() {
		var id uuid.UUID
		var st string
		var exp *time.Time
		if err := rows.Scan(&id, &st, &exp); err != nil {
			return nil, err
		}
		if st == "reserved" && exp != nil && !now.Before(*exp) {
			st = "expired"
		}
		out[id] = st
	}
	return out, rows.Err()
}

const commitQuery = `UPDATE reservation_index SET status = 'committed', expires_at = NULL, decided_at = $2 WHERE reservation_id = ANY($1)`

// QueueCommit queues in b the index rows of holds committed to an order
// (status committed), for the batch a checkout sends with its appends
// (eventstore.Tx.SaveAll).
func QueueCommit(b *pgx.Batch, ids []uuid.UUID, now time.Time) {
	if len(ids) == 0 {
		return
	}
	b.Queue(commitQuery, ids, now)
}

// indexDecisions writes the reservation index rows of recorded decisions;
// hot says which requests came through the hot lane.
func indexDecisions(ctx context.Context, tx *eventstore.Tx, k variantKey, hot map[uuid.UUID]bool, pending []eventstore.Event, now time.Time) error {
	b := &pgx.Batch{}
	queueDecisions(b, k, hot, pending, now)
	if b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, b).Close()
}

// queueDecisions queues the index rows of indexDecisions in b.
func queueDecisions(b *pgx.Batch, k variantKey, hot map[uuid.UUID]bool, pending []eventstore.Event, now time.Time) {
	for _, e := range pending {
		switch e := e.(type) {
		case inventory.Reserved:
			b.Queue(`INSERT INTO reservation_index (reservation_id, tenant_id, variant_id, cart_id, line_id, status, location_id, quantity, expires_at, hot, decided_at)
VALUES ($1, $2, $3, $4, $5, 'reserved', $6, $7, $8, $9, $10)`, e.Reservation, k.tenant, k.variant, e.Cart, e.Line, e.Location, e.Quantity, e.ExpiresAt, hot[e.Reservation.UUID], now)
		case inventory.Rejected:
			b.Queue(`INSERT INTO reservation_index (reservation_id, tenant_id, variant_id, cart_id, line_id, status, quantity, hot, decided_at)
VALUES ($1, $2, $3, $4, $5, 'rejected', $6, $7, $8)`, e.Reservation, k.tenant, k.variant, e.Cart, e.Line, e.Quantity, hot[e.Reservation.UUID], now)
		case inventory.Released:
			b.Queue(`INSERT INTO reservation_index (reservation_id, tenant_id, variant_id, cart_id, line_id, status, quantity, decided_at)
VALUES ($1, $2, $3, $4, $4, 'released', 0, $5)
ON CONFLICT (reservation_id) DO UPDATE SET status = 'released', decided_at = excluded.decided_at`, e.Reservation, k.tenant, k.variant, uuid.Nil, now)
		case inventory.Expired:
			b.Queue(`UPDATE reservation_index SET status = 'expired', decided_at = $2 WHERE reservation_id = $1`, e.Reservation, now)
		}
	}
}

// expireGone marks expired the variant's live holds due at now that its
// inventory stream no longer holds (committed or released there), keeping
// those it does (live).
func expireGone(ctx context.Context, tx *eventstore.Tx, k variantKey, now time.Time, live []uuid.UUID) error {
	_, err := tx.Exec(ctx, `UPDATE reservation_index SET status = 'expired' WHERE tenant_id = $1 AND variant_id = $2
  AND status = 'reserved' AND expires_at <= $3 AND NOT (reservation_id = ANY($4))`, k.tenant, k.variant, now, live)
	return err
}

// NextHoldExpiry returns when the first live hold expires (through the
// partial index on due holds); ok is false when no hold is live.
func NextHoldExpiry(ctx context.Context, q eventstore.Querier) (time.Time, bool, error) {
	var next *time.Time
	if err := q.QueryRow(ctx, `SELECT min(expires_at) FROM reservation_index WHERE status = 'reserved'`).Scan(&next); err != nil {
		return time.Time{}, false, fmt.Errorf("next hold expiry: %w", err)
	}
	if next == nil {
		return time.Time{}, false, nil
	}
	return *next, true, nil
}

// DueHolds returns up to limit variants with a live hold expired at now,
// through the partial index on live holds' expiry times: its cost follows
// the number of due holds, never the size of the index.
func DueHolds(ctx context.Context, q eventstore.Querier, now time.Time, limit int) ([]DueHold, error) {
	rows, err := q.Query(ctx, `SELECT DISTINCT tenant_id, variant_id FROM reservation_index
WHERE status = 'reserved' AND expires_at <= $1 LIMIT $2`, now, limit)
	if err != nil {
		return nil, fmt.Errorf("due holds: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (DueHold, error) {
		var k DueHold
		return k, r.Scan(&k.Tenant, &k.Variant)
	})
}

// DueHold names a variant with an expired live hold.
type DueHold struct {
	Tenant  tenant.ID
	Variant uuid.UUID
}

// CountHotDecided returns how many of the tenant's hot-lane reservations
// are decided (through the partial index on hot rows).
func CountHotDecided(ctx context.Context, q eventstore.Querier, t tenant.ID) (int64, error) {
	var n int64
	if err := q.QueryRow(ctx, `SELECT count(*) FROM reservation_index WHERE tenant_id = $1 AND hot`, t).Scan(&n); err != nil {
		return 0, fmt.Errorf("count decided reservations: %w", err)
	}
	return n, nil
}

// HotSummary is what the hot lane decided for a tenant.
type HotSummary struct {
	// Decided counts the decisions, made between First and Last.
	Decided     int64
	First, Last time.Time
	// Committed is the quantity that ended in orders.
	Committed int64
}

// SummarizeHot returns what the hot lane decided for the tenant.
func SummarizeHot(ctx context.Context, q eventstore.Querier, t tenant.ID) (HotSummary, error) {
	var s HotSummary
	var first, last *time.Time
	if err := q.QueryRow(ctx, `SELECT count(*), min(decided_at), max(decided_at),
       coalesce(sum(quantity) FILTER (WHERE status = 'committed'), 0)
FROM reservation_index WHERE tenant_id = $1 AND hot`, t).Scan(&s.Decided, &first, &last, &s.Committed); err != nil {
		return HotSummary{}, fmt.Errorf("hot lane summary: %w", err)
	}
	if first != nil {
		s.First, s.Last = *first, *last
	}
	return s, nil
}

// CountUndecided returns how many of the tenant's reservation requests in
// the event log have no decision in the index.
func CountUndecided(ctx context.Context, q eventstore.Querier, t tenant.ID) (int64, error) {
	var n int64
	if err := q.QueryRow(ctx, `SELECT count(*) FROM events e
WHERE e.tenant_id = $1 AND e.event_type = 'inventory.reservation.requested.v1'
  AND NOT EXISTS (SELECT 1 FROM reservation_index r WHERE r.reservation_id = (e.payload->>'reservation_id')::uuid)`, t).Scan(&n); err != nil {
		return 0, fmt.Errorf("count undecided reservations: %w", err)
	}
	return n, nil
}
