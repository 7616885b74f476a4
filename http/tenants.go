package http

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/database"
)

// ErrUnknownShop is the 404 for a storefront request that names no known shop.
var ErrUnknownShop = errs.New(errs.KindNotFound, "unknown_shop", "no shop by that name: send X-Tenant: <shop code>")

// tenantResolver maps shop codes and host names to tenants, from the
// platform-wide claims written with the tenant (so it is never behind the
// event log), with a short cache.
type tenantResolver struct {
	pool eventstore.Querier
	ttl  time.Duration

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	id  tenant.ID
	ok  bool
	exp time.Time
}

func (tr *tenantResolver) lookup(ctx context.Context, key string, fn func(ctx context.Context) (tenant.ID, bool, error)) (tenant.ID, bool, error) {
	now := time.Now()
	tr.mu.Lock()
	c, hit := tr.cache[key]
	tr.mu.Unlock()
	if hit && now.Before(c.exp) {
		return c.id, c.ok, nil
	}
	id, ok, err := fn(ctx)
	if err != nil {
		return tenant.ID{}, false, err
	}
	ttl := tr.ttl
	if !ok {
		ttl = time.Second // a shop created a moment ago must show up soon
	}
	tr.mu.Lock()
	if len(tr.cache) > 10000 {
		tr.cache = map[string]cached{}
	}
	tr.cache[key] = cached{id: id, ok: ok, exp: now.Add(ttl)}
	tr.mu.Unlock()
	return id, ok, nil
}

func (tr *tenantResolver) claim(kind, value string) func(ctx context.Context) (tenant.ID, bool, error) {
	return func(ctx context.Context) (tenant.ID, bool, error) {
		owner, ok, err := eventstore.Owner(ctx, tr.pool, eventstore.PlatformScope, kind, value)
		return tenant.ID{UUID: owner}, ok, err
	}
}

// byCode returns the tenant with a shop code, or ErrUnknownShop.
func (tr *tenantResolver) byCode(ctx context.Context, code string) (tenant.ID, error) {
	if len(code) > 64 {
		return tenant.ID{}, ErrUnknownShop
	}
	id, ok, err := tr.lookup(ctx, "code:"+code, tr.claim(commands.ClaimTenantCode, code))
	if err != nil {
		return tenant.ID{}, err
	}
	if !ok {
		return tenant.ID{}, ErrUnknownShop
	}
	return id, nil
}

// forRequest resolves a storefront request: X-Tenant, else the Host mapped
// in a tenant's settings, else the only tenant when there is exactly one.
func (tr *tenantResolver) forRequest(r *http.Request) (tenant.ID, error) {
	if code := r.Header.Get("X-Tenant"); code != "" {
		return tr.byCode(r.Context(), code)
	}
	if host := tenant.NormalizeHost(r.Host); host != "" && len(host) <= 253 {
		id, ok, err := tr.lookup(r.Context(), "host:"+host, tr.claim(commands.ClaimTenantHost, host))
		if err != nil {
			return tenant.ID{}, err
		}
		if ok {
			return id, nil
		}
	}
	id, ok, err := tr.lookup(r.Context(), "single", func(ctx context.Context) (tenant.ID, bool, error) {
		rows, err := tr.pool.Query(ctx, `SELECT owner FROM unique_claims WHERE scope = $1 AND kind = $2 LIMIT 2`,
			eventstore.PlatformScope, commands.ClaimTenantCode)
		if err != nil {
			return tenant.ID{}, false, err
		}
		owners, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil || len(owners) != 1 {
			return tenant.ID{}, false, err
		}
		return tenant.ID{UUID: owners[0]}, true, nil
	})
	if err != nil {
		return tenant.ID{}, err
	}
	if !ok {
		return tenant.ID{}, ErrUnknownShop
	}
	return id, nil
}

// withShop resolves the storefront tenant of a request.
func (s *Server) withShop(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, err := s.tenants.forRequest(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		addLogAttrs(r.Context(), "tenant_id", t.String())
		ctx := database.WithTenant(r.Context(), t.UUID) // row-level security from here on
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, keyTenant, t)))
	})
}
