package commands_test

import (
	"context"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/inventory"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/payment"
	"github.com/honten/honten/domain/shipment"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/ordertest"
)

// mallBundle is a mall with two vendors, each with one variant of 5 units.
type mallBundle struct {
	*orderBundle
	mall   tenant.ID
	vA, vB uuid.UUID
	a, bb  catalog.VariantID
}

func setupMall(t *testing.T) *mallBundle {
	t.Helper()
	ctx := context.Background()
	b := &mallBundle{orderBundle: setupOrders(t)}
	mall, _, err := b.cmds.CreateTenant(ctx, commands.CreateTenant{By: b.by, Code: "mall", Name: "mall", Type: "mall"})
	require.NoError(t, err)
	b.mall = mall.Tenant
	vA, _, err := b.cmds.CreateVendor(ctx, commands.CreateVendor{Tenant: b.mall, By: b.by, Name: "A", CommissionRate: decimal.RequireFromString("0.1")})
	require.NoError(t, err)
	vB, _, err := b.cmds.CreateVendor(ctx, commands.CreateVendor{Tenant: b.mall, By: b.by, Name: "B", CommissionRate: decimal.RequireFromString("0.1")})
	require.NoError(t, err)
	b.vA, b.vB = vA.UUID, vB.UUID
	b.a = b.testBundle.product(t, b.mall, &b.vA, nil, "A-1")[0]
	b.bb = b.testBundle.product(t, b.mall, &b.vB, nil, "B-1")[0]
	for _, v := range []catalog.VariantID{b.a, b.bb} {
		_, _, err := b.cmds.AdjustInventory(ctx, commands.AdjustInventory{Tenant: b.mall, By: b.by, Variant: &v, Delta: ptr(5), Reason: "x"})
		require.NoError(t, err)
	}
	return b
}

func inventoryOf(t *testing.T, b *mallBundle, v catalog.VariantID) *inventory.Item {
	return inventory.FromHistory(history(t, b.store, b.mall, v.UUID))
}

func TestCancelVendorPartOfCODMallOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupMall(t)
	p, err := ordertest.Place(ctx, b.cmds, ordertest.Order{Tenant: b.mall, Method: order.PaymentCOD, Lines: []ordertest.Line{
		{Variant: b.a, Vendor: b.vA, SKU: "A-1", Quantity: 2, Price: 1100},
		{Variant: b.bb, Vendor: b.vB, SKU: "B-1", Quantity: 1, Price: 2160, TaxRate: catalog.TaxReduced}}})
	require.NoError(t, err)
	_, err = b.cmds.CreateShipments(ctx, commands.CreateShipments{Tenant: b.mall, By: b.by, Order: p.Order})
	require.NoError(t, err)
	sA, sB := shipment.IDFor(p.Order.UUID, b.vA), shipment.IDFor(p.Order.UUID, b.vB)

	// Vendor B's staff cannot cancel vendor A's lines or part.
	before := b.countEvents(t)
	_, err = b.cmds.CancelOrder(ctx, commands.CancelOrder{Tenant: b.mall, By: b.by, VendorScope: &b.vB, Order: p.Order, Vendor: &b.vA})
	require.ErrorIs(t, err, eventstore.ErrNotFound)
	_, err = b.cmds.CancelOrder(ctx, commands.CancelOrder{Tenant: b.mall, By: b.by, VendorScope: &b.vB, Order: p.Order,
		Lines: []commands.CancelLine{{Line: p.Lines[0].ID}}})
	require.ErrorIs(t, err, eventstore.ErrNotFound)
	require.Equal(t, before, b.countEvents(t))

	// Vendor A's staff cancel their part: the shipment carrying the COD
	// amount goes, vendor B's collects the new total.
	res, err := b.cmds.CancelOrder(ctx, commands.CancelOrder{Tenant: b.mall, By: b.by, VendorScope: &b.vA, Order: p.Order, Reason: "out of stock"})
	require.NoError(t, err)
	types := map[string]int{}
	for _, e := range res.Events {
		types[e.Type]++
		require.Equal(t, res.Events[0].Position.Tx, e.Position.Tx, "one transaction")
	}
	require.Equal(t, map[string]int{"order.lines_cancelled.v1": 1, "payment.amount_changed.v1": 1, "shipment.cancelled.v1": 1,
		"shipment.cod_amount_changed.v1": 1, "inventory.allocation.released.v1": 1}, types)

	o := order.FromHistory(history(t, b.store, b.mall, p.Order.UUID))
	require.Equal(t, order.StatusPendingShipment, o.Status())
	want, err := p.Total.Sub(yen(2200))
	require.NoError(t, err)
	require.True(t, o.Totals().Total.Equal(want), "total %s", o.Totals().Total)
	require.Len(t, o.Totals().Tax, 2, "shipping and fees keep a 10%% line")
	require.Equal(t, []uuid.UUID{b.vB}, o.Vendors())
	pay := payment.FromHistory(history(t, b.store, b.mall, p.Payment.UUID))
	require.True(t, pay.Due().Equal(want))
	shA := shipment.FromHistory(history(t, b.store, b.mall, sA.UUID))
	shB := shipment.FromHistory(history(t, b.store, b.mall, sB.UUID))
	require.Equal(t, shipment.StatusCancelled, shA.Status())
	require.True(t, shB.CODAmount().Equal(want))
	require.Equal(t, int64(5), inventoryOf(t, b, b.a).TotalAvailable(), "vendor A's stock is back")
	require.Equal(t, int64(4), inventoryOf(t, b, b.bb).TotalAvailable())

	// Cancelling the part again is a conflict; the shipment of A is gone.
	_, err = b.cmds.CancelOrder(ctx, commands.CancelOrder{Tenant: b.mall, By: b.by, Order: p.Order, Vendor: &b.vA})
	require.ErrorIs(t, err, order.ErrLineCancelled)
	_, err = b.cmds.ShipShipment(ctx, commands.ShipShipment{Tenant: b.mall, By: b.by, Shipment: sA, Carrier: "x", TrackingNo: "1"})
	require.ErrorIs(t, err, shipment.ErrCancelled)

	// Vendor B ships, delivers and collects the new total: the order completes.
	_, err = b.cmds.ShipShipment(ctx, commands.ShipShipment{Tenant: b.mall, By: b.by, Shipment: sB, Carrier: "y", TrackingNo: "2"})
	require.NoError(t, err)
	_, err = b.cmds.DeliverShipment(ctx, commands.DeliverShipment{Tenant: b.mall, By: b.by, Shipment: sB})
	require.NoError(t, err)
	_, err = b.cmds.CollectCOD(ctx, commands.CollectCOD{Tenant: b.mall, By: b.by, Shipment: sB, Amount: want})
	require.NoError(t, err)
	_, err = b.cmds.AdvanceOrder(ctx, commands.AdvanceOrder{Tenant: b.mall, By: b.by, Order: p.Order})
	require.NoError(t, err)
	require.Equal(t, order.StatusCompleted, order.FromHistory(history(t, b.store, b.mall, p.Order.UUID)).Status())
	pay = payment.FromHistory(history(t, b.store, b.mall, p.Payment.UUID))
	require.True(t, pay.IsSettled())
	require.True(t, pay.RefundDue().IsZero())
}

func TestCancelSomeUnitsOfAPaidOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupOrders(t)
	p := b.place(t, order.PaymentBankTransfer,
		ordertest.Line{Variant: b.tea, Vendor: b.shop.Vendor.UUID, SKU: "TEA-1", Quantity: 3, Price: 1500},
		ordertest.Line{Variant: b.cup, Vendor: b.shop.Vendor.UUID, SKU: "CUP-1", Quantity: 1, Price: 800})
	_, err := b.cmds.ConfirmPayment(ctx, commands.ConfirmPayment{Tenant: b.shop.Tenant, By: b.by, Order: p.Order, Amount: p.Total, Reference: "R1"})
	require.NoError(t, err)
	b.advance(t, p)
	require.Equal(t, int64(7), b.item(t, b.tea).TotalAvailable())

	_, err = b.cmds.CancelOrder(ctx, commands.CancelOrder{Tenant: b.shop.Tenant, By: b.by, Order: p.Order,
		Lines: []commands.CancelLine{{Line: p.Lines[0].ID, Quantity: 4}}})
	require.Equal(t, errs.KindInvalid, errs.KindOf(err))
	_, err = b.cmds.CancelOrder(ctx, commands.CancelOrder{Tenant: b.shop.Tenant, By: b.by, Order: p.Order,
		Lines: []commands.CancelLine{{Line: uuid.New(), Quantity: 1}}})
	require.Equal(t, errs.KindInvalid, errs.KindOf(err))

	// Two cancellations of one unit each race: both apply, one after the other.
	start := make(chan struct{})
	var wg sync.WaitGroup
	errsOut := make([]error, 2)
	for i := range errsOut {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errsOut[i] = b.cmds.CancelOrder(ctx, commands.CancelOrder{Tenant: b.shop.Tenant, By: b.by, Order: p.Order,
				Lines: []commands.CancelLine{{Line: p.Lines[0].ID, Quantity: 1}}, Reason: "broken"})
		}()
	}
	close(start)
	wg.Wait()
	require.NoError(t, errsOut[0])
	require.NoError(t, errsOut[1])

	o := b.order(t, p.Order)
	l, ok := o.Line(p.Lines[0].ID)
	require.True(t, ok)
	require.Equal(t, int64(1), l.Quantity)
	want, err := p.Total.Sub(yen(3000))
	require.NoError(t, err)
	require.True(t, o.Totals().Total.Equal(want))
	pay := b.payment(t, p.Payment)
	require.True(t, pay.IsSettled())
	require.True(t, pay.RefundDue().Equal(yen(3000)), "refund due %s", pay.RefundDue())
	require.Equal(t, int64(9), b.item(t, b.tea).TotalAvailable(), "two units back")
	sh := b.shipment(t, p, b.shop.Vendor.UUID)
	require.Equal(t, int64(1), sh.Lines()[0].Quantity)

	// Racing cancellations of what is left of the tea line: exactly one wins.
	const n = 4
	start = make(chan struct{})
	results := make([]error, n)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, results[i] = b.cmds.CancelOrder(ctx, commands.CancelOrder{Tenant: b.shop.Tenant, By: b.by, Order: p.Order,
				Lines: []commands.CancelLine{{Line: p.Lines[0].ID}}})
		}()
	}
	close(start)
	wg.Wait()
	won := 0
	for _, err := range results {
		if err == nil {
			won++
			continue
		}
		require.ErrorIs(t, err, order.ErrLineCancelled)
	}
	require.Equal(t, 1, won)
	require.Equal(t, int64(10), b.item(t, b.tea).TotalAvailable(), "released once")
	require.True(t, b.payment(t, p.Payment).RefundDue().Equal(yen(4500)), "refunded once")
	require.Len(t, b.shipment(t, p, b.shop.Vendor.UUID).Lines(), 1, "the cup is left to ship")

	// The last line cancelled is the whole order.
	_, err = b.cmds.CancelOrder(ctx, commands.CancelOrder{Tenant: b.shop.Tenant, By: b.by, Order: p.Order,
		Lines: []commands.CancelLine{{Line: p.Lines[1].ID}}})
	require.NoError(t, err)
	require.Equal(t, order.StatusCancelled, b.order(t, p.Order).Status())
	require.Equal(t, shipment.StatusCancelled, b.shipment(t, p, b.shop.Vendor.UUID).Status())
	require.True(t, b.payment(t, p.Payment).RefundDue().Equal(p.Total), "everything received is due back")
	require.Equal(t, int64(10), b.item(t, b.cup).TotalAvailable())
}

func TestCancelShippedPartIsRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupMall(t)
	p, err := ordertest.Place(ctx, b.cmds, ordertest.Order{Tenant: b.mall, Method: order.PaymentCOD, Lines: []ordertest.Line{
		{Variant: b.a, Vendor: b.vA, SKU: "A-1"}, {Variant: b.bb, Vendor: b.vB, SKU: "B-1"}}})
	require.NoError(t, err)
	_, err = b.cmds.CreateShipments(ctx, commands.CreateShipments{Tenant: b.mall, By: b.by, Order: p.Order})
	require.NoError(t, err)
	_, err = b.cmds.ShipShipment(ctx, commands.ShipShipment{Tenant: b.mall, By: b.by, Shipment: shipment.IDFor(p.Order.UUID, b.vA), Carrier: "x", TrackingNo: "1"})
	require.NoError(t, err)
	_, err = b.cmds.AdvanceOrder(ctx, commands.AdvanceOrder{Tenant: b.mall, By: b.by, Order: p.Order})
	require.NoError(t, err)

	before := b.countEvents(t)
	_, err = b.cmds.CancelOrder(ctx, commands.CancelOrder{Tenant: b.mall, By: b.by, Order: p.Order, Vendor: &b.vA})
	require.ErrorIs(t, err, order.ErrAlreadyShipped)
	require.Equal(t, before, b.countEvents(t))

	// The part not shipped goes; the order is then shipped as a whole.
	_, err = b.cmds.CancelOrder(ctx, commands.CancelOrder{Tenant: b.mall, By: b.by, Order: p.Order, Vendor: &b.vB})
	require.NoError(t, err)
	o := order.FromHistory(history(t, b.store, b.mall, p.Order.UUID))
	require.Equal(t, order.StatusShipped, o.Status())
	want, err := p.Total.Sub(yen(1000))
	require.NoError(t, err)
	pay := payment.FromHistory(history(t, b.store, b.mall, p.Payment.UUID))
	require.True(t, pay.Due().Equal(want))
	shA := shipment.FromHistory(history(t, b.store, b.mall, shipment.IDFor(p.Order.UUID, b.vA).UUID))
	require.True(t, shA.CODAmount().Equal(p.Total), "a parcel that left keeps its amount: an excess collected is due back")
}
