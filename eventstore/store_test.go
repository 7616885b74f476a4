package eventstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/database"
	"github.com/honten/honten/internal/pgtest"
)

type noted struct {
	N    int    `json:"n"`
	Text string `json:"text"`
}

func (noted) EventName() string { return "test.noted.v1" }

type renamed struct {
	Title string `json:"title"`
}

func (renamed) EventName() string  { return "test.renamed.v1" }
func (renamed) SchemaVersion() int { return 2 }

type testBundle struct {
	pool   *pgxpool.Pool
	store  *eventstore.Store
	tenant tenant.ID
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	pool := pgtest.New(t)
	reg := eventstore.NewRegistry()
	reg.Register(noted{}, renamed{})
	// v1 of renamed had {"name": ...}; v2 calls it title.
	reg.Upcast("test.renamed.v1", 1, func(p json.RawMessage) (json.RawMessage, error) {
		var v1 struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(p, &v1); err != nil {
			return nil, err
		}
		return json.Marshal(renamed{Title: v1.Name})
	})
	return &testBundle{pool: pool, store: eventstore.New(pool, reg), tenant: tenant.NewID()}
}

func (b *testBundle) md() eventstore.Metadata {
	return eventstore.Metadata{Tenant: b.tenant, Actor: "test", Correlation: uuid.Must(uuid.NewV7())}
}

func (b *testBundle) append(ctx context.Context, stream uuid.UUID, expected int64, md eventstore.Metadata, evs ...eventstore.Event) (eventstore.Result, error) {
	return b.store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		_, err := tx.Append(ctx, eventstore.Stream{Tenant: b.tenant, Type: "test", ID: stream}, expected, evs, md)
		return err
	})
}

// readFeed waits until the feed shows want events. Any transaction open
// anywhere on the cluster (other tests included) holds the feed back, so
// tests wait on the condition, with a deadline.
func (b *testBundle) readFeed(t *testing.T, want int) []eventstore.Envelope {
	t.Helper()
	var feed []eventstore.Envelope
	require.Eventually(t, func() bool {
		var err error
		feed, err = eventstore.ReadFeed(context.Background(), b.pool, eventstore.Position{}, want+10, eventstore.FeedFilter{})
		return err == nil && len(feed) >= want
	}, 30*time.Second, 5*time.Millisecond)
	require.Len(t, feed, want)
	return feed
}

func TestAppendAndLoad(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	id := uuid.Must(uuid.NewV7())

	res, err := b.append(ctx, id, 0, b.md(), noted{N: 1, Text: "a"}, noted{N: 2, Text: "b"})
	require.NoError(t, err)
	require.Len(t, res.Events, 2)
	require.Equal(t, int64(2), res.Version(id))
	require.False(t, res.Last.IsZero())

	envs, err := b.store.Load(ctx, b.pool, b.tenant, id)
	require.NoError(t, err)
	require.Len(t, envs, 2)
	require.Equal(t, noted{N: 1, Text: "a"}, envs[0].Data)
	require.Equal(t, int64(1), envs[0].Version)
	require.Equal(t, noted{N: 2, Text: "b"}, envs[1].Data)
	require.Equal(t, "test", envs[1].Actor)
	require.Equal(t, res.Last, envs[1].Position)

	t.Run("another tenant reads nothing", func(t *testing.T) {
		t.Parallel()
		envs, err := b.store.Load(ctx, b.pool, tenant.NewID(), id)
		require.NoError(t, err)
		require.Empty(t, envs)
	})
}

func TestAppendStaleVersionConflicts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	id := uuid.Must(uuid.NewV7())
	_, err := b.append(ctx, id, 0, b.md(), noted{N: 1})
	require.NoError(t, err)

	_, err = b.append(ctx, id, 0, b.md(), noted{N: 2})
	require.ErrorIs(t, err, eventstore.ErrVersionConflict)

	envs, err := b.store.Load(ctx, b.pool, b.tenant, id)
	require.NoError(t, err)
	require.Len(t, envs, 1)
}

func TestAppendRetriedCommandIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	id := uuid.Must(uuid.NewV7())
	md := b.md()
	md.CommandID = uuid.Must(uuid.NewV7())

	first, err := b.append(ctx, id, 0, md, noted{N: 1}, noted{N: 2})
	require.NoError(t, err)
	// The retry sees the stream at version 2 and would append "again".
	_, err = b.append(ctx, id, 2, md, noted{N: 1}, noted{N: 2})
	require.ErrorIs(t, err, eventstore.ErrDuplicate)

	envs, err := b.store.Load(ctx, b.pool, b.tenant, id)
	require.NoError(t, err)
	require.Len(t, envs, 2)
	require.Equal(t, first.Events[0].EventID, envs[0].EventID)
	require.Equal(t, eventstore.DeriveID(md.CommandID, id, 0), envs[0].EventID)
	require.Equal(t, 7, int(envs[0].EventID.Version()))
}

func TestOrderingGuardRejectsOldTransactionID(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	id := uuid.Must(uuid.NewV7())

	// T1 takes its xid first, as if it had written something else before appending.
	t1, err := b.pool.Begin(ctx)
	require.NoError(t, err)
	defer t1.Rollback(ctx) //nolint:errcheck
	_, err = t1.Exec(ctx, `SELECT pg_current_xact_id()`)
	require.NoError(t, err)

	// T2 (younger xid) appends v1 and commits.
	_, err = b.append(ctx, id, 0, b.md(), noted{N: 1})
	require.NoError(t, err)

	// T1 appends v2: in (tx_id, position) order it would sort before v1.
	_, err = t1.Exec(ctx, `INSERT INTO events (tenant_id, stream_type, stream_id, stream_version, event_id, event_type, payload, correlation_id)
		SELECT $1, 'test', $2, 2, gen_random_uuid(), 'test.noted.v1', '{}', gen_random_uuid()
		WHERE NOT EXISTS (SELECT 1 FROM events p WHERE p.tenant_id = $1 AND p.stream_id = $2 AND p.stream_version = 1 AND p.tx_id > pg_current_xact_id())`,
		b.tenant, id)
	require.NoError(t, err)
	require.NoError(t, t1.Commit(ctx))
	envs, err := b.store.Load(ctx, b.pool, b.tenant, id)
	require.NoError(t, err)
	require.Len(t, envs, 1, "the guard must refuse the inverted append")

	// Through the store, the same situation reruns the command with a fresh xid and succeeds.
	attempts := 0
	_, err = b.store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		attempts++
		if attempts == 1 {
			if _, err := tx.Exec(ctx, `SELECT pg_current_xact_id()`); err != nil {
				return err
			}
			if _, err := b.append(ctx, id, 1, b.md(), noted{N: 2}); err != nil {
				return err
			}
		}
		envs, err := tx.Load(ctx, b.tenant, id)
		if err != nil {
			return err
		}
		_, err = tx.Append(ctx, eventstore.Stream{Tenant: b.tenant, Type: "test", ID: id}, int64(len(envs)), []eventstore.Event{noted{N: 3}}, b.md())
		return err
	})
	require.NoError(t, err)
	require.Equal(t, 2, attempts)
	feed := b.readFeed(t, 3)
	var versions []int64
	for _, e := range feed {
		versions = append(versions, e.Version)
	}
	require.Equal(t, []int64{1, 2, 3}, versions, "feed order keeps stream order")
}

// AppendAll writes the events of several streams in one statement, and
// the ordering guard holds for each of them: when one stream's last event
// came from a younger transaction, the whole command reruns and each
// stream gets its events once, in order.
func TestAppendAllGuardsEachStreamOfItsOneStatement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	calm, raced := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	_, err := b.append(ctx, calm, 0, b.md(), noted{N: 1})
	require.NoError(t, err)

	attempts := 0
	var got [][]eventstore.Envelope
	_, err = b.store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		attempts++
		if attempts == 1 {
			// This transaction's id is older than the one that then
			// writes raced's first event.
			if _, err := tx.Exec(ctx, `SELECT pg_current_xact_id()`); err != nil {
				return err
			}
			if _, err := b.append(ctx, raced, 0, b.md(), noted{N: 10}); err != nil {
				return err
			}
		}
		stream := func(id uuid.UUID) eventstore.Stream { return eventstore.Stream{Tenant: b.tenant, Type: "test", ID: id} }
		var err error
		got, err = tx.AppendAll(ctx, []eventstore.StreamAppend{
			{Stream: stream(calm), Expected: 1, Events: []eventstore.Event{noted{N: 2}, noted{N: 3}}, Metadata: b.md()},
			{Stream: stream(raced), Expected: 1, Events: []eventstore.Event{noted{N: 11}}, Metadata: b.md()},
		})
		return err
	})
	require.NoError(t, err)
	require.Equal(t, 2, attempts, "the guard tripped on raced and the command reran")
	require.Len(t, got, 2)
	require.Equal(t, []int64{2, 3}, []int64{got[0][0].Version, got[0][1].Version})
	require.Equal(t, noted{N: 3}, got[0][1].Data)
	require.Equal(t, calm, got[0][1].StreamID)
	require.Equal(t, int64(2), got[1][0].Version)
	require.Equal(t, raced, got[1][0].StreamID)
	for id, want := range map[uuid.UUID][]int{calm: {1, 2, 3}, raced: {10, 11}} {
		envs, err := b.store.Load(ctx, b.pool, b.tenant, id)
		require.NoError(t, err)
		var ns []int
		for _, e := range envs {
			ns = append(ns, e.Data.(noted).N)
		}
		require.Equal(t, want, ns)
	}
}

func TestEventsAreAppendOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	_, err := b.append(ctx, uuid.Must(uuid.NewV7()), 0, b.md(), noted{N: 1})
	require.NoError(t, err)

	for _, q := range []string{
		`UPDATE events SET payload = '{}'`,
		`DELETE FROM events`,
		`TRUNCATE events`,
		`UPDATE events SET payload = '{}' WHERE false`,
	} {
		_, err := b.pool.Exec(ctx, q)
		require.ErrorContains(t, err, "append-only", q)
	}
	var n int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&n))
	require.Equal(t, 1, n)
}

func TestUpcasterBringsOldPayloadsToCurrentShape(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	id := uuid.Must(uuid.NewV7())
	// A v1 payload as an older build wrote it.
	_, err := b.pool.Exec(ctx, `INSERT INTO events (tenant_id, stream_type, stream_id, stream_version, event_id, event_type, schema_version, payload, correlation_id)
		VALUES ($1, 'test', $2, 1, gen_random_uuid(), 'test.renamed.v1', 1, '{"name":"旧い名前"}', gen_random_uuid())`, b.tenant, id)
	require.NoError(t, err)
	_, err = b.append(ctx, id, 1, b.md(), renamed{Title: "new"})
	require.NoError(t, err)

	envs, err := b.store.Load(ctx, b.pool, b.tenant, id)
	require.NoError(t, err)
	require.Equal(t, renamed{Title: "旧い名前"}, envs[0].Data)
	require.Equal(t, renamed{Title: "new"}, envs[1].Data)
	require.Equal(t, 2, envs[1].SchemaVersion)

	feed := b.readFeed(t, 2)
	ev, err := b.store.Registry().Decode(feed[0])
	require.NoError(t, err)
	require.Equal(t, renamed{Title: "旧い名前"}, ev)
}

// 64 goroutines race for each version of one stream: exactly one wins each
// round, the others get ErrVersionConflict, and versions stay gapless.
func TestConcurrentAppendsOneWinnerPerVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	id := uuid.Must(uuid.NewV7())
	const writers, rounds = 64, 20

	for v := int64(0); v < rounds; v++ {
		start := make(chan struct{})
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins, conflicts := 0, 0
		var other []error
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := b.append(ctx, id, v, b.md(), noted{N: w})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
				case errors.Is(err, eventstore.ErrVersionConflict):
					conflicts++
				default:
					other = append(other, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		require.Empty(t, other)
		require.Equal(t, 1, wins, "round %d", v)
		require.Equal(t, writers-1, conflicts, "round %d", v)
	}

	var versions []int64
	rows, err := b.pool.Query(ctx, `SELECT stream_version FROM events WHERE stream_id = $1`, id)
	require.NoError(t, err)
	for rows.Next() {
		var v int64
		require.NoError(t, rows.Scan(&v))
		versions = append(versions, v)
	}
	require.NoError(t, rows.Err())
	sort.Slice(versions, func(i, j int) bool { return versions[i] < versions[j] })
	for i, v := range versions {
		require.Equal(t, int64(i+1), v)
	}
	require.Len(t, versions, rounds)
}

// Free-running writers that reload on conflict (Repo-style retry): every
// command lands exactly once and versions stay gapless.
func TestConcurrentRetriedCommandsAllLand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	id := uuid.Must(uuid.NewV7())
	const writers, each = 16, 10

	start := make(chan struct{})
	var wg sync.WaitGroup
	errc := make(chan error, writers*each)
	var landed atomic.Int64
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := 0; i < each; i++ {
				_, err := b.store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
					envs, err := tx.Load(ctx, b.tenant, id)
					if err != nil {
						return err
					}
					_, err = tx.Append(ctx, eventstore.Stream{Tenant: b.tenant, Type: "test", ID: id}, int64(len(envs)),
						[]eventstore.Event{noted{N: w*1000 + i}}, b.md())
					if errors.Is(err, eventstore.ErrVersionConflict) {
						return eventstore.Retry(err)
					}
					return err
				})
				switch {
				case err == nil:
					landed.Add(1)
				case !errors.Is(err, eventstore.ErrVersionConflict):
					errc <- err
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errc)
	for err := range errc {
		require.NoError(t, err)
	}
	envs, err := b.store.Load(ctx, b.pool, b.tenant, id)
	require.NoError(t, err)
	seen := map[int]bool{}
	for i, e := range envs {
		require.Equal(t, int64(i+1), e.Version)
		n := e.Data.(noted).N
		require.False(t, seen[n], "event %d twice", n)
		seen[n] = true
	}
	// Retries are bounded, so under this contention a command may give up
	// with ErrVersionConflict; every command reported as done landed exactly once.
	require.Equal(t, int(landed.Load()), len(envs))
	require.Greater(t, len(envs), writers*each/2, fmt.Sprintf("only %d of %d landed", len(envs), writers*each))
}

// AppendAll writes many streams in one round trip, all or nothing: a stale
// version in any part appends none of them.
func TestAppendAllIsOneAtomicWriteAcrossStreams(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	a, c, fresh := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	_, err := b.append(ctx, a, 0, b.md(), noted{N: 1})
	require.NoError(t, err)
	_, err = b.append(ctx, c, 0, b.md(), noted{N: 1}, noted{N: 2})
	require.NoError(t, err)
	part := func(id uuid.UUID, expected int64, evs ...eventstore.Event) eventstore.StreamAppend {
		return eventstore.StreamAppend{Stream: eventstore.Stream{Tenant: b.tenant, Type: "test", ID: id}, Expected: expected, Events: evs, Metadata: b.md()}
	}

	res, err := b.store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		out, err := tx.AppendAll(ctx, []eventstore.StreamAppend{part(a, 1, noted{N: 2}), part(fresh, 0), part(c, 2, noted{N: 3}, noted{N: 4})})
		if err != nil {
			return err
		}
		require.Len(t, out[0], 1)
		require.Empty(t, out[1], "a part without events appends nothing")
		require.Len(t, out[2], 2)
		require.Equal(t, int64(4), out[2][1].Version)
		return nil
	})
	require.NoError(t, err)
	require.Len(t, res.Events, 3)

	streams, err := b.store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		got, err := tx.LoadStreams(ctx, b.tenant, []uuid.UUID{a, c, fresh})
		require.NoError(t, err)
		require.Len(t, got, 2, "a stream without events is absent")
		require.Equal(t, []eventstore.Event{noted{N: 1}, noted{N: 2}}, []eventstore.Event{got[a][0].Data, got[a][1].Data})
		require.Len(t, got[c], 4)
		for i, e := range got[c] {
			require.Equal(t, int64(i+1), e.Version)
		}
		other, err := tx.LoadStreams(ctx, tenant.NewID(), []uuid.UUID{a, c})
		require.NoError(t, err)
		require.Empty(t, other, "another tenant reads nothing")
		return nil
	})
	require.NoError(t, err)
	require.Empty(t, streams.Events)

	// A stale part fails the whole write.
	_, err = b.store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		_, err := tx.AppendAll(ctx, []eventstore.StreamAppend{part(fresh, 0, noted{N: 1}), part(a, 1, noted{N: 9})})
		return err
	})
	require.ErrorIs(t, err, eventstore.ErrVersionConflict)
	envs, err := b.store.Load(ctx, b.pool, b.tenant, fresh)
	require.NoError(t, err)
	require.Empty(t, envs, "nothing of a failed AppendAll is written")
}

func TestRequestsRunOnTheirOwnPoolAndWorkersOnTheStores(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewURL(t)
	open := func(name string) *pgxpool.Pool {
		p, err := database.Open(ctx, url, database.Options{MaxConns: 4, AppName: name})
		require.NoError(t, err)
		t.Cleanup(p.Close)
		return p
	}
	workers, requests := open("workers"), open("requests")
	store := eventstore.New(workers, eventstore.NewRegistry())
	where := func(ctx context.Context) (app, role string) {
		_, err := store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
			return tx.QueryRow(ctx, `SELECT current_setting('application_name'), current_user::text`).Scan(&app, &role)
		})
		require.NoError(t, err)
		return app, role
	}
	var login string
	require.NoError(t, workers.QueryRow(ctx, `SELECT current_user::text`).Scan(&login))
	scoped := database.WithTenant(ctx, uuid.New())

	// Before the requests have a pool, the store's pool serves them all.
	app, role := where(scoped)
	require.Equal(t, []string{"workers", "honten_app"}, []string{app, role})
	require.Same(t, workers, store.PoolFor(scoped))

	store.ServeRequestsFrom(requests)
	for range 3 {
		app, role = where(scoped)
		require.Equal(t, []string{"requests", "honten_app"}, []string{app, role}, "a tenant's request")
		app, role = where(ctx)
		require.Equal(t, []string{"workers", login}, []string{app, role}, "a worker")
		app, role = where(database.WithoutTenant(scoped))
		require.Equal(t, []string{"workers", login}, []string{app, role}, "worker's work a request started")
	}
	require.Same(t, requests, store.PoolFor(scoped))
	require.Same(t, workers, store.PoolFor(ctx))
	require.Same(t, workers, store.Pool())
}

// The statements that append to several streams and read several streams
// keep their generic plans: after the first executions a connection stops
// planning them, whatever the number of streams and events (a statement
// planned at every execution cost more to plan than the statements it
// replaced cost to run).
func TestTheStatementsOfSeveralStreamsKeepTheirGenericPlans(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := database.Open(ctx, pgtest.NewURL(t), database.Options{MaxConns: 1})
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	reg := eventstore.NewRegistry()
	reg.Register(noted{}, renamed{})
	store := eventstore.New(pool, reg)
	tn := tenant.NewID()
	md := eventstore.Metadata{Tenant: tn, Actor: "test"}
	ids := []uuid.UUID{uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())}
	const rounds = 12
	for r := range rounds {
		_, err := store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
			parts := make([]eventstore.StreamAppend, 0, len(ids))
			after := make([]eventstore.StreamAfter, 0, len(ids))
			// Two or three streams, one to three events each.
			for i, id := range ids[:2+r%2] {
				evs := []eventstore.Event{}
				for range 1 + (r+i)%3 {
					evs = append(evs, noted{N: r})
				}
				envs, err := tx.LoadAfter(ctx, nil, []eventstore.StreamAfter{{Tenant: tn, ID: id}})
				if err != nil {
					return err
				}
				parts = append(parts, eventstore.StreamAppend{Stream: eventstore.Stream{Tenant: tn, Type: "test", ID: id},
					Expected: int64(len(envs[0])), Events: evs, Metadata: md})
				after = append(after, eventstore.StreamAfter{Tenant: tn, ID: id, After: int64(r % 3)})
			}
			if _, err := tx.LoadAfter(ctx, nil, after); err != nil {
				return err
			}
			_, err := tx.AppendAll(ctx, parts)
			return err
		})
		require.NoError(t, err)
	}
	rows, err := pool.Query(ctx, `SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements
WHERE (statement LIKE '%jsonb_to_recordset%' OR statement LIKE '%CROSS JOIN LATERAL%') AND statement NOT LIKE '%pg_prepared_statements%'`)
	require.NoError(t, err)
	type plans struct {
		sql             string
		generic, custom int64
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (plans, error) {
		var p plans
		return p, r.Scan(&p.sql, &p.generic, &p.custom)
	})
	require.NoError(t, err)
	require.Len(t, got, 3, "the append of several streams, the reads of two and of three")
	for _, p := range got {
		require.LessOrEqual(t, p.custom, int64(5), "planned at each execution: %s", p.sql)
		require.Positive(t, p.generic, p.sql)
	}
}
