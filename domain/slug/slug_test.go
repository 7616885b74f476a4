package slug_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/slug"
)

func TestParse(t *testing.T) {
	t.Parallel()

	tests := []struct {
		in      string
		max     int
		wantErr string // substring of the field message; "" means valid
	}{
		{in: "a", max: 32},
		{in: "shibuya", max: 32},
		{in: "shibuya-2", max: 32},
		{in: "a-b-c", max: 32},
		{in: "2024", max: 32},
		{in: "0", max: 1},
		{in: strings.Repeat("a", 32), max: 32},
		{in: strings.Repeat("a", 33), max: 32, wantErr: "at most 32"},
		{in: "", max: 32, wantErr: "must not be empty"},
		{in: "-a", max: 32, wantErr: "lower-case"},
		{in: "a-", max: 32, wantErr: "lower-case"},
		{in: "-", max: 32, wantErr: "lower-case"},
		{in: "a--b", max: 32, wantErr: "lower-case"},
		{in: "Shibuya", max: 32, wantErr: "lower-case"},
		{in: "shi buya", max: 32, wantErr: "lower-case"},
		{in: " shibuya", max: 32, wantErr: "lower-case"},
		{in: "shi_buya", max: 32, wantErr: "lower-case"},
		{in: "shi.buya", max: 32, wantErr: "lower-case"},
		{in: "渋谷", max: 32, wantErr: "lower-case"},
		{in: "ｓｈｉｂｕｙａ", max: 32, wantErr: "lower-case"},
		{in: "café", max: 32, wantErr: "lower-case"},
		{in: "a\x00", max: 32, wantErr: "lower-case"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()

			got, err := slug.Parse(tt.in, tt.max)
			if tt.wantErr != "" {
				e, ok := errs.As(err)
				require.True(t, ok)
				require.Equal(t, errs.KindInvalid, e.Kind)
				require.Len(t, e.Fields, 1)
				require.Equal(t, "slug", e.Fields[0].Field)
				require.Contains(t, e.Fields[0].Message, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.in, got.String())
		})
	}
}

func TestParseField(t *testing.T) {
	t.Parallel()

	tests := []struct {
		in       string
		min, max int
		wantErr  string
	}{
		{in: "ab", min: 2, max: 4},
		{in: "abcd", min: 2, max: 4},
		{in: "a", min: 2, max: 4, wantErr: "at least 2"},
		{in: "abcde", min: 2, max: 4, wantErr: "at most 4"},
		{in: "", min: 2, max: 4, wantErr: "must not be empty"},
		{in: "-", min: 2, max: 4, wantErr: "lower-case"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()

			got, err := slug.ParseField("code", tt.in, tt.min, tt.max)
			if tt.wantErr != "" {
				e, ok := errs.As(err)
				require.True(t, ok)
				require.Equal(t, errs.KindInvalid, e.Kind)
				require.Equal(t, "code", e.Fields[0].Field)
				require.Contains(t, e.Fields[0].Message, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, slug.Slug(tt.in), got)
		})
	}
}

func TestParseFieldBadBoundsPanics(t *testing.T) {
	t.Parallel()

	require.Panics(t, func() { _, _ = slug.Parse("a", 0) })
	require.Panics(t, func() { _, _ = slug.ParseField("f", "a", 0, 3) })
	require.Panics(t, func() { _, _ = slug.ParseField("f", "a", 4, 3) })
}

func TestSlugify(t *testing.T) {
	t.Parallel()

	tests := []struct {
		in, want string
	}{
		{in: "Hello World", want: "hello-world"},
		{in: "  Hello,   World!  ", want: "hello-world"},
		{in: "already-a-slug", want: "already-a-slug"},
		{in: "--a--b--", want: "a-b"},
		{in: "Men's T-Shirt (L)", want: "mens-t-shirt-l"},
		{in: "Men’s Shirt", want: "mens-shirt"},
		{in: "Café au lait", want: "cafe-au-lait"},
		{in: "Crème Brûlée", want: "creme-brulee"},
		{in: "ＡＢＣ　１２３", want: "abc-123"},
		{in: "ﬁne", want: "fine"},
		{in: "Tシャツ 2024", want: "t-2024"},
		{in: "オリジナル Tシャツ", want: "t"},
		{in: "有機緑茶", want: ""},
		{in: "ほうじ茶ラテ", want: ""},
		{in: "", want: ""},
		{in: "!!!", want: ""},
		{in: "snake_case_name", want: "snake-case-name"},
		{in: "v1.2.3", want: "v1-2-3"},
		{in: "100% Cotton", want: "100-cotton"},
		{in: "a\tb\nc", want: "a-b-c"},
		{in: "\xff\xfeabc", want: "abc"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()

			got := slug.Slugify(tt.in)
			require.Equal(t, tt.want, got)
			if got != "" {
				_, err := slug.Parse(got, len(got))
				require.NoError(t, err)
			}
		})
	}
}
