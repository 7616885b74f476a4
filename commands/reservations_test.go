package commands_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/commands/reservations"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/inventory"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/shipment"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/pgtest"
	"github.com/honten/honten/projections"
)

// clock is a settable test clock.
type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

type shopBundle struct {
	svc     *commands.Service
	store   *eventstore.Store
	clock   *clock
	tenant  commands.TenantCreated
	variant catalog.VariantID
	sku     string
}

func newShop(t *testing.T, stock int64, hot bool) *shopBundle {
	t.Helper()
	return newShopOn(t, pgtest.New(t), stock, hot)
}

// newShopOn is newShop on pool.
func newShopOn(t *testing.T, pool *pgxpool.Pool, stock int64, hot bool) *shopBundle {
	t.Helper()
	ctx := context.Background()
	st := eventstore.New(pool, app.Registry())
	clk := &clock{}
	clk.ns.Store(time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC).UnixNano())
	svc := commands.New(st, clk.now)
	svc.SetHotThreshold(0)
	created, _, err := svc.CreateTenant(ctx, commands.CreateTenant{By: commands.By{Actor: "test"}, Code: "flash", Name: "flash", Type: "single_brand"})
	require.NoError(t, err)
	// The last buyer takes all that is left in one line: lift the cap.
	_, err = svc.UpdateSettings(ctx, commands.UpdateSettings{Tenant: created.Tenant, By: commands.By{Actor: "test"},
		Change: func(s tenant.Settings) (tenant.Settings, error) {
			s.SKUQuantityCaps = map[string]int{"SNKR-1": 999}
			return s, nil
		}})
	require.NoError(t, err)
	by := commands.By{Actor: "test", CommandID: uuid.Must(uuid.NewV7())}
	pid, _, err := svc.CreateProduct(ctx, commands.CreateProduct{Tenant: created.Tenant, By: by, Title: "限定スニーカー", Status: "active",
		Variants: []commands.VariantInput{{SKU: "SNKR-1", Price: money.MustNew(decimal.NewFromInt(19800), money.JPY), IsHot: hot}}})
	require.NoError(t, err)
	vid := catalog.VariantID{UUID: by.DerivedID(100)}
	_, err = svc.SetStock(ctx, commands.SetStock{Tenant: created.Tenant, By: commands.By{Actor: "test"}, Product: pid, Reason: "count",
		Levels: []commands.StockSet{{Variant: vid, Location: created.Location, OnHand: stock}}})
	require.NoError(t, err)
	return &shopBundle{svc: svc, store: st, clock: clk, tenant: created, variant: vid, sku: "SNKR-1"}
}

// runWorker runs the reservation worker until stop is called.
func runWorker(w *reservations.Worker) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	return func() { cancel(); <-done }
}

func (b *shopBundle) item(t *testing.T) *inventory.Item {
	t.Helper()
	envs, err := b.store.Load(context.Background(), b.store.Pool(), b.tenant.Tenant, b.variant.UUID)
	require.NoError(t, err)
	it := inventory.NewItem()
	for _, e := range envs {
		it.Apply(e.Data)
		// The invariant at every step of the history, not only at the end.
		for _, loc := range it.Locations() {
			require.GreaterOrEqual(t, it.Available(loc), int64(0), "oversold at version %d", e.Version)
		}
	}
	return it
}

func waitDecided(t *testing.T, b *shopBundle, ids []uuid.UUID) {
	t.Helper()
	require.Eventually(t, func() bool {
		st, err := reservations.Statuses(context.Background(), b.store.Pool(), b.tenant.Tenant, ids)
		if err != nil {
			return false
		}
		for _, s := range st {
			if s.Status == "pending" {
				return false
			}
		}
		return true
	}, 120*time.Second, 5*time.Millisecond)
}

var buyerInfo = commands.Checkout{Email: "buyer@example.jp", Name: "買い手", Phone: "09012345678",
	Address: order.Address{PostalCode: "1500041", Prefecture: "13", City: "渋谷区", Line1: "神南1-2-3"}, PaymentMethod: "cod"}

// 500 buyers race for 100 units with random quantities, removals, changes
// and checkouts while the worker is stopped and restarted; then every hold
// expires. Nothing is ever oversold, and exactly the stock was sellable.
func TestNoOversellUnderConcurrentBuyers(t *testing.T) {
	t.Parallel()
	for _, hot := range []bool{false, true} {
		t.Run(fmt.Sprintf("hot=%v", hot), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			const stock, buyers = 100, 500
			b := newShop(t, stock, hot)
			w := b.svc.NewReservationWorker(reservations.Options{LockRetry: 5 * time.Millisecond, Parallel: 2})
			stop := runWorker(w)

			var mu sync.Mutex
			var requests []uuid.UUID
			var ordered atomic.Int64
			start := make(chan struct{})
			var wg sync.WaitGroup
			errc := make(chan error, buyers)
			for i := 0; i < buyers; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					rng := rand.New(rand.NewPCG(uint64(i), 99))
					by := func(n int) commands.By {
						return commands.By{Actor: "buyer", CommandID: uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "%v/%d/%d", hot, i, n))}
					}
					c, _, err := b.svc.CreateCart(ctx, commands.CreateCart{Tenant: b.tenant.Tenant, By: by(0)})
					if err != nil {
						errc <- err
						return
					}
					ch, _, err := b.svc.AddToCart(ctx, commands.AddToCart{Tenant: b.tenant.Tenant, By: by(1), Cart: c.Cart, Token: c.Token, SKU: b.sku, Quantity: int64(1 + rng.IntN(4))})
					if err != nil {
						errc <- err
						return
					}
					mu.Lock()
					requests = append(requests, ch.Reservation.UUID)
					mu.Unlock()
					switch rng.IntN(5) {
					case 0: // changes their mind
						_, _, err = b.svc.ChangeCartLine(ctx, commands.ChangeCartLine{Tenant: b.tenant.Tenant, By: by(2), Cart: c.Cart, Token: c.Token, Line: ch.Line, Quantity: 0})
					case 1: // wants more
						var ch2 commands.CartChange
						ch2, _, err = b.svc.ChangeCartLine(ctx, commands.ChangeCartLine{Tenant: b.tenant.Tenant, By: by(2), Cart: c.Cart, Token: c.Token, Line: ch.Line, Quantity: int64(2 + rng.IntN(4))})
						if err == nil && !ch2.Reservation.IsZero() {
							mu.Lock()
							requests = append(requests, ch2.Reservation.UUID)
							mu.Unlock()
						}
					}
					if err != nil {
						errc <- err
						return
					}
					if rng.IntN(2) == 0 { // checks out once their line is decided
						if !decided(ctx, b, w, ch.Reservation.UUID) {
							return
						}
						co := buyerInfo
						co.Tenant, co.By, co.Cart, co.Token = b.tenant.Tenant, by(3), c.Cart, c.Token
						if _, _, err := b.svc.Checkout(ctx, co); err == nil {
							ordered.Add(1)
						}
					}
				}()
			}
			close(start)
			// Restart the worker mid-run, twice.
			for range 2 {
				stop()
				stop = runWorker(w)
			}
			wg.Wait()
			close(errc)
			for err := range errc {
				require.NoError(t, err)
			}
			mu.Lock()
			ids := append([]uuid.UUID(nil), requests...)
			mu.Unlock()
			waitDecided(t, b, ids)

			it := b.item(t)
			loc := b.tenant.Location.UUID
			require.LessOrEqual(t, it.Reserved(loc), int64(stock))
			require.Equal(t, int64(stock), it.OnHand(loc))

			// Every hold expires; only the orders' allocations remain.
			b.clock.advance(16 * time.Minute)
			_, err := w.ExpireDue(ctx)
			require.NoError(t, err)
			it = b.item(t)
			var allocated int64
			for _, h := range it.Holds() {
				require.NotEqual(t, uuid.Nil, h.Order, "a cart hold survived its expiry")
				allocated += h.Quantity
			}
			require.Positive(t, ordered.Load())
			left := int64(stock) - allocated
			require.Equal(t, left, it.Available(loc))

			// Exactly the rest is sellable: the last buyer gets all of it, and not one more.
			last := func(q int64) string {
				by := commands.By{Actor: "last", CommandID: uuid.Must(uuid.NewV7())}
				c, _, err := b.svc.CreateCart(ctx, commands.CreateCart{Tenant: b.tenant.Tenant, By: by})
				require.NoError(t, err)
				ch, _, err := b.svc.AddToCart(ctx, commands.AddToCart{Tenant: b.tenant.Tenant, By: commands.By{Actor: "last", CommandID: uuid.Must(uuid.NewV7())}, Cart: c.Cart, Token: c.Token, SKU: b.sku, Quantity: q})
				require.NoError(t, err)
				waitDecided(t, b, []uuid.UUID{ch.Reservation.UUID})
				st, err := reservations.Statuses(ctx, b.store.Pool(), b.tenant.Tenant, []uuid.UUID{ch.Reservation.UUID})
				require.NoError(t, err)
				return st[ch.Reservation.UUID].Status
			}
			if left > 0 {
				require.Equal(t, "reserved", last(left))
			}
			require.Equal(t, "rejected", last(1))
			stop()

			// stock_levels agrees with the aggregate, live and after a rebuild.
			r, err := projections.NewRunner(b.store.Pool(), app.Projectors(b.store.Registry()), projections.Options{})
			require.NoError(t, err)
			require.NoError(t, r.Ensure(ctx))
			head, err := eventstore.Head(ctx, b.store.Pool())
			require.NoError(t, err)
			rctx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); _ = r.Run(rctx) }()
			wctx, wcancel := context.WithTimeout(ctx, time.Minute)
			require.NoError(t, r.WaitFor(wctx, head, "stock_levels"))
			wcancel()
			cancel()
			<-done
			check := func() {
				var onHand, reserved int64
				require.NoError(t, b.store.Pool().QueryRow(ctx, `SELECT on_hand, reserved FROM stock_levels WHERE variant_id = $1`, b.variant).Scan(&onHand, &reserved))
				final := b.item(t)
				require.Equal(t, final.OnHand(loc), onHand)
				require.Equal(t, final.Reserved(loc), reserved)
			}
			check()
			require.NoError(t, r.Rebuild(ctx, "stock_levels", nil))
			check()
		})
	}
}

// decided waits until the worker decides reservation r (or a minute passes).
func decided(ctx context.Context, b *shopBundle, w *reservations.Worker, r uuid.UUID) bool {
	deadline := time.After(time.Minute)
	for {
		next := w.Decided()
		st, err := reservations.Statuses(ctx, b.store.Pool(), b.tenant.Tenant, []uuid.UUID{r})
		if err != nil {
			return false
		}
		if st[r].Status != "pending" {
			return true
		}
		select {
		case <-next:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			return false
		}
	}
}

// The hot lane is isolated: while it is stuck on a hammered SKU (here: its
// variant's lock is held by someone else), requests for other SKUs are
// still decided; the hot requests are decided once it is free.
func TestHotLaneDoesNotDelayOtherSKUs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newShop(t, 1000, true) // SNKR-1 is hot
	by := commands.By{Actor: "test", CommandID: uuid.Must(uuid.NewV7())}
	pid, _, err := b.svc.CreateProduct(ctx, commands.CreateProduct{Tenant: b.tenant.Tenant, By: by, Title: "靴下", Status: "active",
		Variants: []commands.VariantInput{{SKU: "SOCK-1", Price: money.MustNew(decimal.NewFromInt(990), money.JPY)}}})
	require.NoError(t, err)
	_, err = b.svc.SetStock(ctx, commands.SetStock{Tenant: b.tenant.Tenant, By: commands.By{Actor: "test"}, Product: pid, Reason: "count",
		Levels: []commands.StockSet{{Variant: catalog.VariantID{UUID: by.DerivedID(100)}, Location: b.tenant.Location, OnHand: 50}}})
	require.NoError(t, err)

	// Stall the hot SKU: hold its inventory lock in an open transaction.
	blocker, err := b.store.Pool().Begin(ctx)
	require.NoError(t, err)
	defer blocker.Rollback(ctx) //nolint:errcheck
	_, err = blocker.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('honten.inventory:' || $1::text, 0))`, b.variant.UUID)
	require.NoError(t, err)

	w := b.svc.NewReservationWorker(reservations.Options{LockRetry: 5 * time.Millisecond})
	stop := runWorker(w)
	defer stop()
	add := func(sku string) uuid.UUID {
		c, _, err := b.svc.CreateCart(ctx, commands.CreateCart{Tenant: b.tenant.Tenant, By: commands.By{Actor: "t", CommandID: uuid.Must(uuid.NewV7())}})
		require.NoError(t, err)
		ch, _, err := b.svc.AddToCart(ctx, commands.AddToCart{Tenant: b.tenant.Tenant, By: commands.By{Actor: "t", CommandID: uuid.Must(uuid.NewV7())},
			Cart: c.Cart, Token: c.Token, SKU: sku, Quantity: 1})
		require.NoError(t, err)
		return ch.Reservation.UUID
	}
	var hot []uuid.UUID
	for range 20 {
		hot = append(hot, add("SNKR-1"))
	}
	var cold []uuid.UUID
	for range 10 {
		cold = append(cold, add("SOCK-1"))
	}
	waitDecided(t, b, cold)
	st, err := reservations.Statuses(ctx, b.store.Pool(), b.tenant.Tenant, hot)
	require.NoError(t, err)
	for _, s := range st {
		require.Equal(t, "pending", s.Status, "the hot lane is stuck behind the held lock")
	}
	require.NoError(t, blocker.Rollback(ctx))
	waitDecided(t, b, hot)
	st, err = reservations.Statuses(ctx, b.store.Pool(), b.tenant.Tenant, hot)
	require.NoError(t, err)
	for _, s := range st {
		require.Equal(t, "reserved", s.Status)
	}
}

// A request waiting in this process gets its decision straight from the
// worker, equal to what the reservation index says; a cancelled wait
// gets nothing.
func TestAwaitDeliversTheCommittedDecision(t *testing.T) {
	ctx := context.Background()
	b := newShop(t, 1, false)
	w := b.svc.NewReservationWorker(reservations.Options{})
	add := func() commands.CartChange {
		c, _, err := b.svc.CreateCart(ctx, commands.CreateCart{Tenant: b.tenant.Tenant, By: commands.By{Actor: "test", CommandID: uuid.Must(uuid.NewV7())}})
		require.NoError(t, err)
		ch, _, err := b.svc.AddToCart(ctx, commands.AddToCart{Tenant: b.tenant.Tenant, By: commands.By{Actor: "test", CommandID: uuid.Must(uuid.NewV7())},
			Cart: c.Cart, Token: c.Token, SKU: b.sku, Quantity: 1})
		require.NoError(t, err)
		return ch
	}
	first, second, third := add(), add(), add()
	got1, cancel1 := w.Await(b.tenant.Tenant, first.Reservation.UUID)
	defer cancel1()
	got2, cancel2 := w.Await(b.tenant.Tenant, second.Reservation.UUID)
	defer cancel2()
	got3, cancel3 := w.Await(b.tenant.Tenant, third.Reservation.UUID)
	cancel3()
	// A transaction open anywhere on the server (another test package)
	// holds the feed back for a while: process until all three are decided.
	decided := 0
	require.Eventually(t, func() bool {
		n, err := w.Process(ctx, reservations.LaneNormal)
		if err != nil {
			t.Error(err)
			return true
		}
		decided += n
		return decided >= 3
	}, 2*time.Minute, 5*time.Millisecond)
	require.Equal(t, 3, decided)

	index, err := reservations.Statuses(ctx, b.store.Pool(), b.tenant.Tenant, []uuid.UUID{first.Reservation.UUID, second.Reservation.UUID})
	require.NoError(t, err)
	d1, d2 := <-got1, <-got2
	require.Equal(t, "reserved", d1.Status)
	require.Equal(t, index[first.Reservation.UUID].Status, d1.Status)
	require.NotNil(t, d1.ExpiresAt)
	require.True(t, index[first.Reservation.UUID].ExpiresAt.Equal(*d1.ExpiresAt), "index %v, delivered %v", index[first.Reservation.UUID].ExpiresAt, d1.ExpiresAt)
	require.Equal(t, "rejected", d2.Status)
	require.Equal(t, index[second.Reservation.UUID].Status, d2.Status)
	select {
	case d := <-got3:
		t.Fatalf("a cancelled wait got %v", d)
	default:
	}
}

// Concurrent checkouts of one shop take distinct order numbers, and when
// none fails, consecutive ones: the number is taken by the last statement
// of the checkout's precheck, whose rollback (a retry) gives it back.
func TestConcurrentCheckoutsTakeConsecutiveOrderNumbers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const buyers = 24
	b := newShop(t, 1000, false)
	w := b.svc.NewReservationWorker(reservations.Options{LockRetry: 5 * time.Millisecond})
	t.Cleanup(runWorker(w))

	type cartOf struct {
		c  commands.CartCreated
		by func(int) commands.By
	}
	carts := make([]cartOf, buyers)
	for i := range carts {
		by := func(n int) commands.By {
			return commands.By{Actor: "buyer", CommandID: uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "numbers/%d/%d", i, n))}
		}
		c, _, err := b.svc.CreateCart(ctx, commands.CreateCart{Tenant: b.tenant.Tenant, By: by(0)})
		require.NoError(t, err)
		ch, _, err := b.svc.AddToCart(ctx, commands.AddToCart{Tenant: b.tenant.Tenant, By: by(1), Cart: c.Cart, Token: c.Token, SKU: b.sku, Quantity: 1})
		require.NoError(t, err)
		require.True(t, decided(ctx, b, w, ch.Reservation.UUID))
		carts[i] = cartOf{c: c, by: by}
	}

	numbers := make([]string, buyers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make([]error, buyers)
	for i, x := range carts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			co := buyerInfo
			co.Tenant, co.By, co.Cart, co.Token = b.tenant.Tenant, x.by(2), x.c.Cart, x.c.Token
			p, _, err := b.svc.Checkout(ctx, co)
			numbers[i], errs[i] = p.Number, err
		}()
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	var prefix string
	seqs := make([]int, 0, buyers)
	for _, n := range numbers {
		i := len(n)
		for i > 0 && n[i-1] >= '0' && n[i-1] <= '9' {
			i--
		}
		if prefix == "" {
			prefix = n[:i]
		}
		require.Equal(t, prefix, n[:i], "one shop, one prefix: %v", numbers)
		seq, err := strconv.Atoi(n[i:])
		require.NoError(t, err, n)
		seqs = append(seqs, seq)
	}
	slices.Sort(seqs)
	for i := 1; i < len(seqs); i++ {
		require.Equal(t, seqs[i-1]+1, seqs[i], "distinct, consecutive numbers: %v", numbers)
	}
}

// A checkout in a shop the process knows reads the shop, the products and
// the vendors of its lines as kept by the process, with their checks in
// the round trip that reads the cart; it sends the order number with the
// precheck's COMMIT, and its appends, index rows and claim in one round
// trip: nine round trips in all. The precheck: the cart with the checks,
// the reservation index, the number with COMMIT. The checkout: the cart
// with the checks, the items' locks with their reads, the promotions, the
// buyer's key, the writes, COMMIT.
func TestAWarmCheckoutTakesNineRoundTripsAndAnOrderCommandFive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sent := &pgtest.Sent{}
	b := newShopOn(t, pgtest.Traced(t, sent), 1000, false)
	w := b.svc.NewReservationWorker(reservations.Options{LockRetry: 5 * time.Millisecond})
	checkout := func(i int) int {
		t.Helper()
		by := func(n int) commands.By {
			return commands.By{Actor: "buyer", CommandID: uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "trips/%d/%d", i, n))}
		}
		stop := runWorker(w)
		c, _, err := b.svc.CreateCart(ctx, commands.CreateCart{Tenant: b.tenant.Tenant, By: by(0)})
		require.NoError(t, err)
		ch, _, err := b.svc.AddToCart(ctx, commands.AddToCart{Tenant: b.tenant.Tenant, By: by(1), Cart: c.Cart, Token: c.Token, SKU: b.sku, Quantity: 1})
		require.NoError(t, err)
		require.True(t, decided(ctx, b, w, ch.Reservation.UUID))
		stop() // nothing but the checkout talks to the server
		co := buyerInfo
		co.Tenant, co.By, co.Cart, co.Token = b.tenant.Tenant, by(2), c.Cart, c.Token
		sent.Watch(nil)
		_, _, err = b.svc.Checkout(ctx, co)
		require.NoError(t, err)
		return sent.Counts().Trips
	}
	checkout(0) // the process learns the shop, product and vendor
	require.Equal(t, 9, checkout(1))
	require.Equal(t, 9, checkout(2))

	// An order command (here the shipments of the last COD order): the
	// order's lock with its events, the buyer's key that opens them, its
	// payment and shipments together, the writes with the COMMIT.
	var placed []uuid.UUID
	rows, err := b.store.Pool().Query(ctx, `SELECT stream_id FROM events WHERE stream_type = 'order' ORDER BY global_position`)
	require.NoError(t, err)
	placed, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	require.NoError(t, err)
	require.Len(t, placed, 3)
	sent.Watch(nil)
	_, err = b.svc.CreateShipments(ctx, commands.CreateShipments{Tenant: b.tenant.Tenant, By: commands.By{Actor: "test"}, Order: order.ID{UUID: placed[2]}})
	require.NoError(t, err)
	require.Equal(t, 4, sent.Counts().Trips)
	envs, err := b.store.Load(ctx, b.store.Pool(), b.tenant.Tenant, shipment.IDFor(placed[2], b.tenant.Vendor.UUID).UUID)
	require.NoError(t, err)
	require.Len(t, envs, 1, "the shipment was created")
}
