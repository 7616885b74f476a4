package zengin_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/internal/zengin"
)

func jst(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, zengin.JST)
}

func TestParseWareki(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 12, 5, 3, 0, 0, 0, time.UTC) // 12:00 JST
	cases := []struct {
		in      string
		now     time.Time
		want    time.Time
		wantErr error
	}{
		{in: "071201", want: jst(2025, 12, 1)},                         // 令和7
		{in: "071205", want: jst(2025, 12, 5)},                         // today
		{in: "071206", want: jst(1995, 12, 6)},                         // 令和7-12-06 is tomorrow: 平成7
		{in: "010501", want: jst(2019, 5, 1)},                          // 令和元年 first day
		{in: "010430", want: jst(1989, 4, 30)},                         // 令和01-04-30 does not exist (2019-04-30 is 平成31-04-30): 平成01
		{in: "010430", now: jst(1989, 4, 29), wantErr: zengin.ErrDate}, // 平成01-04-30 in the future, 昭和01/大正01-04-30 before their eras
		{in: "310430", want: jst(2019, 4, 30)},                         // 平成31-04-30 (令和31 is future)
		{in: "310501", want: jst(1956, 5, 1)},                          // neither 令和31 nor 平成31-05-01: 昭和31
		{in: "010108", want: jst(1989, 1, 8)},                          // 平成元年 first day (令和01-01-08 does not exist)
		{in: "640107", want: jst(1989, 1, 7)},                          // 昭和64, last day
		{in: "640108", wantErr: zengin.ErrDate},                        // 昭和64-01-08 is 平成
		{in: "011225", want: jst(2019, 12, 25)},                        // 令和元年
		{in: "011225", now: jst(1990, 1, 1), want: jst(1989, 12, 25)},  // 平成元年
		{in: "011225", now: jst(1989, 1, 1), want: jst(1926, 12, 25)},  // 昭和元年, its first day
		{in: "150724", want: jst(1926, 7, 24), now: jst(1926, 12, 1)},  // 大正15 when now is 1926
		{in: "060229", want: jst(2024, 2, 29), now: jst(2024, 3, 1)},   // 令和6 leap day
		{in: "070229", want: jst(1932, 2, 29)},                         // no 29 Feb in 2025 or 1995: 昭和7
		{in: "000000", want: time.Time{}},
		{in: "001201", wantErr: zengin.ErrDate},
		{in: "071301", wantErr: zengin.ErrDate},
		{in: "071200", wantErr: zengin.ErrDate},
		{in: "070431", wantErr: zengin.ErrDate},
		{in: "07120", wantErr: zengin.ErrNotNumber},
		{in: "0712O1", wantErr: zengin.ErrNotNumber},
		{in: "      ", wantErr: zengin.ErrNotNumber},
		{in: "010501", now: jst(2019, 4, 30), want: jst(1989, 5, 1)}, // before 令和 began
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			n := now
			if !tc.now.IsZero() {
				n = tc.now
			}
			got, err := zengin.ParseWareki(tc.in, n)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				require.True(t, got.IsZero())
				return
			}
			require.NoError(t, err)
			require.True(t, tc.want.Equal(got), "got %s, want %s", got, tc.want)
		})
	}
}

func TestFormatWareki(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in      time.Time
		want    string
		wantErr bool
	}{
		{in: jst(2025, 12, 1), want: "071201"},
		{in: jst(2019, 5, 1), want: "010501"},
		{in: jst(2019, 4, 30), want: "310430"},
		{in: jst(1989, 1, 8), want: "010108"},
		{in: jst(1989, 1, 7), want: "640107"},
		{in: jst(1926, 12, 25), want: "011225"},
		{in: jst(1926, 12, 24), want: "151224"},
		{in: time.Date(2025, 11, 30, 15, 0, 0, 0, time.UTC), want: "071201"}, // midnight JST
		{in: time.Time{}, want: "000000"},
		{in: jst(1912, 7, 29), wantErr: true},
		{in: jst(2118, 1, 1), wantErr: true}, // 令和100
	}
	for _, tc := range cases {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			got, err := zengin.FormatWareki(tc.in)
			if tc.wantErr {
				require.ErrorIs(t, err, zengin.ErrDate)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

// TestWarekiRoundTrip writes every day of the current era up to now and
// reads it back.
func TestWarekiRoundTrip(t *testing.T) {
	t.Parallel()
	now := jst(2025, 12, 5)
	for d := jst(2019, 5, 1); !d.After(now); d = d.AddDate(0, 0, 1) {
		s, err := zengin.FormatWareki(d)
		require.NoError(t, err)
		got, err := zengin.ParseWareki(s, now)
		require.NoError(t, err)
		require.True(t, d.Equal(got), "%s → %s → %s", d, s, got)
	}
}
