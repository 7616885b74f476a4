package database_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/internal/database"
	"github.com/honten/honten/internal/pgtest"
)

// A connection that planned a stream's probe while the log was nearly
// empty kept a plan that reads the whole of the shop's log once the log
// grew; Analyze after the load gives it a plan that reads the stream's
// own entries.
func TestAnalyzeReplansWhatAConnectionPlannedOnAnEmptyLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	shop := uuid.Must(uuid.NewV7())
	const insert = `INSERT INTO events (tenant_id, stream_type, stream_id, stream_version, event_id, event_type, payload, correlation_id)
SELECT $1::uuid, 'counter', gen_random_uuid(), v, gen_random_uuid(), 'test.noted.v1', '{"note": "a note of some length"}', gen_random_uuid()
FROM generate_series(1, $2::int) s, generate_series(1, 3) v`
	_, err := pool.Exec(ctx, insert, shop, 5)
	require.NoError(t, err)

	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	execute := fmt.Sprintf(`EXECUTE last('%s', '%s')`, shop, uuid.New())
	for _, q := range []string{`SET plan_cache_mode = force_generic_plan`,
		`PREPARE last(uuid, uuid) AS SELECT max(e.stream_version) FROM events e WHERE e.tenant_id = $1 AND e.stream_id = $2`,
		execute} {
		_, err = conn.Exec(ctx, q)
		require.NoError(t, err)
	}
	// The shop's log grows by a bulk load.
	_, err = pool.Exec(ctx, insert, shop, 10000)
	require.NoError(t, err)

	require.NoError(t, database.Analyze(ctx, pool))
	n, plan := pgtest.PagesRead(t, conn, execute)
	require.Less(t, n, 20, "pages read:\n%s", plan)
}
