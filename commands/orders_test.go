package commands_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/aggregate"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/inventory"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/payment"
	"github.com/honten/honten/domain/shipment"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/ordertest"
	"github.com/honten/honten/internal/pgtest"
)

// orderClock is a test clock that moves only when told.
type orderClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *orderClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *orderClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type orderBundle struct {
	*testBundle
	clock *orderClock
	shop  commands.TenantCreated
	tea   catalog.VariantID // 10 on hand
	cup   catalog.VariantID // 10 on hand
}

// setupOrders gives a single-brand shop with two stocked variants and a
// service on a test clock.
func setupOrders(t *testing.T) *orderBundle {
	t.Helper()
	st := eventstore.New(pgtest.New(t), app.Registry())
	c := &orderClock{t: time.Date(2025, 12, 1, 9, 0, 0, 0, time.UTC)}
	b := &orderBundle{testBundle: &testBundle{store: st, cmds: commands.New(st, c.Now), by: commands.By{Actor: "test"}}, clock: c}
	var vs []catalog.VariantID
	b.shop, vs = b.testBundle.shop(t, "kyoto", "single_brand", "TEA-1", "CUP-1")
	b.tea, b.cup = vs[0], vs[1]
	for _, v := range vs {
		_, _, err := b.cmds.AdjustInventory(context.Background(), commands.AdjustInventory{Tenant: b.shop.Tenant, By: b.by, Variant: &v, Delta: ptr(10), Reason: "delivery"})
		require.NoError(t, err)
	}
	return b
}

func (b *orderBundle) place(t *testing.T, method order.PaymentMethod, lines ...ordertest.Line) ordertest.Placed {
	t.Helper()
	if len(lines) == 0 {
		lines = []ordertest.Line{{Variant: b.tea, Vendor: b.shop.Vendor.UUID, SKU: "TEA-1", Quantity: 2, Price: 1500}}
	}
	p, err := ordertest.Place(context.Background(), b.cmds, ordertest.Order{Tenant: b.shop.Tenant, Method: method, Lines: lines})
	require.NoError(t, err)
	return p
}

func yen(n int64) money.Money { return money.MustNew(decimal.NewFromInt(n), money.JPY) }

func history(t *testing.T, s *eventstore.Store, tn tenant.ID, id uuid.UUID) []aggregate.Event {
	t.Helper()
	envs, err := s.Load(context.Background(), s.Pool(), tn, id)
	require.NoError(t, err)
	out := make([]aggregate.Event, len(envs))
	for i, e := range envs {
		out[i] = e.Data
	}
	return out
}

func (b *orderBundle) order(t *testing.T, id order.ID) *order.Order {
	return order.FromHistory(history(t, b.store, b.shop.Tenant, id.UUID))
}

func (b *orderBundle) payment(t *testing.T, id payment.ID) *payment.Payment {
	return payment.FromHistory(history(t, b.store, b.shop.Tenant, id.UUID))
}

func (b *orderBundle) item(t *testing.T, v catalog.VariantID) *inventory.Item {
	return inventory.FromHistory(history(t, b.store, b.shop.Tenant, v.UUID))
}

func (b *orderBundle) shipment(t *testing.T, p ordertest.Placed, vendor uuid.UUID) *shipment.Shipment {
	return shipment.FromHistory(history(t, b.store, b.shop.Tenant, shipment.IDFor(p.Order.UUID, vendor).UUID))
}

func (b *orderBundle) countEvents(t *testing.T) int {
	t.Helper()
	var n int
	require.NoError(t, b.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM events`).Scan(&n))
	return n
}

func (b *orderBundle) advance(t *testing.T, p ordertest.Placed) {
	t.Helper()
	_, err := b.cmds.AdvanceOrder(context.Background(), commands.AdvanceOrder{Tenant: b.shop.Tenant, By: b.by, Order: p.Order})
	require.NoError(t, err)
}

func (b *orderBundle) sid(p ordertest.Placed) shipment.ID {
	return shipment.IDFor(p.Order.UUID, b.shop.Vendor.UUID)
}

func TestBankTransferOrderFromPaymentToCompleted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupOrders(t)
	p := b.place(t, order.PaymentBankTransfer)
	require.True(t, p.Total.Equal(yen(3800)), p.Total.String()) // 2 × 1,500 + ¥800 shipping
	require.Equal(t, int64(8), b.item(t, b.tea).TotalAvailable())

	// No shipment before payment.
	_, err := b.cmds.CreateShipments(ctx, commands.CreateShipments{Tenant: b.shop.Tenant, By: b.by, Order: p.Order})
	require.NoError(t, err)
	_, err = b.store.Load(ctx, b.store.Pool(), b.shop.Tenant, b.sid(p).UUID)
	require.NoError(t, err)
	require.Empty(t, history(t, b.store, b.shop.Tenant, b.sid(p).UUID))

	// Partial: still pending with a balance due.
	confirm := func(amount int64, ref string) (commands.Result, error) {
		return b.cmds.ConfirmPayment(ctx, commands.ConfirmPayment{Tenant: b.shop.Tenant, By: b.by, Order: p.Order, Amount: yen(amount), Reference: ref})
	}
	_, err = confirm(1800, "101")
	require.NoError(t, err)
	b.advance(t, p)
	require.Equal(t, order.StatusPendingPayment, b.order(t, p.Order).Status())
	pay := b.payment(t, p.Payment)
	require.Equal(t, payment.StatusPartiallyPaid, pay.Status())
	require.True(t, pay.Balance().Equal(yen(2000)))

	// The same receipt again is a no-op.
	res, err := confirm(1800, "101")
	require.NoError(t, err)
	require.Empty(t, res.Events)

	// Over: paid with a refund due; the order moves on and its shipment exists.
	_, err = confirm(2500, "102")
	require.NoError(t, err)
	pay = b.payment(t, p.Payment)
	require.Equal(t, payment.StatusPaid, pay.Status())
	require.True(t, pay.RefundDue().Equal(yen(500)))
	b.advance(t, p)
	require.Equal(t, order.StatusPendingShipment, b.order(t, p.Order).Status())
	sh := b.shipment(t, p, b.shop.Vendor.UUID)
	require.Equal(t, shipment.StatusPending, sh.Status())
	require.True(t, sh.CODAmount().IsZero())
	require.Len(t, sh.Lines(), 1)
	require.Equal(t, int64(2), sh.Lines()[0].Quantity)

	// Ship: the allocation is fulfilled, on hand drops.
	res, err = b.cmds.ShipShipment(ctx, commands.ShipShipment{Tenant: b.shop.Tenant, By: b.by, Shipment: b.sid(p), Carrier: "ヤマト運輸", TrackingNo: "1234-5678"})
	require.NoError(t, err)
	require.Len(t, res.Events, 2, "shipped + fulfilled")
	require.Equal(t, res.Events[0].Position.Tx, res.Events[1].Position.Tx)
	it := b.item(t, b.tea)
	require.Equal(t, int64(8), it.OnHand(b.shop.Location.UUID))
	require.Equal(t, int64(0), it.Reserved(b.shop.Location.UUID))
	require.Equal(t, int64(8), it.TotalAvailable())
	b.advance(t, p)
	require.Equal(t, order.StatusShipped, b.order(t, p.Order).Status())

	_, err = b.cmds.DeliverShipment(ctx, commands.DeliverShipment{Tenant: b.shop.Tenant, By: b.by, Shipment: b.sid(p)})
	require.NoError(t, err)
	b.advance(t, p)
	o := b.order(t, p.Order)
	require.Equal(t, order.StatusCompleted, o.Status())
	b.advance(t, p)
	require.Equal(t, o.Version(), b.order(t, p.Order).Version(), "advancing a completed order appends nothing")
}

func TestCODOrderCompletesWhenDeliveredAndCollected(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupOrders(t)
	p := b.place(t, order.PaymentCOD)
	require.True(t, p.Total.Equal(yen(4130)), p.Total.String()) // 3,000 + ¥800 shipping + ¥330 COD fee
	require.Equal(t, order.StatusPendingShipment, b.order(t, p.Order).Status())

	_, err := b.cmds.ConfirmPayment(ctx, commands.ConfirmPayment{Tenant: b.shop.Tenant, By: b.by, Order: p.Order, Amount: yen(4130)})
	require.ErrorIs(t, err, payment.ErrNotBankTransfer)
	require.Equal(t, errs.KindConflict, errs.KindOf(err))

	_, err = b.cmds.CreateShipments(ctx, commands.CreateShipments{Tenant: b.shop.Tenant, By: b.by, Order: p.Order})
	require.NoError(t, err)
	sh := b.shipment(t, p, b.shop.Vendor.UUID)
	require.True(t, sh.CODAmount().Equal(yen(4130)), "the COD shipment collects the order total")
	res, err := b.cmds.CreateShipments(ctx, commands.CreateShipments{Tenant: b.shop.Tenant, By: b.by, Order: p.Order})
	require.NoError(t, err)
	require.Empty(t, res.Events, "created once")

	collect := func(n int64) error {
		_, err := b.cmds.CollectCOD(ctx, commands.CollectCOD{Tenant: b.shop.Tenant, By: b.by, Shipment: b.sid(p), Amount: yen(n)})
		return err
	}
	require.ErrorIs(t, collect(4130), shipment.ErrNotShipped)
	_, err = b.cmds.DeliverShipment(ctx, commands.DeliverShipment{Tenant: b.shop.Tenant, By: b.by, Shipment: b.sid(p)})
	require.ErrorIs(t, err, shipment.ErrNotShipped)
	_, err = b.cmds.ShipShipment(ctx, commands.ShipShipment{Tenant: b.shop.Tenant, By: b.by, Shipment: b.sid(p), Carrier: "佐川急便", TrackingNo: "S-1"})
	require.NoError(t, err)
	_, err = b.cmds.DeliverShipment(ctx, commands.DeliverShipment{Tenant: b.shop.Tenant, By: b.by, Shipment: b.sid(p)})
	require.NoError(t, err)
	b.advance(t, p)
	require.Equal(t, order.StatusShipped, b.order(t, p.Order).Status(), "delivered but not collected")
	require.NoError(t, collect(4130))
	require.NoError(t, collect(4130), "recorded twice: once")
	require.ErrorIs(t, collect(4000), payment.ErrAlreadyCollected)
	b.advance(t, p)
	require.Equal(t, order.StatusCompleted, b.order(t, p.Order).Status())
}

func TestCancelOrderReleasesEverythingInOneTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupOrders(t)
	p := b.place(t, order.PaymentCOD,
		ordertest.Line{Variant: b.tea, Vendor: b.shop.Vendor.UUID, SKU: "TEA-1", Quantity: 3},
		ordertest.Line{Variant: b.cup, Vendor: b.shop.Vendor.UUID, SKU: "CUP-1", Quantity: 1})
	_, err := b.cmds.CreateShipments(ctx, commands.CreateShipments{Tenant: b.shop.Tenant, By: b.by, Order: p.Order})
	require.NoError(t, err)
	require.Equal(t, int64(7), b.item(t, b.tea).TotalAvailable())

	_, err = b.cmds.CancelOrder(ctx, commands.CancelOrder{Tenant: b.shop.Tenant, By: b.by, Order: p.Order, Reason: "bad\x00reason"})
	require.Equal(t, errs.KindInvalid, errs.KindOf(err))

	res, err := b.cmds.CancelOrder(ctx, commands.CancelOrder{Tenant: b.shop.Tenant, By: b.by, Order: p.Order, Reason: "buyer asked"})
	require.NoError(t, err)
	types := map[string]int{}
	for _, e := range res.Events {
		types[e.Type]++
		require.Equal(t, res.Events[0].Position.Tx, e.Position.Tx, "one transaction")
	}
	require.Equal(t, map[string]int{"order.status_changed.v1": 1, "payment.cancelled.v1": 1, "shipment.cancelled.v1": 1, "inventory.allocation.released.v1": 2}, types)
	require.Equal(t, order.StatusCancelled, b.order(t, p.Order).Status())
	require.Equal(t, payment.StatusCancelled, b.payment(t, p.Payment).Status())
	require.Equal(t, shipment.StatusCancelled, b.shipment(t, p, b.shop.Vendor.UUID).Status())
	require.Equal(t, int64(10), b.item(t, b.tea).TotalAvailable())
	require.Equal(t, int64(10), b.item(t, b.cup).TotalAvailable())

	before := b.countEvents(t)
	res, err = b.cmds.CancelOrder(ctx, commands.CancelOrder{Tenant: b.shop.Tenant, By: b.by, Order: p.Order})
	require.NoError(t, err)
	require.Empty(t, res.Events, "cancelling twice appends nothing")

	// A cancelled order does not ship, pay or advance.
	_, err = b.cmds.ShipShipment(ctx, commands.ShipShipment{Tenant: b.shop.Tenant, By: b.by, Shipment: b.sid(p), Carrier: "x", TrackingNo: "1"})
	require.ErrorIs(t, err, order.ErrCancelled)
	_, err = b.cmds.CollectCOD(ctx, commands.CollectCOD{Tenant: b.shop.Tenant, By: b.by, Shipment: b.sid(p), Amount: yen(1)})
	require.ErrorIs(t, err, shipment.ErrCancelled)
	b.advance(t, p)
	require.Equal(t, before, b.countEvents(t), "no event written")
}

func TestCancelAfterShipmentIsRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupOrders(t)
	p := b.place(t, order.PaymentCOD)
	_, err := b.cmds.CreateShipments(ctx, commands.CreateShipments{Tenant: b.shop.Tenant, By: b.by, Order: p.Order})
	require.NoError(t, err)
	_, err = b.cmds.ShipShipment(ctx, commands.ShipShipment{Tenant: b.shop.Tenant, By: b.by, Shipment: b.sid(p), Carrier: "yamato", TrackingNo: "1"})
	require.NoError(t, err)
	// The order has not moved to shipped yet (no policy ran): the shipment decides.
	require.Equal(t, order.StatusPendingShipment, b.order(t, p.Order).Status())
	before := b.countEvents(t)
	_, err = b.cmds.CancelOrder(ctx, commands.CancelOrder{Tenant: b.shop.Tenant, By: b.by, Order: p.Order, Reason: "too late"})
	require.ErrorIs(t, err, order.ErrAlreadyShipped)
	require.Equal(t, errs.KindConflict, errs.KindOf(err))
	require.Equal(t, before, b.countEvents(t))
	_, err = b.cmds.ShipShipment(ctx, commands.ShipShipment{Tenant: b.shop.Tenant, By: b.by, Shipment: b.sid(p), Carrier: "sagawa", TrackingNo: "2"})
	require.ErrorIs(t, err, shipment.ErrAlreadyShipped)
	_, err = b.cmds.ShipShipment(ctx, commands.ShipShipment{Tenant: b.shop.Tenant, By: b.by, Shipment: b.sid(p), Carrier: "", TrackingNo: ""})
	require.Equal(t, errs.KindInvalid, errs.KindOf(err))
	require.Equal(t, before, b.countEvents(t))
}

func TestCancelPaidOrderRecordsRefundDue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupOrders(t)
	p := b.place(t, order.PaymentBankTransfer)
	_, err := b.cmds.ConfirmPayment(ctx, commands.ConfirmPayment{Tenant: b.shop.Tenant, By: b.by, Order: p.Order, Amount: yen(3800)})
	require.NoError(t, err)
	b.advance(t, p)
	_, err = b.cmds.CancelOrder(ctx, commands.CancelOrder{Tenant: b.shop.Tenant, By: b.by, Order: p.Order, Reason: "out of season"})
	require.NoError(t, err)
	pay := b.payment(t, p.Payment)
	require.True(t, pay.RefundDue().Equal(yen(3800)))
	require.Equal(t, shipment.StatusCancelled, b.shipment(t, p, b.shop.Vendor.UUID).Status())
	require.Equal(t, int64(10), b.item(t, b.tea).TotalAvailable())
	// A transfer arriving after the cancel is recorded, and due back.
	_, err = b.cmds.ConfirmPayment(ctx, commands.ConfirmPayment{Tenant: b.shop.Tenant, By: b.by, Order: p.Order, Amount: yen(1)})
	require.NoError(t, err)
	pay = b.payment(t, p.Payment)
	require.True(t, pay.Received().Equal(yen(3801)))
	require.True(t, pay.RefundDue().Equal(yen(3801)))
}

func TestConfirmPaymentBadInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupOrders(t)
	p := b.place(t, order.PaymentBankTransfer)
	other, _ := b.testBundle.shop(t, "osaka", "single_brand", "OSK-1")
	before := b.countEvents(t)
	for _, c := range []struct {
		name  string
		cmd   commands.ConfirmPayment
		field string
	}{
		{"no amount", commands.ConfirmPayment{}, "amount"},
		{"zero", commands.ConfirmPayment{Amount: yen(0)}, "amount"},
		{"negative", commands.ConfirmPayment{Amount: yen(-1)}, "amount"},
		{"dollars", commands.ConfirmPayment{Amount: money.MustNew(decimal.NewFromInt(5), money.USD)}, "amount"},
		{"future", commands.ConfirmPayment{Amount: yen(1), ReceivedAt: b.clock.Now().Add(48 * time.Hour)}, "received_at"},
		{"control characters", commands.ConfirmPayment{Amount: yen(1), Reference: "a\nb"}, "reference"},
	} {
		c.cmd.Tenant, c.cmd.By, c.cmd.Order = b.shop.Tenant, b.by, p.Order
		_, err := b.cmds.ConfirmPayment(ctx, c.cmd)
		e, ok := errs.As(err)
		require.True(t, ok, "%s: %v", c.name, err)
		require.Equal(t, errs.KindInvalid, e.Kind, c.name)
		require.Equal(t, c.field, e.Fields[0].Field, c.name)
	}
	_, err := b.cmds.ConfirmPayment(ctx, commands.ConfirmPayment{Tenant: b.shop.Tenant, By: b.by, Order: order.NewID(), Amount: yen(1)})
	require.ErrorIs(t, err, eventstore.ErrNotFound)
	_, err = b.cmds.ConfirmPayment(ctx, commands.ConfirmPayment{Tenant: other.Tenant, By: b.by, Order: p.Order, Amount: yen(1)})
	require.ErrorIs(t, err, eventstore.ErrNotFound, "another tenant's order is not found")
	require.Equal(t, before, b.countEvents(t), "no event written")
}

func TestMallOrderShipsPerVendor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupOrders(t)
	mall, _, err := b.cmds.CreateTenant(ctx, commands.CreateTenant{By: b.by, Code: "mall", Name: "mall", Type: "mall"})
	require.NoError(t, err)
	vA, _, err := b.cmds.CreateVendor(ctx, commands.CreateVendor{Tenant: mall.Tenant, By: b.by, Name: "A", CommissionRate: decimal.RequireFromString("0.1")})
	require.NoError(t, err)
	vB, _, err := b.cmds.CreateVendor(ctx, commands.CreateVendor{Tenant: mall.Tenant, By: b.by, Name: "B", CommissionRate: decimal.RequireFromString("0.1")})
	require.NoError(t, err)
	a := b.testBundle.product(t, mall.Tenant, &vA.UUID, nil, "A-1")[0]
	bb := b.testBundle.product(t, mall.Tenant, &vB.UUID, nil, "B-1")[0]
	for _, v := range []catalog.VariantID{a, bb} {
		_, _, err := b.cmds.AdjustInventory(ctx, commands.AdjustInventory{Tenant: mall.Tenant, By: b.by, Variant: &v, Delta: ptr(5), Reason: "x"})
		require.NoError(t, err)
	}
	p, err := ordertest.Place(ctx, b.cmds, ordertest.Order{Tenant: mall.Tenant, Method: order.PaymentCOD, Lines: []ordertest.Line{
		{Variant: a, Vendor: vA.UUID, SKU: "A-1"}, {Variant: bb, Vendor: vB.UUID, SKU: "B-1"}}})
	require.NoError(t, err)
	_, err = b.cmds.CreateShipments(ctx, commands.CreateShipments{Tenant: mall.Tenant, By: b.by, Order: p.Order})
	require.NoError(t, err)
	sA, sB := shipment.IDFor(p.Order.UUID, vA.UUID), shipment.IDFor(p.Order.UUID, vB.UUID)
	shA := shipment.FromHistory(history(t, b.store, mall.Tenant, sA.UUID))
	shB := shipment.FromHistory(history(t, b.store, mall.Tenant, sB.UUID))
	require.True(t, shA.CODAmount().Equal(p.Total), "COD on the first parcel")
	require.True(t, shB.CODAmount().IsZero())

	// Vendor B's staff cannot see vendor A's shipment.
	before := b.countEvents(t)
	_, err = b.cmds.ShipShipment(ctx, commands.ShipShipment{Tenant: mall.Tenant, By: b.by, VendorScope: &vB.UUID, Shipment: sA, Carrier: "x", TrackingNo: "1"})
	require.ErrorIs(t, err, eventstore.ErrNotFound)
	_, err = b.cmds.DeliverShipment(ctx, commands.DeliverShipment{Tenant: mall.Tenant, By: b.by, VendorScope: &vB.UUID, Shipment: sA})
	require.ErrorIs(t, err, eventstore.ErrNotFound)
	require.Equal(t, before, b.countEvents(t))

	_, err = b.cmds.ShipShipment(ctx, commands.ShipShipment{Tenant: mall.Tenant, By: b.by, VendorScope: &vA.UUID, Shipment: sA, Carrier: "x", TrackingNo: "1"})
	require.NoError(t, err)
	_, err = b.cmds.AdvanceOrder(ctx, commands.AdvanceOrder{Tenant: mall.Tenant, By: b.by, Order: p.Order})
	require.NoError(t, err)
	require.Equal(t, order.StatusPartiallyShipped, order.FromHistory(history(t, b.store, mall.Tenant, p.Order.UUID)).Status())
	_, err = b.cmds.CancelOrder(ctx, commands.CancelOrder{Tenant: mall.Tenant, By: b.by, Order: p.Order})
	require.ErrorIs(t, err, order.ErrAlreadyShipped)

	_, err = b.cmds.ShipShipment(ctx, commands.ShipShipment{Tenant: mall.Tenant, By: b.by, Shipment: sB, Carrier: "y", TrackingNo: "2"})
	require.NoError(t, err)
	_, err = b.cmds.CollectCOD(ctx, commands.CollectCOD{Tenant: mall.Tenant, By: b.by, Shipment: sB, Amount: p.Total})
	require.ErrorIs(t, err, commands.ErrNothingToCollect)
	_, err = b.cmds.AdvanceOrder(ctx, commands.AdvanceOrder{Tenant: mall.Tenant, By: b.by, Order: p.Order})
	require.NoError(t, err)
	require.Equal(t, order.StatusShipped, order.FromHistory(history(t, b.store, mall.Tenant, p.Order.UUID)).Status())
}

func TestCancelOverdueOrders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupOrders(t)
	unpaid := b.place(t, order.PaymentBankTransfer)
	partly := b.place(t, order.PaymentBankTransfer)
	paid := b.place(t, order.PaymentBankTransfer)
	cod := b.place(t, order.PaymentCOD)
	_, err := b.cmds.ConfirmPayment(ctx, commands.ConfirmPayment{Tenant: b.shop.Tenant, By: b.by, Order: partly.Order, Amount: yen(1000)})
	require.NoError(t, err)
	_, err = b.cmds.ConfirmPayment(ctx, commands.ConfirmPayment{Tenant: b.shop.Tenant, By: b.by, Order: paid.Order, Amount: yen(3800)})
	require.NoError(t, err)
	require.Equal(t, int64(2), b.item(t, b.tea).TotalAvailable())

	all := []ordertest.Placed{unpaid, partly, paid, cod}
	sweeper := &commands.Sweeper{Commands: b.cmds, FindFunc: func(ctx context.Context, now time.Time, limit int) ([]commands.Overdue, error) {
		// A stale read model: every order is a candidate.
		var out []commands.Overdue
		for _, p := range all {
			out = append(out, commands.Overdue{Tenant: b.shop.Tenant, Order: p.Order})
		}
		return out, nil
	}}
	n, err := sweeper.CancelOverdue(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "nothing is due yet")

	b.clock.Advance(7*24*time.Hour - time.Second)
	n, err = sweeper.CancelOverdue(ctx)
	require.NoError(t, err)
	require.Zero(t, n)

	b.clock.Advance(time.Second)
	n, err = sweeper.CancelOverdue(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "due, within the default grace period")
	_, err = b.cmds.UpdateSettings(ctx, commands.UpdateSettings{Tenant: b.shop.Tenant, By: b.by,
		Change: func(s tenant.Settings) (tenant.Settings, error) { s.PaymentGraceHours = 0; return s, nil }})
	require.NoError(t, err)
	n, err = sweeper.CancelOverdue(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	for _, p := range []ordertest.Placed{unpaid, partly} {
		o := b.order(t, p.Order)
		require.Equal(t, order.StatusCancelled, o.Status())
	}
	require.True(t, b.payment(t, partly.Payment).RefundDue().Equal(yen(1000)), "the partial receipt is due back")
	require.Equal(t, order.StatusPendingPayment, b.order(t, paid.Order).Status(), "paid (the policy has not moved it yet): kept")
	require.Equal(t, order.StatusPendingShipment, b.order(t, cod.Order).Status())
	require.Equal(t, int64(6), b.item(t, b.tea).TotalAvailable(), "the stock of the two cancelled orders is back")

	before := b.countEvents(t)
	n, err = sweeper.CancelOverdue(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
	require.Equal(t, before, b.countEvents(t))
}

func TestOrderCommandWithSameCommandIDAppendsOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupOrders(t)
	p := b.place(t, order.PaymentBankTransfer)
	by := b.by
	by.CommandID = uuid.Must(uuid.NewV7())
	c := commands.ConfirmPayment{Tenant: b.shop.Tenant, By: by, Order: p.Order, Amount: yen(100), Distinct: true}
	_, err := b.cmds.ConfirmPayment(ctx, c)
	require.NoError(t, err)
	_, err = b.cmds.ConfirmPayment(ctx, c)
	require.ErrorIs(t, err, eventstore.ErrDuplicate)
	require.True(t, b.payment(t, p.Payment).Received().Equal(yen(100)))
}

// Cancelling and shipping race: exactly one wins, and the stock adds up.
func TestCancelAndShipRace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupOrders(t)
	for i := 0; i < 5; i++ {
		p := b.place(t, order.PaymentCOD, ordertest.Line{Variant: b.tea, Vendor: b.shop.Vendor.UUID, SKU: "TEA-1", Quantity: 1})
		_, err := b.cmds.CreateShipments(ctx, commands.CreateShipments{Tenant: b.shop.Tenant, By: b.by, Order: p.Order})
		require.NoError(t, err)
		start := make(chan struct{})
		var wg sync.WaitGroup
		var cancelErr, shipErr error
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-start
			_, cancelErr = b.cmds.CancelOrder(ctx, commands.CancelOrder{Tenant: b.shop.Tenant, By: b.by, Order: p.Order})
		}()
		go func() {
			defer wg.Done()
			<-start
			_, shipErr = b.cmds.ShipShipment(ctx, commands.ShipShipment{Tenant: b.shop.Tenant, By: b.by, Shipment: b.sid(p), Carrier: "x", TrackingNo: "1"})
		}()
		close(start)
		wg.Wait()
		require.True(t, (cancelErr == nil) != (shipErr == nil), "exactly one wins: cancel=%v ship=%v", cancelErr, shipErr)
	}
	it := b.item(t, b.tea)
	require.Equal(t, int64(0), it.Reserved(b.shop.Location.UUID), "nothing left allocated")
	require.Equal(t, it.OnHand(b.shop.Location.UUID), it.TotalAvailable())
}
