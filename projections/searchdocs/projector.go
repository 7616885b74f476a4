package searchdocs

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/search"
	"github.com/honten/honten/search/textnorm"
)

// Name is the projector's frozen name; renaming it rebuilds the model
// (v2: readings, reading_n and words_n; v3: search_available).
const Name = "search_documents.v3"

// Projector builds search_documents (and its dictionary and facet counts).
type Projector struct {
	Registry *eventstore.Registry
	// WithoutReadings builds documents without readings (empty reading_n
	// and words_n), as before readings existed: for benchmarks that
	// compare the two.
	WithoutReadings bool
}

var _ projections.Projector = Projector{}

// Name implements projections.Projector.
func (Projector) Name() string { return Name }

// Schema implements projections.Projector.
func (Projector) Schema() projections.Schema {
	return projections.Schema{
		Tables:       []string{"search_documents", "search_hits", "search_available", "search_words", "search_facet_counts", "search_categories", "search_vendors"},
		Create:       "rm_search_documents_v3_create",
		Index:        "rm_search_documents_v2_index",
		PayloadTypes: payloadTypes(),
	}
}

// Apply implements projections.Projector.
func (p Projector) Apply(ctx context.Context, tx pgx.Tx, batch []eventstore.Envelope) error {
	return applyBatch(ctx, tx, p.Registry, batch, rowWriter{}, !p.WithoutReadings)
}

// rowWriter writes documents as search_documents rows, keeps the word
// dictionary and moves the whole-catalog facet counts by the difference
// between each old and new document. A product's available units go to
// search_available alone (the stored hit leaves them out; the backend joins
// them in): a change of stock that does not flip in-stock writes that row
// and nothing else.
type rowWriter struct{}

type facetKey struct {
	T       uuid.UUID
	Facet   string
	Value   string
	InStock bool
}

// facetContribution is what one document adds to the facet counts.
type facetContribution struct {
	vendor  *uuid.UUID
	cats    []uuid.UUID
	bucket  string
	inStock bool
}

func (f facetContribution) add(t uuid.UUID, deltas map[facetKey]int64, sign int64) {
	deltas[facetKey{t, "total", "", f.inStock}] += sign
	deltas[facetKey{t, "price", f.bucket, f.inStock}] += sign
	if f.vendor != nil {
		deltas[facetKey{t, "vendor", f.vendor.String(), f.inStock}] += sign
	}
	for _, c := range f.cats {
		deltas[facetKey{t, "category", c.String(), f.inStock}] += sign
	}
}

func (rowWriter) write(ctx context.Context, tx pgx.Tx, changes []change) error {
	if len(changes) == 0 {
		return nil
	}
	keys := make([]key, len(changes))
	for i, c := range changes {
		keys[i] = c.Key
	}
	ts, ids := splitKeys(keys)
	rows, err := tx.Query(ctx, `SELECT d.tenant_id, d.id, d.vendor_id, d.category_ids, d.price_bucket, d.in_stock, tsvector_to_array(d.tsv)
FROM search_documents d
JOIN unnest($1::uuid[], $2::uuid[]) AS k(t, id) ON d.tenant_id = k.t AND d.id = k.id`, ts, ids)
	if err != nil {
		return fmt.Errorf("search documents: load old documents: %w", err)
	}
	old := map[key]facetContribution{}
	oldWords := map[key][]string{}
	var k key
	var f facetContribution
	var ws []string
	if _, err := pgx.ForEachRow(rows, []any{&k.T, &k.ID, &f.vendor, &f.cats, &f.bucket, &f.inStock, &ws}, func() error {
		old[k] = facetContribution{vendor: f.vendor, cats: f.cats, bucket: f.bucket, inStock: f.inStock}
		oldWords[k] = ws
		return nil
	}); err != nil {
		return fmt.Errorf("search documents: load old documents: %w", err)
	}

	deltas := map[facetKey]int64{}
	wordDelta := map[uuid.UUID]map[string]int64{}
	moveWords := func(t uuid.UUID, words []string, sign int64) {
		if wordDelta[t] == nil {
			wordDelta[t] = map[string]int64{}
		}
		for _, w := range words {
			wordDelta[t][w] += sign
		}
	}
	b := &pgx.Batch{}
	var delT, delID []uuid.UUID
	var avT, avID []uuid.UUID
	var avN []int64
	for _, c := range changes {
		if c.Active {
			avT, avID, avN = append(avT, c.Key.T), append(avID, c.Key.ID), append(avN, c.Doc.Available)
		}
		if o, ok := old[c.Key]; ok && c.Active && c.StockOnly && o.inStock == c.Doc.InStock {
			continue // the stored document and hit stand; search_available moves
		}
		if o, ok := old[c.Key]; ok {
			o.add(c.Key.T, deltas, -1)
			moveWords(c.Key.T, oldWords[c.Key], -1)
		}
		if !c.Active {
			delT, delID = append(delT, c.Key.T), append(delID, c.Key.ID)
			continue
		}
		r, err := rowOf(c.Doc)
		if err != nil {
			return err
		}
		r.facets.add(c.Key.T, deltas, +1)
		moveWords(c.Key.T, r.words, +1)
		b.Queue(upsertDoc, c.Key.T, c.Key.ID, r.titleN, r.matchN, r.grams, r.tsv, r.facets.vendor, r.facets.cats,
			r.priceMin, r.priceMax, r.facets.bucket, r.facets.inStock, c.Doc.CreatedAt, c.Doc.Version, r.readingN, r.wordsN)
		b.Queue(`INSERT INTO search_hits (tenant_id, id, hit) VALUES ($1, $2, $3::jsonb - 'available')
ON CONFLICT (tenant_id, id) DO UPDATE SET hit = EXCLUDED.hit`, c.Key.T, c.Key.ID, r.hit)
	}
	if len(avT) > 0 {
		b.Queue(`INSERT INTO search_available (tenant_id, id, available) SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bigint[])
ON CONFLICT (tenant_id, id) DO UPDATE SET available = EXCLUDED.available
WHERE search_available.available IS DISTINCT FROM EXCLUDED.available`, avT, avID, avN)
	}
	if len(delT) > 0 {
		b.Queue(`DELETE FROM search_available a USING unnest($1::uuid[], $2::uuid[]) AS k(t, id)
WHERE a.tenant_id = k.t AND a.id = k.id`, delT, delID)
		b.Queue(`DELETE FROM search_documents d USING unnest($1::uuid[], $2::uuid[]) AS k(t, id)
WHERE d.tenant_id = k.t AND d.id = k.id`, delT, delID)
		b.Queue(`DELETE FROM search_hits h USING unnest($1::uuid[], $2::uuid[]) AS k(t, id)
WHERE h.tenant_id = k.t AND h.id = k.id`, delT, delID)
	}
	// Counts go up and down with the documents and rows at zero are
	// removed, so the tables are a function of the documents alone (the
	// same after a replay in batches of any size).
	var wt []uuid.UUID
	var ww []string
	var wn []int64
	for _, t := range sortedTenants(wordDelta) {
		for _, w := range sortedWords(wordDelta[t]) {
			if n := wordDelta[t][w]; n != 0 {
				wt, ww, wn = append(wt, t), append(ww, w), append(wn, n)
			}
		}
	}
	if len(wt) > 0 {
		b.Queue(`INSERT INTO search_words AS w (tenant_id, word, ndoc) SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[])
ON CONFLICT (tenant_id, word) DO UPDATE SET ndoc = w.ndoc + EXCLUDED.ndoc`, wt, ww, wn)
		b.Queue(`DELETE FROM search_words w USING unnest($1::uuid[], $2::text[]) AS k(t, word)
WHERE w.tenant_id = k.t AND w.word = k.word AND w.ndoc <= 0`, wt, ww)
	}
	if len(deltas) > 0 {
		var ft []uuid.UUID
		var ff, fv []string
		var fs []bool
		var fn []int64
		for fk, n := range deltas {
			if n == 0 {
				continue
			}
			ft, ff, fv, fs, fn = append(ft, fk.T), append(ff, fk.Facet), append(fv, fk.Value), append(fs, fk.InStock), append(fn, n)
		}
		if len(ft) > 0 {
			b.Queue(`INSERT INTO search_facet_counts AS c (tenant_id, facet, value, in_stock, n)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bool[], $5::bigint[]) ORDER BY 1, 2, 3, 4
ON CONFLICT (tenant_id, facet, value, in_stock) DO UPDATE SET n = c.n + EXCLUDED.n`, ft, ff, fv, fs, fn)
			b.Queue(`DELETE FROM search_facet_counts c USING unnest($1::uuid[], $2::text[], $3::text[], $4::bool[]) AS k(t, f, v, s)
WHERE c.tenant_id = k.t AND c.facet = k.f AND c.value = k.v AND c.in_stock = k.s AND c.n = 0`, ft, ff, fv, fs)
		}
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("search documents: write documents: %w", err)
	}
	return nil
}

const upsertDoc = `
INSERT INTO search_documents (tenant_id, id, title_n, match_n, grams, tsv, vendor_id, category_ids,
    price_min, price_max, price_bucket, in_stock, created_at, version, reading_n, words_n)
VALUES ($1, $2, $3, $4, $5, $6::tsvector, $7, $8, $9::numeric, $10::numeric, $11, $12, $13, $14, $15, $16)
ON CONFLICT (tenant_id, id) DO UPDATE SET title_n = EXCLUDED.title_n, match_n = EXCLUDED.match_n,
    grams = EXCLUDED.grams, tsv = EXCLUDED.tsv, vendor_id = EXCLUDED.vendor_id, category_ids = EXCLUDED.category_ids,
    price_min = EXCLUDED.price_min, price_max = EXCLUDED.price_max, price_bucket = EXCLUDED.price_bucket,
    in_stock = EXCLUDED.in_stock, created_at = EXCLUDED.created_at, version = EXCLUDED.version,
    reading_n = EXCLUDED.reading_n, words_n = EXCLUDED.words_n`

// docRow is a document in the columns of search_documents.
type docRow struct {
	hit                []byte
	titleN, matchN     string
	readingN           string   // the readings of title and categories (Document.Reading)
	wordsN             []string // whole words, surfaces and readings (Document.ReadingWords)
	grams              []string
	tsv                string
	words              []string
	priceMin, priceMax *string
	facets             facetContribution
}

// maxDescriptionWords bounds the description words indexed per document.
const maxDescriptionWords = 300

func rowOf(d search.Document) (docRow, error) {
	raw, err := json.Marshal(d.Hit())
	if err != nil {
		return docRow{}, fmt.Errorf("search documents: encode %s: %w", d.ID, err)
	}
	r := docRow{hit: raw, titleN: d.TitleText(), matchN: d.MatchText(), readingN: d.Reading, wordsN: d.ReadingWords}
	if r.wordsN == nil {
		r.wordsN = []string{}
	}
	// The bigram index holds the grams of the text and of its readings: a
	// query in kana finds the documents whose readings hold it.
	r.grams = textnorm.DocGrams(r.matchN + " | " + r.readingN)
	if r.grams == nil {
		r.grams = []string{}
	}
	match := search.Words(r.matchN)
	desc := search.Words(d.DescriptionText())
	if len(desc) > maxDescriptionWords {
		desc = desc[:maxDescriptionWords]
	}
	r.tsv = tsvectorLiteral(match, desc)
	r.words = distinct(append(append([]string{}, match...), desc...))
	if d.PriceMin.Currency() != "" {
		lo, hi := d.PriceMin.Amount().String(), d.PriceMax.Amount().String()
		r.priceMin, r.priceMax = &lo, &hi
	}
	r.facets = facetContribution{cats: d.CategoryIDs(), bucket: search.PriceBucket(d.PriceMin.Amount()), inStock: d.InStock}
	if r.facets.cats == nil {
		r.facets.cats = []uuid.UUID{}
	}
	if d.Vendor.ID != uuid.Nil {
		v := d.Vendor.ID
		r.facets.vendor = &v
	}
	return r, nil
}

// tsvectorLiteral writes a tsvector in its input syntax: the match words
// at weight A, the description words at weight D, with positions so the
// weights count in ts_rank. Words come from textnorm.Tokens (letters and
// digits), quoted anyway.
func tsvectorLiteral(match, desc []string) string {
	var b strings.Builder
	pos := 0
	seen := map[string]bool{}
	write := func(ws []string, weight string) {
		for _, w := range ws {
			pos++
			if seen[w] || pos > 16383 {
				continue
			}
			seen[w] = true
			b.WriteString("'")
			b.WriteString(strings.NewReplacer(`'`, `''`, `\`, `\\`).Replace(w))
			b.WriteString("':")
			b.WriteString(strconv.Itoa(pos))
			b.WriteString(weight)
			b.WriteString(" ")
		}
	}
	write(match, "A")
	write(desc, "D")
	return b.String()
}

func sortedTenants(m map[uuid.UUID]map[string]int64) []uuid.UUID {
	out := make([]uuid.UUID, 0, len(m))
	for t := range m {
		out = append(out, t)
	}
	sortUUIDs(out)
	return out
}

func sortedWords(m map[string]int64) []string {
	out := make([]string, 0, len(m))
	for w := range m {
		out = append(out, w)
	}
	sortStrings(out)
	return out
}

func distinct(ws []string) []string {
	seen := map[string]bool{}
	out := ws[:0]
	for _, w := range ws {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}
