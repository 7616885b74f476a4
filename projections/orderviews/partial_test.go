package orderviews_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/internal/projtest"
	"github.com/honten/honten/projections/orderviews"
)

// A partial cancellation shows in the order's detail: the units left and
// cancelled per line, the new totals, the amount due, the parcel's lines
// and amount to collect, and a history entry; replaying changes nothing.
func TestOrderViewsShowPartialCancellation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	tn := b.shop.Tenant
	cod := b.place(t, b.shop, b.tea, order.PaymentCOD, "taro@example.jp", "山田 太郎")
	_, err := b.cmds.CreateShipments(ctx, commands.CreateShipments{Tenant: tn, By: b.by, Order: cod.Order})
	require.NoError(t, err)
	res, err := b.cmds.CancelOrder(ctx, commands.CancelOrder{Tenant: tn, By: b.by, Order: cod.Order, Reason: "one is enough",
		Lines: []commands.CancelLine{{Line: cod.Lines[0].ID, Quantity: 1}}})
	require.NoError(t, err)
	b.wait(t, res.Result)

	d, err := orderviews.Get(ctx, b.pool, tn, cod.Order.UUID, nil)
	require.NoError(t, err)
	require.Equal(t, "pending_shipment", d.Status)
	require.Equal(t, int64(1), d.Lines[0].Quantity)
	require.Equal(t, int64(1), d.Lines[0].CancelledQuantity)
	want, err := cod.Total.Sub(yen(1500))
	require.NoError(t, err)
	require.True(t, d.Totals.Total.Equal(want), "total %s", d.Totals.Total)
	require.True(t, d.Totals.Subtotal.Equal(yen(1500)))
	require.True(t, d.Payments[0].Amount.Equal(want))
	require.True(t, d.Payments[0].BalanceDue.Equal(want))
	require.Equal(t, int64(1), d.Shipments[0].Lines[0].Quantity)
	require.True(t, d.Shipments[0].CODAmount.Equal(want))
	last := d.History[len(d.History)-1]
	require.Equal(t, "lines cancelled: one is enough", last.Reason)
	require.Equal(t, "pending_shipment", last.To)
	bv, err := orderviews.ForBuyer(ctx, b.pool, tn, cod.Order.UUID, cod.Token)
	require.NoError(t, err)
	require.Equal(t, int64(1), bv.Lines[0].Quantity)

	live := dump(t, b.pool)
	require.NoError(t, b.runner.Rebuild(ctx, "order_views", nil))
	require.Equal(t, live, dump(t, b.pool))
	tx := projtest.Reapply(t, b.pool, orderviews.Projector{Registry: b.store.Registry()})
	require.Equal(t, live, dump(t, tx))
}
