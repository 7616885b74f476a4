package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/inventory"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/domain/vendor"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/progress"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/projections/searchdocs"
	"github.com/honten/honten/search"
	"github.com/honten/honten/search/postgres"
	"github.com/honten/honten/search/reading"
	"github.com/honten/honten/search/textnorm"
)

// SearchOptions tune the search benchmark.
type SearchOptions struct {
	Products int           // generated products; default 100,000
	Duration time.Duration // per query class and concurrency; default 5s
	// Explain writes the plan of each class's first text query to Out.
	Explain bool
}

// SearchResult is one measured query class at one concurrency, with
// readings off (the search before readings) or on.
type SearchResult struct {
	Class       string
	Concurrency int
	Readings    bool
	QPS         float64
	P50, P99    time.Duration
	BaseQPS     float64 // the baseline at the same concurrency
	BaseP50     time.Duration
	BaseP99     time.Duration
	Target      time.Duration // p99 target at concurrency 8 (0: none)
}

// ReadingRelevance is how the reading queries did over the generated
// catalog: precision@10 (the share of the first 10 hits whose title holds
// the words the query reads as) and MRR (the reciprocal rank of the first
// such hit), averaged over the queries.
type ReadingRelevance struct {
	Queries        int
	PrecisionAt10  float64
	MRR            float64
	NoHits         int // queries with no relevant hit in the first 10
	Readings       bool
	AverageMatches float64 // documents matched per query
}

// SearchReport is the benchmark's outcome.
type SearchReport struct {
	Products, Japanese int
	Events             int64
	LoadTime           time.Duration
	// Analyzer is what loading the reading analyzer cost (once per process).
	Analyzer reading.LoadStats
	// Rebuild and DocsPerSecond are the rebuild of search_documents
	// without readings ([0]) and with them ([1]).
	Rebuild       [2]time.Duration
	DocsPerSecond [2]float64
	Relevance     [2]ReadingRelevance
	Results       []SearchResult
}

// readingQueries are queries typed by their reading, with the words of the
// titles they mean.
var readingQueries = []struct {
	q    string
	want []string
}{
	{"うでどけい", []string{"腕時計"}}, {"でんきけとる", []string{"電気ケトル"}}, {"そうじき", []string{"掃除機"}}, {"かしつき", []string{"加湿器"}},
	{"くうきせいじょうき", []string{"空気清浄機"}}, {"さいふ", []string{"財布"}}, {"かばん", []string{"鞄"}}, {"こうすい", []string{"香水"}},
	{"けしょうすい", []string{"化粧水"}}, {"くつした", []string{"靴下"}}, {"ちゃわん", []string{"茶碗"}}, {"まんねんひつ", []string{"万年筆"}},
	{"ねぶくろ", []string{"寝袋"}}, {"まっちゃ", []string{"抹茶"}}, {"マッチャ", []string{"抹茶"}}, {"りょくちゃ", []string{"緑茶"}},
	{"せんべい", []string{"煎餅"}}, {"ながぐつ", []string{"長靴"}}, {"すいとう", []string{"水筒"}}, {"すいはんき", []string{"炊飯器"}},
	{"おきどけい", []string{"置き時計"}}, {"ウデドケイ", []string{"腕時計"}}, {"ぼうすい うでどけい", []string{"防水", "腕時計"}},
	{"こくさん まっちゃ", []string{"国産", "抹茶"}}, {"けいりょう すいとう", []string{"軽量", "水筒"}},
}

// Search generates a catalog of o.Products products (a third or more with
// Japanese titles) through the event store in batches of 250 products per
// transaction and rebuilds the search_documents model from the log twice,
// without readings (the search before them) and with them: the indexing
// rates. It then copies the documents to a second tenant with the readings
// stripped (as the rebuild without them writes them), and measures each
// query class through the PostgreSQL backend at concurrency 1 and 8,
// without readings (that tenant, the backend with readings off) and with
// them, alternating in four rounds each so that the load of a shared
// machine falls on both alike, beside a bare indexed SELECT of one page of
// 20 hits (search_hits by primary key) in the same database; and the
// reading queries' relevance both ways.
func Search(ctx context.Context, env *Env, o SearchOptions) (SearchReport, error) {
	if o.Products <= 0 {
		o.Products = 100_000
	}
	if o.Duration <= 0 {
		o.Duration = 5 * time.Second
	}
	reg := eventstore.NewRegistry()
	for _, evs := range [][]eventstore.Event{catalog.Events, inventory.Events, vendor.Events} {
		reg.Register(evs...)
	}
	store := eventstore.New(env.Pool, reg)
	t := tenant.ID{UUID: uuid.Must(uuid.NewV7())}
	var rep SearchReport
	var err error
	if rep.Analyzer, err = reading.Load(); err != nil {
		return rep, err
	}
	start := time.Now()
	cats, vendorA, err := generateCatalog(ctx, store, t, o.Products, env, &rep)
	if err != nil {
		return rep, err
	}
	rep.LoadTime = time.Since(start)
	if err := env.Pool.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&rep.Events); err != nil {
		return rep, err
	}
	var schema string
	for mode, on := range []bool{false, true} {
		runner, err := projections.NewRunner(env.Pool, []projections.Projector{searchdocs.Projector{Registry: reg, WithoutReadings: !on}}, projections.Options{Logger: env.Log})
		if err != nil {
			return rep, err
		}
		env.Log.Info("bench: rebuilding search_documents", "events", rep.Events, "readings", on)
		start = time.Now()
		if err := runner.Rebuild(ctx, "search_documents", progress.New("search_documents", "events", env.Log)); err != nil {
			return rep, err
		}
		rep.Rebuild[mode] = time.Since(start)
		rep.DocsPerSecond[mode] = float64(rep.Products) / rep.Rebuild[mode].Seconds()
	}
	if err := env.Pool.QueryRow(ctx, `SELECT schema_name FROM projections WHERE model = 'search_documents' AND state = 'live'`).Scan(&schema); err != nil {
		return rep, err
	}
	t0 := tenant.ID{UUID: uuid.Must(uuid.NewV7())}
	if err := copyWithoutReadings(ctx, env, schema, t, t0); err != nil {
		return rep, err
	}
	if _, err := env.Pool.Exec(ctx, `VACUUM ANALYZE `+pgx.Identifier{schema, "search_documents"}.Sanitize()); err != nil {
		env.Log.Warn("bench: vacuum", "err", err)
	}
	on := postgres.New(env.Pool)
	off := on.WithoutReadings()
	for mode, m := range []struct {
		ix *postgres.Index
		t  tenant.ID
	}{{off, t0}, {on, t}} {
		rel, err := measureReadingRelevance(ctx, m.ix, m.t)
		if err != nil {
			return rep, err
		}
		rel.Readings = mode == 1
		rep.Relevance[mode] = rel
	}

	catA, catB := cats[0], cats[5]
	lo, hi := decimal.NewFromInt(1000), decimal.NewFromInt(20000)
	q := func(text string) search.Query { return search.Query{Text: text} }
	classes := []struct {
		name    string
		target  time.Duration
		queries []search.Query
	}{
		{"en_exact", 20 * time.Millisecond, qs(q, "headphones", "wireless headphones", "kettle", "backpack", "yoga mat", "leather wallet", "cotton hoodie", "desk lamp", "running shoes", "ceramic mug")},
		{"en_prefix", 20 * time.Millisecond, qs(q, "headp", "wireless head", "kett", "backp", "lanter", "sneak", "humidif", "portable spea", "yoga m", "stainless ke")},
		{"en_typo", 20 * time.Millisecond, qs(q, "headphnes", "kettel", "bakcpack", "lantren", "sneakres", "humidifer", "wirelss headphones", "blendr", "stainles kettle", "dumbells")},
		{"ja_exact", 20 * time.Millisecond, qs(q, "ヘッドホン", "電気ケトル", "掃除機", "加湿器", "腕時計", "スニーカー", "化粧水", "ワイヤレスイヤホン", "マグカップ", "ヨガマット")},
		{"ja_short", 20 * time.Millisecond, qs(q, "靴", "時計", "香水", "黒", "茶", "財布", "抹茶", "鞄", "防水", "白")},
		{"ja_variant", 20 * time.Millisecond, qs(q, "ヘッドフォン", "ﾍｯﾄﾞﾎﾝ", "へっどほん", "イヤフォン", "スピーカ", "加湿機", "パーカ", "ＵＳＢケーブル", "ｽﾆｰｶｰ", "まぐかっぷ")},
		{"ja_reading", 20 * time.Millisecond, qs(q, "うでどけい", "でんきけとる", "そうじき", "かしつき", "さいふ", "くつした", "まっちゃ", "すいとう", "ぼうすい うでどけい", "マッチャ")},
		{"text+filters", 20 * time.Millisecond, []search.Query{
			{Text: "ヘッドホン", InStock: true, PriceMin: &lo, PriceMax: &hi},
			{Text: "kettle", Categories: []uuid.UUID{catA}},
			{Text: "black", InStock: true},
			{Text: "防水", Categories: []uuid.UUID{catB}, Sort: search.SortPriceAsc},
			{Text: "wireless", Sort: search.SortNewest, Offset: 100},
		}},
		{"browse (facets, no text)", 30 * time.Millisecond, []search.Query{
			{}, {InStock: true}, {Categories: []uuid.UUID{catA}}, {Categories: []uuid.UUID{catB}, InStock: true},
			{Sort: search.SortPriceAsc}, {Sort: search.SortNewest, Offset: 500}, {Vendors: []uuid.UUID{vendorA}},
		}},
		// A price range without text narrows nothing by index: every facet
		// but price is counted live over the documents in the range.
		{"browse + price range", 0, []search.Query{{PriceMin: &lo, PriceMax: &hi}, {PriceMin: &hi}, {PriceMax: &lo, InStock: true}}},
	}
	if o.Explain {
		for _, c := range classes {
			for _, m := range []struct {
				name string
				ix   *postgres.Index
				t    tenant.ID
			}{{"without readings", off, t0}, {"with readings", on, t}} {
				plan, err := m.ix.Explain(ctx, m.t, c.queries[0])
				if err != nil {
					return rep, err
				}
				fmt.Fprintf(env.Out, "\n-- %s, %s: %q\n%s\n", c.name, m.name, c.queries[0].Text, plan)
			}
		}
	}
	// The category and vendor ids are the same in both tenants (copied).
	const rounds = 4
	slice := o.Duration / rounds
	for _, conc := range []int{1, 8} {
		env.Log.Info("bench: baseline", "concurrency", conc)
		bl, bq, err := measureCalls(ctx, conc, o.Duration, func(ctx context.Context, _, i int) error {
			return drain(env.Pool.Query(ctx, `SELECT hit FROM search_hits WHERE tenant_id = $1 ORDER BY id LIMIT 20 OFFSET $2`, t.UUID, (i*37)%1000))
		})
		if err != nil {
			return rep, err
		}
		for _, c := range classes {
			env.Log.Info("bench: search", "class", c.name, "concurrency", conc)
			var lats [2]Latencies
			var calls [2]float64
			for r := 0; r < rounds; r++ {
				for mode, m := range []struct {
					ix *postgres.Index
					t  tenant.ID
				}{{off, t0}, {on, t}} {
					if r == 0 {
						for _, sq := range c.queries { // warm up and check every query once
							if _, err := m.ix.Search(ctx, m.t, sq); err != nil {
								return rep, fmt.Errorf("%s %q: %w", c.name, sq.Text, err)
							}
						}
					}
					lat, qps, err := measureCalls(ctx, conc, slice, func(ctx context.Context, _, i int) error {
						_, err := m.ix.Search(ctx, m.t, c.queries[i%len(c.queries)])
						return err
					})
					if err != nil {
						return rep, err
					}
					lats[mode].Merge(lat)
					calls[mode] += qps / rounds
				}
			}
			for mode := range lats {
				rep.Results = append(rep.Results, SearchResult{Class: c.name, Concurrency: conc, Readings: mode == 1, QPS: calls[mode],
					P50: lats[mode].P(0.5), P99: lats[mode].P(0.99), BaseQPS: bq, BaseP50: bl.P(0.5), BaseP99: bl.P(0.99), Target: c.target})
			}
		}
	}
	return rep, nil
}

// copyWithoutReadings copies tenant from's search documents (and the rows
// queries join) to tenant to in the live generation's schema, with the
// readings stripped and the grams of the text alone: what the projector
// writes with WithoutReadings.
func copyWithoutReadings(ctx context.Context, env *Env, schema string, from, to tenant.ID) error {
	env.Log.Info("bench: copying the documents without readings", "tenant", to.String())
	tx, err := env.Pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // committed below
	if _, err := tx.Exec(ctx, `SET LOCAL search_path = `+pgx.Identifier{schema}.Sanitize()+`, public`); err != nil {
		return err
	}
	rows, err := tx.Query(ctx, `SELECT id, match_n FROM search_documents WHERE tenant_id = $1`, from.UUID)
	if err != nil {
		return err
	}
	var src [][]any
	var id uuid.UUID
	var match string
	if _, err := pgx.ForEachRow(rows, []any{&id, &match}, func() error {
		grams := textnorm.DocGrams(match)
		if grams == nil {
			grams = []string{}
		}
		src = append(src, []any{id, grams})
		return nil
	}); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE bench_grams (id uuid PRIMARY KEY, grams text[]) ON COMMIT DROP`); err != nil {
		return err
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"bench_grams"}, []string{"id", "grams"}, pgx.CopyFromRows(src)); err != nil {
		return err
	}
	for _, sql := range []string{
		`INSERT INTO search_documents (tenant_id, id, title_n, match_n, grams, tsv, vendor_id, category_ids, price_min, price_max,
		   price_bucket, in_stock, created_at, version, reading_n, words_n)
		 SELECT $2, d.id, d.title_n, d.match_n, g.grams, d.tsv, d.vendor_id, d.category_ids, d.price_min, d.price_max,
		   d.price_bucket, d.in_stock, d.created_at, d.version, '', '{}'
		 FROM search_documents d JOIN bench_grams g ON g.id = d.id WHERE d.tenant_id = $1`,
		`INSERT INTO search_hits (tenant_id, id, hit) SELECT $2, id, hit FROM search_hits WHERE tenant_id = $1`,
		`INSERT INTO search_available (tenant_id, id, available) SELECT $2, id, available FROM search_available WHERE tenant_id = $1`,
		`INSERT INTO search_words (tenant_id, word, ndoc) SELECT $2, word, ndoc FROM search_words WHERE tenant_id = $1`,
		`INSERT INTO search_facet_counts (tenant_id, facet, value, in_stock, n) SELECT $2, facet, value, in_stock, n FROM search_facet_counts WHERE tenant_id = $1`,
		`INSERT INTO search_categories (tenant_id, id, name, parent_id) SELECT $2, id, name, parent_id FROM search_categories WHERE tenant_id = $1`,
		`INSERT INTO search_vendors (tenant_id, id, name) SELECT $2, id, name FROM search_vendors WHERE tenant_id = $1`,
	} {
		if _, err := tx.Exec(ctx, sql, from.UUID, to.UUID); err != nil {
			return fmt.Errorf("bench: copy without readings: %w", err)
		}
	}
	return tx.Commit(ctx)
}

// measureReadingRelevance runs readingQueries: a hit is relevant when its
// title holds every word the query reads as.
func measureReadingRelevance(ctx context.Context, ix *postgres.Index, t tenant.ID) (ReadingRelevance, error) {
	var r ReadingRelevance
	for _, rq := range readingQueries {
		res, err := ix.Search(ctx, t, search.Query{Text: rq.q, Limit: 10})
		if err != nil {
			return r, fmt.Errorf("%q: %w", rq.q, err)
		}
		r.Queries++
		r.AverageMatches += float64(res.Total)
		relevant, first := 0, 0
		for i, h := range res.Hits {
			ok := true
			for _, w := range rq.want {
				ok = ok && strings.Contains(h.Title, w)
			}
			if ok {
				relevant++
				if first == 0 {
					first = i + 1
				}
			}
		}
		r.PrecisionAt10 += float64(relevant) / 10
		if first > 0 {
			r.MRR += 1 / float64(first)
		} else {
			r.NoHits++
		}
	}
	n := float64(r.Queries)
	r.PrecisionAt10, r.MRR, r.AverageMatches = r.PrecisionAt10/n, r.MRR/n, r.AverageMatches/n
	return r, nil
}

func qs(q func(string) search.Query, texts ...string) []search.Query {
	out := make([]search.Query, len(texts))
	for i, s := range texts {
		out[i] = q(s)
	}
	return out
}

// PrintSearch writes the report as tables: indexing, the reading
// queries' relevance, and each class without and with readings.
func PrintSearch(w io.Writer, r SearchReport) {
	fmt.Fprintf(w, "\nhonten bench search: %d products (%d with Japanese titles), %d events\n", r.Products, r.Japanese, r.Events)
	fmt.Fprintf(w, "reading analyzer (kagome, IPA dictionary): loaded once in %s, heap +%.1f MB\n",
		r.Analyzer.Duration.Round(time.Millisecond), float64(r.Analyzer.HeapBytes)/1e6)
	fmt.Fprintf(w, "load through the event store: %s\n", r.LoadTime.Round(time.Millisecond))
	for i, name := range []string{"without readings", "with readings"} {
		fmt.Fprintf(w, "rebuild of search_documents %s: %s = %.0f docs/s (%.0f events/s)\n", name,
			r.Rebuild[i].Round(time.Millisecond), r.DocsPerSecond[i], float64(r.Events)/r.Rebuild[i].Seconds())
	}
	fmt.Fprintf(w, "\nreading queries over the generated catalog (%d queries, the title must hold the words read):\n", r.Relevance[1].Queries)
	for i, name := range []string{"without readings", "with readings"} {
		x := r.Relevance[i]
		fmt.Fprintf(w, "  %s: precision@10 %.3f, MRR %.3f, no relevant hit %d, matches per query %.0f\n", name, x.PrecisionAt10, x.MRR, x.NoHits, x.AverageMatches)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "class\tclients\twithout readings: qps / p50 / p99 (p50 ÷ baseline)\twith readings: qps / p50 / p99 (p50 ÷ baseline)\tp99 target")
	off := map[[2]any]SearchResult{}
	for _, x := range r.Results {
		if !x.Readings {
			off[[2]any{x.Class, x.Concurrency}] = x
		}
	}
	ratio := func(x SearchResult) float64 {
		if x.BaseP50 <= 0 {
			return 0
		}
		return float64(x.P50) / float64(x.BaseP50)
	}
	for _, x := range r.Results {
		if !x.Readings {
			continue
		}
		b := off[[2]any{x.Class, x.Concurrency}]
		target := ""
		if x.Target > 0 && x.Concurrency == 8 {
			mark := "✔"
			if x.P99 > x.Target {
				mark = "✘"
			}
			target = fmt.Sprintf("≤ %d ms %s", x.Target.Milliseconds(), mark)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.0f / %.2f / %.2f (%.0f×)\t%.0f / %.2f / %.2f (%.0f×)\t%s\n", x.Class, x.Concurrency,
			b.QPS, ms(b.P50), ms(b.P99), ratio(b), x.QPS, ms(x.P50), ms(x.P99), ratio(x), target)
	}
	seen := map[int]bool{}
	for _, x := range r.Results {
		if seen[x.Concurrency] {
			continue
		}
		seen[x.Concurrency] = true
		fmt.Fprintf(tw, "baseline: bare indexed SELECT of a page\t%d\t%.0f / %.2f / %.2f\t\t\n", x.Concurrency, x.BaseQPS, ms(x.BaseP50), ms(x.BaseP99))
	}
	tw.Flush()
}

// Word lists of the generated catalog.
var (
	jaNouns = []string{"ワイヤレスヘッドホン", "ヘッドホン", "ワイヤレスイヤホン", "スピーカー", "電気ケトル", "炊飯器", "掃除機", "加湿器", "空気清浄機",
		"腕時計", "置き時計", "財布", "リュック", "鞄", "スニーカー", "ランニングシューズ", "香水", "化粧水", "日焼け止め", "Tシャツ", "パーカー", "靴下",
		"マグカップ", "茶碗", "万年筆", "ノート", "テント", "寝袋", "ランタン", "ヨガマット", "ダンベル", "抹茶", "緑茶", "コーヒー豆", "煎餅", "USBケーブル",
		"モバイルバッテリー", "デスクライト", "長靴", "水筒"}
	jaMods   = []string{"防水", "大容量", "軽量", "静音", "折りたたみ", "充電式", "高級", "北欧風", "抗菌", "保温", "コンパクト", "本革", "国産", "限定"}
	jaColors = []string{"黒", "白", "ネイビー", "グレー", "ベージュ", "赤", "シルバー", "ブラウン", "ピンク", "緑", "ブラック", "ホワイト"}
	jaBrands = []string{"ソニー", "パナソニック", "象印", "タイガー", "シャープ", "無印良品", "山善", "アイリスオーヤマ", "セイコー", "シチズン", "アシックス",
		"資生堂", "ニトリ", "スノーピーク", "コールマン", "サーモス", "パイロット", "伊藤園", "明治", "カシオ"}
	enNouns = []string{"Headphones", "Wireless Headphones", "Earbuds", "Portable Speaker", "Kettle", "Blender", "Vacuum Cleaner", "Humidifier",
		"Watch", "Wallet", "Backpack", "Sneakers", "Running Shoes", "Perfume", "Lotion", "Sunscreen", "T-Shirt", "Hoodie", "Socks", "Mug",
		"Notebook", "Pen", "Tent", "Sleeping Bag", "Lantern", "Yoga Mat", "Dumbbells", "Coffee Beans", "Desk Lamp", "Water Bottle"}
	enAdjs      = []string{"Classic", "Premium", "Compact", "Portable", "Waterproof", "Lightweight", "Wireless", "Stainless", "Ergonomic", "Vintage", "Organic", "Heavy Duty"}
	enMaterials = []string{"Leather", "Cotton", "Steel", "Bamboo", "Ceramic", "Aluminium", "Wool", "Canvas", "Glass", "Walnut"}
	enColors    = []string{"Black", "White", "Navy", "Grey", "Red", "Green", "Blue", "Sand"}
)

// generateCatalog appends n products, a third or more with Japanese
// titles, in batches of 250 products per transaction, and returns the
// leaf category ids.
func generateCatalog(ctx context.Context, store *eventstore.Store, t tenant.ID, n int, env *Env, rep *SearchReport) ([]uuid.UUID, uuid.UUID, error) {
	rng := rand.New(rand.NewPCG(42, 4242))
	md := eventstore.Metadata{Tenant: t, Actor: "bench"}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// Vendors and a two-level category tree.
	var vendors, leaves []uuid.UUID
	_, err := store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		for i := 0; i < 50; i++ {
			id := uuid.Must(uuid.NewV7())
			vendors = append(vendors, id)
			name := fmt.Sprintf("Vendor %02d", i)
			if i < len(jaBrands) {
				name = jaBrands[i]
			}
			if _, err := tx.Append(ctx, eventstore.Stream{Tenant: t, Type: vendor.StreamType, ID: id}, 0,
				[]eventstore.Event{vendor.Created{ID: vendor.ID{UUID: id}, Tenant: t, Name: name, CommissionRate: decimal.Zero, Status: vendor.Active, At: at}}, md); err != nil {
				return err
			}
		}
		for r := 0; r < 11; r++ {
			root := uuid.Must(uuid.NewV7())
			if _, err := tx.Append(ctx, eventstore.Stream{Tenant: t, Type: catalog.CategoryStream, ID: root}, 0, []eventstore.Event{catalog.CategoryCreated{
				ID: catalog.CategoryID{UUID: root}, Name: fmt.Sprintf("部門%d", r), Handle: fmt.Sprintf("dept-%d", r), At: at}}, md); err != nil {
				return err
			}
			for c := 0; c < 4; c++ {
				id := uuid.Must(uuid.NewV7())
				leaves = append(leaves, id)
				parent := catalog.CategoryID{UUID: root}
				if _, err := tx.Append(ctx, eventstore.Stream{Tenant: t, Type: catalog.CategoryStream, ID: id}, 0, []eventstore.Event{catalog.CategoryCreated{
					ID: catalog.CategoryID{UUID: id}, Name: fmt.Sprintf("部門%d-%d", r, c), Handle: fmt.Sprintf("cat-%d-%d", r, c), Parent: &parent, At: at}}, md); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, uuid.Nil, err
	}
	bar := progress.New("bench: products", "products", env.Log)
	bar.Total(int64(n))
	const perTx = 250
	loc := uuid.Must(uuid.NewV7())
	for done := 0; done < n; done += perTx {
		_, err := store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
			for i := done; i < min(done+perTx, n); i++ {
				at := at.Add(time.Duration(i) * time.Second)
				ja := i%3 != 2 // two thirds Japanese
				var title string
				if ja {
					noun, mod, col, brand := pick(rng, jaNouns), pick(rng, jaMods), pick(rng, jaColors), pick(rng, jaBrands)
					switch rng.IntN(3) {
					case 0:
						title = fmt.Sprintf("%s %s%s %s %dcm", brand, mod, noun, col, 10+rng.IntN(40))
					case 1:
						title = fmt.Sprintf("【%s】%s %s（%s）", mod, brand, noun, col)
					default:
						title = fmt.Sprintf("%s%s%s%s%d個セット", brand, mod, noun, col, 1+rng.IntN(5))
					}
				} else {
					title = fmt.Sprintf("%s %s %s %s", pick(rng, enAdjs), pick(rng, enMaterials), pick(rng, enNouns), pick(rng, enColors))
				}
				pid := uuid.Must(uuid.NewV7())
				price := money.MustNew(decimal.NewFromInt(int64(300+rng.IntN(60)*rng.IntN(60)*30)), money.JPY)
				evs := []eventstore.Event{catalog.ProductCreated{ID: catalog.ProductID{UUID: pid}, Vendor: vendors[rng.IntN(len(vendors))], Title: title,
					Handle: fmt.Sprintf("p-%06d", i), Description: "", Categories: []catalog.CategoryID{{UUID: leaves[rng.IntN(len(leaves))]}},
					Locations: []uuid.UUID{}, Status: catalog.ProductDraft, At: at}}
				nv := 1 + rng.IntN(2)
				var vids []uuid.UUID
				for k := 0; k < nv; k++ {
					vid := uuid.Must(uuid.NewV7())
					vids = append(vids, vid)
					evs = append(evs, catalog.VariantAdded{Variant: catalog.VariantID{UUID: vid}, SKU: catalog.SKU(fmt.Sprintf("SKU-%06d-%d", i, k)),
						Title: "Default", FulfillmentType: catalog.FulfillmentPhysical, Price: price, TaxRate: catalog.TaxStandard, Status: catalog.VariantActive, At: at})
				}
				evs = append(evs, catalog.Published{At: at})
				if _, err := tx.Append(ctx, eventstore.Stream{Tenant: t, Type: catalog.ProductStream, ID: pid}, 0, evs, md); err != nil {
					return err
				}
				for _, vid := range vids {
					stock := int64(0)
					if rng.IntN(5) != 0 { // 80 % in stock
						stock = int64(1 + rng.IntN(50))
					}
					if _, err := tx.Append(ctx, eventstore.Stream{Tenant: t, Type: inventory.StreamType, ID: vid}, 0, []eventstore.Event{inventory.Adjusted{
						Location: loc, Delta: stock, OnHand: stock, Reason: "bench", Available: stock, At: at}}, md); err != nil {
						return err
					}
				}
				rep.Products++
				if ja {
					rep.Japanese++
				}
			}
			return nil
		})
		if err != nil {
			return nil, uuid.Nil, err
		}
		bar.Add(int64(min(perTx, n-done)))
	}
	bar.Done()
	return leaves, vendors[0], nil
}

func pick(rng *rand.Rand, s []string) string { return s[rng.IntN(len(s))] }
