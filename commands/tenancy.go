package commands

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/store"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/domain/vendor"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/database"
)

// Claim kinds of the tenancy commands.
const (
	ClaimTenantCode   = "tenant_code"   // platform scope: code → tenant
	ClaimTenantHost   = "tenant_host"   // platform scope: host name → tenant
	ClaimStoreCode    = "store_code"    // tenant scope: code → store
	ClaimLocation     = "location"      // tenant scope: location id → store
	ClaimLocationCode = "location_code" // tenant scope: "<store>/<code>" → location
)

var (
	tenants   = repo(tenant.StreamType, tenant.FromHistory)
	vendors   = repo(vendor.StreamType, vendor.FromHistory)
	storeRepo = repo(store.StreamType, store.FromHistory)
)

// ErrTenantCodeTaken means another tenant has the code.
var ErrTenantCodeTaken = errs.InvalidFields(errs.FieldError{Field: "code", Message: "is already taken"})

var errStoreCodeTaken = errs.InvalidFields(errs.FieldError{Field: "code", Message: "is already used by another store"})

// CreateTenant creates a shop or a mall with its implicit vendor and a
// default store with one location.
type CreateTenant struct {
	By              By
	ID              tenant.ID // optional; a fresh id when zero
	Code            string
	Name            string
	Type            string
	DefaultCurrency string
}

// TenantCreated is the result of CreateTenant.
type TenantCreated struct {
	Tenant   tenant.ID
	Vendor   vendor.ID
	Store    store.ID
	Location store.LocationID
}

// CreateTenant creates a tenant. It returns Invalid errors for bad fields or
// a taken code.
func (s *Service) CreateTenant(ctx context.Context, c CreateTenant) (TenantCreated, Result, error) {
	var v errs.Collector
	code, err := tenant.ParseCode(c.Code)
	v.Merge("", err)
	typ, err := tenant.ParseType(c.Type)
	v.Merge("", err)
	cur := money.JPY
	if c.DefaultCurrency != "" {
		if cur, err = money.ParseCurrency(c.DefaultCurrency); err != nil {
			v.Add("default_currency", "must be an ISO 4217 currency code we support (JPY, USD, EUR, ...)")
		}
	}
	v.Merge("", tenant.ValidateName("name", c.Name))
	if err := v.Err(); err != nil {
		return TenantCreated{}, Result{}, err
	}
	// A retried request must create the same ids.
	out := TenantCreated{Tenant: tenant.ID{UUID: c.By.DerivedID(0)}, Vendor: vendor.ID{UUID: c.By.DerivedID(1)},
		Store: store.ID{UUID: c.By.DerivedID(2)}, Location: store.LocationID{UUID: c.By.DerivedID(3)}}
	if !c.ID.IsZero() {
		out.Tenant = c.ID
	}
	now := s.Now()
	r, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (TenantCreated, error) {
		// The new tenant's rows are written as that tenant (row-level security).
		return out, database.InTenant(ctx, tx, out.Tenant.UUID, func() error {
			t, err := tenant.New(out.Tenant, code, c.Name, typ, cur, out.Vendor.UUID, out.Store.UUID, now)
			if err != nil {
				return err
			}
			vd, err := vendor.New(out.Vendor, out.Tenant, c.Name, decimal.Zero, vendor.Active, true, now)
			if err != nil {
				return err
			}
			st, err := store.New(out.Store, out.Tenant, "main", c.Name, now)
			if err != nil {
				return err
			}
			if err := st.AddLocation(out.Location, "main", "本店倉庫", store.LocationActive, now); err != nil {
				return err
			}
			md := c.By.metadata(out.Tenant)
			if _, err := tenants.Save(ctx, tx, out.Tenant, out.Tenant.UUID, t, nil, md); err != nil {
				return err
			}
			if _, err := vendors.Save(ctx, tx, out.Tenant, out.Vendor.UUID, vd, nil, md); err != nil {
				return err
			}
			if _, err := storeRepo.Save(ctx, tx, out.Tenant, out.Store.UUID, st, nil, md); err != nil {
				return err
			}
			if err := claim(ctx, tx, eventstore.PlatformScope, ClaimTenantCode, string(code), out.Tenant.UUID, ErrTenantCodeTaken); err != nil {
				return err
			}
			if err := claimStoreAndLocation(ctx, tx, out.Tenant, out.Store, "main", out.Location, "main"); err != nil {
				return err
			}
			return nil
		})
	})
	return r, Result{Result: res, ID: r.Tenant.UUID, Version: 1}, err
}

func claimStoreAndLocation(ctx context.Context, tx *eventstore.Tx, t tenant.ID, st store.ID, code store.Code, loc store.LocationID, locCode store.LocationCode) error {
	if code != "" {
		if err := claim(ctx, tx, t.UUID, ClaimStoreCode, string(code), st.UUID, errStoreCodeTaken); err != nil {
			return err
		}
	}
	if err := tx.Claim(ctx, t.UUID, ClaimLocation, loc.String(), st.UUID); err != nil {
		return err
	}
	return tx.Claim(ctx, t.UUID, ClaimLocationCode, st.String()+"/"+string(locCode), loc.UUID)
}

// UpdateSettings changes a tenant's settings through Change, which gets
// the current settings and returns the new ones.
type UpdateSettings struct {
	Tenant    tenant.ID
	By        By
	IfVersion *int64
	Change    func(tenant.Settings) (tenant.Settings, error)
}

// UpdateSettings applies c. It returns Invalid errors from validation and
// ErrVersionConflict for a stale IfVersion; host names are claimed across
// the platform.
func (s *Service) UpdateSettings(ctx context.Context, c UpdateSettings) (Result, error) {
	now := s.Now()
	version, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (int64, error) {
		t, err := tenants.Load(ctx, tx, c.Tenant, c.Tenant.UUID)
		if err != nil {
			return 0, err
		}
		before := t.Settings().Hosts
		next, err := c.Change(t.Settings())
		if err != nil {
			return 0, err
		}
		if err := t.UpdateSettings(next, now); err != nil {
			return 0, err
		}
		if _, err := tenants.Save(ctx, tx, c.Tenant, c.Tenant.UUID, t, c.IfVersion, c.By.metadata(c.Tenant)); err != nil {
			return 0, err
		}
		if err := reclaimHosts(ctx, tx, c.Tenant, before, t.Settings().Hosts); err != nil {
			return 0, err
		}
		return t.Version(), nil
	})
	return Result{Result: res, ID: c.Tenant.UUID, Version: version}, err
}

func reclaimHosts(ctx context.Context, tx *eventstore.Tx, t tenant.ID, before, after []string) error {
	keep := map[string]bool{}
	for _, h := range after {
		keep[h] = true
	}
	for _, h := range before {
		if !keep[h] {
			if err := tx.Release(ctx, eventstore.PlatformScope, ClaimTenantHost, h, t.UUID); err != nil {
				return err
			}
		}
	}
	for i, h := range after {
		taken := errs.InvalidFields(errs.FieldError{Field: fmt.Sprintf("hosts[%d]", i), Message: "is mapped to another shop"})
		if err := claim(ctx, tx, eventstore.PlatformScope, ClaimTenantHost, h, t.UUID, taken); err != nil {
			return err
		}
	}
	return nil
}

// LoadTenant reads a tenant aggregate as committed (for settings reads that
// must be current, such as the e-mails of an order). The tenant is shared
// (eventstore.Repo.Read): read it, never change it.
func (s *Service) LoadTenant(ctx context.Context, t tenant.ID) (*tenant.Tenant, error) {
	var out *tenant.Tenant
	_, err := s.store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		var err error
		out, err = tenants.Read(ctx, tx, t, t.UUID)
		return err
	})
	return out, err
}

// ErrSingleBrandVendor means a single-brand shop tried to add a vendor.
var ErrSingleBrandVendor = errs.Conflict("single_brand_has_one_vendor", "a single-brand shop has exactly one vendor; switch to a mall to add vendors")

// CreateVendor adds a vendor to a mall.
type CreateVendor struct {
	Tenant         tenant.ID
	By             By
	Name           string
	CommissionRate decimal.Decimal
	Status         string
}

// CreateVendor creates a vendor. It returns ErrSingleBrandVendor for a
// single-brand tenant and Invalid errors for bad fields.
func (s *Service) CreateVendor(ctx context.Context, c CreateVendor) (vendor.ID, Result, error) {
	st := vendor.Active
	if c.Status != "" {
		var err error
		if st, err = vendor.ParseStatus(c.Status); err != nil {
			return vendor.ID{}, Result{}, err
		}
	}
	id := vendor.ID{UUID: c.By.DerivedID(0)}
	now := s.Now()
	_, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (vendor.ID, error) {
		t, err := tenants.Read(ctx, tx, c.Tenant, c.Tenant.UUID)
		if err != nil {
			return id, err
		}
		if t.Type() != tenant.Mall {
			return id, ErrSingleBrandVendor
		}
		vd, err := vendor.New(id, c.Tenant, c.Name, c.CommissionRate, st, false, now)
		if err != nil {
			return id, err
		}
		_, err = vendors.Save(ctx, tx, c.Tenant, id.UUID, vd, nil, c.By.metadata(c.Tenant))
		return id, err
	})
	return id, Result{Result: res, ID: id.UUID, Version: 1}, err
}

// UpdateVendor changes a vendor; nil fields stay.
type UpdateVendor struct {
	Tenant         tenant.ID
	By             By
	Vendor         vendor.ID
	IfVersion      *int64
	Name           *string
	CommissionRate *decimal.Decimal
	// EffectiveFrom dates CommissionRate (nil: from now).
	EffectiveFrom *time.Time
	Status        *string
}

// UpdateVendor applies c. It returns ErrNotFound, Invalid errors,
// vendor.ErrImplicitVendor or ErrVersionConflict.
func (s *Service) UpdateVendor(ctx context.Context, c UpdateVendor) (Result, error) {
	var st *vendor.Status
	if c.Status != nil {
		v, err := vendor.ParseStatus(*c.Status)
		if err != nil {
			return Result{}, err
		}
		st = &v
	}
	now := s.Now()
	vd, res, err := vendors.Update(ctx, s.store, c.Tenant, c.Vendor.UUID, c.IfVersion, c.By.metadata(c.Tenant), func(v *vendor.Vendor) error {
		return v.Update(c.Name, c.CommissionRate, c.EffectiveFrom, st, now)
	})
	if err != nil {
		return Result{}, err
	}
	return Result{Result: res, ID: c.Vendor.UUID, Version: vd.Version()}, nil
}

// CreateStore adds a sales channel.
type CreateStore struct {
	Tenant tenant.ID
	By     By
	Code   string
	Name   string
}

// CreateStore creates a store. It returns Invalid errors for bad fields or a taken code.
func (s *Service) CreateStore(ctx context.Context, c CreateStore) (store.ID, Result, error) {
	code, err := store.ParseCode(c.Code)
	if err != nil {
		return store.ID{}, Result{}, err
	}
	id := store.ID{UUID: c.By.DerivedID(0)}
	now := s.Now()
	_, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (store.ID, error) {
		st, err := store.New(id, c.Tenant, code, c.Name, now)
		if err != nil {
			return id, err
		}
		if _, err := storeRepo.Save(ctx, tx, c.Tenant, id.UUID, st, nil, c.By.metadata(c.Tenant)); err != nil {
			return id, err
		}
		return id, claim(ctx, tx, c.Tenant.UUID, ClaimStoreCode, string(code), id.UUID, errStoreCodeTaken)
	})
	return id, Result{Result: res, ID: id.UUID, Version: 1}, err
}

// AddLocation adds a stock location to a store.
type AddLocation struct {
	Tenant tenant.ID
	By     By
	Store  store.ID
	Code   string
	Name   string
	Status string
}

// AddLocation adds the location. It returns ErrNotFound for an unknown
// store and Invalid errors for bad fields or a code used in the store.
func (s *Service) AddLocation(ctx context.Context, c AddLocation) (store.LocationID, Result, error) {
	var v errs.Collector
	code, err := store.ParseLocationCode(c.Code)
	v.Merge("", err)
	st := store.LocationActive
	if c.Status != "" {
		st, err = store.ParseLocationStatus(c.Status)
		v.Merge("", err)
	}
	if err := v.Err(); err != nil {
		return store.LocationID{}, Result{}, err
	}
	id := store.LocationID{UUID: c.By.DerivedID(0)}
	now := s.Now()
	version, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (int64, error) {
		x, err := storeRepo.Load(ctx, tx, c.Tenant, c.Store.UUID)
		if err != nil {
			return 0, err
		}
		if err := x.AddLocation(id, code, c.Name, st, now); err != nil {
			return 0, err
		}
		if _, err := storeRepo.Save(ctx, tx, c.Tenant, c.Store.UUID, x, nil, c.By.metadata(c.Tenant)); err != nil {
			return 0, err
		}
		return x.Version(), claimStoreAndLocation(ctx, tx, c.Tenant, c.Store, "", id, code)
	})
	return id, Result{Result: res, ID: id.UUID, Version: version}, err
}

// LocationStore returns the store a location belongs to in tenant t, or ErrNotFound.
func (s *Service) LocationStore(ctx context.Context, q eventstore.Querier, t tenant.ID, loc store.LocationID) (store.ID, error) {
	owner, ok, err := eventstore.Owner(ctx, q, t.UUID, ClaimLocation, loc.String())
	if err != nil {
		return store.ID{}, err
	}
	if !ok {
		return store.ID{}, fmt.Errorf("location %s: %w", loc, eventstore.ErrNotFound)
	}
	return store.ID{UUID: owner}, nil
}
