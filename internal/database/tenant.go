package database

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DefaultAPIRole is the PostgreSQL role a request's queries run as (see
// migration 0060): it sees the rows of the tenant in app.tenant_id only.
const DefaultAPIRole = "honten_app"

// NoAPIRole, as Options.APIRole, keeps requests on the login role: the
// tenant setting is still made, but a login role that owns the tables or
// bypasses row-level security is not held back by it. Benchmarks use it to
// measure what the policies cost.
const NoAPIRole = "-"

type scopeKey struct{}

// scope is what a context asks of the connection its queries run on.
type scope struct {
	tenant   uuid.UUID
	platform bool
}

// WithTenant returns a context whose queries run as the API role with
// app.tenant_id set to t: row-level security then shows and accepts the
// rows of t only, whatever a query's WHERE clause says. Any pool opened by
// Open applies it when a connection is acquired, so every query path — a
// plain query, a transaction, a batch — gets it without code of its own.
// uuid.Nil scopes the context to no tenant: tenant rows are invisible.
//
// A context without it runs as the login role (projectors, workers).
func WithTenant(ctx context.Context, t uuid.UUID) context.Context {
	return context.WithValue(ctx, scopeKey{}, scope{tenant: t})
}

// Tenant returns the tenant of a context made by WithTenant.
func Tenant(ctx context.Context) (uuid.UUID, bool) {
	s, ok := ctx.Value(scopeKey{}).(scope)
	return s.tenant, ok
}

// WithoutTenant returns a context whose queries run as the login role again
// (not the API role): work a request starts that belongs to the worker side,
// such as a read-model rebuild replaying every tenant's events.
func WithoutTenant(ctx context.Context) context.Context {
	return context.WithValue(ctx, scopeKey{}, nil)
}

// WithPlatform returns ctx (made by WithTenant) allowed to read the
// platform's directory of tenants as well (app.platform = on): the
// platform administrators' tenant list. Tenant rows stay behind the wall.
func WithPlatform(ctx context.Context) context.Context {
	s, ok := ctx.Value(scopeKey{}).(scope)
	if !ok {
		return ctx
	}
	s.platform = true
	return context.WithValue(ctx, scopeKey{}, s)
}

// ForTenant re-scopes a context made by WithTenant to tenant t (a command
// creating a tenant writes that tenant's rows); other contexts are returned
// as they are.
func ForTenant(ctx context.Context, t uuid.UUID) context.Context {
	if s, ok := ctx.Value(scopeKey{}).(scope); ok {
		s.tenant = t
		return context.WithValue(ctx, scopeKey{}, s)
	}
	return ctx
}

// RLSSwitch turns the API role off and on in a running process, for
// benchmarks that compare the cost of row-level security in one run. Off,
// requests stay on the login role (NoAPIRole). The zero value is on.
type RLSSwitch struct{ off atomic.Bool }

// Set turns the API role on (true) or off.
func (s *RLSSwitch) Set(on bool) {
	if s != nil {
		s.off.Store(!on)
	}
}

// On reports whether requests run as the API role.
func (s *RLSSwitch) On() bool { return s == nil || !s.off.Load() }

// connState is the role and tenant a connection's session is set to.
type connState struct {
	role, tenant, platform string
}

const stateKey = "honten.scope"

// fresh is a new session's state: its login role, no tenant.
var fresh = connState{role: "none"}

// prepare makes conn's session match ctx's scope before the pool hands it
// out: SET ROLE to apiRole and app.tenant_id to the tenant for a scoped
// context, back to the login role and no tenant otherwise. A connection
// already in that state costs nothing; a change is one round trip.
func prepare(apiRole string, sw *RLSSwitch) func(ctx context.Context, conn *pgx.Conn) (bool, error) {
	return func(ctx context.Context, conn *pgx.Conn) (bool, error) {
		want := fresh
		if s, ok := ctx.Value(scopeKey{}).(scope); ok {
			want.tenant = s.tenant.String()
			if s.platform {
				want.platform = "on"
			}
			if apiRole != NoAPIRole && sw.On() {
				want.role = apiRole
			}
		}
		data := conn.PgConn().CustomData()
		have, ok := data[stateKey].(connState)
		if !ok {
			have = fresh
		}
		if have == want {
			return true, nil
		}
		const q = `SELECT set_config('role', $1, false), set_config('app.tenant_id', $2, false), set_config('app.platform', $3, false)`
		if _, err := conn.Exec(ctx, q, want.role, want.tenant, want.platform); err != nil {
			// The session's state is unknown now: never reuse it.
			return false, fmt.Errorf("database: set role %s and tenant %q: %w", want.role, want.tenant, err)
		}
		data[stateKey] = want
		return true, nil
	}
}

// Execer runs a statement: a transaction.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// InTenant runs fn with transaction tx acting for tenant t instead of the
// tenant of ctx (SET LOCAL app.tenant_id), then sets it back: a platform
// command that writes a new tenant's rows beside the rows of the tenant
// the request acts in. For a context without a tenant it only runs fn.
func InTenant(ctx context.Context, tx Execer, t uuid.UUID, fn func() error) error {
	own, ok := Tenant(ctx)
	if !ok || own == t {
		return fn()
	}
	const q = `SELECT set_config('app.tenant_id', $1, true)`
	if _, err := tx.Exec(ctx, q, t.String()); err != nil {
		return fmt.Errorf("database: act for tenant %s: %w", t, err)
	}
	if err := fn(); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, q, own.String()); err != nil {
		return fmt.Errorf("database: back to tenant %s: %w", own, err)
	}
	return nil
}
