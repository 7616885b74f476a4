package order_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/aggregate"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
)

// mixed places a two-vendor order: 3 × ¥1,001 at 10% from one vendor and
// 2 × ¥540 at 8% from another, ¥500 shipping, totals computed as at
// checkout with mode.
func mixed(t *testing.T, method order.PaymentMethod, inclusive bool, mode money.Rounding) order.Placed {
	t.Helper()
	p := order.Placed{ID: order.NewID(), Number: "HT-000002", PaymentMethod: method, Tax: order.TaxTerms{PricesIncludeTax: inclusive, Rounding: mode}, Lines: []order.Line{
		{ID: uuid.New(), Variant: uuid.New(), Vendor: uuid.New(), SKU: "A", Quantity: 3, UnitPrice: yen(1001),
			TaxRate: catalog.TaxStandard, FulfillmentType: catalog.FulfillmentPhysical, Reservation: uuid.New()},
		{ID: uuid.New(), Variant: uuid.New(), Vendor: uuid.New(), SKU: "B", Quantity: 2, UnitPrice: yen(540),
			TaxRate: catalog.TaxReduced, FulfillmentType: catalog.FulfillmentPhysical, Reservation: uuid.New()},
	}}
	var priced []order.Priced
	for _, l := range p.Lines {
		priced = append(priced, order.Priced{UnitPrice: l.UnitPrice, Quantity: l.Quantity, TaxRate: l.TaxRate})
	}
	totals, err := order.ComputeTotals(money.JPY, priced, yen(500), yen(0), inclusive, mode)
	require.NoError(t, err)
	p.Totals = totals
	return p
}

func linesCancelled(t *testing.T, o *order.Order) order.LinesCancelled {
	t.Helper()
	p := o.Pending()
	e, ok := p[len(p)-1].(order.LinesCancelled)
	require.True(t, ok, "the last event is %T", p[len(p)-1])
	return e
}

func TestCancelLinesRecomputesTotalsPerRateWithFrozenRounding(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode      money.Rounding
		inclusive bool
		tax10     int64 // tax on (2 × 1,001 + 500) at 10%
		total     int64
	}{
		{money.RoundFloor, true, 227, 2502 + 1080},       // 2,502 × 10/110 = 227.45
		{money.RoundCeil, true, 228, 2502 + 1080},        // rounded up, the total unchanged (tax included)
		{money.RoundHalfUp, false, 250, 3582 + 250 + 86}, // 250.2 and 86.4 added
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			t.Parallel()
			p := mixed(t, order.PaymentBankTransfer, tc.inclusive, tc.mode)
			o := history(t, p)
			require.Equal(t, tc.inclusive, o.Totals().IncludesTax())
			a := p.Lines[0]
			require.NoError(t, o.CancelLines([]order.LineCancel{{Line: a.ID, Quantity: 1}}, "out of stock", now))
			e := linesCancelled(t, o)
			require.Equal(t, []order.CancelledLine{{Line: a.ID, Variant: a.Variant, Vendor: a.Vendor, SKU: "A",
				FulfillmentType: catalog.FulfillmentPhysical, Reservation: a.Reservation, Quantity: 1, Remaining: 2,
				UnitPrice: yen(1001), TaxRate: catalog.TaxStandard, Amount: yen(1001)}}, e.Lines)
			require.Equal(t, []order.RateAmount{{Rate: catalog.TaxStandard, Amount: yen(1001)}}, e.Cancelled)
			require.True(t, e.PreviousTotal.Equal(p.Totals.Total))
			require.Equal(t, order.StatusPendingPayment, e.Status)
			require.Equal(t, "out of stock", e.Reason)

			tt := o.Totals()
			require.True(t, tt.Subtotal.Equal(yen(2002+1080)), "subtotal %s", tt.Subtotal)
			require.True(t, tt.Shipping.Equal(yen(500)), "shipping unchanged")
			require.True(t, tt.CODFee.IsZero())
			require.Len(t, tt.Tax, 2)
			require.Equal(t, catalog.TaxStandard, tt.Tax[0].Rate)
			require.True(t, tt.Tax[0].Taxable.Equal(yen(2502)), "10%% taxable %s", tt.Tax[0].Taxable)
			require.True(t, tt.Tax[0].Tax.Equal(yen(tc.tax10)), "10%% tax %s", tt.Tax[0].Tax)
			require.Equal(t, catalog.TaxReduced, tt.Tax[1].Rate)
			require.True(t, tt.Tax[1].Taxable.Equal(yen(1080)), "8%% untouched")
			require.True(t, tt.Total.Equal(yen(tc.total)), "total %s", tt.Total)
			require.Equal(t, tt, e.Totals)

			// The remaining line keeps 2 units; replaying gives the same order.
			l, ok := o.Line(a.ID)
			require.True(t, ok)
			require.Equal(t, int64(2), l.Quantity)
			again := order.FromHistory(append([]aggregate.Event{p}, e))
			require.Equal(t, o.Totals(), again.Totals())
			require.Equal(t, o.Lines(), again.Lines())
			require.Len(t, again.PlacedLines(), 2)
			require.Equal(t, int64(3), again.PlacedLines()[0].Quantity)
		})
	}
}

func TestCancelLinesOfAVendorDropsItsLines(t *testing.T) {
	t.Parallel()
	p := mixed(t, order.PaymentCOD, true, money.RoundFloor)
	o := history(t, p)
	b := p.Lines[1]
	require.NoError(t, o.CancelLines([]order.LineCancel{{Line: b.ID, Quantity: 2}}, "vendor closed", now))
	require.Equal(t, []uuid.UUID{p.Lines[0].Vendor}, o.Vendors(), "the vendor has nothing left")
	require.Equal(t, []uuid.UUID{p.Lines[0].Vendor, b.Vendor}, o.PlacedVendors())
	require.True(t, o.HasVendor(b.Vendor), "the vendor's staff still find the order")
	require.Len(t, o.Totals().Tax, 1, "no 8%% line left")
	require.True(t, o.Totals().Total.Equal(yen(3003+500)))
	require.Equal(t, order.StatusPendingShipment, o.Status())

	require.ErrorIs(t, o.CancelLines([]order.LineCancel{{Line: b.ID, Quantity: 1}}, "again", now), order.ErrLineCancelled)
}

func TestCancelLinesOfEverythingLeftCancelsTheOrder(t *testing.T) {
	t.Parallel()
	p := mixed(t, order.PaymentBankTransfer, true, money.RoundFloor)
	o := history(t, p)
	require.NoError(t, o.CancelLines([]order.LineCancel{{Line: p.Lines[1].ID, Quantity: 2}}, "first part", now))
	require.NoError(t, o.CancelLines([]order.LineCancel{{Line: p.Lines[0].ID, Quantity: 3}}, "the rest", now))
	require.Equal(t, order.StatusCancelled, o.Status())
	last := o.Pending()[len(o.Pending())-1]
	require.Equal(t, order.StatusChanged{From: order.StatusPendingPayment, To: order.StatusCancelled, Reason: "the rest", At: now}, last)
	require.ErrorIs(t, o.CancelLines([]order.LineCancel{{Line: p.Lines[0].ID, Quantity: 1}}, "x", now), order.ErrCancelled)
}

func TestCancelLinesRefuses(t *testing.T) {
	t.Parallel()
	p := mixed(t, order.PaymentCOD, true, money.RoundFloor)
	a, b := p.Lines[0], p.Lines[1]
	for name, tc := range map[string]struct {
		cs    []order.LineCancel
		field string
	}{
		"no line":           {nil, "lines"},
		"unknown line":      {[]order.LineCancel{{Line: uuid.New(), Quantity: 1}}, "lines[0].line_id"},
		"named twice":       {[]order.LineCancel{{Line: a.ID, Quantity: 1}, {Line: a.ID, Quantity: 1}}, "lines[1].line_id"},
		"more than is left": {[]order.LineCancel{{Line: b.ID, Quantity: 3}}, "lines[0].quantity"},
		"zero units":        {[]order.LineCancel{{Line: b.ID, Quantity: 0}}, "lines[0].quantity"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			o := history(t, p)
			err := o.CancelLines(tc.cs, "x", now)
			e, ok := errs.As(err)
			require.True(t, ok, "%v", err)
			require.Equal(t, errs.KindInvalid, e.Kind)
			require.Equal(t, tc.field, e.Fields[0].Field)
			require.Empty(t, o.Pending())
		})
	}
	t.Run("shipped", func(t *testing.T) {
		t.Parallel()
		o := history(t, p, func(o *order.Order) error { return o.Shipped(true, now) })
		require.ErrorIs(t, o.CancelLines([]order.LineCancel{{Line: a.ID, Quantity: 1}}, "x", now), order.ErrAlreadyShipped)
	})
	t.Run("completed", func(t *testing.T) {
		t.Parallel()
		o := history(t, p, func(o *order.Order) error { return o.Shipped(true, now) },
			func(o *order.Order) error { return o.Complete("done", now) })
		require.ErrorIs(t, o.CancelLines([]order.LineCancel{{Line: a.ID, Quantity: 1}}, "x", now), order.ErrFinished)
	})
	t.Run("partially shipped", func(t *testing.T) {
		t.Parallel()
		o := history(t, p, func(o *order.Order) error { return o.Shipped(false, now) })
		require.NoError(t, o.CancelLines([]order.LineCancel{{Line: b.ID, Quantity: 1}}, "the caller checked the line's shipment", now))
	})
}
