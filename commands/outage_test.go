package commands_test

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/shipment"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/eventstore/bus"
	"github.com/honten/honten/internal/app"
)

// flakyPool is a pool on the test database whose connections can be cut:
// while down, every open connection is closed and every dial fails.
type flakyPool struct {
	*pgxpool.Pool
	down    atomic.Bool
	refused atomic.Int64
}

func newFlakyPool(t *testing.T, connString string) *flakyPool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(connString)
	require.NoError(t, err)
	f := &flakyPool{}
	var d net.Dialer
	cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if f.down.Load() {
			f.refused.Add(1)
			return nil, errors.New("test: database unreachable")
		}
		return d.DialContext(ctx, network, addr)
	}
	f.Pool, err = pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(f.Pool.Close)
	return f
}

// cut makes the database unreachable for d.
func (f *flakyPool) cut(d time.Duration) {
	f.down.Store(true)
	f.Reset()
	time.AfterFunc(d, func() { f.down.Store(false) })
}

// A policy survives a database outage: the database is unreachable to the
// policies for 5 s while payment.settled is handled, and the order still
// becomes paid, with its shipment.
func TestPolicyOutlivesADatabaseOutage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupOrders(t)
	flaky := newFlakyPool(t, b.store.Pool().Config().ConnString())
	policies := commands.New(eventstore.New(flaky.Pool, app.Registry()), b.clock.Now)
	// The default retry settings of the workers role.
	w := bus.NewWorker(b.store.Pool(), policies.Policies(), bus.Options{PollInterval: 10 * time.Millisecond, LockRetry: 10 * time.Millisecond})
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(rctx) }()
	t.Cleanup(func() { cancel(); <-done })

	p := b.place(t, order.PaymentBankTransfer)
	flaky.cut(5 * time.Second)
	_, err := b.cmds.ConfirmPayment(ctx, commands.ConfirmPayment{Tenant: b.shop.Tenant, By: b.by, Order: p.Order, Amount: yen(3800)})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return flaky.refused.Load() > 0 }, 30*time.Second, 5*time.Millisecond, "the policy met the outage")

	require.Eventually(t, func() bool { return b.order(t, p.Order).Status() == order.StatusPendingShipment }, 60*time.Second, 10*time.Millisecond,
		"the order became paid after the outage")
	require.Equal(t, shipment.StatusPending, b.shipment(t, p, b.shop.Vendor.UUID).Status())
	var poisoned int
	require.NoError(t, b.store.Pool().QueryRow(ctx, `SELECT count(*) FROM watermill_poison`).Scan(&poisoned))
	require.Zero(t, poisoned)
}
