package commands

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/ids"
	"github.com/honten/honten/domain/inventory"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/payment"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

// ReinstateOrder revives a bank-transfer order cancelled before its money
// arrived (usually by the overdue sweep) once the transfer has been
// recorded: staff choose to ship it instead of refunding it. The other
// choice needs no command: the whole transfer is already a refund due.
type ReinstateOrder struct {
	Tenant tenant.ID
	By     By
	Order  order.ID
	// Reason is recorded in the order's status history; empty means
	// "reinstated: payment received".
	Reason string
}

// ReinstateOrder allocates the stock of every physical line again (at the
// first of its product's locations with enough available, all lines or
// none), moves the amount due out of the payment's refund due so that the
// payment settles (any excess stays due back), takes back the promotion
// uses its cancellation gave back, and moves the order on as a settled
// payment does: pending_shipment with its shipments created, or
// completed when nothing ships. All of it is one transaction.
//
// It returns eventstore.ErrNotFound for an unknown order, an Invalid error
// for a bad reason, order.ErrNotCancelled (409 order_not_cancelled),
// payment.ErrNotBankTransfer for a COD order,
// payment.ErrNotReinstatable when the money received does not cover the
// amount due (or the order had shipments), and
// inventory.ErrInsufficientStock (409 insufficient_stock) when a line's
// stock is gone, and a *PromotionLimitReached (409 promotion_limit_reached)
// when a promotion use the order gave back on its cancellation cannot be
// taken again (its usage limit or the buyer's is reached, or its
// single-use code went to another order); nothing is written then, and
// the transfer stays a refund due.
func (s *Service) ReinstateOrder(ctx context.Context, c ReinstateOrder) (Result, error) {
	var v errs.Collector
	reason := checkNote(&v, "reason", c.Reason, MaxOrderNoteLen)
	if err := v.Err(); err != nil {
		return Result{}, err
	}
	if reason == "" {
		reason = "reinstated: payment received"
	}
	_, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (struct{}, error) {
		now := s.Now()
		md := c.By.metadata(c.Tenant)
		st, err := loadOrder(ctx, tx, c.Tenant, c.Order.UUID, nil)
		if err != nil {
			return struct{}{}, err
		}
		o := st.order
		if o.Status() != order.StatusCancelled {
			return struct{}{}, order.ErrNotCancelled
		}
		if o.PaymentMethod() != order.PaymentBankTransfer || st.payment == nil {
			return struct{}{}, payment.ErrNotBankTransfer
		}
		if len(st.shipments) > 0 {
			return struct{}{}, payment.ErrNotReinstatable
		}
		if err := st.payment.Reinstate(reason, now); err != nil {
			return struct{}{}, err
		}
		// The lines' stock, under new reservations, variant by variant.
		type realloc struct {
			line        order.Line
			reservation inventory.ReservationID
		}
		var lines []realloc
		newRes := map[uuid.UUID]uuid.UUID{}
		for i, l := range o.Lines() {
			if l.FulfillmentType == catalog.FulfillmentDigital || l.Reservation == uuid.Nil {
				continue
			}
			r := inventory.ReservationID{UUID: c.By.DerivedID(i + 1)}
			lines = append(lines, realloc{l, r})
			newRes[l.ID] = r.UUID
		}
		if err := o.Reinstate(newRes, reason, now); err != nil {
			return struct{}{}, err
		}
		if err := st.advance(now); err != nil {
			return struct{}{}, err
		}
		// The order's streams first (every order command's first write),
		// then the stock; a line without stock rolls it all back.
		if err := st.save(ctx, tx, c.Tenant, md); err != nil {
			return struct{}{}, err
		}
		slices.SortFunc(lines, func(a, b realloc) int { return ids.Compare(a.line.Variant, b.line.Variant) })
		locations := map[uuid.UUID][]uuid.UUID{}
		err = changeItems(ctx, tx, c.Tenant, lines, func(r realloc) catalog.VariantID { return variantID(r.line.Variant) }, md,
			func(it *inventory.Item, r realloc) error {
				locs, ok := locations[r.line.Variant]
				if !ok {
					pid, err := VariantProduct(ctx, tx, c.Tenant, variantID(r.line.Variant))
					if err != nil {
						return fmt.Errorf("product of line %s: %w", r.line.ID, err)
					}
					p, err := products.Read(ctx, tx, c.Tenant, pid.UUID)
					if err != nil {
						return fmt.Errorf("product of line %s: %w", r.line.ID, err)
					}
					locs = p.Locations()
					locations[r.line.Variant] = locs
				}
				if err := it.Reallocate(r.reservation, o.ID().UUID, r.line.Quantity, locs, reason, now); err != nil {
					return fmt.Errorf("line %s (%s): %w", r.line.ID, r.line.SKU, err)
				}
				return nil
			})
		if err != nil {
			return struct{}{}, err
		}
		// Last, as at checkout: the promotion uses its cancellation gave
		// back, under their limits (the counters' row locks are held until
		// commit).
		return struct{}{}, retakeRedemptions(ctx, tx, c.Tenant, o.ID().UUID)
	})
	if err != nil {
		return Result{}, fmt.Errorf("reinstate order %s: %w", c.Order, err)
	}
	return orderResult(res, c.Order.UUID), nil
}
