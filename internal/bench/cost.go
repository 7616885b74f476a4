package bench

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// dbCounters are the database's cumulative counters a run is judged by:
// committed transactions of the benchmark's database, transaction ids
// assigned (one per transaction that wrote, committed or not, on the whole
// server), row writes per table (inserts, updates and deletes; a read
// model's generations count under the table's name) and the WAL position of
// the server.
type dbCounters struct {
	commits int64
	xids    int64
	writes  map[string]int64
	wal     int64
	lsn     string // the WAL position, for pg_waldump
	fpi     int64  // full-page images written (pg_stat_wal, the whole server)
}

// statsSettle is how long to wait before reading the statistics: a backend
// reports its counters at most once a second while busy and within ten
// seconds of going idle.
const statsSettle = 11 * time.Second

// sampleDB reads the counters after letting every backend report (settle
// > 0 waits that long first).
func sampleDB(ctx context.Context, pool *pgxpool.Pool, settle time.Duration) (dbCounters, error) {
	select {
	case <-ctx.Done():
		return dbCounters{}, ctx.Err()
	case <-time.After(settle):
	}
	c := dbCounters{writes: map[string]int64{}}
	if _, err := pool.Exec(ctx, `SELECT pg_stat_clear_snapshot()`); err != nil {
		return c, err
	}
	err := pool.QueryRow(ctx, `SELECT xact_commit, (pg_current_wal_lsn() - '0/0')::bigint, pg_current_wal_lsn()::text,
	pg_snapshot_xmax(pg_current_snapshot())::text::bigint, (SELECT wal_fpi FROM pg_stat_wal)
FROM pg_stat_database WHERE datname = current_database()`).Scan(&c.commits, &c.wal, &c.lsn, &c.xids, &c.fpi)
	if err != nil {
		return c, fmt.Errorf("sample pg_stat_database: %w", err)
	}
	rows, err := pool.Query(ctx, `SELECT relname, sum(n_tup_ins + n_tup_upd + n_tup_del)::bigint FROM pg_stat_user_tables GROUP BY relname`)
	if err != nil {
		return c, fmt.Errorf("sample pg_stat_user_tables: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			return c, err
		}
		c.writes[name] = n
	}
	return c, rows.Err()
}

// perOrder is what the run between two samples cost per order.
type perOrder struct {
	commits, writeTxs, writes, walBytes, fpi float64
	top                                      string // every table written, per order, most first
}

func (c dbCounters) since(c0 dbCounters, orders int64) perOrder {
	if orders <= 0 {
		return perOrder{}
	}
	n := float64(orders)
	type tw struct {
		name string
		n    int64
	}
	var all []tw
	var total int64
	for name, v := range c.writes {
		if d := v - c0.writes[name]; d > 0 {
			all = append(all, tw{name, d})
			total += d
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].n > all[j].n || all[i].n == all[j].n && all[i].name < all[j].name })
	// Every table written, most first (those under 0.05 rows per order
	// together as "other"): the sum is the row writes per order.
	var parts []string
	var rest int64
	for _, t := range all {
		if float64(t.n)/n < 0.05 {
			rest += t.n
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %.1f", t.name, float64(t.n)/n))
	}
	if rest > 0 {
		parts = append(parts, fmt.Sprintf("other %.2f", float64(rest)/n))
	}
	return perOrder{
		commits:  float64(c.commits-c0.commits) / n,
		writeTxs: float64(c.xids-c0.xids) / n,
		writes:   float64(total) / n,
		walBytes: float64(c.wal-c0.wal) / n,
		fpi:      float64(c.fpi-c0.fpi) / n,
		top:      strings.Join(parts, ", "),
	}
}

// pgTool finds one of PostgreSQL's client programs: on the PATH, else the
// newest under /usr/lib/postgresql (Debian keeps them there).
func pgTool(name string) (string, error) {
	if bin, err := exec.LookPath(name); err == nil {
		return bin, nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	if len(matches) == 0 {
		return "", fmt.Errorf("%s not found (it ships with the postgresql package)", name)
	}
	return matches[len(matches)-1], nil
}

// waldumpLine is one resource manager's line of pg_waldump --stats: its
// name, then records, record bytes, full-page-image bytes and both, each
// number followed by its share in parentheses.
var waldumpLine = regexp.MustCompile(`^(\w+)\s+(\d+)\s+\(\s*[\d.]+\)\s+(\d+)\s+\(\s*[\d.]+\)\s+(\d+)\s+\(\s*[\d.]+\)\s+(\d+)\s+\(`)

// walByKind says what the WAL between two positions was made of, per
// order: each resource manager's bytes (heap rows, B-tree entries, heap2's
// pruning, freezing and visibility-map records, transaction commits, XLOG's
// standalone page images) with the part that was full-page images. It reads
// the server's WAL files with pg_waldump, so it needs the data directory on
// this machine and readable; otherwise it says why not.
func walByKind(ctx context.Context, pool *pgxpool.Pool, from, to string, orders int64) string {
	if orders <= 0 || from == "" || to == "" {
		return ""
	}
	bin, err := pgTool("pg_waldump")
	if err != nil {
		return err.Error()
	}
	var dir string
	if err := pool.QueryRow(ctx, `SELECT current_setting('data_directory')`).Scan(&dir); err != nil {
		return "data directory unknown: " + err.Error()
	}
	out, err := exec.CommandContext(ctx, bin, "--stats", "-p", filepath.Join(dir, "pg_wal"), "-s", from, "-e", to).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("pg_waldump: %v: %s", err, strings.TrimSpace(string(out)))
	}
	type kind struct {
		name       string
		fpi, total int64
	}
	var kinds []kind
	for _, line := range strings.Split(string(out), "\n") {
		m := waldumpLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		fpi, _ := strconv.ParseInt(m[4], 10, 64)
		total, _ := strconv.ParseInt(m[5], 10, 64)
		if total > 0 {
			kinds = append(kinds, kind{m[1], fpi, total})
		}
	}
	sort.Slice(kinds, func(i, j int) bool { return kinds[i].total > kinds[j].total })
	n := float64(orders) * 1024
	var parts []string
	for _, k := range kinds {
		if float64(k.total)/n < 0.05 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %.1f KB (page images %.1f)", k.name, float64(k.total)/n, float64(k.fpi)/n))
	}
	return strings.Join(parts, ", ")
}
