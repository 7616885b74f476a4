package orderviews_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/shipment"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/ordertest"
	"github.com/honten/honten/internal/pgtest"
	"github.com/honten/honten/internal/projtest"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/projections/orderviews"
	"github.com/honten/honten/projections/tenancy"
)

var tables = []string{"order_views", "order_view_history", "order_view_payments", "order_view_shipments"}

type testBundle struct {
	pool   *pgxpool.Pool
	store  *eventstore.Store
	cmds   *commands.Service
	runner *projections.Runner
	by     commands.By
	now    func() time.Time
	mu     sync.Mutex
	clock  time.Time
	shop   commands.TenantCreated
	tea    catalog.VariantID
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	pool := pgtest.New(t)
	reg := app.Registry()
	st := eventstore.New(pool, reg)
	b := &testBundle{pool: pool, store: st, by: commands.By{Actor: "staff:test"}, clock: time.Date(2025, 12, 1, 9, 0, 0, 0, time.UTC)}
	b.now = func() time.Time { b.mu.Lock(); defer b.mu.Unlock(); b.clock = b.clock.Add(time.Second); return b.clock }
	b.cmds = commands.New(st, b.now)
	// The sweep's query reads the tenants' grace periods (tenancy).
	b.runner = projtest.Run(t, pool, orderviews.Projector{Registry: reg}, tenancy.Projector{Registry: reg})
	b.shop, b.tea = b.newShop(t, "kyoto")
	return b
}

func (b *testBundle) newShop(t *testing.T, code string) (commands.TenantCreated, catalog.VariantID) {
	t.Helper()
	ctx := context.Background()
	created, _, err := b.cmds.CreateTenant(ctx, commands.CreateTenant{By: b.by, Code: code, Name: code, Type: "single_brand"})
	require.NoError(t, err)
	_, _, err = b.cmds.CreateProduct(ctx, commands.CreateProduct{Tenant: created.Tenant, By: b.by, Title: "Sencha",
		Variants: []commands.VariantInput{{SKU: "TEA-" + code, Price: yen(1500)}}})
	require.NoError(t, err)
	v, err := commands.VariantBySKU(ctx, b.pool, created.Tenant, "TEA-"+code)
	require.NoError(t, err)
	_, _, err = b.cmds.AdjustInventory(ctx, commands.AdjustInventory{Tenant: created.Tenant, By: b.by, Variant: &v, Delta: ptrInt(100), Reason: "delivery"})
	require.NoError(t, err)
	return created, v
}

func ptrInt(n int64) *int64 { return &n }

func yen(n int64) money.Money { return money.MustNew(decimal.NewFromInt(n), money.JPY) }

func (b *testBundle) place(t *testing.T, shop commands.TenantCreated, v catalog.VariantID, method order.PaymentMethod, email, name string) ordertest.Placed {
	t.Helper()
	p, err := ordertest.Place(context.Background(), b.cmds, ordertest.Order{Tenant: shop.Tenant, Method: method, Email: email, Name: name,
		Lines: []ordertest.Line{{Variant: v, Vendor: shop.Vendor.UUID, SKU: "TEA", Quantity: 2, Price: 1500}}})
	require.NoError(t, err)
	return p
}

func (b *testBundle) wait(t *testing.T, res eventstore.Result) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, b.runner.WaitFor(ctx, res.Last))
}

func (b *testBundle) advance(t *testing.T, tn tenant.ID, id order.ID) eventstore.Result {
	t.Helper()
	res, err := b.cmds.AdvanceOrder(context.Background(), commands.AdvanceOrder{Tenant: tn, By: b.by, Order: id})
	require.NoError(t, err)
	return res.Result
}

func dump(t *testing.T, q eventstore.Querier) string {
	t.Helper()
	return projtest.Dump(t, q, tables...)
}

// TestOrderViewsFollowTheOrderLife drives orders of both payment methods
// through their lives and checks the detail, the list filters and the
// buyer's view; then replaying twice — and applying the whole log again
// over the rows — changes nothing.
func TestOrderViewsFollowTheOrderLife(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	tn := b.shop.Tenant
	bank := b.place(t, b.shop, b.tea, order.PaymentBankTransfer, "hanako@example.jp", "鈴木 花子")
	cod := b.place(t, b.shop, b.tea, order.PaymentCOD, "taro@example.jp", "山田 太郎")
	cancelled := b.place(t, b.shop, b.tea, order.PaymentBankTransfer, "jiro@example.jp", "佐藤 次郎")
	other, otherTea := b.newShop(t, "osaka")
	b.place(t, other, otherTea, order.PaymentCOD, "hanako@example.jp", "鈴木 花子")

	_, err := b.cmds.ConfirmPayment(ctx, commands.ConfirmPayment{Tenant: tn, By: b.by, Order: bank.Order, Amount: yen(1000), Reference: "101",
		ReceivedAt: time.Date(2025, 11, 30, 10, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	_, err = b.cmds.ConfirmPayment(ctx, commands.ConfirmPayment{Tenant: tn, By: b.by, Order: bank.Order, Amount: yen(3000), Reference: "102"})
	require.NoError(t, err)
	b.advance(t, tn, bank.Order)
	sid := shipment.IDFor(bank.Order.UUID, b.shop.Vendor.UUID)
	_, err = b.cmds.ShipShipment(ctx, commands.ShipShipment{Tenant: tn, By: b.by, Shipment: sid, Carrier: "ヤマト運輸", TrackingNo: "1234-5678"})
	require.NoError(t, err)
	b.advance(t, tn, bank.Order)
	_, err = b.cmds.CreateShipments(ctx, commands.CreateShipments{Tenant: tn, By: b.by, Order: cod.Order})
	require.NoError(t, err)
	res, err := b.cmds.CancelOrder(ctx, commands.CancelOrder{Tenant: tn, By: b.by, Order: cancelled.Order, Reason: "buyer asked"})
	require.NoError(t, err)
	b.wait(t, res.Result)

	d, err := orderviews.Get(ctx, b.pool, tn, bank.Order.UUID, nil)
	require.NoError(t, err)
	require.Equal(t, bank.Number, d.Number)
	require.Equal(t, "shipped", d.Status)
	require.Equal(t, "bank_transfer", d.PaymentMethod)
	require.Equal(t, orderviews.Customer{Email: "hanako@example.jp", Name: "鈴木 花子", Phone: "09012345678"}, d.Customer)
	require.Len(t, d.Lines, 1)
	require.True(t, d.Totals.Total.Equal(yen(3800)))
	require.Len(t, d.Payments, 1)
	pay := d.Payments[0]
	require.Equal(t, "paid", pay.Status)
	require.True(t, pay.Amount.Equal(yen(3800)))
	require.True(t, pay.Received.Equal(yen(4000)))
	require.True(t, pay.BalanceDue.Equal(yen(0)))
	require.True(t, pay.RefundDue.Equal(yen(200)), "over-payment")
	require.NotEmpty(t, pay.ReferenceCode)
	require.NotNil(t, pay.DueAt)
	require.Len(t, pay.Receipts, 2)
	require.Equal(t, "101", pay.Receipts[0].Reference)
	require.True(t, pay.Receipts[0].Amount.Equal(yen(1000)))
	require.Equal(t, time.Date(2025, 11, 30, 10, 0, 0, 0, time.UTC), pay.Receipts[0].ReceivedAt)
	require.Len(t, d.Shipments, 1)
	require.Equal(t, orderviews.Shipment{ID: sid.UUID, OrderID: bank.Order.UUID, VendorID: b.shop.Vendor.UUID, Status: "shipped",
		Carrier: "ヤマト運輸", TrackingNo: "1234-5678", Lines: d.Shipments[0].Lines, CODAmount: yen(0), CreatedAt: d.Shipments[0].CreatedAt,
		ShippedAt: d.Shipments[0].ShippedAt, Version: 2}, d.Shipments[0])
	require.NotNil(t, d.Shipments[0].ShippedAt)
	var moves []string
	for _, c := range d.History {
		moves = append(moves, c.To)
	}
	require.Equal(t, []string{"pending_payment", "pending_shipment", "shipped"}, moves)
	require.Nil(t, d.History[0].From)
	require.Equal(t, "pending_payment", *d.History[1].From)

	dc, err := orderviews.Get(ctx, b.pool, tn, cancelled.Order.UUID, nil)
	require.NoError(t, err)
	require.Equal(t, "cancelled", dc.Status)
	require.Equal(t, "buyer asked", dc.History[1].Reason)
	require.Equal(t, "staff:test", dc.History[1].Actor)
	require.Equal(t, "cancelled", dc.Payments[0].Status)
	require.True(t, dc.Payments[0].BalanceDue.IsZero())

	dcod, err := orderviews.Get(ctx, b.pool, tn, cod.Order.UUID, nil)
	require.NoError(t, err)
	require.True(t, dcod.Shipments[0].CODAmount.Equal(cod.Total))
	require.Empty(t, dcod.Payments[0].ReferenceCode)
	require.Nil(t, dcod.Payments[0].DueAt)

	// Another tenant's order is not found; a vendor scope of another vendor neither.
	_, err = orderviews.Get(ctx, b.pool, other.Tenant, bank.Order.UUID, nil)
	require.ErrorIs(t, err, eventstore.ErrNotFound)
	stranger := uuid.New()
	_, err = orderviews.Get(ctx, b.pool, tn, bank.Order.UUID, &stranger)
	require.ErrorIs(t, err, eventstore.ErrNotFound)
	mine, err := orderviews.Get(ctx, b.pool, tn, bank.Order.UUID, &b.shop.Vendor.UUID)
	require.NoError(t, err)
	require.Nil(t, mine.Totals)
	require.Empty(t, mine.Payments)
	require.Len(t, mine.Shipments, 1)

	// The list and its filters.
	list := func(f orderviews.Filter, p projections.Page) []string {
		t.Helper()
		if p.Limit == 0 {
			p.Limit = 20
		}
		l, err := orderviews.List(ctx, b.pool, tn, f, p)
		require.NoError(t, err)
		var out []string
		for _, s := range l.Items {
			out = append(out, s.Number)
		}
		return out
	}
	require.Equal(t, []string{cancelled.Number, cod.Number, bank.Number}, list(orderviews.Filter{}, projections.Page{}), "newest first")
	require.Equal(t, []string{bank.Number}, list(orderviews.Filter{Status: "shipped"}, projections.Page{}))
	require.Equal(t, []string{cod.Number}, list(orderviews.Filter{PaymentMethod: "cod"}, projections.Page{}))
	require.Equal(t, []string{bank.Number}, list(orderviews.Filter{Query: "HANAKO@"}, projections.Page{}))
	require.Equal(t, []string{cod.Number}, list(orderviews.Filter{Query: "山田"}, projections.Page{}))
	require.Equal(t, []string{cod.Number}, list(orderviews.Filter{Query: cod.Number}, projections.Page{}))
	require.Empty(t, list(orderviews.Filter{Query: "%"}, projections.Page{}), "LIKE wildcards are literal")
	require.Len(t, list(orderviews.Filter{Vendor: &b.shop.Vendor.UUID}, projections.Page{}), 3)
	require.Empty(t, list(orderviews.Filter{Vendor: &stranger}, projections.Page{}))
	from := d.CreatedAt.Add(-time.Second)
	require.Len(t, list(orderviews.Filter{CreatedFrom: &from}, projections.Page{}), 3)
	require.Empty(t, list(orderviews.Filter{CreatedTo: &from}, projections.Page{}))
	l, err := orderviews.List(ctx, b.pool, tn, orderviews.Filter{}, projections.Page{Limit: 2})
	require.NoError(t, err)
	require.Len(t, l.Items, 2)
	require.NotNil(t, l.NextCursor)
	require.Equal(t, []string{bank.Number}, list(orderviews.Filter{}, projections.Page{Limit: 2, Cursor: *l.NextCursor}))
	_, err = orderviews.List(ctx, b.pool, tn, orderviews.Filter{}, projections.Page{Limit: 2, Cursor: "garbage!"})
	require.ErrorIs(t, err, projections.ErrBadCursor)
	s, err := orderviews.List(ctx, b.pool, tn, orderviews.Filter{Status: "shipped"}, projections.Page{Limit: 5})
	require.NoError(t, err)
	require.Equal(t, "paid", *s.Items[0].PaymentStatus)
	require.True(t, s.Items[0].Total.Equal(yen(3800)))

	// The buyer's view needs the token.
	bv, err := orderviews.ForBuyer(ctx, b.pool, tn, bank.Order.UUID, bank.Token)
	require.NoError(t, err)
	require.Equal(t, "shipped", bv.Status)
	require.Equal(t, "ヤマト運輸", bv.Shipments[0].Carrier)
	require.Equal(t, pay.ReferenceCode, bv.Payment.ReferenceCode)
	for _, tok := range []string{"", "wrong", cod.Token} {
		_, err = orderviews.ForBuyer(ctx, b.pool, tn, bank.Order.UUID, tok)
		require.ErrorIs(t, err, eventstore.ErrNotFound)
	}

	// The deadline sweep's query finds unpaid bank transfers from their due date on.
	due, err := orderviews.OverdueOrders(ctx, b.pool, b.now().AddDate(0, 1, 0), 10)
	require.NoError(t, err)
	require.Empty(t, due, "the paid and the cancelled bank transfers are not due")
	late := b.place(t, b.shop, b.tea, order.PaymentBankTransfer, "late@example.jp", "x")
	b.wait(t, eventstore.Result{Last: late.Events[len(late.Events)-1].Position})
	grace := tenant.DefaultPaymentGraceHours * time.Hour
	due, err = orderviews.OverdueOrders(ctx, b.pool, late.DueAt.Add(grace), 10)
	require.NoError(t, err)
	require.Equal(t, []orderviews.Overdue{{Tenant: tn, Order: late.Order.UUID}}, due)
	due, err = orderviews.OverdueOrders(ctx, b.pool, late.DueAt.Add(grace-time.Second), 10)
	require.NoError(t, err)
	require.Empty(t, due, "due, within the grace period")

	// Replaying twice gives the rows the live tail built.
	live := dump(t, b.pool)
	require.NoError(t, b.runner.Rebuild(ctx, "order_views", nil))
	replay1 := dump(t, b.pool)
	require.NoError(t, b.runner.Rebuild(ctx, "order_views", nil))
	require.Equal(t, live, replay1)
	require.Equal(t, replay1, dump(t, b.pool))

	// Applying the whole log again over the rows changes nothing.
	tx := projtest.Reapply(t, b.pool, orderviews.Projector{Registry: b.store.Registry()})
	require.Equal(t, live, dump(t, tx))
}
