package commands

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/inventory"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/shipment"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

// ShipShipment hands a shipment to a carrier.
type ShipShipment struct {
	Tenant tenant.ID
	By     By
	// VendorScope, for vendor-role staff, limits the command to that
	// vendor's shipments; others are not found.
	VendorScope *uuid.UUID
	Shipment    shipment.ID
	Carrier     string
	TrackingNo  string
}

// ShipShipment records the hand-over and, in the same transaction, fulfils
// the shipment's inventory allocations: the units leave on hand. The order
// becomes partially_shipped or shipped through the order_on_shipment
// policy. Shipping it again with the same carrier and number appends
// nothing.
//
// It returns eventstore.ErrNotFound for an unknown shipment (or another
// vendor's, under a VendorScope), Invalid errors for a missing or malformed
// carrier or tracking_no, order.ErrCancelled for a cancelled order (409
// order_cancelled), shipment.ErrCancelled and shipment.ErrAlreadyShipped
// when it left under another tracking number.
func (s *Service) ShipShipment(ctx context.Context, c ShipShipment) (Result, error) {
	now := s.Now()
	_, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (struct{}, error) {
		st, sh, err := loadShipment(ctx, tx, c.Tenant, c.Shipment, c.VendorScope)
		if err != nil {
			return struct{}{}, err
		}
		if st.order.Status() == order.StatusCancelled {
			return struct{}{}, order.ErrCancelled
		}
		if err := sh.Ship(c.Carrier, c.TrackingNo, now); err != nil {
			return struct{}{}, err
		}
		shipped := len(sh.Pending()) > 0
		md := c.By.metadata(c.Tenant)
		if err := st.save(ctx, tx, c.Tenant, md); err != nil || !shipped {
			return struct{}{}, err
		}
		var allocs []allocation
		for _, l := range sh.Lines() {
			if l.Reservation != uuid.Nil {
				allocs = append(allocs, allocation{variantID(l.Variant), inventory.ReservationID{UUID: l.Reservation}})
			}
		}
		return struct{}{}, changeAllocations(ctx, tx, c.Tenant, allocs, md, func(it *inventory.Item, r inventory.ReservationID) {
			it.Fulfil(r, sh.Order(), now)
		})
	})
	if err != nil {
		return Result{}, fmt.Errorf("ship shipment %s: %w", c.Shipment, err)
	}
	return orderResult(res, c.Shipment.UUID), nil
}

// loadShipment loads a shipment with its order, under the order's lock.
func loadShipment(ctx context.Context, tx *eventstore.Tx, t tenant.ID, id shipment.ID, scope *uuid.UUID) (*orderState, *shipment.Shipment, error) {
	oid, err := shipmentOrder(ctx, tx, t, id, scope)
	if err != nil {
		return nil, nil, err
	}
	st, err := loadOrder(ctx, tx, t, oid, nil)
	if err != nil {
		return nil, nil, err
	}
	sh, err := st.shipmentIn(id)
	if err != nil {
		return nil, nil, err
	}
	return st, sh, nil
}
