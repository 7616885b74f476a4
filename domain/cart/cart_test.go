package cart_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/aggregate"
	"github.com/honten/honten/domain/cart"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/inventory"
	"github.com/honten/honten/domain/money"
)

var now = time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)

func yen(n int64) money.Money { return money.MustNew(decimal.NewFromInt(n), money.JPY) }

func line(variant uuid.UUID, q, price int64) cart.Line {
	return cart.Line{ID: uuid.New(), Variant: variant, SKU: "TEA-1", Quantity: q, UnitPrice: yen(price), TaxRate: "10", FulfillmentType: "physical"}
}

func TestQuantityCaps(t *testing.T) {
	t.Parallel()
	x := cart.New(cart.NewID(), "hash", money.JPY, now)
	v := uuid.New()
	_, err := x.Add(line(v, 4, 1500), inventory.NewReservationID(), 3, now)
	require.Equal(t, errs.KindInvalid, errs.KindOf(err), "above the cap on add")
	id, err := x.Add(line(v, 2, 1500), inventory.NewReservationID(), 3, now)
	require.NoError(t, err)
	_, err = x.Add(line(v, 2, 1500), inventory.NewReservationID(), 3, now)
	require.Equal(t, errs.KindInvalid, errs.KindOf(err), "adding up goes above the cap")
	require.Equal(t, errs.KindInvalid, errs.KindOf(x.SetQuantity(id, 4, inventory.NewReservationID(), 3, now)))
	require.NoError(t, x.SetQuantity(id, 3, inventory.NewReservationID(), 3, now))
	require.NoError(t, x.SetQuantity(id, 0, inventory.NewReservationID(), 3, now), "removing is never capped")
}

func TestRepriceAndAddAtTheCurrentPrice(t *testing.T) {
	t.Parallel()
	x := cart.New(cart.NewID(), "hash", money.JPY, now)
	v := uuid.New()
	id, err := x.Add(line(v, 1, 1500), inventory.NewReservationID(), 0, now)
	require.NoError(t, err)
	_, err = x.Add(line(v, 1, 1800), inventory.NewReservationID(), 0, now)
	require.NoError(t, err)
	l, _ := x.Line(id)
	require.Equal(t, int64(2), l.Quantity)
	require.True(t, l.UnitPrice.Equal(yen(1800)), "more of a line takes the current price")
	require.NoError(t, x.Reprice(id, yen(1800), now))
	n := len(x.Pending())
	require.NoError(t, x.Reprice(id, yen(1800), now), "the same price records nothing")
	require.Len(t, x.Pending(), n)
	require.ErrorIs(t, x.Reprice(uuid.New(), yen(1), now), cart.ErrLineNotFound)
	require.ErrorIs(t, x.Reprice(id, money.MustNew(decimal.NewFromInt(5), money.USD), now), cart.ErrCurrency)
	// It replays to the same state.
	again := cart.FromHistory(x.Pending())
	l, _ = again.Line(id)
	require.True(t, l.UnitPrice.Equal(yen(1800)))
}

// Continue copies the cart as stored and applies the next events; neither
// the copy nor the original changes the other, and it ends where replaying
// the whole stream ends.
func TestContinueIsACopyThatReplaysLikeTheStream(t *testing.T) {
	t.Parallel()
	x := cart.New(cart.NewID(), "hash", money.JPY, now)
	a, err := x.Add(line(uuid.New(), 1, 1500), inventory.NewReservationID(), 0, now)
	require.NoError(t, err)
	stored := x.Pending()
	x.Saved()

	next := cart.FromHistory(stored)
	b, err := next.Add(line(uuid.New(), 2, 900), inventory.NewReservationID(), 0, now)
	require.NoError(t, err)
	require.NoError(t, next.SetQuantity(a, 3, inventory.NewReservationID(), 0, now))

	c := x.Continue(next.Pending())
	require.EqualValues(t, len(stored)+len(next.Pending()), c.LoadedVersion())
	require.Empty(t, c.Pending())
	require.Equal(t, cart.FromHistory(append(append([]aggregate.Event(nil), stored...), next.Pending()...)).Lines(), c.Lines())
	require.Len(t, x.Lines(), 1, "the original is unchanged")
	l, _ := x.Line(a)
	require.EqualValues(t, 1, l.Quantity)

	require.NoError(t, c.Remove(b, now))
	require.NoError(t, c.SetQuantity(a, 5, inventory.NewReservationID(), 0, now))
	l, _ = x.Line(a)
	require.EqualValues(t, 1, l.Quantity, "changing the copy leaves the original")
	require.Len(t, x.Lines(), 1)
}
