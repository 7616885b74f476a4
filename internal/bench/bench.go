// Package bench holds Honten's benchmarks (honten bench <name>). Each runs
// against a fresh database on the configured server, keeps PostgreSQL's
// durability settings as they are, and prints every figure beside a raw
// ceiling measured in the same run on the same database, so results read as
// ratios on a noisy machine.
package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/honten/honten/internal/database"
	"github.com/honten/honten/migrations"
)

// Env is what a benchmark gets: a pool on a fresh migrated database.
type Env struct {
	Pool *pgxpool.Pool
	URL  string
	Log  *slog.Logger
	Out  io.Writer
}

// NewEnv creates a fresh database on the server of serverURL (any database
// URL on it), migrates it and returns it with a cleanup that drops it.
func NewEnv(ctx context.Context, serverURL string, maxConns int32, log *slog.Logger, out io.Writer) (*Env, func(), error) {
	admin, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return nil, nil, err
	}
	defer admin.Close(ctx)
	name := fmt.Sprintf("honten_bench_%d", time.Now().UnixNano())
	url, err := database.WithDatabase(serverURL, name)
	if err != nil {
		return nil, nil, err
	}
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+name+` TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'`); err != nil {
		return nil, nil, fmt.Errorf("create bench database: %w", err)
	}
	drop := func() {
		c, err := pgx.Connect(context.Background(), serverURL)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
	}
	pool, err := database.Open(ctx, url, database.Options{MaxConns: maxConns, AppName: "honten-bench"})
	if err != nil {
		drop()
		return nil, nil, err
	}
	conn, err := pool.Acquire(ctx)
	if err == nil {
		_, err = migrations.Up(ctx, conn)
		conn.Release()
	}
	if err != nil {
		pool.Close()
		drop()
		return nil, nil, err
	}
	return &Env{Pool: pool, URL: url, Log: log, Out: out}, func() { pool.Close(); drop() }, nil
}

// Latencies collects durations and reports percentiles.
type Latencies struct{ d []time.Duration }

// Add records one duration.
func (l *Latencies) Add(d time.Duration) { l.d = append(l.d, d) }

// Merge adds another collection.
func (l *Latencies) Merge(o *Latencies) { l.d = append(l.d, o.d...) }

// Len is the number of samples.
func (l *Latencies) Len() int { return len(l.d) }

// P returns the q-quantile (0..1).
func (l *Latencies) P(q float64) time.Duration {
	if len(l.d) == 0 {
		return 0
	}
	sort.Slice(l.d, func(i, j int) bool { return l.d[i] < l.d[j] })
	i := int(math.Ceil(q*float64(len(l.d)))) - 1
	if i < 0 {
		i = 0
	}
	return l.d[i]
}

// Row is one line of a result table.
type Row struct {
	Name     string
	Value    float64
	Unit     string
	Baseline string  // what the ratio compares with
	Ratio    float64 // Value / baseline value; 0 when none
	Target   string
	Note     string
}

// Print writes rows as an aligned table.
func Print(w io.Writer, title string, rows []Row) {
	fmt.Fprintf(w, "\n%s\n%s\n", title, strings.Repeat("=", len(title)))
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "measure\tvalue\tvs baseline\tratio\ttarget\tnote")
	for _, r := range rows {
		ratio := "-"
		if r.Ratio > 0 {
			ratio = fmt.Sprintf("%.2f", r.Ratio)
		}
		fmt.Fprintf(tw, "%s\t%s %s\t%s\t%s\t%s\t%s\n", r.Name, human(r.Value), r.Unit, r.Baseline, ratio, r.Target, r.Note)
	}
	tw.Flush()
}

func human(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
