package archive

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/honten/honten/internal/progress"
)

// ImportOptions tune Import.
type ImportOptions struct {
	// Dir is the export directory to read.
	Dir string
	// Batch is the most events written per transaction (default 10,000).
	Batch int
	// Progress, when set, receives the number of events written.
	Progress progress.Reporter
	// StopAfter, when positive, stops after that many events of this run
	// (an interrupted import, for tests of resuming).
	StopAfter int64
}

// ImportResult says what Import did.
type ImportResult struct {
	// Skipped is the number of events the target already held (a resumed import).
	Skipped int64
	// Events is the number of events this run wrote.
	Events int64
	// Transactions is the number of transactions it committed.
	Transactions int
	// State is the number of command-state rows in the export, written
	// once the whole log was in (0 when the import stopped before).
	State int64
}

var copyColumns = []string{"global_position", "tenant_id", "stream_type", "stream_id", "stream_version", "event_id",
	"event_type", "schema_version", "payload", "metadata", "actor_id", "correlation_id", "causation_id", "recorded_at"}

// Import writes the events of the export in o.Dir into the database of
// pool, which must hold no events, or exactly the first events of this
// export (an interrupted import: it continues after them). Before writing
// anything it checks every file against the manifest's SHA-256 and returns
// ErrChecksum naming the file that fails; a target holding other events is
// ErrNotEmpty. Events are written in the export's order with their ids,
// tenants, streams, versions, positions, payloads and metadata; one
// transaction per run of rising positions (at most Batch events), so the
// global order (transaction id, position) is the source's. Read models are
// not written: the projectors build them from the imported log. Once the
// whole log is in, the command side's state (StateTables: credentials,
// claims, counters, promotion indexes, ...) is written from the export's
// state file, so the restored system goes on where the source stopped.
func Import(ctx context.Context, pool *pgxpool.Pool, o ImportOptions) (ImportResult, error) {
	if o.Batch <= 0 {
		o.Batch = 10_000
	}
	man, err := ReadManifest(o.Dir)
	if err != nil {
		return ImportResult{}, err
	}
	for _, f := range man.Files {
		if err := Verify(o.Dir, f); err != nil {
			return ImportResult{}, err
		}
	}
	if man.Keys != nil {
		if man.Keys.Name != KeysName {
			return ImportResult{}, fmt.Errorf("archive: bad keys file name %q in manifest", man.Keys.Name)
		}
		if err := Verify(o.Dir, *man.Keys); err != nil {
			return ImportResult{}, err
		}
	}
	if man.State != nil {
		if man.State.Name != StateName {
			return ImportResult{}, fmt.Errorf("archive: bad command state file name %q in manifest", man.State.Name)
		}
		if err := Verify(o.Dir, *man.State); err != nil {
			return ImportResult{}, err
		}
	}
	skip, err := resumePoint(ctx, pool, o.Dir, man)
	if err != nil {
		return ImportResult{}, err
	}
	// The keys first: a projector that reads an imported event can unseal it.
	if man.Keys != nil {
		if err := importKeys(ctx, pool, o.Dir, *man.Keys); err != nil {
			return ImportResult{}, err
		}
	}
	res := ImportResult{Skipped: skip}
	if o.Progress != nil {
		o.Progress.Total(man.Events() - skip)
		defer o.Progress.Done()
	}
	var seg [][]any
	var lastPos int64
	flush := func() error {
		if len(seg) == 0 {
			return nil
		}
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			n, err := tx.CopyFrom(ctx, pgx.Identifier{"events"}, copyColumns, pgx.CopyFromRows(seg))
			if err == nil && n != int64(len(seg)) {
				err = fmt.Errorf("copied %d of %d events", n, len(seg))
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("import: write events: %w", err)
		}
		res.Events += int64(len(seg))
		res.Transactions++
		if o.Progress != nil {
			o.Progress.Add(int64(len(seg)))
		}
		seg = seg[:0]
		return nil
	}
	var seen int64
	for _, f := range man.Files {
		if seen+f.Events <= skip {
			seen += f.Events
			continue
		}
		err := eachRecord(o.Dir, f, func(r *Record) error {
			seen++
			if seen <= skip {
				return nil
			}
			if o.StopAfter > 0 && res.Events+int64(len(seg)) >= o.StopAfter {
				return errStop
			}
			if len(seg) >= o.Batch || len(seg) > 0 && r.Position <= lastPos {
				if err := flush(); err != nil {
					return err
				}
			}
			lastPos = r.Position
			seg = append(seg, row(r))
			return nil
		})
		if errors.Is(err, errStop) {
			break
		}
		if err != nil {
			return res, err
		}
	}
	if err := flush(); err != nil {
		return res, err
	}
	const setval = `SELECT setval(pg_get_serial_sequence('events', 'global_position'), (SELECT max(global_position) FROM events))`
	if res.Events > 0 {
		if _, err := pool.Exec(ctx, setval); err != nil {
			return res, fmt.Errorf("import: advance the position sequence: %w", err)
		}
	}
	// The command state once the whole log is in (it belongs to its end).
	if man.State != nil && res.Skipped+res.Events == man.Events() {
		if err := importState(ctx, pool, o.Dir, *man.State); err != nil {
			return res, err
		}
		res.State = man.State.Events
	}
	return res, nil
}

var errStop = errors.New("stop")

// row is a record's values in copyColumns order.
func row(r *Record) []any {
	var causation *uuid.UUID
	if r.Causation != nil {
		c := *r.Causation
		causation = &c
	}
	meta := r.Metadata
	if len(meta) == 0 {
		meta = json.RawMessage("{}")
	}
	return []any{r.Position, r.Tenant, r.StreamType, r.StreamID, r.Version, r.EventID, r.Type, int16(r.SchemaVersion),
		[]byte(r.Payload), []byte(meta), r.Actor, r.Correlation, causation, r.RecordedAt}
}

// resumePoint is the number of the export's events the target already
// holds: 0 for an empty target, n when its last event (in global order) is
// the export's n-th and it holds n events. Anything else is ErrNotEmpty.
func resumePoint(ctx context.Context, pool *pgxpool.Pool, dir string, man Manifest) (int64, error) {
	var n int64
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&n); err != nil {
		return 0, fmt.Errorf("import: count target events: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	var last uuid.UUID
	if err := pool.QueryRow(ctx, `SELECT event_id FROM events ORDER BY tx_id DESC, global_position DESC LIMIT 1`).Scan((*[16]byte)(&last)); err != nil {
		return 0, fmt.Errorf("import: last target event: %w", err)
	}
	notPrefix := fmt.Errorf("%w: it holds %d events that are not the start of this export (import into a freshly migrated database)", ErrNotEmpty, n)
	if n > man.Events() {
		return 0, notPrefix
	}
	var seen int64
	for _, f := range man.Files {
		if seen+f.Events < n {
			seen += f.Events
			continue
		}
		var match bool
		err := eachRecord(dir, f, func(r *Record) error {
			seen++
			if seen == n {
				match = r.EventID == last
				return errStop
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStop) {
			return 0, err
		}
		if !match {
			return 0, notPrefix
		}
		return n, nil
	}
	return 0, notPrefix
}

// Verify checks file f of dir against its SHA-256 (the manifest's, and the
// sidecar's when there is one). It returns ErrChecksum on a mismatch.
func Verify(dir string, f File) error {
	if strings.ContainsAny(f.Name, `/\`) || f.Name == "" || f.Name[0] == '.' {
		return fmt.Errorf("archive: bad file name %q in manifest", f.Name)
	}
	p := filepath.Join(dir, f.Name)
	fh, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("verify %s: %w", f.Name, err)
	}
	defer fh.Close()
	h := sha256.New()
	if _, err := io.Copy(h, fh); err != nil {
		return fmt.Errorf("verify %s: %w", f.Name, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if sum != f.SHA256 {
		return fmt.Errorf("%w: %s hashes to %s, the manifest says %s", ErrChecksum, f.Name, sum, f.SHA256)
	}
	if side, err := os.ReadFile(p + ".sha256"); err == nil {
		if fields := strings.Fields(string(side)); len(fields) == 0 || fields[0] != sum {
			return fmt.Errorf("%w: %s does not match its sidecar %s.sha256", ErrChecksum, f.Name, f.Name)
		}
	}
	return nil
}

// eachRecord calls fn with every record of file f, in order, and checks
// the file holds the manifest's number of events.
func eachRecord(dir string, f File, fn func(*Record) error) error {
	fh, err := os.Open(filepath.Join(dir, f.Name))
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	var n int64
	for sc.Scan() {
		n++
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return fmt.Errorf("import: %s line %d: %w", f.Name, n, err)
		}
		if r.EventID == uuid.Nil || r.Tenant == uuid.Nil || r.StreamID == uuid.Nil || r.Type == "" || r.Version < 1 || r.SchemaVersion < 1 {
			return fmt.Errorf("import: %s line %d: incomplete event", f.Name, n)
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("import: %s: %w", f.Name, err)
	}
	if n != f.Events {
		return fmt.Errorf("import: %s holds %d events, the manifest says %d", f.Name, n, f.Events)
	}
	return nil
}
