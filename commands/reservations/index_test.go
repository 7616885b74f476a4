package reservations

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/internal/pgtest"
)

// The waiting room's look at the index is planned for the index as it is:
// a connection that looked often while the index held a few rows (and was
// analyzed so) does not scan the whole index once it has grown (a new
// shop's first minute, before autovacuum analyzes the table again).
func TestTheWaitingRoomsLookReadsTheIndexByKeyAfterItGrew(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	shop := tenant.ID{UUID: uuid.Must(uuid.NewV7())}
	add := func(n int) []uuid.UUID {
		t.Helper()
		var ids []uuid.UUID
		require.NoError(t, pool.QueryRow(ctx, `WITH n AS (
  INSERT INTO reservation_index (reservation_id, tenant_id, variant_id, cart_id, line_id, status, quantity, decided_at)
  SELECT gen_random_uuid(), $1, gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'reserved', 1, now()
  FROM generate_series(1, $2) RETURNING reservation_id)
SELECT array_agg(reservation_id) FROM n`, shop, n).Scan(&ids))
		return ids
	}
	keysOf := func(ids []uuid.UUID) []waitKey {
		keys := make([]waitKey, len(ids))
		for i, id := range ids {
			keys[i] = waitKey{tenant: shop, id: id}
		}
		return keys
	}

	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	few := add(10)
	_, err = pool.Exec(ctx, `ANALYZE reservation_index`) // as after a load
	require.NoError(t, err)
	for range 12 {
		got, err := tenantStatuses(ctx, conn, keysOf(few[:3]))
		require.NoError(t, err)
		require.Len(t, got, 3)
	}
	many := add(30000)

	tx, err := conn.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(ctx) //nolint:errcheck // read only
	// The backend's scans not flushed yet, which a transaction does not
	// flush: the count before the look and after it.
	seqScans := func() int64 {
		t.Helper()
		var n int64
		require.NoError(t, tx.QueryRow(ctx, `SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relid = 'reservation_index'::regclass`).Scan(&n))
		return n
	}
	before := seqScans()
	keys := keysOf(append([]uuid.UUID{few[0], uuid.Must(uuid.NewV7())}, many[100:103]...))
	got, err := tenantStatuses(ctx, tx, keys)
	require.NoError(t, err)
	require.Len(t, got, 4, "the unknown reservation is pending, not returned")
	for _, k := range keys[2:] {
		require.Equal(t, "reserved", got[k].Status)
	}
	require.Equal(t, int64(0), seqScans()-before, "the look scanned the whole index")
}
