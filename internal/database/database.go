// Package database opens Honten's PostgreSQL connection pools with the session
// settings every connection must have: UTC, an application name, and
// idle_in_transaction_session_timeout — any transaction that holds an xid
// stalls every event consumer (the feed is read below the oldest running
// xid), so a forgotten open transaction must not live long.
//
// It also carries the tenant of a request to the database: a context made
// by WithTenant makes every query on it run as the API role with
// app.tenant_id set, so row-level security (migration 0060) shows that
// tenant's rows only, even to a query that forgets its tenant filter.
package database

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Options tune a pool. The zero value is usable.
type Options struct {
	// MaxConns caps the pool; 0 means 20.
	MaxConns int32
	// MinConns keeps connections warm.
	MinConns int32
	// IdleInTxTimeout ends sessions idle inside a transaction; 0 means 30s.
	IdleInTxTimeout time.Duration
	// AppName is reported in pg_stat_activity; empty means "honten".
	AppName string
	// APIRole is the role queries of a WithTenant context run as; empty
	// means DefaultAPIRole, NoAPIRole keeps them on the login role.
	APIRole string
	// RLS, when set, turns the API role off and on at run time (benchmarks).
	RLS *RLSSwitch
}

// Open connects a pool to url and checks that the server answers.
func Open(ctx context.Context, url string, o Options) (*pgxpool.Pool, error) {
	cfg, err := Config(url, o)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open database: ping: %w", err)
	}
	return pool, nil
}

// Config parses url and applies o.
func Config(url string, o Options) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 20
	}
	if o.IdleInTxTimeout <= 0 {
		o.IdleInTxTimeout = 30 * time.Second
	}
	if o.AppName == "" {
		o.AppName = "honten"
	}
	if o.APIRole == "" {
		o.APIRole = DefaultAPIRole
	}
	cfg.MaxConns = o.MaxConns
	cfg.MinConns = o.MinConns
	cfg.PrepareConn = prepare(o.APIRole, o.RLS)
	cfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		RegisterUUID(c.TypeMap())
		RegisterJSON(c.TypeMap())
		return nil
	}
	rp := cfg.ConnConfig.RuntimeParams
	rp["application_name"] = o.AppName
	rp["timezone"] = "UTC"
	rp["idle_in_transaction_session_timeout"] = strconv.FormatInt(o.IdleInTxTimeout.Milliseconds(), 10)
	return cfg, nil
}

// WithDatabase returns url (a URL or keyword/value string) naming database
// db instead, on the same server as the same user, as a keyword/value
// connection string.
func WithDatabase(url, db string) (string, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return "", fmt.Errorf("parse database URL: %w", err)
	}
	out := fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable", cfg.Host, cfg.Port, cfg.User, db)
	if cfg.Password != "" {
		out += " password='" + cfg.Password + "'"
	}
	return out, nil
}

// WithUser returns url (a URL or keyword/value string) logging in as user
// instead, without a password (the private cluster trusts its socket), as
// a keyword/value connection string.
func WithUser(url, user string) (string, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return "", fmt.Errorf("parse database URL: %w", err)
	}
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable", cfg.Host, cfg.Port, user, cfg.Database), nil
}
