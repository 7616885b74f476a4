// Package pgtest gives each test its own PostgreSQL database, cloned from a
// template that is migrated once per migration set (the template's name holds
// a hash of the migrations). Cloning is a file copy, so a fresh, fully
// migrated database costs tens of milliseconds and tests run in parallel.
//
// The server is DATABASE_URL when set (it needs CREATEDB), else the private
// cluster of package devdb, started on demand.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/honten/honten/internal/database"
	"github.com/honten/honten/internal/devdb"
	"github.com/honten/honten/migrations"
)

var (
	once      sync.Once
	serverURL string
	template  string
	setupErr  error
)

// New returns a pool on a fresh migrated database for this test. The
// database is dropped when the test ends, unless it failed (then its name is
// logged for a look).
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	url := NewURL(t)
	pool, err := database.Open(context.Background(), url, database.Options{MaxConns: 16})
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// Traced returns a pool on a fresh migrated database, as New does, whose
// connections report every statement to tracer: for tests that count what
// is sent.
func Traced(t testing.TB, tracer pgx.QueryTracer) *pgxpool.Pool {
	t.Helper()
	cfg, err := database.Config(NewURL(t), database.Options{MaxConns: 8})
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	cfg.ConnConfig.Tracer = tracer
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// NewURL creates a fresh migrated database and returns its URL, for code
// under test that opens its own pool (end-to-end tests through cmd wiring).
func NewURL(t testing.TB) string {
	t.Helper()
	once.Do(setup)
	if setupErr != nil {
		t.Fatalf("pgtest: %v", setupErr)
	}
	name := "honten_t_" + randHex(6)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, name, template)); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	// A clone does not inherit its template's database privileges
	// (migration 0060 grants them on the database it runs in).
	if _, err := conn.Exec(ctx, fmt.Sprintf(`GRANT CONNECT, CREATE ON DATABASE %s TO honten_worker; GRANT CONNECT ON DATABASE %s TO honten_app`, name, name)); err != nil {
		t.Fatalf("pgtest: grant: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pgtest: kept database %s of the failed test", name)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, serverURL)
		if err != nil {
			t.Logf("pgtest: drop %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name)); err != nil {
			t.Logf("pgtest: drop %s: %v", name, err)
		}
	})
	url, err := database.WithDatabase(serverURL, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return url
}

// As opens a pool on the database of url (from NewURL) logging in as role
// (honten_app or honten_worker, migration 0060), closed when the test ends.
// On the private cluster the roles log in without a password; against
// DATABASE_URL they need a login and a password of their own (PGPASSWORD
// or ~/.pgpass).
func As(t testing.TB, url, role string) *pgxpool.Pool {
	t.Helper()
	u, err := database.WithUser(url, role)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	pool, err := database.Open(context.Background(), u, database.Options{MaxConns: 8})
	if err != nil {
		t.Fatalf("pgtest: connect as %s: %v", role, err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// ServerURL returns the URL of the maintenance database of the test server.
func ServerURL(t testing.TB) string {
	t.Helper()
	once.Do(setup)
	if setupErr != nil {
		t.Fatalf("pgtest: %v", setupErr)
	}
	return serverURL
}

func setup() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	serverURL = os.Getenv("DATABASE_URL")
	if serverURL == "" {
		root, err := devdb.FindRoot()
		if err != nil {
			setupErr = err
			return
		}
		c, err := devdb.Ensure(ctx, root, nil)
		if err != nil {
			setupErr = err
			return
		}
		serverURL = c.URL("postgres")
	}
	template = "honten_tpl_" + migrations.Hash()
	setupErr = ensureTemplate(ctx)
}

func ensureTemplate(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return fmt.Errorf("connect %s: %w", redact(serverURL), err)
	}
	defer conn.Close(ctx)
	// One process migrates; the others wait here, then see the template.
	const lock = 0x7067746573740000 // "pgtest"
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(lock)); err != nil {
		return err
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(lock)) //nolint:errcheck

	var ready bool
	err = conn.QueryRow(ctx, `SELECT datistemplate FROM pg_database WHERE datname = $1`, template).Scan(&ready)
	if err == nil && ready {
		return nil
	}
	if err == nil { // half-built by a crashed run
		if _, err := conn.Exec(ctx, fmt.Sprintf(`DROP DATABASE %s WITH (FORCE)`, template)); err != nil {
			return err
		}
	}
	// Drop templates of older migration sets.
	rows, err := conn.Query(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 'honten\_tpl\_%' AND datname <> $1`, template)
	if err != nil {
		return err
	}
	old, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, name := range old {
		conn.Exec(ctx, fmt.Sprintf(`ALTER DATABASE %s WITH IS_TEMPLATE false`, name)) //nolint:errcheck
		conn.Exec(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name))  //nolint:errcheck
	}
	// A non-C LC_CTYPE: pg_trgm and the bigram search index need it for Japanese.
	create := fmt.Sprintf(`CREATE DATABASE %s TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'`, template)
	if _, err := conn.Exec(ctx, create); err != nil {
		if _, err2 := conn.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE template0 ENCODING 'UTF8'`, template)); err2 != nil {
			return fmt.Errorf("create template: %w (and with C.UTF-8: %v)", err2, err)
		}
	}
	tplURL, err := database.WithDatabase(serverURL, template)
	if err != nil {
		return err
	}
	tc, err := pgx.Connect(ctx, tplURL)
	if err != nil {
		return err
	}
	_, err = migrations.Up(ctx, tc)
	tc.Close(ctx)
	if err != nil {
		return fmt.Errorf("migrate template: %w", err)
	}
	if os.Getenv("DATABASE_URL") == "" {
		// The private cluster: the roles of migration 0060 log in (tests
		// connect as them to check what they may do).
		if err := devdb.EnableLogins(ctx, tplURL); err != nil {
			return fmt.Errorf("role logins: %w", err)
		}
	}
	_, err = conn.Exec(ctx, fmt.Sprintf(`ALTER DATABASE %s WITH IS_TEMPLATE true`, template))
	return err
}

func redact(url string) string {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return "DATABASE_URL"
	}
	return fmt.Sprintf("%s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
