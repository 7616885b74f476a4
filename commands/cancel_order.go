package commands

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/inventory"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/shipment"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

// MaxOrderNoteLen bounds a cancellation reason or a receipt reference, in characters.
const MaxOrderNoteLen = 200

// MaxCancelLines bounds the lines one cancellation names.
const MaxCancelLines = 200

// CancelOrder cancels an order before anything shipped, or a part of it:
// one vendor's lines (Vendor) or some units of some lines (Lines). With
// neither, the whole order goes.
type CancelOrder struct {
	Tenant tenant.ID
	By     By
	// VendorScope, for vendor-role staff, limits the command to that
	// vendor's part of the order: another vendor's lines are not found,
	// and without Vendor and Lines it cancels the vendor's part.
	VendorScope *uuid.UUID
	Order       order.ID
	// Vendor, when set, cancels every line of the vendor left on the order.
	Vendor *uuid.UUID
	// Lines, when set, cancels the units named (with Vendor, lines of that
	// vendor only).
	Lines []CancelLine
	// Reason is recorded in the order's status history; empty means "cancelled".
	Reason string
}

// CancelLine names an order line and the units of it to cancel; a zero
// Quantity cancels every unit left on it.
type CancelLine struct {
	Line     uuid.UUID
	Quantity int64
}

// partial reports whether c cancels a part of the order rather than all of it.
func (c CancelOrder) partial() bool { return c.Vendor != nil || c.Lines != nil || c.VendorScope != nil }

// CancelOrder cancels the order and, in the same transaction, releases
// every inventory allocation of its lines, cancels its payment (what was
// received becomes a refund due) and its shipments. Cancelling a cancelled
// order appends nothing.
//
// A partial cancellation (Vendor, Lines, or a VendorScope) appends
// order.LinesCancelled with the order's new totals, gives back the
// cancelled units' stock (inventory.AllocationReleased or
// AllocationReduced), takes them out of their vendor's shipment (cancelled
// when nothing of it is left) and changes the amount due to the new total
// (payment.AmountChanged: an excess received becomes a refund due; a COD
// shipment not yet shipped collects the new total). Cancelling every unit
// left cancels the whole order as above; a part of a cancelled order
// appends nothing.
//
// It returns eventstore.ErrNotFound for an unknown order (or another
// tenant's, or one without a line of the VendorScope) and for a line of
// another vendor than the VendorScope, an Invalid error for a bad reason,
// vendor or lines, order.ErrAlreadyShipped once a shipment of a cancelled
// line has left (409 order_already_shipped), order.ErrFinished for a
// completed order, and for a partial cancellation order.ErrLineCancelled
// (nothing of the part or line is left).
func (s *Service) CancelOrder(ctx context.Context, c CancelOrder) (Result, error) {
	var v errs.Collector
	reason := checkNote(&v, "reason", c.Reason, MaxOrderNoteLen)
	v.Check(len(c.Lines) <= MaxCancelLines, "lines", fmt.Sprintf("must name at most %d lines", MaxCancelLines))
	for i, l := range c.Lines {
		v.Check(l.Line != uuid.Nil, fmt.Sprintf("lines[%d].line_id", i), "is required")
		v.Check(l.Quantity >= 0, fmt.Sprintf("lines[%d].quantity", i), "must be at least 1")
	}
	if c.Lines != nil && len(c.Lines) == 0 {
		v.Add("lines", "must name at least one line")
	}
	if err := v.Err(); err != nil {
		return Result{}, err
	}
	if reason == "" {
		reason = "cancelled"
	}
	_, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (struct{}, error) {
		md := c.By.metadata(c.Tenant)
		if !c.partial() {
			return struct{}{}, cancelOrder(ctx, tx, c.Tenant, c.Order, reason, md, s, nil)
		}
		return struct{}{}, cancelPart(ctx, tx, c, reason, md, s.Now())
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
	return st.cancelled(ctx, tx, t, reason, md, now)
}

// cancelled follows the order's cancellation: its payment and shipments
// are cancelled and its lines' allocations released, then everything is
// saved.
func (st *orderState) cancelled(ctx context.Context, tx *eventstore.Tx, t tenant.ID, reason string, md eventstore.Metadata, now time.Time) error {
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
	id := st.order.ID().UUID
	// The promotions it redeemed get their uses back.
	if err := releaseRedemptions(ctx, tx, t, id, now); err != nil {
		return err
	}
	return changeAllocations(ctx, tx, t, orderAllocations(st.order), md, func(it *inventory.Item, r inventory.ReservationID) {
		it.ReleaseAllocation(r, id, reason, now)
	})
}

// cancelPart is a partial CancelOrder inside a transaction.
func cancelPart(ctx context.Context, tx *eventstore.Tx, c CancelOrder, reason string, md eventstore.Metadata, now time.Time) error {
	st, err := loadOrder(ctx, tx, c.Tenant, c.Order.UUID, c.VendorScope)
	if err != nil {
		return err
	}
	o := st.order
	vendor := c.Vendor
	if c.VendorScope != nil {
		if vendor != nil && *vendor != *c.VendorScope {
			return fmt.Errorf("vendor %s: %w", vendor, eventstore.ErrNotFound)
		}
		vendor = c.VendorScope
	}
	if o.Status() == order.StatusCancelled {
		return nil // nothing is left to cancel
	}
	cs, err := linesToCancel(o, c.Lines, vendor, c.VendorScope != nil)
	if err != nil {
		return err
	}
	for _, lc := range cs {
		l, _ := o.Line(lc.Line)
		if l.FulfillmentType == catalog.FulfillmentDigital {
			continue
		}
		if sh, err := st.shipmentIn(shipment.IDFor(o.ID().UUID, l.Vendor)); err == nil && sh.HasShipped() {
			return order.ErrAlreadyShipped
		}
	}
	if err := o.CancelLines(cs, reason, now); err != nil {
		return err
	}
	if o.Status() == order.StatusCancelled {
		return st.cancelled(ctx, tx, c.Tenant, reason, md, now)
	}
	e, ok := lastLinesCancelled(o)
	if !ok {
		return nil
	}
	if st.payment != nil {
		if err := st.payment.ChangeAmount(o.Totals().Total, reason, now); err != nil {
			return err
		}
	}
	if err := st.shipmentsAfter(e, reason, now); err != nil {
		return err
	}
	if err := st.advance(now); err != nil {
		return err
	}
	if err := st.save(ctx, tx, c.Tenant, md); err != nil {
		return err
	}
	var allocs []cancelledAlloc
	for _, l := range e.Lines {
		if l.FulfillmentType != catalog.FulfillmentDigital && l.Reservation != uuid.Nil {
			allocs = append(allocs, cancelledAlloc{allocation{variantID(l.Variant), inventory.ReservationID{UUID: l.Reservation}}, l.Quantity})
		}
	}
	slices.SortFunc(allocs, func(a, b cancelledAlloc) int { return compareAllocations(a.allocation, b.allocation) })
	id := o.ID().UUID
	return changeItems(ctx, tx, c.Tenant, allocs, func(a cancelledAlloc) catalog.VariantID { return a.variant }, md,
		func(it *inventory.Item, a cancelledAlloc) error {
			return it.ReduceAllocation(a.reservation, id, a.quantity, reason, now)
		})
}

// cancelledAlloc is an allocation and the units of it to give back.
type cancelledAlloc struct {
	allocation
	quantity int64
}

// linesToCancel turns a request into the units to cancel: the lines named
// (a zero quantity is every unit left), else every line left of vendor.
// Under a scope, a line of another vendor is not found.
func linesToCancel(o *order.Order, lines []CancelLine, vendor *uuid.UUID, scoped bool) ([]order.LineCancel, error) {
	placed := map[uuid.UUID]order.Line{}
	for _, l := range o.PlacedLines() {
		placed[l.ID] = l
	}
	if lines == nil {
		if !o.HasVendor(*vendor) {
			return nil, errs.Field("vendor_id", "has no lines in this order")
		}
		var cs []order.LineCancel
		for _, l := range o.Lines() {
			if l.Vendor == *vendor {
				cs = append(cs, order.LineCancel{Line: l.ID, Quantity: l.Quantity})
			}
		}
		if len(cs) == 0 {
			return nil, order.ErrLineCancelled
		}
		return cs, nil
	}
	cs := make([]order.LineCancel, 0, len(lines))
	var v errs.Collector
	for i, l := range lines {
		pl, ok := placed[l.Line]
		if ok && vendor != nil && pl.Vendor != *vendor {
			if scoped {
				return nil, fmt.Errorf("order line %s: %w", l.Line, eventstore.ErrNotFound)
			}
			v.Add(fmt.Sprintf("lines[%d].line_id", i), "is not a line of vendor_id")
		}
		q := l.Quantity
		if q == 0 {
			left, _ := o.Line(l.Line)
			q = left.Quantity
			if ok && q == 0 {
				return nil, order.ErrLineCancelled
			}
		}
		cs = append(cs, order.LineCancel{Line: l.Line, Quantity: q})
	}
	return cs, v.Err()
}

// lastLinesCancelled returns the LinesCancelled the order just recorded.
func lastLinesCancelled(o *order.Order) (order.LinesCancelled, bool) {
	p := o.Pending()
	for i := len(p) - 1; i >= 0; i-- {
		if e, ok := p[i].(order.LinesCancelled); ok {
			return e, true
		}
	}
	return order.LinesCancelled{}, false
}

// shipmentsAfter takes the cancelled units out of their vendors' shipments
// — a shipment with nothing left is cancelled — and, for COD, has the
// first shipment not cancelled collect the order's new total (a shipment
// that already left keeps its amount: an excess collected becomes a
// refund due on the payment).
func (st *orderState) shipmentsAfter(e order.LinesCancelled, reason string, now time.Time) error {
	o := st.order
	byVendor := map[uuid.UUID][]shipment.Line{}
	for _, l := range e.Lines {
		if l.FulfillmentType == catalog.FulfillmentDigital {
			continue
		}
		byVendor[l.Vendor] = append(byVendor[l.Vendor], shipment.Line{OrderLine: l.Line, Variant: l.Variant, SKU: l.SKU,
			Quantity: l.Quantity, Reservation: l.Reservation})
	}
	left := map[uuid.UUID]bool{}
	for _, v := range o.Vendors() {
		left[v] = true
	}
	for _, sh := range st.shipments {
		lines, ok := byVendor[sh.Vendor()]
		if !ok {
			continue
		}
		var err error
		if left[sh.Vendor()] {
			err = sh.CancelLines(lines, reason, now)
		} else {
			err = sh.Cancel(reason, now)
		}
		if err != nil {
			return err
		}
	}
	if o.PaymentMethod() != order.PaymentCOD {
		return nil
	}
	// The shipment collecting, or when it went with its part, the first
	// one left that has not shipped.
	var carrier *shipment.Shipment
	for _, sh := range st.live() {
		if sh.CODAmount().IsPositive() {
			carrier = sh
			break
		}
	}
	if carrier == nil {
		for _, sh := range st.live() {
			if !sh.HasShipped() {
				carrier = sh
				break
			}
		}
	}
	if carrier == nil || carrier.HasShipped() {
		return nil
	}
	return carrier.ChangeCOD(o.Totals().Total, reason, now)
}
