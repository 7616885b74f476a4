package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/commands/reservations"
	"github.com/honten/honten/domain/cart"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/shipment"
	"github.com/honten/honten/domain/tenant"
)

// demoOrder is one order the demo places, and how far it takes it.
type demoOrder struct {
	method order.PaymentMethod
	// to is the status the order ends in.
	to  order.Status
	qty int64
}

var demoOrders = []demoOrder{
	{order.PaymentBankTransfer, order.StatusPendingPayment, 1},
	{order.PaymentBankTransfer, order.StatusPendingPayment, 2},
	{order.PaymentBankTransfer, order.StatusPendingShipment, 1},
	{order.PaymentCOD, order.StatusPendingShipment, 1},
	{order.PaymentCOD, order.StatusShipped, 2},
	{order.PaymentBankTransfer, order.StatusShipped, 1},
	{order.PaymentBankTransfer, order.StatusCompleted, 1},
	{order.PaymentCOD, order.StatusCompleted, 1},
	{order.PaymentBankTransfer, order.StatusCancelled, 1},
	{order.PaymentCOD, order.StatusCancelled, 1},
}

// placeOrders checks out a cart per demo order through the storefront's
// commands (cart, reservation decided by the reservation worker, checkout)
// and takes each order to its status through the backoffice's commands —
// so the backoffice has orders in every status. Every command id is
// derived from the order's position: loading is deterministic.
func placeOrders(ctx context.Context, cmds *commands.Service, t tenant.ID, sku string) (int, error) {
	w := cmds.NewReservationWorker(reservations.Options{})
	for i, d := range demoOrders {
		name := func(step string) commands.By { return by(fmt.Sprintf("order:%d:%s", i, step)) }
		placed, err := checkoutCart(ctx, cmds, w, t, name, []item{{sku, d.qty}}, commands.Checkout{
			Email: fmt.Sprintf("buyer%d@demo.honten.example", i+1), Name: buyers[i%len(buyers)], Phone: "090-1234-5678",
			Address:       order.Address{PostalCode: "6008216", Prefecture: "京都府", City: "京都市下京区", Line1: "東塩小路町1"},
			PaymentMethod: string(d.method)})
		if err != nil {
			return i, err
		}
		if err := advanceDemoOrder(ctx, cmds, t, placed, d, name); err != nil {
			return i, fmt.Errorf("demo order %s: %w", placed.Number, err)
		}
	}
	return len(demoOrders), nil
}

// item is a cart line to add: a SKU and its quantity.
type item struct {
	sku string
	qty int64
}

// reservationWait bounds how long a checkout waits for its lines'
// reservations when a worker of a running process decides them.
const reservationWait = time.Minute

// checkoutCart fills a cart with items through the storefront's commands,
// decides their reservations with w (a running worker may beat it to it:
// then the checkout waits for that decision) and checks the cart out as co
// (its Tenant, By, Cart and Token are filled in here). Command ids derive
// from name: the first line is name("add"), the k-th name("add:k").
func checkoutCart(ctx context.Context, cmds *commands.Service, w *reservations.Worker, t tenant.ID, name func(string) commands.By,
	items []item, co commands.Checkout) (commands.Placed, error) {
	created, _, err := cmds.CreateCart(ctx, commands.CreateCart{Tenant: t, By: name("cart")})
	if err != nil {
		return commands.Placed{}, fmt.Errorf("demo cart: %w", err)
	}
	for k, it := range items {
		step := "add"
		if k > 0 {
			step = fmt.Sprintf("add:%d", k)
		}
		if _, _, err := cmds.AddToCart(ctx, commands.AddToCart{Tenant: t, By: name(step), Cart: created.Cart, Token: created.Token, SKU: it.sku, Quantity: it.qty}); err != nil {
			return commands.Placed{}, fmt.Errorf("demo cart line %s: %w", it.sku, err)
		}
	}
	co.Tenant, co.By, co.Cart, co.Token = t, name("checkout"), cart.ID{UUID: created.Cart.UUID}, created.Token
	deadline := time.Now().Add(reservationWait)
	for {
		for _, lane := range []string{reservations.LaneNormal, reservations.LaneHot} {
			for {
				n, err := w.Process(ctx, lane)
				if err != nil {
					return commands.Placed{}, fmt.Errorf("demo reservation: %w", err)
				}
				if n == 0 {
					break
				}
			}
		}
		placed, _, err := cmds.Checkout(ctx, co)
		if errors.Is(err, commands.ErrLinesNotReserved) && time.Now().Before(deadline) {
			select {
			case <-ctx.Done():
				return commands.Placed{}, ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
			continue
		}
		if err != nil {
			return commands.Placed{}, fmt.Errorf("demo checkout: %w", err)
		}
		return placed, nil
	}
}

var buyers = []string{"山田 太郎", "鈴木 花子", "佐藤 次郎", "田中 美咲", "高橋 健"}

func advanceDemoOrder(ctx context.Context, cmds *commands.Service, t tenant.ID, p commands.Placed, d demoOrder, name func(string) commands.By) error {
	advance := func(step string) error {
		_, err := cmds.AdvanceOrder(ctx, commands.AdvanceOrder{Tenant: t, By: name(step), Order: p.Order})
		return err
	}
	if d.to == order.StatusPendingPayment {
		return nil
	}
	if d.to == order.StatusCancelled {
		_, err := cmds.CancelOrder(ctx, commands.CancelOrder{Tenant: t, By: name("cancel"), Order: p.Order, Reason: "お客様のご都合"})
		return err
	}
	if d.method == order.PaymentBankTransfer {
		if _, err := cmds.ConfirmPayment(ctx, commands.ConfirmPayment{Tenant: t, By: name("pay"), Order: p.Order, Amount: p.Totals.Total, Reference: "DEMO-" + p.Number}); err != nil {
			return err
		}
	}
	if err := advance("paid"); err != nil {
		return err
	}
	if d.to == order.StatusPendingShipment {
		return nil
	}
	sid := shipment.IDFor(p.Order.UUID, p.Lines[0].Vendor)
	if _, err := cmds.ShipShipment(ctx, commands.ShipShipment{Tenant: t, By: name("ship"), Shipment: sid, Carrier: "ヤマト運輸", TrackingNo: "4420-" + p.Number[len(p.Number)-4:]}); err != nil {
		return err
	}
	if err := advance("shipped"); err != nil {
		return err
	}
	if d.to == order.StatusShipped {
		return nil
	}
	if _, err := cmds.DeliverShipment(ctx, commands.DeliverShipment{Tenant: t, By: name("deliver"), Shipment: sid}); err != nil {
		return err
	}
	if d.method == order.PaymentCOD {
		if _, err := cmds.CollectCOD(ctx, commands.CollectCOD{Tenant: t, By: name("collect"), Shipment: sid, Amount: p.Totals.Total}); err != nil {
			return err
		}
	}
	return advance("delivered")
}
