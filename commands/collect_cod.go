package commands

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/payment"
	"github.com/honten/honten/domain/shipment"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

// ErrNothingToCollect means the shipment carries no cash-on-delivery amount
// (a mall order's other vendors' parcels).
var ErrNothingToCollect = errs.Conflict("nothing_to_collect", "this shipment carries no cash-on-delivery amount")

// CollectCOD records the cash a carrier collected for a COD shipment.
type CollectCOD struct {
	Tenant tenant.ID
	By     By
	// VendorScope, for vendor-role staff, limits the command to that
	// vendor's shipments; others are not found.
	VendorScope *uuid.UUID
	Shipment    shipment.ID
	Amount      money.Money
}

// CollectCOD records the collection on the order's payment; when it covers
// the amount due the payment settles (an excess is a refund due) and the
// order completes through the order_on_payment_settled policy once
// delivered. Recording a shipment's collection again with the same amount
// appends nothing.
//
// It returns eventstore.ErrNotFound for an unknown shipment (or another
// vendor's, under a VendorScope), Invalid errors for a missing or
// non-positive amount or one in another currency, payment.ErrNotCOD for a
// bank-transfer order (409 not_cod), shipment.ErrNotShipped before the
// shipment left, shipment.ErrCancelled, ErrNothingToCollect and
// payment.ErrAlreadyCollected.
func (s *Service) CollectCOD(ctx context.Context, c CollectCOD) (Result, error) {
	if c.Amount.Currency() == "" || !c.Amount.IsPositive() {
		return Result{}, errs.Field("amount", "must be a positive amount")
	}
	_, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (struct{}, error) {
		st, sh, err := loadShipment(ctx, tx, c.Tenant, c.Shipment, c.VendorScope)
		if err != nil {
			return struct{}{}, err
		}
		switch {
		case st.order.PaymentMethod() != order.PaymentCOD || st.payment == nil:
			return struct{}{}, payment.ErrNotCOD
		case sh.Status() == shipment.StatusCancelled:
			return struct{}{}, shipment.ErrCancelled
		case !sh.HasShipped():
			return struct{}{}, shipment.ErrNotShipped
		case !sh.CODAmount().IsPositive():
			return struct{}{}, ErrNothingToCollect
		case c.Amount.Currency() != st.payment.Due().Currency():
			return struct{}{}, errs.Field("amount", "must be in "+string(st.payment.Due().Currency()))
		}
		if err := st.payment.CollectCOD(sh.ID().UUID, c.Amount, s.Now()); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, st.save(ctx, tx, c.Tenant, c.By.metadata(c.Tenant))
	})
	if err != nil {
		return Result{}, fmt.Errorf("collect COD of shipment %s: %w", c.Shipment, err)
	}
	return orderResult(res, c.Shipment.UUID), nil
}
