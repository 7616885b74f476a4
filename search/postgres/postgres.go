// Package postgres is the default search backend: PostgreSQL alone, over
// the search_documents read model. English words go through a tsvector
// with the last word as a prefix and typo expansion from the dictionary of
// indexed words (Meilisearch's budgets); Japanese goes through a
// character-bigram GIN index (the pg_bigm technique) with a LIKE recheck,
// so 1–2 character queries use the index too. Japanese tokens match the
// documents' readings as well (まっちゃ finds 抹茶, 手拭い finds 手ぬぐい;
// search/reading), whole words first. When nothing matches, loanword
// respellings are tried, then a trigram (Latin) or bigram-overlap
// (Japanese) fallback answers. Facets are
// disjunctive and come back with the hits in one statement; a browse
// without text reads whole-catalog counts the projector keeps.
//
// It must not import http or projections.
package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/search"
	"github.com/honten/honten/search/reading"
	"github.com/honten/honten/search/textnorm"
)

// Index is the PostgreSQL search backend.
type Index struct {
	pool     *pgxpool.Pool
	typos    *typoCache
	readings bool
}

var _ search.Index = (*Index)(nil)

// New returns the backend reading the search_documents views on pool.
func New(pool *pgxpool.Pool) *Index { return &Index{pool: pool, typos: newTypoCache(), readings: true} }

// WithoutReadings returns a backend that matches surfaces only, as before
// readings existed: for benchmarks that compare the two.
func (ix *Index) WithoutReadings() *Index {
	c := *ix
	c.readings = false
	return &c
}

// ErrUnavailable means the database did not answer.
var ErrUnavailable = errs.New(errs.KindUnavailable, "search_unavailable", "search is unavailable; retry shortly")

// maxFacetValues bounds the values returned per facet (Meilisearch's default).
const maxFacetValues = 100

// Search implements search.Index. It returns ErrUnavailable when the
// database cannot be reached or the query is cancelled by a timeout.
func (ix *Index) Search(ctx context.Context, t tenant.ID, q search.Query) (search.Result, error) {
	start := time.Now()
	q = q.Normalized()
	plan := ix.parseText(q.Text)
	var res search.Result
	var err error
	if plan.empty() {
		res, err = ix.browse(ctx, t, q)
	} else {
		res, err = ix.text(ctx, t, q, plan)
	}
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || !errors.As(err, &pgErr) {
			return search.Result{}, fmt.Errorf("search: %w: %w", ErrUnavailable, err)
		}
		return search.Result{}, fmt.Errorf("search: %w", err)
	}
	res.TookMS = time.Since(start).Milliseconds()
	return res, nil
}

// textPlan is a query split into words (matched in the tsvector) and
// Japanese tokens (matched by bigrams and LIKE).
type textPlan struct {
	norm  string
	latin []string
	cjk   []string
	// readings holds, per Japanese token, its folded reading when the
	// token has kanji and three or more characters ("" otherwise): the
	// token also matches documents whose readings hold it (手拭い finds
	// 手ぬぐい). Nil when readings are off.
	readings []string
	// kana is set when a Japanese token also matches the documents'
	// readings (readings are on).
	kana bool
	// prefix is set when the query ends with a word: the last of latin is
	// matched as a prefix too (the shopper may still be typing it).
	prefix bool
}

func (p textPlan) empty() bool { return len(p.latin) == 0 && len(p.cjk) == 0 }

func (ix *Index) parseText(s string) textPlan {
	p := textPlan{norm: textnorm.Normalize(s), kana: ix.readings}
	for _, t := range search.QueryTokens(p.norm) {
		cjk := textnorm.IsCJK(t)
		if cjk {
			p.cjk = append(p.cjk, t)
			if ix.readings {
				p.readings = append(p.readings, queryReading(t))
			}
		} else {
			p.latin = append(p.latin, t)
		}
		p.prefix = !cjk
	}
	return p
}

// queryReading returns the folded reading of a Japanese query token with
// kanji and three or more characters, "" otherwise (or when it reads as it
// is written). Shorter tokens are left to their surface: a short reading
// is a run of kana found inside many unrelated words (黒 is くろ, as in
// ねぶくろ; 時計 is とけい), which costs a second index scan over large
// posting lists for little: a two-kanji word is rarely spelled otherwise.
func queryReading(tok string) string {
	if utf8.RuneCountInString(tok) < 3 || !hasHan(tok) {
		return ""
	}
	r := strings.ReplaceAll(reading.Of(tok).Reading, " ", "")
	if r == tok {
		return ""
	}
	return r
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// args collects positional parameters.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// filters are the SQL conditions of a query's filters, by facet.
type filters struct {
	cat, vendor, price, stock string // "" when the filter is not set
}

func buildFilters(q search.Query, a *args) filters {
	var f filters
	if len(q.Categories) > 0 {
		f.cat = "d.category_ids && " + a.add(uuidStrings(q.Categories)) + "::uuid[]"
	}
	if len(q.Vendors) > 0 {
		f.vendor = "d.vendor_id = ANY(" + a.add(uuidStrings(q.Vendors)) + "::uuid[])"
	}
	var p []string
	if q.PriceMin != nil {
		p = append(p, "d.price_min >= "+a.add(q.PriceMin.String())+"::numeric")
	}
	if q.PriceMax != nil {
		p = append(p, "d.price_min <= "+a.add(q.PriceMax.String())+"::numeric")
	}
	f.price = strings.Join(p, " AND ")
	if q.InStock {
		f.stock = "d.in_stock"
	}
	return f
}

func and(conds ...string) string {
	var out []string
	for _, c := range conds {
		if c != "" {
			out = append(out, "("+c+")")
		}
	}
	if len(out) == 0 {
		return "true"
	}
	return strings.Join(out, " AND ")
}

func orderBy(s search.Sort, withScore bool) string {
	switch s {
	case search.SortPriceAsc:
		return "price_min ASC NULLS LAST, id"
	case search.SortPriceDesc:
		return "price_max DESC NULLS LAST, id"
	case search.SortNewest:
		return "created_at DESC, id DESC"
	}
	if withScore {
		return "score DESC, created_at DESC, id DESC"
	}
	return "created_at DESC, id DESC"
}

var (
	likeEscaper   = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	lexemeEscaper = strings.NewReplacer(`'`, `''`, `\`, `\\`)
)

func likePattern(tok string) string { return "%" + likeEscaper.Replace(tok) + "%" }

func quoteLexeme(w string) string { return "'" + lexemeEscaper.Replace(w) + "'" }

// typoAlternatives returns, per Latin token, the dictionary words within
// its typo budget.
func (ix *Index) typoAlternatives(ctx context.Context, t tenant.ID, toks []string) (map[string][]string, error) {
	var ask []string
	out := map[string][]string{}
	for _, tok := range toks {
		if typoBudget(tok) == 0 {
			continue
		}
		if alts, ok := ix.typos.get(t, tok); ok {
			out[tok] = alts
		} else {
			ask = append(ask, tok)
		}
	}
	if len(ask) == 0 {
		return out, nil
	}
	const q = `SELECT u.tok, w.word FROM unnest($2::text[]) AS u(tok)
CROSS JOIN LATERAL (SELECT word FROM search_words
                    WHERE tenant_id = $1::uuid AND word % u.tok AND word <> u.tok
                    ORDER BY similarity(word, u.tok) DESC, word LIMIT 20) w`
	rows, err := ix.pool.Query(ctx, q, t.UUID, ask)
	if err != nil {
		return nil, err
	}
	var tok, word string
	_, err = pgx.ForEachRow(rows, []any{&tok, &word}, func() error {
		if typoCost(tok, word) <= typoBudget(tok) && len(out[tok]) < 10 {
			out[tok] = append(out[tok], word)
		}
		return nil
	})
	if err == nil {
		for _, tok := range ask {
			ix.typos.put(t, tok, out[tok])
		}
	}
	return out, err
}

// tsquery builds the word query: tokens ANDed, each ORed with its typo
// alternatives, the last token of the query also as a prefix.
func tsquery(p textPlan, alts map[string][]string) string {
	parts := make([]string, 0, len(p.latin))
	for i, tok := range p.latin {
		first := quoteLexeme(tok)
		if i == len(p.latin)-1 && p.prefix {
			first += ":*"
		}
		or := []string{first}
		for _, w := range alts[tok] {
			or = append(or, quoteLexeme(w))
		}
		parts = append(parts, "("+strings.Join(or, " | ")+")")
	}
	return strings.Join(parts, " & ")
}

func (ix *Index) text(ctx context.Context, t tenant.ID, q search.Query, p textPlan) (search.Result, error) {
	sql, a, err := ix.strictSQL(ctx, t, q, p)
	if err != nil {
		return search.Result{}, err
	}
	res, err := ix.run(ctx, sql, a)
	if err != nil || res.Total > 0 {
		return res, err
	}
	if ix.readings {
		// Loanwords spelled otherwise than in the titles (ヘッドホーン,
		// ティーシャツ): the same strict match under each respelling.
		for _, v := range textnorm.Respellings(q.Text) {
			vp := ix.parseText(v)
			if vp.empty() {
				continue
			}
			sql, a, err := ix.strictSQL(ctx, t, q, vp)
			if err != nil {
				return search.Result{}, err
			}
			if res, err := ix.run(ctx, sql, a); err != nil || res.Total > 0 {
				return res, err
			}
		}
	}
	sql, a, ok := fallbackSQL(t, q, p)
	if !ok {
		return res, nil
	}
	return ix.run(ctx, sql, a)
}

// strictSQL builds the statement that needs every word (or one of its typo
// alternatives) and every Japanese token.
func (ix *Index) strictSQL(ctx context.Context, t tenant.ID, q search.Query, p textPlan) (string, args, error) {
	alts, err := ix.typoAlternatives(ctx, t, p.latin)
	if err != nil {
		return "", nil, err
	}
	var a args
	tenantArg := a.add(t.UUID)
	var match, score []string
	if len(p.latin) > 0 {
		tq := a.add(tsquery(p, alts))
		match = append(match, "d.tsv @@ "+tq+"::tsquery")
		score = append(score, "ts_rank(d.tsv, "+tq+"::tsquery)")
	}
	if len(p.cjk) > 0 && !p.kana {
		var grams []string
		for _, tok := range p.cjk {
			grams = append(grams, textnorm.QueryGrams(tok)...)
		}
		match = append(match, "d.grams @> "+a.add(grams)+"::text[]")
		for _, tok := range p.cjk {
			pat := a.add(likePattern(tok))
			match = append(match, "d.match_n LIKE "+pat)
			score = append(score, "(d.title_n LIKE "+pat+")::int")
		}
	}
	if len(p.cjk) > 0 && p.kana {
		m, sc := readingMatch(p, &a)
		match = append(match, m...)
		score = append(score, sc...)
	}
	score = append(score, "(d.title_n = "+a.add(p.norm)+")::int * 2", "- char_length(d.title_n) / 1000.0")
	sql, a := facetedSQL(q, a, tenantArg, and(match...), strings.Join(score, " + "))
	return sql, a, nil
}

// readingMatch builds the conditions and scores of the Japanese tokens
// when readings are on. A token matches a document whose text or readings
// hold it, or whose readings hold the token's own reading. The score puts
// a whole word (surface or reading: うじ = 宇治) first, then the token in
// the title as written, then a match in the readings only:
//
//	2 × whole word + 1 × in the title + 0.5 × in the readings
//
// so ほうじ茶 (うじ inside a word) ranks below 宇治抹茶 for うじ, and a title
// that spells the query as typed ranks above one that only reads like it.
func readingMatch(p textPlan, a *args) (match, score []string) {
	for i, tok := range p.cjk {
		pat := a.add(likePattern(tok))
		// Readings are kana: only a token without kanji can be inside them.
		kana := !hasHan(tok)
		text := "d.match_n LIKE " + pat
		var inReading []string
		if kana {
			text = "(" + text + " OR d.reading_n LIKE " + pat + ")"
			inReading = append(inReading, "d.reading_n LIKE "+pat)
		}
		cond := "d.grams @> " + a.add(textnorm.QueryGrams(tok)) + "::text[] AND " + text
		words := []string{tok}
		if r := p.readings[i]; r != "" {
			rpat := a.add(likePattern(r))
			cond = "(" + cond + ") OR (d.grams @> " + a.add(textnorm.QueryGrams(r)) + "::text[] AND d.reading_n LIKE " + rpat + ")"
			inReading = append(inReading, "d.reading_n LIKE "+rpat)
			words = append(words, r)
		}
		match = append(match, cond)
		score = append(score, "(d.title_n LIKE "+pat+")::int")
		if len(inReading) > 0 {
			score = append(score, "0.5 * ("+strings.Join(inReading, " OR ")+")::int")
		}
		score = append(score, "2 * (d.words_n && "+a.add(words)+"::text[])::int")
	}
	return match, score
}

// fallbackSQL builds the looser statement for a query that matched
// nothing: Latin words by trigram similarity to the title, Japanese tokens
// by most of their bigrams. It returns false when nothing can be loosened.
func fallbackSQL(t tenant.ID, q search.Query, p textPlan) (string, args, bool) {
	var a args
	tenantArg := a.add(t.UUID)
	var match, score []string
	if len(p.latin) > 0 {
		words := a.add(strings.Join(p.latin, " "))
		match = append(match, words+" <% d.title_n")
		score = append(score, "word_similarity("+words+", d.title_n)")
	}
	loosened := len(p.latin) > 0
	for _, tok := range p.cjk {
		grams := textnorm.QueryGrams(tok)
		if len(grams) < 2 {
			// A 1–2 character token has nothing looser to match: it stays strict.
			pat := a.add(likePattern(tok))
			match = append(match, "d.grams @> "+a.add(grams)+"::text[]", "d.match_n LIKE "+pat)
			score = append(score, "(d.title_n LIKE "+pat+")::int")
			continue
		}
		loosened = true
		g := a.add(grams)
		need := len(grams) - 1
		if len(grams) >= 6 {
			need = len(grams) * 2 / 3
		}
		overlap := "(SELECT count(*) FROM unnest(" + g + "::text[]) AS x(g) WHERE x.g = ANY(d.grams))"
		match = append(match, "d.grams && "+g+"::text[]", overlap+" >= "+a.add(need)+"::int")
		score = append(score, overlap+"::float / "+a.add(len(grams))+"::int")
	}
	if !loosened {
		return "", nil, false
	}
	sql, a := facetedSQL(q, a, tenantArg, and(match...), strings.Join(score, " + "))
	return sql, a, true
}

// run runs a statement of facetedSQL and decodes its one row.
func (ix *Index) run(ctx context.Context, sql string, a args) (search.Result, error) {
	row := ix.pool.QueryRow(ctx, sql, a...)
	var total int
	var hits, cats, vendors, prices, stats, stock []byte
	if err := row.Scan(&total, &hits, &cats, &vendors, &prices, &stats, &stock); err != nil {
		return search.Result{}, err
	}
	return decodeResult(total, hits, cats, vendors, prices, stats, stock)
}

// hitSQL is a hit as the page shows it: its stored JSON (search_hits sh)
// with the product's available units joined in (search_available sa),
// which the projector keeps apart so that stock moves do not rewrite hits.
const hitSQL = `(sh.hit || jsonb_build_object('available', coalesce(sa.available, 0)))`

// facetedSQL builds one statement (one round trip): the matches
// (materialised once) with each filter as a flag, then the page of hits,
// the total and every facet, each facet counting under all filters but its
// own.
func facetedSQL(q search.Query, a args, tenantArg, match, score string) (string, args) {
	f := buildFilters(q, &a)
	flag := func(c string) string {
		if c == "" {
			return "true"
		}
		return "coalesce(" + c + ", false)"
	}
	lim, off := a.add(q.Limit), a.add(q.Offset)
	sql := `WITH m AS MATERIALIZED (
  SELECT d.id, d.vendor_id, d.category_ids, d.price_min, d.price_max, d.price_bucket, d.in_stock, d.created_at,
         ` + score + ` AS score,
         ` + flag(f.cat) + ` AS f_cat, ` + flag(f.vendor) + ` AS f_vendor,
         ` + flag(f.price) + ` AS f_price, ` + flag(f.stock) + ` AS f_stock
  FROM search_documents d
  WHERE d.tenant_id = ` + tenantArg + `::uuid AND ` + match + `
), hits AS (
  SELECT id, score, created_at, price_min, price_max
  FROM m WHERE f_cat AND f_vendor AND f_price AND f_stock
  ORDER BY ` + orderBy(q.Sort, true) + ` LIMIT ` + lim + `::int OFFSET ` + off + `::int
)
SELECT
  (SELECT count(*) FROM m WHERE f_cat AND f_vendor AND f_price AND f_stock),
  (SELECT coalesce(json_agg(` + hitSQL + ` ORDER BY ` + prefixed("h.", orderBy(q.Sort, true)) + `), '[]') FROM hits h
     JOIN search_hits sh ON sh.tenant_id = ` + tenantArg + `::uuid AND sh.id = h.id
     LEFT JOIN search_available sa ON sa.tenant_id = sh.tenant_id AND sa.id = sh.id),
  (SELECT coalesce(json_agg(json_build_array(c.id, c.n, coalesce(sc.name, ''))), '[]') FROM (
     SELECT unnest(category_ids) AS id, count(*) AS n FROM m WHERE f_vendor AND f_price AND f_stock
     GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ` + strconv.Itoa(maxFacetValues) + `) c
     LEFT JOIN search_categories sc ON sc.tenant_id = ` + tenantArg + `::uuid AND sc.id = c.id),
  (SELECT coalesce(json_agg(json_build_array(v.id, v.n, coalesce(sv.name, ''))), '[]') FROM (
     SELECT vendor_id AS id, count(*) AS n FROM m WHERE f_cat AND f_price AND f_stock AND vendor_id IS NOT NULL
     GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ` + strconv.Itoa(maxFacetValues) + `) v
     LEFT JOIN search_vendors sv ON sv.tenant_id = ` + tenantArg + `::uuid AND sv.id = v.id),
  (SELECT coalesce(json_agg(json_build_array(b, n)), '[]') FROM (
     SELECT price_bucket AS b, count(*) AS n FROM m WHERE f_cat AND f_vendor AND f_stock GROUP BY 1) x),
  (SELECT json_build_array(min(price_min), max(price_min)) FROM m WHERE f_cat AND f_vendor AND f_stock),
  (SELECT coalesce(json_agg(json_build_array(s, n)), '[]') FROM (
     SELECT in_stock AS s, count(*) AS n FROM m WHERE f_cat AND f_vendor AND f_price GROUP BY 1) x)`
	return sql, a
}

func decodeResult(total int, hits, cats, vendors, prices, stats, stock []byte) (search.Result, error) {
	res := search.Result{Total: total, Hits: []search.Hit{}, Facets: search.NewFacets()}
	if err := json.Unmarshal(hits, &res.Hits); err != nil {
		return res, fmt.Errorf("decode hits: %w", err)
	}
	if res.Hits == nil {
		res.Hits = []search.Hit{}
	}
	for _, part := range []struct {
		raw []byte
		dst map[string]search.FacetValue
	}{{cats, res.Facets.Category}, {vendors, res.Facets.Vendor}} {
		var rows [][3]any
		if err := json.Unmarshal(part.raw, &rows); err != nil {
			return res, fmt.Errorf("decode facets: %w", err)
		}
		for _, r := range rows {
			id, _ := r[0].(string)
			n, _ := r[1].(float64)
			label, _ := r[2].(string)
			part.dst[id] = search.FacetValue{Label: label, Count: int(n)}
		}
	}
	var buckets [][2]any
	if err := json.Unmarshal(prices, &buckets); err != nil {
		return res, fmt.Errorf("decode price facet: %w", err)
	}
	for _, b := range buckets {
		k, _ := b[0].(string)
		n, _ := b[1].(float64)
		res.Facets.AddPriceCount(k, int(n))
	}
	if len(stats) > 0 {
		var mm [2]*decimal.Decimal
		if err := json.Unmarshal(stats, &mm); err != nil {
			return res, fmt.Errorf("decode price stats: %w", err)
		}
		res.Facets.Price.Min, res.Facets.Price.Max = mm[0], mm[1]
	}
	var st [][2]any
	if err := json.Unmarshal(stock, &st); err != nil {
		return res, fmt.Errorf("decode stock facet: %w", err)
	}
	for _, s := range st {
		b, _ := s[0].(bool)
		n, _ := s[1].(float64)
		res.Facets.InStock[strconv.FormatBool(b)] += int(n)
	}
	return res, nil
}

// browse answers a query without text: the page straight from an index in
// the requested order, and each facet from the projector's whole-catalog
// counts when no other filter than in-stock narrows it, else counted live
// over the filtered documents (a category or vendor narrows them a lot).
// Everything goes in one batch (one round trip).
func (ix *Index) browse(ctx context.Context, t tenant.ID, q search.Query) (search.Result, error) {
	if q.PriceMin != nil || q.PriceMax != nil {
		return ix.browsePriceRange(ctx, t, q)
	}
	// The live statements share their parameters: the tenant, then every
	// filter's; a statement that ignores a filter still references it (used2).
	var a args
	base := "d.tenant_id = " + a.add(t.UUID) + "::uuid"
	f := buildFilters(q, &a)
	a = slices.Clip(a) // the page's statement appends to a copy
	b := &pgx.Batch{}
	queue := func(sql string) { b.Queue(sql, a...) }
	// queueCounts queues a statement over the precomputed counts: only the tenant is a parameter.
	queueCounts := func(sql string) { b.Queue(sql, t.UUID) }
	page := a
	lim, off := page.add(q.Limit), page.add(q.Offset)
	b.Queue(`SELECT coalesce(json_agg(`+hitSQL+` ORDER BY p.rn), '[]') FROM (
  SELECT d.id, row_number() OVER () AS rn FROM (SELECT d.id FROM search_documents d WHERE `+
		and(base, f.cat, f.vendor, f.price, f.stock)+`
  ORDER BY `+qualified(orderBy(q.Sort, false))+` LIMIT `+lim+`::int OFFSET `+off+`::int) d) p
JOIN search_hits sh ON sh.tenant_id = $1::uuid AND sh.id = p.id
LEFT JOIN search_available sa ON sa.tenant_id = sh.tenant_id AND sa.id = sh.id`, page...)
	stockCond := ""
	if q.InStock {
		stockCond = " AND c.in_stock"
	}
	precomputed := func(facet string) string {
		join, label := "", "''"
		switch facet {
		case "category":
			join = " LEFT JOIN search_categories l ON l.tenant_id = c.tenant_id AND l.id::text = c.value"
			label = "coalesce(max(l.name), '')"
		case "vendor":
			join = " LEFT JOIN search_vendors l ON l.tenant_id = c.tenant_id AND l.id::text = c.value"
			label = "coalesce(max(l.name), '')"
		}
		return `SELECT coalesce(json_agg(json_build_array(value, n, label)), '[]') FROM (
  SELECT c.value, sum(c.n)::bigint AS n, ` + label + ` AS label FROM search_facet_counts c` + join + `
  WHERE c.tenant_id = $1::uuid AND c.facet = '` + facet + `'` + stockCond + `
  GROUP BY c.value HAVING sum(c.n) > 0 ORDER BY 2 DESC, 1 LIMIT ` + strconv.Itoa(maxFacetValues) + `) x`
	}
	live := func(group, labels, cond string) string {
		join, lab := "", "''"
		if labels != "" {
			join = " LEFT JOIN " + labels + " l ON l.tenant_id = $1::uuid AND l.id = x.value"
			lab = "coalesce(l.name, '')"
		}
		return `SELECT coalesce(json_agg(json_build_array(x.value, x.n, ` + lab + `)), '[]') FROM (
  SELECT ` + group + ` AS value, count(*) AS n FROM search_documents d WHERE ` + cond + `
  GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ` + strconv.Itoa(maxFacetValues) + `) x` + join
	}
	// total
	if f.cat == "" && f.vendor == "" && f.price == "" {
		queueCounts(`SELECT coalesce(sum(c.n), 0)::bigint FROM search_facet_counts c WHERE c.tenant_id = $1::uuid AND c.facet = 'total'` + stockCond)
	} else {
		queue(`SELECT count(*) FROM search_documents d WHERE ` + and(base, f.cat, f.vendor, f.price, f.stock))
	}
	if f.vendor == "" && f.price == "" {
		queueCounts(precomputed("category"))
	} else {
		queue(live("unnest(d.category_ids)", "search_categories", and(base, f.vendor, f.price, f.stock, used2(f.cat))))
	}
	if f.cat == "" && f.price == "" {
		queueCounts(precomputed("vendor"))
	} else {
		queue(live("d.vendor_id", "search_vendors", and(base, f.cat, f.price, f.stock, "d.vendor_id IS NOT NULL", used2(f.vendor))))
	}
	if f.cat == "" && f.vendor == "" {
		queueCounts(precomputed("price"))
	} else {
		queue(live("d.price_bucket", "", and(base, f.cat, f.vendor, f.stock, used2(f.price))))
	}
	queue(`SELECT json_build_array(min(d.price_min), max(d.price_min)) FROM search_documents d WHERE ` +
		and(base, f.cat, f.vendor, f.stock, used2(f.price)))
	if f.cat == "" && f.vendor == "" && f.price == "" {
		queueCounts(`SELECT coalesce(json_agg(json_build_array(in_stock, n)), '[]') FROM (
  SELECT c.in_stock, sum(c.n)::bigint AS n FROM search_facet_counts c WHERE c.tenant_id = $1::uuid AND c.facet = 'total'
  GROUP BY 1 HAVING sum(c.n) > 0) x`)
	} else {
		queue(`SELECT coalesce(json_agg(json_build_array(s, n)), '[]') FROM (
  SELECT d.in_stock AS s, count(*) AS n FROM search_documents d WHERE ` + and(base, f.cat, f.vendor, f.price, used2(f.stock)) + ` GROUP BY 1) x`)
	}
	br := ix.pool.SendBatch(ctx, b)
	defer br.Close()
	var hits, cats, vendors, prices, stats, stock []byte
	var total int
	for _, dst := range []any{&hits, &total, &cats, &vendors, &prices, &stats, &stock} {
		if err := br.QueryRow().Scan(dst); err != nil {
			return search.Result{}, err
		}
	}
	if err := br.Close(); err != nil {
		return search.Result{}, err
	}
	// The price facet's rows are [bucket, n, label]: decodeResult reads the
	// first two elements (encoding/json drops the rest).
	return decodeResult(total, hits, cats, vendors, prices, stats, stock)
}

// browsePriceRange answers a browse with a price range: the documents in
// the range (read through the price index) are scanned once for the page,
// the total and the category, vendor and in-stock facets; the price facet,
// which ignores the price filter, comes from the browse without it.
func (ix *Index) browsePriceRange(ctx context.Context, t tenant.ID, q search.Query) (search.Result, error) {
	var a args
	ta := a.add(t.UUID)
	inRange := buildFilters(search.Query{PriceMin: q.PriceMin, PriceMax: q.PriceMax}, &a)
	sql, a := facetedSQL(q, a, ta, inRange.price, "0")
	res, err := ix.run(ctx, sql, a)
	if err != nil {
		return res, err
	}
	noPrice := q
	noPrice.PriceMin, noPrice.PriceMax, noPrice.Limit, noPrice.Offset = nil, nil, 1, 0
	all, err := ix.browse(ctx, t, noPrice)
	if err != nil {
		return res, err
	}
	res.Facets.Price = all.Facets.Price
	return res, nil
}

// used2 turns a filter condition into one that references its parameters
// but is always true.
func used2(cond string) string {
	if cond == "" {
		return ""
	}
	return "(" + cond + ") IS NOT NULL OR true"
}

// qualified prefixes the sort columns with the table alias d.
func qualified(order string) string { return prefixed("d.", order) }

// prefixed prefixes each column of an ORDER BY list.
func prefixed(alias, order string) string {
	parts := strings.Split(order, ", ")
	for i, p := range parts {
		parts[i] = alias + p
	}
	return strings.Join(parts, ", ")
}

// uuidStrings spells ids as text (cast to uuid[] in SQL).
func uuidStrings(ids []uuid.UUID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}

// Explain returns EXPLAIN (ANALYZE, BUFFERS) of the statement a text query
// runs first, for benchmarks and diagnosis. It returns "" for a browse.
func (ix *Index) Explain(ctx context.Context, t tenant.ID, q search.Query) (string, error) {
	q = q.Normalized()
	p := ix.parseText(q.Text)
	if p.empty() {
		return "", nil
	}
	sql, a, err := ix.strictSQL(ctx, t, q, p)
	if err != nil {
		return "", err
	}
	rows, err := ix.pool.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+sql, a...)
	if err != nil {
		return "", err
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return strings.Join(lines, "\n"), err
}
