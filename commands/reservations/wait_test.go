package reservations_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/commands/reservations"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/database"
	"github.com/honten/honten/internal/pgtest"
)

// process is one process of the shop: its own pool, store and commands on
// the shared database.
type process struct {
	store *eventstore.Store
	svc   *commands.Service
}

func newProcess(t *testing.T, url string) process {
	t.Helper()
	pool, err := database.Open(context.Background(), url, database.Options{MaxConns: 16})
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	st := eventstore.New(pool, app.Registry())
	svc := commands.New(st, nil)
	svc.SetHotThreshold(0)
	return process{store: st, svc: svc}
}

// shop is a tenant selling one SKU with stock units.
type shop struct {
	tenant   tenant.ID
	sku      string
	location uuid.UUID
}

func newShop(t *testing.T, p process, stock int64) shop {
	t.Helper()
	ctx := context.Background()
	created, _, err := p.svc.CreateTenant(ctx, commands.CreateTenant{By: commands.By{Actor: "test"}, Code: "wait", Name: "wait", Type: "single_brand"})
	require.NoError(t, err)
	_, err = p.svc.UpdateSettings(ctx, commands.UpdateSettings{Tenant: created.Tenant, By: commands.By{Actor: "test"},
		Change: func(s tenant.Settings) (tenant.Settings, error) {
			s.SKUQuantityCaps = map[string]int{"TEA-1": 999}
			return s, nil
		}})
	require.NoError(t, err)
	by := commands.By{Actor: "test", CommandID: uuid.Must(uuid.NewV7())}
	pid, _, err := p.svc.CreateProduct(ctx, commands.CreateProduct{Tenant: created.Tenant, By: by, Title: "抹茶", Status: "active",
		Variants: []commands.VariantInput{{SKU: "TEA-1", Price: money.MustNew(decimal.NewFromInt(1200), money.JPY)}}})
	require.NoError(t, err)
	_, err = p.svc.SetStock(ctx, commands.SetStock{Tenant: created.Tenant, By: commands.By{Actor: "test"}, Product: pid, Reason: "count",
		Levels: []commands.StockSet{{Variant: catalog.VariantID{UUID: by.DerivedID(100)}, Location: created.Location, OnHand: stock}}})
	require.NoError(t, err)
	return shop{tenant: created.Tenant, sku: "TEA-1", location: created.Location.UUID}
}

// add opens a cart and adds one unit through p; it returns the request's
// reservation id.
func (s shop) add(t testing.TB, p process) uuid.UUID {
	ctx := context.Background()
	c, _, err := p.svc.CreateCart(ctx, commands.CreateCart{Tenant: s.tenant, By: commands.By{Actor: "test", CommandID: uuid.Must(uuid.NewV7())}})
	if err != nil {
		t.Error(err)
		return uuid.Nil
	}
	ch, _, err := p.svc.AddToCart(ctx, commands.AddToCart{Tenant: s.tenant, By: commands.By{Actor: "test", CommandID: uuid.Must(uuid.NewV7())},
		Cart: c.Cart, Token: c.Token, SKU: s.sku, Quantity: 1})
	if err != nil {
		t.Error(err)
		return uuid.Nil
	}
	return ch.Reservation.UUID
}

// run runs w until the test ends.
func run(t *testing.T, w interface{ Run(context.Context) error }) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// A decision made by the worker of another process reaches a waiter of
// this one through the feed watcher alone: this process's watcher never
// polls on its own (its waiters look again only when the watcher sees a
// change), and it decides nothing itself.
func TestWaitSeesADecisionMadeInAnotherProcess(t *testing.T) {
	url := pgtest.NewURL(t)
	deciding, waiting := newProcess(t, url), newProcess(t, url)
	s := newShop(t, waiting, 5)
	watcher := eventstore.NewWatcher(waiting.store.Pool(), eventstore.WatchOptions{})
	run(t, watcher)
	here := waiting.svc.NewReservationWorker(reservations.Options{Changes: watcher.Changes, MinPoll: time.Hour, WaitPoll: time.Hour})

	id := s.add(t, waiting)
	ch, cancel := here.Await(s.tenant, id)
	defer cancel()
	st, err := here.Statuses(context.Background(), s.tenant, []uuid.UUID{id})
	require.NoError(t, err)
	require.Equal(t, reservations.Pending, st[id].Status, "decided before any worker ran")

	run(t, deciding.svc.NewReservationWorker(reservations.Options{LockRetry: 5 * time.Millisecond}))
	var got reservations.Status
	select {
	case got = <-ch:
	case <-time.After(60 * time.Second):
		t.Fatal("the other process's decision never reached the waiter")
	}
	require.Equal(t, "reserved", got.Status)
	index, err := here.Statuses(context.Background(), s.tenant, []uuid.UUID{id})
	require.NoError(t, err)
	require.Equal(t, index[id].Status, got.Status)
	require.NotNil(t, got.ExpiresAt)
	require.True(t, index[id].ExpiresAt.Equal(*got.ExpiresAt))

	// Wait, too, tells the decision once it is made, and at once after.
	got, err = here.Wait(context.Background(), s.tenant, id, 30*time.Second)
	require.NoError(t, err)
	require.Equal(t, "reserved", got.Status)
	second := s.add(t, waiting)
	got, err = here.Wait(context.Background(), s.tenant, second, 60*time.Second)
	require.NoError(t, err)
	require.Equal(t, "reserved", got.Status)
}

// With no worker deciding, Wait ends at its deadline with "pending" (and
// as soon as its context ends); with wait 0 it reads the index once.
func TestWaitEndsPendingAtItsDeadline(t *testing.T) {
	url := pgtest.NewURL(t)
	p := newProcess(t, url)
	s := newShop(t, p, 5)
	w := p.svc.NewReservationWorker(reservations.Options{})
	id := s.add(t, p)
	ctx := context.Background()

	start := time.Now()
	st, err := w.Wait(ctx, s.tenant, id, 150*time.Millisecond)
	require.NoError(t, err)
	require.Equal(t, reservations.Pending, st.Status)
	require.False(t, st.Decided())
	require.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)

	st, err = w.Wait(ctx, s.tenant, id, 0)
	require.NoError(t, err)
	require.Equal(t, reservations.Pending, st.Status)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	start = time.Now()
	st, err = w.Wait(cctx, s.tenant, id, 5*time.Second)
	require.NoError(t, err)
	require.Equal(t, reservations.Pending, st.Status)
	require.Less(t, time.Since(start), 5*time.Second, "a cancelled wait ran to its deadline")

	// Another tenant's id is never told: it reads as pending. The request
	// is decided first: a pass of the worker reads the feed below the
	// cluster's oldest running transaction, so another database's open
	// transaction can hide it from one pass; passes run until it is decided.
	require.Eventually(t, func() bool {
		_, err := w.Process(ctx, reservations.LaneNormal)
		require.NoError(t, err)
		st, err := reservations.Statuses(ctx, p.store.Pool(), s.tenant, []uuid.UUID{id})
		require.NoError(t, err)
		return st[id].Decided()
	}, time.Minute, 5*time.Millisecond)
	other := tenant.ID{UUID: uuid.Must(uuid.NewV7())}
	st, err = w.Wait(ctx, other, id, 50*time.Millisecond)
	require.NoError(t, err)
	require.Equal(t, reservations.Pending, st.Status)
	st, err = w.Wait(ctx, s.tenant, id, time.Second)
	require.NoError(t, err)
	require.Equal(t, "reserved", st.Status)
}

// Many buyers race for little stock, each waiting for its decision twice
// at once: in the deciding process (handed over by its lanes) and in
// another process (read from the index). Every waiter gets its decision,
// the same on both sides and as the index has it, and exactly the stock
// is reserved.
func TestManyWaitersAllGetTheirDecisions(t *testing.T) {
	const stock, buyers = 40, 240
	url := pgtest.NewURL(t)
	deciding, waiting := newProcess(t, url), newProcess(t, url)
	s := newShop(t, deciding, stock)
	local := deciding.svc.NewReservationWorker(reservations.Options{LockRetry: 5 * time.Millisecond, Parallel: 2})
	remote := waiting.svc.NewReservationWorker(reservations.Options{})
	run(t, local)

	ctx := context.Background()
	type result struct {
		id            uuid.UUID
		local, remote reservations.Status
	}
	results := make([]result, buyers)
	var wg sync.WaitGroup
	for i := range buyers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := deciding
			if i%2 == 1 {
				p = waiting
			}
			id := s.add(t, p)
			if id == uuid.Nil {
				return
			}
			results[i].id = id
			var inner sync.WaitGroup
			inner.Add(2)
			var errL, errR error
			go func() {
				defer inner.Done()
				results[i].local, errL = local.Wait(ctx, s.tenant, id, 90*time.Second)
			}()
			go func() {
				defer inner.Done()
				results[i].remote, errR = remote.Wait(ctx, s.tenant, id, 90*time.Second)
			}()
			inner.Wait()
			if errL != nil || errR != nil {
				t.Errorf("wait %s: %v, %v", id, errL, errR)
			}
		}()
	}
	wg.Wait()
	require.False(t, t.Failed())

	ids := make([]uuid.UUID, buyers)
	for i, r := range results {
		ids[i] = r.id
	}
	index, err := reservations.Statuses(ctx, deciding.store.Pool(), s.tenant, ids)
	require.NoError(t, err)
	reserved := 0
	for _, r := range results {
		require.True(t, r.local.Decided(), "a waiter in the deciding process got no decision")
		require.True(t, r.remote.Decided(), "a waiter in the other process got no decision")
		require.Equal(t, index[r.id].Status, r.local.Status)
		require.Equal(t, index[r.id].Status, r.remote.Status)
		if r.local.Status == "reserved" {
			reserved++
		} else {
			require.Equal(t, "rejected", r.local.Status)
		}
	}
	require.Equal(t, stock, reserved)
}
