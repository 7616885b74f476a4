package money

import (
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/honten/honten/domain/errs"
)

// Rounding says how an amount with too many decimal places is brought to its
// currency's precision. Rounding happens once, at an explicit step (a tax
// total, a discount), never implicitly in arithmetic.
//
// The zero Rounding rounds like RoundFloor, the Japanese default; any other
// value not listed below makes RoundAmount and Money.Round panic, so parse
// stored or requested modes with ParseRounding.
type Rounding string

// The rounding modes.
const (
	// RoundFloor rounds toward negative infinity (切り捨て): 1.9 → 1,
	// -1.1 → -2. It is the usual choice of Japanese shops for consumption tax.
	RoundFloor Rounding = "floor"
	// RoundHalfUp rounds to the nearest value and ties away from zero
	// (四捨五入): 2.5 → 3, -2.5 → -3, so a refund rounds like its charge.
	RoundHalfUp Rounding = "half_up"
	// RoundCeil rounds toward positive infinity (切り上げ): 1.1 → 2,
	// -1.9 → -1.
	RoundCeil Rounding = "ceil"
)

// ParseRounding parses "floor", "half_up" or "ceil". It returns an Invalid
// *errs.Error for the field "rounding" otherwise (the empty string too).
func ParseRounding(s string) (Rounding, error) {
	return errs.OneOf("rounding", s, []Rounding{RoundFloor, RoundHalfUp, RoundCeil})
}

// String returns the mode's name.
func (r Rounding) String() string { return string(r) }

// MarshalText returns the mode's name. It does not validate r.
func (r Rounding) MarshalText() ([]byte, error) { return []byte(r), nil }

// UnmarshalText parses the mode with ParseRounding and returns its error.
func (r *Rounding) UnmarshalText(b []byte) error {
	v, err := ParseRounding(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// RoundDecimal rounds d to places decimal places with mode. It is exact for
// negative values: RoundDecimal(-0.5, 0, RoundFloor) is -1. It panics on a
// mode other than the three constants and the zero Rounding.
func RoundDecimal(d decimal.Decimal, places int32, mode Rounding) decimal.Decimal {
	switch mode {
	case RoundFloor, "":
		return d.RoundFloor(places)
	case RoundHalfUp:
		// decimal.Round rounds half away from zero.
		return d.Round(places)
	case RoundCeil:
		return d.RoundCeil(places)
	}
	panic(fmt.Sprintf("money: unknown rounding mode %q", string(mode)))
}

// RoundAmount rounds d to the decimal places of currency c with mode, e.g.
// the tax on a price before it becomes Money. It panics like RoundDecimal.
func RoundAmount(d decimal.Decimal, c Currency, mode Rounding) decimal.Decimal {
	return RoundDecimal(d, c.Decimals(), mode)
}

// NewRounded rounds amount to the decimal places of c with mode and returns
// it as Money. It returns New's errors (unknown currency, beyond MaxAmount)
// and panics on an unknown mode like RoundDecimal.
func NewRounded(amount decimal.Decimal, c Currency, mode Rounding) (Money, error) {
	if !c.Valid() {
		return Money{}, errUnknownCurrency
	}
	if err := checkExponent(amount); err != nil {
		return Money{}, err
	}
	return New(RoundAmount(amount, c, mode), c)
}

// Round returns m rounded to its currency's decimal places with mode. Money
// from New already fits its currency, so this only changes amounts built
// from decimals elsewhere; it panics on an unknown mode like RoundDecimal.
func (m Money) Round(mode Rounding) Money {
	return Money{amount: RoundAmount(m.amount, m.currency, mode), currency: m.currency}
}
