package search_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/search"
)

func TestParseParams(t *testing.T) {
	t.Parallel()
	t.Run("defaults", func(t *testing.T) {
		t.Parallel()
		q, err := search.ParseParams(url.Values{})
		require.NoError(t, err)
		require.Equal(t, search.SortRelevance, q.Sort)
		require.Equal(t, 20, q.Limit)
		require.Empty(t, q.Categories)
	})
	t.Run("everything", func(t *testing.T) {
		t.Parallel()
		v, _ := url.ParseQuery("q=+時計+&category=0193a1b2-0000-7000-8000-000000000001,0193a1b2-0000-7000-8000-000000000002&vendor=0193a1b2-0000-7000-8000-000000000003" +
			"&price_min=1000&price_max=20000.5&in_stock=true&sort=price_desc&limit=50&offset=980")
		q, err := search.ParseParams(v)
		require.NoError(t, err)
		require.Equal(t, "時計", q.Text)
		require.Len(t, q.Categories, 2)
		require.Len(t, q.Vendors, 1)
		require.Equal(t, "1000", q.PriceMin.String())
		require.Equal(t, "20000.5", q.PriceMax.String())
		require.True(t, q.InStock)
		require.Equal(t, search.SortPriceDesc, q.Sort)
		require.Equal(t, 980, q.Offset)
		require.Equal(t, 20, q.Limit, "offset+limit is capped at 1000")
	})
	bad := map[string]string{
		"price_min=5&price_max=1":        "price_min",
		"category=nope":                  "category",
		"limit=0":                        "limit",
		"limit=101":                      "limit",
		"offset=1001":                    "offset",
		"offset=-1":                      "offset",
		"sort=cheapest":                  "sort",
		"in_stock=maybe":                 "in_stock",
		"price_min=-1":                   "price_min",
		"price_max=1e9":                  "price_max",
		"q=" + strings.Repeat("あ", 1001): "q",
	}
	for raw, field := range bad {
		t.Run(field+"/"+raw[:min(len(raw), 20)], func(t *testing.T) {
			t.Parallel()
			v, err := url.ParseQuery(raw)
			require.NoError(t, err)
			_, err = search.ParseParams(v)
			e, ok := errs.As(err)
			require.True(t, ok, "%v", err)
			require.Equal(t, errs.KindInvalid, e.Kind)
			require.Equal(t, field, e.Fields[0].Field)
		})
	}
	t.Run("invalid utf8", func(t *testing.T) {
		t.Parallel()
		_, err := search.ParseParams(url.Values{"q": {"\xff\xfe"}})
		require.ErrorIs(t, err, search.ErrBadEncoding)
	})
	t.Run("a 1000-character query is accepted", func(t *testing.T) {
		t.Parallel()
		q, err := search.ParseParams(url.Values{"q": {strings.Repeat("%_\\'", 250)}})
		require.NoError(t, err)
		require.Len(t, q.Text, 1000)
	})
}

func TestPriceBucket(t *testing.T) {
	t.Parallel()
	f := search.NewFacets()
	require.Len(t, f.Price.Ranges, len(search.PriceBuckets()))
	for _, r := range f.Price.Ranges {
		require.Equal(t, r.Key, search.PriceBucket(r.From))
	}
}

func FuzzParseParams(f *testing.F) {
	for _, s := range []string{"q=時計&price_min=1&price_max=2", "category=a,b,,c", "offset=1000&limit=100", "price_min=1.&q=%ff", "limit=99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := search.ParseParams(v)
		if err != nil {
			k := errs.KindOf(err)
			require.True(t, k == errs.KindInvalid || k == errs.KindMalformed, "%v", err)
			return
		}
		require.GreaterOrEqual(t, q.Limit, 0)
		require.LessOrEqual(t, q.Offset+q.Limit, search.MaxDepth)
		if q.PriceMin != nil && q.PriceMax != nil {
			require.True(t, q.PriceMin.LessThanOrEqual(*q.PriceMax))
		}
	})
}
