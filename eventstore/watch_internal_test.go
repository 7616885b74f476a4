package eventstore

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/internal/pgtest"
)

// A watcher's look reads the feed index from its bounds however the log
// grew since its connection planned it: with the plan made on a young log
// (a few pages, never analyzed), it read every page of the log on each
// look (the held check by a sequential scan).
func TestAWatchersLookReadsAFewPagesOfAGrownLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	const insert = `INSERT INTO events (tenant_id, stream_type, stream_id, stream_version, event_id, event_type, payload, correlation_id)
SELECT gen_random_uuid(), 'counter', gen_random_uuid(), 1, gen_random_uuid(), 'test.noted.v1', '{"note": "a note of some length"}', gen_random_uuid()
FROM generate_series(1, $1)`
	_, err := pool.Exec(ctx, insert, 50)
	require.NoError(t, err)
	var head Position
	head, err = StartWatch(ctx, pool)
	require.NoError(t, err)
	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	execute := fmt.Sprintf(`EXECUTE look('%s', %d, 5000)`, head.TxText(), head.Pos)
	for _, q := range []string{`SET plan_cache_mode = force_generic_plan`,
		`PREPARE look(text, bigint, int) AS ` + watchQuery, execute} {
		_, err = conn.Exec(ctx, q)
		require.NoError(t, err)
	}
	// The log grows; the connection keeps its plan. The watcher looks from
	// the log's head.
	_, err = pool.Exec(ctx, insert, 30000)
	require.NoError(t, err)
	head, err = StartWatch(ctx, pool)
	require.NoError(t, err)
	execute = fmt.Sprintf(`EXECUTE look('%s', %d, 5000)`, head.TxText(), head.Pos)
	n, plan := pgtest.PagesRead(t, conn, execute)
	require.Less(t, n, 40, "pages read:\n%s", plan)
}
