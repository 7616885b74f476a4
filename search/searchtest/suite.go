package searchtest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/internal/pgtest"
	"github.com/honten/honten/search"
)

// Loaded is a backend with the fixture catalog in one shop and a few
// products in another.
type Loaded struct {
	*Env
	Shop, Other *Shop
	byID        map[uuid.UUID]string
}

// Load starts a backend on a fresh database and loads the catalog.
func Load(t *testing.T, newBackend NewBackendFunc) *Loaded {
	t.Helper()
	env := Start(t, pgtest.New(t), newBackend)
	ctx := context.Background()
	l := &Loaded{Env: env, Shop: NewShop(env.Store), Other: NewShop(env.Store), byID: map[uuid.UUID]string{}}
	require.NoError(t, l.Shop.LoadCatalog(ctx, Catalog()))
	// The other tenant sells a kettle and headphones too: never in our results.
	require.NoError(t, l.Other.LoadCatalog(ctx, []Item{
		{Handle: "other-kettle", Title: "Other Shop Electric Kettle 電気ケトル", Vendor: "Other", Category: []string{"家電"}, Price: 100, Stock: 5, SKUs: []string{"O-1"}},
		{Handle: "other-headphones", Title: "ヘッドホン Headphones", Vendor: "Other", Category: []string{"家電"}, Price: 100, Stock: 5, SKUs: []string{"O-2"}},
	}))
	pos := l.Shop.Last
	if pos.Less(l.Other.Last) {
		pos = l.Other.Last
	}
	env.Wait(t, pos)
	for h, id := range l.Shop.Products {
		l.byID[id] = h
	}
	for h, id := range l.Other.Products {
		l.byID[id] = h
	}
	return l
}

// Search runs q in the main shop.
func (l *Loaded) Search(t testing.TB, q search.Query) search.Result {
	t.Helper()
	res, err := l.Backend.Index.Search(context.Background(), l.Shop.Tenant, q)
	require.NoError(t, err)
	return res
}

// Handles returns the handles of the hits, in order.
func (l *Loaded) Handles(res search.Result) []string {
	out := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		out[i] = l.byID[h.ID]
	}
	return out
}

func (l *Loaded) text(t testing.TB, q string) []string {
	t.Helper()
	return l.Handles(l.Search(t, search.Query{Text: q}))
}

func price(n int64) *decimal.Decimal { d := decimal.NewFromInt(n); return &d }

// Run runs the conformance suite against the backend newBackend builds.
func Run(t *testing.T, newBackend NewBackendFunc) {
	l := Load(t, newBackend)

	t.Run("text", func(t *testing.T) {
		t.Parallel()
		cases := []struct {
			q    string
			want []string
		}{
			{"headphones", []string{"wireless-headphones-en"}},
			{"Headphones", []string{"wireless-headphones-en"}},
			{"headp", []string{"wireless-headphones-en"}},
			{"headphnes", []string{"wireless-headphones-en"}},
			{"kettel", []string{"electric-kettle-en"}},
			{"bakcpack", []string{"backpack-en"}},
			{"WH-1000XM5", []string{"sony-wh1000xm5", "sony-wh1000xm5-silver"}},
			{"ヘッドホン", []string{"sony-wh1000xm5", "sony-wh1000xm5-silver", "audio-technica-m50x", "headphone-stand"}},
			{"ヘッドフォン", []string{"sony-wh1000xm5", "audio-technica-m50x", "headphone-stand"}},
			{"ﾍｯﾄﾞﾎﾝ", []string{"sony-wh1000xm5", "headphone-stand"}},
			{"へっどほん", []string{"audio-technica-m50x"}},
			{"時計", []string{"wrist-watch", "wrist-watch-solar", "wall-clock", "alarm-clock"}},
			{"靴", []string{"rain-boots"}},
			{"香水", []string{"perfume"}},
			{"ウィスキー", []string{"whisky"}},
			{"バイオリン", []string{"violin"}},
			{"コンピュータ", []string{"computer-monitor"}},
			{"usb", []string{"usb-hub", "charger"}},
			{"ＵＳＢハブ", []string{"usb-hub"}},
			{"加湿機", []string{"humidifier"}},
			{"electric kettle", []string{"electric-kettle-en"}},
			{"ソニー ヘッドホン", []string{"sony-wh1000xm5", "sony-wh1000xm5-silver"}},
			{"sony", nil},
		}
		for _, c := range cases {
			got := l.text(t, c.q)
			for _, w := range c.want {
				require.Contains(t, got, w, "query %q", c.q)
			}
			require.NotContains(t, got, "other-kettle", "query %q", c.q)
			require.NotContains(t, got, "other-headphones", "query %q", c.q)
			require.NotContains(t, got, "draft-lamp", "query %q", c.q)
		}
		require.Empty(t, l.text(t, "zzqxv"), "nonsense matches nothing")
		require.NotContains(t, l.text(t, "ボルト"), "golf-balls")
	})

	t.Run("browse and totals", func(t *testing.T) {
		t.Parallel()
		res := l.Search(t, search.Query{})
		published := 0
		for _, it := range Catalog() {
			if !it.Draft {
				published++
			}
		}
		require.Equal(t, published, res.Total)
		require.Len(t, res.Hits, search.DefaultLimit)
		require.Equal(t, "pillow", l.Handles(res)[0], "browse is newest first")
		n := 0
		for _, c := range res.Facets.InStock {
			n += c
		}
		require.Equal(t, published, n)
	})

	t.Run("filters and disjunctive facets", func(t *testing.T) {
		t.Parallel()
		audio := l.Shop.Categories["家電/オーディオ"]
		appliances := l.Shop.Categories["家電"]
		anker := l.Shop.Vendors["アンカー"]
		for _, text := range []string{"", "ワイヤレス"} {
			res := l.Search(t, search.Query{Text: text, Categories: []uuid.UUID{audio}})
			for _, h := range res.Hits {
				require.True(t, slices.ContainsFunc(h.Categories, func(r search.Ref) bool { return r.ID == audio }), text)
			}
			// The category facet ignores the category filter: other categories are offered.
			require.Greater(t, len(res.Facets.Category), 1, text)
			require.Equal(t, "オーディオ", res.Facets.Category[audio.String()].Label)
			require.Equal(t, res.Total, res.Facets.Category[audio.String()].Count, text)
			// The vendor facet counts within the category.
			vn := 0
			for _, v := range res.Facets.Vendor {
				vn += v.Count
			}
			require.Equal(t, res.Total, vn, text)
		}
		// A parent category holds its subcategories' products.
		res := l.Search(t, search.Query{Categories: []uuid.UUID{appliances}, Limit: 100})
		require.Contains(t, l.Handles(res), "electric-kettle")
		require.Contains(t, l.Handles(res), "sony-wh1000xm5")
		// Vendor + in stock.
		res = l.Search(t, search.Query{Vendors: []uuid.UUID{anker}, InStock: true, Limit: 100})
		require.ElementsMatch(t, []string{"bt-speaker", "earbuds-anker", "usb-hub", "mobile-battery"}, l.Handles(res))
		require.Equal(t, 4, res.Facets.InStock["true"])
		// Price range, inclusive.
		res = l.Search(t, search.Query{PriceMin: price(49500), PriceMax: price(55000), Limit: 100})
		require.ElementsMatch(t, []string{"sony-wh1000xm5", "sony-wh1000xm5-silver", "office-chair", "standing-desk", "wrist-watch"}, l.Handles(res))
		for _, h := range res.Hits {
			require.True(t, h.PriceMin.Amount().GreaterThanOrEqual(decimal.NewFromInt(49500)))
		}
		require.NotNil(t, res.Facets.Price.Min)
		require.True(t, res.Facets.Price.Min.LessThan(decimal.NewFromInt(1000)), "the price facet ignores the price filter")
		// Sold out products are filtered by in_stock.
		res = l.Search(t, search.Query{Text: "WH-1000XM5", InStock: true})
		require.Equal(t, []string{"sony-wh1000xm5"}, l.Handles(res))
		require.Equal(t, map[string]int{"true": 1, "false": 1}, res.Facets.InStock)
		// Digital products are always in stock.
		res = l.Search(t, search.Query{Text: "sourdough", InStock: true})
		require.Equal(t, []string{"ebook-en"}, l.Handles(res))
		// Unknown filter values give no results, not errors.
		res = l.Search(t, search.Query{Categories: []uuid.UUID{uuid.Must(uuid.NewV7())}})
		require.Zero(t, res.Total)
		require.Empty(t, res.Hits)
	})

	t.Run("sorts and paging", func(t *testing.T) {
		t.Parallel()
		res := l.Search(t, search.Query{Sort: search.SortPriceAsc, Limit: 100})
		for i := 1; i < len(res.Hits); i++ {
			c, err := res.Hits[i-1].PriceMin.Cmp(res.Hits[i].PriceMin)
			require.NoError(t, err)
			require.LessOrEqual(t, c, 0)
		}
		res = l.Search(t, search.Query{Text: "ヘッドホン", Sort: search.SortPriceDesc})
		for i := 1; i < len(res.Hits); i++ {
			c, err := res.Hits[i-1].PriceMax.Cmp(res.Hits[i].PriceMax)
			require.NoError(t, err)
			require.GreaterOrEqual(t, c, 0)
		}
		res = l.Search(t, search.Query{Sort: search.SortNewest, Limit: 3})
		require.Equal(t, []string{"pillow", "futon", "towel"}, l.Handles(res))
		all := l.Search(t, search.Query{Sort: search.SortNewest, Limit: 100})
		page := l.Search(t, search.Query{Sort: search.SortNewest, Limit: 10, Offset: 20})
		require.Equal(t, l.Handles(all)[20:30], l.Handles(page))
		past := l.Search(t, search.Query{Offset: 1000, Limit: 20})
		require.Empty(t, past.Hits)
		require.Equal(t, all.Total, past.Total)
	})

	t.Run("hostile input", func(t *testing.T) {
		t.Parallel()
		for _, q := range []string{"%", "_", `\`, "'", `"`, "%_\\'\"", "' OR 1=1 --", "ヘッド%", "a_b", "\xff\xfeヘッド", strings.Repeat("ヘッドホン", 200),
			strings.Repeat("headphones ", 90), "!!!", "   ", "&|!():*<->", "ー", "〜"} {
			start := time.Now()
			res, err := l.Backend.Index.Search(context.Background(), l.Shop.Tenant, search.Query{Text: q})
			require.NoError(t, err, "query %q", q)
			require.NotNil(t, res.Hits)
			require.Less(t, time.Since(start), 5*time.Second, "query %q", q)
		}
		// LIKE metacharacters are literal: "%" alone matches no product titled with it.
		res := l.Search(t, search.Query{Text: "%"})
		require.Equal(t, l.Search(t, search.Query{}).Total, res.Total, "a query of punctuation only browses")
	})

	t.Run("tenant isolation", func(t *testing.T) {
		t.Parallel()
		res, err := l.Backend.Index.Search(context.Background(), l.Other.Tenant, search.Query{Text: "kettle"})
		require.NoError(t, err)
		require.Equal(t, []string{"other-kettle"}, l.Handles(res))
		res, err = l.Backend.Index.Search(context.Background(), l.Other.Tenant, search.Query{})
		require.NoError(t, err)
		require.Equal(t, 2, res.Total)
	})

	t.Run("reading", func(t *testing.T) {
		t.Parallel()
		runReading(t, l)
	})

	t.Run("changes are searchable within the projection lag", func(t *testing.T) {
		t.Parallel()
		l := Load(t, newBackend)
		ctx := context.Background()
		s := l.Shop
		kettle := s.Products["electric-kettle-en"]
		// Edit the title.
		title := "Gooseneck Pour-Over Kettle"
		require.NoError(t, s.Append(ctx, catalog.ProductStream, kettle, catalog.ProductUpdated{Title: &title, At: s.clock}))
		l.Wait(t, s.Last)
		require.Contains(t, l.text(t, "gooseneck"), "electric-kettle-en")
		require.NotContains(t, l.text(t, "stainless"), "electric-kettle-en")
		// Reprice.
		v := s.Variants["AC-KT17"]
		require.NoError(t, s.Append(ctx, catalog.ProductStream, kettle, catalog.PriceUpdated{Variant: catalog.VariantID{UUID: v},
			Price: money.MustNew(decimal.NewFromInt(999), "JPY"), At: s.clock}))
		l.Wait(t, s.Last)
		res := l.Search(t, search.Query{Text: "gooseneck", PriceMax: price(1000)})
		require.Equal(t, []string{"electric-kettle-en"}, l.Handles(res))
		require.Equal(t, "999", res.Hits[0].PriceMin.AmountString())
		// Sell out.
		require.NoError(t, s.SetStock(ctx, "AC-KT17", 0))
		l.Wait(t, s.Last)
		require.Empty(t, l.Search(t, search.Query{Text: "gooseneck", InStock: true}).Hits)
		res = l.Search(t, search.Query{Text: "gooseneck"})
		require.False(t, res.Hits[0].InStock)
		// A vendor rename reaches its products.
		vend := s.Vendors["Acme Home"]
		require.NoError(t, s.Append(ctx, "vendor", vend, vendorUpdated("Acme Kitchen Works")))
		l.Wait(t, s.Last)
		require.Contains(t, l.text(t, "kitchen works"), "electric-kettle-en")
		// A category rename reaches its products' documents and the facet labels.
		audio := s.Categories["家電/オーディオ"]
		require.NoError(t, s.Append(ctx, catalog.CategoryStream, audio, catalog.CategoryUpdated{Name: "音響機器", Handle: "audio",
			Parent: &catalog.CategoryID{UUID: s.Categories["家電"]}, At: s.clock}))
		l.Wait(t, s.Last)
		require.Contains(t, l.text(t, "音響機器"), "vinyl-turntable")
		res = l.Search(t, search.Query{Categories: []uuid.UUID{audio}})
		require.Equal(t, "音響機器", res.Facets.Category[audio.String()].Label)
		require.Equal(t, "音響機器", res.Hits[0].Categories[0].Name)
		// Archive: gone from search and from the facet counts.
		before := l.Search(t, search.Query{}).Total
		require.NoError(t, s.Append(ctx, catalog.ProductStream, kettle, catalog.Archived{At: s.clock}))
		l.Wait(t, s.Last)
		require.Empty(t, l.text(t, "gooseneck"))
		after := l.Search(t, search.Query{})
		require.Equal(t, before-1, after.Total)
		// Publishing the draft brings it in.
		require.NoError(t, s.Append(ctx, catalog.ProductStream, s.Products["draft-lamp"], catalog.Published{At: s.clock}))
		l.Wait(t, s.Last)
		require.Contains(t, l.text(t, "floor lamp"), "draft-lamp")
	})
}
