package eventstore

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/internal/pgtest"
)

// A check that a kept stream has no newer event reads the stream's last
// entry in its unique index, whatever the statistics say. Written as EXISTS
// (an event after the version), alone or for several streams, the generic
// plan under row-level security took the filter on a tenant the statistics
// do not know yet (a shop opened since the last ANALYZE) for selective and
// read every event of the tenant: 40–50 ms a check on a million-event log.
func TestReadAheadProbesEachStreamWhateverTheStatistics(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	// Eight shops with history, counted by ANALYZE, and one opened since.
	const insert = `INSERT INTO events (tenant_id, stream_type, stream_id, stream_version, event_id, event_type, payload, correlation_id)
SELECT t.id, 'counter', gen_random_uuid(), v, gen_random_uuid(), 'test.noted.v1', '{}', gen_random_uuid()
FROM (SELECT %s AS id FROM generate_series(1, %d)) t, generate_series(1, 2000) s, generate_series(1, 4) v`
	_, err := pool.Exec(ctx, fmt.Sprintf(insert, "gen_random_uuid()", 8))
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `ANALYZE events`)
	require.NoError(t, err)
	shop := uuid.Must(uuid.NewV7())
	_, err = pool.Exec(ctx, fmt.Sprintf(insert, "'"+shop.String()+"'::uuid", 1))
	require.NoError(t, err)

	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(ctx) //nolint:errcheck
	for _, q := range []string{`SET LOCAL ROLE honten_app`, `SET LOCAL plan_cache_mode = force_generic_plan`} {
		_, err = tx.Exec(ctx, q)
		require.NoError(t, err)
	}
	_, err = tx.Exec(ctx, `SELECT set_config('app.tenant_id', $1, true)`, shop.String())
	require.NoError(t, err)
	for name, q := range map[string]string{
		"one":  `PREPARE last_one(uuid, uuid) AS ` + lastVersionQuery,
		"many": `PREPARE last_many(uuid[], uuid[]) AS ` + lastVersionsQuery,
	} {
		_, err = tx.Exec(ctx, q)
		require.NoError(t, err, name)
	}
	pages := func(explain string) int {
		t.Helper()
		var raw []byte
		require.NoError(t, tx.QueryRow(ctx, `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) `+explain).Scan(&raw))
		var plan []struct {
			Plan struct {
				SharedHit  int `json:"Shared Hit Blocks"`
				SharedRead int `json:"Shared Read Blocks"`
			} `json:"Plan"`
		}
		require.NoError(t, json.Unmarshal(raw, &plan))
		require.Len(t, plan, 1)
		n := plan[0].Plan.SharedHit + plan[0].Plan.SharedRead
		require.Less(t, n, 40, "pages read:\n%s", raw)
		return n
	}
	pages(fmt.Sprintf(`EXECUTE last_one('%s', '%s')`, shop, uuid.New()))
	pages(fmt.Sprintf(`EXECUTE last_many('{%s,%s}', '{%s,%s}')`, shop, shop, uuid.New(), uuid.New()))
}
