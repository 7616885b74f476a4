package checkout_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/cart"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/checkout"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/tenant"
)

func yen(n int64) money.Money { return money.MustNew(decimal.NewFromInt(n), money.JPY) }

func line(price, qty int64, rate catalog.TaxRate) checkout.Line {
	return checkout.Line{Priced: order.Priced{UnitPrice: yen(price), Quantity: qty, TaxRate: rate}}
}

func digital(price, qty int64) checkout.Line {
	l := line(price, qty, catalog.TaxStandard)
	l.Fulfillment = catalog.FulfillmentDigital
	return l
}

func discounted(l checkout.Line, d int64) checkout.Line {
	l.Discount = yen(d)
	return l
}

var account = &tenant.BankAccount{BankName: "みずほ銀行", BankCode: "0001", BranchName: "本店", BranchCode: "001",
	AccountType: "ordinary", AccountNumber: "1234567", AccountHolder: "ホンテン（カ"}

// settings are the default yen settings (¥800 shipping, free from
// ¥10,000; COD ¥330 up to ¥10,000 … ¥1,100 up to ¥300,000; prices with
// tax, rounded down; 7-day transfers; prefix HT) with a bank account.
func settings(change ...func(*tenant.Settings)) tenant.Settings {
	s := tenant.DefaultSettings(money.JPY)
	s.BankAccount = account
	for _, c := range change {
		c(&s)
	}
	return s
}

// Worked examples: each figure below is computed by hand from the shop's
// settings, not by the code under test.
func TestDecide(t *testing.T) {
	// 2026-11-28 00:30 in Japan: the order day is the 28th there.
	lateUTC := time.Date(2026, 11, 27, 15, 30, 0, 0, time.UTC)
	// 2026-11-27 23:59:59 in Japan: still the 27th.
	beforeMidnight := time.Date(2026, 11, 27, 14, 59, 59, 0, time.UTC)
	type want struct {
		number                               string
		subtotal, discount, shipping, codFee int64
		total                                int64
		tax                                  map[catalog.TaxRate]int64
		reference                            string
		due                                  time.Time
	}
	cases := []struct {
		name string
		in   checkout.Input
		want want
	}{{
		// 3,000 × 2 = 6,000 + ¥800 shipping = 6,800 → COD tier ≤ 10,000: ¥330.
		// Total 7,130, tax inside it at 10%: 7,130 × 10/110 = 648.18 → 648.
		name: "cod below free shipping",
		in: checkout.Input{Settings: settings(), Currency: money.JPY, Method: order.PaymentCOD, Number: 42, Now: lateUTC,
			Lines: []checkout.Line{line(3000, 2, catalog.TaxStandard)}},
		want: want{number: "HT-000042", subtotal: 6000, shipping: 800, codFee: 330, total: 7130, tax: map[catalog.TaxRate]int64{"10": 648}},
	}, {
		// 9,200 + ¥800 shipping = 10,000: the first tier still (≤ 10,000).
		name: "cod fee tier boundary is inclusive",
		in: checkout.Input{Settings: settings(), Currency: money.JPY, Method: order.PaymentCOD, Number: 1, Now: lateUTC,
			Lines: []checkout.Line{line(9200, 1, catalog.TaxStandard)}},
		want: want{number: "HT-000001", subtotal: 9200, shipping: 800, codFee: 330, total: 10330, tax: map[catalog.TaxRate]int64{"10": 939}},
	}, {
		// 12,000 ships free; 12,000 → tier ≤ 30,000: ¥440. 12,440 × 10/110 = 1,130.9 → 1,130.
		name: "cod with free shipping takes the next tier",
		in: checkout.Input{Settings: settings(), Currency: money.JPY, Method: order.PaymentCOD, Number: 7, Now: lateUTC,
			Lines: []checkout.Line{line(4000, 3, catalog.TaxStandard)}},
		want: want{number: "HT-000007", subtotal: 12000, shipping: 0, codFee: 440, total: 12440, tax: map[catalog.TaxRate]int64{"10": 1130}},
	}, {
		// 5,000 × 2 = 10,000 ships free. Tax 10,000 × 10/110 = 909.09 → 909.
		// Ordered on the 28th in Japan: due the 4th of December, 23:59:59 JST.
		// Reference: 0000123 and its Luhn digit (3·2 + 2 + 1·2 = 10 → 0).
		name: "bank transfer",
		in: checkout.Input{Settings: settings(), Currency: money.JPY, Method: order.PaymentBankTransfer, Number: 123, Now: lateUTC,
			Lines: []checkout.Line{line(5000, 2, catalog.TaxStandard)}},
		want: want{number: "HT-000123", subtotal: 10000, total: 10000, tax: map[catalog.TaxRate]int64{"10": 909},
			reference: "00001230", due: time.Date(2026, 12, 4, 14, 59, 59, 0, time.UTC)},
	}, {
		// Ordered on the 27th in Japan (one second before midnight): due the 3rd.
		// Reference 0000987: 7·2=14→5, 8, 9·2=18→9 → 22 → check 8.
		name: "bank transfer just before midnight in Japan",
		in: checkout.Input{Settings: settings(), Currency: money.JPY, Method: order.PaymentBankTransfer, Number: 987, Now: beforeMidnight,
			Lines: []checkout.Line{line(20000, 1, catalog.TaxStandard)}},
		want: want{number: "HT-000987", subtotal: 20000, total: 20000, tax: map[catalog.TaxRate]int64{"10": 1818},
			reference: "00009878", due: time.Date(2026, 12, 3, 14, 59, 59, 0, time.UTC)},
	}, {
		// Two rates and a ¥200 discount on the 10% line: subtotal 3,280
		// (before discounts) < 10,000 → ¥800 shipping at 10%.
		// 8%: 1,080 × 8/108 = 80. 10%: (2,200 − 200 + 800) × 10/110 = 254.5 → 254.
		// Total 3,280 + 800 − 200 = 3,880.
		name: "two tax rates and a discount",
		in: checkout.Input{Settings: settings(), Currency: money.JPY, Method: order.PaymentBankTransfer, Number: 5, Now: lateUTC,
			Lines: []checkout.Line{line(1080, 1, catalog.TaxReduced), discounted(line(2200, 1, catalog.TaxStandard), 200)}},
		want: want{number: "HT-000005", subtotal: 3280, discount: 200, shipping: 800, total: 3880,
			tax: map[catalog.TaxRate]int64{"8": 80, "10": 254}, reference: "00000059", due: time.Date(2026, 12, 4, 14, 59, 59, 0, time.UTC)},
	}, {
		// Only digital lines: no shipping. COD 1,500 → ¥330; 1,830 × 10/110 = 166.36 → 166.
		name: "digital only ships nothing",
		in: checkout.Input{Settings: settings(), Currency: money.JPY, Method: order.PaymentCOD, Number: 9, Now: lateUTC,
			Lines: []checkout.Line{digital(1500, 1)}},
		want: want{number: "HT-000009", subtotal: 1500, codFee: 330, total: 1830, tax: map[catalog.TaxRate]int64{"10": 166}},
	}, {
		// Prices without tax, rounded half up, prefix SHOP: 1,001 + ¥800
		// shipping = 1,801 → COD tier ≤ 10,000: ¥330. Taxable 2,131 at 10%:
		// 213.1 → 213, added: total 2,131 + 213 = 2,344.
		name: "prices without tax",
		in: checkout.Input{Settings: settings(func(s *tenant.Settings) {
			s.Tax = tenant.TaxSettings{PricesIncludeTax: false, Rounding: money.RoundHalfUp}
			s.OrderNumberPrefix = "SHOP"
		}), Currency: money.JPY, Method: order.PaymentCOD, Number: 1234567, Now: lateUTC,
			Lines: []checkout.Line{line(1001, 1, catalog.TaxStandard)}},
		want: want{number: "SHOP-1234567", subtotal: 1001, shipping: 800, codFee: 330, total: 2344, tax: map[catalog.TaxRate]int64{"10": 213}},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := checkout.Decide(c.in)
			require.NoError(t, err)
			require.Equal(t, c.want.number, d.Number)
			require.True(t, yen(c.want.subtotal).Equal(d.Totals.Subtotal), "subtotal %s", d.Totals.Subtotal)
			require.True(t, yen(c.want.discount).Equal(d.Totals.Discount), "discount %s", d.Totals.Discount)
			require.True(t, yen(c.want.shipping).Equal(d.Totals.Shipping), "shipping %s", d.Totals.Shipping)
			require.True(t, yen(c.want.codFee).Equal(d.Totals.CODFee), "cod fee %s", d.Totals.CODFee)
			require.True(t, yen(c.want.total).Equal(d.Totals.Total), "total %s", d.Totals.Total)
			require.Len(t, d.Totals.Tax, len(c.want.tax))
			for _, tl := range d.Totals.Tax {
				require.True(t, yen(c.want.tax[tl.Rate]).Equal(tl.Tax), "tax at %s%%: %s", tl.Rate, tl.Tax)
			}
			require.Equal(t, c.want.reference, d.ReferenceCode)
			if c.want.due.IsZero() {
				require.Nil(t, d.DueAt)
				require.Nil(t, d.Account)
				return
			}
			require.NotNil(t, d.DueAt)
			require.True(t, c.want.due.Equal(*d.DueAt), "due %s", d.DueAt)
			require.Equal(t, *account, *d.Account)
			require.NotSame(t, account, d.Account, "the decision keeps its own copy of the account")
		})
	}
}

// Refusals: each input is refused with its own error.
func TestDecideRefuses(t *testing.T) {
	now := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	ok := checkout.Input{Settings: settings(), Currency: money.JPY, Method: order.PaymentCOD, Number: 1, Now: now,
		Lines: []checkout.Line{line(1000, 1, catalog.TaxStandard)}}
	with := func(f func(*checkout.Input)) checkout.Input {
		in := ok
		f(&in)
		return in
	}
	_, err := checkout.Decide(ok)
	require.NoError(t, err)
	cases := []struct {
		name string
		in   checkout.Input
		err  error
	}{
		{"empty cart", with(func(in *checkout.Input) { in.Lines = nil }), cart.ErrEmpty},
		{"unknown payment method", with(func(in *checkout.Input) { in.Method = "card" }), checkout.ErrPaymentMethod},
		// 310,000 ships free; above the last COD tier (¥300,000).
		{"cod above the last tier", with(func(in *checkout.Input) { in.Lines = []checkout.Line{line(155000, 2, catalog.TaxStandard)} }), tenant.ErrCODUnavailable},
		{"cod in a shop without tiers", with(func(in *checkout.Input) { in.Settings.CODFees = nil }), tenant.ErrCODUnavailable},
		{"bank transfer without an account", with(func(in *checkout.Input) {
			in.Method = order.PaymentBankTransfer
			in.Settings.BankAccount = nil
		}), checkout.ErrNoBankAccount},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := checkout.Decide(c.in)
			require.ErrorIs(t, err, c.err)
		})
	}
	// A line in another currency than the cart's, and no sequence number.
	_, err = checkout.Decide(with(func(in *checkout.Input) {
		in.Lines = []checkout.Line{{Priced: order.Priced{UnitPrice: money.MustNew(decimal.NewFromInt(10), money.USD), Quantity: 1, TaxRate: catalog.TaxStandard}}}
	}))
	require.Error(t, err)
	_, err = checkout.Decide(with(func(in *checkout.Input) { in.Number = 0 }))
	require.Error(t, err)
}

// The cart's totals are checkout's without a payment method: no COD fee.
func TestTotalsWithoutAMethodAddNoFee(t *testing.T) {
	tot, err := checkout.Totals(settings(), money.JPY, []checkout.Line{line(3000, 2, catalog.TaxStandard)}, "")
	require.NoError(t, err)
	require.True(t, yen(6800).Equal(tot.Total))
	require.True(t, yen(0).Equal(tot.CODFee))
}
