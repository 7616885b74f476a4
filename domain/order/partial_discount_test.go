package order_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
)

// discounted places a tax-inclusive order with 10 % off the order, as
// checkout allocates it over the lines: A 3 × ¥1,100 at 10 % (¥330 off),
// B 2 × ¥1,080 at 8 % (¥216 off), ¥800 shipping, tax rounded down.
//
//	subtotal 5,460 − discount 546 + shipping 800 = total 5,714
//	10 %: 3,300 − 330 + 800 = 3,770 → 3,770 × 10/110 = 342.72 → 342
//	 8 %: 2,160 − 216       = 1,944 → 1,944 ×  8/108 = 144
func discounted(t *testing.T) order.Placed {
	t.Helper()
	da, db := yen(330), yen(216)
	p := order.Placed{ID: order.NewID(), Number: "HT-000042", PaymentMethod: order.PaymentBankTransfer,
		Tax: order.TaxTerms{PricesIncludeTax: true, Rounding: money.RoundFloor}, Lines: []order.Line{
			{ID: uuid.New(), Variant: uuid.New(), Vendor: uuid.New(), SKU: "A", Quantity: 3, UnitPrice: yen(1100),
				TaxRate: catalog.TaxStandard, FulfillmentType: catalog.FulfillmentPhysical, Reservation: uuid.New(), Discount: &da},
			{ID: uuid.New(), Variant: uuid.New(), Vendor: uuid.New(), SKU: "B", Quantity: 2, UnitPrice: yen(1080),
				TaxRate: catalog.TaxReduced, FulfillmentType: catalog.FulfillmentPhysical, Reservation: uuid.New(), Discount: &db},
		}}
	priced := []order.Priced{
		{UnitPrice: yen(1100), Quantity: 3, TaxRate: catalog.TaxStandard, Discount: da},
		{UnitPrice: yen(1080), Quantity: 2, TaxRate: catalog.TaxReduced, Discount: db},
	}
	totals, err := order.ComputeTotals(money.JPY, priced, yen(800), yen(0), true, money.RoundFloor)
	require.NoError(t, err)
	p.Totals = totals
	return p
}

// requireTotals checks an order's totals against a worked example.
func requireTotals(t *testing.T, got order.Totals, subtotal, discount, total, taxable10, tax10, taxable8, tax8 int64) {
	t.Helper()
	require.True(t, got.Subtotal.Equal(yen(subtotal)), "subtotal %s", got.Subtotal)
	require.True(t, got.Discount.Equal(yen(discount)), "discount %s", got.Discount)
	require.True(t, got.Total.Equal(yen(total)), "total %s", got.Total)
	require.Len(t, got.Tax, 2)
	require.Equal(t, catalog.TaxStandard, got.Tax[0].Rate)
	require.True(t, got.Tax[0].Taxable.Equal(yen(taxable10)), "10%% taxable %s", got.Tax[0].Taxable)
	require.True(t, got.Tax[0].Tax.Equal(yen(tax10)), "10%% tax %s", got.Tax[0].Tax)
	require.Equal(t, catalog.TaxReduced, got.Tax[1].Rate)
	require.True(t, got.Tax[1].Taxable.Equal(yen(taxable8)), "8%% taxable %s", got.Tax[1].Taxable)
	require.True(t, got.Tax[1].Tax.Equal(yen(tax8)), "8%% tax %s", got.Tax[1].Tax)
}

// Cancelling units of a discounted order reverses the discount they
// carried, the tax is computed again per rate after discount and rounded
// once per rate, and the total goes down by exactly what the cancelled
// units cost the buyer — the refund due of a paid order.
func TestCancelLinesOfADiscountedOrderReversesTheirDiscount(t *testing.T) {
	t.Parallel()
	p := discounted(t)
	requireTotals(t, p.Totals, 5460, 546, 5714, 3770, 342, 1944, 144)
	o := history(t, p)
	a, b := p.Lines[0], p.Lines[1]

	// One A: it carried 330 × 1/3 = 110 of the discount; 2 units keep 220.
	require.NoError(t, o.CancelLines([]order.LineCancel{{Line: a.ID, Quantity: 1}}, "out of stock", now))
	e := linesCancelled(t, o)
	require.Len(t, e.Lines, 1)
	require.True(t, e.Lines[0].Amount.Equal(yen(1100)))
	require.True(t, e.Lines[0].Discount.Equal(yen(110)), "reversed %s", e.Lines[0].Discount)
	require.True(t, e.Lines[0].RemainingDiscount.Equal(yen(220)))
	require.True(t, e.Lines[0].Net().Equal(yen(990)))
	require.Equal(t, []order.RateAmount{{Rate: catalog.TaxStandard, Amount: yen(990)}}, e.Cancelled, "net per rate")
	// 4,360 − 436 + 800 = 4,724; 10 %: 2,200 − 220 + 800 = 2,780 → 252.72 → 252; 8 % unchanged.
	requireTotals(t, o.Totals(), 4360, 436, 4724, 2780, 252, 1944, 144)
	refund, err := e.PreviousTotal.Sub(o.Totals().Total)
	require.NoError(t, err)
	require.True(t, refund.Equal(yen(990)), "the refund due of a paid order: %s", refund)
	left, ok := o.Line(a.ID)
	require.True(t, ok)
	require.EqualValues(t, 2, left.Quantity)
	require.True(t, left.Discount.Equal(yen(220)), "the line keeps the discount of its units left")

	// Then one B: 216 × 1/2 = 108 reversed. 8 %: 1,080 − 108 = 972 → 72.
	require.NoError(t, o.CancelLines([]order.LineCancel{{Line: b.ID, Quantity: 1}}, "buyer asked", now))
	e = linesCancelled(t, o)
	require.True(t, e.Lines[0].Discount.Equal(yen(108)))
	require.Equal(t, []order.RateAmount{{Rate: catalog.TaxReduced, Amount: yen(972)}}, e.Cancelled)
	requireTotals(t, o.Totals(), 3280, 328, 3752, 2780, 252, 972, 72)
	require.True(t, e.PreviousTotal.Equal(yen(4724)))

	// Replayed from its events, the order is the same.
	again := history(t, p, func(x *order.Order) error {
		return x.CancelLines([]order.LineCancel{{Line: a.ID, Quantity: 1}}, "out of stock", now)
	}, func(x *order.Order) error {
		return x.CancelLines([]order.LineCancel{{Line: b.ID, Quantity: 1}}, "buyer asked", now)
	})
	require.Equal(t, o.Totals(), again.Totals())
	require.Equal(t, o.Lines(), again.Lines())
}

// A discount that does not divide evenly: ¥100 off 3 × ¥500 (only that
// SKU matched), units cancelled one at a time carry 33, 33 and 34 — in all
// exactly the discount — and each step's total and tax are exact.
func TestCancelLinesSharesAnUnevenDiscountExactly(t *testing.T) {
	t.Parallel()
	d := yen(100)
	p := order.Placed{ID: order.NewID(), Number: "HT-000043", PaymentMethod: order.PaymentBankTransfer,
		Tax: order.TaxTerms{PricesIncludeTax: true, Rounding: money.RoundFloor}, Lines: []order.Line{
			{ID: uuid.New(), Variant: uuid.New(), Vendor: uuid.New(), SKU: "X", Quantity: 3, UnitPrice: yen(500),
				TaxRate: catalog.TaxStandard, FulfillmentType: catalog.FulfillmentPhysical, Reservation: uuid.New(), Discount: &d},
			{ID: uuid.New(), Variant: uuid.New(), Vendor: uuid.New(), SKU: "Y", Quantity: 1, UnitPrice: yen(1080),
				TaxRate: catalog.TaxReduced, FulfillmentType: catalog.FulfillmentPhysical, Reservation: uuid.New()},
		}}
	totals, err := order.ComputeTotals(money.JPY, []order.Priced{
		{UnitPrice: yen(500), Quantity: 3, TaxRate: catalog.TaxStandard, Discount: d},
		{UnitPrice: yen(1080), Quantity: 1, TaxRate: catalog.TaxReduced},
	}, yen(0), yen(0), true, money.RoundFloor)
	require.NoError(t, err)
	p.Totals = totals
	// 2,580 − 100 = 2,480; 10 %: 1,400 → 127.27 → 127; 8 %: 1,080 → 80.
	requireTotals(t, p.Totals, 2580, 100, 2480, 1400, 127, 1080, 80)
	o := history(t, p)
	x := p.Lines[0]
	steps := []struct {
		reversed, total, taxable10, tax10 int64
	}{
		{33, 2480 - 467, 933, 84}, // 100 × 2/3 = 66.67 → 67 kept; 1,000 − 67 = 933 → 84.81
		{33, 2013 - 467, 466, 42}, // 67 × 1/2 = 33.5 → 34 kept; 500 − 34 = 466 → 42.36
		{34, 1546 - 466, 0, 0},    // the last unit carries the rest
	}
	var reversed int64
	for i, s := range steps {
		require.NoError(t, o.CancelLines([]order.LineCancel{{Line: x.ID, Quantity: 1}}, "", now), "step %d", i)
		e := linesCancelled(t, o)
		require.True(t, e.Lines[0].Discount.Equal(yen(s.reversed)), "step %d reversed %s", i, e.Lines[0].Discount)
		reversed += s.reversed
		tt := o.Totals()
		require.True(t, tt.Total.Equal(yen(s.total)), "step %d total %s", i, tt.Total)
		diff, err := e.PreviousTotal.Sub(tt.Total)
		require.NoError(t, err)
		require.True(t, diff.Equal(e.Lines[0].Net()), "step %d: the total goes down by what the unit cost", i)
		if s.taxable10 == 0 {
			require.Len(t, tt.Tax, 1, "no 10 %% goods left")
		} else {
			require.True(t, tt.Tax[0].Taxable.Equal(yen(s.taxable10)), "step %d taxable %s", i, tt.Tax[0].Taxable)
			require.True(t, tt.Tax[0].Tax.Equal(yen(s.tax10)), "step %d tax %s", i, tt.Tax[0].Tax)
		}
	}
	require.EqualValues(t, 100, reversed, "exactly the discount, in all")
	require.True(t, o.Totals().Discount.IsZero())
	require.True(t, o.Totals().Total.Equal(yen(1080)))
}

// ShareDiscount keeps the units left's share, rounded half up, and gives
// the cancelled ones the rest.
func TestShareDiscount(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		discount, quantity, rest, kept int64
	}{
		{330, 3, 2, 220}, {100, 3, 2, 67}, {67, 2, 1, 34}, {100, 3, 0, 0}, {100, 3, 3, 100}, {1, 2, 1, 1}, {0, 5, 2, 0},
	} {
		kept, cancelled := order.ShareDiscount(yen(tc.discount), tc.quantity, tc.rest)
		require.True(t, kept.Equal(yen(tc.kept)), "%+v: kept %s", tc, kept)
		require.True(t, cancelled.Equal(yen(tc.discount-tc.kept)), "%+v: cancelled %s", tc, cancelled)
	}
}
