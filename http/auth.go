package http

import (
	"context"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/staff"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/internal/database"
)

// caller is the authenticated staff member of an admin request, with the
// tenant it acts on (a platform admin may act on another tenant).
type caller struct {
	commands.Principal
	// Acting is the tenant the request acts on.
	Acting tenant.ID
	// Token is the bearer token (for sign-out).
	Token string
}

// role is the caller's effective role in the acting tenant: a platform
// admin acting on another tenant acts as its owner.
func (c *caller) role() staff.Role {
	if c.PlatformAdmin && c.Acting != c.Tenant {
		return staff.Owner
	}
	return c.Role
}

// vendorScope is the vendor a vendor-role caller is bound to; nil for everyone else.
func (c *caller) vendorScope() *uuid.UUID {
	if c.role() == staff.Vendor {
		v := c.Vendor
		return &v
	}
	return nil
}

func (c *caller) by(r *http.Request) commands.By {
	return commands.By{Actor: "staff:" + c.Staff.String(), Staff: c.Staff.UUID, Correlation: correlation(r), CommandID: commandID(r)}
}

func callerFrom(ctx context.Context) *caller {
	c, _ := ctx.Value(keyPrincipal).(*caller)
	return c
}

// withAuth authenticates the bearer token; 401 without one.
func (s *Server) withAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || token == "" {
			writeError(w, r, errs.Unauthenticatedf("sign in first: send Authorization: Bearer <token>"))
			return
		}
		p, err := s.Commands.Authenticate(r.Context(), strings.TrimSpace(token))
		if err != nil {
			writeError(w, r, err)
			return
		}
		c := &caller{Principal: p, Acting: p.Tenant, Token: token}
		if code := r.Header.Get("X-Tenant"); code != "" && code != "-" {
			t, err := s.tenants.byCode(r.Context(), code)
			switch {
			case err != nil:
				writeError(w, r, err)
				return
			case t != p.Tenant && !p.PlatformAdmin:
				writeError(w, r, errs.Forbiddenf("only platform administrators act on other shops"))
				return
			}
			c.Acting = t
		}
		addLogAttrs(r.Context(), "tenant_id", c.Acting.String(), "staff_id", c.Staff.String())
		ctx := context.WithValue(r.Context(), keyPrincipal, c)
		ctx = context.WithValue(ctx, keyTenant, c.Acting)
		ctx = database.WithTenant(ctx, c.Acting.UUID) // row-level security from here on
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// correlation is the request's correlation id: its request id when that is a UUID.
func correlation(r *http.Request) uuid.UUID {
	if u, err := uuid.Parse(requestID(r.Context())); err == nil {
		return u
	}
	return uuid.Must(uuid.NewV7())
}

// tenantFrom returns the tenant a request acts on (storefront or admin).
func tenantFrom(ctx context.Context) tenant.ID {
	t, _ := ctx.Value(keyTenant).(tenant.ID)
	return t
}
