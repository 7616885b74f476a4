package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/internal/demo"
	"github.com/honten/honten/internal/pgtest"
	"github.com/honten/honten/search"
	"github.com/honten/honten/search/searchtest"
)

// TestReadingsOverTheDemoShop runs the queries shoppers type by reading on
// the demo shop: every one of the first 10 hits is the product meant, and
// うじ ranks 宇治抹茶 (and everything from 宇治) above ほうじ茶.
func TestReadingsOverTheDemoShop(t *testing.T) {
	t.Parallel()
	env := searchtest.Start(t, pgtest.New(t), backend)
	shop := searchtest.NewShop(env.Store)
	ctx := context.Background()
	require.NoError(t, shop.LoadDemo(ctx, demo.Catalog(1)))
	env.Wait(t, shop.Last)
	find := func(q string, limit int) search.Result {
		t.Helper()
		res, err := env.Backend.Index.Search(ctx, shop.Tenant, search.Query{Text: q, Limit: limit})
		require.NoError(t, err, q)
		return res
	}
	for _, c := range []struct{ q, title string }{
		{"まっちゃ", "宇治抹茶"}, {"マッチャ", "宇治抹茶"}, {"どらやき", "どら焼き"}, {"うでどけい", "腕時計"},
		{"くつした", "ソックス"}, {"手拭い", "手ぬぐい"}, {"てぬぐい", "手ぬぐい"}, {"ようかん", "羊羹"},
		{"ドラ焼", "どら焼き"},
	} {
		res := find(c.q, 10)
		require.Len(t, res.Hits, 10, c.q)
		require.GreaterOrEqual(t, res.Total, 30, c.q) // each kind has 35 products, a few drafts
		for _, h := range res.Hits {
			require.Contains(t, h.Title, c.title, "query %q", c.q)
		}
	}
	res := find("うじ", 100)
	firstMatcha, firstHojicha := -1, -1
	for i, h := range res.Hits {
		if firstMatcha < 0 && strings.Contains(h.Title, "宇治抹茶") {
			firstMatcha = i
		}
		if firstHojicha < 0 && strings.Contains(h.Title, "ほうじ茶") && !strings.HasPrefix(h.Title, "宇治 ") {
			firstHojicha = i
		}
	}
	require.NotEqual(t, -1, firstMatcha)
	require.NotEqual(t, -1, firstHojicha, "ほうじ茶 holds うじ: it is found, below")
	require.Less(t, firstMatcha, firstHojicha)
	// Every product titled with the word 宇治 (the origin or 宇治抹茶) ranks
	// above every ほうじ茶 that only holds the kana.
	lastUji := -1
	for i, h := range res.Hits {
		if strings.Contains(h.Title, "宇治") {
			lastUji = i
		}
	}
	require.Less(t, lastUji, firstHojicha)
}
