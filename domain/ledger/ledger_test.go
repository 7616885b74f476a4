package ledger_test

import (
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/ledger"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
)

func yen(n int64) money.Money { return money.MustNew(decimal.NewFromInt(n), money.JPY) }

var (
	vendorA = uuid.MustParse("0195f000-0000-7000-8000-0000000000a1")
	vendorB = uuid.MustParse("0195f000-0000-7000-8000-0000000000b2")
)

func line(vendor uuid.UUID, price, qty int64, tax catalog.TaxRate, rate string) order.Line {
	l := order.Line{ID: uuid.New(), Vendor: vendor, Quantity: qty, UnitPrice: yen(price), TaxRate: tax}
	if rate != "" {
		r := decimal.RequireFromString(rate)
		l.CommissionRate = &r
	}
	return l
}

func sale(t *testing.T, lines []order.Line, shipping, codFee int64, include bool, mode money.Rounding) ledger.Sale {
	t.Helper()
	var priced []order.Priced
	for _, l := range lines {
		priced = append(priced, order.Priced{UnitPrice: l.UnitPrice, Quantity: l.Quantity, TaxRate: l.TaxRate})
	}
	totals, err := order.ComputeTotals(money.JPY, priced, yen(shipping), yen(codFee), include, mode)
	require.NoError(t, err)
	return ledger.Sale{Lines: lines, Totals: totals, Rounding: mode}
}

func sum(t *testing.T, lines []ledger.Line, a ledger.Account, v uuid.UUID) money.Money {
	t.Helper()
	out := yen(0)
	for _, l := range lines {
		if l.Account == a && l.Vendor == v {
			var err error
			out, err = out.Add(l.Credit)
			require.NoError(t, err)
			out, err = out.Sub(l.Debit)
			require.NoError(t, err)
		}
	}
	return out
}

func TestRecognisedSplitsASaleByVendor(t *testing.T) {
	t.Parallel()
	s := sale(t, []order.Line{
		line(vendorA, 3000, 1, catalog.TaxReduced, "0.1"),
		line(vendorB, 2000, 2, catalog.TaxStandard, "0.05"),
		line(vendorA, 999, 1, catalog.TaxReduced, "0.1"), // 99.9 → 99, tax 9.9 → 9 (floor)
	}, 800, 330, true, money.RoundFloor)
	lines, err := ledger.Recognised(s)
	require.NoError(t, err)
	require.NoError(t, ledger.Balanced(lines))
	require.Equal(t, "3561", sum(t, lines, ledger.VendorHeld, vendorA).AmountString(), "3,999 − (300 + 99) − (30 + 9)")
	require.Equal(t, "399", sum(t, lines, ledger.CommissionIncome, vendorA).AmountString())
	require.Equal(t, "39", sum(t, lines, ledger.CommissionTax, vendorA).AmountString(), "tax rounded once per line")
	require.Equal(t, "3780", sum(t, lines, ledger.VendorHeld, vendorB).AmountString())
	require.Equal(t, "800", sum(t, lines, ledger.ShippingIncome, uuid.Nil).AmountString())
	require.Equal(t, "330", sum(t, lines, ledger.CODFeeIncome, uuid.Nil).AmountString())
	require.Equal(t, "-9129", sum(t, lines, ledger.Deposits, uuid.Nil).AmountString(), "the whole total leaves the deposits")

	// The same with half-up rounding: 99.9 → 100, its tax 10.
	s.Rounding = money.RoundHalfUp
	lines, err = ledger.Recognised(s)
	require.NoError(t, err)
	require.Equal(t, "400", sum(t, lines, ledger.CommissionIncome, vendorA).AmountString())
	require.Equal(t, "40", sum(t, lines, ledger.CommissionTax, vendorA).AmountString())
}

func TestUnfrozenLinesTakeTheVendorsRate(t *testing.T) {
	t.Parallel()
	s := sale(t, []order.Line{line(vendorA, 1000, 1, catalog.TaxStandard, "")}, 0, 0, true, money.RoundFloor)
	lines, err := ledger.Recognised(s)
	require.NoError(t, err)
	require.Equal(t, "1000", sum(t, lines, ledger.VendorHeld, vendorA).AmountString(), "no rate known: none charged")
	s.RateOf = func(order.Line) decimal.Decimal { return decimal.RequireFromString("0.12") }
	lines, err = ledger.Recognised(s)
	require.NoError(t, err)
	require.Equal(t, "120", sum(t, lines, ledger.CommissionIncome, vendorA).AmountString())
}

// Prices without tax: the tax added to the order goes with the goods,
// shared by taxable amount, to the yen; every entry balances.
func TestAddedTaxIsSharedAmongVendors(t *testing.T) {
	t.Parallel()
	s := sale(t, []order.Line{
		line(vendorA, 333, 1, catalog.TaxStandard, "0.1"),
		line(vendorB, 667, 1, catalog.TaxStandard, "0.1"),
		line(vendorB, 1001, 1, catalog.TaxReduced, "0.1"),
	}, 500, 0, false, money.RoundFloor)
	parts, err := s.Parts()
	require.NoError(t, err)
	require.Len(t, parts, 2)
	lines, err := ledger.Recognised(s)
	require.NoError(t, err)
	require.NoError(t, ledger.Balanced(lines))
	gross, err := parts[0].Gross.Add(parts[1].Gross)
	require.NoError(t, err)
	fees, err := gross.Add(s.Totals.Shipping)
	require.NoError(t, err)
	require.True(t, fees.Equal(s.Totals.Total), "the parts and the fees add up to the total: %s + %s ≠ %s", gross, s.Totals.Shipping, s.Totals.Total)

	// Many random sales: every entry balances, and the parts always add up.
	rng := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		var ls []order.Line
		for range 1 + rng.IntN(6) {
			v := []uuid.UUID{vendorA, vendorB}[rng.IntN(2)]
			tax := []catalog.TaxRate{catalog.TaxStandard, catalog.TaxReduced}[rng.IntN(2)]
			rate := []string{"0", "0.05", "0.1", "0.125", ""}[rng.IntN(5)]
			ls = append(ls, line(v, 1+rng.Int64N(20000), 1+rng.Int64N(5), tax, rate))
		}
		mode := []money.Rounding{money.RoundFloor, money.RoundHalfUp, money.RoundCeil}[rng.IntN(3)]
		s := sale(t, ls, rng.Int64N(1000), []int64{0, 330}[rng.IntN(2)], rng.IntN(2) == 0, mode)
		lines, err := ledger.Recognised(s)
		require.NoError(t, err)
		require.NoError(t, ledger.Balanced(lines))
		for _, l := range lines {
			require.False(t, l.Debit.IsNegative() || l.Credit.IsNegative(), "no negative line: %+v", l)
		}
	}
}

func TestMoneyMovementsBalance(t *testing.T) {
	t.Parallel()
	for _, lines := range [][]ledger.Line{
		ledger.Received(ledger.CashBankTransfer, yen(5000)),
		ledger.Received(ledger.CashCOD, yen(2630)),
		ledger.RefundDue(yen(200)),
		ledger.Reinstated(yen(6800)),
	} {
		require.NoError(t, ledger.Balanced(lines))
	}
	require.Error(t, ledger.Balanced([]ledger.Line{ledger.Debit(ledger.CashCOD, uuid.Nil, yen(1))}))
}
