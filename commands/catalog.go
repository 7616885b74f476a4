package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/domain/vendor"
	"github.com/honten/honten/eventstore"
)

// Claim kinds of the catalog commands (tenant scope).
const (
	ClaimProductHandle  = "product_handle"  // handle → product
	ClaimSKU            = "sku"             // SKU key (upper case) → variant
	ClaimVariant        = "variant"         // variant id → product
	ClaimCategory       = "category"        // category id → category
	ClaimCategoryHandle = "category_handle" // handle → category
)

var (
	products   = repo(catalog.ProductStream, catalog.FromHistory)
	categories = repo(catalog.CategoryStream, catalog.CategoryFromHistory)
)

// Errors of the catalog commands.
var (
	ErrHandleTaken     = errs.InvalidFields(errs.FieldError{Field: "handle", Message: "is already used by another product"})
	ErrSKUTaken        = errs.InvalidFields(errs.FieldError{Field: "sku", Message: "is already used by another variant of this shop"})
	ErrVendorSuspended = errs.InvalidFields(errs.FieldError{Field: "vendor_id", Message: "is suspended"})

	errCategoryHandleTaken = errs.InvalidFields(errs.FieldError{Field: "handle", Message: "is already used by another category"})
)

// VariantInput is a variant as a command receives it.
type VariantInput struct {
	SKU             string
	Title           string
	Options         []catalog.Option
	FulfillmentType string
	Price           money.Money
	CompareAtPrice  *money.Money
	TaxRate         string
	Status          string
	IsHot           bool
}

// parse validates the input's enums and SKU; field names are prefixed.
func (in VariantInput) parse(prefix string, cur money.Currency) (catalog.VariantSpec, error) {
	var v errs.Collector
	spec := catalog.VariantSpec{Title: in.Title, Options: in.Options, Price: in.Price, CompareAtPrice: in.CompareAtPrice, IsHot: in.IsHot}
	var err error
	spec.SKU, err = catalog.ParseSKU(in.SKU)
	v.Merge(prefix, err)
	if in.FulfillmentType != "" {
		spec.FulfillmentType, err = catalog.ParseFulfillmentType(in.FulfillmentType)
		v.Merge(prefix, err)
	}
	if in.TaxRate != "" {
		spec.TaxRate, err = catalog.ParseTaxRate(in.TaxRate)
		v.Merge(prefix, err)
	}
	if in.Status != "" {
		spec.Status, err = catalog.ParseVariantStatus(in.Status)
		v.Merge(prefix, err)
	}
	if in.Price.Currency() != "" && in.Price.Currency() != cur {
		v.Add(join(prefix, "price"), "must be in "+string(cur))
	}
	if in.CompareAtPrice != nil && in.CompareAtPrice.Currency() != cur {
		v.Add(join(prefix, "compare_at_price"), "must be in "+string(cur))
	}
	return spec, v.Err()
}

func join(prefix, field string) string {
	if prefix == "" {
		return field
	}
	return prefix + "." + field
}

// CreateProduct creates a product with its variants.
type CreateProduct struct {
	Tenant tenant.ID
	By     By
	// VendorScope, for vendor-role staff, forces the product's vendor.
	VendorScope *uuid.UUID
	Vendor      *uuid.UUID // default: the tenant's implicit vendor
	Store       *uuid.UUID // default: the tenant's default store
	Title       string
	Handle      string
	Description string
	Status      string // draft (default) or active
	Categories  []string
	Locations   []uuid.UUID // default: every location of the store
	Digital     *catalog.Digital
	Variants    []VariantInput
}

// CreateProduct creates the product. Its id and its variants' ids derive
// from the command id (so an idempotent retry creates the same ids). It
// returns Invalid errors naming every bad field (unknown categories,
// locations of another store, taken SKUs or handle, prices out of range).
func (s *Service) CreateProduct(ctx context.Context, c CreateProduct) (catalog.ProductID, Result, error) {
	id := catalog.ProductID{UUID: c.By.DerivedID(0)}
	now := s.Now()
	version, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (int64, error) {
		t, err := tenants.Read(ctx, tx, c.Tenant, c.Tenant.UUID)
		if err != nil {
			return 0, err
		}
		var v errs.Collector
		spec := catalog.ProductSpec{Title: c.Title, Handle: c.Handle, Description: c.Description, Digital: c.Digital}
		spec.Vendor = t.ImplicitVendor()
		if c.Vendor != nil {
			spec.Vendor = *c.Vendor
		}
		if c.VendorScope != nil {
			if c.Vendor != nil && *c.Vendor != *c.VendorScope {
				v.Add("vendor_id", "vendor staff create products of their own vendor only")
			}
			spec.Vendor = *c.VendorScope
		}
		v.Merge("", s.checkVendor(ctx, tx, c.Tenant, spec.Vendor))
		spec.Store = t.DefaultStore()
		if c.Store != nil {
			spec.Store = *c.Store
		}
		st, err := storeRepo.Load(ctx, tx, c.Tenant, spec.Store)
		if errors.Is(err, eventstore.ErrNotFound) {
			v.Add("store_id", "is not a store of this shop")
		} else if err != nil {
			return 0, err
		}
		if c.Locations == nil && st != nil {
			for _, l := range st.Locations() {
				spec.Locations = append(spec.Locations, l.ID.UUID)
			}
		} else {
			locs, err := s.checkLocations(ctx, tx, c.Tenant, spec.Store, c.Locations)
			v.Merge("", err)
			spec.Locations = locs
		}
		cats, err := s.resolveCategories(ctx, tx, c.Tenant, c.Categories)
		v.Merge("", err)
		spec.Categories = cats
		var vspecs []catalog.VariantSpec
		for i, vi := range c.Variants {
			vs, err := vi.parse(fmt.Sprintf("variants[%d]", i), t.Currency())
			v.Merge("", err)
			vspecs = append(vspecs, vs)
		}
		if err := v.Err(); err != nil {
			return 0, err
		}
		p, err := catalog.NewProduct(id, spec, now)
		if err != nil {
			return 0, err
		}
		for i, vs := range vspecs {
			if err := p.AddVariant(catalog.VariantID{UUID: c.By.DerivedID(100 + i)}, vs, now); err != nil {
				return 0, inVariant(i, err)
			}
		}
		if c.Status != "" {
			status, err := catalog.ParseProductStatus(c.Status)
			if err != nil {
				return 0, err
			}
			if err := p.SetStatus(status, now); err != nil {
				return 0, err
			}
		}
		if _, err := products.Save(ctx, tx, c.Tenant, id.UUID, p, nil, c.By.metadata(c.Tenant)); err != nil {
			return 0, err
		}
		if err := claimProduct(ctx, tx, c.Tenant, p); err != nil {
			return 0, err
		}
		return p.Version(), nil
	})
	return id, Result{Result: res, ID: id.UUID, Version: version}, err
}

// inVariant names the i-th variant of a new product in err's fields when
// it is an Invalid error; it returns other errors as they are.
func inVariant(i int, err error) error {
	if e, ok := errs.As(err); !ok || e.Kind != errs.KindInvalid {
		return err
	}
	var v errs.Collector
	v.Merge(fmt.Sprintf("variants[%d]", i), err)
	return v.Err()
}

// claimProduct claims the product's handle, its variants' SKUs and ids.
func claimProduct(ctx context.Context, tx *eventstore.Tx, t tenant.ID, p *catalog.Product) error {
	if err := claim(ctx, tx, t.UUID, ClaimProductHandle, p.Handle(), p.ID().UUID, ErrHandleTaken); err != nil {
		return err
	}
	for i, v := range p.Variants() {
		if err := claim(ctx, tx, t.UUID, ClaimSKU, v.SKU.Key(), v.ID.UUID, ErrSKUTaken); err != nil {
			return inVariant(i, err)
		}
		if err := tx.Claim(ctx, t.UUID, ClaimVariant, v.ID.String(), p.ID().UUID); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) checkVendor(ctx context.Context, tx *eventstore.Tx, t tenant.ID, id uuid.UUID) error {
	vd, err := vendors.Load(ctx, tx, t, id)
	if errors.Is(err, eventstore.ErrNotFound) {
		return errs.InvalidFields(errs.FieldError{Field: "vendor_id", Message: "is not a vendor of this shop"})
	}
	if err != nil {
		return err
	}
	if vd.Status() != vendor.Active {
		return ErrVendorSuspended
	}
	return nil
}

func (s *Service) checkLocations(ctx context.Context, tx *eventstore.Tx, t tenant.ID, st uuid.UUID, locs []uuid.UUID) ([]uuid.UUID, error) {
	var v errs.Collector
	seen := map[uuid.UUID]bool{}
	out := []uuid.UUID{}
	for i, l := range locs {
		owner, ok, err := eventstore.Owner(ctx, tx, t.UUID, ClaimLocation, l.String())
		if err != nil {
			return nil, err
		}
		if !ok || owner != st {
			v.Add(fmt.Sprintf("location_ids[%d]", i), "is not a location of the product's store")
			continue
		}
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out, v.Err()
}

// resolveCategories accepts category ids or handles and returns ids.
func (s *Service) resolveCategories(ctx context.Context, tx *eventstore.Tx, t tenant.ID, refs []string) ([]catalog.CategoryID, error) {
	var v errs.Collector
	seen := map[uuid.UUID]bool{}
	out := []catalog.CategoryID{}
	for i, ref := range refs {
		kind, value := ClaimCategoryHandle, strings.TrimSpace(ref)
		if id, err := catalog.ParseCategoryID(value); err == nil {
			kind, value = ClaimCategory, id.String()
		}
		owner, ok, err := eventstore.Owner(ctx, tx, t.UUID, kind, value)
		if err != nil {
			return nil, err
		}
		if !ok {
			v.Add(fmt.Sprintf("categories[%d]", i), "is not a category of this shop")
			continue
		}
		if !seen[owner] {
			seen[owner] = true
			out = append(out, catalog.CategoryID{UUID: owner})
		}
	}
	return out, v.Err()
}

// UpdateProduct changes a product; nil fields stay.
type UpdateProduct struct {
	Tenant      tenant.ID
	By          By
	Product     catalog.ProductID
	IfVersion   *int64
	VendorScope *uuid.UUID
	Title       *string
	Handle      *string
	Description *string
	Status      *string
	Categories  *[]string
	Locations   *[]uuid.UUID
	Digital     *catalog.Digital
}

// UpdateProduct applies c. It returns ErrNotFound (also for another
// vendor's product under a vendor scope), ErrVersionConflict, Invalid
// errors and the product's state errors (catalog.ErrArchived, ErrNothingToSell).
func (s *Service) UpdateProduct(ctx context.Context, c UpdateProduct) (Result, error) {
	now := s.Now()
	version, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (int64, error) {
		p, err := s.loadProduct(ctx, tx, c.Tenant, c.Product, c.VendorScope)
		if err != nil {
			return 0, err
		}
		ch := catalog.ProductChanges{Title: c.Title, Handle: c.Handle, Description: c.Description, Digital: c.Digital}
		var v errs.Collector
		if c.Categories != nil {
			cats, err := s.resolveCategories(ctx, tx, c.Tenant, *c.Categories)
			v.Merge("", err)
			ch.Categories = &cats
		}
		if c.Locations != nil {
			locs, err := s.checkLocations(ctx, tx, c.Tenant, p.Store(), *c.Locations)
			v.Merge("", err)
			ch.Locations = &locs
		}
		var status *catalog.ProductStatus
		if c.Status != nil {
			st, err := catalog.ParseProductStatus(*c.Status)
			v.Merge("", err)
			status = &st
		}
		if err := v.Err(); err != nil {
			return 0, err
		}
		oldHandle := p.Handle()
		// Restoring an archived product comes first, so it can then be edited.
		if status != nil && *status != catalog.ProductArchived && p.Status() == catalog.ProductArchived {
			if err := p.SetStatus(catalog.ProductDraft, now); err != nil {
				return 0, err
			}
		}
		if err := p.Update(ch, now); err != nil {
			return 0, err
		}
		if status != nil {
			if err := p.SetStatus(*status, now); err != nil {
				return 0, err
			}
		}
		if _, err := products.Save(ctx, tx, c.Tenant, c.Product.UUID, p, c.IfVersion, c.By.metadata(c.Tenant)); err != nil {
			return 0, err
		}
		if err := reclaim(ctx, tx, c.Tenant.UUID, ClaimProductHandle, oldHandle, p.Handle(), c.Product.UUID, ErrHandleTaken); err != nil {
			return 0, err
		}
		return p.Version(), nil
	})
	return Result{Result: res, ID: c.Product.UUID, Version: version}, err
}

// loadProduct loads a product, hiding other vendors' products from a vendor scope.
func (s *Service) loadProduct(ctx context.Context, tx *eventstore.Tx, t tenant.ID, id catalog.ProductID, scope *uuid.UUID) (*catalog.Product, error) {
	p, err := products.Load(ctx, tx, t, id.UUID)
	if err != nil {
		return nil, err
	}
	if scope != nil && p.Vendor() != *scope {
		return nil, fmt.Errorf("product %s: %w", id, eventstore.ErrNotFound)
	}
	return p, nil
}

// AddVariant adds a variant to a product.
type AddVariant struct {
	Tenant      tenant.ID
	By          By
	Product     catalog.ProductID
	VendorScope *uuid.UUID
	Variant     VariantInput
}

// AddVariant adds the variant (its id derives from the command id). It
// returns ErrNotFound, Invalid errors (a taken SKU) and catalog's errors.
func (s *Service) AddVariant(ctx context.Context, c AddVariant) (catalog.VariantID, Result, error) {
	id := catalog.VariantID{UUID: c.By.DerivedID(0)}
	now := s.Now()
	version, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (int64, error) {
		t, err := tenants.Read(ctx, tx, c.Tenant, c.Tenant.UUID)
		if err != nil {
			return 0, err
		}
		p, err := s.loadProduct(ctx, tx, c.Tenant, c.Product, c.VendorScope)
		if err != nil {
			return 0, err
		}
		spec, err := c.Variant.parse("", t.Currency())
		if err != nil {
			return 0, err
		}
		if err := p.AddVariant(id, spec, now); err != nil {
			return 0, err
		}
		if _, err := products.Save(ctx, tx, c.Tenant, c.Product.UUID, p, nil, c.By.metadata(c.Tenant)); err != nil {
			return 0, err
		}
		if err := claim(ctx, tx, c.Tenant.UUID, ClaimSKU, spec.SKU.Key(), id.UUID, ErrSKUTaken); err != nil {
			return 0, err
		}
		return p.Version(), tx.Claim(ctx, c.Tenant.UUID, ClaimVariant, id.String(), c.Product.UUID)
	})
	return id, Result{Result: res, ID: id.UUID, Version: version}, err
}

// UpdateVariant changes a variant; nil fields stay.
type UpdateVariant struct {
	Tenant          tenant.ID
	By              By
	Variant         catalog.VariantID
	IfVersion       *int64 // of the product
	VendorScope     *uuid.UUID
	SKU             *string
	Title           *string
	Options         *[]catalog.Option
	FulfillmentType *string
	Price           *money.Money
	CompareAtPrice  **money.Money // set to a nil pointer to clear
	TaxRate         *string
	Status          *string
	IsHot           *bool
}

// VariantProduct returns the product a variant belongs to, or ErrNotFound.
// In a command's transaction, a variant's product is looked up once per
// store (a variant never moves to another product: KeepOwners).
func VariantProduct(ctx context.Context, q eventstore.Querier, t tenant.ID, v catalog.VariantID) (catalog.ProductID, error) {
	var owner uuid.UUID
	var ok bool
	var err error
	if tx, isTx := q.(*eventstore.Tx); isTx {
		owner, ok, err = tx.Owner(ctx, t.UUID, ClaimVariant, v.String())
	} else {
		owner, ok, err = eventstore.Owner(ctx, q, t.UUID, ClaimVariant, v.String())
	}
	if err != nil {
		return catalog.ProductID{}, err
	}
	if !ok {
		return catalog.ProductID{}, fmt.Errorf("variant %s: %w", v, eventstore.ErrNotFound)
	}
	return catalog.ProductID{UUID: owner}, nil
}

// VariantBySKU returns the variant with a SKU, or ErrNotFound.
func VariantBySKU(ctx context.Context, q eventstore.Querier, t tenant.ID, sku string) (catalog.VariantID, error) {
	s, err := catalog.ParseSKU(sku)
	if err != nil {
		return catalog.VariantID{}, fmt.Errorf("sku %q: %w", sku, eventstore.ErrNotFound)
	}
	owner, ok, err := eventstore.Owner(ctx, q, t.UUID, ClaimSKU, s.Key())
	if err != nil {
		return catalog.VariantID{}, err
	}
	if !ok {
		return catalog.VariantID{}, fmt.Errorf("sku %q: %w", sku, eventstore.ErrNotFound)
	}
	return catalog.VariantID{UUID: owner}, nil
}

// UpdateVariant applies c; a price change records price.updated. It returns
// ErrNotFound, ErrVersionConflict (IfVersion is the product's), Invalid
// errors and catalog's errors.
func (s *Service) UpdateVariant(ctx context.Context, c UpdateVariant) (catalog.ProductID, Result, error) {
	now := s.Now()
	var pid catalog.ProductID
	version, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (int64, error) {
		var err error
		if pid, err = VariantProduct(ctx, tx, c.Tenant, c.Variant); err != nil {
			return 0, err
		}
		t, err := tenants.Read(ctx, tx, c.Tenant, c.Tenant.UUID)
		if err != nil {
			return 0, err
		}
		p, err := s.loadProduct(ctx, tx, c.Tenant, pid, c.VendorScope)
		if err != nil {
			return 0, err
		}
		cur, _ := p.Variant(c.Variant)
		var v errs.Collector
		ch := catalog.VariantChanges{Title: c.Title, Options: c.Options, IsHot: c.IsHot, Price: c.Price, CompareAtPrice: c.CompareAtPrice}
		if c.SKU != nil {
			sku, err := catalog.ParseSKU(*c.SKU)
			v.Merge("", err)
			ch.SKU = &sku
		}
		if c.FulfillmentType != nil {
			f, err := catalog.ParseFulfillmentType(*c.FulfillmentType)
			v.Merge("", err)
			ch.FulfillmentType = &f
		}
		if c.TaxRate != nil {
			r, err := catalog.ParseTaxRate(*c.TaxRate)
			v.Merge("", err)
			ch.TaxRate = &r
		}
		if c.Status != nil {
			st, err := catalog.ParseVariantStatus(*c.Status)
			v.Merge("", err)
			ch.Status = &st
		}
		if c.Price != nil && c.Price.Currency() != t.Currency() {
			v.Add("price", "must be in "+string(t.Currency()))
		}
		if c.CompareAtPrice != nil && *c.CompareAtPrice != nil && (*c.CompareAtPrice).Currency() != t.Currency() {
			v.Add("compare_at_price", "must be in "+string(t.Currency()))
		}
		if err := v.Err(); err != nil {
			return 0, err
		}
		if err := p.UpdateVariant(c.Variant, ch, now); err != nil {
			return 0, err
		}
		if _, err := products.Save(ctx, tx, c.Tenant, pid.UUID, p, c.IfVersion, c.By.metadata(c.Tenant)); err != nil {
			return 0, err
		}
		if ch.SKU != nil {
			if err := reclaim(ctx, tx, c.Tenant.UUID, ClaimSKU, cur.SKU.Key(), ch.SKU.Key(), c.Variant.UUID, ErrSKUTaken); err != nil {
				return 0, err
			}
		}
		return p.Version(), nil
	})
	return pid, Result{Result: res, ID: c.Variant.UUID, Version: version}, err
}

// CreateCategory creates a category.
type CreateCategory struct {
	Tenant   tenant.ID
	By       By
	Name     string
	Handle   string
	Parent   *catalog.CategoryID
	Position int
}

// CreateCategory creates the category. It returns Invalid errors (an
// unknown parent, a taken handle, a tree too deep).
func (s *Service) CreateCategory(ctx context.Context, c CreateCategory) (catalog.CategoryID, Result, error) {
	id := catalog.CategoryID{UUID: c.By.DerivedID(0)}
	now := s.Now()
	_, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (struct{}, error) {
		if err := s.checkParent(ctx, tx, c.Tenant, id, c.Parent); err != nil {
			return struct{}{}, err
		}
		cat, err := catalog.NewCategory(id, catalog.CategorySpec{Name: c.Name, Handle: c.Handle, Parent: c.Parent, Position: c.Position}, now)
		if err != nil {
			return struct{}{}, err
		}
		if _, err := categories.Save(ctx, tx, c.Tenant, id.UUID, cat, nil, c.By.metadata(c.Tenant)); err != nil {
			return struct{}{}, err
		}
		if err := tx.Claim(ctx, c.Tenant.UUID, ClaimCategory, id.String(), id.UUID); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, claim(ctx, tx, c.Tenant.UUID, ClaimCategoryHandle, cat.Handle(), id.UUID, errCategoryHandleTaken)
	})
	return id, Result{Result: res, ID: id.UUID, Version: 1}, err
}

// UpdateCategory replaces a category's fields.
type UpdateCategory struct {
	Tenant    tenant.ID
	By        By
	Category  catalog.CategoryID
	IfVersion *int64
	Name      *string
	Handle    *string
	Parent    **catalog.CategoryID // set to a nil pointer to make it a root
	Position  *int
}

// UpdateCategory applies c. It returns ErrNotFound, ErrVersionConflict and Invalid errors.
func (s *Service) UpdateCategory(ctx context.Context, c UpdateCategory) (Result, error) {
	now := s.Now()
	version, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (int64, error) {
		cat, err := categories.Load(ctx, tx, c.Tenant, c.Category.UUID)
		if err != nil {
			return 0, err
		}
		spec := catalog.CategorySpec{Name: cat.Name(), Handle: cat.Handle(), Parent: cat.Parent(), Position: cat.Position()}
		if c.Name != nil {
			spec.Name = *c.Name
		}
		if c.Handle != nil {
			spec.Handle = *c.Handle
		}
		if c.Parent != nil {
			spec.Parent = *c.Parent
		}
		if c.Position != nil {
			spec.Position = *c.Position
		}
		if err := s.checkParent(ctx, tx, c.Tenant, c.Category, spec.Parent); err != nil {
			return 0, err
		}
		old := cat.Handle()
		if err := cat.Update(spec, now); err != nil {
			return 0, err
		}
		if _, err := categories.Save(ctx, tx, c.Tenant, c.Category.UUID, cat, c.IfVersion, c.By.metadata(c.Tenant)); err != nil {
			return 0, err
		}
		if err := reclaim(ctx, tx, c.Tenant.UUID, ClaimCategoryHandle, old, cat.Handle(), c.Category.UUID, errCategoryHandleTaken); err != nil {
			return 0, err
		}
		return cat.Version(), nil
	})
	return Result{Result: res, ID: c.Category.UUID, Version: version}, err
}

// checkParent walks up from parent: it must exist, not pass through id, and
// keep the tree within catalog.MaxCategoryDepth.
func (s *Service) checkParent(ctx context.Context, tx *eventstore.Tx, t tenant.ID, id catalog.CategoryID, parent *catalog.CategoryID) error {
	depth := 1
	for p := parent; p != nil; depth++ {
		if *p == id {
			return catalog.ErrCategoryCycle
		}
		if depth >= catalog.MaxCategoryDepth {
			return catalog.ErrCategoryDepth
		}
		cat, err := categories.Load(ctx, tx, t, p.UUID)
		if errors.Is(err, eventstore.ErrNotFound) {
			return errs.InvalidFields(errs.FieldError{Field: "parent_id", Message: "is not a category of this shop"})
		}
		if err != nil {
			return err
		}
		p = cat.Parent()
	}
	return nil
}
