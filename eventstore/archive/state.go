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
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/honten/honten/eventstore"
)

// StateName is the file of the command side's state inside an export
// directory.
const StateName = "command-state.jsonl"

// StateTables are the command side's tables an export carries beside the
// log, in the order an import writes them. They are not read models (no
// projector rebuilds them) yet the commands need them to go on after a
// restore:
//
//   - staff_accounts and customer_accounts hold the password hashes, which
//     no event carries (the staff and customer streams hold the history
//     only); webhook_endpoints holds the signing secrets and each
//     endpoint's cursor over the feed; download_keys the keys that sign
//     download links. These cannot come from the log.
//   - unique_claims (SKUs, handles, shop codes, staff e-mails),
//     order_counters (the last order number per shop), the promotion
//     indexes (codes, uses per promotion and per buyer, what each order
//     redeemed), cart_coupons, delivery_index and reservation_index follow
//     from events, and are written in the same transactions as those
//     events (order_counters just before): copied from the same snapshot
//     as the log's end they are exactly what the commands had.
//
// Not carried, and why: sessions and one-time customer tokens (everyone
// signs in again after a restore), sign-in throttles, idempotency keys
// (responses to retries within 24 h), aggregate snapshots (a cache), the
// e-mail outbox and webhook deliveries (the reactions of the imported log
// are marked handled; messages still queued at the export are not sent
// again), import jobs, and the workers' and projectors' own positions
// (rebuilt from the log).
var StateTables = []string{
	"unique_claims", "staff_accounts", "customer_accounts", "order_counters",
	"promotion_index", "promotion_codes", "promotion_usage", "promotion_buyer_usage", "promotion_redemptions",
	"cart_coupons", "delivery_index", "download_keys", "reservation_index", "webhook_endpoints",
}

// stateLine is one line of the state file: a row of a table, as PostgreSQL
// writes it to JSON (row_to_json) and reads it back (json_populate_record).
type stateLine struct {
	Table string          `json:"table"`
	Row   json.RawMessage `json:"row"`
}

// ErrLogMoving means Export found no moment at which the log's end was
// settled (every transaction that wrote events before a committed one had
// finished) to take the command side's state at; run it again when writes
// are quieter.
var ErrLogMoving = errors.New("archive: the log kept growing while the command state was read")

// exportState writes the personal keys and the command side's state as of
// the end of the exported log, from one repeatable-read snapshot: in it,
// drain first exports the events the feed shows (those of transactions
// finished before the snapshot), and the state is taken only when the
// snapshot holds no other event after them (a transaction that committed
// while an older one was still running): the state then belongs to exactly
// the events in the directory. Otherwise it returns errMore, and the
// caller tries again with a new snapshot.
func exportState(ctx context.Context, pool *pgxpool.Pool, dir string, drain func(eventstore.Querier) error,
	last func() eventstore.Position) (keys, state *File, err error) {
	err = pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := drain(tx); err != nil {
			return err
		}
		end := last()
		var more bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM events WHERE (tx_id, global_position) > ($1::xid8, $2))`,
			end.TxText(), end.Pos).Scan(&more); err != nil {
			return fmt.Errorf("export state: %w", err)
		}
		if more {
			return errMore
		}
		var err error
		if keys, err = exportKeys(ctx, tx, dir); err != nil {
			return err
		}
		state, err = writeState(ctx, tx, dir)
		return err
	})
	return keys, state, err
}

var errMore = errors.New("more events")

// writeState writes every row of StateTables to dir's state file
// (replacing it atomically) and returns its manifest entry.
func writeState(ctx context.Context, q eventstore.Querier, dir string) (*File, error) {
	tmp := filepath.Join(dir, StateName+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return nil, fmt.Errorf("export state: %w", err)
	}
	defer os.Remove(tmp) //nolint:errcheck // gone after the rename
	defer f.Close()
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	var n int64
	for _, table := range StateTables {
		rows, err := q.Query(ctx, fmt.Sprintf(`SELECT row_to_json(t)::text FROM %s t`, pgx.Identifier{table}.Sanitize()))
		if err != nil {
			return nil, fmt.Errorf("export state %s: %w", table, err)
		}
		for rows.Next() {
			var row string
			if err := rows.Scan(&row); err != nil {
				rows.Close()
				return nil, fmt.Errorf("export state %s: %w", table, err)
			}
			if err := enc.Encode(stateLine{Table: table, Row: json.RawMessage(row)}); err != nil {
				rows.Close()
				return nil, fmt.Errorf("export state %s: %w", table, err)
			}
			n++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("export state %s: %w", table, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("export state: %w", err)
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("export state: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("export state: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, StateName)); err != nil {
		return nil, fmt.Errorf("export state: %w", err)
	}
	return &File{Name: StateName, Events: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// importState writes the state file's rows into the target, after every
// event of the export is there, in one transaction: a row the target
// holds already (a complete import run again) stays as it is. Webhook
// endpoints' cursors name the source's transaction ids; they are moved to
// the target's transaction of the same event (positions are kept).
func importState(ctx context.Context, pool *pgxpool.Pool, dir string, f File) error {
	byTable := map[string][]json.RawMessage{}
	err := eachLine(filepath.Join(dir, f.Name), func(line []byte) error {
		var l stateLine
		if err := json.Unmarshal(line, &l); err != nil {
			return err
		}
		if !slices.Contains(StateTables, l.Table) {
			return fmt.Errorf("unknown table %q", l.Table)
		}
		byTable[l.Table] = append(byTable[l.Table], slices.Clone(l.Row))
		return nil
	})
	if err != nil {
		return fmt.Errorf("import state: %w", err)
	}
	const chunk = 2000
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		for _, table := range StateTables {
			rows := byTable[table]
			id := pgx.Identifier{table}.Sanitize()
			q := fmt.Sprintf(`INSERT INTO %s SELECT * FROM json_populate_recordset(NULL::%s, $1::json) ON CONFLICT DO NOTHING`, id, id)
			for len(rows) > 0 {
				n := min(chunk, len(rows))
				batch, err := json.Marshal(rows[:n])
				if err != nil {
					return fmt.Errorf("import state %s: %w", table, err)
				}
				if _, err := tx.Exec(ctx, q, batch); err != nil {
					return fmt.Errorf("import state %s: %w", table, err)
				}
				rows = rows[n:]
			}
		}
		const cursors = `UPDATE webhook_endpoints w SET cursor_tx = e.tx_id FROM events e
WHERE e.global_position = w.cursor_pos AND w.cursor_tx <> e.tx_id`
		if _, err := tx.Exec(ctx, cursors); err != nil {
			return fmt.Errorf("import state: webhook cursors: %w", err)
		}
		return nil
	})
}

// stateRetryFor bounds how long Export keeps reading the events committed
// while it took the command state before it gives up with ErrLogMoving. A
// settled moment needs every transaction that began before a commit to
// have ended, anywhere on the server: a long one (a report, a bulk import)
// holds it back for as long as it runs.
const stateRetryFor = 30 * time.Second

// stateRetryWait is the first pause between two tries; it doubles up to
// stateRetryMaxWait.
const (
	stateRetryWait    = 20 * time.Millisecond
	stateRetryMaxWait = 500 * time.Millisecond
)
