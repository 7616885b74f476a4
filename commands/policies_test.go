package commands_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/payment"
	"github.com/honten/honten/domain/shipment"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/eventstore/bus"
)

func (b *orderBundle) policy(t *testing.T, name string) bus.Handler {
	t.Helper()
	for _, h := range b.cmds.Policies() {
		if h.Name == name {
			return h
		}
	}
	t.Fatalf("no policy %s", name)
	return bus.Handler{}
}

// envelope returns the first event of type typ among envs.
func envelope(t *testing.T, envs []eventstore.Envelope, typ string) eventstore.Envelope {
	t.Helper()
	for _, e := range envs {
		if e.Type == typ {
			return e
		}
	}
	t.Fatalf("no %s among %d events", typ, len(envs))
	return eventstore.Envelope{}
}

// deliverTwice hands env to h twice and returns the events the first
// delivery appended; the second must append nothing.
func (b *orderBundle) deliverTwice(t *testing.T, h bus.Handler, env eventstore.Envelope) int {
	t.Helper()
	ctx := context.Background()
	before := b.countEvents(t)
	require.NoError(t, h.Handle(ctx, env))
	after := b.countEvents(t)
	require.NoError(t, h.Handle(ctx, env), "a redelivery is not an error")
	require.Equal(t, after, b.countEvents(t), "the second delivery of %s appended nothing", env.Type)
	return after - before
}

func TestPolicyShipmentsOnOrderPlaced(t *testing.T) {
	t.Parallel()
	b := setupOrders(t)
	h := b.policy(t, commands.PolicyShipmentsOnOrderPlaced)
	require.Equal(t, []string{order.StreamType}, h.Topics)

	cod := b.place(t, order.PaymentCOD)
	require.Equal(t, 1, b.deliverTwice(t, h, envelope(t, cod.Events, "order.placed.v1")))
	sh := b.shipment(t, cod, b.shop.Vendor.UUID)
	require.Equal(t, shipment.StatusPending, sh.Status())
	envs, err := b.store.Load(context.Background(), b.store.Pool(), b.shop.Tenant, sh.ID().UUID)
	require.NoError(t, err)
	require.Equal(t, "system:"+commands.PolicyShipmentsOnOrderPlaced, envs[0].Actor)
	require.Equal(t, envelope(t, cod.Events, "order.placed.v1").EventID, envs[0].CausationID)

	bank := b.place(t, order.PaymentBankTransfer)
	require.Equal(t, 0, b.deliverTwice(t, h, envelope(t, bank.Events, "order.placed.v1")), "a bank transfer waits for its payment")
	// Other events of the topic are ignored.
	require.Equal(t, 0, b.deliverTwice(t, h, envelope(t, bank.Events, "payment.created.v1")))
}

func TestPolicyOrderOnPaymentSettled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupOrders(t)
	h := b.policy(t, commands.PolicyOrderOnPaymentSettled)
	p := b.place(t, order.PaymentBankTransfer)
	res, err := b.cmds.ConfirmPayment(ctx, commands.ConfirmPayment{Tenant: b.shop.Tenant, By: b.by, Order: p.Order, Amount: yen(3800)})
	require.NoError(t, err)
	require.Equal(t, 2, b.deliverTwice(t, h, envelope(t, res.Events, "payment.settled.v1")), "order paid + its shipment")
	require.Equal(t, order.StatusPendingShipment, b.order(t, p.Order).Status())
	require.Equal(t, shipment.StatusPending, b.shipment(t, p, b.shop.Vendor.UUID).Status())
	// A received (not settled) event is not this policy's business.
	require.Equal(t, 0, b.deliverTwice(t, h, envelope(t, res.Events, "payment.received.v1")))
}

func TestPolicyOrderOnShipmentProgress(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupOrders(t)
	h := b.policy(t, commands.PolicyOrderOnShipmentProgress)
	p := b.place(t, order.PaymentCOD)
	_, err := b.cmds.CreateShipments(ctx, commands.CreateShipments{Tenant: b.shop.Tenant, By: b.by, Order: p.Order})
	require.NoError(t, err)
	shipped, err := b.cmds.ShipShipment(ctx, commands.ShipShipment{Tenant: b.shop.Tenant, By: b.by, Shipment: b.sid(p), Carrier: "yamato", TrackingNo: "1"})
	require.NoError(t, err)
	require.Equal(t, 1, b.deliverTwice(t, h, envelope(t, shipped.Events, "shipment.shipped.v1")))
	require.Equal(t, order.StatusShipped, b.order(t, p.Order).Status())

	delivered, err := b.cmds.DeliverShipment(ctx, commands.DeliverShipment{Tenant: b.shop.Tenant, By: b.by, Shipment: b.sid(p)})
	require.NoError(t, err)
	require.Equal(t, 0, b.deliverTwice(t, h, envelope(t, delivered.Events, "shipment.delivered.v1")), "not collected yet")
	collected, err := b.cmds.CollectCOD(ctx, commands.CollectCOD{Tenant: b.shop.Tenant, By: b.by, Shipment: b.sid(p), Amount: p.Total})
	require.NoError(t, err)
	settled := b.policy(t, commands.PolicyOrderOnPaymentSettled)
	require.Equal(t, 1, b.deliverTwice(t, settled, envelope(t, collected.Events, "payment.settled.v1")), "delivered and paid: completed")
	require.Equal(t, order.StatusCompleted, b.order(t, p.Order).Status())
	// A late redelivery of the first trigger, after later events, changes nothing.
	require.Equal(t, 0, b.deliverTwice(t, h, envelope(t, shipped.Events, "shipment.shipped.v1")))
}

// The policies on the real bus: a bank-transfer order goes from payment to
// completed with staff acting only on the payment and the shipment; then
// every consumer group is rewound and the whole log delivered again, which
// appends nothing.
func TestPoliciesOnTheBusRedeliveredAppendNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupOrders(t)
	opts := bus.Options{PollInterval: 10 * time.Millisecond, LockRetry: 10 * time.Millisecond}
	run := func() (stop func()) {
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); _ = bus.NewWorker(b.store.Pool(), b.cmds.Policies(), opts).Run(rctx) }()
		stop = func() { cancel(); <-done }
		t.Cleanup(stop)
		return stop
	}
	stop := run()
	waitStatus := func(p order.ID, want order.Status) {
		require.Eventually(t, func() bool { return b.order(t, p).Status() == want }, 30*time.Second, 5*time.Millisecond)
	}
	bank := b.place(t, order.PaymentBankTransfer)
	cod := b.place(t, order.PaymentCOD)
	_, err := b.cmds.ConfirmPayment(ctx, commands.ConfirmPayment{Tenant: b.shop.Tenant, By: b.by, Order: bank.Order, Amount: yen(3800)})
	require.NoError(t, err)
	waitStatus(bank.Order, order.StatusPendingShipment)
	for _, p := range []struct {
		id  order.ID
		sid shipment.ID
	}{{bank.Order, b.sid(bank)}, {cod.Order, b.sid(cod)}} {
		require.Eventually(t, func() bool {
			_, err := b.cmds.ShipShipment(ctx, commands.ShipShipment{Tenant: b.shop.Tenant, By: b.by, Shipment: p.sid, Carrier: "yamato", TrackingNo: "1"})
			return err == nil
		}, 30*time.Second, 5*time.Millisecond, "the shipment exists once the policy ran")
		waitStatus(p.id, order.StatusShipped)
		_, err = b.cmds.DeliverShipment(ctx, commands.DeliverShipment{Tenant: b.shop.Tenant, By: b.by, Shipment: p.sid})
		require.NoError(t, err)
	}
	waitStatus(bank.Order, order.StatusCompleted)
	_, err = b.cmds.CollectCOD(ctx, commands.CollectCOD{Tenant: b.shop.Tenant, By: b.by, Shipment: b.sid(cod), Amount: cod.Total})
	require.NoError(t, err)
	waitStatus(cod.Order, order.StatusCompleted)
	require.Equal(t, payment.StatusPaid, b.payment(t, cod.Payment).Status())
	stop()

	// Wait for every group to have acknowledged the whole log, then rewind.
	last := func() (n int64) {
		require.NoError(t, b.store.Pool().QueryRow(ctx, `SELECT max(global_position) FROM events`).Scan(&n))
		return n
	}()
	_, err = b.store.Pool().Exec(ctx, `UPDATE watermill_offsets_events SET offset_acked = 0, last_processed_transaction_id = '0'`)
	require.NoError(t, err)
	before := b.countEvents(t)
	run()
	require.Eventually(t, func() bool {
		var behind int
		require.NoError(t, b.store.Pool().QueryRow(ctx, `SELECT count(*) FROM watermill_offsets_events WHERE offset_acked < (
			SELECT max(global_position) FROM events e WHERE e.stream_type = watermill_offsets_events.topic)`).Scan(&behind))
		return behind == 0
	}, 30*time.Second, 5*time.Millisecond)
	require.Equal(t, before, b.countEvents(t), "redelivering everything appended nothing")
	require.Positive(t, last)
}
