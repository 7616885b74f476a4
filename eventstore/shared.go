package eventstore

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/internal/database"
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

// lastVersionQuery is the stream's last version (NULL for none): a max()
// over the stream's unique index (tenant, stream, version), read backwards
// from the stream's last entry.
const lastVersionQuery = `SELECT max(e.stream_version) FROM events e WHERE e.tenant_id = $1 AND e.stream_id = $2`

// hasNewer reports whether stream id of tenant t has an event after version.
func (s *Store) hasNewer(ctx context.Context, q Querier, t tenant.ID, id uuid.UUID, version int64) (bool, error) {
	var last *int64
	if err := q.QueryRow(ctx, lastVersionQuery, t, id).Scan(&last); err != nil {
		return false, fmt.Errorf("check stream %s: %w", id, err)
	}
	return last != nil && *last > version, nil
}

// ReadKey names a stream a transaction is about to Read (Repo.Key), for
// Tx.ReadAhead.
type ReadKey struct{ key sharedKey }

// Key names stream id of tenant t for Tx.ReadAhead.
func (r Repo[A]) Key(t tenant.ID, id uuid.UUID) ReadKey {
	return ReadKey{sharedKey{tenant: t.UUID, stream: id, streamType: r.StreamType}}
}

// lastVersionsQuery is lastVersionQuery for many streams: each key's last
// version by its position in the arrays (from 1), a scalar subquery per
// key. Written as a join of the keys with their events (an EXISTS after
// each version), the plan under row-level security took the filter on a
// tenant the statistics do not know yet (a shop opened since the last
// ANALYZE) for selective and read every event of the tenant for each key:
// 40 ms a check on the million-event log, a third of the checkouts per
// second (TestReadAheadProbesEachStreamWhateverTheStatistics).
const lastVersionsQuery = `SELECT k.i, (SELECT max(e.stream_version) FROM events e WHERE e.tenant_id = k.tenant AND e.stream_id = k.stream)
FROM unnest($1::uuid[], $2::uuid[]) WITH ORDINALITY AS k(tenant, stream, i)`

// maxListedKeys is the most keys a statement lists as parameters of their
// own (database.ListedRows); more go as arrays.
const maxListedKeys = database.MaxListed

// lastVersionsListed holds, for n keys (1 ≤ n ≤ maxListedKeys),
// lastVersionsQuery with the keys listed in VALUES, a parameter each
// (database.ListedRows): the array form was planned again on every
// execution, about 0.8 ms of PostgreSQL's time per checkout.
var lastVersionsListed = func() [maxListedKeys + 1]string {
	var out [maxListedKeys + 1]string
	for n := 1; n <= maxListedKeys; n++ {
		out[n] = `SELECT k.i, (SELECT max(e.stream_version) FROM events e WHERE e.tenant_id = k.tenant AND e.stream_id = k.stream)
FROM (VALUES ` + database.ListedRows(n, "uuid", "uuid") + `) AS k(tenant, stream, i)`
	}
	return out
}()

// lastVersionsStatement is the statement and arguments that read the last
// version of each stream (tenants[i], streams[i]), by position from 1.
func lastVersionsStatement(tenants, streams []uuid.UUID) (string, []any) {
	n := len(streams)
	if n > maxListedKeys {
		return lastVersionsQuery, []any{tenants, streams}
	}
	args := make([]any, 0, 2*n)
	for i := range streams {
		args = append(args, tenants[i], streams[i])
	}
	return lastVersionsListed[n], args
}

// ReadAhead checks, in one statement, the streams a transaction is about
// to Read: each whose last committed instance the store keeps and that has
// no newer event is then read from the transaction's memo, as a second
// Read in the transaction is, without a probe of its own. A command that
// reads a product and the shop's settings asks once instead of twice
// (Repo.Read checks the one stream it reads the same way). A
// stream the store does not keep, or that has moved on, is left to Read,
// which reads it in full; so is every stream when the check fails (the
// error is returned: the transaction is aborted).
func (tx *Tx) ReadAhead(ctx context.Context, keys ...ReadKey) error {
	checks := tx.aheadChecks(keys)
	switch len(checks) {
	case 0:
		return nil
	case 1:
		c := checks[0]
		newer, err := tx.store.hasNewer(ctx, tx, tenant.ID{UUID: c.key.tenant}, c.key.stream, c.version)
		switch {
		case err != nil:
		case newer:
			tx.movedOn(c.key)
		default:
			tx.remember(c.key, c.value)
		}
		return err
	}
	q, args := checks.statement()
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("check streams: %w", err)
	}
	return tx.rememberCurrent(checks, rows)
}

// aheadCheck is a stream ReadAhead checks: its kept instance and version.
type aheadCheck struct {
	key     sharedKey
	value   any
	version int64
}

// aheadChecks are the checks keys need: a stream the transaction has
// not read, or has appended to since, whose last committed instance the
// store keeps; each once.
type aheadChecks []aheadCheck

func (tx *Tx) aheadChecks(keys []ReadKey) aheadChecks {
	var checks aheadChecks
	for _, k := range keys {
		_, read := tx.read[k.key]
		if (read || tx.moved[k.key]) && !tx.appendedTo(k.key.stream) {
			continue
		}
		v, version, ok := tx.store.shared.Get(k.key)
		if !ok || slices.ContainsFunc(checks, func(c aheadCheck) bool { return c.key == k.key }) {
			continue
		}
		checks = append(checks, aheadCheck{key: k.key, value: v, version: version})
	}
	return checks
}

// statement is the read of the checked streams' last versions.
func (checks aheadChecks) statement() (string, []any) {
	ts, ids := make([]uuid.UUID, len(checks)), make([]uuid.UUID, len(checks))
	for i, c := range checks {
		ts[i], ids[i] = c.key.tenant, c.key.stream
	}
	return lastVersionsStatement(ts, ids)
}

// rememberCurrent reads the rows of checks' statement and remembers each
// kept instance whose stream has no newer event, and which streams moved
// on (Read reads those in full without checking them again).
func (tx *Tx) rememberCurrent(checks aheadChecks, rows pgx.Rows) error {
	var i int64
	var last *int64
	_, err := pgx.ForEachRow(rows, []any{&i, &last}, func() error {
		n := int(i) - 1
		switch {
		case n < 0 || n >= len(checks):
		case last == nil || *last <= checks[n].version:
			tx.remember(checks[n].key, checks[n].value)
		default:
			tx.movedOn(checks[n].key)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("check streams: %w", err)
	}
	return nil
}
