package order_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/aggregate"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
)

var now = time.Date(2025, 12, 1, 9, 0, 0, 0, time.UTC)

func yen(n int64) money.Money { return money.MustNew(decimal.NewFromInt(n), money.JPY) }

func placed(method order.PaymentMethod, types ...catalog.FulfillmentType) order.Placed {
	if len(types) == 0 {
		types = []catalog.FulfillmentType{catalog.FulfillmentPhysical}
	}
	p := order.Placed{ID: order.NewID(), Number: "HT-000001", PaymentMethod: method}
	for _, ft := range types {
		p.Lines = append(p.Lines, order.Line{ID: uuid.New(), Variant: uuid.New(), Vendor: uuid.New(), Quantity: 1,
			UnitPrice: yen(1000), TaxRate: catalog.TaxStandard, FulfillmentType: ft})
	}
	return p
}

// history places an order and returns it rebuilt from its events.
func history(t *testing.T, p order.Placed, steps ...func(o *order.Order) error) *order.Order {
	t.Helper()
	o := order.Place(p, now)
	for _, step := range steps {
		require.NoError(t, step(o))
	}
	evs := append([]aggregate.Event(nil), o.Pending()...)
	return order.FromHistory(evs)
}

func statuses(o *order.Order) []order.Status {
	var out []order.Status
	for _, e := range o.Pending() {
		if sc, ok := e.(order.StatusChanged); ok {
			out = append(out, sc.To)
		}
	}
	return out
}

func TestPlaceStartsByPaymentMethod(t *testing.T) {
	t.Parallel()
	require.Equal(t, order.StatusPendingPayment, order.Place(placed(order.PaymentBankTransfer), now).Status())
	require.Equal(t, order.StatusPendingShipment, order.Place(placed(order.PaymentCOD), now).Status())
	o := order.Place(placed(order.PaymentCOD), now)
	require.Len(t, o.Pending(), 1)
	require.Equal(t, "order.placed.v1", o.Pending()[0].EventName())
	require.Equal(t, now, o.PlacedAt())
}

func TestBankTransferLifecycle(t *testing.T) {
	t.Parallel()
	o := history(t, placed(order.PaymentBankTransfer, catalog.FulfillmentPhysical, catalog.FulfillmentPhysical))
	require.ErrorIs(t, o.Shipped(true, now), order.ErrNotReady, "cannot ship before payment")
	require.ErrorIs(t, o.Complete("x", now), order.ErrNotShipped)
	require.NoError(t, o.Paid(now))
	require.NoError(t, o.Paid(now), "a repeat is a no-op")
	require.NoError(t, o.Shipped(false, now))
	require.NoError(t, o.Shipped(false, now))
	require.NoError(t, o.Shipped(true, now))
	require.NoError(t, o.Shipped(false, now), "never back from shipped")
	require.NoError(t, o.Complete("delivered and paid", now))
	require.NoError(t, o.Complete("again", now))
	require.Equal(t, []order.Status{order.StatusPendingShipment, order.StatusPartiallyShipped, order.StatusShipped, order.StatusCompleted}, statuses(o))
	require.ErrorIs(t, o.Cancel("too late", now), order.ErrFinished)
	require.ErrorIs(t, o.Shipped(true, now), order.ErrFinished)

	require.Equal(t, int64(5), o.Version(), "placed + four moves")
	// The moves replay to the same state.
	again := order.FromHistory(o.Pending())
	require.Equal(t, order.StatusCompleted, again.Status())
}

func TestDigitalOnlyOrderCompletesWhenPaid(t *testing.T) {
	t.Parallel()
	o := history(t, placed(order.PaymentBankTransfer, catalog.FulfillmentDigital))
	require.False(t, o.Shippable())
	require.Empty(t, o.Vendors())
	require.NoError(t, o.Paid(now))
	require.Equal(t, order.StatusCompleted, o.Status())
}

func TestCancelRules(t *testing.T) {
	t.Parallel()
	paid := func(o *order.Order) error { return o.Paid(now) }
	partly := func(o *order.Order) error { return o.Shipped(false, now) }
	all := func(o *order.Order) error { return o.Shipped(true, now) }
	done := func(o *order.Order) error { return o.Complete("done", now) }
	for _, c := range []struct {
		name   string
		method order.PaymentMethod
		steps  []func(*order.Order) error
		want   error
	}{
		{"unpaid bank transfer", order.PaymentBankTransfer, nil, nil},
		{"paid bank transfer", order.PaymentBankTransfer, []func(*order.Order) error{paid}, nil},
		{"COD before shipping", order.PaymentCOD, nil, nil},
		{"partially shipped", order.PaymentCOD, []func(*order.Order) error{partly}, order.ErrAlreadyShipped},
		{"shipped", order.PaymentCOD, []func(*order.Order) error{all}, order.ErrAlreadyShipped},
		{"completed", order.PaymentCOD, []func(*order.Order) error{all, done}, order.ErrFinished},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			o := history(t, placed(c.method), c.steps...)
			err := o.Cancel("buyer asked", now)
			if c.want != nil {
				require.ErrorIs(t, err, c.want)
				require.Empty(t, o.Pending(), "a refused cancel records nothing")
				return
			}
			require.NoError(t, err)
			require.Equal(t, order.StatusCancelled, o.Status())
			sc := o.Pending()[0].(order.StatusChanged)
			require.Equal(t, "buyer asked", sc.Reason)
			require.Equal(t, order.StatusCancelled, sc.To)
			require.NoError(t, o.Cancel("again", now), "cancelling twice is a no-op")
			require.Len(t, o.Pending(), 1)
			require.ErrorIs(t, o.Paid(now), order.ErrNotPayable)
			require.ErrorIs(t, o.Shipped(true, now), order.ErrCancelled)
			require.ErrorIs(t, o.Complete("x", now), order.ErrCancelled)
		})
	}
}

func TestVendorsAndLinesOf(t *testing.T) {
	t.Parallel()
	p := placed(order.PaymentCOD, catalog.FulfillmentPhysical, catalog.FulfillmentPhysical, catalog.FulfillmentDigital)
	p.Lines[1].Vendor = p.Lines[0].Vendor
	o := order.Place(p, now)
	require.Equal(t, []uuid.UUID{p.Lines[0].Vendor}, o.Vendors())
	require.Len(t, o.LinesOf(p.Lines[0].Vendor), 2)
	require.Empty(t, o.LinesOf(p.Lines[2].Vendor), "digital lines do not ship")
	require.True(t, o.HasVendor(p.Lines[2].Vendor))
	require.False(t, o.HasVendor(uuid.New()))
}

func line(price, qty int64, rate catalog.TaxRate) order.Priced {
	return order.Priced{UnitPrice: yen(price), Quantity: qty, TaxRate: rate}
}

func taxOf(t *testing.T, tot order.Totals, rate catalog.TaxRate) (taxable, tax int64) {
	t.Helper()
	for _, tl := range tot.Tax {
		if tl.Rate == rate {
			return tl.Taxable.Amount().IntPart(), tl.Tax.Amount().IntPart()
		}
	}
	t.Fatalf("no %s%% tax line in %+v", rate, tot.Tax)
	return 0, 0
}

// The worked examples of research/japan.md §1.5.
func TestComputeTotalsJapaneseExamples(t *testing.T) {
	t.Parallel()
	t.Run("A: one item per rate", func(t *testing.T) {
		t.Parallel()
		tot, err := order.ComputeTotals(money.JPY, []order.Priced{line(1100, 1, catalog.TaxStandard)}, money.Money{}, money.Money{}, true, money.RoundFloor)
		require.NoError(t, err)
		_, tax := taxOf(t, tot, catalog.TaxStandard)
		require.Equal(t, int64(100), tax)
		require.True(t, tot.Total.Equal(yen(1100)))
		tot, err = order.ComputeTotals(money.JPY, []order.Priced{line(1080, 1, catalog.TaxReduced)}, money.Money{}, money.Money{}, true, money.RoundFloor)
		require.NoError(t, err)
		_, tax = taxOf(t, tot, catalog.TaxReduced)
		require.Equal(t, int64(80), tax)
	})
	t.Run("B: mixed rates, shipping and COD fee at 10%, floor once per rate", func(t *testing.T) {
		t.Parallel()
		lines := []order.Priced{
			line(1250, 1, catalog.TaxStandard), // tote bag
			line(1450, 1, catalog.TaxStandard), // mug
			line(1296, 1, catalog.TaxReduced),  // coffee beans
			line(600, 3, catalog.TaxReduced),   // cookies
		}
		tot, err := order.ComputeTotals(money.JPY, lines, yen(880), yen(330), true, money.RoundFloor)
		require.NoError(t, err)
		taxable, tax := taxOf(t, tot, catalog.TaxStandard)
		require.Equal(t, int64(3910), taxable)
		require.Equal(t, int64(355), tax, "355.45 floors to 355 — per-line flooring would give 354")
		taxable, tax = taxOf(t, tot, catalog.TaxReduced)
		require.Equal(t, int64(3096), taxable)
		require.Equal(t, int64(229), tax)
		require.True(t, tot.Subtotal.Equal(yen(5796)))
		require.True(t, tot.Shipping.Equal(yen(880)))
		require.True(t, tot.CODFee.Equal(yen(330)))
		require.True(t, tot.Total.Equal(yen(7006)), tot.Total.String())
		require.Equal(t, catalog.TaxStandard, tot.Tax[0].Rate, "10%% first")
	})
	t.Run("shipping on an all-food order is still 10%", func(t *testing.T) {
		t.Parallel()
		tot, err := order.ComputeTotals(money.JPY, []order.Priced{line(1080, 1, catalog.TaxReduced)}, yen(880), money.Money{}, true, money.RoundFloor)
		require.NoError(t, err)
		taxable, tax := taxOf(t, tot, catalog.TaxStandard)
		require.Equal(t, int64(880), taxable)
		require.Equal(t, int64(80), tax)
		_, tax = taxOf(t, tot, catalog.TaxReduced)
		require.Equal(t, int64(80), tax)
		require.True(t, tot.Total.Equal(yen(1960)))
	})
	t.Run("floor vs half_up", func(t *testing.T) {
		t.Parallel()
		// §1.5 C: 2,562 incl. 8% → 189.78.
		lines := []order.Priced{line(2562, 1, catalog.TaxReduced)}
		floor, err := order.ComputeTotals(money.JPY, lines, money.Money{}, money.Money{}, true, money.RoundFloor)
		require.NoError(t, err)
		_, tax := taxOf(t, floor, catalog.TaxReduced)
		require.Equal(t, int64(189), tax)
		half, err := order.ComputeTotals(money.JPY, lines, money.Money{}, money.Money{}, true, money.RoundHalfUp)
		require.NoError(t, err)
		_, tax = taxOf(t, half, catalog.TaxReduced)
		require.Equal(t, int64(190), tax)
		// 3,444 incl. 10% → 313.09: both give 313.
		half, err = order.ComputeTotals(money.JPY, []order.Priced{line(3444, 1, catalog.TaxStandard)}, money.Money{}, money.Money{}, true, money.RoundHalfUp)
		require.NoError(t, err)
		_, tax = taxOf(t, half, catalog.TaxStandard)
		require.Equal(t, int64(313), tax)
	})
	t.Run("tax-exclusive prices: three 105-yen lines give 31, not 30", func(t *testing.T) {
		t.Parallel()
		lines := []order.Priced{line(105, 1, catalog.TaxStandard), line(105, 1, catalog.TaxStandard), line(105, 1, catalog.TaxStandard)}
		tot, err := order.ComputeTotals(money.JPY, lines, money.Money{}, money.Money{}, false, money.RoundFloor)
		require.NoError(t, err)
		_, tax := taxOf(t, tot, catalog.TaxStandard)
		require.Equal(t, int64(31), tax)
		require.True(t, tot.Total.Equal(yen(346)), "tax is added on top: 315 + 31")
		tot, err = order.ComputeTotals(money.JPY, lines, money.Money{}, money.Money{}, false, money.RoundHalfUp)
		require.NoError(t, err)
		_, tax = taxOf(t, tot, catalog.TaxStandard)
		require.Equal(t, int64(32), tax)
	})
	t.Run("currency mismatch is refused", func(t *testing.T) {
		t.Parallel()
		usd := money.MustNew(decimal.NewFromInt(5), money.USD)
		_, err := order.ComputeTotals(money.JPY, []order.Priced{{UnitPrice: usd, Quantity: 1, TaxRate: catalog.TaxStandard}}, money.Money{}, money.Money{}, true, money.RoundFloor)
		require.ErrorIs(t, err, money.ErrCurrencyMismatch)
	})
}
