package money_test

import (
	"encoding/json"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/money"
)

func TestParseRounding(t *testing.T) {
	t.Parallel()

	tests := []struct {
		in      string
		want    money.Rounding
		wantErr bool
	}{
		{in: "floor", want: money.RoundFloor},
		{in: "half_up", want: money.RoundHalfUp},
		{in: "ceil", want: money.RoundCeil},
		{in: "", wantErr: true},
		{in: "Floor", wantErr: true},
		{in: "half-up", wantErr: true},
		{in: "bankers", wantErr: true},
		{in: "切り捨て", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()

			got, err := money.ParseRounding(tt.in)
			if tt.wantErr {
				requireInvalid(t, err, "rounding")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.in, got.String())
		})
	}
}

func TestRoundDecimal(t *testing.T) {
	t.Parallel()

	tests := []struct {
		in                  string
		places              int32
		floor, halfUp, ceil string
	}{
		{in: "0", places: 0, floor: "0", halfUp: "0", ceil: "0"},
		{in: "1", places: 0, floor: "1", halfUp: "1", ceil: "1"},
		{in: "1.4", places: 0, floor: "1", halfUp: "1", ceil: "2"},
		{in: "1.5", places: 0, floor: "1", halfUp: "2", ceil: "2"},
		{in: "1.6", places: 0, floor: "1", halfUp: "2", ceil: "2"},
		{in: "2.5", places: 0, floor: "2", halfUp: "3", ceil: "3"},
		{in: "0.5", places: 0, floor: "0", halfUp: "1", ceil: "1"},
		{in: "0.49999", places: 0, floor: "0", halfUp: "0", ceil: "1"},
		{in: "-0.5", places: 0, floor: "-1", halfUp: "-1", ceil: "0"},
		{in: "-0.4", places: 0, floor: "-1", halfUp: "0", ceil: "0"},
		{in: "-1.5", places: 0, floor: "-2", halfUp: "-2", ceil: "-1"},
		{in: "-2.5", places: 0, floor: "-3", halfUp: "-3", ceil: "-2"},
		{in: "-1.1", places: 0, floor: "-2", halfUp: "-1", ceil: "-1"},
		{in: "-1.9", places: 0, floor: "-2", halfUp: "-2", ceil: "-1"},
		{in: "-3", places: 0, floor: "-3", halfUp: "-3", ceil: "-3"},
		// 8% tax on 1,234 yen and 10% tax on 999 yen.
		{in: "98.72", places: 0, floor: "98", halfUp: "99", ceil: "99"},
		{in: "99.9", places: 0, floor: "99", halfUp: "100", ceil: "100"},
		{in: "1.005", places: 2, floor: "1", halfUp: "1.01", ceil: "1.01"},
		{in: "1.004", places: 2, floor: "1", halfUp: "1", ceil: "1.01"},
		{in: "-1.005", places: 2, floor: "-1.01", halfUp: "-1.01", ceil: "-1"},
		{in: "12.34", places: 2, floor: "12.34", halfUp: "12.34", ceil: "12.34"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()

			in := decimal.RequireFromString(tt.in)
			for mode, want := range map[money.Rounding]string{
				money.RoundFloor:  tt.floor,
				money.RoundHalfUp: tt.halfUp,
				money.RoundCeil:   tt.ceil,
				"":                tt.floor,
			} {
				got := money.RoundDecimal(in, tt.places, mode)
				require.True(t, got.Equal(decimal.RequireFromString(want)),
					"%s %s: got %s want %s", tt.in, mode, got, want)
			}
		})
	}
}

func TestRoundDecimalUnknownModePanics(t *testing.T) {
	t.Parallel()

	require.Panics(t, func() { money.RoundDecimal(decimal.NewFromInt(1), 0, "bankers") })
}

func TestRoundAmount(t *testing.T) {
	t.Parallel()

	tests := []struct {
		in       string
		currency money.Currency
		mode     money.Rounding
		want     string
	}{
		{in: "98.72", currency: money.JPY, mode: money.RoundFloor, want: "98"},
		{in: "98.72", currency: money.JPY, mode: money.RoundHalfUp, want: "99"},
		{in: "98.72", currency: money.USD, mode: money.RoundFloor, want: "98.72"},
		{in: "98.725", currency: money.USD, mode: money.RoundHalfUp, want: "98.73"},
		{in: "-98.725", currency: money.USD, mode: money.RoundFloor, want: "-98.73"},
		{in: "-98.725", currency: money.USD, mode: money.RoundCeil, want: "-98.72"},
		{in: "-0.5", currency: money.KRW, mode: money.RoundFloor, want: "-1"},
	}
	for _, tt := range tests {
		t.Run(tt.in+string(tt.currency)+string(tt.mode), func(t *testing.T) {
			t.Parallel()

			got := money.RoundAmount(decimal.RequireFromString(tt.in), tt.currency, tt.mode)
			require.Equal(t, tt.want, got.String())

			m, err := money.NewRounded(decimal.RequireFromString(tt.in), tt.currency, tt.mode)
			require.NoError(t, err)
			require.Equal(t, tt.want, m.Amount().String())
			require.Equal(t, m, m.Round(tt.mode))
		})
	}
}

func TestNewRoundedErrors(t *testing.T) {
	t.Parallel()

	_, err := money.NewRounded(decimal.RequireFromString("1.5"), "XXX", money.RoundFloor)
	requireInvalid(t, err, "currency")

	_, err = money.NewRounded(decimal.RequireFromString("999999999999.5"), money.JPY, money.RoundHalfUp)
	requireInvalid(t, err, "amount")

	_, err = money.NewRounded(decimal.New(1, 1<<30), money.JPY, money.RoundHalfUp)
	requireInvalid(t, err, "amount")

	m, err := money.NewRounded(decimal.RequireFromString("999999999999.5"), money.JPY, money.RoundFloor)
	require.NoError(t, err)
	require.Equal(t, "999999999999 JPY", m.String())
}

func TestRoundingText(t *testing.T) {
	t.Parallel()

	var v struct {
		R money.Rounding `json:"r"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"r":"half_up"}`), &v))
	require.Equal(t, money.RoundHalfUp, v.R)

	b, err := json.Marshal(v)
	require.NoError(t, err)
	require.JSONEq(t, `{"r":"half_up"}`, string(b))

	requireInvalid(t, json.Unmarshal([]byte(`{"r":"down"}`), &v), "rounding")
}
