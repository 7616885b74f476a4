package vendor_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/aggregate"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/domain/vendor"
)

func dec(s string) *decimal.Decimal { d := decimal.RequireFromString(s); return &d }

func TestCommissionRateSteps(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	v, err := vendor.New(vendor.NewID(), tenant.ID{}, "Uji", *dec("0.1"), vendor.Active, false, t0)
	require.NoError(t, err)
	day := 24 * time.Hour
	from := t0.Add(10 * day)
	require.NoError(t, v.Update(nil, dec("0.15"), &from, nil, t0.Add(day)))
	require.True(t, v.RateAt(t0.Add(5*day)).Equal(decimal.RequireFromString("0.1")))
	require.True(t, v.RateAt(from.Add(-time.Nanosecond)).Equal(decimal.RequireFromString("0.1")))
	require.True(t, v.RateAt(from).Equal(decimal.RequireFromString("0.15")))
	require.True(t, v.RateAt(t0.Add(-day)).Equal(decimal.RequireFromString("0.1")), "before the vendor: its first rate")

	// A later decision dated before the scheduled step replaces it.
	earlier := t0.Add(3 * day)
	require.NoError(t, v.Update(nil, dec("0.12"), &earlier, nil, t0.Add(2*day)))
	rs := v.Rates()
	require.Len(t, rs, 2)
	require.True(t, rs[1].Rate.Equal(decimal.RequireFromString("0.12")))
	require.True(t, v.RateAt(from).Equal(decimal.RequireFromString("0.12")))

	// A name change adds no step; bad dates are refused.
	name := "Uji Tea"
	require.NoError(t, v.Update(&name, nil, nil, nil, t0.Add(2*day)))
	require.Len(t, v.Rates(), 2)
	past := t0
	require.ErrorIs(t, v.Update(nil, dec("0.2"), &past, nil, t0.Add(2*day)), vendor.ErrEffectiveInPast)
	require.ErrorIs(t, v.Update(nil, nil, &from, nil, t0.Add(2*day)), vendor.ErrEffectiveWithoutRate)

	// Replay gives the same history.
	r := vendor.FromHistory(v.Pending())
	require.Equal(t, v.Rates(), r.Rates())
}

// Events written before rates had dates apply a changed rate from the
// event's time.
func TestUndatedRateChangeAppliesFromItsEvent(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	t1 := t0.Add(48 * time.Hour)
	v := vendor.FromHistory([]aggregate.Event{
		vendor.Created{Name: "A", CommissionRate: decimal.RequireFromString("0.1"), Status: vendor.Active, At: t0},
		vendor.Updated{Name: "A", CommissionRate: decimal.RequireFromString("0.1"), Status: vendor.Suspended, At: t0.Add(time.Hour)},
		vendor.Updated{Name: "A", CommissionRate: decimal.RequireFromString("0.08"), Status: vendor.Active, At: t1},
	})
	rs := v.Rates()
	require.Len(t, rs, 2)
	require.Equal(t, t1, rs[1].EffectiveFrom)
	require.True(t, v.RateAt(t1.Add(-time.Second)).Equal(decimal.RequireFromString("0.1")))
	require.True(t, v.RateAt(t1).Equal(decimal.RequireFromString("0.08")))
}

func TestImplicitVendorKeepsZeroCommission(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	v, err := vendor.New(vendor.NewID(), tenant.ID{}, "Shop", decimal.Zero, vendor.Active, true, t0)
	require.NoError(t, err)
	from := t0.Add(time.Hour)
	require.ErrorIs(t, v.Update(nil, dec("0.1"), &from, nil, t0), vendor.ErrImplicitVendor)
	require.True(t, v.RateAt(from).IsZero())
}
