package eventstore

import (
	"context"
	"fmt"
	"sync"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/tenant"
)

// VersionCache keeps per key the value of a stream at the highest version
// put: transactions commit out of order, so an older value never replaces
// a newer one. It holds at most Size entries; past it, it starts over.
// Entries are starting points or checked values: a reader still asks the
// store for the stream's newer events.
type VersionCache[K comparable, V any] struct {
	Size int

	mu sync.Mutex
	m  map[K]versioned[V]
}

type versioned[V any] struct {
	value   V
	version int64
}

// Get returns the value kept for k and its version.
func (c *VersionCache[K, V]) Get(k K) (V, int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	return e.value, e.version, ok
}

// Offer keeps a copy of a value at version for k unless the same or a
// newer version is kept; copy is called only when the copy would be kept
// (a large value is not copied for nothing after every commit).
func (c *VersionCache[K, V]) Offer(k K, version int64, copy func() V) {
	if _, kept, ok := c.Get(k); ok && kept >= version {
		return
	}
	c.Put(k, copy(), version)
}

// Put keeps v at version for k unless the same or a newer version is kept.
func (c *VersionCache[K, V]) Put(k K, v V, version int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[k]; ok && e.version >= version {
		return
	}
	if c.m == nil || len(c.m) >= c.Size {
		c.m = map[K]versioned[V]{}
	}
	c.m[k] = versioned[V]{value: v, version: version}
}

// sharedCacheSize bounds the aggregates Repo.Read keeps per store (a miss
// costs one full read of a stream).
const sharedCacheSize = 50_000

// sharedKey names a stream read with Repo.Read; the stream type keeps
// aggregates of different repos apart.
type sharedKey struct {
	tenant, stream uuid.UUID
	streamType     string
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
