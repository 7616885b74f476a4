package commands

import (
	"context"
	"fmt"
	"slices"

	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/ids"
	"github.com/honten/honten/domain/inventory"
	"github.com/honten/honten/domain/store"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

// StockSet is one variant's on-hand units at one location.
type StockSet struct {
	Variant  catalog.VariantID
	Location store.LocationID
	OnHand   int64
}

// SetStock sets the on-hand units of several variants of one product in one
// transaction (imports, the demo load): a count, not a delta. Levels that
// already hold the value record nothing.
type SetStock struct {
	Tenant  tenant.ID
	By      By
	Product catalog.ProductID
	Levels  []StockSet
	Reason  string
}

// SetStock applies c. It returns ErrNotFound for an unknown product,
// Invalid errors naming the level (levels[i]) whose variant or location is
// not the product's, and a stock conflict when a level is below what is reserved.
func (s *Service) SetStock(ctx context.Context, c SetStock) (Result, error) {
	now := s.Now()
	levels := append([]StockSet(nil), c.Levels...)
	// Lock variants in one order, so two batches cannot deadlock.
	slices.SortStableFunc(levels, func(a, b StockSet) int { return ids.Compare(a.Variant.UUID, b.Variant.UUID) })
	_, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (struct{}, error) {
		p, err := products.Read(ctx, tx, c.Tenant, c.Product.UUID)
		if err != nil {
			return struct{}{}, err
		}
		var v errs.Collector
		for i, l := range levels {
			if _, ok := p.Variant(l.Variant); !ok {
				v.Add(fmt.Sprintf("levels[%d].variant_id", i), "is not a variant of the product")
			}
			if owner, ok, err := eventstore.Owner(ctx, tx, c.Tenant.UUID, ClaimLocation, l.Location.String()); err != nil {
				return struct{}{}, err
			} else if !ok || owner != p.Store() {
				v.Add(fmt.Sprintf("levels[%d].location_id", i), "is not a location of the product's store")
			}
		}
		if err := v.Err(); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, changeItems(ctx, tx, c.Tenant, levels, func(l StockSet) catalog.VariantID { return l.Variant }, c.By.metadata(c.Tenant),
			func(it *inventory.Item, l StockSet) error {
				n := l.OnHand
				return it.Adjust(l.Location.UUID, 0, &n, c.Reason, now)
			})
	})
	return Result{Result: res, ID: c.Product.UUID}, err
}
