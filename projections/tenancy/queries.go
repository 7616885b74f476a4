package tenancy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/projections"
)

// TenantView is a tenant as the API shows it.
type TenantView struct {
	ID              uuid.UUID       `json:"id"`
	Code            string          `json:"code"`
	Name            string          `json:"name"`
	Type            string          `json:"type"`
	DefaultCurrency string          `json:"default_currency"`
	Settings        tenant.Settings `json:"settings"`
	ImplicitVendor  uuid.UUID       `json:"implicit_vendor_id"`
	DefaultStore    uuid.UUID       `json:"default_store_id"`
	Version         int64           `json:"-"`
	CreatedAt       time.Time       `json:"created_at"`
	UpdatedAt       time.Time       `json:"updated_at"`
}

const tenantCols = `tenant_id, code, name, type, default_currency, settings, implicit_vendor_id, default_store_id, version, created_at, updated_at`

func scanTenant(r pgx.CollectableRow) (TenantView, error) {
	var t TenantView
	var settings []byte
	if err := r.Scan(&t.ID, &t.Code, &t.Name, &t.Type, &t.DefaultCurrency, &settings, &t.ImplicitVendor, &t.DefaultStore, &t.Version, &t.CreatedAt, &t.UpdatedAt); err != nil {
		return t, err
	}
	return t, json.Unmarshal(settings, &t.Settings)
}

// GetTenant returns one tenant, or eventstore.ErrNotFound.
func GetTenant(ctx context.Context, q eventstore.Querier, t tenant.ID) (TenantView, error) {
	rows, err := q.Query(ctx, `SELECT `+tenantCols+` FROM tenants WHERE tenant_id = $1`, t)
	if err != nil {
		return TenantView{}, err
	}
	v, err := pgx.CollectExactlyOneRow(rows, scanTenant)
	if errors.Is(err, pgx.ErrNoRows) {
		return TenantView{}, fmt.Errorf("tenant %s: %w", t, eventstore.ErrNotFound)
	}
	return v, err
}

// ListTenants returns every tenant by code (platform administration).
func ListTenants(ctx context.Context, q eventstore.Querier, p projections.Page) (projections.List[TenantView], error) {
	var after string
	if _, err := p.DecodeCursor(&after); err != nil {
		return projections.List[TenantView]{}, err
	}
	rows, err := q.Query(ctx, `SELECT `+tenantCols+` FROM tenants WHERE code > $1 ORDER BY code LIMIT $2`, after, p.Limit+1)
	if err != nil {
		return projections.List[TenantView]{}, err
	}
	vs, err := pgx.CollectRows(rows, scanTenant)
	if err != nil {
		return projections.List[TenantView]{}, err
	}
	return projections.NewList(vs, p.Limit, func(t TenantView) any { return t.Code }), nil
}

// VendorView is a vendor as the API shows it.
type VendorView struct {
	ID             uuid.UUID       `json:"id"`
	Name           string          `json:"name"`
	CommissionRate decimal.Decimal `json:"commission_rate"`
	Status         string          `json:"status"`
	Implicit       bool            `json:"implicit"`
	Version        int64           `json:"-"`
	CreatedAt      time.Time       `json:"created_at"`
	UpdatedAt      time.Time       `json:"updated_at"`
}

const vendorCols = `id, name, commission_rate, status, implicit, version, created_at, updated_at`

func scanVendor(r pgx.CollectableRow) (VendorView, error) {
	var v VendorView
	return v, r.Scan(&v.ID, &v.Name, &v.CommissionRate, &v.Status, &v.Implicit, &v.Version, &v.CreatedAt, &v.UpdatedAt)
}

// ListVendors lists a tenant's vendors in creation order; only is a vendor
// filter (a vendor-role caller sees only their own).
func ListVendors(ctx context.Context, q eventstore.Querier, t tenant.ID, only *uuid.UUID, p projections.Page) (projections.List[VendorView], error) {
	var after uuid.UUID
	if _, err := p.DecodeCursor(&after); err != nil {
		return projections.List[VendorView]{}, err
	}
	rows, err := q.Query(ctx, `SELECT `+vendorCols+` FROM vendors WHERE tenant_id = $1 AND id > $2 AND ($3::uuid IS NULL OR id = $3)
ORDER BY id LIMIT $4`, t, after, only, p.Limit+1)
	if err != nil {
		return projections.List[VendorView]{}, err
	}
	vs, err := pgx.CollectRows(rows, scanVendor)
	if err != nil {
		return projections.List[VendorView]{}, err
	}
	return projections.NewList(vs, p.Limit, func(v VendorView) any { return v.ID }), nil
}

// GetVendor returns one vendor, or eventstore.ErrNotFound.
func GetVendor(ctx context.Context, q eventstore.Querier, t tenant.ID, id uuid.UUID) (VendorView, error) {
	rows, err := q.Query(ctx, `SELECT `+vendorCols+` FROM vendors WHERE tenant_id = $1 AND id = $2`, t, id)
	if err != nil {
		return VendorView{}, err
	}
	v, err := pgx.CollectExactlyOneRow(rows, scanVendor)
	if errors.Is(err, pgx.ErrNoRows) {
		return VendorView{}, fmt.Errorf("vendor %s: %w", id, eventstore.ErrNotFound)
	}
	return v, err
}

// LocationView is a stock location.
type LocationView struct {
	ID     uuid.UUID `json:"id"`
	Code   string    `json:"code"`
	Name   string    `json:"name"`
	Status string    `json:"status"`
}

// StoreView is a store with its locations.
type StoreView struct {
	ID        uuid.UUID      `json:"id"`
	Code      string         `json:"code"`
	Name      string         `json:"name"`
	Locations []LocationView `json:"locations"`
	Version   int64          `json:"-"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
}

const storeQuery = `SELECT s.id, s.code, s.name, s.version, s.created_at, s.updated_at,
  coalesce((SELECT json_agg(json_build_object('id', l.id, 'code', l.code, 'name', l.name, 'status', l.status) ORDER BY l.code)
            FROM locations l WHERE l.tenant_id = s.tenant_id AND l.store_id = s.id), '[]')
FROM stores s WHERE s.tenant_id = $1`

func scanStore(r pgx.CollectableRow) (StoreView, error) {
	var s StoreView
	var locs []byte
	if err := r.Scan(&s.ID, &s.Code, &s.Name, &s.Version, &s.CreatedAt, &s.UpdatedAt, &locs); err != nil {
		return s, err
	}
	return s, json.Unmarshal(locs, &s.Locations)
}

// ListStores lists a tenant's stores by code.
func ListStores(ctx context.Context, q eventstore.Querier, t tenant.ID, p projections.Page) (projections.List[StoreView], error) {
	var after string
	if _, err := p.DecodeCursor(&after); err != nil {
		return projections.List[StoreView]{}, err
	}
	rows, err := q.Query(ctx, storeQuery+` AND s.code > $2 ORDER BY s.code LIMIT $3`, t, after, p.Limit+1)
	if err != nil {
		return projections.List[StoreView]{}, err
	}
	vs, err := pgx.CollectRows(rows, scanStore)
	if err != nil {
		return projections.List[StoreView]{}, err
	}
	return projections.NewList(vs, p.Limit, func(s StoreView) any { return s.Code }), nil
}

// GetStore returns one store, or eventstore.ErrNotFound.
func GetStore(ctx context.Context, q eventstore.Querier, t tenant.ID, id uuid.UUID) (StoreView, error) {
	rows, err := q.Query(ctx, storeQuery+` AND s.id = $2`, t, id)
	if err != nil {
		return StoreView{}, err
	}
	v, err := pgx.CollectExactlyOneRow(rows, scanStore)
	if errors.Is(err, pgx.ErrNoRows) {
		return StoreView{}, fmt.Errorf("store %s: %w", id, eventstore.ErrNotFound)
	}
	return v, err
}

// StaffView is a staff member as the API shows it.
type StaffView struct {
	ID            uuid.UUID  `json:"id"`
	Email         string     `json:"email"`
	Name          string     `json:"name"`
	Role          string     `json:"role"`
	VendorID      *uuid.UUID `json:"vendor_id"`
	Status        string     `json:"status"`
	PlatformAdmin bool       `json:"platform_admin"`
	Version       int64      `json:"-"`
	InvitedAt     time.Time  `json:"invited_at"`
	LastSignInAt  *time.Time `json:"last_sign_in_at"`
}

const staffCols = `id, email, name, role, vendor_id, status, platform_admin, version, invited_at, last_sign_in_at`

func scanStaff(r pgx.CollectableRow) (StaffView, error) {
	var s StaffView
	return s, r.Scan(&s.ID, &s.Email, &s.Name, &s.Role, &s.VendorID, &s.Status, &s.PlatformAdmin, &s.Version, &s.InvitedAt, &s.LastSignInAt)
}

// ListStaff lists a tenant's staff by e-mail; platform administrators
// only when withPlatformAdmins.
func ListStaff(ctx context.Context, q eventstore.Querier, t tenant.ID, withPlatformAdmins bool, p projections.Page) (projections.List[StaffView], error) {
	var after string
	if _, err := p.DecodeCursor(&after); err != nil {
		return projections.List[StaffView]{}, err
	}
	rows, err := q.Query(ctx, `SELECT `+staffCols+` FROM staff_members
WHERE tenant_id = $1 AND email > $2 AND ($4 OR NOT platform_admin) ORDER BY email LIMIT $3`, t, after, p.Limit+1, withPlatformAdmins)
	if err != nil {
		return projections.List[StaffView]{}, err
	}
	vs, err := pgx.CollectRows(rows, scanStaff)
	if err != nil {
		return projections.List[StaffView]{}, err
	}
	return projections.NewList(vs, p.Limit, func(s StaffView) any { return s.Email }), nil
}

// GetStaff returns one staff member, or eventstore.ErrNotFound.
func GetStaff(ctx context.Context, q eventstore.Querier, t tenant.ID, id uuid.UUID) (StaffView, error) {
	rows, err := q.Query(ctx, `SELECT `+staffCols+` FROM staff_members WHERE tenant_id = $1 AND id = $2`, t, id)
	if err != nil {
		return StaffView{}, err
	}
	v, err := pgx.CollectExactlyOneRow(rows, scanStaff)
	if errors.Is(err, pgx.ErrNoRows) {
		return StaffView{}, fmt.Errorf("staff %s: %w", id, eventstore.ErrNotFound)
	}
	return v, err
}
