package commands

import (
	"context"
	"fmt"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/inventory"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

// MaxOrderNoteLen bounds a cancellation reason or a receipt reference, in characters.
const MaxOrderNoteLen = 200

// CancelOrder cancels an order before anything shipped.
type CancelOrder struct {
	Tenant tenant.ID
	By     By
	Order  order.ID
	// Reason is recorded in the order's status history; empty means "cancelled".
	Reason string
}

// CancelOrder cancels the order and, in the same transaction, releases
// every inventory allocation of its lines, cancels its payment (what was
// received becomes a refund due) and its shipments. Cancelling a cancelled
// order appends nothing.
//
// It returns eventstore.ErrNotFound for an unknown order (or another
// tenant's), an Invalid error for a bad reason, order.ErrAlreadyShipped
// once a shipment has left (409 order_already_shipped) and
// order.ErrFinished for a completed order.
func (s *Service) CancelOrder(ctx context.Context, c CancelOrder) (Result, error) {
	var v errs.Collector
	reason := checkNote(&v, "reason", c.Reason, MaxOrderNoteLen)
	if err := v.Err(); err != nil {
		return Result{}, err
	}
	if reason == "" {
		reason = "cancelled"
	}
	_, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (struct{}, error) {
		return struct{}{}, cancelOrder(ctx, tx, c.Tenant, c.Order, reason, c.By.metadata(c.Tenant), s, nil)
	})
	if err != nil {
		return Result{}, fmt.Errorf("cancel order %s: %w", c.Order, err)
	}
	return orderResult(res, c.Order.UUID), nil
}

// cancelOrder is CancelOrder's decision inside a transaction. check, when
// set, may refuse (or skip, with errSkip) after the order is loaded.
func cancelOrder(ctx context.Context, tx *eventstore.Tx, t tenant.ID, id order.ID, reason string, md eventstore.Metadata, s *Service, check func(*orderState) error) error {
	now := s.Now()
	st, err := loadOrder(ctx, tx, t, id.UUID, nil)
	if err != nil {
		return err
	}
	if check != nil {
		if err := check(st); err != nil {
			return err
		}
	}
	if st.order.Status() == order.StatusCancelled {
		return nil
	}
	if st.anyShipped() {
		return order.ErrAlreadyShipped
	}
	if err := st.order.Cancel(reason, now); err != nil {
		return err
	}
	if st.payment != nil {
		st.payment.Cancel(reason, now)
	}
	for _, sh := range st.shipments {
		if err := sh.Cancel(reason, now); err != nil {
			return err
		}
	}
	if err := st.save(ctx, tx, t, md); err != nil {
		return err
	}
	return changeAllocations(ctx, tx, t, orderAllocations(st.order), md, func(it *inventory.Item, r inventory.ReservationID) {
		it.ReleaseAllocation(r, id.UUID, reason, now)
	})
}
