package archive

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/honten/honten/eventstore"
)

// KeysName is the file of the personal-data keys inside an export
// directory. Personal data in events is sealed under per-subject keys kept
// outside the log (personal_keys); without them an imported log would read
// as erased. The file holds every key as it stands when the export runs: a
// forgotten subject's key is exported destroyed, so forgetting survives a
// restore. Protect an export like the database it came from.
const KeysName = "personal-keys.jsonl"

// KeyRecord is one personal key: a line of the keys file.
type KeyRecord struct {
	ID        uuid.UUID  `json:"id"`
	Tenant    uuid.UUID  `json:"tenant_id"`
	Subject   *string    `json:"subject,omitempty"`
	Customer  *uuid.UUID `json:"customer_id,omitempty"`
	Key       []byte     `json:"key,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	ErasedAt  *time.Time `json:"erased_at,omitempty"`
}

// exportKeys writes every personal key to dir's keys file (replacing it
// atomically) and returns its manifest entry.
func exportKeys(ctx context.Context, q eventstore.Querier, dir string) (*File, error) {
	rows, err := q.Query(ctx, `SELECT id, tenant_id, subject, customer_id, key, created_at, erased_at FROM personal_keys ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("export keys: %w", err)
	}
	defer rows.Close()
	tmp := filepath.Join(dir, KeysName+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return nil, fmt.Errorf("export keys: %w", err)
	}
	defer os.Remove(tmp) //nolint:errcheck // gone after the rename
	h := sha256.New()
	bw := bufio.NewWriter(io.MultiWriter(f, h))
	enc := json.NewEncoder(bw)
	var n int64
	for rows.Next() {
		var k KeyRecord
		if err := rows.Scan(&k.ID, &k.Tenant, &k.Subject, &k.Customer, &k.Key, &k.CreatedAt, &k.ErasedAt); err != nil {
			f.Close()
			return nil, fmt.Errorf("export keys: %w", err)
		}
		if err := enc.Encode(&k); err != nil {
			f.Close()
			return nil, fmt.Errorf("export keys: %w", err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		f.Close()
		return nil, fmt.Errorf("export keys: %w", err)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return nil, fmt.Errorf("export keys: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("export keys: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("export keys: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, KeysName)); err != nil {
		return nil, fmt.Errorf("export keys: %w", err)
	}
	return &File{Name: KeysName, Events: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// importKeys writes the keys file's keys into the target. A key the target
// holds already keeps its id; a key destroyed in the export is destroyed
// in the target too (forgetting wins).
func importKeys(ctx context.Context, pool *pgxpool.Pool, dir string, f File) error {
	var keys [][]any
	err := eachLine(filepath.Join(dir, f.Name), func(line []byte) error {
		var k KeyRecord
		if err := json.Unmarshal(line, &k); err != nil {
			return err
		}
		keys = append(keys, []any{k.ID, k.Tenant, k.Subject, k.Customer, k.Key, k.CreatedAt, k.ErasedAt})
		return nil
	})
	if err != nil {
		return fmt.Errorf("import keys: %w", err)
	}
	const q = `INSERT INTO personal_keys (id, tenant_id, subject, customer_id, key, created_at, erased_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (id) DO UPDATE SET key = NULL, erased_at = excluded.erased_at
WHERE excluded.erased_at IS NOT NULL AND personal_keys.erased_at IS NULL`
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, k := range keys {
			b.Queue(q, k...)
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("import keys: %w", err)
		}
		return nil
	})
}

// eachLine calls fn with each line of the file at path.
func eachLine(path string, fn func([]byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		if err := fn(sc.Bytes()); err != nil {
			return err
		}
	}
	return sc.Err()
}
