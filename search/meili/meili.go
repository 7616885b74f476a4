// Package meili is the optional Meilisearch search backend (meilisearch-go
// v0.37). Documents reach it through a search.Sink fed by the meili_sync
// projector (projections/searchdocs.Sync): batched upserts and deletes, each
// waited for and checked. Every projector generation writes its own index
// ("<prefix>_<generation>"), so a full reindex by replay builds a new index
// while queries keep reading the live one; queries resolve the live index
// with a function the wiring provides.
//
// Queries map to one multi-search: the page of hits, and one facet-only
// query per facet without that facet's filter (disjunctive facets). The
// query text is normalised like the documents' folded fields, so kana
// variants and full/half width meet.
//
// It must not import http or projections.
package meili

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/meilisearch/meilisearch-go"
	"github.com/shopspring/decimal"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/search"
	"github.com/honten/honten/search/textnorm"
)

// ErrUnavailable means Meilisearch did not answer or failed a task.
var ErrUnavailable = errs.New(errs.KindUnavailable, "search_unavailable", "search is unavailable; retry shortly")

// Config configures the client.
type Config struct {
	URL, APIKey string
	// HTTPClient replaces the default client (tests); nil means a client with a 10 s timeout.
	HTTPClient *http.Client
	// TaskPoll is the task polling interval; 0 means 10 ms.
	TaskPoll time.Duration
	// BatchSize bounds the documents of one upsert request; 0 means 1,000.
	BatchSize int
}

// Client talks to one Meilisearch server.
type Client struct {
	sm    meilisearch.ServiceManager
	poll  time.Duration
	batch int
}

// NewClient returns a client; it does not contact the server.
func NewClient(c Config) *Client {
	hc := c.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	opts := []meilisearch.Option{meilisearch.WithCustomClient(hc)}
	if c.APIKey != "" {
		opts = append(opts, meilisearch.WithAPIKey(c.APIKey))
	}
	if c.TaskPoll <= 0 {
		c.TaskPoll = 10 * time.Millisecond
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 1000
	}
	return &Client{sm: meilisearch.New(c.URL, opts...), poll: c.TaskPoll, batch: c.BatchSize}
}

// Settings are the index settings every generation's index gets.
func Settings() *meilisearch.Settings {
	return &meilisearch.Settings{
		// Order is rank: the title first, then the folded title (kana
		// variants), the other matchable fields, the readings of title and
		// categories (a query in kana finds the kanji spelling), SKUs, the
		// description.
		SearchableAttributes: []string{"title", "title_n", "match_n", "reading", "skus", "description"},
		FilterableAttributes: []string{"tenant_id", "category_ids", "vendor_id", "price_min_value", "in_stock"},
		SortableAttributes:   []string{"price_min_value", "price_max_value", "created_ts"},
		LocalizedAttributes: []*meilisearch.LocalizedAttributes{
			{AttributePatterns: []string{"title", "title_n", "match_n", "reading", "description"}, Locales: []string{"jpn", "eng"}},
		},
		TypoTolerance: &meilisearch.TypoTolerance{Enabled: true,
			MinWordSizeForTypos: meilisearch.MinWordSizeForTypos{OneTypo: 5, TwoTypos: 9}},
		Faceting:   &meilisearch.Faceting{MaxValuesPerFacet: 100},
		Pagination: &meilisearch.Pagination{MaxTotalHits: search.MaxDepth},
	}
}

// Prepare creates index uid (when missing) with Settings and waits until
// both tasks succeeded. It returns ErrUnavailable wrapped with the cause.
func (c *Client) Prepare(ctx context.Context, uid string) error {
	task, err := c.sm.CreateIndex(ctx, &meilisearch.IndexConfig{Uid: uid, PrimaryKey: "id"})
	if err != nil {
		return c.fail("create index "+uid, err)
	}
	// An index that already exists fails this task: that is fine.
	if _, err := c.wait(ctx, task, true); err != nil {
		return err
	}
	task, err = c.sm.Index(uid).UpdateSettings(ctx, Settings())
	if err != nil {
		return c.fail("settings of "+uid, err)
	}
	_, err = c.wait(ctx, task, false)
	return err
}

// DeleteIndex removes index uid; a missing index is not an error.
func (c *Client) DeleteIndex(ctx context.Context, uid string) error {
	task, err := c.sm.DeleteIndex(ctx, uid)
	if err != nil {
		return c.fail("delete index "+uid, err)
	}
	_, err = c.wait(ctx, task, true)
	return err
}

// wait waits for a task and checks that it succeeded (WaitForTask itself
// returns no error for a failed task).
func (c *Client) wait(ctx context.Context, info *meilisearch.TaskInfo, mayFail bool) (*meilisearch.Task, error) {
	task, err := c.sm.WaitForTask(ctx, info.TaskUID, c.poll)
	if err != nil {
		return nil, c.fail(fmt.Sprintf("wait for task %d", info.TaskUID), err)
	}
	if task.Status != meilisearch.TaskStatusSucceeded && !mayFail {
		return task, fmt.Errorf("meilisearch task %d (%s) %s: %s: %w", task.UID, task.Type, task.Status, task.Error.Message, ErrUnavailable)
	}
	return task, nil
}

func (c *Client) fail(what string, err error) error {
	return fmt.Errorf("meilisearch: %s: %w: %w", what, ErrUnavailable, err)
}

// Sink returns the sink writing index uid.
func (c *Client) Sink(uid string) search.Sink { return &Sink{c: c, uid: uid} }

// Sink writes documents to one index.
type Sink struct {
	c   *Client
	uid string
}

var _ search.Sink = (*Sink)(nil)

// Upsert implements search.Sink: documents in batches, each task waited
// for and checked. It returns ErrUnavailable (wrapped) on any failure.
func (s *Sink) Upsert(ctx context.Context, docs []search.Document) error {
	pk := "id"
	for start := 0; start < len(docs); start += s.c.batch {
		part := docs[start:min(start+s.c.batch, len(docs))]
		out := make([]Doc, len(part))
		for i, d := range part {
			out[i] = ToDoc(d)
		}
		task, err := s.c.sm.Index(s.uid).AddDocuments(ctx, out, &meilisearch.DocumentOptions{PrimaryKey: &pk})
		if err != nil {
			return s.c.fail("add documents to "+s.uid, err)
		}
		if _, err := s.c.wait(ctx, task, false); err != nil {
			return err
		}
	}
	return nil
}

// Delete implements search.Sink.
func (s *Sink) Delete(ctx context.Context, keys []search.Key) error {
	if len(keys) == 0 {
		return nil
	}
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID.String()
	}
	task, err := s.c.sm.Index(s.uid).DeleteDocuments(ctx, ids, nil)
	if err != nil {
		return s.c.fail("delete documents from "+s.uid, err)
	}
	_, err = s.c.wait(ctx, task, false)
	return err
}

// Doc is a document as Meilisearch stores it: the search.Document fields
// plus the folded text, numeric prices and facet values.
type Doc struct {
	ID             string          `json:"id"`
	TenantID       string          `json:"tenant_id"`
	Handle         string          `json:"handle"`
	Title          string          `json:"title"`
	TitleN         string          `json:"title_n"`
	MatchN         string          `json:"match_n"`
	Reading        string          `json:"reading"`
	Description    string          `json:"description"`
	Vendor         search.Ref      `json:"vendor"`
	VendorID       string          `json:"vendor_id"`
	VendorFacet    string          `json:"vendor_facet"`
	Categories     []search.Ref    `json:"categories"`
	CategoryIDs    []string        `json:"category_ids"`
	CategoryFacets []string        `json:"category_facets"`
	SKUs           []string        `json:"skus"`
	Variants       []string        `json:"variants"`
	PriceMin       money.Money     `json:"price_min"`
	PriceMax       money.Money     `json:"price_max"`
	PriceMinValue  json.RawMessage `json:"price_min_value"`
	PriceMaxValue  json.RawMessage `json:"price_max_value"`
	PriceBucket    string          `json:"price_bucket"`
	Available      int64           `json:"available"`
	InStock        bool            `json:"in_stock"`
	CreatedAt      time.Time       `json:"created_at"`
	CreatedTS      int64           `json:"created_ts"`
	Version        int64           `json:"stream_version"`
}

// ToDoc converts a document; prices go as JSON numbers from their decimal
// text (never through a float in Go).
func ToDoc(d search.Document) Doc {
	out := Doc{ID: d.ID.String(), TenantID: d.Tenant.String(), Handle: d.Handle, Title: d.Title, TitleN: d.TitleText(),
		MatchN: d.MatchText(), Reading: d.Reading, Description: d.Description, Vendor: d.Vendor, VendorID: d.Vendor.ID.String(),
		VendorFacet: facetValue(d.Vendor), Categories: d.Categories, CategoryIDs: []string{}, CategoryFacets: []string{},
		SKUs: d.SKUs, Variants: d.Variants, PriceMin: d.PriceMin, PriceMax: d.PriceMax, PriceMinValue: number(d.PriceMin),
		PriceMaxValue: number(d.PriceMax), PriceBucket: search.PriceBucket(d.PriceMin.Amount()), Available: d.Available,
		InStock: d.InStock, CreatedAt: d.CreatedAt, CreatedTS: d.CreatedAt.Unix(), Version: d.Version}
	for _, c := range d.AllCategories {
		out.CategoryIDs = append(out.CategoryIDs, c.ID.String())
		out.CategoryFacets = append(out.CategoryFacets, facetValue(c))
	}
	return out
}

func number(m money.Money) json.RawMessage {
	if m.Currency() == "" {
		return json.RawMessage("null")
	}
	return json.RawMessage(m.Amount().String())
}

// facetValue is "<id>|<name>": facet values carry their label.
func facetValue(r search.Ref) string { return r.ID.String() + "|" + r.Name }

func parseFacetValue(v string) (string, string) {
	if len(v) > 37 && v[36] == '|' {
		return v[:36], v[37:]
	}
	return v, ""
}

// Index is the Meilisearch backend's query side.
type Index struct {
	c *Client
	// LiveUID names the index queries read (the live generation's).
	LiveUID func(ctx context.Context) (string, error)
}

var _ search.Index = (*Index)(nil)

// NewIndex returns the query side reading the index liveUID names.
func NewIndex(c *Client, liveUID func(ctx context.Context) (string, error)) *Index {
	return &Index{c: c, LiveUID: liveUID}
}

func quote(s string) string { return strconv.Quote(s) }

func inList(field string, ids []uuid.UUID) string {
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = quote(id.String())
	}
	return field + " IN [" + strings.Join(q, ", ") + "]"
}

// filterExpr builds a filter from the tenant and every filter but skip.
func filterExpr(t tenant.ID, q search.Query, skip string) string {
	parts := []string{"tenant_id = " + quote(t.String())}
	if len(q.Categories) > 0 && skip != "category" {
		parts = append(parts, inList("category_ids", q.Categories))
	}
	if len(q.Vendors) > 0 && skip != "vendor" {
		parts = append(parts, inList("vendor_id", q.Vendors))
	}
	if skip != "price" {
		if q.PriceMin != nil {
			parts = append(parts, "price_min_value >= "+q.PriceMin.String())
		}
		if q.PriceMax != nil {
			parts = append(parts, "price_min_value <= "+q.PriceMax.String())
		}
	}
	if q.InStock && skip != "in_stock" {
		parts = append(parts, "in_stock = true")
	}
	return strings.Join(parts, " AND ")
}

// Request returns the multi-search a query becomes (exported for the
// recorded-exchange tests).
func Request(uid string, t tenant.ID, q search.Query) *meilisearch.MultiSearchRequest {
	q = q.Normalized()
	text := strings.Join(search.QueryTokens(textnorm.Normalize(q.Text)), " ")
	var locales []string
	if textnorm.IsCJK(text) {
		locales = []string{"jpn"}
	}
	var sort []string
	switch {
	case q.Sort == search.SortPriceAsc:
		sort = []string{"price_min_value:asc"}
	case q.Sort == search.SortPriceDesc:
		sort = []string{"price_max_value:desc"}
	case q.Sort == search.SortNewest, text == "":
		sort = []string{"created_ts:desc"}
	}
	main := &meilisearch.SearchRequest{IndexUID: uid, Query: text, Filter: filterExpr(t, q, ""), Sort: sort,
		Limit: int64(q.Limit), Offset: int64(q.Offset), Locales: locales, AttributesToRetrieve: []string{"*"}}
	if q.Limit == 0 {
		// Past the paging cap: Meilisearch reads limit 0 as "default".
		main.Offset = search.MaxDepth
	}
	facet := func(skip string, facets ...string) *meilisearch.SearchRequest {
		return &meilisearch.SearchRequest{IndexUID: uid, Query: text, Filter: filterExpr(t, q, skip), Facets: facets,
			Limit: 1, Locales: locales, AttributesToRetrieve: []string{"id"}}
	}
	return &meilisearch.MultiSearchRequest{Queries: []*meilisearch.SearchRequest{main,
		facet("category", "category_facets"),
		facet("vendor", "vendor_facet"),
		facet("price", "price_bucket", "price_min_value"),
		facet("in_stock", "in_stock"),
	}}
}

// Search implements search.Index. A missing index (nothing synced yet)
// answers no hits. It returns ErrUnavailable (wrapped) when Meilisearch
// fails.
func (ix *Index) Search(ctx context.Context, t tenant.ID, q search.Query) (search.Result, error) {
	start := time.Now()
	uid, err := ix.LiveUID(ctx)
	if err != nil {
		return search.Result{}, fmt.Errorf("meilisearch: live index: %w", err)
	}
	resp, err := ix.c.sm.MultiSearch(ctx, Request(uid, t, q))
	if err != nil {
		var me *meilisearch.Error
		if errors.As(err, &me) && me.APIError.Code == "index_not_found" {
			return search.Result{Hits: []search.Hit{}, Facets: search.NewFacets(), TookMS: time.Since(start).Milliseconds()}, nil
		}
		return search.Result{}, ix.c.fail("search", err)
	}
	res, err := decode(resp)
	if err != nil {
		return search.Result{}, err
	}
	res.TookMS = time.Since(start).Milliseconds()
	return res, nil
}

func decode(resp *meilisearch.MultiSearchResponse) (search.Result, error) {
	res := search.Result{Hits: []search.Hit{}, Facets: search.NewFacets()}
	if len(resp.Results) != 5 {
		return res, fmt.Errorf("meilisearch: %d results for 5 queries: %w", len(resp.Results), ErrUnavailable)
	}
	main := resp.Results[0]
	var docs []Doc
	if err := main.Hits.DecodeInto(&docs); err != nil {
		return res, fmt.Errorf("meilisearch: decode hits: %w", err)
	}
	for _, d := range docs {
		id, _ := uuid.Parse(d.ID)
		res.Hits = append(res.Hits, search.Document{ID: id, Handle: d.Handle, Title: d.Title, Vendor: d.Vendor, Categories: d.Categories,
			SKUs: d.SKUs, PriceMin: d.PriceMin, PriceMax: d.PriceMax, Available: d.Available, InStock: d.InStock, CreatedAt: d.CreatedAt}.Hit())
	}
	res.Total = int(main.EstimatedTotalHits)
	if main.TotalHits > 0 {
		res.Total = int(main.TotalHits)
	}
	dist := func(r meilisearch.SearchResponse, name string) (map[string]int, error) {
		var all map[string]map[string]int
		if len(r.FacetDistribution) > 0 {
			if err := json.Unmarshal(r.FacetDistribution, &all); err != nil {
				return nil, fmt.Errorf("meilisearch: decode facets: %w", err)
			}
		}
		return all[name], nil
	}
	for i, f := range []struct {
		name string
		dst  map[string]search.FacetValue
	}{{"category_facets", res.Facets.Category}, {"vendor_facet", res.Facets.Vendor}} {
		d, err := dist(resp.Results[i+1], f.name)
		if err != nil {
			return res, err
		}
		for v, n := range d {
			id, label := parseFacetValue(v)
			f.dst[id] = search.FacetValue{Label: label, Count: n}
		}
	}
	prices, err := dist(resp.Results[3], "price_bucket")
	if err != nil {
		return res, err
	}
	for k, n := range prices {
		res.Facets.AddPriceCount(k, n)
	}
	if raw := resp.Results[3].FacetStats; len(raw) > 0 {
		var stats map[string]struct {
			Min json.Number `json:"min"`
			Max json.Number `json:"max"`
		}
		if err := json.Unmarshal(raw, &stats); err == nil {
			if s, ok := stats["price_min_value"]; ok {
				if lo, err := decimal.NewFromString(s.Min.String()); err == nil {
					res.Facets.Price.Min = &lo
				}
				if hi, err := decimal.NewFromString(s.Max.String()); err == nil {
					res.Facets.Price.Max = &hi
				}
			}
		}
	}
	stock, err := dist(resp.Results[4], "in_stock")
	if err != nil {
		return res, err
	}
	for k, n := range stock {
		res.Facets.InStock[k] = n
	}
	return res, nil
}
