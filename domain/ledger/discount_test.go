package ledger_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/ledger"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
)

// A discounted mall order: each vendor is owed its lines net of their
// discount, the commission is charged on that net amount, and the entry
// balances, with prices including or excluding tax.
func TestDiscountedSaleChargesCommissionOnTheNetAndBalances(t *testing.T) {
	t.Parallel()
	for _, include := range []bool{true, false} {
		a := line(vendorA, 3000, 1, catalog.TaxReduced, "0.1")
		b := line(vendorB, 2000, 1, catalog.TaxStandard, "0.05")
		da, db := yen(300), yen(200) // 500 off, allocated 300 / 200
		a.Discount, b.Discount = &da, &db
		priced := []order.Priced{
			{UnitPrice: a.UnitPrice, Quantity: 1, TaxRate: a.TaxRate, Discount: da},
			{UnitPrice: b.UnitPrice, Quantity: 1, TaxRate: b.TaxRate, Discount: db},
		}
		totals, err := order.ComputeTotals(money.JPY, priced, yen(800), money.Money{}, include, money.RoundFloor)
		require.NoError(t, err)
		require.Equal(t, "500", totals.Discount.AmountString())
		s := ledger.Sale{Lines: []order.Line{a, b}, Totals: totals, Rounding: money.RoundFloor}
		lines, err := ledger.Recognised(s)
		require.NoError(t, err)
		require.NoError(t, ledger.Balanced(lines))
		require.Equal(t, "270", sum(t, lines, ledger.CommissionIncome, vendorA).AmountString(), "10 % of 2,700")
		require.Equal(t, "90", sum(t, lines, ledger.CommissionIncome, vendorB).AmountString(), "5 % of 1,800")
		if include {
			require.Equal(t, "5300", totals.Total.AmountString())
			require.Equal(t, "2403", sum(t, lines, ledger.VendorHeld, vendorA).AmountString(), "2,700 − 270 − 27")
			require.Equal(t, "1701", sum(t, lines, ledger.VendorHeld, vendorB).AmountString(), "1,800 − 90 − 9")
		}
		require.Equal(t, "-"+totals.Total.AmountString(), sum(t, lines, ledger.Deposits, uuid.Nil).AmountString())
	}
}
