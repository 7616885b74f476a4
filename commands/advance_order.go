package commands

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/payment"
	"github.com/honten/honten/domain/shipment"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

// AdvanceOrder moves an order to where its payment and shipments say it
// is: paid (a settled bank transfer: pending_shipment, and its shipments
// are created), partially_shipped or shipped (as its shipments leave),
// completed (every shipment delivered and the payment settled). Policies
// issue it when a payment settles and when a shipment ships or is
// delivered.
type AdvanceOrder struct {
	Tenant tenant.ID
	By     By
	Order  order.ID
}

// AdvanceOrder applies c. It decides from the current state only, so
// issuing it again — or late, after later events — appends nothing new. It
// returns eventstore.ErrNotFound for an unknown order.
func (s *Service) AdvanceOrder(ctx context.Context, c AdvanceOrder) (Result, error) {
	_, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (struct{}, error) {
		st, err := loadOrder(ctx, tx, c.Tenant, c.Order.UUID, nil)
		if err != nil {
			return struct{}{}, err
		}
		if err := st.advance(s.Now()); err != nil {
			return struct{}{}, err
		}
		if err := st.save(ctx, tx, c.Tenant, c.By.metadata(c.Tenant)); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, st.deliver(ctx, tx, c.Tenant, c.By.metadata(c.Tenant), s.Now())
	})
	if err != nil {
		return Result{}, fmt.Errorf("advance order %s: %w", c.Order, err)
	}
	return orderResult(res, c.Order.UUID), nil
}

// advance records the order's moves that its payment and shipments call for.
func (st *orderState) advance(now time.Time) error {
	o := st.order
	if o.Status().IsTerminal() {
		return nil
	}
	settled := st.payment != nil && st.payment.IsSettled()
	if o.Status() == order.StatusPendingPayment {
		if !settled {
			return nil
		}
		if err := o.Paid(now); err != nil {
			return err
		}
	}
	st.createShipments(now)
	if st.anyShipped() {
		if err := o.Shipped(st.allShipped(), now); err != nil {
			return err
		}
	}
	if o.Status() == order.StatusShipped && settled && st.allDelivered() {
		return o.Complete("delivered and paid", now)
	}
	return nil
}

// OrderOf returns the order a payment or shipment stream belongs to. It
// returns eventstore.ErrNotFound for an unknown stream or another type.
func (s *Service) OrderOf(ctx context.Context, t tenant.ID, streamType string, id uuid.UUID) (order.ID, error) {
	var out uuid.UUID
	_, err := s.store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		switch streamType {
		case payment.StreamType:
			p, err := payments.Load(ctx, tx, t, id)
			if err != nil {
				return err
			}
			out = p.Order()
		case shipment.StreamType:
			sh, err := shipments.Load(ctx, tx, t, id)
			if err != nil {
				return err
			}
			out = sh.Order()
		case order.StreamType:
			out = id
		default:
			return fmt.Errorf("%s %s: %w", streamType, id, eventstore.ErrNotFound)
		}
		return nil
	})
	return order.ID{UUID: out}, err
}

// deliver issues the digital lines' deliveries of a paid order (its
// payment settled); nothing before, and nothing twice.
func (st *orderState) deliver(ctx context.Context, tx *eventstore.Tx, t tenant.ID, md eventstore.Metadata, now time.Time) error {
	o := st.order
	if o.Status() == order.StatusCancelled || st.payment == nil || !st.payment.IsSettled() || !hasDigital(o) {
		return nil
	}
	tn, err := tenants.Read(ctx, tx, t, t.UUID)
	if err != nil {
		return err
	}
	return issueDeliveries(ctx, tx, t, o, tn.Settings(), md, now)
}

func hasDigital(o *order.Order) bool {
	for _, l := range o.Lines() {
		if l.FulfillmentType == catalog.FulfillmentDigital {
			return true
		}
	}
	return false
}
