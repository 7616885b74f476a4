package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/projections"
)

// EventstoreOptions tune the event store benchmark.
type EventstoreOptions struct {
	Duration time.Duration // per append phase; default 10s
	Writers  int           // concurrent appenders; default 16
	LiveRate int           // events/s for the live-lag phase; default 2000
}

type benchEvent struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
	Note     string `json:"note"`
}

func (benchEvent) EventName() string { return "bench.happened.v1" }

// the payload size of a typical commerce event (a cart line, a stock move)
var benchPayload = benchEvent{SKU: "TEE-BLK-M", Quantity: 2, Note: "ギフト包装をお願いします"}

// Eventstore measures appends (1 and 10 events per command), the poller's
// catch-up rate and live lag, beside a bare multi-row INSERT and a bare feed
// SELECT on the same database.
func Eventstore(ctx context.Context, env *Env, o EventstoreOptions) ([]Row, error) {
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	if o.Writers <= 0 {
		o.Writers = 16
	}
	if o.LiveRate <= 0 {
		o.LiveRate = 2000
	}
	reg := eventstore.NewRegistry()
	reg.Register(benchEvent{})
	store := eventstore.New(env.Pool, reg)
	t := tenant.NewID()
	payload, _ := json.Marshal(benchPayload)
	var rows []Row

	// Raw ceilings: the same rows, a bare INSERT into a table with no
	// constraints beyond a primary key, one statement per transaction.
	if _, err := env.Pool.Exec(ctx, `CREATE TABLE bench_raw (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		tenant_id uuid, stream_id uuid, version bigint, event_type text, payload jsonb)`); err != nil {
		return nil, err
	}
	raw := func(n int) (float64, error) {
		return closedLoop(ctx, o.Writers, o.Duration, func(ctx context.Context) (int, error) {
			sid := uuid.Must(uuid.NewV7())
			vs := make([]int64, n)
			ps := make([]string, n)
			for i := range vs {
				vs[i], ps[i] = int64(i+1), string(payload)
			}
			_, err := env.Pool.Exec(ctx, `INSERT INTO bench_raw (tenant_id, stream_id, version, event_type, payload)
				SELECT $1, $2, v, 'bench.happened.v1', p FROM unnest($3::bigint[], $4::jsonb[]) AS u(v, p)`, t, sid, vs, ps)
			return n, err
		})
	}
	appendCmd := func(n int) (float64, error) {
		evs := make([]eventstore.Event, n)
		for i := range evs {
			evs[i] = benchPayload
		}
		return closedLoop(ctx, o.Writers, o.Duration, func(ctx context.Context) (int, error) {
			sid := uuid.Must(uuid.NewV7())
			_, err := store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
				cur, err := tx.Load(ctx, t, sid)
				if err != nil {
					return err
				}
				_, err = tx.Append(ctx, eventstore.Stream{Tenant: t, Type: "bench", ID: sid}, int64(len(cur)), evs,
					eventstore.Metadata{Tenant: t, Actor: "bench", CommandID: uuid.Must(uuid.NewV7())})
				return err
			})
			return n, err
		})
	}
	for _, n := range []int{1, 10} {
		env.Log.Info("bench: raw insert", "events_per_statement", n)
		rawRate, err := raw(n)
		if err != nil {
			return nil, err
		}
		env.Log.Info("bench: append", "events_per_command", n)
		rate, err := appendCmd(n)
		if err != nil {
			return nil, err
		}
		target := ""
		if n == 10 {
			target = "≥ 25,000 ev/s"
		}
		rows = append(rows,
			Row{Name: fmt.Sprintf("raw INSERT, %d rows/stmt, %d writers", n, o.Writers), Value: rawRate, Unit: "rows/s", Note: "ceiling"},
			Row{Name: fmt.Sprintf("append, %d event(s)/command, %d writers", n, o.Writers), Value: rate, Unit: "events/s",
				Baseline: "raw INSERT", Ratio: rate / rawRate, Target: target, Note: "load + append + commit"})
	}

	var total int64
	if err := env.Pool.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&total); err != nil {
		return nil, err
	}
	// Bare feed SELECT: keyset pages over the identity column, no snapshot filter.
	env.Log.Info("bench: bare feed select", "events", total)
	start := time.Now()
	var last int64
	var read int64
	for {
		// The same columns the feed reads, transferred to the client.
		rs, err := env.Pool.Query(ctx, `SELECT global_position, tx_id::text, tenant_id, stream_type, stream_id, stream_version,
			event_id, event_type, schema_version, payload, metadata, actor_id, correlation_id, causation_id, recorded_at
			FROM events WHERE global_position > $1 ORDER BY global_position LIMIT 5000`, last)
		if err != nil {
			return nil, err
		}
		n := 0
		for rs.Next() {
			raw := rs.RawValues() // undecoded: the ceiling
			last = int64(binaryBigEndian(raw[0]))
			n++
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return nil, err
		}
		read += int64(n)
		if n == 0 {
			break
		}
	}
	selectRate := float64(read) / time.Since(start).Seconds()
	rows = append(rows, Row{Name: "bare feed SELECT (pages of 5000)", Value: selectRate, Unit: "rows/s", Note: "ceiling"})

	// Catch-up: a rebuild replays the whole log through the runner's poller.
	if _, err := env.Pool.Exec(ctx, `CREATE FUNCTION rm_bench_noop_v1_create(s text) RETURNS void LANGUAGE plpgsql AS $$
		BEGIN EXECUTE format('CREATE TABLE %I.bench_noop (n int)', s); END $$`); err != nil {
		return nil, err
	}
	p := noopProjector{}
	r, err := projections.NewRunner(env.Pool, []projections.Projector{p}, projections.Options{Logger: env.Log})
	if err != nil {
		return nil, err
	}
	if err := r.Ensure(ctx); err != nil {
		return nil, err
	}
	env.Log.Info("bench: catch-up", "projection", p.Name(), "events", total)
	start = time.Now()
	if err := r.Rebuild(ctx, projections.Model(p.Name()), nil); err != nil {
		return nil, err
	}
	rate := float64(total) / time.Since(start).Seconds()
	rows = append(rows, Row{Name: "catch-up, poller only (no-op projector, with payloads)", Value: rate, Unit: "events/s", Baseline: "bare feed SELECT",
		Ratio: rate / selectRate, Target: "≥ 40,000 ev/s",
		Note: "incl. swap and index build"})

	// Live lag at a fixed append rate, with and without the in-process nudge.
	for _, nudge := range []bool{true, false} {
		p50, p99, n, err := liveLag(ctx, env, reg, t, o, nudge)
		if err != nil {
			return nil, err
		}
		mode := "in-process nudge"
		if !nudge {
			mode = "polling only (separate processes)"
		}
		rows = append(rows,
			Row{Name: fmt.Sprintf("live lag p50 at %d ev/s, %s", o.LiveRate, mode), Value: ms(p50), Unit: "ms", Note: fmt.Sprintf("%d events", n)},
			Row{Name: fmt.Sprintf("live lag p99 at %d ev/s, %s", o.LiveRate, mode), Value: ms(p99), Unit: "ms", Target: "≤ 100 ms"})
	}
	return rows, nil
}

// closedLoop runs fn from n workers for d and returns units per second.
func closedLoop(ctx context.Context, n int, d time.Duration, fn func(context.Context) (int, error)) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var done atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Pointer[error]
	start := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				k, err := fn(ctx)
				if err != nil {
					if ctx.Err() == nil {
						firstErr.CompareAndSwap(nil, &err)
					}
					return
				}
				done.Add(int64(k))
			}
		}()
	}
	wg.Wait()
	if err := firstErr.Load(); err != nil {
		return 0, *err
	}
	return float64(done.Load()) / time.Since(start).Seconds(), nil
}

type noopProjector struct{}

func (noopProjector) Name() string { return "bench_noop.v1" }
func (noopProjector) Schema() projections.Schema {
	return projections.Schema{Tables: []string{"bench_noop"}, Create: "rm_bench_noop_v1_create"}
}
func (noopProjector) Apply(context.Context, pgx.Tx, []eventstore.Envelope) error { return nil }

// lagProbe records, for each event it applies, the time since its append committed.
type lagProbe struct {
	committed *sync.Map // event id → time.Time
	lat       *Latencies
	mu        *sync.Mutex
}

func (lagProbe) Name() string { return "bench_noop.v1" }
func (lagProbe) Schema() projections.Schema {
	return projections.Schema{Tables: []string{"bench_noop"}, Create: "rm_bench_noop_v1_create", NoPayloads: true}
}
func (p lagProbe) Apply(_ context.Context, _ pgx.Tx, batch []eventstore.Envelope) error {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range batch {
		if v, ok := p.committed.LoadAndDelete(e.EventID); ok {
			p.lat.Add(now.Sub(v.(time.Time)))
		}
	}
	return nil
}

func liveLag(ctx context.Context, env *Env, reg *eventstore.Registry, t tenant.ID, o EventstoreOptions, nudge bool) (p50, p99 time.Duration, n int, err error) {
	store := eventstore.New(env.Pool, reg)
	probe := lagProbe{committed: &sync.Map{}, lat: &Latencies{}, mu: &sync.Mutex{}}
	r, err := projections.NewRunner(env.Pool, []projections.Projector{probe}, projections.Options{Logger: env.Log})
	if err != nil {
		return 0, 0, 0, err
	}
	if nudge {
		store.OnCommit(func(eventstore.Position) { r.Nudge() })
	}
	if err := r.Ensure(ctx); err != nil {
		return 0, 0, 0, err
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Run(rctx) }()
	defer func() { cancel(); <-done }()
	// Let the probe catch up with the backlog of the earlier phases first.
	head, err := eventstore.Head(ctx, env.Pool)
	if err != nil {
		return 0, 0, 0, err
	}
	wctx, wcancel := context.WithTimeout(ctx, 2*time.Minute)
	defer wcancel()
	if err := r.WaitFor(wctx, head, "bench_noop"); err != nil {
		return 0, 0, 0, fmt.Errorf("live lag: probe catching up: %w", err)
	}
	env.Log.Info("bench: live lag", "rate", o.LiveRate, "nudge", nudge)
	const writers = 8
	interval := time.Duration(float64(time.Second) * writers / float64(o.LiveRate))
	lctx, lcancel := context.WithTimeout(ctx, o.Duration)
	defer lcancel()
	var wg sync.WaitGroup
	var last atomic.Pointer[eventstore.Position]
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(interval)
			defer tick.Stop()
			for {
				select {
				case <-lctx.Done():
					return
				case <-tick.C:
				}
				sid := uuid.Must(uuid.NewV7())
				var ids []uuid.UUID
				res, err := store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
					envs, err := tx.Append(ctx, eventstore.Stream{Tenant: t, Type: "bench", ID: sid}, 0,
						[]eventstore.Event{benchPayload}, eventstore.Metadata{Tenant: t, Actor: "bench"})
					for _, e := range envs {
						ids = append(ids, e.EventID)
					}
					return err
				})
				if err != nil {
					continue
				}
				now := time.Now()
				for _, id := range ids {
					probe.committed.Store(id, now)
				}
				p := res.Last
				last.Store(&p)
			}
		}()
	}
	wg.Wait()
	if p := last.Load(); p != nil {
		wctx, wcancel := context.WithTimeout(ctx, time.Minute)
		defer wcancel()
		if err := r.WaitFor(wctx, *p, "bench_noop"); err != nil && !errors.Is(err, projections.ErrNotCaughtUp) {
			return 0, 0, 0, err
		}
	}
	probe.mu.Lock()
	defer probe.mu.Unlock()
	return probe.lat.P(0.5), probe.lat.P(0.99), probe.lat.Len(), nil
}

func binaryBigEndian(b []byte) uint64 {
	var v uint64
	for _, x := range b {
		v = v<<8 | uint64(x)
	}
	return v
}
