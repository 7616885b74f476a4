package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/database"
	"github.com/honten/honten/internal/demo"
	"github.com/honten/honten/internal/feedcost"
	"github.com/honten/honten/internal/progress"
)

// IdleOptions tune the idle benchmark.
type IdleOptions struct {
	Events   int           // the size of the large log; default 1,000,000
	Duration time.Duration // each idle measure; default 30s
	LiveRate int           // events/s of the live-lag phase; default 2000
	LiveFor  time.Duration // the live-lag phase; default 10s
}

// Idle measures what a Honten process doing nothing costs — its own CPU
// plus PostgreSQL's, as a share of one core — on an empty log and on a log
// of o.Events events of every kind, in the same run; prints what one poll
// of each feed reads on the large log; and measures the live lag there.
//
// The large log is made by Prefill.
func Idle(ctx context.Context, env *Env, cfg app.Config, o IdleOptions) ([]Row, error) {
	if o.Events <= 0 {
		o.Events = 1_000_000
	}
	if o.Duration <= 0 {
		o.Duration = 30 * time.Second
	}
	if o.LiveRate <= 0 {
		o.LiveRate = 2000
	}
	if o.LiveFor <= 0 {
		o.LiveFor = 10 * time.Second
	}
	pg, err := postmaster(ctx, env)
	if err != nil {
		env.Log.Warn("bench: PostgreSQL's processes are not on this machine; its CPU is not counted", "err", err)
	}
	var rows []Row

	// 1. An empty log.
	m, stop, err := startServer(ctx, env, cfg)
	if err != nil {
		return nil, err
	}
	if err := m.CaughtUp(ctx); err != nil {
		stop()
		return nil, err
	}
	if err := settle(ctx, env); err != nil {
		stop()
		return nil, err
	}
	env.Log.Info("bench: idle on an empty log", "for", o.Duration)
	emptyCPU, h, p := idleCPU(ctx, pg, o.Duration)
	rows = append(rows, Row{Name: "idle CPU, empty log (honten + PostgreSQL)", Value: emptyCPU, Unit: "% of a core", Target: "≤ 2 %",
		Note: fmt.Sprintf("honten %.2f %%, PostgreSQL %.2f %%", h, p)})

	stop()

	// 2. The large log.
	pre, err := Prefill(ctx, env, cfg, o.Events)
	if err != nil {
		return nil, err
	}
	rows = append(rows, pre.Rows...)
	total := pre.Events

	// 3. A process started on it.
	m, stop, err = startServer(ctx, env, cfg)
	if err != nil {
		return nil, err
	}
	defer func() { stop() }()
	if err := m.CaughtUp(ctx); err != nil {
		return nil, err
	}
	if err := settle(ctx, env); err != nil {
		return nil, err
	}

	// 4. Idle on the large log.
	env.Log.Info("bench: idle on the large log", "events", total, "for", o.Duration)
	largeCPU, h, p := idleCPU(ctx, pg, o.Duration)
	rows = append(rows, Row{Name: fmt.Sprintf("idle CPU, %d-event log (honten + PostgreSQL)", total), Value: largeCPU, Unit: "% of a core",
		Baseline: "empty log", Ratio: ratio(largeCPU, emptyCPU), Target: "≤ 2 %", Note: fmt.Sprintf("honten %.2f %%, PostgreSQL %.2f %%", h, p)})

	// 5. One poll of each feed, at the consumers' cursors.
	cs, err := cursors(ctx, env, m)
	if err != nil {
		return nil, err
	}
	qs, err := feedcost.Feeds(ctx, env.Pool, cs)
	if err != nil {
		return nil, err
	}
	for _, q := range qs {
		for _, generic := range []bool{false, true} {
			p, err := feedcost.Explain(ctx, env.Pool, q, generic)
			if err != nil {
				return nil, err
			}
			mode, note := "custom", ""
			if generic {
				mode = "generic"
			}
			if q.Cursor && !p.CursorIndexed() {
				note = "cursor NOT an index condition"
			}
			rows = append(rows, Row{Name: fmt.Sprintf("empty poll, %s (%s plan)", q.Feed, mode), Value: float64(p.Buffers), Unit: "buffers", Target: "< 100", Note: note})
		}
	}
	stop()
	stop = func() {}

	// 6. Live lag on the large log.
	if _, err := env.Pool.Exec(ctx, `CREATE FUNCTION rm_bench_noop_v1_create(s text) RETURNS void LANGUAGE plpgsql AS $$
		BEGIN EXECUTE format('CREATE TABLE %I.bench_noop (n int)', s); END $$`); err != nil {
		return nil, err
	}
	reg := eventstore.NewRegistry()
	reg.Register(benchEvent{})
	for _, nudge := range []bool{true, false} {
		p50, p99, n, err := liveLag(ctx, env, reg, tenant.NewID(), EventstoreOptions{Duration: o.LiveFor, LiveRate: o.LiveRate}, nudge)
		if err != nil {
			return nil, err
		}
		mode := "in-process nudge"
		if !nudge {
			mode = "polling only (separate processes)"
		}
		rows = append(rows,
			Row{Name: fmt.Sprintf("live lag p50 at %d ev/s on the %d-event log, %s", o.LiveRate, total, mode), Value: ms(p50), Unit: "ms", Note: fmt.Sprintf("%d events", n)},
			Row{Name: fmt.Sprintf("live lag p99 at %d ev/s on the %d-event log, %s", o.LiveRate, total, mode), Value: ms(p99), Unit: "ms", Target: "≤ 100 ms"})
	}
	return rows, nil
}

// Prefilled describes a log filled by Prefill.
type Prefilled struct {
	Events int64 // events in the log
	Rows   []Row // how long filling it took
}

// Prefill fills env's database with a log of at least n events of every
// kind and read models that have applied it, so that a benchmark measures a
// shop with history rather than a fresh database: the demo store, loaded
// through the commands with every role running, then copied shop by shop
// through the event store (every id remapped, each copy a shop of its own)
// and every read model rebuilt by replay. The copies are decided history:
// the reservation lanes' and the policies' cursors are moved past them, as
// they stand on a shop's database at rest.
func Prefill(ctx context.Context, env *Env, cfg app.Config, n int) (Prefilled, error) {
	var out Prefilled
	m, stop, err := startServer(ctx, env, cfg)
	if err != nil {
		return out, err
	}
	env.Log.Info("bench: loading the demo store")
	if _, err := demo.Load(ctx, m.Commands, nil, nil); err != nil {
		stop()
		return out, err
	}
	if err := m.CaughtUp(ctx); err != nil {
		stop()
		return out, err
	}
	stop()

	seed, err := eventstore.ReadFeed(ctx, env.Pool, eventstore.Position{}, 10_000_000, eventstore.FeedFilter{})
	if err != nil {
		return out, err
	}
	if len(seed) == 0 {
		return out, errors.New("bench: the demo store appended nothing")
	}
	start := time.Now()
	copied, err := copyShops(ctx, env, app.Registry(), seed, n-len(seed))
	if err != nil {
		return out, err
	}
	if copied > 0 {
		out.Rows = append(out.Rows, Row{Name: fmt.Sprintf("copying the demo store (%d events) through the event store", len(seed)),
			Value: float64(copied) / time.Since(start).Seconds(), Unit: "events/s", Note: fmt.Sprintf("%d events", copied)})
	}
	head, err := eventstore.Head(ctx, env.Pool)
	if err != nil {
		return out, err
	}
	if _, err := env.Pool.Exec(ctx, `UPDATE worker_checkpoints SET tx_id = $1::text::xid8, position = $2`, head.TxText(), head.Pos); err != nil {
		return out, err
	}
	if _, err := env.Pool.Exec(ctx, `UPDATE watermill_offsets_events SET last_processed_transaction_id = $1::text::xid8, offset_acked = $2`, head.TxText(), head.Pos); err != nil {
		return out, err
	}
	if err := env.Pool.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&out.Events); err != nil {
		return out, err
	}

	// Every read model rebuilt by replay, as `honten rebuild all` does.
	cfg.DatabaseURL = env.URL
	cfg.LogLevel = slog.LevelWarn
	rb := app.New(cfg)
	defer rb.Close()
	if err := rb.Open(ctx); err != nil {
		return out, err
	}
	start = time.Now()
	for _, model := range rb.Runner.Models() {
		bar := progress.New("rebuild "+model, "events", env.Log)
		if err := rb.Runner.Rebuild(ctx, model, bar); err != nil {
			return out, fmt.Errorf("rebuild %s: %w", model, err)
		}
	}
	out.Rows = append(out.Rows, Row{Name: "rebuild of every read model by replay", Value: float64(out.Events) / time.Since(start).Seconds(), Unit: "events/s",
		Note: fmt.Sprintf("%d events, %d models", out.Events, len(rb.Runner.Models()))})
	return out, database.Analyze(ctx, env.Pool)
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// cursors reads where the consumers of m stand.
func cursors(ctx context.Context, env *Env, m *app.Main) (feedcost.Cursors, error) {
	cs := feedcost.Cursors{Groups: map[string]string{}, Now: time.Now()}
	read := func(q string, args ...any) (eventstore.Position, error) {
		var txText string
		var p eventstore.Position
		if err := env.Pool.QueryRow(ctx, q, args...).Scan(&txText, &p.Pos); err != nil {
			return p, err
		}
		p.Tx, _ = strconv.ParseUint(txText, 10, 64)
		return p, nil
	}
	var err error
	if cs.Projection, err = read(`SELECT tx_id::text, position FROM projections WHERE model = 'order_views' AND state = 'live'`); err != nil {
		return cs, fmt.Errorf("projection checkpoint: %w", err)
	}
	if cs.Reservations, err = read(`SELECT tx_id::text, position FROM worker_checkpoints ORDER BY name LIMIT 1`); err != nil {
		return cs, fmt.Errorf("reservation checkpoint: %w", err)
	}
	for _, h := range m.Handlers() {
		for _, topic := range h.Topics {
			cs.Groups[topic] = h.Name
		}
	}
	var t uuid.UUID
	if err := env.Pool.QueryRow(ctx, `SELECT tenant_id FROM events ORDER BY tx_id DESC, global_position DESC LIMIT 1`).Scan(&t); err != nil {
		return cs, err
	}
	cs.Tenant = tenant.ID{UUID: t}
	cs.Types = []string{"payment.refunded.v1"}
	if cs.Typed, err = read(`SELECT tx_id::text, global_position FROM events WHERE tenant_id = $1 ORDER BY tx_id DESC, global_position DESC LIMIT 1`, t); err != nil {
		return cs, err
	}
	return cs, nil
}

// copyShops appends copies of seed (a whole log, in order) until n events
// are appended: each copy is a shop of its own, every UUID in it replaced
// (streams, payloads, the tenant) and tenant codes suffixed. A copy keeps
// the seed's transactions: the events of one seed transaction are appended
// in one transaction, in their order. Copies run in parallel.
func copyShops(ctx context.Context, env *Env, reg *eventstore.Registry, seed []eventstore.Envelope, n int) (int, error) {
	if n <= 0 {
		return 0, nil
	}
	store := eventstore.New(env.Pool, reg)
	// Runs of the seed in order, about copyBatch events each, cut at the
	// seed's transaction boundaries: one transaction per run.
	const copyBatch = 500
	var txs [][]eventstore.Envelope
	for i, e := range seed {
		if i == 0 || (e.Position.Tx != seed[i-1].Position.Tx && len(txs[len(txs)-1]) >= copyBatch) {
			txs = append(txs, nil)
		}
		txs[len(txs)-1] = append(txs[len(txs)-1], e)
	}
	copies := (n + len(seed) - 1) / len(seed)
	bar := progress.New("copying shops", "events", env.Log)
	bar.Total(int64(copies * len(seed)))
	defer bar.Done()
	var done atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for c := 1; c <= copies; c++ {
		g.Go(func() error {
			remap := newIDMap()
			for _, tx := range txs {
				_, err := store.Do(gctx, func(ctx context.Context, etx *eventstore.Tx) error {
					// Consecutive events of one stream go in one append.
					for i := 0; i < len(tx); {
						j := i + 1
						for j < len(tx) && tx[j].StreamID == tx[i].StreamID && tx[j].Version == tx[j-1].Version+1 {
							j++
						}
						evs := make([]eventstore.Event, 0, j-i)
						for _, e := range tx[i:j] {
							ev, err := copyEvent(reg, e, c, remap)
							if err != nil {
								return err
							}
							evs = append(evs, ev)
						}
						e := tx[i]
						t, _ := tenant.ParseID(remap(e.Tenant.String()))
						sid := uuid.MustParse(remap(e.StreamID.String()))
						if _, err := etx.Append(ctx, eventstore.Stream{Tenant: t, Type: e.StreamType, ID: sid}, e.Version-1,
							evs, eventstore.Metadata{Tenant: t, Actor: e.Actor}); err != nil {
							return err
						}
						i = j
					}
					return nil
				})
				if err != nil {
					return fmt.Errorf("copy %d: %w", c, err)
				}
				done.Add(int64(len(tx)))
				bar.Add(int64(len(tx)))
			}
			return nil
		})
	}
	err := g.Wait()
	return int(done.Load()), err
}

// copyEvent returns e's event with every UUID in its payload remapped and,
// in a tenant's events, its code suffixed with the copy's number.
func copyEvent(reg *eventstore.Registry, e eventstore.Envelope, c int, remap func(string) string) (eventstore.Event, error) {
	var v any
	if err := json.Unmarshal(e.Payload, &v); err != nil {
		return nil, err
	}
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, y := range x {
				if k == "code" && e.StreamType == "tenant" {
					if s, ok := y.(string); ok {
						x[k] = s + "-" + strconv.Itoa(c)
						continue
					}
				}
				x[k] = walk(y)
			}
			return x
		case []any:
			for i, y := range x {
				x[i] = walk(y)
			}
			return x
		case string:
			if len(x) == 36 && strings.Count(x, "-") == 4 {
				if _, err := uuid.Parse(x); err == nil {
					return remap(x)
				}
			}
			return x
		}
		return v
	}
	p, err := json.Marshal(walk(v))
	if err != nil {
		return nil, err
	}
	e.Payload, e.Data = p, nil
	return reg.Decode(e)
}

// pgProcs finds the processes of the PostgreSQL server of a database.
type pgProcs struct{ postmaster int }

// postmaster finds the server's main process: the parent of a backend.
func postmaster(ctx context.Context, env *Env) (pgProcs, error) {
	var pid int
	if err := env.Pool.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		return pgProcs{}, err
	}
	st, err := procStat(pid)
	if err != nil {
		return pgProcs{}, err
	}
	return pgProcs{postmaster: st.ppid}, nil
}

// ticks returns the CPU ticks used so far by the server's processes.
func (p pgProcs) ticks() map[int]int64 {
	out := map[int]int64{}
	if p.postmaster == 0 {
		return out
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := procStat(pid)
		if err != nil {
			continue
		}
		if pid == p.postmaster || st.ppid == p.postmaster {
			out[pid] = st.ticks
		}
	}
	return out
}

type stat struct {
	ppid  int
	ticks int64
}

// procStat reads a process's parent and CPU ticks (user + system).
func procStat(pid int) (stat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return stat{}, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return stat{}, fmt.Errorf("proc %d: malformed stat", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return stat{}, fmt.Errorf("proc %d: malformed stat", pid)
	}
	ppid, _ := strconv.Atoi(f[1])
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return stat{ppid: ppid, ticks: utime + stime}, nil
}

// clockTicks is the kernel's USER_HZ, the unit of /proc/*/stat times.
const clockTicks = 100

// settle vacuums and analyzes the database, so that autovacuum has nothing
// left to do, and gives the server a few seconds to reach its idle pace.
func settle(ctx context.Context, env *Env) error {
	if _, err := env.Pool.Exec(ctx, `VACUUM (ANALYZE)`); err != nil {
		return err
	}
	// Write out what the load left dirty, so the checkpointer's work for it
	// is not counted as idle cost (it needs superuser or pg_checkpoint).
	if _, err := env.Pool.Exec(ctx, `CHECKPOINT`); err != nil {
		env.Log.Warn("bench: CHECKPOINT refused; the checkpointer may count in the idle figure", "err", err)
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(5 * time.Second):
		return nil
	}
}

// idleCPU measures, over d, the CPU this process and PostgreSQL's
// processes use, in percent of one core: in all, and of each.
func idleCPU(ctx context.Context, pg pgProcs, d time.Duration) (all, honten, postgres float64) {
	self, _ := procStat(os.Getpid())
	before := pg.ticks()
	start := time.Now()
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
	elapsed := time.Since(start).Seconds()
	selfAfter, _ := procStat(os.Getpid())
	var pgUsed int64
	for pid, t := range pg.ticks() {
		pgUsed += t - before[pid] // a process born since counts whole
	}
	pct := func(ticks int64) float64 { return float64(ticks) / clockTicks / elapsed * 100 }
	return pct(selfAfter.ticks - self.ticks + pgUsed), pct(selfAfter.ticks - self.ticks), pct(pgUsed)
}

// newIDMap returns a function giving each id it is passed a new UUIDv7,
// the same one every time (safe for concurrent use): how a copied shop's
// events get ids of their own.
func newIDMap() func(string) string {
	ids := map[string]string{}
	var mu sync.Mutex
	return func(s string) string {
		mu.Lock()
		defer mu.Unlock()
		if v, ok := ids[s]; ok {
			return v
		}
		v := uuid.Must(uuid.NewV7()).String()
		ids[s] = v
		return v
	}
}
