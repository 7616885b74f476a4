package eventstore

import (
	"context"
	"fmt"
	"sync"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/tenant"
)

// sharedCacheSize bounds the aggregates Repo.Read keeps per store; past it
// the cache starts over (a miss costs one full read of a stream).
const sharedCacheSize = 50_000

type sharedKey struct{ tenant, stream uuid.UUID }

type sharedEntry struct {
	streamType string
	version    int64
	agg        any
}

// sharedCache holds the aggregates Repo.Read hands out, as last committed.
type sharedCache struct {
	mu sync.Mutex
	m  map[sharedKey]sharedEntry
}

func (c *sharedCache) get(k sharedKey, streamType string) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || e.streamType != streamType {
		return nil, false
	}
	return e.agg, true
}

// put keeps agg at version unless the same or a newer version is kept:
// transactions commit out of order.
func (c *sharedCache) put(k sharedKey, streamType string, agg any, version int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[k]; ok && e.streamType == streamType && e.version >= version {
		return
	}
	if c.m == nil || len(c.m) >= sharedCacheSize {
		c.m = map[sharedKey]sharedEntry{}
	}
	c.m[k] = sharedEntry{streamType: streamType, version: version, agg: agg}
}

const newerQuery = `SELECT EXISTS (SELECT 1 FROM events e WHERE e.tenant_id = $1 AND e.stream_id = $2 AND e.stream_version > $3)`

// hasNewer reports whether stream id of tenant t has an event after version.
func (s *Store) hasNewer(ctx context.Context, q Querier, t tenant.ID, id uuid.UUID, version int64) (bool, error) {
	var newer bool
	if err := q.QueryRow(ctx, newerQuery, t, id, version).Scan(&newer); err != nil {
		return false, fmt.Errorf("check stream %s: %w", id, err)
	}
	return newer, nil
}
