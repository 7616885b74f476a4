package searchtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/width"

	"github.com/honten/honten/internal/demo"
	"github.com/honten/honten/internal/pgtest"
	"github.com/honten/honten/search"
)

// RelevanceQuery is one query of the relevance set and the products (by
// handle) it must return in its top 10.
type RelevanceQuery struct {
	Class  string            `json:"class"`
	Q      string            `json:"q"`
	Params map[string]string `json:"params,omitempty"` // in_stock, price_min, price_max, category (a handle)
	Want   []string          `json:"want"`
}

// RelevanceSet is testdata/relevance.json.
type RelevanceSet struct {
	Catalog string `json:"catalog"`
	Metric  string `json:"metric"`
	// Recorded is recall@10 per class (and "overall") when the file was
	// written: the test fails when a figure drops below it.
	Recorded map[string]float64 `json:"recorded"`
	// RecordedMRR is the MRR per class when the file was written, held
	// the same way.
	RecordedMRR map[string]float64 `json:"recorded_mrr,omitempty"`
	Queries     []RelevanceQuery   `json:"queries"`
}

// The relevance classes.
const (
	ClassExact     = "exact"
	ClassPrefix    = "prefix"
	ClassTypoEN    = "typo-en"
	ClassVariantJA = "kana-variant/typo-ja"
	ClassShortJA   = "short-ja"
	ClassFilters   = "filters"
	// ClassReading is Japanese typed by its reading (kana for kanji, in
	// hiragana or katakana) or in another spelling of the same reading.
	ClassReading = "reading"
)

// Classes lists the classes in report order.
var Classes = []string{ClassExact, ClassPrefix, ClassTypoEN, ClassVariantJA, ClassShortJA, ClassFilters, ClassReading}

// originReadings and baseReadings are the demo catalog's origins and
// kinds as a shopper types them before kana-kanji conversion; alt holds
// other spellings of a kind with the same reading.
var (
	originReadings = map[string]string{"京都": "きょうと", "静岡": "しずおか", "北海道": "ほっかいどう", "奈良": "なら", "金沢": "かなざわ",
		"沖縄": "おきなわ", "鹿児島": "かごしま", "福岡": "ふくおか", "長野": "ながの", "宇治": "うじ", "有田": "ありた", "益子": "ましこ",
		"会津": "あいづ", "飛騨": "ひだ", "信州": "しんしゅう", "讃岐": "さぬき"}
	baseReadings = []struct {
		base, reading string
		alt           []string
	}{
		{"煎茶", "せんちゃ", nil}, {"ほうじ茶", "ほうじちゃ", []string{"焙じ茶"}}, {"玄米茶", "げんまいちゃ", nil},
		{"宇治抹茶", "まっちゃ", []string{"マッチャ"}}, {"羊羹", "ようかん", []string{"ヨウカン"}}, {"手焼き煎餅", "せんべい", []string{"手焼きせんべい"}},
		{"どら焼き", "どらやき", []string{"ドラ焼", "どら焼"}}, {"醤油", "しょうゆ", []string{"ショウユ"}}, {"味噌", "みそ", []string{"ミソ"}},
		{"湯呑み", "ゆのみ", []string{"湯のみ"}}, {"茶碗", "ちゃわん", nil}, {"万年筆", "まんねんひつ", nil},
		{"手ぬぐい", "てぬぐい", []string{"手拭い"}}, {"化粧水", "けしょうすい", nil}, {"石鹸", "せっけん", []string{"石けん"}},
		{"香水", "こうすい", nil}, {"腕時計", "うでどけい", []string{"ウデドケイ"}}, {"置き時計", "おきどけい", nil},
	}
)

func relevancePath() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "testdata", "relevance.json")
}

// ReadRelevance reads the committed relevance set.
func ReadRelevance() (RelevanceSet, error) {
	var s RelevanceSet
	raw, err := os.ReadFile(relevancePath())
	if err != nil {
		return s, err
	}
	return s, json.Unmarshal(raw, &s)
}

// demoProduct is a demo product with the attributes its title was made of.
type demoProduct struct {
	demo.Product
	origin, style, base string // as written in the title
	english, active     bool
	inStock             bool
	price               int64 // the lowest variant price
	options             []string
}

func parseDemo(ps []demo.Product) []demoProduct {
	out := make([]demoProduct, 0, len(ps))
	for _, p := range ps {
		f := strings.Fields(p.Title)
		d := demoProduct{Product: p, active: p.Status == "active", english: isASCII(p.Title)}
		if d.english {
			d.style, d.origin = f[0], f[1]
		} else {
			d.origin, d.style = f[0], f[1]
		}
		d.base = strings.Join(f[2:len(f)-1], " ")
		d.price = p.Variants[0].Price
		for _, v := range p.Variants {
			if v.Digital || v.Stock[0]+v.Stock[1] > 0 {
				d.inStock = true
			}
			d.price = min(d.price, v.Price)
			for _, o := range v.Options {
				if !slices.Contains(d.options, o[1]) {
					d.options = append(d.options, o[1])
				}
			}
		}
		out = append(out, d)
	}
	return out
}

func isASCII(s string) bool {
	for _, r := range s {
		if r > 127 {
			return false
		}
	}
	return true
}

// GenerateRelevance derives the relevance set from the demo catalog: each
// query names products by the words their titles were made of (origin,
// style, kind), so the products that must come back are known exactly.
// Only queries with 1–10 such products are kept.
func GenerateRelevance() []RelevanceQuery {
	ps := parseDemo(demo.Catalog(1))
	var bases []string
	byBase := map[string][]demoProduct{}
	for _, p := range ps {
		if _, ok := byBase[p.base]; !ok {
			bases = append(bases, p.base)
		}
		byBase[p.base] = append(byBase[p.base], p)
	}
	handles := func(keep func(demoProduct) bool) []string {
		var out []string
		for _, p := range ps {
			if p.active && keep(p) {
				out = append(out, p.Handle)
			}
		}
		sort.Strings(out)
		return out
	}
	// combos returns the origins of a base's products, sorted.
	combos := func(base string) []string {
		var os []string
		for _, p := range byBase[base] {
			if !slices.Contains(os, p.origin) {
				os = append(os, p.origin)
			}
		}
		sort.Strings(os)
		return os
	}
	var out []RelevanceQuery
	add := func(class, q string, params map[string]string, want []string) bool {
		if len(want) == 0 || len(want) > 10 {
			return false
		}
		out = append(out, RelevanceQuery{Class: class, Q: q, Params: params, Want: want})
		return true
	}
	isBase := func(base, origin string) func(demoProduct) bool {
		return func(p demoProduct) bool { return p.base == base && p.origin == origin }
	}
	english := func(base string) bool { return byBase[base][0].english }

	for _, b := range bases {
		os := combos(b)
		// exact: origin and kind, as written.
		for _, o := range os {
			if add(ClassExact, o+" "+b, nil, handles(isBase(b, o))) {
				break
			}
		}
		// prefix: the kind's last characters still being typed.
		for _, o := range os[min(1, len(os)-1):] {
			var q string
			if english(b) {
				q = strings.ToLower(o + " " + b)
				q = q[:len(q)-2]
			} else {
				r := []rune(b)
				if len(r) < 3 {
					break
				}
				q = o + " " + string(r[:len(r)-1])
			}
			if add(ClassPrefix, q, nil, handles(isBase(b, o))) {
				break
			}
		}
		// typo-en: one typo in the longest word of an English kind.
		if english(b) {
			n := 0
			for k, o := range os {
				if n == 4 {
					break
				}
				if add(ClassTypoEN, o+" "+typo(b, k), nil, handles(isBase(b, o))) {
					n++
				}
			}
		}
	}
	// kana-variant/typo-ja: spellings the catalog does not use.
	variants := []struct{ base, q string }{
		{"ワイヤレスヘッドホン", "ワイヤレスヘッドフォン"}, {"ワイヤレスヘッドホン", "わいやれすへっどほん"},
		{"ワイヤレスヘッドホン", width.Narrow.String("ワイヤレスヘッドホン")}, {"イヤホン", "イヤフォン"},
		{"イヤホン", width.Narrow.String("イヤホン")}, {"パーカー", "パーカ"}, {"パーカー", "ぱーかー"},
		{"ソックス", "そっくす"}, {"ソックス", width.Narrow.String("ソックス")}, {"Tシャツ", "Ｔシャツ"},
		{"Tシャツ", "tしゃつ"}, {"置き時計", "置時計"}, {"オックスフォードシャツ", "オックスフォドシャツ"},
		{"リネンシャツ", "りねんしゃつ"}, {"ノート", "のーと"},
	}
	for i, v := range variants {
		os := combos(v.base)
		n := 0
		for k := range os {
			o := os[(k+i)%len(os)]
			if n == 2 {
				break
			}
			if add(ClassVariantJA, o+" "+v.q, nil, handles(isBase(v.base, o))) {
				n++
			}
		}
	}
	for _, b := range []string{"腕時計", "湯呑み", "宇治抹茶", "手ぬぐい"} {
		add(ClassVariantJA, "ビンテージ "+b, nil, handles(func(p demoProduct) bool { return p.base == b && p.style == "ヴィンテージ" }))
	}
	// short-ja: tokens of one or two characters.
	for i, b := range []string{"香水", "煎茶", "味噌", "醤油", "茶碗", "羊羹", "石鹸", "お香"} {
		n := 0
		os := combos(b)
		for k := range os {
			o := os[(k+i)%len(os)]
			if n == 2 {
				break
			}
			if len([]rune(o)) == 2 && add(ClassShortJA, o+" "+b, nil, handles(isBase(b, o))) {
				n++
			}
		}
	}
	for i, c := range []string{"藍", "白", "黒", "藍", "白"} {
		o := []string{"京都", "奈良", "金沢", "益子", "有田"}[i]
		add(ClassShortJA, o+" "+c, nil, handles(func(p demoProduct) bool { return p.origin == o && slices.Contains(p.options, c) }))
	}
	// reading: the kana of origin and kind, or the kind in another spelling.
	for i, b := range baseReadings {
		os := combos(b.base)
		forms := append([]string{b.reading}, b.alt...)
		n := 0
		for k := range os {
			if n == len(forms)+1 {
				break
			}
			o := os[(k+i)%len(os)]
			if strings.Contains(b.base, o) {
				continue // 宇治 is in every 宇治抹茶: the origin narrows nothing
			}
			var q string
			switch f := forms[n%len(forms)]; n {
			case 0:
				q = originReadings[o] + " " + f // all kana
			case 1:
				q = f + " " + o // kind first, origin as written
			default:
				q = o + " " + f
			}
			if add(ClassReading, q, nil, handles(isBase(b.base, o))) {
				n++
			}
		}
	}
	// The socks are titled ソックス under the category 靴下: typed by its reading.
	for _, o := range []string{"京都", "奈良", "金沢"} {
		add(ClassReading, originReadings[o]+" くつした", nil, handles(isBase("ソックス", o)))
	}
	// filters: text with in-stock, category and price filters.
	n := 0
	for _, b := range bases {
		if english(b) || n == 8 {
			continue
		}
		for _, o := range combos(b) {
			all := handles(isBase(b, o))
			inStock := handles(func(p demoProduct) bool { return isBase(b, o)(p) && p.inStock })
			if len(all) != len(inStock) && add(ClassFilters, o+" "+b, map[string]string{"in_stock": "true"}, inStock) {
				n++
				break
			}
		}
	}
	for i, cat := range []string{"audio", "audio", "watches", "watches", "tea", "tableware"} {
		o := []string{"京都", "沖縄", "奈良", "長野", "信州", "有田"}[i] // not 宇治: it is also in 宇治抹茶
		bs := map[string][]string{"audio": {"ワイヤレスヘッドホン", "イヤホン", "Bluetooth Speaker"}, "watches": {"腕時計", "置き時計"},
			"tea": {"煎茶", "ほうじ茶", "玄米茶", "Japanese Green Tea", "宇治抹茶"}, "tableware": {"湯呑み", "茶碗", "Stoneware Mug"}}[cat]
		add(ClassFilters, o, map[string]string{"category": cat}, handles(func(p demoProduct) bool {
			return p.origin == o && slices.Contains(bs, p.base)
		}))
	}
	for _, b := range []string{"腕時計", "万年筆", "ワイヤレスヘッドホン", "香水"} {
		ps := byBase[b]
		for _, p := range ps {
			lo, hi := p.price, p.price+300
			want := handles(func(x demoProduct) bool { return x.base == b && x.price >= lo && x.price <= hi })
			if len(want) >= 2 && add(ClassFilters, b, map[string]string{"price_min": strconv.FormatInt(lo, 10), "price_max": strconv.FormatInt(hi, 10)}, want) {
				break
			}
		}
	}
	return out
}

// typo makes one typo in the longest word of s (never its first letter):
// a transposition, a deletion or a substitution, by k.
func typo(s string, k int) string {
	words := strings.Fields(s)
	li := 0
	for i, w := range words {
		if len(w) > len(words[li]) {
			li = i
		}
	}
	w := []byte(words[li])
	m := len(w) / 2
	switch k % 3 {
	case 0:
		w[m], w[m+1] = w[m+1], w[m]
	case 1:
		w = append(w[:m:m], w[m+1:]...)
	default:
		if w[m] == 'e' {
			w[m] = 'a'
		} else {
			w[m] = 'e'
		}
	}
	words[li] = string(w)
	return strings.Join(words, " ")
}

// RelevanceReport is recall@10 and MRR per class.
type RelevanceReport struct {
	Recall map[string]float64
	// MRR is the mean reciprocal rank of a query's first wanted product
	// among its first 10 hits (0 when none is there).
	MRR     map[string]float64
	Queries map[string]int
	Misses  []string
}

// Table formats the report as a Markdown table.
func (r RelevanceReport) Table() string {
	var b strings.Builder
	b.WriteString("| class | queries | recall@10 | MRR |\n|---|---:|---:|---:|\n")
	total := 0
	for _, c := range Classes {
		fmt.Fprintf(&b, "| %s | %d | %.3f | %.3f |\n", c, r.Queries[c], r.Recall[c], r.MRR[c])
		total += r.Queries[c]
	}
	fmt.Fprintf(&b, "| **overall** | %d | **%.3f** | **%.3f** |\n", total, r.Recall["overall"], r.MRR["overall"])
	return b.String()
}

// MeasureRelevance loads the demo catalog into a fresh backend and runs
// every query of the set: recall@10 = the share of a query's wanted
// products in its first 10 hits, averaged per class and overall.
func MeasureRelevance(t *testing.T, newBackend NewBackendFunc, set []RelevanceQuery) RelevanceReport {
	t.Helper()
	env := Start(t, pgtest.New(t), newBackend)
	shop := NewShop(env.Store)
	ctx := context.Background()
	require.NoError(t, shop.LoadDemo(ctx, demo.Catalog(1)))
	env.Wait(t, shop.Last)
	byID := map[string]string{}
	for h, id := range shop.Products {
		byID[id.String()] = h
	}
	sum, rr := map[string]float64{}, map[string]float64{}
	rep := RelevanceReport{Recall: map[string]float64{}, MRR: map[string]float64{}, Queries: map[string]int{}}
	for _, rq := range set {
		v := url.Values{"q": {rq.Q}, "limit": {"10"}}
		for k, p := range rq.Params {
			if k == "category" {
				p = shop.Categories[p].String()
			}
			v.Set(k, p)
		}
		q, err := search.ParseParams(v)
		require.NoError(t, err, rq.Q)
		res, err := env.Backend.Index.Search(ctx, shop.Tenant, q)
		require.NoError(t, err, rq.Q)
		var got []string
		for _, h := range res.Hits {
			got = append(got, byID[h.ID.String()])
		}
		found := 0
		for _, w := range rq.Want {
			if slices.Contains(got, w) {
				found++
			}
		}
		for i, h := range got {
			if slices.Contains(rq.Want, h) {
				rr[rq.Class] += 1 / float64(i+1)
				rr["overall"] += 1 / float64(i+1)
				break
			}
		}
		r := float64(found) / float64(len(rq.Want))
		if found < len(rq.Want) {
			rep.Misses = append(rep.Misses, fmt.Sprintf("%s %q %v: %d/%d (total %d)", rq.Class, rq.Q, rq.Params, found, len(rq.Want), res.Total))
		}
		sum[rq.Class] += r
		sum["overall"] += r
		rep.Queries[rq.Class]++
		rep.Queries["overall"]++
	}
	for c, s := range sum {
		rep.Recall[c] = s / float64(rep.Queries[c])
		rep.MRR[c] = rr[c] / float64(rep.Queries[c])
	}
	return rep
}

// WriteRelevance writes the set with the figures just measured.
func WriteRelevance(set RelevanceSet) error {
	raw, err := json.MarshalIndent(set, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(relevancePath(), append(raw, '\n'), 0o644)
}
