package database_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/database"
	"github.com/honten/honten/internal/pgtest"
	"github.com/honten/honten/migrations"
	"github.com/honten/honten/projections"
)

// seenDDL creates the test read model's tables, the way migrations define
// real models' functions: one row per event, with its tenant.
const seenDDL = `
CREATE FUNCTION rm_events_seen_v1_create(s text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('CREATE TABLE %I.events_seen (tenant_id uuid NOT NULL, position bigint NOT NULL, event_id uuid NOT NULL, PRIMARY KEY (tenant_id, position))', s);
END $$`

// seen is a read model of one row per event of any type, tenant-scoped
// like every real one.
type seen struct{}

func (seen) Name() string { return "events_seen.v1" }
func (seen) Schema() projections.Schema {
	return projections.Schema{Tables: []string{"events_seen"}, Create: "rm_events_seen_v1_create", NoPayloads: true}
}

func (seen) Apply(ctx context.Context, tx pgx.Tx, batch []eventstore.Envelope) error {
	b := &pgx.Batch{}
	for _, e := range batch {
		b.Queue(`INSERT INTO events_seen (tenant_id, position, event_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, e.Tenant.UUID, e.Position.Pos, e.EventID)
	}
	return tx.SendBatch(ctx, b).Close()
}

// shops is a database with rows of two tenants in the tables that hold
// tenant rows, and the events_seen read model built by the worker role.
type shops struct {
	url                string
	owner, app, worker *pgxpool.Pool
	a, b               uuid.UUID
	// rows is how many rows each tenant has in each table below.
	rows map[string]int
}

// tenantTables are the tables and views the tests read without a tenant filter.
var tenantTables = []string{"events", "idempotency_keys", "import_jobs", "reservation_index", "snapshots", "order_counters", "events_seen"}

func newShops(t *testing.T) *shops {
	t.Helper()
	ctx := context.Background()
	url := pgtest.NewURL(t)
	owner, err := database.Open(ctx, url, database.Options{MaxConns: 4})
	require.NoError(t, err)
	t.Cleanup(owner.Close)
	s := &shops{url: url, owner: owner, app: pgtest.As(t, url, "honten_app"), worker: pgtest.As(t, url, "honten_worker"),
		a: uuid.Must(uuid.NewV7()), b: uuid.Must(uuid.NewV7()), rows: map[string]int{}}
	for _, ten := range []uuid.UUID{s.a, s.b} {
		for v := 1; v <= 3; v++ {
			_, err := owner.Exec(ctx, `INSERT INTO events (tenant_id, stream_type, stream_id, stream_version, event_id, event_type, payload, correlation_id)
VALUES ($1, 'test', $1, $2, $3, 'test.happened.v1', '{}', $3)`, ten, v, uuid.Must(uuid.NewV7()))
			require.NoError(t, err)
		}
		_, err := owner.Exec(ctx, `INSERT INTO idempotency_keys (tenant_id, key, request_hash, status, body) VALUES ($1, 'k1', '\x00', 201, '\x00'), ($1, 'k2', '\x00', 201, '\x00')`, ten)
		require.NoError(t, err)
		_, err = owner.Exec(ctx, `INSERT INTO import_jobs (id, tenant_id, kind, status, file, created_by) VALUES ($1, $2, 'products', 'queued', '\x00', 'test')`, uuid.Must(uuid.NewV7()), ten)
		require.NoError(t, err)
		_, err = owner.Exec(ctx, `INSERT INTO reservation_index (reservation_id, tenant_id, variant_id, cart_id, line_id, status, quantity, decided_at)
VALUES ($1, $2, $1, $1, $1, 'reserved', 1, now())`, uuid.Must(uuid.NewV7()), ten)
		require.NoError(t, err)
		_, err = owner.Exec(ctx, `INSERT INTO snapshots (tenant_id, stream_id, stream_type, version, state) VALUES ($1, $1, 'test', 3, '\x00')`, ten)
		require.NoError(t, err)
		_, err = owner.Exec(ctx, `INSERT INTO order_counters (tenant_id, last) VALUES ($1, 7)`, ten)
		require.NoError(t, err)
	}
	s.rows = map[string]int{"events": 3, "idempotency_keys": 2, "import_jobs": 1, "reservation_index": 1, "snapshots": 1, "order_counters": 1, "events_seen": 3}

	// The read model, built as production builds it: by the worker role,
	// first an empty live generation, then a rebuild into a new one.
	_, err = owner.Exec(ctx, seenDDL)
	require.NoError(t, err)
	r, err := projections.NewRunner(s.worker, []projections.Projector{seen{}}, projections.Options{})
	require.NoError(t, err)
	require.NoError(t, r.Ensure(ctx))
	require.NoError(t, r.Rebuild(ctx, "events_seen", nil))
	follow(t, r, s.worker)
	return s
}

// follow runs r until the test ends and waits until it has applied the
// head of the feed (a rebuild stops at what the cluster's oldest running
// transaction lets it see).
func follow(t *testing.T, r *projections.Runner, pool *pgxpool.Pool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	head, err := eventstore.Head(ctx, pool)
	require.NoError(t, err)
	wctx, wcancel := context.WithTimeout(ctx, 2*time.Minute)
	defer wcancel()
	require.NoError(t, r.WaitFor(wctx, head))
}

// count reads table without any filter on q with ctx.
func count(t *testing.T, ctx context.Context, q *pgxpool.Pool, table string) (n int, tenants []uuid.UUID) {
	t.Helper()
	require.NoError(t, q.QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n))
	rows, err := q.Query(ctx, `SELECT DISTINCT tenant_id FROM `+table)
	require.NoError(t, err)
	tenants, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	require.NoError(t, err)
	return n, tenants
}

func TestRLSQueryWithoutTenantFilterSeesOnlyItsTenant(t *testing.T) {
	t.Parallel()
	s := newShops(t)
	// As the API role logged in directly (an API-only process), and as the
	// worker or owner stepping down to it for a request (SET ROLE).
	for name, pool := range map[string]*pgxpool.Pool{"app login": s.app, "worker login": s.worker, "owner login": s.owner} {
		for _, table := range tenantTables {
			for _, ten := range []uuid.UUID{s.a, s.b} {
				n, tenants := count(t, database.WithTenant(context.Background(), ten), pool, table)
				require.Equal(t, s.rows[table], n, "%s: %s as tenant %s", name, table, ten)
				require.Equal(t, []uuid.UUID{ten}, tenants, "%s: %s", name, table)
			}
			n, _ := count(t, database.WithTenant(context.Background(), uuid.Nil), pool, table)
			require.Zero(t, n, "%s: %s scoped to no tenant", name, table)
		}
	}
	// The API role with no tenant at all sees no tenant rows either.
	for _, table := range tenantTables {
		n, _ := count(t, context.Background(), s.app, table)
		require.Zero(t, n, table)
	}
	// Outside a request the worker and the owner read every tenant.
	for name, pool := range map[string]*pgxpool.Pool{"worker": s.worker, "owner": s.owner} {
		for _, table := range tenantTables {
			n, tenants := count(t, context.Background(), pool, table)
			require.Equal(t, 2*s.rows[table], n, "%s: %s", name, table)
			require.ElementsMatch(t, []uuid.UUID{s.a, s.b}, tenants, "%s: %s", name, table)
		}
	}
}

func TestRLSWritesStayInTheTenant(t *testing.T) {
	t.Parallel()
	s := newShops(t)
	ctx := database.WithTenant(context.Background(), s.a)
	// Its own tenant: fine.
	_, err := s.app.Exec(ctx, `INSERT INTO idempotency_keys (tenant_id, key, request_hash, status, body) VALUES ($1, 'k3', '\x00', 201, '\x00')`, s.a)
	require.NoError(t, err)
	// Another tenant's row: refused, by insert and by update.
	_, err = s.app.Exec(ctx, `INSERT INTO idempotency_keys (tenant_id, key, request_hash, status, body) VALUES ($1, 'k3', '\x00', 201, '\x00')`, s.b)
	requireCode(t, err, "42501")
	_, err = s.app.Exec(ctx, `INSERT INTO events (tenant_id, stream_type, stream_id, stream_version, event_id, event_type, payload, correlation_id)
VALUES ($1, 'test', $1, 9, $2, 'test.happened.v1', '{}', $2)`, s.b, uuid.Must(uuid.NewV7()))
	requireCode(t, err, "42501")
	_, err = s.app.Exec(ctx, `UPDATE import_jobs SET tenant_id = $1`, s.b)
	requireCode(t, err, "42501")
	// An update or delete without a tenant filter touches the tenant's rows only.
	tag, err := s.app.Exec(ctx, `DELETE FROM idempotency_keys`)
	require.NoError(t, err)
	require.EqualValues(t, 3, tag.RowsAffected())
	n, _ := count(t, context.Background(), s.owner, "idempotency_keys")
	require.Equal(t, 2, n, "tenant b's keys are untouched")
	// Platform claims (shop codes) are read by every tenant; another tenant's claims are not.
	_, err = s.owner.Exec(context.Background(), `INSERT INTO unique_claims (scope, kind, value, owner) VALUES ($1, 'tenant_code', 'a', $2), ($2, 'sku', 'X', $2), ($3, 'sku', 'X', $3)`, uuid.Nil, s.a, s.b)
	require.NoError(t, err)
	var scopes []uuid.UUID
	rows, err := s.app.Query(ctx, `SELECT scope FROM unique_claims ORDER BY scope`)
	require.NoError(t, err)
	scopes, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{uuid.Nil, s.a}, scopes)
}

func TestRLSAppRoleCannotLowerTheWall(t *testing.T) {
	t.Parallel()
	s := newShops(t)
	ctx := context.Background()
	for name, pool := range map[string]*pgxpool.Pool{"app": s.app, "worker": s.worker} {
		conn, err := pool.Acquire(ctx)
		require.NoError(t, err)
		for _, stmt := range []string{
			`ALTER TABLE events DISABLE TRIGGER events_append_only`,
			`ALTER TABLE events DISABLE TRIGGER ALL`,
			`ALTER TABLE events DISABLE ROW LEVEL SECURITY`,
			`ALTER TABLE events NO FORCE ROW LEVEL SECURITY`,
			`ALTER TABLE idempotency_keys DISABLE ROW LEVEL SECURITY`,
			`DROP POLICY tenant_isolation ON events`,
			`DROP TABLE events`,
			`DROP TABLE idempotency_keys`,
			`ALTER TABLE import_jobs ADD COLUMN x int`,
			`TRUNCATE events`,
			`UPDATE events SET payload = '{}'`,
			`DELETE FROM events`,
		} {
			_, err := conn.Exec(ctx, stmt)
			require.Error(t, err, "%s: %s", name, stmt)
			requireCode(t, err, "42501") // insufficient_privilege / must be owner
		}
		conn.Release()
	}
	// The API role: row_security = off makes every query that a policy
	// would filter fail instead of seeing other tenants.
	conn, err := s.app.Acquire(database.WithTenant(ctx, s.a))
	require.NoError(t, err)
	defer conn.Release()
	_, err = conn.Exec(ctx, `SET row_security = off`)
	require.NoError(t, err)
	for _, table := range tenantTables {
		var n int
		err := conn.QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n)
		requireCode(t, err, "42501")
		require.ErrorContains(t, err, "row-level security", table)
	}
	// And stepping out of the tenant by role is not open to it.
	_, err = conn.Exec(ctx, `SET ROLE honten_worker`)
	requireCode(t, err, "42501")
	_, err = conn.Exec(ctx, `RESET row_security`)
	require.NoError(t, err)
}

// A connection goes back to the pool in its request's state; the next
// user gets the state of its own context, whoever used it before.
func TestRLSConnectionStateFollowsTheContext(t *testing.T) {
	t.Parallel()
	s := newShops(t)
	u, err := database.WithUser(s.url, "honten_worker")
	require.NoError(t, err)
	one, err := database.Open(context.Background(), u, database.Options{MaxConns: 1})
	require.NoError(t, err)
	t.Cleanup(one.Close)
	steps := []struct {
		ctx  context.Context
		want int
	}{
		{database.WithTenant(context.Background(), s.a), 3},
		{context.Background(), 6},
		{database.WithTenant(context.Background(), s.b), 3},
		{database.WithTenant(context.Background(), s.a), 3},
		{database.WithTenant(context.Background(), uuid.Nil), 0},
		{context.Background(), 6},
	}
	for i, st := range steps {
		var n int
		require.NoError(t, one.QueryRow(st.ctx, `SELECT count(*) FROM events`).Scan(&n))
		require.Equal(t, st.want, n, "step %d", i)
	}
	// Many goroutines sharing few connections, each with its own tenant.
	pool := pgtest.As(t, s.url, "honten_worker")
	var wg sync.WaitGroup
	errc := make(chan error, 64)
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ten, want := s.a, 3
			switch i % 3 {
			case 1:
				ten = s.b
			case 2:
				ten, want = uuid.Nil, 6
			}
			ctx := database.WithTenant(context.Background(), ten)
			if ten == uuid.Nil {
				ctx = context.Background()
			}
			for range 20 {
				var n int
				var seen uuid.UUID
				if err := pool.QueryRow(ctx, `SELECT count(*), min(tenant_id::text)::uuid FROM events`).Scan(&n, &seen); err != nil {
					errc <- err
					return
				}
				if n != want || (ten != uuid.Nil && seen != ten) {
					errc <- fmt.Errorf("tenant %s saw %d events of %s, want %d", ten, n, seen, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		require.NoError(t, err)
	}
}

// Every table that holds tenant rows is behind row-level security: those in
// public and those of every read-model generation.
func TestRLSEveryTenantTableIsProtected(t *testing.T) {
	t.Parallel()
	s := newShops(t)
	// Every read model's generation, created by the worker as in production.
	r, err := projections.NewRunner(s.worker, app.Projectors(app.Registry()), projections.Options{})
	require.NoError(t, err)
	require.NoError(t, r.Ensure(context.Background()))
	const q = `SELECT n.nspname || '.' || c.relname, c.relrowsecurity
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND (n.nspname = 'public' OR n.nspname IN (SELECT schema_name FROM projections))
  AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname IN ('tenant_id', 'scope') AND NOT a.attisdropped)`
	rows, err := s.owner.Query(context.Background(), q)
	require.NoError(t, err)
	type table struct {
		Name string
		RLS  bool
	}
	tables, err := pgx.CollectRows(rows, pgx.RowToStructByPos[table])
	require.NoError(t, err)
	require.Greater(t, len(tables), 30)
	for _, tb := range tables {
		require.True(t, tb.RLS, "%s holds tenant rows without row-level security", tb.Name)
	}
	// The views of the read models read with the reader's rights.
	var plain []string
	rows, err = s.owner.Query(context.Background(), `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'v' AND NOT coalesce(c.reloptions @> '{security_invoker=true}', false)`)
	require.NoError(t, err)
	plain, err = pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Empty(t, plain, "views that would read as their owner")
	// The API role owns nothing.
	var owned int
	require.NoError(t, s.owner.QueryRow(context.Background(), `SELECT count(*) FROM pg_class WHERE relowner = 'honten_app'::regrole`).Scan(&owned))
	require.Zero(t, owned)
}

func requireCode(t *testing.T, err error, code string) {
	t.Helper()
	var pgErr *pgconn.PgError
	require.True(t, errors.As(err, &pgErr), "want SQLSTATE %s, got %v", code, err)
	require.Equal(t, code, pgErr.Code, pgErr.Message)
}

// The documented setup of an existing server (docs/database-roles.md): a
// non-superuser owner migrates, the worker builds the read models, the API
// role is confined.
func TestRLSExistingServerSetup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, pgtest.ServerURL(t))
	require.NoError(t, err)
	defer admin.Close(ctx)
	suffix := uuid.Must(uuid.NewV7()).String()[24:]
	owner, db := "honten_owner_"+suffix, "honten_setup_"+suffix
	for _, stmt := range []string{
		`CREATE ROLE ` + owner + ` LOGIN`,
		`GRANT honten_worker TO ` + owner,
		`CREATE DATABASE ` + db + ` OWNER ` + owner + ` TEMPLATE template0 ENCODING 'UTF8'`,
	} {
		_, err := admin.Exec(ctx, stmt)
		require.NoError(t, err, stmt)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		c, err := pgx.Connect(ctx, pgtest.ServerURL(t))
		if err != nil {
			return
		}
		defer c.Close(ctx)
		c.Exec(ctx, `DROP DATABASE IF EXISTS `+db+` WITH (FORCE)`) //nolint:errcheck
		c.Exec(ctx, `DROP ROLE IF EXISTS `+owner)                  //nolint:errcheck
	})
	dbURL, err := database.WithDatabase(pgtest.ServerURL(t), db)
	require.NoError(t, err)
	ownerURL, err := database.WithUser(dbURL, owner)
	require.NoError(t, err)
	oc, err := pgx.Connect(ctx, ownerURL)
	require.NoError(t, err)
	defer oc.Close(ctx)
	var super bool
	require.NoError(t, oc.QueryRow(ctx, `SELECT rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&super))
	require.False(t, super)
	_, err = migrations.Up(ctx, oc)
	require.NoError(t, err)

	_, err = oc.Exec(ctx, seenDDL)
	require.NoError(t, err)
	worker := pgtest.As(t, dbURL, "honten_worker")
	r, err := projections.NewRunner(worker, []projections.Projector{seen{}}, projections.Options{})
	require.NoError(t, err)
	require.NoError(t, r.Ensure(ctx))
	a, b := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	for _, ten := range []uuid.UUID{a, b} {
		_, err := worker.Exec(database.WithTenant(ctx, ten), `INSERT INTO events (tenant_id, stream_type, stream_id, stream_version, event_id, event_type, payload, correlation_id)
VALUES ($1, 'test', $1, 1, $2, 'test.happened.v1', '{}', $2)`, ten, uuid.Must(uuid.NewV7()))
		require.NoError(t, err)
	}
	require.NoError(t, r.Rebuild(ctx, "events_seen", nil))
	follow(t, r, worker)
	app := pgtest.As(t, dbURL, "honten_app")
	for _, table := range []string{"events", "events_seen"} {
		n, tenants := count(t, database.WithTenant(ctx, a), app, table)
		require.Equal(t, 1, n, table)
		require.Equal(t, []uuid.UUID{a}, tenants, table)
		n, _ = count(t, ctx, worker, table)
		require.Equal(t, 2, n, table)
	}
	_, err = worker.Exec(ctx, `ALTER TABLE events DISABLE TRIGGER events_append_only`)
	requireCode(t, err, "42501")
}
