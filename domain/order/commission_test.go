package order_test

import (
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
)

func TestComputeCommission(t *testing.T) {
	t.Parallel()
	jpy := func(s string) money.Money { return money.MustNew(decimal.RequireFromString(s), money.JPY) }
	cases := []struct {
		amount, rate string
		mode         money.Rounding
		net, tax     string
	}{
		{"10000", "0.15", money.RoundFloor, "1500", "150"},
		{"999", "0.1234", money.RoundFloor, "123", "12"},    // 123.2766 → 123; 12.3 → 12
		{"999", "0.1234", money.RoundHalfUp, "123", "12"},   // 12.3 → 12
		{"1005", "0.1", money.RoundHalfUp, "101", "10"},     // 100.5 → 101; 10.1 → 10
		{"1005", "0.1", money.RoundCeil, "101", "11"},       // 100.5 → 101; 10.1 → 11
		{"3000", "0", money.RoundFloor, "0", "0"},           // the implicit vendor
		{"-999", "0.1234", money.RoundFloor, "-123", "-12"}, // a reversal undoes its charge exactly
		{"-1005", "0.1", money.RoundCeil, "-101", "-11"},
	}
	for _, c := range cases {
		got, err := order.ComputeCommission(jpy(c.amount), decimal.RequireFromString(c.rate), c.mode)
		require.NoError(t, err)
		require.True(t, got.Net.Equal(jpy(c.net)), "%s × %s (%s): commission %s", c.amount, c.rate, c.mode, got.Net)
		require.True(t, got.Tax.Equal(jpy(c.tax)), "%s × %s (%s): tax %s", c.amount, c.rate, c.mode, got.Tax)
		sum, err := jpy(c.net).Add(jpy(c.tax))
		require.NoError(t, err)
		require.True(t, got.Total().Equal(sum))
	}
}

func TestFrozenRateFallsBackForOldLines(t *testing.T) {
	t.Parallel()
	r := decimal.RequireFromString("0.12")
	fallback := decimal.RequireFromString("0.1")
	require.True(t, order.Line{CommissionRate: &r}.FrozenRate(fallback).Equal(r))
	require.True(t, order.Line{}.FrozenRate(fallback).Equal(fallback), "a line placed before rates were frozen")
}
