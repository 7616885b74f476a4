package searchtest

import (
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/search"
)

// ReadingItems is a small shop whose titles spell Japanese words in kanji,
// in kana and in spellings that share a reading.
func ReadingItems() []Item {
	return []Item{
		{Handle: "uji-matcha", Title: "宇治抹茶 特選 30g", Vendor: "茶舗", Category: []string{"食品", "お茶", "抹茶"}, Price: 2160, Stock: 10, SKUs: []string{"R-1"}},
		{Handle: "hojicha", Title: "ほうじ茶 ティーバッグ", Vendor: "茶舗", Category: []string{"食品", "お茶"}, Price: 756, Stock: 10, SKUs: []string{"R-2"}},
		{Handle: "matcha-latte-kana", Title: "まっちゃ ラテ", Vendor: "茶舗", Category: []string{"食品", "飲料"}, Price: 480, Stock: 10, SKUs: []string{"R-3"}},
		{Handle: "matcha-latte", Title: "抹茶 ラテ", Vendor: "茶舗", Category: []string{"食品", "飲料"}, Price: 480, Stock: 10, SKUs: []string{"R-4"}},
		{Handle: "dorayaki", Title: "どら焼き 5個入", Vendor: "菓子舗", Category: []string{"食品", "和菓子"}, Price: 1296, Stock: 10, SKUs: []string{"R-5"}},
		{Handle: "kuri-dorayaki", Title: "栗入りドラ焼", Vendor: "菓子舗", Category: []string{"食品", "和菓子"}, Price: 1512, Stock: 10, SKUs: []string{"R-6"}},
		{Handle: "tenugui", Title: "手ぬぐい 藍染", Vendor: "染工房", Category: []string{"雑貨"}, Price: 990, Stock: 10, SKUs: []string{"R-7"}},
		{Handle: "tenugui-kanji", Title: "手拭い 麻の葉", Vendor: "染工房", Category: []string{"雑貨"}, Price: 1100, Stock: 10, SKUs: []string{"R-8"}},
		{Handle: "solar-watch", Title: "ソーラー腕時計 チタン", Vendor: "時計店", Category: []string{"家電", "時計"}, Price: 32800, Stock: 10, SKUs: []string{"R-9"}},
		{Handle: "wool-socks", Title: "ウールソックス", Vendor: "靴下工房", Category: []string{"アパレル", "靴下"}, Price: 1650, Stock: 10, SKUs: []string{"R-10"}},
		{Handle: "plain-tee", Title: "Tシャツ 無地", Vendor: "縫製所", Category: []string{"アパレル"}, Price: 2200, Stock: 10, SKUs: []string{"R-11"}},
		{Handle: "wired-headphones", Title: "ヘッドホン 有線", Vendor: "音響", Category: []string{"家電", "オーディオ"}, Price: 4980, Stock: 10, SKUs: []string{"R-12"}},
	}
}

// runReading loads ReadingItems into a shop of its own and checks that
// queries typed by their reading find the products.
func runReading(t *testing.T, l *Loaded) {
	ctx := context.Background()
	shop := NewShop(l.Store)
	require.NoError(t, shop.LoadCatalog(ctx, ReadingItems()))
	l.Wait(t, shop.Last)
	byID := map[string]string{}
	for h, id := range shop.Products {
		byID[id.String()] = h
	}
	find := func(q string) []string {
		t.Helper()
		res, err := l.Backend.Index.Search(ctx, shop.Tenant, search.Query{Text: q})
		require.NoError(t, err, q)
		out := make([]string, len(res.Hits))
		for i, h := range res.Hits {
			out[i] = byID[h.ID.String()]
		}
		return out
	}
	// before asserts that a ranks above b in the hits of q.
	before := func(q, a, b string) {
		t.Helper()
		got := find(q)
		ia, ib := slices.Index(got, a), slices.Index(got, b)
		require.NotEqual(t, -1, ia, "%q: %s missing from %v", q, a, got)
		require.True(t, ib == -1 || ia < ib, "%q: %s must rank above %s: %v", q, a, b, got)
	}

	// Kana for kanji, in hiragana or katakana.
	cases := []struct {
		q    string
		want []string
	}{
		{"まっちゃ", []string{"uji-matcha", "matcha-latte", "matcha-latte-kana"}},
		{"マッチャ", []string{"uji-matcha", "matcha-latte", "matcha-latte-kana"}},
		{"どらやき", []string{"dorayaki", "kuri-dorayaki"}},
		{"うでどけい", []string{"solar-watch"}},
		{"くつした", []string{"wool-socks"}},               // the category's reading
		{"てぬぐい", []string{"tenugui", "tenugui-kanji"}}, // both spellings
		{"ｳﾃﾞﾄﾞｹｲ", []string{"solar-watch"}},
	}
	for _, c := range cases {
		got := find(c.q)
		for _, w := range c.want {
			require.Contains(t, got, w, "query %q", c.q)
		}
	}
	// A whole word's reading ranks above the same kana inside another word,
	// and a title spelling the query as typed above one that only reads so.
	before("うじ", "uji-matcha", "hojicha")
	before("まっちゃ", "matcha-latte-kana", "matcha-latte")

	if l.Backend.QueryReadings {
		for _, c := range []struct {
			q    string
			want []string
		}{
			{"手拭い", []string{"tenugui", "tenugui-kanji"}},
			{"手ぬぐい", []string{"tenugui", "tenugui-kanji"}},
			{"どら焼き", []string{"dorayaki", "kuri-dorayaki"}},
			{"ドラ焼", []string{"dorayaki", "kuri-dorayaki"}},
			{"ティーシャツ", []string{"plain-tee"}},
			{"ヘッドホーン", []string{"wired-headphones"}},
		} {
			got := find(c.q)
			for _, w := range c.want {
				require.Contains(t, got, w, "query %q", c.q)
			}
		}
		before("手ぬぐい", "tenugui", "tenugui-kanji")
		before("手拭い", "tenugui-kanji", "tenugui")
	}

	// Readings follow the events: a new title and a renamed category.
	title := "備前焼 湯呑み"
	require.NoError(t, shop.Append(ctx, catalog.ProductStream, shop.Products["hojicha"], catalog.ProductUpdated{Title: &title, At: shop.clock}))
	cat := shop.Categories["雑貨"]
	require.NoError(t, shop.Append(ctx, catalog.CategoryStream, cat, catalog.CategoryUpdated{Name: "日用品", Handle: "goods", At: shop.clock}))
	l.Wait(t, shop.Last)
	require.Contains(t, find("ゆのみ"), "hojicha")
	require.NotContains(t, find("ほうじちゃ"), "hojicha")
	require.Contains(t, find("にちようひん"), "tenugui")
	require.Empty(t, find("ざっか"))
}
