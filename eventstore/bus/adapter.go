// Package bus wires watermill onto the event store for the reactive side:
// policies (process managers), workers and integrations. Its subscribers read
// the events table itself — there is no second copy of every event — through
// a read-only SchemaAdapter whose select is a row comparison on the gap-safe
// cursor (tx_id, global_position), below pg_snapshot_xmin, so its cost does
// not grow with the backlog.
//
// Consumer-group offsets live in watermill_offsets_events, one row per
// (handler, topic). Unlike watermill's default offsets adapter, reading the
// offset takes no row lock: a FOR UPDATE would give every batch an xid for
// its whole duration and stall every other consumer of the feed. One worker
// process runs the handlers at a time instead (a session advisory lock, see
// Worker), and handlers are idempotent, so a redelivery after a crash is harmless.
package bus

import (
	stdsql "database/sql"
	"errors"
	"fmt"
	"strings"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
)

// TopicAll is the topic of every event; any other topic is a stream type
// ("order", "cart", ...) and delivers that stream type's events only.
const TopicAll = "all"

// Metadata keys set on every delivered message. Values are strings.
const (
	KeyEventType     = "event_type"
	KeySchemaVersion = "schema_version"
	KeyTenant        = "tenant_id"
	KeyStreamType    = "stream_type"
	KeyStreamID      = "stream_id"
	KeyStreamVersion = "stream_version"
	KeyPosition      = "position"
	KeyTxID          = "tx_id"
	KeyActor         = "actor"
	KeyCausation     = "causation_id"
	KeyRecordedAt    = "recorded_at"
	// KeyCorrelation is watermill's correlation id key, so its middleware
	// carries it onto produced messages.
	KeyCorrelation = "correlation_id"
)

// SchemaAdapter is a read-only watermill SchemaAdapter over the events table.
type SchemaAdapter struct {
	// BatchSize is the number of events per subscriber transaction; 0 means 50.
	// Small batches keep the (read-only) batch transaction short.
	BatchSize int
}

var _ wsql.SchemaAdapter = SchemaAdapter{}

// batch is the events a poll reads at most.
func (a SchemaAdapter) batch() int {
	if a.BatchSize <= 0 {
		return 50
	}
	return a.BatchSize
}

// ErrReadOnly is returned when something tries to publish into the events table.
var ErrReadOnly = errors.New("bus: the events table is written by the event store only")

// InsertQuery implements wsql.SchemaAdapter; publishing is refused.
func (SchemaAdapter) InsertQuery(wsql.InsertQueryParams) (wsql.Query, error) {
	return wsql.Query{}, ErrReadOnly
}

// SelectQuery implements wsql.SchemaAdapter.
func (a SchemaAdapter) SelectQuery(p wsql.SelectQueryParams) (wsql.Query, error) {
	n := a.batch()
	// The cursor is read by scalar subqueries (init plans), so it is an index
	// condition in custom and generic plans alike: a join with the offsets
	// row would leave it a join filter the planner may apply after walking
	// the feed index from the start.
	cursor := `(
        (SELECT last_processed_transaction_id FROM watermill_offsets_events WHERE consumer_group = $1 AND topic = $2),
        (SELECT offset_acked FROM watermill_offsets_events WHERE consumer_group = $1 AND topic = $2))`
	where := `(e.tx_id, e.global_position) > ` + cursor + `
  AND e.tx_id < pg_snapshot_xmin(pg_current_snapshot())`
	order := "e.tx_id, e.global_position"
	if p.Topic != TopicAll {
		// A stream type's topic reads events_stream_type_feed_ix, whose
		// leading column is its filter, so a sparse topic costs the same as
		// a busy one. The filter is written into both bounds of one row
		// comparison, not as an equality: an equality would make the
		// ORDER BY on the type redundant, and a generic plan, which cannot
		// know how rare the type is, could then walk the global feed index
		// and filter. As written, only this index serves both bounds and
		// the order.
		where = `(e.stream_type, e.tx_id, e.global_position) > ($2, ` + strings.TrimPrefix(cursor, "(") + `
  AND (e.stream_type, e.tx_id, e.global_position) < ($2, pg_snapshot_xmin(pg_current_snapshot()), 0::bigint)`
		order = "e.stream_type, e.tx_id, e.global_position"
	}
	q := `
SELECT e.global_position, e.tx_id::text, e.event_id::text, e.payload::text,
       json_build_object(
         'event_type', e.event_type, 'schema_version', e.schema_version::text,
         'tenant_id', e.tenant_id::text, 'stream_type', e.stream_type,
         'stream_id', e.stream_id::text, 'stream_version', e.stream_version::text,
         'position', e.global_position::text, 'tx_id', e.tx_id::text,
         'actor', coalesce(e.actor_id, ''), 'correlation_id', e.correlation_id::text,
         'causation_id', coalesce(e.causation_id::text, ''),
         'recorded_at', to_char(e.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))::text
FROM events e
WHERE ` + where + `
ORDER BY ` + order + `
LIMIT ` + fmt.Sprint(n)
	return wsql.Query{Query: q, Args: []any{p.ConsumerGroup, p.Topic}}, nil
}

// UnmarshalMessage implements wsql.SchemaAdapter.
func (SchemaAdapter) UnmarshalMessage(p wsql.UnmarshalMessageParams) (wsql.Row, error) {
	var r wsql.Row
	var tx wsql.XID8
	var id, payload, meta string
	if err := p.Row.Scan(&r.Offset, &tx, &id, &payload, &meta); err != nil {
		return wsql.Row{}, fmt.Errorf("bus: scan event: %w", err)
	}
	r.UUID, r.Payload, r.Metadata = []byte(id), []byte(payload), []byte(meta)
	msg := message.NewMessage(id, r.Payload)
	if err := jsonUnmarshal(r.Metadata, &msg.Metadata); err != nil {
		return wsql.Row{}, err
	}
	r.Msg = msg
	r.ExtraData = map[string]any{"transaction_id": tx}
	return r, nil
}

// SchemaInitializingQueries implements wsql.SchemaAdapter: migrations own the DDL.
func (SchemaAdapter) SchemaInitializingQueries(wsql.SchemaInitializingQueriesParams) ([]wsql.Query, error) {
	return nil, nil
}

// SubscribeIsolationLevel implements wsql.SchemaAdapter.
func (SchemaAdapter) SubscribeIsolationLevel() stdsql.IsolationLevel {
	return stdsql.LevelRepeatableRead
}

// OffsetsAdapter keeps consumer-group offsets in watermill_offsets_events.
type OffsetsAdapter struct{}

var _ wsql.OffsetsAdapter = OffsetsAdapter{}

// AckMessageQuery implements wsql.OffsetsAdapter.
func (OffsetsAdapter) AckMessageQuery(p wsql.AckMessageQueryParams) (wsql.Query, error) {
	tx, ok := p.LastRow.ExtraData["transaction_id"].(wsql.XID8)
	if !ok {
		return wsql.Query{}, errors.New("bus: acked row has no transaction id")
	}
	const q = `INSERT INTO watermill_offsets_events (consumer_group, topic, offset_acked, last_processed_transaction_id)
VALUES ($1, $2, $3, $4::text::xid8)
ON CONFLICT (consumer_group, topic) DO UPDATE
SET offset_acked = excluded.offset_acked, last_processed_transaction_id = excluded.last_processed_transaction_id`
	return wsql.Query{Query: q, Args: []any{p.ConsumerGroup, p.Topic, p.LastRow.Offset, fmt.Sprint(uint64(tx))}}, nil
}

// ConsumedMessageQuery implements wsql.OffsetsAdapter (nothing to record).
func (OffsetsAdapter) ConsumedMessageQuery(wsql.ConsumedMessageQueryParams) (wsql.Query, error) {
	return wsql.Query{}, nil
}

// NextOffsetQuery implements wsql.OffsetsAdapter. It takes no row lock (see the package doc).
func (OffsetsAdapter) NextOffsetQuery(p wsql.NextOffsetQueryParams) (wsql.Query, error) {
	return wsql.Query{
		Query: `SELECT offset_acked, last_processed_transaction_id FROM watermill_offsets_events WHERE consumer_group = $1 AND topic = $2`,
		Args:  []any{p.ConsumerGroup, p.Topic},
	}, nil
}

// SchemaInitializingQueries implements wsql.OffsetsAdapter: migrations own the DDL.
func (OffsetsAdapter) SchemaInitializingQueries(wsql.OffsetsSchemaInitializingQueriesParams) ([]wsql.Query, error) {
	return nil, nil
}

// BeforeSubscribingQueries implements wsql.OffsetsAdapter: a new group starts
// at the beginning of the log.
func (OffsetsAdapter) BeforeSubscribingQueries(p wsql.BeforeSubscribingQueriesParams) ([]wsql.Query, error) {
	return []wsql.Query{{
		Query: `INSERT INTO watermill_offsets_events (consumer_group, topic) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
		Args:  []any{p.ConsumerGroup, p.Topic},
	}}, nil
}
