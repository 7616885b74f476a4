package projections_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
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
	"github.com/honten/honten/internal/pgtest"
	"github.com/honten/honten/internal/projtest"
	"github.com/honten/honten/projections"
)

type counted struct {
	N int `json:"n"`
}

func (counted) EventName() string { return "test.counted.v1" }

// tallyDDL is the test model's DDL, created in the test database the way
// migrations create real models' functions.
const tallyDDL = `
CREATE FUNCTION rm_tally_v1_create(s text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('CREATE TABLE %I.tally (stream_id uuid PRIMARY KEY, events int NOT NULL, sum bigint NOT NULL, last_version bigint NOT NULL, out_of_order int NOT NULL DEFAULT 0)', s);
  EXECUTE format('CREATE TABLE %I.tally_seen (event_id uuid PRIMARY KEY, times int NOT NULL)', s);
END $$;
CREATE FUNCTION rm_tally_v1_index(s text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('CREATE INDEX IF NOT EXISTS tally_events_ix ON %I.tally (events)', s);
END $$;`

// tally counts events per stream, records each event id with how often it
// was applied, and notes version gaps or inversions. It is deliberately not
// idempotent: a double application shows.
type tally struct {
	reg *eventstore.Registry
	// hook, when set, runs at the start of every Apply with the backend pid.
	hook func(ctx context.Context, pid int)
}

func (tally) Name() string { return "tally.v1" }
func (tally) Schema() projections.Schema {
	return projections.Schema{Tables: []string{"tally", "tally_seen"}, Create: "rm_tally_v1_create", Index: "rm_tally_v1_index"}
}

func (p tally) Apply(ctx context.Context, tx pgx.Tx, batch []eventstore.Envelope) error {
	if p.hook != nil {
		var pid int
		if err := tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
			return err
		}
		p.hook(ctx, pid)
	}
	b := &pgx.Batch{}
	for _, e := range batch {
		ev, err := p.reg.Decode(e)
		if err != nil {
			return err
		}
		n := ev.(counted).N
		b.Queue(`INSERT INTO tally (stream_id, events, sum, last_version) VALUES ($1, 1, $2, $3)
ON CONFLICT (stream_id) DO UPDATE SET events = tally.events + 1, sum = tally.sum + $2, last_version = $3,
  out_of_order = tally.out_of_order + CASE WHEN $3 = tally.last_version + 1 THEN 0 ELSE 1 END`, e.StreamID, n, e.Version)
		b.Queue(`INSERT INTO tally_seen (event_id, times) VALUES ($1, 1) ON CONFLICT (event_id) DO UPDATE SET times = tally_seen.times + 1`, e.EventID)
	}
	return tx.SendBatch(ctx, b).Close()
}

type testBundle struct {
	pool   *pgxpool.Pool
	store  *eventstore.Store
	reg    *eventstore.Registry
	tenant tenant.ID
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	pool := pgtest.New(t)
	_, err := pool.Exec(context.Background(), tallyDDL)
	require.NoError(t, err)
	reg := eventstore.NewRegistry()
	reg.Register(counted{})
	return &testBundle{pool: pool, store: eventstore.New(pool, reg), reg: reg, tenant: tenant.NewID()}
}

func (b *testBundle) runner(t *testing.T, ps ...projections.Projector) *projections.Runner {
	t.Helper()
	return projtest.NewRunner(t, b.pool, ps...)
}

// appendN appends events n1..n to stream, one command each, retrying on conflict.
func (b *testBundle) appendOne(ctx context.Context, stream uuid.UUID, n int) (eventstore.Result, error) {
	return b.store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		envs, err := tx.Load(ctx, b.tenant, stream)
		if err != nil {
			return err
		}
		_, err = tx.Append(ctx, eventstore.Stream{Tenant: b.tenant, Type: "test", ID: stream}, int64(len(envs)),
			[]eventstore.Event{counted{N: n}}, eventstore.Metadata{Tenant: b.tenant, Actor: "test"})
		if errors.Is(err, eventstore.ErrVersionConflict) {
			return eventstore.Retry(err)
		}
		return err
	})
}

func waitApplied(t *testing.T, r *projections.Runner, pos eventstore.Position) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	require.NoError(t, r.WaitFor(ctx, pos))
}

// No lost events: 32 writers append to 1,000 streams while one writer holds
// its transaction open. The projector sees every event exactly once and each
// stream in version order; a naive "position > last" reader misses the late one.
func TestLiveTailLosesNothingWhileATransactionCommitsLate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	r := b.runner(t, tally{reg: b.reg})
	require.NoError(t, r.Ensure(ctx))
	projtest.Start(t, r)

	const writers, streams, perWriter = 32, 1000, 60
	ids := make([]uuid.UUID, streams)
	for i := range ids {
		ids[i] = uuid.Must(uuid.NewV7())
	}

	// The late writer: its event gets a low global_position but commits last.
	lateStream := uuid.Must(uuid.NewV7())
	late, err := b.pool.Begin(ctx)
	require.NoError(t, err)
	defer late.Rollback(ctx) //nolint:errcheck
	var latePos int64
	require.NoError(t, late.QueryRow(ctx, `INSERT INTO events (tenant_id, stream_type, stream_id, stream_version, event_id, event_type, payload, correlation_id)
		VALUES ($1, 'test', $2, 1, $3, 'test.counted.v1', '{"n": 7}', gen_random_uuid()) RETURNING global_position`,
		b.tenant, lateStream, uuid.Must(uuid.NewV7())).Scan(&latePos))

	// The naive reader pages on the bare identity column.
	var naiveLast atomic.Int64
	naiveSeen := map[uuid.UUID]bool{}
	naiveStop := make(chan struct{})
	naiveDone := make(chan struct{})
	go func() {
		defer close(naiveDone)
		for {
			rows, err := b.pool.Query(ctx, `SELECT global_position, event_id FROM events WHERE global_position > $1 ORDER BY global_position LIMIT 500`, naiveLast.Load())
			if err == nil {
				for rows.Next() {
					var p int64
					var id uuid.UUID
					if rows.Scan(&p, &id) == nil {
						naiveSeen[id] = true
						naiveLast.Store(p)
					}
				}
				rows.Close()
			}
			select {
			case <-naiveStop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()

	startW := make(chan struct{})
	var wg sync.WaitGroup
	errc := make(chan error, writers)
	var lastPos eventstore.Position
	var mu sync.Mutex
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-startW
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for i := 0; i < perWriter; i++ {
				res, err := b.appendOne(ctx, ids[rng.IntN(streams)], w*perWriter+i)
				if err != nil {
					errc <- err
					return
				}
				mu.Lock()
				if lastPos.Less(res.Last) {
					lastPos = res.Last
				}
				mu.Unlock()
			}
		}()
	}
	close(startW)
	wg.Wait()
	close(errc)
	for err := range errc {
		require.NoError(t, err)
	}
	// The naive reader has moved past the open transaction's position...
	require.Eventually(t, func() bool { return naiveLast.Load() > latePos }, 30*time.Second, time.Millisecond)
	// ...and only now does it commit.
	require.NoError(t, late.Commit(ctx))
	var lateTx string
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT tx_id::text FROM events WHERE global_position = $1`, latePos).Scan(&lateTx))

	total := writers*perWriter + 1
	// Wait until the projector has applied every event (the late one included).
	require.Eventually(t, func() bool {
		var n int
		return b.pool.QueryRow(ctx, `SELECT count(*) FROM tally_seen`).Scan(&n) == nil && n == total
	}, 60*time.Second, 5*time.Millisecond)
	close(naiveStop)
	<-naiveDone

	var twice, outOfOrder, events int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE times <> 1) FROM tally_seen`).Scan(&twice))
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT coalesce(sum(out_of_order), 0), coalesce(sum(events), 0) FROM tally`).Scan(&outOfOrder, &events))
	require.Zero(t, twice, "no event applied twice")
	require.Zero(t, outOfOrder, "every stream applied in version order")
	require.Equal(t, total, events)

	var naiveMissed int
	rows, err := b.pool.Query(ctx, `SELECT event_id FROM events`)
	require.NoError(t, err)
	for rows.Next() {
		var id uuid.UUID
		require.NoError(t, rows.Scan(&id))
		if !naiveSeen[id] {
			naiveMissed++
		}
	}
	require.NoError(t, rows.Err())
	require.GreaterOrEqual(t, naiveMissed, 1, "the naive reader skips the late commit")
}

// Exactly-once: the projector's connection is killed mid-batch again and
// again while events flow; the read model still equals a clean rebuild.
func TestKilledProjectorAppliesEachEventOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)

	var killing atomic.Bool
	killed := make(chan int, 1)
	resume := make(chan struct{})
	p := tally{reg: b.reg, hook: func(ctx context.Context, pid int) {
		if killing.Load() {
			killed <- pid
			<-resume
		}
	}}
	r := b.runner(t, p)
	require.NoError(t, r.Ensure(ctx))
	projtest.Start(t, r)

	streams := make([]uuid.UUID, 50)
	for i := range streams {
		streams[i] = uuid.Must(uuid.NewV7())
	}
	var last eventstore.Position
	kills := 0
	for round := 0; round < 25; round++ {
		// Catch the projector inside its next Apply and kill its backend there.
		killing.Store(true)
		for i := 0; i < 40; i++ {
			res, err := b.appendOne(ctx, streams[(round*40+i)%len(streams)], round*1000+i)
			require.NoError(t, err)
			last = res.Last
		}
		select {
		case pid := <-killed:
			killing.Store(false)
			var ok bool
			require.NoError(t, b.pool.QueryRow(ctx, `SELECT pg_terminate_backend($1)`, pid).Scan(&ok))
			require.True(t, ok)
			kills++
			resume <- struct{}{}
		case <-time.After(30 * time.Second):
			t.Fatal("the projector never applied the round's events")
		}
	}
	require.Equal(t, 25, kills)
	waitApplied(t, r, last)
	before := projtest.Dump(t, b.pool, "tally", "tally_seen")

	require.NoError(t, r.Rebuild(ctx, "tally", nil))
	after := projtest.Dump(t, b.pool, "tally", "tally_seen")
	require.Equal(t, before, after)
	var twice int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE times <> 1) FROM tally_seen`).Scan(&twice))
	require.Zero(t, twice)
}

// A runner whose context is cancelled finishes its batch and stops; many
// stop/start cycles still apply each event exactly once.
func TestStoppedAndRestartedRunnerAppliesEachEventOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	stream := uuid.Must(uuid.NewV7())
	var last eventstore.Position
	for cycle := 0; cycle < 15; cycle++ {
		r := b.runner(t, tally{reg: b.reg})
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); _ = r.Run(rctx) }()
		for i := 0; i < 30; i++ {
			res, err := b.appendOne(ctx, stream, cycle*100+i)
			require.NoError(t, err)
			last = res.Last
		}
		cancel()
		<-done
	}
	r := b.runner(t, tally{reg: b.reg})
	projtest.Start(t, r)
	waitApplied(t, r, last)
	var events, twice int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT events FROM tally WHERE stream_id = $1`, stream).Scan(&events))
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE times <> 1) FROM tally_seen`).Scan(&twice))
	require.Equal(t, 15*30, events)
	require.Zero(t, twice)
}

// Rebuilding twice gives identical rows, and queries keep answering (with
// the old generation's rows) while a rebuild runs.
func TestRebuildIsRepeatableAndQueriesKeepAnswering(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	r := b.runner(t, tally{reg: b.reg})
	require.NoError(t, r.Ensure(ctx))
	projtest.Start(t, r)

	streams := make([]uuid.UUID, 200)
	for i := range streams {
		streams[i] = uuid.Must(uuid.NewV7())
	}
	var last eventstore.Position
	for i := 0; i < 3000; i++ {
		res, err := b.appendOne(ctx, streams[i%len(streams)], i)
		require.NoError(t, err)
		last = res.Last
	}
	waitApplied(t, r, last)
	tables := []string{"tally", "tally_seen"}
	first := projtest.Dump(t, b.pool, tables...)

	// Readers hammer the views during both rebuilds.
	stop := make(chan struct{})
	var reads atomic.Int64
	readErr := make(chan error, 1)
	var rwg sync.WaitGroup
	for w := 0; w < 4; w++ {
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				var n, sum int64
				err := b.pool.QueryRow(ctx, `SELECT count(*), coalesce(sum(events), 0) FROM tally`).Scan(&n, &sum)
				if err == nil && (n != int64(len(streams)) || sum != 3000) {
					err = fmt.Errorf("a reader saw %d streams / %d events during the rebuild", n, sum)
				}
				if err != nil {
					select {
					case readErr <- err:
					default:
					}
					return
				}
				reads.Add(1)
			}
		}()
	}
	for _, m := range []string{"tally"} {
		require.NoError(t, r.Rebuild(ctx, m, nil))
	}
	second := projtest.Dump(t, b.pool, tables...)
	for _, m := range []string{"tally"} {
		require.NoError(t, r.Rebuild(ctx, m, nil))
	}
	close(stop)
	rwg.Wait()
	select {
	case err := <-readErr:
		require.NoError(t, err)
	default:
	}
	third := projtest.Dump(t, b.pool, tables...)
	require.Equal(t, first, second)
	require.Equal(t, second, third)
	require.Positive(t, reads.Load())

	sts, err := r.Status(ctx)
	require.NoError(t, err)
	require.Len(t, sts, 1, "old generations are dropped")
	for _, s := range sts {
		require.Equal(t, "live", s.State)
		require.Equal(t, 3, s.Generation)
		require.Zero(t, s.LagEvents)
		require.Equal(t, int64(3000), s.EventsApplied)
	}
	var schemas int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'rm\_%'`).Scan(&schemas))
	require.Equal(t, 1, schemas)
}

func TestOnlyOneInstanceLeadsAProjection(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	r1, r2 := b.runner(t, tally{reg: b.reg}), b.runner(t, tally{reg: b.reg})
	require.NoError(t, r1.Ensure(ctx))
	projtest.Start(t, r1)
	projtest.Start(t, r2)
	stream := uuid.Must(uuid.NewV7())
	var last eventstore.Position
	for i := 0; i < 200; i++ {
		res, err := b.appendOne(ctx, stream, i)
		require.NoError(t, err)
		last = res.Last
	}
	waitApplied(t, r1, last)
	sts1, err := r1.Status(ctx)
	require.NoError(t, err)
	sts2, err := r2.Status(ctx)
	require.NoError(t, err)
	require.NotEqual(t, sts1[0].Active, sts2[0].Active, "exactly one instance is active")
	var events int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT events FROM tally`).Scan(&events))
	require.Equal(t, 200, events)
}

func TestStatusReportsLag(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	r := b.runner(t, tally{reg: b.reg})
	require.NoError(t, r.Ensure(ctx))
	stream := uuid.Must(uuid.NewV7())
	for i := 0; i < 5; i++ {
		_, err := b.appendOne(ctx, stream, i)
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool {
		sts, err := r.Status(ctx)
		return err == nil && len(sts) == 1 && sts[0].LagEvents == 5 && sts[0].LagSeconds >= 0
	}, 30*time.Second, 5*time.Millisecond)
	sts, err := r.Status(ctx)
	require.NoError(t, err)
	b2, _ := json.Marshal(sts[0])
	require.Contains(t, string(b2), `"lag_events":5`)
}

// Liveness (what /readyz reads) reports each live generation's lag as the
// age of its oldest unapplied event, without counting the events behind.
func TestLivenessReportsLagAgeWithoutCounting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	r := b.runner(t, tally{reg: b.reg})
	require.NoError(t, r.Ensure(ctx))
	sts, err := r.Liveness(ctx)
	require.NoError(t, err)
	require.Len(t, sts, 1)
	require.Zero(t, sts[0].LagSeconds, "nothing to apply")
	stream := uuid.Must(uuid.NewV7())
	for i := 0; i < 5; i++ {
		_, err := b.appendOne(ctx, stream, i)
		require.NoError(t, err)
	}
	sts, err = r.Liveness(ctx)
	require.NoError(t, err)
	require.Positive(t, sts[0].LagSeconds, "the age of the oldest unapplied event")
	require.Zero(t, sts[0].LagEvents, "no count over the log")
	full, err := r.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, 5, full[0].LagEvents)
	require.GreaterOrEqual(t, full[0].LagSeconds, sts[0].LagSeconds)
}

// CatchUp applies the log up to its head where no runner runs (a loader
// before the process serves), each event once; where a runner leads the
// model, it waits for it, and nothing is applied twice either way.
func TestCatchUpAppliesTheLogWithoutRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	r := b.runner(t, tally{reg: b.reg})
	stream := uuid.New()
	for n := 1; n <= 5; n++ {
		_, err := b.appendOne(ctx, stream, n)
		require.NoError(t, err)
	}
	tallied := func() (events, sum, twice int) {
		t.Helper()
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT events, sum FROM tally WHERE stream_id = $1`, stream).Scan(&events, &sum))
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM tally_seen WHERE times > 1`).Scan(&twice))
		return events, sum, twice
	}
	require.NoError(t, r.CatchUp(ctx, "tally"))
	events, sum, twice := tallied()
	require.Equal(t, []int{5, 15, 0}, []int{events, sum, twice})
	require.NoError(t, r.CatchUp(ctx, "tally"), "caught up: nothing to apply")
	require.ErrorIs(t, r.CatchUp(ctx, "nonesuch"), projections.ErrUnknownModel)

	projtest.Start(t, r)
	_, err := b.appendOne(ctx, stream, 6)
	require.NoError(t, err)
	require.NoError(t, r.CatchUp(ctx, "tally"))
	events, sum, twice = tallied()
	require.Equal(t, []int{6, 21, 0}, []int{events, sum, twice})
}

// A projector that has just applied a partial batch (busy but caught up)
// lingers before it reads again, so that the commits meanwhile share one
// batch and one checkpoint row; a caller that begins to wait (WaitFor)
// ends the linger at once.
func TestBusyProjectorLingersUnlessSomeoneWaits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	const linger = 2 * time.Second
	var mu sync.Mutex
	var starts []time.Time
	p := tally{reg: b.reg, hook: func(context.Context, int) {
		mu.Lock()
		starts = append(starts, time.Now())
		mu.Unlock()
	}}
	applies := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(starts)
	}
	r, err := projections.NewRunner(b.pool, []projections.Projector{p}, projections.Options{Linger: linger, MaxPoll: 20 * time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, r.Ensure(ctx))
	projtest.Start(t, r)

	// Watched without WaitFor, which would end the linger.
	stream := uuid.Must(uuid.NewV7())
	_, err = b.appendOne(ctx, stream, 0)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return applies() == 1 }, 60*time.Second, 5*time.Millisecond)
	for i := 1; i <= 5; i++ {
		_, err := b.appendOne(ctx, stream, i)
		require.NoError(t, err)
	}
	var events int
	require.Eventually(t, func() bool {
		return b.pool.QueryRow(ctx, `SELECT coalesce(sum(events), 0) FROM tally`).Scan(&events) == nil && events == 6
	}, 60*time.Second, 5*time.Millisecond)
	mu.Lock()
	gap := starts[1].Sub(starts[0])
	mu.Unlock()
	require.GreaterOrEqual(t, gap, linger, "the second batch waited for the linger")
	require.LessOrEqual(t, applies(), 3, "the five commits made while it lingered share a batch or two")

}

// A caller in WaitFor is not held by the linger: with an hour's linger
// begun (the first event applied while nobody waited), a wait for the next
// event returns once it is applied.
func TestWaiterEndsTheLinger(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	r, err := projections.NewRunner(b.pool, []projections.Projector{tally{reg: b.reg}}, projections.Options{Linger: time.Hour, MaxPoll: 20 * time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, r.Ensure(ctx))
	projtest.Start(t, r)
	stream := uuid.Must(uuid.NewV7())
	_, err = b.appendOne(ctx, stream, 0)
	require.NoError(t, err)
	var events int
	require.Eventually(t, func() bool {
		return b.pool.QueryRow(ctx, `SELECT coalesce(sum(events), 0) FROM tally`).Scan(&events) == nil && events == 1
	}, 60*time.Second, 5*time.Millisecond)
	res, err := b.appendOne(ctx, stream, 1)
	require.NoError(t, err)
	waitApplied(t, r, res.Last)
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT events FROM tally WHERE stream_id = $1`, stream).Scan(&events))
	require.Equal(t, 2, events)
}
