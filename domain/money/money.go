package money

import (
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/honten/honten/domain/errs"
)

// MaxAmount is the largest absolute amount a Money may hold, in major units
// (999,999,999,999 yen). Larger amounts are invalid: no order, payment or
// price in a shop comes near it, so reaching it means a bug or an attack.
const MaxAmount = 999_999_999_999

// maxParseLen bounds the input of Parse. The longest canonical amount is
// "-999999999999.99" (16 bytes); the slack allows leading and trailing zeros.
const maxParseLen = 64

var maxAmount = decimal.NewFromInt(MaxAmount)

// ErrCurrencyMismatch is returned (matched with errors.Is) when two amounts in
// different currencies are combined or compared.
var ErrCurrencyMismatch = errs.New(errs.KindInvalid, "currency_mismatch", "currencies do not match")

// ErrOutOfRange is returned (matched with errors.Is) when arithmetic would
// produce an amount whose absolute value exceeds MaxAmount.
var ErrOutOfRange = errs.New(errs.KindInvalid, "amount_out_of_range",
	fmt.Sprintf("amount must not exceed %d in absolute value", MaxAmount))

// Money is an amount in one currency. Its fields are unexported so every
// Money comes from New, Parse, Zero or arithmetic on other Money values.
//
// The zero Money has no currency: it is "no amount", marshals to JSON null
// and only equals another zero Money.
type Money struct {
	amount   decimal.Decimal
	currency Currency
}

// New returns amount in currency c. It returns an Invalid *errs.Error for the
// field "currency" when c is not an accepted currency, and for the field
// "amount" when amount has more decimal places than c allows (1200.5 JPY) or
// its absolute value exceeds MaxAmount. Trailing zeros do not count as
// decimal places: 1200.00 JPY is 1200 JPY.
func New(amount decimal.Decimal, c Currency) (Money, error) {
	if !c.Valid() {
		return Money{}, errUnknownCurrency
	}
	if err := checkExponent(amount); err != nil {
		return Money{}, err
	}
	if amount.IsZero() {
		amount = decimal.Zero
	}
	dec := c.Decimals()
	t := amount.Truncate(dec)
	if !t.Equal(amount) {
		return Money{}, errs.Field("amount", fmt.Sprintf("must have at most %d decimal places for %s", dec, c))
	}
	if t.Abs().Cmp(maxAmount) > 0 {
		return Money{}, errs.Field("amount", ErrOutOfRange.Message)
	}
	return Money{amount: t, currency: c}, nil
}

// MustNew is New for constants and tests: it panics on any error.
func MustNew(amount decimal.Decimal, c Currency) Money {
	m, err := New(amount, c)
	if err != nil {
		panic(fmt.Sprintf("money.MustNew(%s, %s): %v", amount, c, err))
	}
	return m
}

// Parse parses a plain decimal string ("1200", "-3", "12.50") as an amount in
// currency c. Only an optional '-', digits and an optional '.' followed by
// digits are accepted: no '+', exponent ("1e3"), spaces, thousands
// separators, "NaN" or empty string. It returns an Invalid *errs.Error for
// the field "amount" (or "currency") otherwise, and New's errors.
func Parse(amount string, c Currency) (Money, error) {
	if !validDecimal(amount) {
		return Money{}, errs.Field("amount", "must be a decimal number such as \"1200\" or \"12.50\"")
	}
	if !c.Valid() {
		return Money{}, errUnknownCurrency
	}
	d, err := decimal.NewFromString(amount)
	if err != nil {
		// Unreachable after validDecimal; keep the error classified anyway.
		return Money{}, errs.Field("amount", "must be a decimal number such as \"1200\" or \"12.50\"")
	}
	return New(d, c)
}

// validDecimal reports whether s matches -?[0-9]+(\.[0-9]+)? and is at most
// maxParseLen bytes long.
func validDecimal(s string) bool {
	if len(s) == 0 || len(s) > maxParseLen {
		return false
	}
	i := 0
	if s[0] == '-' {
		i++
	}
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == start {
		return false
	}
	if i == len(s) {
		return true
	}
	if s[i] != '.' {
		return false
	}
	i++
	start = i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i > start && i == len(s)
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

// Zero returns a zero amount in currency c. It panics when c is not an
// accepted currency: parse untrusted codes with ParseCurrency first.
func Zero(c Currency) Money {
	if !c.Valid() {
		panic(fmt.Sprintf("money.Zero: unknown currency %q", string(c)))
	}
	return Money{amount: decimal.Zero, currency: c}
}

// Amount returns the amount in major units (yen, dollars).
func (m Money) Amount() decimal.Decimal { return m.amount }

// AmountString returns the amount with exactly the currency's decimal places:
// "1200" for JPY, "12.50" for USD. It is the form used in JSON.
func (m Money) AmountString() string { return m.amount.StringFixed(m.currency.Decimals()) }

// Currency returns the currency, or "" for the zero Money.
func (m Money) Currency() Currency { return m.currency }

// IsZero reports whether the amount is zero, in any currency; the zero Money
// is zero too. Note that encoding/json's omitzero option calls IsZero, so it
// omits a Zero(JPY) as well as the zero Money.
func (m Money) IsZero() bool { return m.amount.IsZero() }

// IsNegative reports whether the amount is below zero.
func (m Money) IsNegative() bool { return m.amount.IsNegative() }

// IsPositive reports whether the amount is above zero.
func (m Money) IsPositive() bool { return m.amount.IsPositive() }

// Neg returns the amount with its sign flipped, in the same currency.
func (m Money) Neg() Money { return Money{amount: m.amount.Neg(), currency: m.currency} }

// Cmp compares m and o: -1 if m < o, 0 if equal, +1 if m > o. It returns
// ErrCurrencyMismatch when the currencies differ.
func (m Money) Cmp(o Money) (int, error) {
	if m.currency != o.currency {
		return 0, mismatch(m.currency, o.currency)
	}
	return m.amount.Cmp(o.amount), nil
}

// Equal reports whether m and o have the same currency and the same amount.
// 1200 JPY equals 1200.0 JPY; 0 JPY does not equal 0 USD or the zero Money.
func (m Money) Equal(o Money) bool {
	return m.currency == o.currency && m.amount.Equal(o.amount)
}

// Add returns m + o. It returns ErrCurrencyMismatch when the currencies
// differ and ErrOutOfRange when the sum exceeds MaxAmount.
func (m Money) Add(o Money) (Money, error) {
	if m.currency != o.currency {
		return Money{}, mismatch(m.currency, o.currency)
	}
	return checked(m.amount.Add(o.amount), m.currency)
}

// Sub returns m - o. It returns ErrCurrencyMismatch when the currencies
// differ and ErrOutOfRange when the difference exceeds MaxAmount.
func (m Money) Sub(o Money) (Money, error) {
	if m.currency != o.currency {
		return Money{}, mismatch(m.currency, o.currency)
	}
	return checked(m.amount.Sub(o.amount), m.currency)
}

// Mul returns m × qty, for line totals. It does not check MaxAmount (a price
// times a large quantity can exceed it); callers that store the result check
// it with InRange.
func (m Money) Mul(qty int64) Money {
	return Money{amount: m.amount.Mul(decimal.NewFromInt(qty)), currency: m.currency}
}

// InRange reports whether the absolute amount is at most MaxAmount. Every
// Money except a result of Mul is in range.
func (m Money) InRange() bool { return m.amount.Abs().Cmp(maxAmount) <= 0 }

// Sum returns the total of ms in currency c; with no ms it is Zero(c). It
// returns an Invalid *errs.Error for the field "currency" when c is not
// accepted, ErrCurrencyMismatch when any element is in another currency and
// ErrOutOfRange when a partial sum exceeds MaxAmount.
func Sum(c Currency, ms ...Money) (Money, error) {
	if !c.Valid() {
		return Money{}, errUnknownCurrency
	}
	total := Zero(c)
	for _, m := range ms {
		var err error
		if total, err = total.Add(m); err != nil {
			return Money{}, err
		}
	}
	return total, nil
}

// String returns the amount with the currency's decimal places and the code:
// "1200 JPY", "12.50 USD". The zero Money is "0".
func (m Money) String() string {
	if m.currency == "" {
		return m.AmountString()
	}
	return m.AmountString() + " " + string(m.currency)
}

// checkExponent rejects amounts whose exponent alone makes them invalid
// before any rescaling: rescaling 1×10^(2^30) would allocate gigabytes. A
// non-zero value with an exponent above 12 is at least 10^13; one below
// -maxExponent would need that many trailing zeros to fit any currency.
func checkExponent(amount decimal.Decimal) error {
	const maxExponent = 1000
	if amount.IsZero() {
		return nil
	}
	if e := amount.Exponent(); e > 12 {
		return errs.Field("amount", ErrOutOfRange.Message)
	} else if e < -maxExponent {
		return errs.Field("amount", "has too many decimal places")
	}
	return nil
}

func checked(d decimal.Decimal, c Currency) (Money, error) {
	if d.Abs().Cmp(maxAmount) > 0 {
		return Money{}, ErrOutOfRange
	}
	return Money{amount: d, currency: c}, nil
}

func mismatch(a, b Currency) error {
	return errs.New(errs.KindInvalid, ErrCurrencyMismatch.Code,
		fmt.Sprintf("currencies do not match: %q and %q", string(a), string(b)))
}
