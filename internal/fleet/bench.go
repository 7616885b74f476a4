package fleet

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/internal/chaos"
	"github.com/honten/honten/internal/procstat"
)

// BenchOptions tune Bench.
type BenchOptions struct {
	Binary, DatabaseURL, Dir string
	// StatsURL reads the database's statistics (a superuser or
	// pg_read_all_settings member, for the data directory); "" means DatabaseURL.
	StatsURL string
	// Commands sets up the benchmark shops.
	Commands *commands.Service
	// Settle returns once every read model and reaction has caught up
	// with the shop's events (chaos.Settle).
	Settle func(ctx context.Context, shop chaos.Shop) error
	// Duration of each measured phase; Buyers concurrent buyers.
	Duration time.Duration
	Buyers   int
	Log      *slog.Logger
}

// BenchResult is one measured setup.
type BenchResult struct {
	Name      string
	Duration  time.Duration
	Checkouts int64 // orders placed (acknowledged checkouts)
	Writes    int64 // acknowledged writes of every kind
	// CPU is the CPU time each process used during the phase.
	CPU []ProcCPU
	// DB is what the database did during the phase.
	DB DBCost
	// Idle is what the database did over IdleFor with the processes
	// running and no load: the fixed cost (polls, health checks) that
	// Marginal subtracts.
	Idle    DBCost
	IdleFor time.Duration
	// Settled is the phase's length until its writes were applied and
	// reported (the database columns cover it).
	Settled time.Duration
	// Tables are the row writes per table during the phase, most first.
	Tables []TableWrites
}

// TableWrites is the rows one table had inserted, updated or deleted.
type TableWrites struct {
	Table string
	Rows  int64
}

// Marginal is the database's work of the phase less the idle rate's share.
func (r BenchResult) Marginal() DBCost {
	if r.IdleFor <= 0 {
		return r.DB
	}
	f := max(r.Settled, r.Duration).Seconds() / r.IdleFor.Seconds()
	return DBCost{Commits: r.DB.Commits - int64(float64(r.Idle.Commits)*f), RowWrites: r.DB.RowWrites - int64(float64(r.Idle.RowWrites)*f),
		WALBytes: r.DB.WALBytes - int64(float64(r.Idle.WALBytes)*f), CPU: r.DB.CPU - time.Duration(float64(r.Idle.CPU)*f)}
}

// DBCost is the database's work over a phase: commits and row writes of
// the benchmark's database (pg_stat_database), the WAL the cluster wrote,
// and the CPU time of the cluster's processes (when it runs on this host;
// 0 otherwise). WAL and CPU are the whole cluster's: measure on a cluster
// nothing else uses.
type DBCost struct {
	Commits, RowWrites, WALBytes int64
	CPU                          time.Duration
	tables                       map[string]int64
}

// ProcCPU is one process's CPU time.
type ProcCPU struct {
	Name string
	CPU  time.Duration
}

// PerSecond is the checkout throughput.
func (r BenchResult) PerSecond() float64 { return float64(r.Checkouts) / r.Duration.Seconds() }

// Bench runs the chaos buyers (carts, add-to-cart, checkout, payments,
// shipments, back office) for Duration against one process running every
// role, then against a fleet of two API processes behind HAProxy and two
// worker processes, in the same run on the same database (a shop of its
// own each), and reports the checkouts per second and each process's CPU.
func Bench(ctx context.Context, o BenchOptions) ([]BenchResult, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.StatsURL == "" {
		o.StatsURL = o.DatabaseURL
	}
	var out []BenchResult
	run := time.Now().Unix() % 1_000_000 // shop codes of their own in each run
	// One process, every role.
	shop, err := chaos.SetupShop(ctx, o.Commands, fmt.Sprintf("bench-one-%d", run), 40, 2, 1_000_000)
	if err != nil {
		return nil, err
	}
	addr, err := chaos.FreeAddr()
	if err != nil {
		return nil, err
	}
	one := &chaos.Process{Name: "all-roles", Binary: o.Binary, Roles: "api,projectors,workers", Addr: addr, DatabaseURL: o.DatabaseURL,
		LogPath: filepath.Join(o.Dir, "all-roles.log"), LogLevel: "info", Log: o.Log}
	if err := one.Start(); err != nil {
		return nil, err
	}
	if err := one.WaitReady(ctx); err != nil {
		one.Stop(10 * time.Second)
		return nil, err
	}
	r, err := measure(ctx, "one process (all roles)", "http://"+addr, shop, o, []named{{"all-roles", one.Pid()}})
	one.Stop(15 * time.Second)
	if err != nil {
		return nil, err
	}
	out = append(out, r)

	// The fleet.
	shop, err = chaos.SetupShop(ctx, o.Commands, fmt.Sprintf("bench-fleet-%d", run), 40, 2, 1_000_000)
	if err != nil {
		return nil, err
	}
	listen, err := chaos.FreeAddr()
	if err != nil {
		return nil, err
	}
	f, err := Start(ctx, Options{Binary: o.Binary, DatabaseURL: o.DatabaseURL, Listen: listen, Dir: o.Dir, Log: o.Log})
	if err != nil {
		return nil, err
	}
	defer f.Stop()
	var procs []named
	for _, p := range append(f.APIs[:len(f.APIs):len(f.APIs)], f.Workers...) {
		procs = append(procs, named{p.Name, p.Pid()})
	}
	procs = append(procs, named{"haproxy", f.LB.Pid()})
	r, err = measure(ctx, "fleet: 2 api + 2 workers behind HAProxy", f.URL(), shop, o, procs)
	if err != nil {
		return nil, err
	}
	return append(out, r), nil
}

type named struct {
	name string
	pid  int
}

func measure(ctx context.Context, name, base string, shop chaos.Shop, o BenchOptions, procs []named) (BenchResult, error) {
	// The idle cost first, once the shop's set-up is applied: the
	// processes poll and answer health checks.
	if err := o.Settle(ctx, shop); err != nil {
		return BenchResult{}, err
	}
	// Backends report their statistics up to 10 s after they go idle
	// (PostgreSQL 15): wait that long before each sample that follows work.
	const flush, idleFor = 11 * time.Second, 10 * time.Second
	if err := sleep(ctx, flush); err != nil {
		return BenchResult{}, err
	}
	i0, err := sampleDB(ctx, o.StatsURL)
	if err != nil {
		return BenchResult{}, err
	}
	if err := sleep(ctx, idleFor); err != nil {
		return BenchResult{}, err
	}
	i1, err := sampleDB(ctx, o.StatsURL)
	if err != nil {
		return BenchResult{}, err
	}
	load := &chaos.Load{Client: chaos.NewClient(base, shop.Code), Shop: shop, Log: o.Log}
	// Warm up (connections, caches), then measure.
	wctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	load.Run(wctx, o.Buyers, 1)
	cancel()
	if f := load.Failures(); len(f) > 0 {
		return BenchResult{}, fmt.Errorf("fleet bench %s: %s", name, f[0])
	}
	if err := o.Settle(ctx, shop); err != nil {
		return BenchResult{}, err
	}
	if err := sleep(ctx, flush); err != nil {
		return BenchResult{}, err
	}
	c0, w0 := load.Stats.Checkouts.Load(), load.Client.Acks.Load()
	db0, err := sampleDB(ctx, o.StatsURL)
	if err != nil {
		return BenchResult{}, err
	}
	cpu0 := make([]time.Duration, len(procs))
	for i, p := range procs {
		cpu0[i] = procCPU(p.pid)
	}
	start := time.Now()
	mctx, cancel := context.WithTimeout(ctx, o.Duration)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); load.Run(mctx, o.Buyers, 2) }()
	wg.Wait()
	cancel()
	loaded := time.Since(start)
	// The phase's cost includes applying what it wrote.
	if err := o.Settle(ctx, shop); err != nil {
		return BenchResult{}, err
	}
	if err := sleep(ctx, flush); err != nil {
		return BenchResult{}, err
	}
	r := BenchResult{Name: name, Duration: loaded, Settled: time.Since(start),
		Checkouts: load.Stats.Checkouts.Load() - c0, Writes: load.Client.Acks.Load() - w0}
	for i, p := range procs {
		r.CPU = append(r.CPU, ProcCPU{p.name, procCPU(p.pid) - cpu0[i]})
	}
	db1, err := sampleDB(ctx, o.StatsURL)
	if err != nil {
		return r, err
	}
	r.DB = db1.minus(db0)
	r.Idle, r.IdleFor = i1.minus(i0), idleFor
	for t, n := range db1.tables {
		if d := n - db0.tables[t]; d > 0 {
			r.Tables = append(r.Tables, TableWrites{t, d})
		}
	}
	sort.Slice(r.Tables, func(i, j int) bool { return r.Tables[i].Rows > r.Tables[j].Rows })
	if f := load.Failures(); len(f) > 0 {
		return r, fmt.Errorf("fleet bench %s: %s", name, f[0])
	}
	return r, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func (c DBCost) minus(b DBCost) DBCost {
	return DBCost{Commits: c.Commits - b.Commits, RowWrites: c.RowWrites - b.RowWrites, WALBytes: c.WALBytes - b.WALBytes, CPU: c.CPU - b.CPU}
}

// sampleDB reads the counters DBCost is made of. pg_stat_database is
// flushed by backends at most once a second: phases of many seconds make
// that noise small.
func sampleDB(ctx context.Context, url string) (DBCost, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return DBCost{}, fmt.Errorf("fleet bench: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var c DBCost
	var lsn, dataDir string
	err = conn.QueryRow(ctx, `SELECT xact_commit, tup_inserted + tup_updated + tup_deleted, pg_current_wal_lsn()::text,
       coalesce(current_setting('data_directory', true), '')
FROM pg_stat_database WHERE datname = current_database()`).Scan(&c.Commits, &c.RowWrites, &lsn, &dataDir)
	if err != nil {
		return DBCost{}, fmt.Errorf("fleet bench: %w", err)
	}
	rows, err := conn.Query(ctx, `SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables`)
	if err != nil {
		return DBCost{}, fmt.Errorf("fleet bench: %w", err)
	}
	c.tables = map[string]int64{}
	for rows.Next() {
		var t string
		var n int64
		if err := rows.Scan(&t, &n); err != nil {
			return DBCost{}, fmt.Errorf("fleet bench: %w", err)
		}
		c.tables[t] += n
	}
	if err := rows.Err(); err != nil {
		return DBCost{}, fmt.Errorf("fleet bench: %w", err)
	}
	hi, lo, _ := strings.Cut(lsn, "/")
	h, _ := strconv.ParseUint(hi, 16, 64)
	l, _ := strconv.ParseUint(lo, 16, 64)
	c.WALBytes = int64(h<<32 | l)
	if dataDir != "" {
		if b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid")); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])); err == nil {
				c.CPU = treeCPU(pid)
			}
		}
	}
	return c, nil
}

// treeCPU is the CPU time of process pid and its children (a postmaster
// and its backends), including children that have exited (cutime, cstime).
func treeCPU(pid int) time.Duration {
	total := procCPU(pid)
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", child))
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			total += procCPU(child)
		}
	}
	// Backends that exited during the phase are counted in the
	// postmaster's cutime and cstime.
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		s := string(b)
		if i := strings.LastIndexByte(s, ')'); i >= 0 {
			f := strings.Fields(s[i+1:])
			if len(f) >= 15 {
				cu, _ := strconv.ParseInt(f[13], 10, 64)
				cs, _ := strconv.ParseInt(f[14], 10, 64)
				total += time.Duration(cu+cs) * 10 * time.Millisecond
			}
		}
	}
	return total
}

// procCPU is the user+system CPU time of process pid so far.
func procCPU(pid int) time.Duration { return procstat.CPU(strconv.Itoa(pid)) }

// PrintBench writes the results as a table, with the fleet's throughput as
// a ratio of the single process's.
func PrintBench(w io.Writer, rs []BenchResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "setup\tcheckouts/s\twrites/s\tratio\tCPU per process (s)\tHonten CPU-ms/checkout\tcommits/checkout\trow writes/checkout\tWAL KiB/checkout\tPostgreSQL CPU-ms/checkout")
	for _, r := range rs {
		var parts []string
		var total time.Duration
		for _, c := range r.CPU {
			parts = append(parts, fmt.Sprintf("%s %.1f", c.Name, c.CPU.Seconds()))
			total += c.CPU
		}
		ratio := "1.00"
		if len(rs) > 0 && rs[0].PerSecond() > 0 {
			ratio = fmt.Sprintf("%.2f", r.PerSecond()/rs[0].PerSecond())
		}
		per := func(v float64) string {
			if r.Checkouts == 0 {
				return "-"
			}
			return fmt.Sprintf("%.1f", v/float64(r.Checkouts))
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.PerSecond(), float64(r.Writes)/r.Duration.Seconds(), ratio,
			strings.Join(parts, ", "), per(float64(total.Milliseconds())), per(float64(r.Marginal().Commits)), per(float64(r.Marginal().RowWrites)),
			per(float64(r.Marginal().WALBytes)/1024), per(float64(r.Marginal().CPU.Milliseconds())))
	}
	tw.Flush()
	fmt.Fprintln(w, "\nDatabase columns are marginal: the phase less its idle rate. Idle, per second:")
	for _, r := range rs {
		sec := r.IdleFor.Seconds()
		fmt.Fprintf(w, "  %s: %.0f commits/s, %.0f row writes/s, %.0f KiB WAL/s, PostgreSQL CPU %.0f ms/s\n", r.Name,
			float64(r.Idle.Commits)/sec, float64(r.Idle.RowWrites)/sec, float64(r.Idle.WALBytes)/1024/sec, float64(r.Idle.CPU.Milliseconds())/sec)
	}
	fmt.Fprintln(w, "Row writes per checkout by table (first setup):")
	if len(rs) > 0 && rs[0].Checkouts > 0 {
		for i, t := range rs[0].Tables {
			if i == 12 {
				break
			}
			fmt.Fprintf(w, "  %-32s %.1f\n", t.Table, float64(t.Rows)/float64(rs[0].Checkouts))
		}
	}
}
