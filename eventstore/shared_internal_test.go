package eventstore

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
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
		"one":    `PREPARE last_one(uuid, uuid) AS ` + lastVersionQuery,
		"many":   `PREPARE last_many(uuid[], uuid[]) AS ` + lastVersionsQuery,
		"listed": `PREPARE last_listed AS ` + lastVersionsListed[2],
	} {
		_, err = tx.Exec(ctx, q)
		require.NoError(t, err, name)
	}
	pages := func(explain string) {
		t.Helper()
		n, plan := pgtest.PagesRead(t, tx, explain)
		require.Less(t, n, 40, "pages read:\n%s", plan)
	}
	pages(fmt.Sprintf(`EXECUTE last_one('%s', '%s')`, shop, uuid.New()))
	pages(fmt.Sprintf(`EXECUTE last_many('{%s,%s}', '{%s,%s}')`, shop, shop, uuid.New(), uuid.New()))
	pages(fmt.Sprintf(`EXECUTE last_listed('%s', '%s', '%s', '%s')`, shop, uuid.New(), shop, uuid.New()))
}

// The check of a few streams lists each key as a parameter of its own, so
// that PostgreSQL keeps one generic plan for it instead of planning it on
// every execution (planning the array form cost 4× running it); past
// maxListedKeys the keys go as arrays. Each form reads the same versions.
func TestReadAheadStatementsKeepTheirPlanAndReadTheSameVersions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	shop := uuid.Must(uuid.NewV7())
	streams := make([]uuid.UUID, maxListedKeys+1)
	tenants := make([]uuid.UUID, len(streams))
	for i := range streams {
		streams[i], tenants[i] = uuid.New(), shop
	}
	// Stream i has i events; the last stream is another shop's.
	tenants[len(tenants)-1] = uuid.New()
	_, err := pool.Exec(ctx, `INSERT INTO events (tenant_id, stream_type, stream_id, stream_version, event_id, event_type, payload, correlation_id)
SELECT k.t, 'counter', k.s, v, gen_random_uuid(), 'test.noted.v1', '{}', gen_random_uuid()
FROM unnest($1::uuid[], $2::uuid[]) WITH ORDINALITY AS k(t, s, i), generate_series(1, k.i - 1) v`, tenants, streams)
	require.NoError(t, err)

	versions := func(q pgxQuerier, tenants, streams []uuid.UUID) map[int64]*int64 {
		t.Helper()
		sql, args := lastVersionsStatement(tenants, streams)
		rows, err := q.Query(ctx, sql, args...)
		require.NoError(t, err)
		out := map[int64]*int64{}
		var i int64
		var last *int64
		_, err = pgx.ForEachRow(rows, []any{&i, &last}, func() error { out[i] = last; return nil })
		require.NoError(t, err)
		return out
	}
	want := func(tenants []uuid.UUID, n int) map[int64]*int64 {
		out := map[int64]*int64{}
		for i := range n {
			v := int64(i)
			switch {
			case tenants[i] != shop:
				v = int64(len(streams) - 1)
			case i == 0:
				out[1] = nil
				continue
			}
			out[int64(i+1)] = &v
		}
		return out
	}
	for _, n := range []int{2, 3, maxListedKeys, maxListedKeys + 1} {
		require.Equal(t, want(tenants, n), versions(pool, tenants[:n], streams[:n]), "%d keys", n)
	}

	// On one connection, the listed form is planned generically after its
	// first executions; the array form, for three keys, on each execution.
	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	for range 12 {
		versions(conn, tenants[:3], streams[:3])
		rows, err := conn.Query(ctx, lastVersionsQuery, tenants[:3], streams[:3])
		require.NoError(t, err)
		rows.Close()
	}
	plans := map[string][2]int64{}
	rows, err := conn.Query(ctx, `SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements`)
	require.NoError(t, err)
	var stmt string
	var generic, custom int64
	_, err = pgx.ForEachRow(rows, []any{&stmt, &generic, &custom}, func() error {
		plans[stmt] = [2]int64{generic, custom}
		return nil
	})
	require.NoError(t, err)
	listed, array := plans[lastVersionsListed[3]], plans[lastVersionsQuery]
	require.GreaterOrEqual(t, listed[0], int64(6), "generic plans of the listed form")
	require.LessOrEqual(t, listed[1], int64(6), "custom plans of the listed form")
	require.GreaterOrEqual(t, array[1], int64(12), "custom plans of the array form (the reason for the listed one)")
}

// pgxQuerier is what the statements' test reads through: a pool or one
// connection.
type pgxQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}
