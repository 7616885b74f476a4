// Package demo builds Honten's demo store: a Japanese single-brand shop with
// a category tree, a catalog of over a thousand products (Japanese and some
// English titles, variants, tax-inclusive JPY prices, stock in two
// locations) and, once loaded, orders in every status. Everything is
// generated deterministically from a seed, so two loads give the same
// catalog with the same ids — tests and the search relevance set rely on it.
package demo

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Category is a demo category; Parent is the handle of its parent ("" for a root).
type Category struct {
	Handle, Name, Parent string
}

// Variant is a demo variant.
type Variant struct {
	SKU     string
	Title   string
	Options [][2]string // name, value
	Price   int64       // yen, tax included
	Compare int64       // compare-at price, 0 when none
	TaxRate string      // "10" or "8"
	Digital bool
	Stock   [2]int64 // main warehouse, second location
	Hot     bool
}

// Product is a demo product.
type Product struct {
	Handle      string
	Title       string
	Description string
	Categories  []string // handles
	Status      string   // active or draft
	Variants    []Variant
}

// Categories is the demo category tree, parents first.
var Categories = []Category{
	{"apparel", "アパレル", ""},
	{"t-shirts", "Tシャツ", "apparel"},
	{"shirts", "シャツ", "apparel"},
	{"hoodies", "パーカー", "apparel"},
	{"socks", "靴下", "apparel"},
	{"food", "食品", ""},
	{"tea", "お茶", "food"},
	{"matcha", "抹茶", "tea"},
	{"sweets", "和菓子", "food"},
	{"seasoning", "調味料", "food"},
	{"goods", "雑貨", ""},
	{"tableware", "食器", "goods"},
	{"stationery", "文房具", "goods"},
	{"tenugui", "手ぬぐい", "goods"},
	{"beauty", "美容", ""},
	{"skincare", "スキンケア", "beauty"},
	{"fragrance", "香水", "beauty"},
	{"electronics", "家電", ""},
	{"audio", "オーディオ", "electronics"},
	{"watches", "時計", "electronics"},
	{"digital", "デジタルコンテンツ", ""},
}

// base is a kind of product: its words and how its variants vary.
type base struct {
	key      string // ASCII, for handles and SKUs
	name     string // Japanese name (or English for English products)
	category string
	english  bool
	price    [2]int64 // range in yen
	tax      string
	sizes    []string
	colors   []string
	digital  bool
	desc     string
}

var bases = []base{
	{key: "tee", name: "Tシャツ", category: "t-shirts", price: [2]int64{2200, 5800}, tax: "10", sizes: []string{"S", "M", "L", "XL"}, colors: []string{"ホワイト", "ブラック", "ネイビー"}, desc: "着心地のよい天竺編みのTシャツ。洗濯を重ねても形が崩れにくい仕立てです。"},
	{key: "cotton-tee", name: "Organic Cotton Tee", category: "t-shirts", english: true, price: [2]int64{3300, 6600}, tax: "10", sizes: []string{"S", "M", "L"}, colors: []string{"White", "Black"}, desc: "A soft organic cotton t-shirt, knitted in Wakayama."},
	{key: "shirt", name: "オックスフォードシャツ", category: "shirts", price: [2]int64{6800, 12800}, tax: "10", sizes: []string{"S", "M", "L", "XL"}, colors: []string{"ブルー", "ホワイト"}, desc: "丈夫なオックスフォード生地のボタンダウンシャツ。"},
	{key: "linen-shirt", name: "リネンシャツ", category: "shirts", price: [2]int64{8800, 15800}, tax: "10", sizes: []string{"M", "L"}, colors: []string{"ベージュ", "カーキ"}, desc: "風通しのよいリネン100%のシャツ。夏に最適です。"},
	{key: "hoodie", name: "パーカー", category: "hoodies", price: [2]int64{7800, 14800}, tax: "10", sizes: []string{"M", "L", "XL"}, colors: []string{"グレー", "ブラック"}, desc: "裏毛のスウェットパーカー。ゆったりとしたシルエット。"},
	{key: "socks", name: "ソックス", category: "socks", price: [2]int64{880, 1980}, tax: "10", sizes: []string{"23-25cm", "25-27cm"}, colors: []string{"グレー", "ネイビー", "ブラウン"}, desc: "奈良の靴下工場で編んだ、つま先の縫い目がないソックス。"},
	{key: "sencha", name: "煎茶", category: "tea", price: [2]int64{980, 3240}, tax: "8", sizes: []string{"50g", "100g"}, desc: "静岡県産の茶葉を使った深蒸し煎茶。まろやかな甘みと濃い緑色。"},
	{key: "hojicha", name: "ほうじ茶", category: "tea", price: [2]int64{756, 2160}, tax: "8", sizes: []string{"80g", "200g"}, desc: "強火で焙じた香ばしいほうじ茶。カフェインが少なめです。"},
	{key: "genmaicha", name: "玄米茶", category: "tea", price: [2]int64{648, 1620}, tax: "8", sizes: []string{"200g"}, desc: "炒った玄米と番茶をブレンドした、香ばしい玄米茶。"},
	{key: "matcha", name: "宇治抹茶", category: "matcha", price: [2]int64{1620, 8640}, tax: "8", sizes: []string{"20g", "30g", "100g"}, desc: "京都・宇治の一番茶を石臼で挽いた抹茶。濃茶にも薄茶にも。"},
	{key: "green-tea", name: "Japanese Green Tea", category: "tea", english: true, price: [2]int64{1200, 2800}, tax: "8", sizes: []string{"100g"}, desc: "Loose leaf green tea from Shizuoka, steamed and rolled by hand."},
	{key: "yokan", name: "羊羹", category: "sweets", price: [2]int64{1080, 3240}, tax: "8", sizes: []string{"1本", "3本"}, desc: "北海道産小豆を使った、なめらかな練り羊羹。"},
	{key: "senbei", name: "手焼き煎餅", category: "sweets", price: [2]int64{540, 2160}, tax: "8", sizes: []string{"10枚", "24枚"}, desc: "一枚ずつ手で焼いた醤油煎餅。パリッとした食感。"},
	{key: "dorayaki", name: "どら焼き", category: "sweets", price: [2]int64{1296, 2592}, tax: "8", sizes: []string{"5個", "10個"}, desc: "ふんわり焼いた生地に粒あんをたっぷり挟みました。"},
	{key: "shoyu", name: "醤油", category: "seasoning", price: [2]int64{648, 2160}, tax: "8", sizes: []string{"300ml", "1L"}, desc: "杉桶で二年熟成させた本醸造醤油。"},
	{key: "miso", name: "味噌", category: "seasoning", price: [2]int64{864, 2376}, tax: "8", sizes: []string{"500g", "1kg"}, desc: "国産大豆と米麹で仕込んだ天然醸造の味噌。"},
	{key: "yunomi", name: "湯呑み", category: "tableware", price: [2]int64{1650, 5500}, tax: "10", colors: []string{"白", "藍", "飴釉"}, desc: "窯元で一つずつ手作りした湯呑み。電子レンジ可。"},
	{key: "chawan", name: "茶碗", category: "tableware", price: [2]int64{2200, 8800}, tax: "10", colors: []string{"白", "黒"}, desc: "手になじむ形の飯碗。普段使いにちょうどよい大きさ。"},
	{key: "mug", name: "Stoneware Mug", category: "tableware", english: true, price: [2]int64{2750, 4400}, tax: "10", colors: []string{"Ash", "Indigo"}, desc: "A hand-thrown stoneware mug from Mashiko."},
	{key: "notebook", name: "ノート", category: "stationery", price: [2]int64{440, 1650}, tax: "10", sizes: []string{"A5", "B5"}, desc: "書き心地のよい国産紙を使った糸綴じノート。"},
	{key: "pen", name: "万年筆", category: "stationery", price: [2]int64{3300, 22000}, tax: "10", colors: []string{"ブラック", "ボルドー"}, desc: "細字で書きやすい、真鍮軸の万年筆。"},
	{key: "tenugui", name: "手ぬぐい", category: "tenugui", price: [2]int64{990, 1980}, tax: "10", colors: []string{"藍", "えんじ", "生成り"}, desc: "注染で染めた綿の手ぬぐい。使うほど柔らかくなります。"},
	{key: "lotion", name: "化粧水", category: "skincare", price: [2]int64{1980, 6600}, tax: "10", sizes: []string{"150ml", "300ml"}, desc: "米ぬか由来の保湿成分を配合した、しっとりタイプの化粧水。"},
	{key: "soap", name: "石鹸", category: "skincare", price: [2]int64{660, 1650}, tax: "10", desc: "コールドプロセスで作った、やさしい洗い上がりの石鹸。"},
	{key: "perfume", name: "香水", category: "fragrance", price: [2]int64{4400, 16500}, tax: "10", sizes: []string{"30ml", "50ml"}, desc: "檜と柚子の香りのオードパルファム。"},
	{key: "incense", name: "お香", category: "fragrance", price: [2]int64{880, 3300}, tax: "10", desc: "京都の香舗で調合した白檀のお香。"},
	{key: "headphones", name: "ワイヤレスヘッドホン", category: "audio", price: [2]int64{9800, 39800}, tax: "10", colors: []string{"ブラック", "シルバー"}, desc: "ノイズキャンセリング対応のワイヤレスヘッドホン。最大30時間再生。"},
	{key: "earphones", name: "イヤホン", category: "audio", price: [2]int64{2980, 19800}, tax: "10", colors: []string{"ブラック", "ホワイト"}, desc: "小さなケースで持ち運べる完全ワイヤレスイヤホン。"},
	{key: "speaker", name: "Bluetooth Speaker", category: "audio", english: true, price: [2]int64{5980, 14800}, tax: "10", colors: []string{"Black", "Sand"}, desc: "A compact wireless speaker with a warm wooden body."},
	{key: "watch", name: "腕時計", category: "watches", price: [2]int64{12800, 68000}, tax: "10", colors: []string{"シルバー", "ゴールド"}, desc: "日本製ムーブメントを搭載した、10気圧防水の腕時計。"},
	{key: "clock", name: "置き時計", category: "watches", price: [2]int64{4980, 12800}, tax: "10", colors: []string{"ナチュラル", "ウォールナット"}, desc: "木枠の静かな置き時計。秒針の音がしません。"},
	{key: "ebook", name: "電子書籍 茶の湯入門", category: "digital", price: [2]int64{1100, 1980}, tax: "10", digital: true, desc: "茶道の基本をやさしく解説した電子書籍（PDF）。"},
	{key: "recipe", name: "Digital Recipe Book", category: "digital", english: true, price: [2]int64{990, 1500}, tax: "10", digital: true, desc: "Forty Japanese home-cooking recipes as a PDF."},
}

// The words that make each product of a kind distinct.
var (
	originsJA = []string{"京都", "静岡", "北海道", "奈良", "金沢", "沖縄", "鹿児島", "福岡", "長野", "宇治", "有田", "益子", "会津", "飛騨", "信州", "讃岐"}
	origKeys  = []string{"kyoto", "shizuoka", "hokkaido", "nara", "kanazawa", "okinawa", "kagoshima", "fukuoka", "nagano", "uji", "arita", "mashiko", "aizu", "hida", "shinshu", "sanuki"}
	stylesJA  = []string{"定番", "限定", "特選", "プレミアム", "オーガニック", "職人仕立て", "季節の", "贈答用", "お徳用", "ヴィンテージ"}
	styleKeys = []string{"classic", "limited", "select", "premium", "organic", "craft", "seasonal", "gift", "value", "vintage"}
	stylesEN  = []string{"Classic", "Limited", "Select", "Premium", "Organic", "Handmade", "Seasonal", "Gift", "Everyday", "Vintage"}
)

// ProductCount is the number of products in the demo catalog.
const ProductCount = 1200

// Catalog returns the demo catalog, generated from seed (use 1 for the demo store).
func Catalog(seed uint64) []Product {
	rng := rand.New(rand.NewPCG(seed, seed^0x6a09e667f3bcc909))
	out := make([]Product, 0, ProductCount)
	for i := 0; i < ProductCount; i++ {
		b := bases[i%len(bases)]
		o := rng.IntN(len(originsJA))
		s := rng.IntN(len(stylesJA))
		n := i / len(bases)
		handle := fmt.Sprintf("%s-%s-%s-%03d", styleKeys[s], origKeys[o], b.key, n)
		var title, desc string
		if b.english {
			title = fmt.Sprintf("%s %s %s No.%d", stylesEN[s], capitalize(origKeys[o]), b.name, n+1)
			desc = b.desc
		} else {
			title = fmt.Sprintf("%s %s %s No.%d", originsJA[o], stylesJA[s], b.name, n+1)
			desc = fmt.Sprintf("%s産。%s", originsJA[o], b.desc)
		}
		price := roundTo10(b.price[0] + rng.Int64N(b.price[1]-b.price[0]+1))
		p := Product{Handle: handle, Title: title, Description: desc, Categories: []string{b.category}, Status: "active"}
		if i%37 == 36 {
			p.Status = "draft"
		}
		sizes, colors := b.sizes, b.colors
		if len(sizes) == 0 {
			sizes = []string{""}
		}
		if len(colors) == 0 {
			colors = []string{""}
		}
		k := 0
		for si, sz := range sizes {
			for _, col := range colors {
				v := Variant{SKU: fmt.Sprintf("%s-%04d-%02d", strings.ToUpper(b.key), i, k), TaxRate: b.tax, Digital: b.digital}
				var parts []string
				if sz != "" {
					v.Options = append(v.Options, [2]string{optName(b, "size"), sz})
					parts = append(parts, sz)
				}
				if col != "" {
					v.Options = append(v.Options, [2]string{optName(b, "color"), col})
					parts = append(parts, col)
				}
				v.Title = strings.Join(parts, " / ")
				if v.Title == "" {
					v.Title = "Default"
				}
				v.Price = price + roundTo10(price*int64(si)/2)
				if rng.IntN(6) == 0 {
					v.Compare = roundTo10(v.Price * 12 / 10)
				}
				if !b.digital {
					v.Stock = [2]int64{int64(rng.IntN(60)), int64(rng.IntN(25))}
					if rng.IntN(12) == 0 {
						v.Stock = [2]int64{0, 0} // sold out
					}
				}
				v.Hot = i%97 == 0 && k == 0
				p.Variants = append(p.Variants, v)
				k++
			}
		}
		out = append(out, p)
	}
	return out
}

func optName(b base, kind string) string {
	switch {
	case b.english && kind == "size":
		return "Size"
	case b.english:
		return "Color"
	case kind == "size" && (b.tax == "8" || b.category == "skincare" || b.category == "fragrance"):
		return "容量"
	case kind == "size":
		return "サイズ"
	}
	return "色"
}

func roundTo10(n int64) int64 { return (n + 5) / 10 * 10 }

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
