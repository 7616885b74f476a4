package inventory_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/aggregate"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/inventory"
)

var (
	t0    = time.Date(2025, 3, 1, 9, 0, 0, 0, time.FixedZone("JST", 9*3600))
	ttl   = 15 * time.Minute
	locA  = uuid.MustParse("0195f000-0000-7000-8000-00000000000a")
	locB  = uuid.MustParse("0195f000-0000-7000-8000-00000000000b")
	order = uuid.MustParse("0195f000-0000-7000-8000-0000000000f1")
)

func ptr(n int64) *int64 { return &n }

// stock returns the events of an item stocked with stock (locA, then locB).
func stock(t *testing.T, stock map[uuid.UUID]int64) []aggregate.Event {
	t.Helper()
	it := inventory.NewItem()
	for _, loc := range []uuid.UUID{locA, locB} {
		if n, ok := stock[loc]; ok {
			require.NoError(t, it.Adjust(loc, 0, ptr(n), "count", t0))
		}
	}
	return it.Pending()
}

// stocked returns an item loaded (as from the store) with on-hand stock.
func stocked(t *testing.T, s map[uuid.UUID]int64) *inventory.Item {
	t.Helper()
	return inventory.FromHistory(stock(t, s))
}

// saved returns the item that loading hist followed by it's pending events gives.
func saved(hist []aggregate.Event, it *inventory.Item) ([]aggregate.Event, *inventory.Item) {
	hist = append(append([]aggregate.Event(nil), hist...), it.Pending()...)
	return hist, inventory.FromHistory(hist)
}

func request(qty int64) inventory.Requested {
	return inventory.Requested{Reservation: inventory.NewReservationID(), Variant: uuid.New(), Cart: uuid.New(), Line: uuid.New(), Quantity: qty, At: t0}
}

// available returns the available stamped on an event.
func available(t *testing.T, e aggregate.Event) int64 {
	t.Helper()
	b, err := json.Marshal(e)
	require.NoError(t, err)
	var v struct {
		Available *int64 `json:"available"`
	}
	require.NoError(t, json.Unmarshal(b, &v))
	require.NotNil(t, v.Available, "%s carries available", e.EventName())
	return *v.Available
}

func TestAdjust(t *testing.T) {
	t.Parallel()

	t.Run("delta adds and removes stock", func(t *testing.T) {
		t.Parallel()
		it := inventory.NewItem()
		require.NoError(t, it.Adjust(locA, 10, nil, "delivery", t0))
		require.NoError(t, it.Adjust(locA, -3, nil, "damaged", t0.Add(time.Minute)))
		require.Equal(t, int64(7), it.OnHand(locA))
		require.Equal(t, []aggregate.Event{
			inventory.Adjusted{Location: locA, Delta: 10, OnHand: 10, Reason: "delivery", Available: 10, At: t0.UTC()},
			inventory.Adjusted{Location: locA, Delta: -3, OnHand: 7, Reason: "damaged", Available: 7, At: t0.Add(time.Minute).UTC()},
		}, it.Pending())
		require.Equal(t, int64(2), it.Version())
	})

	t.Run("set records the difference", func(t *testing.T) {
		t.Parallel()
		it := stocked(t, map[uuid.UUID]int64{locA: 5, locB: 2})
		require.NoError(t, it.Adjust(locA, 999, ptr(12), "stocktake", t0))
		require.Equal(t, []aggregate.Event{
			inventory.Adjusted{Location: locA, Delta: 7, OnHand: 12, Reason: "stocktake", Available: 14, At: t0.UTC()},
		}, it.Pending(), "delta is ignored when set is given; available is the variant total")
		require.NoError(t, it.Adjust(locA, 0, ptr(0), "stocktake", t0))
		require.Equal(t, int64(-12), it.Pending()[1].(inventory.Adjusted).Delta)
	})

	t.Run("equal set and zero delta record nothing", func(t *testing.T) {
		t.Parallel()
		it := stocked(t, map[uuid.UUID]int64{locA: 5})
		require.NoError(t, it.Adjust(locA, 0, ptr(5), "count", t0))
		require.NoError(t, it.Adjust(locA, 0, nil, "nothing", t0))
		require.NoError(t, it.Adjust(locB, 0, nil, "nothing", t0))
		require.Empty(t, it.Pending())
	})

	t.Run("set to zero at a new location records the location", func(t *testing.T) {
		t.Parallel()
		it := inventory.NewItem()
		require.NoError(t, it.Adjust(locB, 0, ptr(0), "listed", t0))
		require.Equal(t, []uuid.UUID{locB}, it.Locations())
		require.Len(t, it.Pending(), 1)
	})

	t.Run("refuses negative stock", func(t *testing.T) {
		t.Parallel()
		it := stocked(t, map[uuid.UUID]int64{locA: 3})
		require.ErrorIs(t, it.Adjust(locA, -4, nil, "x", t0), inventory.ErrNegativeStock)
		require.ErrorIs(t, it.Adjust(locB, -1, nil, "x", t0), inventory.ErrNegativeStock)
		require.ErrorIs(t, it.Adjust(locA, 0, ptr(-1), "x", t0), inventory.ErrOutOfRange)
		require.Empty(t, it.Pending())
		require.Equal(t, int64(3), it.OnHand(locA))
		require.Equal(t, errs.KindConflict, errs.KindOf(inventory.ErrNegativeStock))
	})

	t.Run("refuses going below reserved", func(t *testing.T) {
		t.Parallel()
		it := stocked(t, map[uuid.UUID]int64{locA: 10})
		it.Reserve(request(4), []uuid.UUID{locA}, ttl, t0)
		require.ErrorIs(t, it.Adjust(locA, -7, nil, "x", t0), inventory.ErrNegativeStock)
		require.ErrorIs(t, it.Adjust(locA, 0, ptr(3), "x", t0), inventory.ErrNegativeStock)
		require.NoError(t, it.Adjust(locA, -6, nil, "x", t0), "down to exactly what is reserved")
		require.Equal(t, int64(0), it.Available(locA))
	})

	t.Run("bounds", func(t *testing.T) {
		t.Parallel()
		it := stocked(t, map[uuid.UUID]int64{locA: inventory.MaxStock - 1})
		require.NoError(t, it.Adjust(locA, 1, nil, "x", t0))
		require.ErrorIs(t, it.Adjust(locA, 1, nil, "x", t0), inventory.ErrOutOfRange)
		require.ErrorIs(t, it.Adjust(locB, 0, ptr(inventory.MaxStock+1), "x", t0), inventory.ErrOutOfRange)
		err := it.Adjust(locB, inventory.MaxStock+1, nil, "x", t0)
		require.Equal(t, errs.KindInvalid, errs.KindOf(err))
		err = it.Adjust(locB, -1<<62, nil, "x", t0)
		require.Equal(t, errs.KindInvalid, errs.KindOf(err), "no overflow")
		require.Len(t, it.Pending(), 1)
	})
}

func TestReserve(t *testing.T) {
	t.Parallel()

	t.Run("first candidate with enough available", func(t *testing.T) {
		t.Parallel()
		it := stocked(t, map[uuid.UUID]int64{locA: 2, locB: 5})
		req := request(3)
		it.Reserve(req, []uuid.UUID{locA, locB}, ttl, t0)
		require.Equal(t, []aggregate.Event{inventory.Reserved{Reservation: req.Reservation, Cart: req.Cart, Line: req.Line,
			Location: locB, Quantity: 3, ExpiresAt: t0.Add(ttl).UTC(), Available: 4, At: t0.UTC()}}, it.Pending())
		require.Equal(t, int64(3), it.Reserved(locB))
		require.Equal(t, int64(2), it.Available(locB))
		require.Equal(t, int64(4), it.TotalAvailable())
		h, ok := it.Hold(req.Reservation)
		require.True(t, ok)
		require.Equal(t, locB, h.Location)
		require.True(t, it.Decided(req.Reservation))
		require.Equal(t, t0.Add(ttl).UTC(), it.NextExpiry())
	})

	t.Run("preference order wins over size", func(t *testing.T) {
		t.Parallel()
		it := stocked(t, map[uuid.UUID]int64{locA: 2, locB: 5})
		it.Reserve(request(2), []uuid.UUID{locA, locB}, ttl, t0)
		require.Equal(t, locA, it.Pending()[0].(inventory.Reserved).Location)
	})

	t.Run("rejected without enough at any one candidate", func(t *testing.T) {
		t.Parallel()
		it := stocked(t, map[uuid.UUID]int64{locA: 2, locB: 2})
		req := request(3)
		it.Reserve(req, []uuid.UUID{locA, locB}, ttl, t0)
		require.Equal(t, []aggregate.Event{inventory.Rejected{Reservation: req.Reservation, Cart: req.Cart, Line: req.Line,
			Quantity: 3, Reason: "insufficient_stock", Available: 4, At: t0.UTC()}}, it.Pending(), "a hold never splits across locations")
		require.True(t, it.Decided(req.Reservation))
		require.Empty(t, it.Holds())
	})

	t.Run("rejected at a location not offered", func(t *testing.T) {
		t.Parallel()
		it := stocked(t, map[uuid.UUID]int64{locA: 10})
		it.Reserve(request(1), []uuid.UUID{locB}, ttl, t0)
		it.Reserve(request(1), nil, ttl, t0)
		require.IsType(t, inventory.Rejected{}, it.Pending()[0])
		require.IsType(t, inventory.Rejected{}, it.Pending()[1])
	})

	t.Run("rejects quantities below one", func(t *testing.T) {
		t.Parallel()
		it := stocked(t, map[uuid.UUID]int64{locA: 10})
		it.Reserve(request(0), []uuid.UUID{locA}, ttl, t0)
		it.Reserve(request(-5), []uuid.UUID{locA}, ttl, t0)
		require.IsType(t, inventory.Rejected{}, it.Pending()[0])
		require.IsType(t, inventory.Rejected{}, it.Pending()[1])
		require.Equal(t, int64(10), it.TotalAvailable())
	})

	t.Run("a redelivered request is not decided twice", func(t *testing.T) {
		t.Parallel()
		it := stocked(t, map[uuid.UUID]int64{locA: 10})
		req := request(4)
		it.Reserve(req, []uuid.UUID{locA}, ttl, t0)
		it.Reserve(req, []uuid.UUID{locA}, ttl, t0.Add(time.Second))
		require.Len(t, it.Pending(), 1)
		// Also after a reload, and after the hold is gone.
		_, it = saved(stock(t, map[uuid.UUID]int64{locA: 10}), it)
		it.Reserve(req, []uuid.UUID{locA}, ttl, t0)
		it.Release(req.Reservation, "line removed", t0)
		it.Reserve(req, []uuid.UUID{locA}, ttl, t0)
		require.Len(t, it.Pending(), 1)
		require.Equal(t, int64(10), it.Available(locA))

		rejected := request(100)
		it.Reserve(rejected, []uuid.UUID{locA}, ttl, t0)
		require.NoError(t, it.Adjust(locA, 500, nil, "delivery", t0))
		it.Reserve(rejected, []uuid.UUID{locA}, ttl, t0)
		require.IsType(t, inventory.Adjusted{}, it.Pending()[len(it.Pending())-1], "a rejection is final too")
	})

	t.Run("released before decided is never reserved", func(t *testing.T) {
		t.Parallel()
		it := stocked(t, map[uuid.UUID]int64{locA: 10})
		req := request(4)
		it.Release(req.Reservation, "line removed", t0)
		require.True(t, it.Decided(req.Reservation))
		it.Reserve(req, []uuid.UUID{locA}, ttl, t0)
		require.Len(t, it.Pending(), 1)
		require.IsType(t, inventory.Released{}, it.Pending()[0])
		require.Equal(t, int64(10), it.Available(locA))
	})
}

func TestHoldLifecycle(t *testing.T) {
	t.Parallel()

	type bundle struct {
		it  *inventory.Item
		req inventory.Requested
	}
	setup := func(t *testing.T) bundle {
		t.Helper()
		hist := stock(t, map[uuid.UUID]int64{locA: 10})
		it := inventory.FromHistory(hist)
		req := request(4)
		it.Reserve(req, []uuid.UUID{locA}, ttl, t0)
		_, it = saved(hist, it)
		return bundle{it: it, req: req}
	}

	t.Run("release gives a hold back", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.it.Release(b.req.Reservation, "line removed", t0)
		require.Equal(t, []aggregate.Event{inventory.Released{Reservation: b.req.Reservation, Reason: "line removed", Available: 10, At: t0.UTC()}}, b.it.Pending())
		require.Equal(t, int64(0), b.it.Reserved(locA))
		b.it.Release(b.req.Reservation, "again", t0)
		require.Len(t, b.it.Pending(), 1, "releasing twice records once")
	})

	t.Run("expire only what is due", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		later := request(1)
		b.it.Reserve(later, []uuid.UUID{locA}, ttl, t0.Add(5*time.Minute))
		b.it.ExpireDue(t0.Add(ttl - time.Nanosecond))
		require.Len(t, b.it.Pending(), 1)
		b.it.ExpireDue(t0.Add(ttl))
		require.Equal(t, inventory.Expired{Reservation: b.req.Reservation, Available: 9, At: t0.Add(ttl).UTC()}, b.it.Pending()[1])
		require.Equal(t, t0.Add(5*time.Minute+ttl).UTC(), b.it.NextExpiry())
		b.it.ExpireDue(t0.Add(time.Hour))
		require.Len(t, b.it.Pending(), 3)
		require.Empty(t, b.it.Holds())
		require.True(t, b.it.NextExpiry().IsZero())
	})

	t.Run("commit makes an allocation that never expires", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		require.NoError(t, b.it.Commit(b.req.Reservation, order, t0))
		require.Equal(t, []aggregate.Event{inventory.Committed{Reservation: b.req.Reservation, Order: order, Available: 6, At: t0.UTC()}}, b.it.Pending())
		require.NoError(t, b.it.Commit(b.req.Reservation, order, t0), "committing again to the same order is a no-op")
		require.ErrorIs(t, b.it.Commit(b.req.Reservation, uuid.New(), t0), inventory.ErrUnknownHold)
		b.it.ExpireDue(t0.Add(24 * time.Hour))
		b.it.Release(b.req.Reservation, "cart abandoned", t0)
		require.Len(t, b.it.Pending(), 1, "an allocation neither expires nor is released as a hold")
		require.Equal(t, int64(4), b.it.Reserved(locA))
		require.True(t, b.it.NextExpiry().IsZero())
		h, _ := b.it.Hold(b.req.Reservation)
		require.Equal(t, order, h.Order)
		require.True(t, h.ExpiresAt.IsZero())
	})

	t.Run("commit refuses a gone hold and a missing order", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		require.ErrorIs(t, b.it.Commit(b.req.Reservation, uuid.Nil, t0), inventory.ErrNoOrder)
		b.it.ExpireDue(t0.Add(ttl))
		require.ErrorIs(t, b.it.Commit(b.req.Reservation, order, t0), inventory.ErrUnknownHold)
		require.ErrorIs(t, b.it.Commit(inventory.NewReservationID(), order, t0), inventory.ErrUnknownHold)
	})

	t.Run("release an allocation", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.it.ReleaseAllocation(b.req.Reservation, order, "not committed yet", t0)
		b.it.ReleaseAllocation(b.req.Reservation, uuid.Nil, "a hold is not an allocation", t0)
		require.Empty(t, b.it.Pending())
		require.NoError(t, b.it.Commit(b.req.Reservation, order, t0))
		b.it.ReleaseAllocation(b.req.Reservation, uuid.New(), "another order", t0)
		require.Len(t, b.it.Pending(), 1)
		b.it.ReleaseAllocation(b.req.Reservation, order, "cancelled", t0)
		require.Equal(t, inventory.AllocationReleased{Reservation: b.req.Reservation, Order: order, Reason: "cancelled", Available: 10, At: t0.UTC()}, b.it.Pending()[1])
		b.it.ReleaseAllocation(b.req.Reservation, order, "cancelled", t0)
		require.Len(t, b.it.Pending(), 2)
		require.Equal(t, int64(10), b.it.Available(locA))
	})

	t.Run("reduce an allocation", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		require.NoError(t, b.it.ReduceAllocation(b.req.Reservation, order, 1, "not allocated yet", t0))
		require.Empty(t, b.it.Pending(), "a hold is not an allocation")
		require.NoError(t, b.it.Commit(b.req.Reservation, order, t0))
		require.ErrorIs(t, b.it.ReduceAllocation(b.req.Reservation, order, 0, "x", t0), inventory.ErrInvalidQuantity)
		require.NoError(t, b.it.ReduceAllocation(b.req.Reservation, uuid.New(), 1, "another order", t0))
		require.Len(t, b.it.Pending(), 1)
		require.NoError(t, b.it.ReduceAllocation(b.req.Reservation, order, 3, "3 units cancelled", t0))
		require.Equal(t, inventory.AllocationReduced{Reservation: b.req.Reservation, Order: order, Quantity: 3, Remaining: 1,
			Reason: "3 units cancelled", Available: 9, At: t0.UTC()}, b.it.Pending()[1])
		require.Equal(t, int64(1), b.it.Reserved(locA))
		h, _ := b.it.Hold(b.req.Reservation)
		require.Equal(t, int64(1), h.Quantity)
		require.NoError(t, b.it.ReduceAllocation(b.req.Reservation, order, 1, "the last unit", t0))
		require.Equal(t, inventory.AllocationReleased{Reservation: b.req.Reservation, Order: order, Reason: "the last unit", Available: 10, At: t0.UTC()}, b.it.Pending()[2])
		require.Equal(t, int64(10), b.it.Available(locA))
	})

	t.Run("a reduced allocation ships what is left", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		require.NoError(t, b.it.Commit(b.req.Reservation, order, t0))
		require.NoError(t, b.it.ReduceAllocation(b.req.Reservation, order, 1, "1 unit cancelled", t0))
		b.it.Fulfil(b.req.Reservation, order, t0)
		f, ok := b.it.Pending()[2].(inventory.Fulfilled)
		require.True(t, ok)
		require.Equal(t, int64(3), f.Quantity)
		require.Equal(t, int64(7), b.it.OnHand(locA))
		require.Equal(t, int64(7), b.it.Available(locA))
	})

	t.Run("fulfil ships an allocation", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.it.Fulfil(b.req.Reservation, uuid.Nil, t0)
		b.it.Fulfil(b.req.Reservation, order, t0)
		require.Empty(t, b.it.Pending(), "a hold that is not allocated does not ship")
		require.NoError(t, b.it.Commit(b.req.Reservation, order, t0))
		b.it.Fulfil(b.req.Reservation, uuid.New(), t0)
		require.Len(t, b.it.Pending(), 1)
		b.it.Fulfil(b.req.Reservation, order, t0)
		require.Equal(t, inventory.Fulfilled{Reservation: b.req.Reservation, Order: order, Location: locA, Quantity: 4, OnHand: 6, Available: 6, At: t0.UTC()}, b.it.Pending()[1])
		b.it.Fulfil(b.req.Reservation, order, t0)
		require.Len(t, b.it.Pending(), 2, "shipping twice ships once")
		require.Equal(t, int64(6), b.it.OnHand(locA))
		require.Equal(t, int64(0), b.it.Reserved(locA))
		b.it.ReleaseAllocation(b.req.Reservation, order, "too late", t0)
		require.Len(t, b.it.Pending(), 2)
	})
}

func TestEveryEventCarriesTotalAvailable(t *testing.T) {
	t.Parallel()
	it := inventory.NewItem()
	var want []int64
	step := func(f func()) {
		n := len(it.Pending())
		f()
		for range it.Pending()[n:] {
			want = append(want, it.TotalAvailable())
		}
	}
	r1, r2, r3 := request(3), request(2), request(50)
	step(func() { require.NoError(t, it.Adjust(locA, 10, nil, "in", t0)) })
	step(func() { require.NoError(t, it.Adjust(locB, 0, ptr(4), "in", t0)) })
	step(func() { it.Reserve(r1, []uuid.UUID{locA}, ttl, t0) })
	step(func() { it.Reserve(r2, []uuid.UUID{locB}, ttl, t0) })
	step(func() { it.Reserve(r3, []uuid.UUID{locA, locB}, ttl, t0) })
	step(func() { require.NoError(t, it.Commit(r1.Reservation, order, t0)) })
	step(func() { it.Release(r2.Reservation, "x", t0) })
	step(func() { it.Fulfil(r1.Reservation, order, t0) })
	step(func() { it.Release(inventory.NewReservationID(), "never decided", t0) })
	r4 := request(1)
	step(func() { it.Reserve(r4, []uuid.UUID{locB}, ttl, t0) })
	step(func() { it.ExpireDue(t0.Add(time.Hour)) })
	r5 := request(2)
	step(func() { it.Reserve(r5, []uuid.UUID{locA}, ttl, t0) })
	step(func() { require.NoError(t, it.Commit(r5.Reservation, order, t0)) })
	step(func() { it.ReleaseAllocation(r5.Reservation, order, "cancelled", t0) })
	step(func() {
		require.NoError(t, it.Reallocate(inventory.NewReservationID(), order, 2, []uuid.UUID{locA}, "reinstated", t0))
	})
	r6 := request(3)
	step(func() { it.Reserve(r6, []uuid.UUID{locA}, ttl, t0) })
	step(func() { require.NoError(t, it.Commit(r6.Reservation, order, t0)) })
	step(func() { require.NoError(t, it.ReduceAllocation(r6.Reservation, order, 2, "2 units cancelled", t0)) })

	names := map[string]bool{}
	require.Len(t, it.Pending(), len(want))
	for i, e := range it.Pending() {
		require.Equal(t, want[i], available(t, e), "event %d (%s)", i, e.EventName())
		names[e.EventName()] = true
	}
	for _, e := range inventory.Events {
		if _, ok := e.(inventory.Requested); ok {
			continue // appended to the cart's stream, not the item's
		}
		require.True(t, names[e.EventName()], "%s covered", e.EventName())
	}
	require.Equal(t, int64(8), it.TotalAvailable())
}

func TestFromHistoryReproducesState(t *testing.T) {
	t.Parallel()
	it := inventory.NewItem()
	require.NoError(t, it.Adjust(locA, 10, nil, "in", t0))
	require.NoError(t, it.Adjust(locB, 5, nil, "in", t0))
	r1, r2, r3 := request(3), request(2), request(99)
	it.Reserve(r1, []uuid.UUID{locA}, ttl, t0)
	it.Reserve(r2, []uuid.UUID{locB}, ttl, t0.Add(time.Minute))
	it.Reserve(r3, []uuid.UUID{locA}, ttl, t0)
	require.NoError(t, it.Commit(r1.Reservation, order, t0))
	require.NoError(t, it.ReduceAllocation(r1.Reservation, order, 1, "1 unit cancelled", t0))

	// Through JSON, as the store keeps them.
	var hist []aggregate.Event
	for _, e := range it.Pending() {
		b, err := json.Marshal(e)
		require.NoError(t, err)
		out := decodeAs(t, e, b)
		hist = append(hist, out)
	}
	got := inventory.FromHistory(hist)
	requireSameState(t, it, got)
	require.Equal(t, int64(len(hist)), got.LoadedVersion())
	require.Empty(t, got.Pending())
	require.True(t, got.Decided(r3.Reservation))

	// Apply follows a stream one event at a time.
	follower := inventory.NewItem()
	for _, e := range hist {
		follower.Apply(e)
	}
	requireSameState(t, it, follower)
	require.Equal(t, got.LoadedVersion(), follower.LoadedVersion())
}

func decodeAs(t *testing.T, proto aggregate.Event, b []byte) aggregate.Event {
	t.Helper()
	switch proto.(type) {
	case inventory.Adjusted:
		var e inventory.Adjusted
		require.NoError(t, json.Unmarshal(b, &e))
		return e
	case inventory.Reserved:
		var e inventory.Reserved
		require.NoError(t, json.Unmarshal(b, &e))
		return e
	case inventory.Rejected:
		var e inventory.Rejected
		require.NoError(t, json.Unmarshal(b, &e))
		return e
	case inventory.Released:
		var e inventory.Released
		require.NoError(t, json.Unmarshal(b, &e))
		return e
	case inventory.Expired:
		var e inventory.Expired
		require.NoError(t, json.Unmarshal(b, &e))
		return e
	case inventory.Committed:
		var e inventory.Committed
		require.NoError(t, json.Unmarshal(b, &e))
		return e
	case inventory.AllocationReleased:
		var e inventory.AllocationReleased
		require.NoError(t, json.Unmarshal(b, &e))
		return e
	case inventory.Fulfilled:
		var e inventory.Fulfilled
		require.NoError(t, json.Unmarshal(b, &e))
		return e
	case inventory.AllocationReduced:
		var e inventory.AllocationReduced
		require.NoError(t, json.Unmarshal(b, &e))
		return e
	}
	t.Fatalf("unexpected event %T", proto)
	return nil
}

// requireSameState compares everything an item exposes.
func requireSameState(t *testing.T, want, got *inventory.Item) {
	t.Helper()
	require.Equal(t, want.Locations(), got.Locations())
	for _, loc := range want.Locations() {
		require.Equal(t, want.OnHand(loc), got.OnHand(loc), "on hand at %s", loc)
		require.Equal(t, want.Reserved(loc), got.Reserved(loc), "reserved at %s", loc)
	}
	require.Equal(t, want.TotalAvailable(), got.TotalAvailable())
	wh, gh := want.Holds(), got.Holds()
	require.Len(t, gh, len(wh))
	for i := range wh {
		require.Equal(t, wh[i].Reservation, gh[i].Reservation)
		require.Equal(t, wh[i].Location, gh[i].Location)
		require.Equal(t, wh[i].Quantity, gh[i].Quantity)
		require.Equal(t, wh[i].Order, gh[i].Order)
		require.True(t, wh[i].ExpiresAt.Equal(gh[i].ExpiresAt))
	}
	require.True(t, want.NextExpiry().Equal(got.NextExpiry()))
	require.Equal(t, want.Version(), got.LoadedVersion()+int64(len(got.Pending())))
}

func TestReallocate(t *testing.T) {
	t.Parallel()
	hist := stock(t, map[uuid.UUID]int64{locA: 2, locB: 5})
	it := inventory.FromHistory(hist)
	order := uuid.New()
	r := inventory.NewReservationID()
	require.ErrorIs(t, it.Reallocate(r, uuid.Nil, 1, []uuid.UUID{locA}, "x", t0), inventory.ErrNoOrder)
	require.ErrorIs(t, it.Reallocate(r, order, 0, []uuid.UUID{locA}, "x", t0), inventory.ErrInvalidQuantity)
	require.ErrorIs(t, it.Reallocate(r, order, 6, []uuid.UUID{locA, locB}, "x", t0), inventory.ErrInsufficientStock, "no location holds 6")
	require.Empty(t, it.Pending())
	require.NoError(t, it.Reallocate(r, order, 3, []uuid.UUID{locA, locB}, "reinstated", t0), "locA has only 2: locB")
	require.NoError(t, it.Reallocate(r, order, 3, []uuid.UUID{locA, locB}, "reinstated", t0), "a repeat records nothing")
	require.Len(t, it.Pending(), 1)
	e := it.Pending()[0].(inventory.Reallocated)
	require.Equal(t, locB, e.Location)
	require.Equal(t, int64(4), available(t, e))
	// An allocation like a committed hold: it ships or is released.
	_, it = saved(hist, it)
	require.Equal(t, int64(2), it.Available(locB))
	h, ok := it.Hold(r)
	require.True(t, ok)
	require.Equal(t, order, h.Order)
	require.True(t, h.ExpiresAt.IsZero(), "no expiry")
	it.ExpireDue(t0.Add(24 * time.Hour))
	require.Empty(t, it.Pending())
	it.Fulfil(r, order, t0)
	require.Equal(t, int64(2), it.OnHand(locB))
}
