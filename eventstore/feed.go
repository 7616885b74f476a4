package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/tenant"
)

// FeedFilter narrows a feed read.
type FeedFilter struct {
	// Tenant limits the feed to one tenant (the admin event feed); zero means all.
	Tenant tenant.ID
	// Types limits the feed to these event types; empty means all. It is a
	// filter on the feed index: a poller of rare types uses ReadTypedFeed,
	// which bounds the events it looks at.
	Types []string
	// PayloadTypes, when set, transfers payloads only for these event types
	// (others arrive with a nil Payload): projectors that ignore most events
	// read less.
	PayloadTypes []string
	// NoPayload transfers no payloads at all (readers of envelopes only).
	NoPayload bool
}

// eventColumns are the columns of an event row (scanEvent), with the
// payload's expression left as %s.
const eventColumns = `e.tx_id::text, e.global_position, e.tenant_id, e.stream_type, e.stream_id, e.stream_version,
       e.event_id, e.event_type, e.schema_version, %s, e.metadata, coalesce(e.actor_id, ''),
       e.correlation_id, e.causation_id, e.recorded_at`

// ReadFeed returns up to limit events after position after, in global order,
// from transactions that have all committed or aborted: only events below
// the oldest running transaction id are returned, so none can appear behind
// the cursor later. Data is not decoded (see Registry.Decode).
func ReadFeed(ctx context.Context, q Querier, after Position, limit int, f FeedFilter) ([]Envelope, error) {
	payload := "e.payload"
	args := []any{after.TxText(), after.Pos, limit}
	if len(f.PayloadTypes) > 0 {
		args = append(args, f.PayloadTypes)
		payload = fmt.Sprintf("CASE WHEN e.event_type = ANY($%d) THEN e.payload END", len(args))
	}
	if f.NoPayload {
		payload = "NULL::jsonb"
	}
	where := ""
	if !f.Tenant.IsZero() {
		args = append(args, f.Tenant)
		where += fmt.Sprintf(" AND e.tenant_id = $%d", len(args))
	}
	if len(f.Types) > 0 {
		args = append(args, f.Types)
		where += fmt.Sprintf(" AND e.event_type = ANY($%d)", len(args))
	}
	// Qualified names in ORDER BY: an output column aliased tx_id would sort as text.
	order := "e.tx_id, e.global_position"
	if !f.Tenant.IsZero() {
		order = "e.tenant_id, e.tx_id, e.global_position"
	}
	query := `SELECT ` + fmt.Sprintf(eventColumns, payload) + `
FROM events e
WHERE (e.tx_id, e.global_position) > ($1::text::xid8, $2::bigint)
  AND e.tx_id < pg_snapshot_xmin(pg_current_snapshot())` + where + `
ORDER BY ` + order + `
LIMIT $3`
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read feed after %s: %w", after, err)
	}
	return scanFeed(rows, limit)
}

// TypeScanLimit is how many of a tenant's events ReadTypedFeed looks at
// per call, matching or not.
const TypeScanLimit = 5000

// ReadTypedFeed returns up to limit events of tenant t of the given types
// after position after, in global order, and the position to read on from.
// It looks at no more than TypeScanLimit of the tenant's events per call,
// so a rare type costs the same as a common one: when the window holds
// fewer matches than limit, next is the window's last position (past the
// events it skipped), and a caller polling with next never rescans them.
// next is the zero Position when nothing after after is readable yet.
func ReadTypedFeed(ctx context.Context, q Querier, t tenant.ID, types []string, after Position, limit int) (envs []Envelope, next Position, err error) {
	// The window's end: the last of the next TypeScanLimit events, an
	// index-only walk of the tenant's feed index from the cursor.
	const windowQuery = `SELECT w.tx_id::text, w.global_position FROM (
  SELECT e.tx_id, e.global_position FROM events e
  WHERE e.tenant_id = $1 AND (e.tx_id, e.global_position) > ($2::text::xid8, $3::bigint)
    AND e.tx_id < pg_snapshot_xmin(pg_current_snapshot())
  ORDER BY e.tenant_id, e.tx_id, e.global_position
  LIMIT $4) w
ORDER BY w.tx_id DESC, w.global_position DESC LIMIT 1`
	var txText string
	var end Position
	err = q.QueryRow(ctx, windowQuery, t, after.TxText(), after.Pos, TypeScanLimit).Scan(&txText, &end.Pos)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, Position{}, nil
	}
	if err != nil {
		return nil, Position{}, fmt.Errorf("read typed feed after %s: %w", after, err)
	}
	end.Tx, _ = strconv.ParseUint(txText, 10, 64)
	query := `SELECT ` + fmt.Sprintf(eventColumns, "e.payload") + `
FROM events e
WHERE e.tenant_id = $1 AND (e.tx_id, e.global_position) > ($2::text::xid8, $3::bigint)
  AND (e.tx_id, e.global_position) <= ($4::text::xid8, $5::bigint)
  AND e.event_type = ANY($6)
ORDER BY e.tenant_id, e.tx_id, e.global_position
LIMIT $7`
	rows, err := q.Query(ctx, query, t, after.TxText(), after.Pos, end.TxText(), end.Pos, types, limit)
	if err != nil {
		return nil, Position{}, fmt.Errorf("read typed feed after %s: %w", after, err)
	}
	envs, err = scanFeed(rows, limit)
	if err != nil {
		return nil, Position{}, err
	}
	if len(envs) == limit {
		return envs, envs[len(envs)-1].Position, nil
	}
	return envs, end, nil
}

// scanFeed reads rows of eventColumns.
func scanFeed(rows pgx.Rows, capacity int) ([]Envelope, error) {
	defer rows.Close()
	out := make([]Envelope, 0, capacity)
	for rows.Next() {
		env, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("read feed: %w", err)
		}
		out = append(out, env)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read feed: %w", err)
	}
	return out, nil
}

// scanEvent reads the current row of eventColumns. UUIDs scan as [16]byte,
// which pgx decodes from binary; a *uuid.UUID would go through its
// sql.Scanner, by way of text.
func scanEvent(rows pgx.Rows) (Envelope, error) {
	var env Envelope
	var txText string
	var meta []byte
	var causation *[16]byte
	if err := rows.Scan(&txText, &env.Position.Pos, (*[16]byte)(&env.Tenant.UUID), &env.StreamType,
		(*[16]byte)(&env.StreamID), &env.Version, (*[16]byte)(&env.EventID), &env.Type, &env.SchemaVersion,
		&env.Payload, &meta, &env.Actor, (*[16]byte)(&env.CorrelationID), &causation, &env.RecordedAt); err != nil {
		return Envelope{}, err
	}
	env.Position.Tx, _ = strconv.ParseUint(txText, 10, 64)
	if causation != nil {
		env.CausationID = *causation
	}
	if len(meta) > 2 {
		if err := json.Unmarshal(meta, &env.Metadata); err != nil {
			return Envelope{}, fmt.Errorf("metadata of %s: %w", env.EventID, err)
		}
	}
	return env, nil
}

// Head returns the position of the last committed event, or the zero
// Position: a reader that has applied Head has applied every event
// committed before the call. (It may be above what a feed reader can see
// yet — below the oldest running transaction — so waiting for it waits for
// such transactions too; a head below them would let a waiter miss events
// that committed before it asked.)
func Head(ctx context.Context, q Querier) (Position, error) {
	const query = `
SELECT e.tx_id::text, e.global_position FROM events e
ORDER BY e.tx_id DESC, e.global_position DESC LIMIT 1`
	var txText string
	var p Position
	err := q.QueryRow(ctx, query).Scan(&txText, &p.Pos)
	if err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return Position{}, nil
		}
		return Position{}, fmt.Errorf("feed head: %w", err)
	}
	p.Tx, _ = strconv.ParseUint(txText, 10, 64)
	return p, nil
}

// Lag counts the events committed after p, up to max, and the age of the
// oldest of them (0 when none); like LagAge, it counts those a feed cannot
// read yet behind an older running transaction.
func Lag(ctx context.Context, q Querier, p Position, max int) (int, time.Duration, error) {
	const query = `
SELECT count(*), coalesce(extract(epoch FROM now() - min(recorded_at)), 0)
FROM (SELECT e.recorded_at FROM events e
      WHERE (e.tx_id, e.global_position) > ($1::text::xid8, $2::bigint)
      ORDER BY e.tx_id, e.global_position
      LIMIT $3) t`
	var n int
	var secs float64
	if err := q.QueryRow(ctx, query, p.TxText(), p.Pos, max).Scan(&n, &secs); err != nil {
		return 0, 0, fmt.Errorf("feed lag: %w", err)
	}
	if secs < 0 {
		secs = 0
	}
	return n, time.Duration(secs * float64(time.Second)), nil
}

// LagAge returns how long the oldest committed event after p has waited
// (zero when none): one index seek, however far behind p is. An event
// committed behind a still-running older transaction counts too: a feed
// cannot read it yet, but it is waiting all the same (and a long
// transaction anywhere in the cluster must not hide the lag).
func LagAge(ctx context.Context, q Querier, p Position) (time.Duration, error) {
	const query = `
SELECT coalesce(extract(epoch FROM now() - (
  SELECT e.recorded_at FROM events e
  WHERE (e.tx_id, e.global_position) > ($1::text::xid8, $2::bigint)
  ORDER BY e.tx_id, e.global_position
  LIMIT 1)), 0)`
	var secs float64
	if err := q.QueryRow(ctx, query, p.TxText(), p.Pos).Scan(&secs); err != nil {
		return 0, fmt.Errorf("feed lag age: %w", err)
	}
	return time.Duration(max(secs, 0) * float64(time.Second)), nil
}

// ReadReservationFeed returns up to limit events the reservation worker
// decides on (reservation requests, quantity changes, removals) after
// position after, in global order below the oldest running transaction.
// It reads the partial index events_reservation_feed_ix (migration 0007),
// whose predicate this query repeats, so other events cost nothing.
func ReadReservationFeed(ctx context.Context, q Querier, after Position, limit int) ([]Envelope, error) {
	rows, err := q.Query(ctx, reservationFeedQuery, after.TxText(), after.Pos, limit)
	if err != nil {
		return nil, fmt.Errorf("read reservation feed: %w", err)
	}
	return scanFeed(rows, limit)
}

const reservationFeedWhere = `e.event_type IN ('inventory.reservation.requested.v1', 'cart.item_quantity_changed.v1', 'cart.item_removed.v1')
  AND (e.tx_id, e.global_position) > ($1::text::xid8, $2::bigint)`

var reservationFeedQuery = `SELECT ` + fmt.Sprintf(eventColumns, "e.payload") + `
FROM events e
WHERE ` + reservationFeedWhere + `
  AND e.tx_id < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY e.tx_id, e.global_position
LIMIT $3`

// ReservationFeedHeldBack reports whether reservation feed events after
// position after are committed but not yet returned by
// ReadReservationFeed, because an older transaction is still running.
func ReservationFeedHeldBack(ctx context.Context, q Querier, after Position) (bool, error) {
	var held bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM events e WHERE `+reservationFeedWhere+`)`, after.TxText(), after.Pos).Scan(&held)
	if err != nil {
		return false, fmt.Errorf("reservation feed held back: %w", err)
	}
	return held, nil
}
