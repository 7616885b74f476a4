package money_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/money"
)

func TestParseCurrency(t *testing.T) {
	t.Parallel()

	tests := []struct {
		in       string
		want     money.Currency
		decimals int32
		wantErr  bool
	}{
		{in: "JPY", want: money.JPY, decimals: 0},
		{in: "KRW", want: money.KRW, decimals: 0},
		{in: "USD", want: money.USD, decimals: 2},
		{in: "EUR", want: money.EUR, decimals: 2},
		{in: "GBP", want: money.GBP, decimals: 2},
		{in: "CNY", want: money.CNY, decimals: 2},
		{in: "TWD", want: money.TWD, decimals: 2},
		{in: "", wantErr: true},
		{in: "jpy", wantErr: true},
		{in: "Jpy", wantErr: true},
		{in: " JPY", wantErr: true},
		{in: "JPY ", wantErr: true},
		{in: "JP", wantErr: true},
		{in: "JPYY", wantErr: true},
		{in: "XXX", wantErr: true},
		{in: "ＪＰＹ", wantErr: true},
		{in: "円", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()

			got, err := money.ParseCurrency(tt.in)
			if tt.wantErr {
				requireInvalid(t, err, "currency")
				require.False(t, money.Currency(tt.in).Valid())
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.True(t, got.Valid())
			require.Equal(t, tt.decimals, got.Decimals())
			require.Equal(t, tt.in, got.String())
		})
	}
}

func TestCurrencyDecimalsUnknown(t *testing.T) {
	t.Parallel()

	require.Equal(t, int32(0), money.Currency("").Decimals())
	require.Equal(t, int32(0), money.Currency("XXX").Decimals())
}

func TestCurrencyText(t *testing.T) {
	t.Parallel()

	var v struct {
		C money.Currency `json:"c"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"c":"USD"}`), &v))
	require.Equal(t, money.USD, v.C)

	b, err := json.Marshal(v)
	require.NoError(t, err)
	require.JSONEq(t, `{"c":"USD"}`, string(b))

	err = json.Unmarshal([]byte(`{"c":"usd"}`), &v)
	requireInvalid(t, err, "currency")
}

// requireInvalid checks that err is an Invalid *errs.Error naming field.
func requireInvalid(t *testing.T, err error, field string) {
	t.Helper()

	e, ok := errs.As(err)
	require.True(t, ok, "want *errs.Error, got %T %v", err, err)
	require.Equal(t, errs.KindInvalid, e.Kind, "error %v", err)
	if field == "" {
		return
	}
	names := make([]string, 0, len(e.Fields))
	for _, f := range e.Fields {
		names = append(names, f.Field)
	}
	require.Contains(t, names, field, "error %v", err)
}
