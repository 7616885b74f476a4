package http

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/staff"
	"github.com/honten/honten/domain/store"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/domain/vendor"
	"github.com/honten/honten/internal/database"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/projections/tenancy"
)

func (s *Server) tenancyRoutes() []adminRoute {
	return []adminRoute{
		{"DELETE", "/session", permSelf, s.signOut},
		{"GET", "/me", permSelf, s.me},
		{"GET", "/tenants", permPlatform, s.listTenants},
		{"POST", "/tenants", permPlatform, s.createTenant},
		{"GET", "/settings", permSettingsRead, s.getSettings},
		{"PATCH", "/settings", permSettingsWrite, s.patchSettings},
		{"GET", "/vendors", permVendorsRead, s.listVendors},
		{"POST", "/vendors", permVendorsWrite, s.createVendor},
		{"GET", "/vendors/{id}", permVendorsRead, s.getVendor},
		{"PATCH", "/vendors/{id}", permVendorsWrite, s.patchVendor},
		{"GET", "/vendors/{id}/commission-rates", permVendorsRead, s.vendorCommissionRates},
		{"GET", "/stores", permStoresRead, s.listStores},
		{"POST", "/stores", permStoresWrite, s.createStore},
		{"GET", "/stores/{id}", permStoresRead, s.getStore},
		{"POST", "/stores/{id}/locations", permStoresWrite, s.addLocation},
		{"GET", "/staff", permStaffRead, s.listStaff},
		{"POST", "/staff", permStaffWrite, s.inviteStaff},
		{"GET", "/staff/{id}", permStaffRead, s.getStaff},
		{"PATCH", "/staff/{id}", permStaffWrite, s.patchStaff},
	}
}

// --- sessions

type signInRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type sessionResponse struct {
	Token     string              `json:"token"`
	ExpiresAt time.Time           `json:"expires_at"`
	Staff     tenancy.StaffView   `json:"staff"`
	Tenant    *tenancy.TenantView `json:"tenant,omitempty"`
}

// signIn is POST /admin/session. The shop is X-Tenant when given; without it
// the e-mail must belong to exactly one shop.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	var in signInRequest
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	var v errs.Collector
	v.Check(in.Email != "" && len(in.Email) <= 254, "email", "is required")
	v.Check(in.Password != "" && len(in.Password) <= 1024, "password", "is required")
	if err := v.Err(); err != nil {
		writeError(w, r, err)
		return
	}
	var t tenant.ID
	if code := r.Header.Get("X-Tenant"); code != "" {
		var err error
		if t, err = s.tenants.byCode(r.Context(), code); err != nil {
			writeError(w, r, err)
			return
		}
	}
	sess, err := s.Commands.SignIn(r.Context(), commands.SignIn{Tenant: t, Email: in.Email, Password: in.Password, Client: s.clientIP(r)})
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := sessionResponse{Token: sess.Token, ExpiresAt: sess.ExpiresAt}
	out.Staff = tenancy.StaffView{ID: sess.Principal.Staff.UUID, Email: sess.Principal.Email, Role: string(sess.Principal.Role), Status: "active", PlatformAdmin: sess.Principal.PlatformAdmin}
	if sess.Principal.Vendor != uuid.Nil {
		out.Staff.VendorID = &sess.Principal.Vendor
	}
	s.catchUp(r.Context(), "tenancy")
	if sv, err := tenancy.GetStaff(r.Context(), s.Pool, sess.Principal.Tenant, sess.Principal.Staff.UUID); err == nil {
		out.Staff = sv
	}
	if tv, err := tenancy.GetTenant(r.Context(), s.Pool, sess.Principal.Tenant); err == nil {
		out.Tenant = &tv
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	if err := s.Commands.SignOut(r.Context(), callerFrom(r.Context()).Token); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type meResponse struct {
	Staff  tenancy.StaffView  `json:"staff"`
	Tenant tenancy.TenantView `json:"tenant"`
	Role   string             `json:"acting_role"`
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	c := callerFrom(r.Context())
	// An account created a moment ago may not be in the read model yet.
	s.catchUp(r.Context(), "tenancy")
	sv, err := tenancy.GetStaff(r.Context(), s.Pool, c.Tenant, c.Staff.UUID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	tv, err := tenancy.GetTenant(r.Context(), s.Pool, c.Acting)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, meResponse{Staff: sv, Tenant: tv, Role: string(c.role())})
}

// --- tenants (platform administration)

type createTenantRequest struct {
	Code            string `json:"code"`
	Name            string `json:"name"`
	Type            string `json:"type"`
	DefaultCurrency string `json:"default_currency"`
}

func (s *Server) listTenants(w http.ResponseWriter, r *http.Request) {
	serveList(w, r, func(ctx context.Context, _ *caller, p projections.Page) (projections.List[tenancy.TenantView], error) {
		return tenancy.ListTenants(database.WithPlatform(ctx), s.readDB(ctx), p)
	})
}

func (s *Server) createTenant(w http.ResponseWriter, r *http.Request) {
	var in createTenantRequest
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	c := callerFrom(r.Context())
	by := c.by(r)
	id := tenant.ID{UUID: by.DerivedID(0)}
	s.execute(w, r, http.StatusCreated, func(ctx context.Context) (commands.Result, error) {
		_, res, err := s.Commands.CreateTenant(ctx, commands.CreateTenant{By: by, ID: id, Code: in.Code, Name: in.Name, Type: in.Type, DefaultCurrency: in.DefaultCurrency})
		return res, err
	}, func(ctx context.Context) (view, error) {
		tv, err := tenancy.GetTenant(database.ForTenant(ctx, id.UUID), s.Pool, id)
		return view{body: tv, version: tv.Version}, err
	})
}

// --- settings

func (s *Server) getSettings(w http.ResponseWriter, r *http.Request) {
	tv, err := tenancy.GetTenant(r.Context(), s.readDB(r.Context()), callerFrom(r.Context()).Acting)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeView(w, tv.Settings, tv.Version)
}

// patchSettings applies a JSON merge patch (RFC 7396) to the settings.
func (s *Server) patchSettings(w http.ResponseWriter, r *http.Request) {
	var patch map[string]json.RawMessage
	if err := decodeJSON(r, &patch); err != nil {
		writeError(w, r, err)
		return
	}
	ifv, err := ifMatch(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	c := callerFrom(r.Context())
	s.execute(w, r, http.StatusOK, func(ctx context.Context) (commands.Result, error) {
		return s.Commands.UpdateSettings(ctx, commands.UpdateSettings{Tenant: c.Acting, By: c.by(r), IfVersion: ifv,
			Change: func(cur tenant.Settings) (tenant.Settings, error) { return mergeSettings(cur, patch) }})
	}, func(ctx context.Context) (view, error) {
		tv, err := tenancy.GetTenant(ctx, s.readDB(ctx), c.Acting)
		return view{body: tv.Settings, version: tv.Version}, err
	})
}

func mergeSettings(cur tenant.Settings, patch map[string]json.RawMessage) (tenant.Settings, error) {
	b, err := json.Marshal(cur)
	if err != nil {
		return cur, err
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return cur, err
	}
	for k, raw := range patch {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return cur, errs.Malformedf("field %q: %v", k, err)
		}
		if _, known := doc[k]; !known {
			fe := errs.New(errs.KindMalformed, "unknown_field", "unknown field \""+k+"\"")
			fe.Fields = []errs.FieldError{{Field: k, Message: "unknown field"}}
			return cur, fe
		}
		doc[k] = mergePatch(doc[k], v)
	}
	merged, err := json.Marshal(doc)
	if err != nil {
		return cur, err
	}
	dec := json.NewDecoder(bytes.NewReader(merged))
	dec.DisallowUnknownFields()
	var out tenant.Settings
	if err := dec.Decode(&out); err != nil {
		return cur, jsonError(err)
	}
	return out, nil
}

// mergePatch is RFC 7396: objects merge key by key, null deletes, anything else replaces.
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
			continue
		}
		t[k] = mergePatch(t[k], v)
	}
	return t
}

// --- vendors

type vendorRequest struct {
	Name           *string          `json:"name"`
	CommissionRate *decimal.Decimal `json:"commission_rate"`
	EffectiveFrom  *time.Time       `json:"effective_from"`
	Status         *string          `json:"status"`
}

func (s *Server) listVendors(w http.ResponseWriter, r *http.Request) {
	serveList(w, r, func(ctx context.Context, c *caller, p projections.Page) (projections.List[tenancy.VendorView], error) {
		return tenancy.ListVendors(ctx, s.readDB(ctx), c.Acting, c.vendorScope(), p)
	})
}

func (s *Server) getVendor(w http.ResponseWriter, r *http.Request) {
	serveOne(w, r, vendor.ParseID, func(ctx context.Context, c *caller, id vendor.ID) (tenancy.VendorView, int64, error) {
		if vs := c.vendorScope(); vs != nil && *vs != id.UUID {
			return tenancy.VendorView{}, 0, errs.NotFoundf("vendor")
		}
		v, err := tenancy.GetVendor(ctx, s.readDB(ctx), c.Acting, id.UUID)
		return v, v.Version, err
	})
}

func (s *Server) createVendor(w http.ResponseWriter, r *http.Request) {
	var in vendorRequest
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	c := callerFrom(r.Context())
	by := c.by(r)
	cmd := commands.CreateVendor{Tenant: c.Acting, By: by}
	if in.Name != nil {
		cmd.Name = *in.Name
	}
	if in.CommissionRate != nil {
		cmd.CommissionRate = *in.CommissionRate
	}
	if in.Status != nil {
		cmd.Status = *in.Status
	}
	id := by.DerivedID(0)
	s.execute(w, r, http.StatusCreated, func(ctx context.Context) (commands.Result, error) {
		_, res, err := s.Commands.CreateVendor(ctx, cmd)
		return res, err
	}, func(ctx context.Context) (view, error) {
		v, err := tenancy.GetVendor(ctx, s.readDB(ctx), c.Acting, id)
		return view{body: v, version: v.Version}, err
	})
}

func (s *Server) patchVendor(w http.ResponseWriter, r *http.Request) {
	var in vendorRequest
	id, ifv, ok := decodeChange(w, r, vendor.ParseID, &in)
	if !ok {
		return
	}
	c := callerFrom(r.Context())
	s.execute(w, r, http.StatusOK, func(ctx context.Context) (commands.Result, error) {
		return s.Commands.UpdateVendor(ctx, commands.UpdateVendor{Tenant: c.Acting, By: c.by(r), Vendor: id, IfVersion: ifv,
			Name: in.Name, CommissionRate: in.CommissionRate, EffectiveFrom: in.EffectiveFrom, Status: in.Status})
	}, func(ctx context.Context) (view, error) {
		v, err := tenancy.GetVendor(ctx, s.readDB(ctx), c.Acting, id.UUID)
		return view{body: v, version: v.Version}, err
	})
}

// --- stores and locations

type storeRequest struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

type locationRequest struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Status string `json:"status"`
}

func (s *Server) listStores(w http.ResponseWriter, r *http.Request) {
	serveList(w, r, func(ctx context.Context, c *caller, p projections.Page) (projections.List[tenancy.StoreView], error) {
		return tenancy.ListStores(ctx, s.readDB(ctx), c.Acting, p)
	})
}

func (s *Server) getStore(w http.ResponseWriter, r *http.Request) {
	serveOne(w, r, store.ParseID, func(ctx context.Context, c *caller, id store.ID) (tenancy.StoreView, int64, error) {
		v, err := tenancy.GetStore(ctx, s.readDB(ctx), c.Acting, id.UUID)
		return v, v.Version, err
	})
}

func (s *Server) createStore(w http.ResponseWriter, r *http.Request) {
	var in storeRequest
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	c := callerFrom(r.Context())
	by := c.by(r)
	id := by.DerivedID(0)
	s.execute(w, r, http.StatusCreated, func(ctx context.Context) (commands.Result, error) {
		_, res, err := s.Commands.CreateStore(ctx, commands.CreateStore{Tenant: c.Acting, By: by, Code: in.Code, Name: in.Name})
		return res, err
	}, func(ctx context.Context) (view, error) {
		v, err := tenancy.GetStore(ctx, s.readDB(ctx), c.Acting, id)
		return view{body: v, version: v.Version}, err
	})
}

func (s *Server) addLocation(w http.ResponseWriter, r *http.Request) {
	var in locationRequest
	sid, ok := decodeAt(w, r, store.ParseID, &in)
	if !ok {
		return
	}
	c := callerFrom(r.Context())
	by := c.by(r)
	s.execute(w, r, http.StatusCreated, func(ctx context.Context) (commands.Result, error) {
		_, res, err := s.Commands.AddLocation(ctx, commands.AddLocation{Tenant: c.Acting, By: by, Store: sid, Code: in.Code, Name: in.Name, Status: in.Status})
		return res, err
	}, func(ctx context.Context) (view, error) {
		v, err := tenancy.GetStore(ctx, s.readDB(ctx), c.Acting, sid.UUID)
		return view{body: v, version: v.Version}, err
	})
}

// --- staff

type inviteStaffRequest struct {
	Email         string     `json:"email"`
	Name          string     `json:"name"`
	Role          string     `json:"role"`
	VendorID      *vendor.ID `json:"vendor_id"`
	Password      string     `json:"password"`
	PlatformAdmin bool       `json:"platform_admin"`
}

type staffCreated struct {
	tenancy.StaffView
	// InitialPassword is shown once, when the server chose it.
	InitialPassword string `json:"initial_password,omitempty"`
}

type patchStaffRequest struct {
	Name     *string    `json:"name"`
	Role     *string    `json:"role"`
	VendorID *vendor.ID `json:"vendor_id"`
	Status   *string    `json:"status"`
	Password *string    `json:"password"`
}

func (s *Server) listStaff(w http.ResponseWriter, r *http.Request) {
	serveList(w, r, func(ctx context.Context, c *caller, p projections.Page) (projections.List[tenancy.StaffView], error) {
		return tenancy.ListStaff(ctx, s.readDB(ctx), c.Acting, c.PlatformAdmin, p)
	})
}

// getStaff reads one staff member. Platform administrators are invisible
// (404) to everyone but platform administrators.
func (s *Server) getStaff(w http.ResponseWriter, r *http.Request) {
	serveOne(w, r, staff.ParseID, func(ctx context.Context, c *caller, id staff.ID) (tenancy.StaffView, int64, error) {
		v, err := tenancy.GetStaff(ctx, s.readDB(ctx), c.Acting, id.UUID)
		if err == nil && v.PlatformAdmin && !c.PlatformAdmin {
			return tenancy.StaffView{}, 0, errs.NotFoundf("staff member")
		}
		return v, v.Version, err
	})
}

func (s *Server) inviteStaff(w http.ResponseWriter, r *http.Request) {
	var in inviteStaffRequest
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	c := callerFrom(r.Context())
	if in.PlatformAdmin && !c.PlatformAdmin {
		writeError(w, r, errs.Forbiddenf("only platform administrators grant platform administration"))
		return
	}
	by := c.by(r)
	id := by.DerivedID(0)
	var initial string
	s.execute(w, r, http.StatusCreated, func(ctx context.Context) (commands.Result, error) {
		out, res, err := s.Commands.InviteStaff(ctx, commands.InviteStaff{Tenant: c.Acting, By: by, ByRole: c.role(),
			Email: in.Email, Name: in.Name, Role: in.Role, Vendor: in.VendorID, PlatformAdmin: in.PlatformAdmin, Password: in.Password})
		if in.Password == "" {
			initial = out.Password
		}
		return res, err
	}, func(ctx context.Context) (view, error) {
		v, err := tenancy.GetStaff(ctx, s.readDB(ctx), c.Acting, id)
		return view{body: staffCreated{StaffView: v, InitialPassword: initial}, version: v.Version}, err
	})
}

func (s *Server) patchStaff(w http.ResponseWriter, r *http.Request) {
	var in patchStaffRequest
	id, ifv, ok := decodeChange(w, r, staff.ParseID, &in)
	if !ok {
		return
	}
	c := callerFrom(r.Context())
	s.execute(w, r, http.StatusOK, func(ctx context.Context) (commands.Result, error) {
		return s.Commands.UpdateStaff(ctx, commands.UpdateStaff{Tenant: c.Acting, By: c.by(r), ByRole: c.role(),
			ByPlatformAdmin: c.PlatformAdmin, Session: c.Token, Staff: id, IfVersion: ifv,
			Name: in.Name, Role: in.Role, Vendor: in.VendorID, Status: in.Status, Password: in.Password})
	}, func(ctx context.Context) (view, error) {
		v, err := tenancy.GetStaff(ctx, s.readDB(ctx), c.Acting, id.UUID)
		return view{body: v, version: v.Version}, err
	})
}
