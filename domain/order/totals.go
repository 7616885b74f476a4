package order

import (
	"sort"

	"github.com/shopspring/decimal"

	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/money"
)

// TaxLine is the consumption tax of one rate on an order.
type TaxLine struct {
	Rate    catalog.TaxRate `json:"rate"`
	Taxable money.Money     `json:"taxable"`
	Tax     money.Money     `json:"tax"`
}

// Totals are an order's amounts. Prices are tax-inclusive (総額表示): Total
// is what the buyer pays, and Tax lists the tax contained in it per rate.
type Totals struct {
	Subtotal money.Money `json:"subtotal"`
	Discount money.Money `json:"discount"`
	Shipping money.Money `json:"shipping"`
	CODFee   money.Money `json:"cod_fee"`
	Tax      []TaxLine   `json:"tax"`
	Total    money.Money `json:"total"`
}

// Priced is one line's share of the merchandise: quantity × unit price at
// a tax rate, less its share of the discounts (zero value: none).
type Priced struct {
	UnitPrice money.Money
	Quantity  int64
	TaxRate   catalog.TaxRate
	Discount  money.Money
}

// ComputeTotals adds up lines, shipping and the COD fee in currency c.
// Following the qualified-invoice rule, tax is computed once per rate per
// order, on the sum of that rate's amounts, rounded with mode; shipping and
// fees carry the standard rate. A line's discount comes off its rate's
// amount before the tax is computed, and off the total. With pricesIncludeTax the tax is contained
// in the amounts (amount × rate / (100 + rate)); otherwise it is added.
func ComputeTotals(c money.Currency, lines []Priced, shipping, codFee money.Money, pricesIncludeTax bool, mode money.Rounding) (Totals, error) {
	zero := money.Zero(c)
	t := Totals{Subtotal: zero, Discount: zero, Shipping: zero, CODFee: zero, Total: zero}
	byRate := map[catalog.TaxRate]money.Money{}
	add := func(r catalog.TaxRate, m money.Money) error {
		cur, ok := byRate[r]
		if !ok {
			cur = zero
		}
		sum, err := cur.Add(m)
		byRate[r] = sum
		return err
	}
	for _, l := range lines {
		amt := l.UnitPrice.Mul(l.Quantity)
		var err error
		if t.Subtotal, err = t.Subtotal.Add(amt); err != nil {
			return Totals{}, err
		}
		if l.Discount.Currency() != "" && !l.Discount.IsZero() {
			if t.Discount, err = t.Discount.Add(l.Discount); err != nil {
				return Totals{}, err
			}
			if amt, err = amt.Sub(l.Discount); err != nil {
				return Totals{}, err
			}
		}
		if err := add(l.TaxRate, amt); err != nil {
			return Totals{}, err
		}
	}
	if shipping.Currency() != "" {
		t.Shipping = shipping
	}
	if codFee.Currency() != "" {
		t.CODFee = codFee
	}
	for _, fee := range []money.Money{t.Shipping, t.CODFee} {
		if !fee.IsZero() {
			if err := add(catalog.TaxStandard, fee); err != nil {
				return Totals{}, err
			}
		}
	}
	rates := make([]catalog.TaxRate, 0, len(byRate))
	for r := range byRate {
		rates = append(rates, r)
	}
	sort.Slice(rates, func(i, j int) bool { return rates[i].Percent().GreaterThan(rates[j].Percent()) })
	taxTotal := zero
	for _, r := range rates {
		taxable := byRate[r]
		p := r.Percent()
		var raw decimal.Decimal
		if pricesIncludeTax {
			raw = taxable.Amount().Mul(p).Div(p.Add(decimal.NewFromInt(100)))
		} else {
			raw = taxable.Amount().Mul(p).Div(decimal.NewFromInt(100))
		}
		tax, err := money.New(money.RoundDecimal(raw, c.Decimals(), mode), c)
		if err != nil {
			return Totals{}, err
		}
		t.Tax = append(t.Tax, TaxLine{Rate: r, Taxable: taxable, Tax: tax})
		if taxTotal, err = taxTotal.Add(tax); err != nil {
			return Totals{}, err
		}
	}
	if t.Tax == nil {
		t.Tax = []TaxLine{}
	}
	total, err := money.Sum(c, t.Subtotal, t.Shipping, t.CODFee)
	if err != nil {
		return Totals{}, err
	}
	if total, err = total.Sub(t.Discount); err != nil {
		return Totals{}, err
	}
	if !pricesIncludeTax {
		if total, err = total.Add(taxTotal); err != nil {
			return Totals{}, err
		}
	}
	t.Total = total
	return t, nil
}
