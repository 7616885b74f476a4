package eventstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/tenant"
)

// StreamPage asks for one page of a stream's events: at most Limit events
// with a version above After, in version order. Mentioning, when set, keeps
// only the events whose payload names it as "variant_id" or "id" (a
// variant's events inside its product's stream).
type StreamPage struct {
	After      int64
	Limit      int
	Mentioning *uuid.UUID
}

var streamPageQuery = `SELECT ` + fmt.Sprintf(eventColumns, "e.payload") + `
FROM events e
WHERE e.tenant_id = $1 AND e.stream_id = $2 AND e.stream_version > $3
  AND ($5::text IS NULL OR e.payload->>'variant_id' = $5 OR e.payload->>'id' = $5)
ORDER BY e.stream_version
LIMIT $4`

// ReadStreamPage returns one page of a stream's events, read from the
// database page by page (never the whole stream), with payloads as stored
// (see Registry.Decode). A stream of another tenant reads as empty.
func ReadStreamPage(ctx context.Context, q Querier, t tenant.ID, id uuid.UUID, p StreamPage) ([]Envelope, error) {
	var only *string
	if p.Mentioning != nil {
		s := p.Mentioning.String()
		only = &s
	}
	rows, err := q.Query(ctx, streamPageQuery, t, id, p.After, p.Limit, only)
	if err != nil {
		return nil, fmt.Errorf("read stream %s after version %d: %w", id, p.After, err)
	}
	return scanFeed(rows, p.Limit)
}

// StreamOrigin returns a stream's type and the payload of its first event
// (which names its owner, such as a product's vendor_id). It returns
// ErrNotFound for a stream that does not exist in tenant t.
func StreamOrigin(ctx context.Context, q Querier, t tenant.ID, id uuid.UUID) (streamType string, first []byte, err error) {
	const query = `SELECT stream_type, payload FROM events
WHERE tenant_id = $1 AND stream_id = $2 ORDER BY stream_version LIMIT 1`
	err = q.QueryRow(ctx, query, t, id).Scan(&streamType, &first)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil, fmt.Errorf("stream %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return "", nil, fmt.Errorf("stream %s: %w", id, err)
	}
	return streamType, first, nil
}
