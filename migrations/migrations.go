// Package migrations holds Honten's schema as numbered SQL files, embedded in
// the binary, and the small migrator that applies them. It is the only place
// DDL lives: read models' tables are created by SQL functions defined here
// (rm_<model>_<version>_create), which the projection runner calls for each
// generation it builds.
//
// Migrations are forward-only. Each runs in its own transaction under a
// session advisory lock, so concurrent starters apply each file once.
package migrations

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

//go:embed *.up.sql
var files embed.FS

// Migration is one numbered SQL file.
type Migration struct {
	Version  int
	Name     string
	SQL      string
	Checksum string
}

var fileName = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.up\.sql$`)

// All returns the embedded migrations in version order.
func All() []Migration {
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		panic(err) // embedded: cannot fail
	}
	var out []Migration
	for _, e := range entries {
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil {
			panic(fmt.Sprintf("migrations: bad file name %q", e.Name()))
		}
		body, err := files.ReadFile(e.Name())
		if err != nil {
			panic(err)
		}
		v, _ := strconv.Atoi(m[1])
		sum := sha256.Sum256(body)
		out = append(out, Migration{Version: v, Name: m[2], SQL: string(body), Checksum: hex.EncodeToString(sum[:])})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	// Versions increase but may leave gaps: each area of the code owns a
	// block of numbers (0030–0039 for inventory), so branches never collide.
	for i, m := range out {
		if m.Version < 1 || (i > 0 && m.Version == out[i-1].Version) {
			panic(fmt.Sprintf("migrations: version %d is zero or used twice", m.Version))
		}
	}
	return out
}

// Hash identifies the whole set of migrations; test templates are keyed by it.
func Hash() string {
	h := sha256.New()
	for _, m := range All() {
		fmt.Fprintf(h, "%d:%s:%s\n", m.Version, m.Name, m.Checksum)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Conn is what the migrator needs: a single session (an advisory lock is
// held on it). *pgx.Conn and *pgxpool.Conn satisfy it.
type Conn interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Begin(ctx context.Context) (pgx.Tx, error)
}

const lockKey = 0x686f6e74656e // "honten"

// ErrChecksum means an applied migration's file was edited afterwards.
var ErrChecksum = errors.New("migrations: applied migration was changed")

// Up applies every pending migration and returns how many it applied.
// It returns ErrChecksum when an applied file differs from the embedded one.
func Up(ctx context.Context, conn Conn) (int, error) {
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(lockKey)); err != nil {
		return 0, fmt.Errorf("migrate: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(lockKey)) //nolint:errcheck // session ends anyway

	const ddl = `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    int PRIMARY KEY,
		name       text NOT NULL,
		checksum   text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`
	if _, err := conn.Exec(ctx, ddl); err != nil {
		return 0, fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	applied, err := appliedChecksums(ctx, conn)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, m := range All() {
		if sum, ok := applied[m.Version]; ok {
			if sum != m.Checksum {
				return n, fmt.Errorf("%w: %04d_%s", ErrChecksum, m.Version, m.Name)
			}
			continue
		}
		if err := apply(ctx, conn, m); err != nil {
			return n, err
		}
		n++
	}
	if n > 0 {
		if err := secure(ctx, conn); err != nil {
			return n, err
		}
	}
	return n, nil
}

// secure runs rls_apply (migration 0060) after new migrations, so that
// tables they added get their grants and row-level security.
func secure(ctx context.Context, conn Conn) error {
	var defined bool
	if err := conn.QueryRow(ctx, `SELECT to_regproc('public.rls_apply') IS NOT NULL`).Scan(&defined); err != nil {
		return fmt.Errorf("migrate: row-level security: %w", err)
	}
	if !defined {
		return nil
	}
	if _, err := conn.Exec(ctx, `SELECT rls_apply()`); err != nil {
		return fmt.Errorf("migrate: row-level security: %w", err)
	}
	return nil
}

func apply(ctx context.Context, conn Conn, m Migration) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("migrate %04d: %w", m.Version, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after commit
	if _, err := tx.Exec(ctx, m.SQL); err != nil {
		return fmt.Errorf("migrate %04d_%s: %w", m.Version, m.Name, err)
	}
	const q = `INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)`
	if _, err := tx.Exec(ctx, q, m.Version, m.Name, m.Checksum); err != nil {
		return fmt.Errorf("migrate %04d: record: %w", m.Version, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migrate %04d: commit: %w", m.Version, err)
	}
	return nil
}

func appliedChecksums(ctx context.Context, conn Conn) (map[int]string, error) {
	rows, err := conn.Query(ctx, `SELECT version, checksum FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("migrate: read applied: %w", err)
	}
	out := map[int]string{}
	for rows.Next() {
		var v int
		var sum string
		if err := rows.Scan(&v, &sum); err != nil {
			return nil, err
		}
		out[v] = sum
	}
	return out, rows.Err()
}

// Querier runs a query; a pool, a connection or a transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Pending reports how many embedded migrations the database has not applied,
// for readiness checks. A database with no schema_migrations table has all pending.
func Pending(ctx context.Context, q Querier) (int, error) {
	rows, err := q.Query(ctx, `SELECT version FROM schema_migrations`)
	var applied []int
	if err == nil {
		applied, err = pgx.CollectRows(rows, pgx.RowTo[int])
	}
	if err != nil {
		// A missing table fails the query or, in some execution modes, the read.
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42P01" {
			return len(All()), nil
		}
		return 0, fmt.Errorf("pending migrations: %w", err)
	}
	have := make(map[int]bool, len(applied))
	for _, v := range applied {
		have[v] = true
	}
	n := 0
	for _, m := range All() {
		if !have[m.Version] {
			n++
		}
	}
	return n, nil
}
