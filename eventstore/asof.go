package eventstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/tenant"
)

// Until bounds a read of the past: the events at or before a position in
// the global order, or those recorded at or before a time. The zero Until
// bounds nothing.
type Until struct {
	Position *Position
	Time     *time.Time
}

// ErrBadUntil means a value is neither a position token nor an RFC 3339 time.
var ErrBadUntil = errors.New("neither a position token nor an RFC 3339 time")

// ParseUntil reads a position token (X-Event-Position, a feed cursor) or
// an RFC 3339 time. It returns ErrBadUntil for anything else.
func ParseUntil(s string) (Until, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		t = t.UTC()
		return Until{Time: &t}, nil
	}
	if p, err := ParseToken(s); err == nil {
		return Until{Position: &p}, nil
	}
	return Until{}, ErrBadUntil
}

// Includes reports whether env is within u.
func (u Until) Includes(env Envelope) bool {
	if u.Position != nil && u.Position.Less(env.Position) {
		return false
	}
	if u.Time != nil && env.RecordedAt.After(*u.Time) {
		return false
	}
	return true
}

var streamsUntilQuery = `SELECT ` + fmt.Sprintf(eventColumns, "e.payload") + `
FROM events e
WHERE e.tenant_id = $1 AND e.stream_id = ANY($2)
  AND ($3::text IS NULL OR (e.tx_id, e.global_position) <= ($3::text::xid8, $4))
  AND ($5::timestamptz IS NULL OR e.recorded_at <= $5)
ORDER BY e.tx_id, e.global_position`

// ReadStreamsUntil returns the events of tenant t's streams ids within u,
// in global order, with payloads as stored (see Registry.Decode). Streams
// of another tenant read as empty.
func ReadStreamsUntil(ctx context.Context, q Querier, t tenant.ID, ids []uuid.UUID, u Until) ([]Envelope, error) {
	var tx *string
	var pos int64
	if u.Position != nil {
		s := u.Position.TxText()
		tx, pos = &s, u.Position.Pos
	}
	rows, err := q.Query(ctx, streamsUntilQuery, t, ids, tx, pos, u.Time)
	if err != nil {
		return nil, fmt.Errorf("read %d streams until %v: %w", len(ids), u, err)
	}
	return scanFeed(rows, 64)
}
