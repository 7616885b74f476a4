package commands

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/shipment"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

// DeliverShipment records that the buyer received a shipment.
type DeliverShipment struct {
	Tenant tenant.ID
	By     By
	// VendorScope, for vendor-role staff, limits the command to that
	// vendor's shipments; others are not found.
	VendorScope *uuid.UUID
	Shipment    shipment.ID
}

// DeliverShipment records the delivery; the order completes through the
// order_on_shipment policy once every shipment is delivered and the
// payment settled. A repeat appends nothing.
//
// It returns eventstore.ErrNotFound for an unknown shipment (or another
// vendor's, under a VendorScope), shipment.ErrNotShipped before it shipped
// and shipment.ErrCancelled.
func (s *Service) DeliverShipment(ctx context.Context, c DeliverShipment) (Result, error) {
	_, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (struct{}, error) {
		st, sh, err := loadShipment(ctx, tx, c.Tenant, c.Shipment, c.VendorScope)
		if err != nil {
			return struct{}{}, err
		}
		t, err := tenants.Read(ctx, tx, c.Tenant, c.Tenant.UUID)
		if err != nil {
			return struct{}{}, err
		}
		if err := sh.Deliver(s.Now(), t.Settings().PayoutHold()); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, st.save(ctx, tx, c.Tenant, c.By.metadata(c.Tenant))
	})
	if err != nil {
		return Result{}, fmt.Errorf("deliver shipment %s: %w", c.Shipment, err)
	}
	return orderResult(res, c.Shipment.UUID), nil
}
