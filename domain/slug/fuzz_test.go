package slug_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/slug"
)

func FuzzParseSlug(f *testing.F) {
	for _, s := range []string{"a", "shibuya-2", "-a", "a-", "a--b", "A", "", "渋谷", "a b", "ａ"} {
		f.Add(s, 32)
	}
	f.Add("abc", 2)
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max < 1 || max > 256 {
			max = 1 + (max%256+256)%256
		}
		got, err := slug.Parse(s, max)
		if err != nil {
			e, ok := errs.As(err)
			require.True(t, ok, "want *errs.Error, got %T", err)
			require.Equal(t, errs.KindInvalid, e.Kind)
			require.Equal(t, "slug", e.Fields[0].Field)
			return
		}
		require.Equal(t, s, got.String())
		require.LessOrEqual(t, len(s), max)
		again, err := slug.Parse(got.String(), max)
		require.NoError(t, err)
		require.Equal(t, got, again)
		require.Equal(t, s, slug.Slugify(s), "a slug slugifies to itself")
	})
}

func FuzzParseSlugify(f *testing.F) {
	for _, s := range []string{"Hello World", "Café", "Tシャツ 2024", "有機緑茶", "", "--a--", "ＡＢＣ", "\xff", "ǅ", "ﬃ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := slug.Slugify(s)
		if got == "" {
			return
		}
		parsed, err := slug.Parse(got, len(got))
		require.NoError(t, err, "Slugify(%q) = %q", s, got)
		require.Equal(t, got, parsed.String())
		require.Equal(t, got, slug.Slugify(got), "Slugify is idempotent")
	})
}
