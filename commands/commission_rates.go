package commands

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/honten/honten/domain/cart"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/domain/vendor"
	"github.com/honten/honten/eventstore"
)

// commissionRates returns the commission rate in force at now of every
// vendor of lines, read from the vendors' event streams in tx, for the
// order to freeze on its lines.
func commissionRates(ctx context.Context, tx *eventstore.Tx, t tenant.ID, lines []cart.Line, now time.Time) (map[uuid.UUID]decimal.Decimal, error) {
	rates := map[uuid.UUID]decimal.Decimal{}
	for _, l := range lines {
		if _, ok := rates[l.Vendor]; ok {
			continue
		}
		vd, err := vendors.Read(ctx, tx, t, l.Vendor)
		if err != nil {
			return nil, fmt.Errorf("vendor %s of line %s: %w", l.Vendor, l.ID, err)
		}
		rates[l.Vendor] = vd.RateAt(now)
	}
	return rates, nil
}

// CommissionRates returns a vendor's commission history, oldest step first,
// from its event stream. It returns ErrNotFound for an unknown vendor.
func (s *Service) CommissionRates(ctx context.Context, t tenant.ID, v vendor.ID) ([]vendor.Rate, error) {
	var out []vendor.Rate
	_, err := s.store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		vd, err := vendors.Load(ctx, tx, t, v.UUID)
		if err != nil {
			return err
		}
		out = vd.Rates()
		return nil
	})
	return out, err
}
