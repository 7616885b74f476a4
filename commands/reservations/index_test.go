package reservations

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/internal/database"
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

// Under row-level security every statement of the API role also asks for
// the shop's rows (tenant_id = app_tenant()). The planner estimates a
// shop's rows from the statistics of the last ANALYZE, where a new shop
// has a few rows or none; a minute later it has thousands. With an index
// leading with the tenant, the plan (generic or custom) took it for the
// tenant alone and filtered the ids after it, reading every row of the
// shop: the commit of a checkout's holds and the read of their statuses,
// about 9 ms each on the million-event log. No index leads with the
// tenant but the partial one on hot rows, which these lookups cannot take.
func TestTheIndexIsReadByIDUnderRowLevelSecurityAfterTheShopGrew(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.NewURL(t)
	owner, err := database.Open(ctx, url, database.Options{MaxConns: 2})
	require.NoError(t, err)
	t.Cleanup(owner.Close)
	shop := uuid.Must(uuid.NewV7())
	add := func(tenant string, n int) {
		t.Helper()
		_, err := owner.Exec(ctx, `INSERT INTO reservation_index (reservation_id, tenant_id, variant_id, cart_id, line_id, status, quantity, expires_at, decided_at)
SELECT gen_random_uuid(), `+tenant+`, gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'reserved', 1, now() + interval '1 hour', now()
FROM generate_series(1, $1)`, n)
		require.NoError(t, err)
	}
	// Analyzed while the table held other shops' rows and a few of this
	// one; then the shop takes 15,000 more.
	add("gen_random_uuid()", 50000)
	add("'"+shop.String()+"'", 10)
	_, err = owner.Exec(ctx, `ANALYZE reservation_index`)
	require.NoError(t, err)
	add("'"+shop.String()+"'", 15000)
	var two []string
	rows, err := owner.Query(ctx, `SELECT reservation_id::text FROM reservation_index WHERE tenant_id = $1 ORDER BY reservation_id LIMIT 2 OFFSET 7000`, shop)
	require.NoError(t, err)
	two, err = pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)

	app := pgtest.As(t, url, "honten_app")
	tx, err := app.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(ctx) //nolint:errcheck // only explained
	_, err = tx.Exec(ctx, `SELECT set_config('app.tenant_id', $1, true)`, shop.String())
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `PREPARE statuses(uuid[]) AS SELECT reservation_id, status, expires_at FROM reservation_index WHERE reservation_id = ANY($1)`)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `PREPARE commit_holds(uuid[], timestamptz) AS `+commitQuery)
	require.NoError(t, err)
	ids := fmt.Sprintf("'{%s}'", strings.Join(two, ","))
	for _, mode := range []string{"force_generic_plan", "force_custom_plan"} {
		_, err = tx.Exec(ctx, `SELECT set_config('plan_cache_mode', $1, true)`, mode)
		require.NoError(t, err)
		for _, statement := range []string{`EXECUTE statuses(` + ids + `)`, `EXECUTE commit_holds(` + ids + `, now())`} {
			pages, plan := pgtest.PagesRead(t, tx, statement)
			require.Less(t, pages, 40, "%s (%s) read the shop's rows:\n%s", statement, mode, plan)
		}
	}
}
