package order

import (
	"github.com/shopspring/decimal"

	"github.com/honten/honten/domain/money"
)

// CommissionTaxRate is the consumption tax on the platform's commission, a
// taxable service at the standard rate (10 %).
var CommissionTaxRate = decimal.NewFromInt(10)

// Commission is what the platform keeps of one line: the commission at the
// line's frozen rate and the consumption tax on it.
type Commission struct {
	Net money.Money `json:"commission"`
	Tax money.Money `json:"commission_tax"`
}

// Total returns commission plus its tax.
func (c Commission) Total() money.Money {
	t, _ := c.Net.Add(c.Tax) // same currency by construction
	return t
}

// Amount returns the line's merchandise total net of its discount:
// quantity × unit price − discount. The commission is charged on it.
func (l Line) Amount() money.Money {
	gross := l.UnitPrice.Mul(l.Quantity)
	if l.Discount == nil {
		return gross
	}
	net, err := gross.Sub(*l.Discount)
	if err != nil {
		return gross
	}
	return net
}

// FrozenRate returns the line's frozen commission rate, or fallback (the
// vendor's rate at the order's placing, from its history) for a line placed
// before rates were frozen.
func (l Line) FrozenRate(fallback decimal.Decimal) decimal.Decimal {
	if l.CommissionRate != nil {
		return *l.CommissionRate
	}
	return fallback
}

// ComputeCommission returns the commission on amount at rate and its 10 %
// consumption tax, each rounded once to the currency's precision with mode
// (the shop's tax rounding): commission = round(amount × rate), tax =
// round(commission × 10 / 100). A negative amount (a reversal) gives the
// exact negation of the positive one, so a refund undoes its charge to the
// yen whatever the mode.
func ComputeCommission(amount money.Money, rate decimal.Decimal, mode money.Rounding) (Commission, error) {
	c := amount.Currency()
	abs := amount.Amount().Abs()
	net, err := money.NewRounded(abs.Mul(rate), c, mode)
	if err != nil {
		return Commission{}, err
	}
	tax, err := money.NewRounded(net.Amount().Mul(CommissionTaxRate).Div(decimal.NewFromInt(100)), c, mode)
	if err != nil {
		return Commission{}, err
	}
	if amount.IsNegative() {
		net, tax = net.Neg(), tax.Neg()
	}
	return Commission{Net: net, Tax: tax}, nil
}
