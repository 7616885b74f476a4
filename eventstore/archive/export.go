package archive

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/progress"
)

// ExportOptions tune Export.
type ExportOptions struct {
	// Dir is the export directory (created if missing).
	Dir string
	// PerFile is the number of events per file (default 100,000).
	PerFile int
	// From, when set, exports the events after it. An empty directory
	// starts at the beginning of the log; a directory with a manifest
	// continues after its last file, and From, when set, must be that
	// file's last position.
	From *eventstore.Position
	// Batch is the number of events read per query (default 5,000).
	Batch int
	// Progress, when set, receives the number of events written.
	Progress progress.Reporter
	// Now stamps the manifest (default time.Now).
	Now func() time.Time
}

// ExportResult says what Export wrote.
type ExportResult struct {
	// Files are the files this run completed.
	Files []File
	// Events is the number of events this run wrote.
	Events int64
	// Last is the position of the last event exported (in the directory,
	// across runs).
	Last eventstore.Position
}

// exportQuery reads the log in global order after a position, below the
// oldest running transaction (like the feed), so no event can appear behind
// the cursor later.
const exportQuery = `
SELECT e.tx_id::text, e.global_position, e.event_id, e.tenant_id, e.stream_type, e.stream_id, e.stream_version,
       e.event_type, e.schema_version, e.payload, e.metadata, e.actor_id, e.correlation_id, e.causation_id, e.recorded_at
FROM events e
WHERE (e.tx_id, e.global_position) > ($1::xid8, $2)
  AND e.tx_id < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY e.tx_id, e.global_position
LIMIT $3`

// countQuery counts the events Export will write (for the progress bar).
const countQuery = `
SELECT count(*) FROM events e
WHERE (e.tx_id, e.global_position) > ($1::xid8, $2) AND e.tx_id < pg_snapshot_xmin(pg_current_snapshot())`

// Export writes the log's events after the starting position (see
// ExportOptions.From) to JSON-lines files in o.Dir, streamed a batch at a
// time: every PerFile events the file is closed, its SHA-256 written to a
// sidecar (NAME.sha256, in sha256sum's format) and the manifest updated. A
// last, shorter file holds the rest. An interrupted export leaves complete
// files only in the manifest; running it again continues after them.
// Beside the events it writes the personal keys (KeysName) and the command
// side's state (StateName, see StateTables) from one snapshot in which the
// log ends at the last exported event; it returns ErrLogMoving when writes
// never let it take one.
func Export(ctx context.Context, pool *pgxpool.Pool, o ExportOptions) (ExportResult, error) {
	if o.PerFile <= 0 {
		o.PerFile = 100_000
	}
	if o.Batch <= 0 {
		o.Batch = 5_000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return ExportResult{}, fmt.Errorf("export: %w", err)
	}
	man, err := ReadManifest(o.Dir)
	switch {
	case errors.Is(err, ErrNoManifest):
		man = Manifest{Format: Format, Files: []File{}}
	case err != nil:
		return ExportResult{}, err
	}
	var from eventstore.Position
	if n := len(man.Files); n > 0 {
		last, err := eventstore.ParseToken(man.Files[n-1].Last)
		if err != nil {
			return ExportResult{}, fmt.Errorf("export: manifest: %w", err)
		}
		if o.From != nil && *o.From != last {
			return ExportResult{}, fmt.Errorf("export: %s holds an export ending at %s; continue from there or use another directory", o.Dir, last.Token())
		}
		from = last
	} else if o.From != nil {
		from = *o.From
	}
	res := ExportResult{Last: from}
	if o.Progress != nil {
		var total int64
		if err := pool.QueryRow(ctx, countQuery, from.TxText(), from.Pos).Scan(&total); err != nil {
			return res, fmt.Errorf("export: count: %w", err)
		}
		o.Progress.Total(total)
		defer o.Progress.Done()
	}
	w := &fileWriter{dir: o.Dir, n: len(man.Files)}
	defer w.abort()
	// drain writes every event after from the feed shows now to q.
	drain := func(q eventstore.Querier) error {
		for {
			recs, err := readBatch(ctx, q, from, o.Batch)
			if err != nil {
				return err
			}
			for i := range recs {
				r := &recs[i]
				if w.f == nil {
					if err := w.open(); err != nil {
						return err
					}
				}
				pos := eventstore.Position{Tx: r.Tx, Pos: r.Position}
				if err := w.write(r, pos); err != nil {
					return err
				}
				res.Events++
				res.Last = pos
				if w.count == int64(o.PerFile) {
					f, err := w.close()
					if err != nil {
						return err
					}
					man.Files = append(man.Files, f)
					man.At = o.Now().UTC()
					if err := writeManifest(o.Dir, man); err != nil {
						return err
					}
					res.Files = append(res.Files, f)
				}
			}
			if o.Progress != nil {
				o.Progress.Add(int64(len(recs)))
			}
			if len(recs) > 0 {
				from = eventstore.Position{Tx: recs[len(recs)-1].Tx, Pos: recs[len(recs)-1].Position}
			}
			if len(recs) < o.Batch {
				return nil
			}
		}
	}
	// The personal keys and the command state are taken where the log
	// ends: in their snapshot, the events it shows are exported first.
	if err := drain(pool); err != nil {
		return res, err
	}
	giveUp, wait := time.Now().Add(stateRetryFor), stateRetryWait
	for try := 1; ; try++ {
		man.Keys, man.State, err = exportState(ctx, pool, o.Dir, drain, func() eventstore.Position { return res.Last })
		if err == nil {
			break
		}
		if !errors.Is(err, errMore) {
			return res, err
		}
		if time.Now().After(giveUp) {
			return res, fmt.Errorf("%w (%d tries in %s)", ErrLogMoving, try, stateRetryFor)
		}
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, stateRetryMaxWait)
	}
	if w.f != nil {
		f, err := w.close()
		if err != nil {
			return res, err
		}
		man.Files = append(man.Files, f)
		res.Files = append(res.Files, f)
	}
	man.At = o.Now().UTC()
	return res, writeManifest(o.Dir, man)
}

// readBatch reads up to limit records after from.
func readBatch(ctx context.Context, q eventstore.Querier, from eventstore.Position, limit int) ([]Record, error) {
	rows, err := q.Query(ctx, exportQuery, from.TxText(), from.Pos, limit)
	if err != nil {
		return nil, fmt.Errorf("export: read after %s: %w", from, err)
	}
	defer rows.Close()
	out := make([]Record, 0, limit)
	for rows.Next() {
		var r Record
		var tx string
		var payload, meta []byte
		var causation *[16]byte
		if err := rows.Scan(&tx, &r.Position, (*[16]byte)(&r.EventID), (*[16]byte)(&r.Tenant), &r.StreamType,
			(*[16]byte)(&r.StreamID), &r.Version, &r.Type, &r.SchemaVersion, &payload, &meta, &r.Actor,
			(*[16]byte)(&r.Correlation), &causation, &r.RecordedAt); err != nil {
			return nil, fmt.Errorf("export: read: %w", err)
		}
		if r.Tx, err = strconv.ParseUint(tx, 10, 64); err != nil {
			return nil, fmt.Errorf("export: tx id %q: %w", tx, err)
		}
		r.Payload, r.Metadata = payload, meta
		if causation != nil {
			c := uuid.UUID(*causation)
			r.Causation = &c
		}
		r.RecordedAt = r.RecordedAt.UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("export: read: %w", err)
	}
	return out, nil
}

// fileWriter writes one export file at a time: to NAME.partial, renamed
// when complete.
type fileWriter struct {
	dir   string
	n     int
	f     *os.File
	buf   *bufio.Writer
	h     hash.Hash
	enc   *json.Encoder
	count int64
	first eventstore.Position
	last  eventstore.Position
}

func (w *fileWriter) path() string { return filepath.Join(w.dir, fileName(w.n)) }

func (w *fileWriter) open() error {
	w.n++
	f, err := os.Create(w.path() + ".partial")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	w.f, w.h, w.count = f, sha256.New(), 0
	w.buf = bufio.NewWriterSize(io.MultiWriter(f, w.h), 1<<20)
	w.enc = json.NewEncoder(w.buf)
	w.enc.SetEscapeHTML(false)
	return nil
}

func (w *fileWriter) write(r *Record, pos eventstore.Position) error {
	if err := w.enc.Encode(r); err != nil {
		return fmt.Errorf("export: write %s: %w", r.EventID, err)
	}
	if w.count == 0 {
		w.first = pos
	}
	w.count++
	w.last = pos
	return nil
}

// close finishes the current file: flush, sync, rename, sidecar.
func (w *fileWriter) close() (File, error) {
	if err := w.buf.Flush(); err != nil {
		return File{}, fmt.Errorf("export: %w", err)
	}
	if err := w.f.Sync(); err != nil {
		return File{}, fmt.Errorf("export: %w", err)
	}
	if err := w.f.Close(); err != nil {
		return File{}, fmt.Errorf("export: %w", err)
	}
	w.f = nil
	if err := os.Rename(w.path()+".partial", w.path()); err != nil {
		return File{}, fmt.Errorf("export: %w", err)
	}
	sum := hex.EncodeToString(w.h.Sum(nil))
	name := fileName(w.n)
	if err := os.WriteFile(w.path()+".sha256", []byte(sum+"  "+name+"\n"), 0o644); err != nil {
		return File{}, fmt.Errorf("export: %w", err)
	}
	return File{Name: name, Events: w.count, First: w.first.Token(), Last: w.last.Token(), SHA256: sum}, nil
}

// abort drops an unfinished file.
func (w *fileWriter) abort() {
	if w.f != nil {
		_ = w.f.Close()
		_ = os.Remove(w.path() + ".partial")
		w.f = nil
	}
}
