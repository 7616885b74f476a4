package money_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/money"
)

func FuzzParseCurrency(f *testing.F) {
	for _, s := range []string{"JPY", "USD", "jpy", "", "XXX", "ＪＰＹ", "JPYY", "\x00PY"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := money.ParseCurrency(s)
		if err != nil {
			require.Equal(t, errs.KindInvalid, errs.KindOf(err))
			_, ok := errs.As(err)
			require.True(t, ok)
			return
		}
		require.True(t, c.Valid())
		again, err := money.ParseCurrency(c.String())
		require.NoError(t, err)
		require.Equal(t, c, again)
	})
}

func FuzzParseMoney(f *testing.F) {
	for _, s := range []struct{ amount, currency string }{
		{"1200", "JPY"}, {"-1200", "JPY"}, {"12.50", "USD"}, {"1200.5", "JPY"}, {"1e3", "JPY"},
		{"+1", "JPY"}, {"NaN", "USD"}, {"", "JPY"}, {" 1", "JPY"}, {"999999999999", "KRW"},
		{"1000000000000", "JPY"}, {"0.001", "EUR"}, {"00.10", "GBP"}, {"1", "xxx"},
	} {
		f.Add(s.amount, s.currency)
	}
	f.Fuzz(func(t *testing.T, amount, currency string) {
		m, err := money.Parse(amount, money.Currency(currency))
		if err != nil {
			e, ok := errs.As(err)
			require.True(t, ok, "want *errs.Error, got %T", err)
			require.Equal(t, errs.KindInvalid, e.Kind)
			return
		}
		require.True(t, m.InRange())
		again, err := money.Parse(m.AmountString(), m.Currency())
		require.NoError(t, err)
		require.True(t, again.Equal(m))
		require.Equal(t, m.AmountString(), again.AmountString())
	})
}

func FuzzParseMoneyJSON(f *testing.F) {
	for _, s := range []string{
		`{"amount":"1200","currency":"JPY"}`,
		`{"amount":"12.5","currency":"USD"}`,
		`{"amount":1200,"currency":"JPY"}`,
		`{"amount":"1","currency":"JPY","x":1}`,
		`{"amount":"1e3","currency":"JPY"}`,
		`{"amount":"1","currency":"jpy"}`,
		`{"amount":"\u0031","currency":"\u004aPY"}`,
		`{"amount":"1","amount":"2","currency":"JPY"}`,
		`null`, `{}`, `[]`, `"1200"`, ``, `{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var m money.Money
		err := m.UnmarshalJSON(data)
		if err != nil {
			e, ok := errs.As(err)
			require.True(t, ok, "want *errs.Error, got %T", err)
			require.Equal(t, errs.KindInvalid, e.Kind)
			return
		}
		b, err := json.Marshal(m)
		require.NoError(t, err)
		var again money.Money
		require.NoError(t, json.Unmarshal(b, &again))
		require.True(t, again.Equal(m))
	})
}

func FuzzParseRounding(f *testing.F) {
	for _, s := range []string{"floor", "half_up", "ceil", "", "FLOOR"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := money.ParseRounding(s)
		if err != nil {
			require.Equal(t, errs.KindInvalid, errs.KindOf(err))
			return
		}
		again, err := money.ParseRounding(r.String())
		require.NoError(t, err)
		require.Equal(t, r, again)
	})
}
