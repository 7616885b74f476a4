package money_test

import (
	"errors"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/money"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func jpy(s string) money.Money { return money.MustNew(d(s), money.JPY) }

func usd(s string) money.Money { return money.MustNew(d(s), money.USD) }

func TestNew(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name      string
		amount    decimal.Decimal
		currency  money.Currency
		want      string // String() of the result
		wantField string // "" means no error
	}{
		{name: "yen", amount: d("1200"), currency: money.JPY, want: "1200 JPY"},
		{name: "yen trailing zero", amount: d("1200.00"), currency: money.JPY, want: "1200 JPY"},
		{name: "yen negative", amount: d("-5"), currency: money.JPY, want: "-5 JPY"},
		{name: "yen zero", amount: decimal.Zero, currency: money.JPY, want: "0 JPY"},
		{name: "zero value decimal", amount: decimal.Decimal{}, currency: money.JPY, want: "0 JPY"},
		{name: "yen fraction", amount: d("1200.5"), currency: money.JPY, wantField: "amount"},
		{name: "yen tiny fraction", amount: d("0.0000001"), currency: money.JPY, wantField: "amount"},
		{name: "won fraction", amount: d("1.1"), currency: money.KRW, wantField: "amount"},
		{name: "dollars", amount: d("12.5"), currency: money.USD, want: "12.50 USD"},
		{name: "cents", amount: d("0.01"), currency: money.USD, want: "0.01 USD"},
		{name: "dollars three places", amount: d("12.345"), currency: money.USD, wantField: "amount"},
		{name: "dollars three places zero", amount: d("12.340"), currency: money.USD, want: "12.34 USD"},
		{name: "max", amount: decimal.NewFromInt(money.MaxAmount), currency: money.JPY, want: "999999999999 JPY"},
		{name: "min", amount: decimal.NewFromInt(-money.MaxAmount), currency: money.JPY, want: "-999999999999 JPY"},
		{name: "max cents", amount: d("999999999999.00"), currency: money.USD, want: "999999999999.00 USD"},
		{name: "over max", amount: decimal.NewFromInt(money.MaxAmount + 1), currency: money.JPY, wantField: "amount"},
		{name: "under min", amount: decimal.NewFromInt(-money.MaxAmount - 1), currency: money.JPY, wantField: "amount"},
		{name: "over max by a cent", amount: d("999999999999.01"), currency: money.USD, wantField: "amount"},
		{name: "huge exponent", amount: decimal.New(1, 1<<30), currency: money.JPY, wantField: "amount"},
		{name: "zero with huge exponent", amount: decimal.New(0, 1<<30), currency: money.JPY, want: "0 JPY"},
		{name: "zero with tiny exponent", amount: decimal.New(0, -1<<30), currency: money.JPY, want: "0 JPY"},
		{name: "tiny exponent", amount: decimal.New(5, -1<<30), currency: money.JPY, wantField: "amount"},
		{name: "many trailing zeros", amount: decimal.RequireFromString("1.000000000000000000000000000000"), currency: money.JPY, want: "1 JPY"},
		{name: "no currency", amount: d("1"), currency: "", wantField: "currency"},
		{name: "unknown currency", amount: d("1"), currency: "XXX", wantField: "currency"},
		{name: "lower-case currency", amount: d("1"), currency: "jpy", wantField: "currency"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			m, err := money.New(tt.amount, tt.currency)
			if tt.wantField != "" {
				requireInvalid(t, err, tt.wantField)
				require.Equal(t, money.Money{}, m)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, m.String())
			require.Equal(t, tt.currency, m.Currency())
			require.True(t, m.Amount().Equal(tt.amount))
		})
	}
}

func TestMustNewPanics(t *testing.T) {
	t.Parallel()

	require.Panics(t, func() { money.MustNew(d("1.5"), money.JPY) })
	require.NotPanics(t, func() { money.MustNew(d("1.5"), money.USD) })
}

func TestParse(t *testing.T) {
	t.Parallel()

	tests := []struct {
		in        string
		currency  money.Currency
		want      string
		wantField string
	}{
		{in: "1200", currency: money.JPY, want: "1200 JPY"},
		{in: "0", currency: money.JPY, want: "0 JPY"},
		{in: "-0", currency: money.JPY, want: "0 JPY"},
		{in: "-1200", currency: money.JPY, want: "-1200 JPY"},
		{in: "001200", currency: money.JPY, want: "1200 JPY"},
		{in: "1200.0", currency: money.JPY, want: "1200 JPY"},
		{in: "12.5", currency: money.USD, want: "12.50 USD"},
		{in: "12.50", currency: money.USD, want: "12.50 USD"},
		{in: "999999999999", currency: money.JPY, want: "999999999999 JPY"},
		{in: "1200.5", currency: money.JPY, wantField: "amount"},
		{in: "12.505", currency: money.USD, wantField: "amount"},
		{in: "1000000000000", currency: money.JPY, wantField: "amount"},
		{in: "", currency: money.JPY, wantField: "amount"},
		{in: " 1", currency: money.JPY, wantField: "amount"},
		{in: "1 ", currency: money.JPY, wantField: "amount"},
		{in: "+1", currency: money.JPY, wantField: "amount"},
		{in: "--1", currency: money.JPY, wantField: "amount"},
		{in: "-", currency: money.JPY, wantField: "amount"},
		{in: "1e3", currency: money.JPY, wantField: "amount"},
		{in: "1E3", currency: money.JPY, wantField: "amount"},
		{in: "NaN", currency: money.JPY, wantField: "amount"},
		{in: "Infinity", currency: money.JPY, wantField: "amount"},
		{in: "1,200", currency: money.JPY, wantField: "amount"},
		{in: "1_200", currency: money.JPY, wantField: "amount"},
		{in: ".5", currency: money.USD, wantField: "amount"},
		{in: "5.", currency: money.USD, wantField: "amount"},
		{in: "1.2.3", currency: money.USD, wantField: "amount"},
		{in: "0x10", currency: money.JPY, wantField: "amount"},
		{in: "１２００", currency: money.JPY, wantField: "amount"},
		{in: "\u22121", currency: money.JPY, wantField: "amount"},
		{in: "¥1200", currency: money.JPY, wantField: "amount"},
		{in: "0000000000000000000000000000000000000000000000000000000000000001", currency: money.JPY, want: "1 JPY"},
		{in: "00000000000000000000000000000000000000000000000000000000000000001", currency: money.JPY, wantField: "amount"},
		{in: "1", currency: "XXX", wantField: "currency"},
		{in: "1", currency: "", wantField: "currency"},
	}
	for _, tt := range tests {
		t.Run(tt.in+"/"+string(tt.currency), func(t *testing.T) {
			t.Parallel()

			m, err := money.Parse(tt.in, tt.currency)
			if tt.wantField != "" {
				requireInvalid(t, err, tt.wantField)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, m.String())
		})
	}
}

func TestZero(t *testing.T) {
	t.Parallel()

	z := money.Zero(money.JPY)
	require.True(t, z.IsZero())
	require.False(t, z.IsNegative())
	require.False(t, z.IsPositive())
	require.Equal(t, money.JPY, z.Currency())
	require.Equal(t, "0 JPY", z.String())
	require.True(t, z.Equal(jpy("0")))
	require.False(t, z.Equal(money.Zero(money.USD)))
	require.False(t, z.Equal(money.Money{}))

	require.Panics(t, func() { money.Zero("XXX") })
	require.Panics(t, func() { money.Zero("") })
}

func TestZeroValue(t *testing.T) {
	t.Parallel()

	var m money.Money
	require.True(t, m.IsZero())
	require.Equal(t, money.Currency(""), m.Currency())
	require.Equal(t, "0", m.String())
	require.True(t, m.Equal(money.Money{}))
}

func TestSignPredicates(t *testing.T) {
	t.Parallel()

	tests := []struct {
		m              money.Money
		zero, neg, pos bool
		neg1           string
	}{
		{m: jpy("5"), pos: true, neg1: "-5 JPY"},
		{m: jpy("-5"), neg: true, neg1: "5 JPY"},
		{m: jpy("0"), zero: true, neg1: "0 JPY"},
		{m: usd("-0.01"), neg: true, neg1: "0.01 USD"},
	}
	for _, tt := range tests {
		t.Run(tt.m.String(), func(t *testing.T) {
			t.Parallel()

			require.Equal(t, tt.zero, tt.m.IsZero())
			require.Equal(t, tt.neg, tt.m.IsNegative())
			require.Equal(t, tt.pos, tt.m.IsPositive())
			require.Equal(t, tt.neg1, tt.m.Neg().String())
			require.True(t, tt.m.Neg().Neg().Equal(tt.m))
		})
	}
}

func TestAddSub(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		a, b     money.Money
		sum, dif string
	}{
		{name: "yen", a: jpy("1200"), b: jpy("300"), sum: "1500 JPY", dif: "900 JPY"},
		{name: "yen negative result", a: jpy("100"), b: jpy("300"), sum: "400 JPY", dif: "-200 JPY"},
		{name: "dollars", a: usd("0.10"), b: usd("0.20"), sum: "0.30 USD", dif: "-0.10 USD"},
		{name: "zero", a: jpy("0"), b: jpy("0"), sum: "0 JPY", dif: "0 JPY"},
		{name: "at max", a: jpy("999999999998"), b: jpy("1"), sum: "999999999999 JPY", dif: "999999999997 JPY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			sum, err := tt.a.Add(tt.b)
			require.NoError(t, err)
			require.Equal(t, tt.sum, sum.String())

			dif, err := tt.a.Sub(tt.b)
			require.NoError(t, err)
			require.Equal(t, tt.dif, dif.String())
		})
	}
}

func TestAddSubOutOfRange(t *testing.T) {
	t.Parallel()

	max := jpy("999999999999")
	_, err := max.Add(jpy("1"))
	require.ErrorIs(t, err, money.ErrOutOfRange)
	require.Equal(t, errs.KindInvalid, errs.KindOf(err))

	_, err = max.Neg().Sub(jpy("1"))
	require.ErrorIs(t, err, money.ErrOutOfRange)
}

func TestCurrencyMismatch(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		a, b money.Money
	}{
		{name: "yen and dollars", a: jpy("1"), b: usd("1")},
		{name: "zero yen and zero dollars", a: money.Zero(money.JPY), b: money.Zero(money.USD)},
		{name: "yen and zero value", a: jpy("1"), b: money.Money{}},
		{name: "zero value and yen", a: money.Money{}, b: jpy("1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			_, err := tt.a.Add(tt.b)
			requireMismatch(t, err)
			_, err = tt.a.Sub(tt.b)
			requireMismatch(t, err)
			_, err = tt.a.Cmp(tt.b)
			requireMismatch(t, err)
			require.False(t, tt.a.Equal(tt.b))
		})
	}
}

func requireMismatch(t *testing.T, err error) {
	t.Helper()

	require.ErrorIs(t, err, money.ErrCurrencyMismatch)
	e, ok := errs.As(err)
	require.True(t, ok)
	require.Equal(t, errs.KindInvalid, e.Kind)
	require.Equal(t, "currency_mismatch", e.Code)
	require.False(t, errors.Is(err, money.ErrOutOfRange))
}

func TestCmpEqual(t *testing.T) {
	t.Parallel()

	tests := []struct {
		a, b  money.Money
		cmp   int
		equal bool
	}{
		{a: jpy("1"), b: jpy("2"), cmp: -1},
		{a: jpy("2"), b: jpy("1"), cmp: 1},
		{a: jpy("2"), b: jpy("2"), cmp: 0, equal: true},
		{a: jpy("2"), b: jpy("2.00"), cmp: 0, equal: true},
		{a: jpy("-3"), b: jpy("2"), cmp: -1},
		{a: usd("1.5"), b: usd("1.50"), cmp: 0, equal: true},
		{a: usd("0.01"), b: usd("0.02"), cmp: -1},
	}
	for _, tt := range tests {
		t.Run(tt.a.String()+" vs "+tt.b.String(), func(t *testing.T) {
			t.Parallel()

			c, err := tt.a.Cmp(tt.b)
			require.NoError(t, err)
			require.Equal(t, tt.cmp, c)
			require.Equal(t, tt.equal, tt.a.Equal(tt.b))
			require.Equal(t, tt.equal, tt.b.Equal(tt.a))
		})
	}
}

func TestMul(t *testing.T) {
	t.Parallel()

	tests := []struct {
		m       money.Money
		qty     int64
		want    string
		inRange bool
	}{
		{m: jpy("1200"), qty: 3, want: "3600 JPY", inRange: true},
		{m: jpy("1200"), qty: 0, want: "0 JPY", inRange: true},
		{m: jpy("1200"), qty: -2, want: "-2400 JPY", inRange: true},
		{m: usd("0.99"), qty: 3, want: "2.97 USD", inRange: true},
		{m: jpy("999999999999"), qty: 2, want: "1999999999998 JPY", inRange: false},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()

			got := tt.m.Mul(tt.qty)
			require.Equal(t, tt.want, got.String())
			require.Equal(t, tt.m.Currency(), got.Currency())
			require.Equal(t, tt.inRange, got.InRange())
		})
	}
}

func TestSum(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name      string
		currency  money.Currency
		ms        []money.Money
		want      string
		wantErrIs error
		wantField string
	}{
		{name: "none", currency: money.JPY, want: "0 JPY"},
		{name: "one", currency: money.JPY, ms: []money.Money{jpy("5")}, want: "5 JPY"},
		{name: "many", currency: money.JPY, ms: []money.Money{jpy("5"), jpy("-2"), jpy("1000")}, want: "1003 JPY"},
		{name: "dollars", currency: money.USD, ms: []money.Money{usd("0.1"), usd("0.2")}, want: "0.30 USD"},
		{name: "mismatch", currency: money.JPY, ms: []money.Money{jpy("5"), usd("1")}, wantErrIs: money.ErrCurrencyMismatch},
		{name: "wrong sum currency", currency: money.USD, ms: []money.Money{jpy("5")}, wantErrIs: money.ErrCurrencyMismatch},
		{name: "zero value element", currency: money.JPY, ms: []money.Money{{}}, wantErrIs: money.ErrCurrencyMismatch},
		{name: "overflow", currency: money.JPY, ms: []money.Money{jpy("999999999999"), jpy("1")}, wantErrIs: money.ErrOutOfRange},
		{name: "bad currency", currency: "XXX", wantField: "currency"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := money.Sum(tt.currency, tt.ms...)
			switch {
			case tt.wantErrIs != nil:
				require.ErrorIs(t, err, tt.wantErrIs)
			case tt.wantField != "":
				requireInvalid(t, err, tt.wantField)
			default:
				require.NoError(t, err)
				require.Equal(t, tt.want, got.String())
			}
		})
	}
}

func TestAmountString(t *testing.T) {
	t.Parallel()

	require.Equal(t, "1200", jpy("1200").AmountString())
	require.Equal(t, "12.50", usd("12.5").AmountString())
	require.Equal(t, "-0.05", usd("-0.05").AmountString())
	require.Equal(t, "0", money.Money{}.AmountString())
}
