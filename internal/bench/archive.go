package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/honten/honten/eventstore/archive"
	"github.com/honten/honten/internal/progress"
)

// ArchiveOptions tune Archive.
type ArchiveOptions struct {
	// Events is the size of the log to round-trip.
	Events int
	// PerFile is the export's rotation (events per file).
	PerFile int
	// Server is a URL on the database server, for the target databases.
	Server string
}

// generateQuery appends events shaped like a shop's (an order-sized
// payload, metadata, actor, correlation) in one statement per call:
// n events from number first on, 20 per stream, 50 tenants.
const generateQuery = `
INSERT INTO events (tenant_id, stream_type, stream_id, stream_version, event_id, event_type, schema_version, payload, metadata, actor_id, correlation_id, causation_id, recorded_at)
SELECT t.tenant, 'order', s.stream, (g % 20) + 1, gen_random_uuid(), 'bench.order_step.v1', 1,
       jsonb_build_object('order_id', s.stream, 'number', 'HT-' || lpad(g::text, 8, '0'), 'status', 'pending_shipment',
           'lines', jsonb_build_array(jsonb_build_object('sku', 'SKU-' || (g % 997), 'quantity', 1 + g % 3, 'unit_price', jsonb_build_object('amount', (500 + g % 5000)::text, 'currency', 'JPY'), 'tax_rate', '10', 'title', '静岡県産 深蒸し煎茶 100g')),
           'totals', jsonb_build_object('subtotal', jsonb_build_object('amount', (500 + g % 5000)::text, 'currency', 'JPY'), 'total', jsonb_build_object('amount', (1300 + g % 5000)::text, 'currency', 'JPY')),
           'at', now()),
       jsonb_build_object('request_id', md5(g::text), 'command', 'bench'), 'staff:' || (g % 7), gen_random_uuid(), NULL, now()
FROM generate_series($1::bigint, $2::bigint) AS g
CROSS JOIN LATERAL (SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(g % 50), 12, '0'))::uuid AS tenant) t
CROSS JOIN LATERAL (SELECT ('00000001-0000-7000-8000-' || lpad(to_hex(g / 20), 12, '0'))::uuid AS stream) s`

// digestQuery fingerprints a log: every kept column, in global order.
const digestQuery = `SELECT count(*), md5(string_agg(concat_ws('|', global_position, event_id, tenant_id, stream_id, stream_version, event_type,
    schema_version, payload::text, metadata::text, actor_id, correlation_id, recorded_at), ',' ORDER BY tx_id, global_position)) FROM events`

// Archive measures honten export events and honten import events on a log
// of o.Events events, beside a bare COPY of the events table out and in
// (the same rows, no JSON, no checksums, no order guard) measured in the
// same run, and checks the target's log equals the source's.
func Archive(ctx context.Context, env *Env, o ArchiveOptions) ([]Row, error) {
	if o.PerFile <= 0 {
		o.PerFile = 100_000
	}
	start := time.Now()
	const chunk = 50_000
	for first := 0; first < o.Events; first += chunk {
		last := min(first+chunk, o.Events) - 1
		if _, err := env.Pool.Exec(ctx, generateQuery, first, last); err != nil {
			return nil, fmt.Errorf("generate events: %w", err)
		}
	}
	if _, err := env.Pool.Exec(ctx, `VACUUM ANALYZE events`); err != nil {
		return nil, err
	}
	var rows []Row
	rows = append(rows, Row{Name: "generating the log (INSERT … SELECT)", Value: float64(o.Events) / time.Since(start).Seconds(), Unit: "events/s",
		Note: fmt.Sprintf("%d events", o.Events)})
	var srcCount int64
	var srcDigest string
	if err := env.Pool.QueryRow(ctx, digestQuery).Scan(&srcCount, &srcDigest); err != nil {
		return nil, err
	}
	var size int64
	if err := env.Pool.QueryRow(ctx, `SELECT pg_total_relation_size('events')`).Scan(&size); err != nil {
		return nil, err
	}

	tmp, err := os.MkdirTemp("", "honten-bench-archive-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	// Baseline out: COPY of the table, in global order, to a file.
	copyFile := filepath.Join(tmp, "events.copy")
	cols := "global_position, tenant_id, stream_type, stream_id, stream_version, event_id, event_type, schema_version, payload, metadata, actor_id, correlation_id, causation_id, recorded_at"
	start = time.Now()
	if err := copyOut(ctx, env, copyFile, `COPY (SELECT `+cols+` FROM events ORDER BY tx_id, global_position) TO STDOUT`); err != nil {
		return nil, err
	}
	copyOutRate := float64(o.Events) / time.Since(start).Seconds()
	rows = append(rows, Row{Name: "baseline: COPY events TO a file (global order)", Value: copyOutRate, Unit: "events/s",
		Note: fmt.Sprintf("table %d MB", size>>20)})

	dir := filepath.Join(tmp, "export")
	start = time.Now()
	res, err := archive.Export(ctx, env.Pool, archive.ExportOptions{Dir: dir, PerFile: o.PerFile, Progress: progress.New("export events", "events", env.Log)})
	if err != nil {
		return nil, err
	}
	exportRate := float64(res.Events) / time.Since(start).Seconds()
	var bytes int64
	for _, f := range res.Files {
		if st, err := os.Stat(filepath.Join(dir, f.Name)); err == nil {
			bytes += st.Size()
		}
	}
	rows = append(rows, Row{Name: "honten export events (JSON lines, SHA-256, rotated)", Value: exportRate, Unit: "events/s",
		Baseline: "COPY TO", Ratio: ratio(exportRate, copyOutRate), Note: fmt.Sprintf("%d files, %d MB", len(res.Files), bytes>>20)})

	// Baseline in: COPY FROM the file into an empty database.
	base, dropBase, err := NewEnv(ctx, o.Server, 4, env.Log, env.Out)
	if err != nil {
		return nil, err
	}
	defer dropBase()
	start = time.Now()
	if err := copyIn(ctx, base, copyFile, `COPY events (`+cols+`) FROM STDIN`); err != nil {
		return nil, err
	}
	copyInRate := float64(o.Events) / time.Since(start).Seconds()
	rows = append(rows, Row{Name: "baseline: COPY events FROM the file (empty database)", Value: copyInRate, Unit: "events/s"})

	target, dropTarget, err := NewEnv(ctx, o.Server, 4, env.Log, env.Out)
	if err != nil {
		return nil, err
	}
	defer dropTarget()
	start = time.Now()
	imp, err := archive.Import(ctx, target.Pool, archive.ImportOptions{Dir: dir, Progress: progress.New("import events", "events", env.Log)})
	if err != nil {
		return nil, err
	}
	importRate := float64(imp.Events) / time.Since(start).Seconds()
	rows = append(rows, Row{Name: "honten import events (checksums first, then COPY per run of positions)", Value: importRate, Unit: "events/s",
		Baseline: "COPY FROM", Ratio: ratio(importRate, copyInRate), Note: fmt.Sprintf("%d transactions", imp.Transactions)})

	var dstCount int64
	var dstDigest string
	if err := target.Pool.QueryRow(ctx, digestQuery).Scan(&dstCount, &dstDigest); err != nil {
		return nil, err
	}
	if dstCount != srcCount || dstDigest != srcDigest {
		return rows, fmt.Errorf("bench archive: the imported log differs: %d events (%s), source %d (%s)", dstCount, dstDigest, srcCount, srcDigest)
	}
	rows = append(rows, Row{Name: "imported log equal to the source (count and digest of every kept column in order)", Value: float64(dstCount), Unit: "events"})
	return rows, nil
}

func copyOut(ctx context.Context, env *Env, path, sql string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	conn, err := env.Pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Conn().PgConn().CopyTo(ctx, f, sql); err != nil {
		return fmt.Errorf("copy out: %w", err)
	}
	return f.Sync()
}

func copyIn(ctx context.Context, env *Env, path, sql string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	conn, err := env.Pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Conn().PgConn().CopyFrom(ctx, io.Reader(f), sql); err != nil {
		return fmt.Errorf("copy in: %w", err)
	}
	return nil
}
