package bench

import (
	"context"
	"fmt"
	"sort"
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
	err := pool.QueryRow(ctx, `SELECT xact_commit, (pg_current_wal_lsn() - '0/0')::bigint,
	pg_snapshot_xmax(pg_current_snapshot())::text::bigint
FROM pg_stat_database WHERE datname = current_database()`).Scan(&c.commits, &c.wal, &c.xids)
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
	commits, writeTxs, writes, walBytes float64
	top                                 string // every table written, per order, most first
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
		top:      strings.Join(parts, ", "),
	}
}
