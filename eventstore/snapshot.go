package eventstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/tenant"
)

// SnapshotEvery is how many events a stream grows between snapshots.
const SnapshotEvery = 200

// LoadSnapshot returns the latest snapshot of a stream: its version and
// state, or ok false when there is none.
func (tx *Tx) LoadSnapshot(ctx context.Context, t tenant.ID, stream uuid.UUID) (version int64, state []byte, ok bool, err error) {
	err = tx.QueryRow(ctx, `SELECT version, state FROM snapshots WHERE tenant_id = $1 AND stream_id = $2`, t, stream).Scan(&version, &state)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil, false, nil
	}
	if err != nil {
		return 0, nil, false, fmt.Errorf("load snapshot of %s: %w", stream, err)
	}
	return version, state, true, nil
}

// SaveSnapshot stores state as the stream's snapshot at version, unless a
// newer one exists. Call it after the command's Append.
func (tx *Tx) SaveSnapshot(ctx context.Context, t tenant.ID, streamType string, stream uuid.UUID, version int64, state []byte) error {
	if _, err := tx.Exec(ctx, saveSnapshotQuery, t, stream, streamType, version, state); err != nil {
		return fmt.Errorf("save snapshot of %s: %w", stream, err)
	}
	return nil
}

const saveSnapshotQuery = `INSERT INTO snapshots (tenant_id, stream_id, stream_type, version, state) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (tenant_id, stream_id) DO UPDATE SET version = excluded.version, state = excluded.state, taken_at = now()
WHERE snapshots.version < excluded.version`

// QueueSnapshot queues SaveSnapshot in b, for the statements sent with a
// command's appends (Tx.SaveAll, Tx.SaveAtCommit).
func QueueSnapshot(b *pgx.Batch, t tenant.ID, streamType string, stream uuid.UUID, version int64, state []byte) {
	b.Queue(saveSnapshotQuery, t, stream, streamType, version, state)
}
