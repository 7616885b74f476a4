package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/honten/honten/commands/reservations"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/inventory"
	"github.com/honten/honten/domain/store"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

// MaxReasonLen bounds an adjustment's reason, in characters.
const MaxReasonLen = 200

// Errors of the inventory commands.
var (
	// ErrUnknownSKU means no variant of the shop (or, for vendor staff, of
	// their vendor) has the SKU.
	ErrUnknownSKU = errs.Field("sku", "is not a SKU of this shop")
	// ErrUnknownLocation means the location is not one of the product's store
	// (nor of the shop).
	ErrUnknownLocation = errs.Field("location_id", "is not a location of the product's store")
	// ErrNoLocation means the product's store has no location to default to.
	ErrNoLocation = errs.Field("location_id", "is required: the product's store has no location")
)

// AdjustInventory changes the on-hand stock of one variant at one location,
// by Delta or to Set (exactly one).
type AdjustInventory struct {
	Tenant tenant.ID
	By     By
	// VendorScope, for vendor-role staff, limits the command to that
	// vendor's products.
	VendorScope *uuid.UUID
	// Variant or SKU (exactly one) names the variant.
	Variant *catalog.VariantID
	SKU     string
	// Location is where the stock is; zero means the first location of the
	// product's store (for a product of the default store: the tenant's
	// default store's first location).
	Location store.LocationID
	Delta    *int64
	Set      *int64
	// Reason is required: a count, a delivery, damage, a correction.
	Reason string
}

// StockLevel is the stock of a variant at a location after a command.
type StockLevel struct {
	Variant   catalog.VariantID
	Product   catalog.ProductID
	Vendor    uuid.UUID
	SKU       catalog.SKU
	Location  store.LocationID
	OnHand    int64
	Reserved  int64
	Available int64
	// Version is the inventory stream's version (0 before its first event).
	Version int64
	// At is when the command changed the stock (zero when it changed nothing).
	At time.Time
}

// validate checks the command's own fields.
func (c AdjustInventory) validate() error {
	var v errs.Collector
	switch {
	case c.Variant == nil && strings.TrimSpace(c.SKU) == "":
		v.Add("sku", "give either sku or variant_id")
	case c.Variant != nil && c.SKU != "":
		v.Add("sku", "give either sku or variant_id, not both")
	case c.Variant != nil && c.Variant.IsZero():
		v.Add("variant_id", "must be a variant id")
	}
	switch {
	case c.Delta == nil && c.Set == nil:
		v.Add("delta", "give either delta or set")
	case c.Delta != nil && c.Set != nil:
		v.Add("delta", "give either delta or set, not both")
	case c.Delta != nil && *c.Delta == 0:
		v.Merge("", inventory.ErrNoChange)
	case c.Delta != nil && (*c.Delta < -inventory.MaxStock || *c.Delta > inventory.MaxStock):
		v.Add("delta", "must be between -1,000,000,000 and 1,000,000,000")
	case c.Set != nil && (*c.Set < 0 || *c.Set > inventory.MaxStock):
		v.Add("set", "must be between 0 and 1,000,000,000")
	}
	reason := strings.TrimSpace(c.Reason)
	switch {
	case reason == "":
		v.Add("reason", "is required")
	case !utf8.ValidString(reason) || strings.ContainsFunc(reason, unicode.IsControl):
		v.Add("reason", "must be text without control characters")
	case utf8.RuneCountInString(reason) > MaxReasonLen:
		v.Add("reason", fmt.Sprintf("must be at most %d characters", MaxReasonLen))
	}
	return v.Err()
}

// AdjustInventory applies c and returns the stock level at the location
// afterwards; Result.Version is the inventory stream's version. Setting the
// stock it already has appends nothing. Concurrent adjustments of one
// variant queue behind each other and all land.
//
// It returns Invalid errors for bad fields (also on "delta" or "set" when
// on hand would pass inventory.MaxStock), ErrUnknownSKU for a SKU that is
// not the shop's (or not the vendor's, under a VendorScope),
// eventstore.ErrNotFound for such a Variant, ErrUnknownLocation and
// ErrNoLocation, and a *StockConflict matching inventory.ErrNegativeStock
// (409, with the stock at the location) when on hand would go below zero or
// below what is reserved.
func (s *Service) AdjustInventory(ctx context.Context, c AdjustInventory) (StockLevel, Result, error) {
	if err := c.validate(); err != nil {
		return StockLevel{}, Result{}, err
	}
	now := s.Now()
	reason := strings.TrimSpace(c.Reason)
	lvl, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (StockLevel, error) {
		p, v, err := s.resolveVariant(ctx, tx, c.Tenant, c.Variant, c.SKU, c.VendorScope)
		if err != nil {
			return StockLevel{}, err
		}
		loc, err := s.stockLocation(ctx, tx, c.Tenant, p, c.Location)
		if err != nil {
			return StockLevel{}, err
		}
		it, err := reservations.LockItem(ctx, tx, c.Tenant, v.ID)
		if err != nil {
			return StockLevel{}, err
		}
		delta := int64(0)
		if c.Delta != nil {
			delta = *c.Delta
		}
		if err := it.Adjust(loc.UUID, delta, c.Set, reason, now); err != nil {
			return StockLevel{}, adjustError(err, c, it, loc)
		}
		changed := len(it.Pending()) > 0
		if err := reservations.SaveItem(ctx, tx, c.Tenant, v.ID, it, c.By.metadata(c.Tenant)); err != nil {
			return StockLevel{}, err
		}
		lvl := StockLevel{Variant: v.ID, Product: p.ID(), Vendor: p.Vendor(), SKU: v.SKU, Location: loc,
			OnHand: it.OnHand(loc.UUID), Reserved: it.Reserved(loc.UUID), Available: it.Available(loc.UUID), Version: it.Version()}
		if changed {
			lvl.At = now
		}
		return lvl, nil
	})
	return lvl, Result{Result: res, ID: lvl.Variant.UUID, Version: lvl.Version}, err
}

// resolveVariant finds the variant by id or SKU and loads its product,
// hiding other vendors' variants from a vendor scope exactly like missing ones.
func (s *Service) resolveVariant(ctx context.Context, tx *eventstore.Tx, t tenant.ID, id *catalog.VariantID, sku string, scope *uuid.UUID) (*catalog.Product, catalog.Variant, error) {
	notFound := func() error {
		if id == nil {
			return fmt.Errorf("sku %q: %w", sku, ErrUnknownSKU)
		}
		return fmt.Errorf("variant %s: %w", id, eventstore.ErrNotFound)
	}
	var vid catalog.VariantID
	if id != nil {
		vid = *id
	} else {
		var err error
		if vid, err = VariantBySKU(ctx, tx, t, sku); err != nil {
			if errors.Is(err, eventstore.ErrNotFound) {
				return nil, catalog.Variant{}, notFound()
			}
			return nil, catalog.Variant{}, err
		}
	}
	pid, err := VariantProduct(ctx, tx, t, vid)
	if errors.Is(err, eventstore.ErrNotFound) {
		return nil, catalog.Variant{}, notFound()
	}
	if err != nil {
		return nil, catalog.Variant{}, err
	}
	p, err := s.loadProduct(ctx, tx, t, pid, scope)
	if errors.Is(err, eventstore.ErrNotFound) {
		return nil, catalog.Variant{}, notFound()
	}
	if err != nil {
		return nil, catalog.Variant{}, err
	}
	v, ok := p.Variant(vid)
	if !ok {
		return nil, catalog.Variant{}, notFound()
	}
	return p, v, nil
}

// stockLocation checks that loc is a location of the product's store, or
// picks that store's first location when loc is zero.
func (s *Service) stockLocation(ctx context.Context, tx *eventstore.Tx, t tenant.ID, p *catalog.Product, loc store.LocationID) (store.LocationID, error) {
	if loc.IsZero() {
		st, err := storeRepo.Load(ctx, tx, t, p.Store())
		if errors.Is(err, eventstore.ErrNotFound) {
			return store.LocationID{}, ErrNoLocation
		}
		if err != nil {
			return store.LocationID{}, err
		}
		locs := st.Locations()
		if len(locs) == 0 {
			return store.LocationID{}, ErrNoLocation
		}
		return locs[0].ID, nil
	}
	owner, ok, err := eventstore.Owner(ctx, tx, t.UUID, ClaimLocation, loc.String())
	if err != nil {
		return store.LocationID{}, err
	}
	if !ok || owner != p.Store() {
		return store.LocationID{}, fmt.Errorf("location %s: %w", loc, ErrUnknownLocation)
	}
	return loc, nil
}

// StockConflict is inventory.ErrNegativeStock with the stock at the
// location, for the problem document.
type StockConflict struct {
	err      *errs.Error
	Location store.LocationID
	OnHand   int64
	Reserved int64
}

func (e *StockConflict) Error() string { return e.err.Error() }

// Unwrap returns the classified error (inventory.ErrNegativeStock's kind and code).
func (e *StockConflict) Unwrap() error { return e.err }

// ProblemExtra adds the stock at the location to the problem document.
func (e *StockConflict) ProblemExtra() map[string]any {
	return map[string]any{"location_id": e.Location, "on_hand": e.OnHand, "reserved": e.Reserved}
}

// adjustError names the command's own fields in the domain's errors.
func adjustError(err error, c AdjustInventory, it *inventory.Item, loc store.LocationID) error {
	switch {
	case errors.Is(err, inventory.ErrNegativeStock):
		base := *inventory.ErrNegativeStock
		onHand, reserved := it.OnHand(loc.UUID), it.Reserved(loc.UUID)
		base.Message = fmt.Sprintf("not enough stock: %d on hand and %d reserved at this location; on hand cannot go below zero or below what is reserved", onHand, reserved)
		return &StockConflict{err: &base, Location: loc, OnHand: onHand, Reserved: reserved}
	case errors.Is(err, inventory.ErrOutOfRange):
		field := "set"
		if c.Set == nil {
			field = "delta"
		}
		return errs.Field(field, "would take on hand above 1,000,000,000")
	}
	return err
}

// StockTarget returns the variant and location that AdjustInventory with
// c's Variant or SKU, Location and VendorScope would change, without
// changing anything (to answer a replayed request). It returns the same
// lookup errors as AdjustInventory.
func (s *Service) StockTarget(ctx context.Context, c AdjustInventory) (catalog.VariantID, store.LocationID, error) {
	var v catalog.VariantID
	var loc store.LocationID
	_, err := s.store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		p, vr, err := s.resolveVariant(ctx, tx, c.Tenant, c.Variant, c.SKU, c.VendorScope)
		if err != nil {
			return err
		}
		v = vr.ID
		loc, err = s.stockLocation(ctx, tx, c.Tenant, p, c.Location)
		return err
	})
	return v, loc, err
}
