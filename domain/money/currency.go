package money

import (
	"github.com/honten/honten/domain/errs"
)

// Currency is an ISO 4217 alphabetic currency code such as "JPY". Only the
// codes listed below are accepted by ParseCurrency; the zero Currency means
// "no currency" and belongs only to the zero Money.
type Currency string

// The currencies Honten accepts.
const (
	JPY Currency = "JPY" // Japanese yen, 0 minor digits
	USD Currency = "USD" // US dollar, 2 minor digits
	EUR Currency = "EUR" // euro, 2 minor digits
	GBP Currency = "GBP" // pound sterling, 2 minor digits
	CNY Currency = "CNY" // renminbi yuan, 2 minor digits
	KRW Currency = "KRW" // South Korean won, 0 minor digits
	TWD Currency = "TWD" // New Taiwan dollar, 2 minor digits (ISO 4217)
)

// minorUnits holds the ISO 4217 minor units of each accepted currency.
var minorUnits = map[Currency]int32{
	JPY: 0,
	KRW: 0,
	USD: 2,
	EUR: 2,
	GBP: 2,
	CNY: 2,
	TWD: 2,
}

const currencyList = "CNY, EUR, GBP, JPY, KRW, TWD, USD"

// errUnknownCurrency is the Invalid error of a currency not accepted.
var errUnknownCurrency = errs.Field("currency", "must be one of: "+currencyList)

// ParseCurrency parses an ISO 4217 code: exactly three upper-case letters
// naming one of the accepted currencies. It returns an Invalid *errs.Error
// for the field "currency" otherwise (lower case is rejected, not folded).
func ParseCurrency(s string) (Currency, error) {
	c := Currency(s)
	if _, ok := minorUnits[c]; !ok {
		return "", errUnknownCurrency
	}
	return c, nil
}

// Valid reports whether c is one of the accepted currencies.
func (c Currency) Valid() bool {
	_, ok := minorUnits[c]
	return ok
}

// Decimals returns the ISO 4217 minor units of c: 0 for JPY and KRW, 2 for
// USD, EUR, GBP, CNY and TWD. It returns 0 for an unknown or zero Currency.
func (c Currency) Decimals() int32 { return minorUnits[c] }

// String returns the code, e.g. "JPY".
func (c Currency) String() string { return string(c) }

// MarshalText returns the code. It does not validate c.
func (c Currency) MarshalText() ([]byte, error) { return []byte(c), nil }

// UnmarshalText parses the code with ParseCurrency and returns its error.
func (c *Currency) UnmarshalText(b []byte) error {
	v, err := ParseCurrency(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}
