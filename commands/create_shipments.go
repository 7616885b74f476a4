package commands

import (
	"context"
	"fmt"
	"time"

	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/shipment"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

// CreateShipments creates the shipments of an order that is ready to ship:
// one per vendor of its physical lines (a single-brand order has one). The
// shipments_on_order_placed policy issues it for COD orders; a bank-transfer
// order gets its shipments when it is paid (AdvanceOrder).
type CreateShipments struct {
	Tenant tenant.ID
	By     By
	Order  order.ID
}

// CreateShipments creates the missing shipments of an order waiting for
// shipment. An order that is not (awaiting payment, cancelled, completed)
// or whose shipments exist appends nothing. It returns
// eventstore.ErrNotFound for an unknown order.
func (s *Service) CreateShipments(ctx context.Context, c CreateShipments) (Result, error) {
	_, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (struct{}, error) {
		st, err := loadOrder(ctx, tx, c.Tenant, c.Order.UUID, nil)
		if err != nil {
			return struct{}{}, err
		}
		st.createShipments(s.Now())
		st.saveAtCommit(tx, c.Tenant, c.By.metadata(c.Tenant))
		return struct{}{}, nil
	})
	if err != nil {
		return Result{}, fmt.Errorf("create shipments of order %s: %w", c.Order, err)
	}
	return orderResult(res, c.Order.UUID), nil
}

// createShipments records the missing shipments of an order waiting for
// shipment. A COD order's first shipment carries the order total as the
// amount the carrier collects.
func (st *orderState) createShipments(now time.Time) {
	o := st.order
	if o.Status() != order.StatusPendingShipment {
		return
	}
	for i, v := range o.Vendors() {
		id := shipment.IDFor(o.ID().UUID, v)
		if _, err := st.shipmentIn(id); err == nil {
			continue
		}
		c := shipment.Created{ID: id, Order: o.ID().UUID, Vendor: v, CODAmount: money.Zero(o.Currency())}
		if i == 0 && o.PaymentMethod() == order.PaymentCOD {
			c.CODAmount = o.Totals().Total
		}
		for _, l := range o.LinesOf(v) {
			c.Lines = append(c.Lines, shipment.Line{OrderLine: l.ID, Variant: l.Variant, SKU: l.SKU, Quantity: l.Quantity, Reservation: l.Reservation})
		}
		st.shipments = append(st.shipments, shipment.Create(c, now))
	}
}
