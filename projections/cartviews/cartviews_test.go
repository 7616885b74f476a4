package cartviews_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/aggregate"
	"github.com/honten/honten/domain/cart"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/inventory"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/pgtest"
	"github.com/honten/honten/internal/projtest"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/projections/cartviews"
)

var tables = []string{"carts", "cart_lines"}

// shop appends a cart's events as the cart commands do.
type shop struct {
	t      *testing.T
	store  *eventstore.Store
	runner *projections.Runner
	tenant tenant.ID
	now    time.Time
}

// change loads the cart, runs fn on it and appends what it recorded; it
// returns the position of the last event.
func (s *shop) change(id cart.ID, fn func(x *cart.Cart)) eventstore.Position {
	s.t.Helper()
	s.now = s.now.Add(time.Minute)
	res, err := s.store.Do(context.Background(), func(ctx context.Context, tx *eventstore.Tx) error {
		envs, err := tx.Load(ctx, s.tenant, id.UUID)
		if err != nil {
			return err
		}
		var x *cart.Cart
		if len(envs) == 0 {
			x = cart.New(id, "token-hash", money.JPY, s.now)
		} else {
			hist := make([]aggregate.Event, len(envs))
			for i, e := range envs {
				hist[i] = e.Data
			}
			x = cart.FromHistory(hist)
		}
		fn(x)
		_, err = tx.Append(ctx, eventstore.Stream{Tenant: s.tenant, Type: cart.StreamType, ID: id.UUID}, x.LoadedVersion(), x.Pending(),
			eventstore.Metadata{Tenant: s.tenant, Actor: "customer"})
		return err
	})
	require.NoError(s.t, err)
	return res.Last
}

// newShop is a new tenant's carts on pool, projected by a running cart_views.
func newShop(t *testing.T, pool *pgxpool.Pool) *shop {
	reg := app.Registry()
	return &shop{t: t, store: eventstore.New(pool, reg), runner: projtest.Run(t, pool, cartviews.Projector{Registry: reg}),
		tenant: tenant.NewID(), now: time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)}
}

func (s *shop) line(sku string, ft catalog.FulfillmentType) cart.Line {
	return cart.Line{ID: uuid.New(), Variant: uuid.New(), Product: uuid.New(), SKU: sku, Title: "Sencha " + sku, Quantity: 1,
		UnitPrice: money.MustNew(decimal.NewFromInt(1200), money.JPY), TaxRate: catalog.TaxReduced, FulfillmentType: ft}
}

func (s *shop) wait(pos eventstore.Position) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(s.t, s.runner.WaitFor(ctx, pos))
}

// index is a reservation index: the decisions a cart's lines are shown
// with (the process asks reservations.Statuses).
type index map[uuid.UUID]cartviews.Reservation

func (ix index) decisions(_ context.Context, ids []uuid.UUID) (map[uuid.UUID]cartviews.Reservation, error) {
	out := map[uuid.UUID]cartviews.Reservation{}
	for _, id := range ids {
		if d, ok := ix[id]; ok {
			out[id] = d
		}
	}
	return out, nil
}

func TestCartsShowTheirLinesWithTheReservationIndexDecisions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	s := newShop(t, pool)
	id, other := cart.ID{UUID: uuid.New()}, cart.ID{UUID: uuid.New()}
	tea, ebook, cup, gone := s.line("TEA", catalog.FulfillmentPhysical), s.line("EBOOK", catalog.FulfillmentDigital),
		s.line("CUP", catalog.FulfillmentPhysical), s.line("GONE", catalog.FulfillmentPhysical)
	teaRes, teaRes2, cupRes, goneRes := inventory.NewReservationID(), inventory.NewReservationID(), inventory.NewReservationID(), inventory.NewReservationID()
	s.change(id, func(x *cart.Cart) {
		_, err := x.Add(tea, teaRes, 0, s.now)
		require.NoError(t, err)
		_, err = x.Add(ebook, inventory.NewReservationID(), 0, s.now)
		require.NoError(t, err)
	})
	s.change(id, func(x *cart.Cart) {
		_, err := x.Add(gone, goneRes, 0, s.now)
		require.NoError(t, err)
		_, err = x.Add(cup, cupRes, 0, s.now)
		require.NoError(t, err)
	})
	s.change(other, func(x *cart.Cart) {
		_, err := x.Add(s.line("OTHER", catalog.FulfillmentPhysical), inventory.NewReservationID(), 0, s.now)
		require.NoError(t, err)
	})
	s.wait(s.change(id, func(x *cart.Cart) { require.NoError(t, x.Remove(gone.ID, s.now)) }))

	tea.Reservation, cup.Reservation = teaRes, cupRes
	ix := index{}
	decide := func(l cart.Line, status string, expires *time.Time) {
		ix[l.Reservation.UUID] = cartviews.Reservation{Status: status, ExpiresAt: expires}
	}
	get := func() cartviews.Cart {
		t.Helper()
		c, err := cartviews.Get(ctx, pool, s.tenant, id.UUID, ix.decisions)
		require.NoError(t, err)
		return c
	}
	statuses := func(c cartviews.Cart) map[string]string {
		out := map[string]string{}
		for _, l := range c.Lines {
			out[l.SKU] = l.Reservation.Status
		}
		return out
	}
	c := get()
	require.Equal(t, "open", c.Status)
	require.Equal(t, []string{"TEA", "EBOOK", "CUP"}, []string{c.Lines[0].SKU, c.Lines[1].SKU, c.Lines[2].SKU}, "in the order added; the removed line is gone")
	require.Len(t, c.Lines, 3)
	require.Equal(t, map[string]string{"TEA": "pending", "EBOOK": "not_required", "CUP": "pending"}, statuses(c), "no decision yet")
	require.Nil(t, c.Lines[1].Reservation.ID)
	require.Equal(t, teaRes.UUID, *c.Lines[0].Reservation.ID)

	// A decision shows as soon as the index has it: no cart event, nothing
	// for the projector to apply.
	expires := s.now.Add(15 * time.Minute)
	decide(tea, "reserved", &expires)
	decide(cup, "rejected", &expires) // an expiry shows only on a live hold
	c = get()
	require.Equal(t, map[string]string{"TEA": "reserved", "EBOOK": "not_required", "CUP": "rejected"}, statuses(c))
	require.Equal(t, expires, c.Lines[0].Reservation.ExpiresAt.UTC())
	require.Nil(t, c.Lines[2].Reservation.ExpiresAt)

	// A new quantity asks for a new reservation: the line shows that one's
	// status, and the old hold's release does not reach it.
	s.wait(s.change(id, func(x *cart.Cart) { require.NoError(t, x.SetQuantity(tea.ID, 3, teaRes2, 0, s.now)) }))
	decide(tea, "released", nil)
	c = get()
	require.Equal(t, "pending", c.Lines[0].Reservation.Status)
	require.Equal(t, int64(3), c.Lines[0].Quantity)
	require.Equal(t, teaRes2.UUID, *c.Lines[0].Reservation.ID)
	tea.Reservation = teaRes2
	decide(tea, "reserved", &expires)

	// Checkout commits the hold: committed, no expiry.
	order := uuid.New()
	s.wait(s.change(id, func(x *cart.Cart) { require.NoError(t, x.CheckOut(order, s.now)) }))
	decide(tea, "committed", nil)
	c = get()
	require.Equal(t, "checked_out", c.Status)
	require.Equal(t, order, *c.OrderID)
	require.Equal(t, "committed", c.Lines[0].Reservation.Status)
	require.Nil(t, c.Lines[0].Reservation.ExpiresAt)

	// Another tenant's query sees no such cart.
	_, err := cartviews.Get(ctx, pool, tenant.NewID(), id.UUID, ix.decisions)
	require.ErrorIs(t, err, eventstore.ErrNotFound)

	// A rebuild gives the rows the live tail built, whatever the batches,
	// and applying the log again over them changes nothing.
	live := projtest.Dump(t, pool, tables...)
	require.NoError(t, s.runner.Rebuild(ctx, "cart_views", nil))
	require.Equal(t, live, projtest.Dump(t, pool, tables...))
	tx := projtest.Reapply(t, pool, cartviews.Projector{Registry: s.store.Registry()})
	require.Equal(t, live, projtest.Dump(t, tx, tables...))
}

func TestACartChangesWhenItsLinesDoWithoutItsHeaderRewritten(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	s := newShop(t, pool)
	id := cart.ID{UUID: uuid.New()}
	// lastChange is when the cart's newest event was recorded.
	lastChange := func() time.Time {
		t.Helper()
		var at time.Time
		require.NoError(t, pool.QueryRow(ctx, `SELECT recorded_at FROM events WHERE tenant_id = $1 AND stream_id = $2 ORDER BY stream_version DESC LIMIT 1`,
			s.tenant, id.UUID).Scan(&at))
		return at
	}
	type header struct {
		Version   int64
		UpdatedAt time.Time
	}
	headerRow := func() header {
		t.Helper()
		var h header
		require.NoError(t, pool.QueryRow(ctx, `SELECT version, updated_at FROM carts WHERE tenant_id = $1 AND id = $2`, s.tenant, id.UUID).
			Scan(&h.Version, &h.UpdatedAt))
		return h
	}
	get := func() cartviews.Cart {
		t.Helper()
		c, err := cartviews.Get(ctx, pool, s.tenant, id.UUID, index{}.decisions)
		require.NoError(t, err)
		return c
	}
	tea, cup := s.line("TEA", catalog.FulfillmentPhysical), s.line("CUP", catalog.FulfillmentPhysical)

	s.wait(s.change(id, func(x *cart.Cart) {}))
	created := headerRow()
	require.Equal(t, lastChange(), get().UpdatedAt, "a new cart changed when it was created")

	// Lines added and changed: the cart shows when, from its lines, and
	// its header row stays as it was written.
	s.wait(s.change(id, func(x *cart.Cart) {
		_, err := x.Add(tea, inventory.NewReservationID(), 0, s.now)
		require.NoError(t, err)
	}))
	require.Equal(t, lastChange(), get().UpdatedAt, "a line added")
	s.wait(s.change(id, func(x *cart.Cart) {
		_, err := x.Add(cup, inventory.NewReservationID(), 0, s.now)
		require.NoError(t, err)
	}))
	s.wait(s.change(id, func(x *cart.Cart) {
		require.NoError(t, x.SetQuantity(tea.ID, 2, inventory.NewReservationID(), 0, s.now))
	}))
	require.Equal(t, lastChange(), get().UpdatedAt, "a quantity changed")
	require.Equal(t, created, headerRow(), "no line change rewrites the header")

	// A removed line leaves nothing to carry the time: the header does.
	s.wait(s.change(id, func(x *cart.Cart) { require.NoError(t, x.Remove(tea.ID, s.now)) }))
	removed := headerRow()
	require.Greater(t, removed.Version, created.Version)
	require.Equal(t, lastChange(), removed.UpdatedAt)
	require.Equal(t, lastChange(), get().UpdatedAt, "a line removed")

	s.wait(s.change(id, func(x *cart.Cart) { require.NoError(t, x.CheckOut(uuid.New(), s.now)) }))
	c := get()
	require.Equal(t, "checked_out", c.Status)
	require.Equal(t, lastChange(), c.UpdatedAt, "checked out")
}
