package meili_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/pgtest"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/projections/searchdocs"
	"github.com/honten/honten/search"
	"github.com/honten/honten/search/meili"
	"github.com/honten/honten/search/searchtest"
)

// exchange is one recorded request.
type exchange struct {
	Method, Path, Query string
	Body                json.RawMessage
	Auth                string
}

// fakeMeili answers like Meilisearch for the calls the adapter makes and
// records every request: the tests check what was sent.
type fakeMeili struct {
	mu         sync.Mutex
	got        []exchange
	tasks      int
	failTasks  map[string]bool // task type → fails
	taskStatus map[int]taskState
	search     string // the multi-search response body
	docs       map[string]map[string]json.RawMessage
}

func newFake(t *testing.T) (*fakeMeili, *httptest.Server) {
	f := &fakeMeili{failTasks: map[string]bool{}, taskStatus: map[int]taskState{}, docs: map[string]map[string]json.RawMessage{}}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeMeili) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, exchange{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: body, Auth: r.Header.Get("Authorization")})
	w.Header().Set("Content-Type", "application/json")
	task := func(typ string) {
		f.tasks++
		status := "succeeded"
		if f.failTasks[typ] {
			status = "failed"
		}
		f.taskStatus[f.tasks] = taskState{typ, status}
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"taskUid":` + strconv.Itoa(f.tasks) + `,"indexUid":"x","status":"enqueued","type":"` + typ + `","enqueuedAt":"2026-01-01T00:00:00Z"}`))
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method == "POST" && r.URL.Path == "/indexes":
		task("indexCreation")
	case r.Method == "PATCH" && len(parts) == 3 && parts[2] == "settings":
		task("settingsUpdate")
	case r.Method == "DELETE" && len(parts) == 2:
		task("indexDeletion")
	case r.Method == "POST" && len(parts) == 3 && parts[2] == "documents":
		var docs []map[string]json.RawMessage
		_ = json.Unmarshal(body, &docs)
		if f.docs[parts[1]] == nil {
			f.docs[parts[1]] = map[string]json.RawMessage{}
		}
		for _, d := range docs {
			var id string
			_ = json.Unmarshal(d["id"], &id)
			raw, _ := json.Marshal(d)
			f.docs[parts[1]][id] = raw
		}
		task("documentAdditionOrUpdate")
	case r.Method == "POST" && len(parts) == 4 && parts[3] == "delete-batch":
		var ids []string
		_ = json.Unmarshal(body, &ids)
		for _, id := range ids {
			delete(f.docs[parts[1]], id)
		}
		task("documentDeletion")
	case r.Method == "GET" && len(parts) == 2 && parts[0] == "tasks":
		n, _ := strconv.Atoi(parts[1])
		st := f.taskStatus[n]
		errJSON := `null`
		if st.status == "failed" {
			errJSON = `{"message":"invalid document","code":"invalid_document_fields","type":"invalid_request","link":""}`
		}
		_, _ = w.Write([]byte(`{"uid":` + parts[1] + `,"indexUid":"x","status":"` + st.status + `","type":"` + st.typ + `","error":` + errJSON + `}`))
	case r.Method == "POST" && r.URL.Path == "/multi-search":
		_, _ = w.Write([]byte(f.search))
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"message":"not found","code":"not_found","type":"invalid_request","link":""}`))
	}
}

type taskState struct{ typ, status string }

func (f *fakeMeili) requests(method, pathPrefix string) []exchange {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []exchange
	for _, e := range f.got {
		if e.Method == method && strings.HasPrefix(e.Path, pathPrefix) {
			out = append(out, e)
		}
	}
	return out
}

func client(srv *httptest.Server) *meili.Client {
	return meili.NewClient(meili.Config{URL: srv.URL, APIKey: "secret-key", TaskPoll: time.Millisecond})
}

func TestPrepareSendsSettingsAndChecksTasks(t *testing.T) {
	t.Parallel()
	f, srv := newFake(t)
	c := client(srv)
	require.NoError(t, c.Prepare(context.Background(), "honten_products_1"))

	create := f.requests("POST", "/indexes")
	require.Len(t, create, 1)
	require.JSONEq(t, `{"uid":"honten_products_1","primaryKey":"id"}`, string(create[0].Body))
	require.Equal(t, "Bearer secret-key", create[0].Auth)
	settings := f.requests("PATCH", "/indexes/honten_products_1/settings")
	require.Len(t, settings, 1)
	require.JSONEq(t, `{
		"searchableAttributes": ["title", "title_n", "match_n", "reading", "skus", "description"],
		"filterableAttributes": ["tenant_id", "category_ids", "vendor_id", "price_min_value", "in_stock"],
		"sortableAttributes": ["price_min_value", "price_max_value", "created_ts"],
		"localizedAttributes": [{"attributePatterns": ["title", "title_n", "match_n", "reading", "description"], "locales": ["jpn", "eng"]}],
		"typoTolerance": {"enabled": true, "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9},
		                  "disableOnWords": null, "disableOnAttributes": null, "disableOnNumbers": false},
		"faceting": {"maxValuesPerFacet": 100, "sortFacetValuesBy": null},
		"pagination": {"maxTotalHits": 1000}
	}`, string(settings[0].Body))
	// Both tasks were waited for.
	require.Len(t, f.requests("GET", "/tasks/"), 2)

	// A failed settings task is an error (WaitForTask alone would not say).
	f.mu.Lock()
	f.failTasks["settingsUpdate"] = true
	f.mu.Unlock()
	err := c.Prepare(context.Background(), "honten_products_2")
	require.ErrorIs(t, err, meili.ErrUnavailable)
	require.Equal(t, errs.KindUnavailable, errs.KindOf(err))
}

func doc() search.Document {
	t := tenant.ID{UUID: uuid.MustParse("0193a1b2-0000-7000-8000-0000000000aa")}
	d := search.Document{Tenant: t, ID: uuid.MustParse("0193a1b2-0000-7000-8000-000000000001"), Handle: "headphones",
		Title: "ﾍｯﾄﾞﾌｫﾝ WH-1000XM5", Vendor: search.Ref{ID: uuid.MustParse("0193a1b2-0000-7000-8000-000000000002"), Name: "ソニー"},
		Categories:    []search.Ref{{ID: uuid.MustParse("0193a1b2-0000-7000-8000-000000000003"), Name: "オーディオ"}},
		AllCategories: []search.Ref{{ID: uuid.MustParse("0193a1b2-0000-7000-8000-000000000003"), Name: "オーディオ"}, {ID: uuid.MustParse("0193a1b2-0000-7000-8000-000000000004"), Name: "家電"}},
		SKUs:          []string{"WH-1000XM5-B"}, Variants: []string{"ブラック"},
		PriceMin: money.MustNew(decimal.NewFromInt(49500), "JPY"), PriceMax: money.MustNew(decimal.NewFromInt(52000), "JPY"),
		Available: 3, InStock: true, CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Version: 7}
	d.AddReadings()
	return d
}

func TestUpsertAndDeleteSendDocuments(t *testing.T) {
	t.Parallel()
	f, srv := newFake(t)
	s := client(srv).Sink("honten_products_1")
	ctx := context.Background()
	require.NoError(t, s.Upsert(ctx, []search.Document{doc()}))
	add := f.requests("POST", "/indexes/honten_products_1/documents")
	require.Len(t, add, 1)
	require.Equal(t, "primaryKey=id", add[0].Query)
	require.JSONEq(t, `[{
		"id": "0193a1b2-0000-7000-8000-000000000001", "tenant_id": "0193a1b2-0000-7000-8000-0000000000aa",
		"handle": "headphones", "title": "ﾍｯﾄﾞﾌｫﾝ WH-1000XM5", "title_n": "へっどほん wh-1000xm5",
		"match_n": "へっどほん wh-1000xm5 | そに | おおでいお | ぶらっく | wh-1000xm5-b", "description": "",
		"reading": "へっどほん | おおでいお",
		"vendor": {"id": "0193a1b2-0000-7000-8000-000000000002", "name": "ソニー"},
		"vendor_id": "0193a1b2-0000-7000-8000-000000000002", "vendor_facet": "0193a1b2-0000-7000-8000-000000000002|ソニー",
		"categories": [{"id": "0193a1b2-0000-7000-8000-000000000003", "name": "オーディオ"}],
		"category_ids": ["0193a1b2-0000-7000-8000-000000000003", "0193a1b2-0000-7000-8000-000000000004"],
		"category_facets": ["0193a1b2-0000-7000-8000-000000000003|オーディオ", "0193a1b2-0000-7000-8000-000000000004|家電"],
		"skus": ["WH-1000XM5-B"], "variants": ["ブラック"],
		"price_min": {"amount": "49500", "currency": "JPY"}, "price_max": {"amount": "52000", "currency": "JPY"},
		"price_min_value": 49500, "price_max_value": 52000, "price_bucket": "30000-",
		"available": 3, "in_stock": true, "created_at": "2026-01-02T03:04:05Z", "created_ts": 1767323045, "stream_version": 7
	}]`, string(add[0].Body))

	require.NoError(t, s.Delete(ctx, []search.Key{{ID: doc().ID}}))
	del := f.requests("POST", "/indexes/honten_products_1/documents/delete-batch")
	require.Len(t, del, 1)
	require.JSONEq(t, `["0193a1b2-0000-7000-8000-000000000001"]`, string(del[0].Body))

	f.mu.Lock()
	f.failTasks["documentAdditionOrUpdate"] = true
	f.mu.Unlock()
	require.ErrorIs(t, s.Upsert(ctx, []search.Document{doc()}), meili.ErrUnavailable)
}

func TestSearchSendsDisjunctiveMultiSearch(t *testing.T) {
	t.Parallel()
	f, srv := newFake(t)
	d, _ := json.Marshal(meili.ToDoc(doc()))
	f.search = `{"results": [
	  {"indexUid": "p", "hits": [` + string(d) + `], "estimatedTotalHits": 1, "processingTimeMs": 1, "query": "へっどほん"},
	  {"indexUid": "p", "hits": [], "query": "", "processingTimeMs": 0, "estimatedTotalHits": 2,
	   "facetDistribution": {"category_facets": {"0193a1b2-0000-7000-8000-000000000003|オーディオ": 2}}},
	  {"indexUid": "p", "hits": [], "query": "", "processingTimeMs": 0, "facetDistribution": {"vendor_facet": {"0193a1b2-0000-7000-8000-000000000002|ソニー": 1}}},
	  {"indexUid": "p", "hits": [], "query": "", "processingTimeMs": 0, "facetDistribution": {"price_bucket": {"30000-": 1, "1000-5000": 4}},
	   "facetStats": {"price_min_value": {"min": 1200, "max": 49500}}},
	  {"indexUid": "p", "hits": [], "query": "", "processingTimeMs": 0, "facetDistribution": {"in_stock": {"true": 1, "false": 1}}}
	]}`
	tn := doc().Tenant
	cat := uuid.MustParse("0193a1b2-0000-7000-8000-000000000003")
	lo, hi := decimal.NewFromInt(1000), decimal.NewFromInt(60000)
	ix := meili.NewIndex(client(srv), func(context.Context) (string, error) { return "honten_products_3", nil })
	res, err := ix.Search(context.Background(), tn, search.Query{Text: "ヘッドフォン", Categories: []uuid.UUID{cat},
		PriceMin: &lo, PriceMax: &hi, InStock: true, Sort: search.SortPriceAsc, Limit: 10, Offset: 20})
	require.NoError(t, err)

	ms := f.requests("POST", "/multi-search")
	require.Len(t, ms, 1)
	tf := `tenant_id = "` + tn.String() + `"`
	cf := `category_ids IN ["` + cat.String() + `"]`
	pf := `price_min_value >= 1000 AND price_min_value <= 60000`
	q := func(extra string) string {
		return `"indexUid": "honten_products_3", "q": "へっどほん", "locales": ["jpn"], "hybrid": null` + extra
	}
	require.JSONEq(t, `{"queries": [
	  {`+q(`, "filter": "`+esc(tf+" AND "+cf+" AND "+pf+" AND in_stock = true")+`", "sort": ["price_min_value:asc"], "limit": 10, "offset": 20, "attributesToRetrieve": ["*"]`)+`},
	  {`+q(`, "filter": "`+esc(tf+" AND "+pf+" AND in_stock = true")+`", "facets": ["category_facets"], "limit": 1, "attributesToRetrieve": ["id"]`)+`},
	  {`+q(`, "filter": "`+esc(tf+" AND "+cf+" AND "+pf+" AND in_stock = true")+`", "facets": ["vendor_facet"], "limit": 1, "attributesToRetrieve": ["id"]`)+`},
	  {`+q(`, "filter": "`+esc(tf+" AND "+cf+" AND in_stock = true")+`", "facets": ["price_bucket", "price_min_value"], "limit": 1, "attributesToRetrieve": ["id"]`)+`},
	  {`+q(`, "filter": "`+esc(tf+" AND "+cf+" AND "+pf)+`", "facets": ["in_stock"], "limit": 1, "attributesToRetrieve": ["id"]`)+`}
	]}`, string(ms[0].Body))

	require.Equal(t, 1, res.Total)
	require.Len(t, res.Hits, 1)
	require.Equal(t, "headphones", res.Hits[0].Handle)
	require.Equal(t, "49500", res.Hits[0].PriceMin.AmountString())
	require.Equal(t, search.FacetValue{Label: "オーディオ", Count: 2}, res.Facets.Category[cat.String()])
	require.Equal(t, 1, res.Facets.Vendor["0193a1b2-0000-7000-8000-000000000002"].Count)
	require.Equal(t, "1200", res.Facets.Price.Min.String())
	require.Equal(t, map[string]int{"true": 1, "false": 1}, res.Facets.InStock)
	for _, r := range res.Facets.Price.Ranges {
		if r.Key == "1000-5000" {
			require.Equal(t, 4, r.Count)
		}
	}
}

func esc(s string) string { b, _ := json.Marshal(s); return string(b[1 : len(b)-1]) }

func TestSyncProjectorPushesDocuments(t *testing.T) {
	t.Parallel()
	f, srv := newFake(t)
	c := client(srv)
	env := searchtest.Start(t, pgtest.New(t), func(t *testing.T, pool *pgxpool.Pool, reg *eventstore.Registry) searchtest.Backend {
		return searchtest.Backend{Projectors: []projections.Projector{searchdocs.Sync{Registry: reg, Target: c, IndexPrefix: "hp"}}}
	})
	shop := searchtest.NewShop(env.Store)
	ctx := context.Background()
	require.NoError(t, shop.LoadCatalog(ctx, searchtest.Catalog()[:5]))
	env.Wait(t, shop.Last)
	f.mu.Lock()
	require.Len(t, f.docs["hp_1"], 5)
	// Every pushed document carries its readings (the five titles are Japanese).
	for _, raw := range f.docs["hp_1"] {
		var d meili.Doc
		require.NoError(t, json.Unmarshal(raw, &d))
		require.NotEmpty(t, d.Reading, d.Title)
	}
	f.mu.Unlock()
	require.Len(t, f.requests("PATCH", "/indexes/hp_1/settings"), 1, "prepared once")

	require.NoError(t, shop.Append(ctx, catalog.ProductStream, shop.Products["bt-speaker"], catalog.Archived{}))
	env.Wait(t, shop.Last)
	f.mu.Lock()
	require.Len(t, f.docs["hp_1"], 4)
	f.mu.Unlock()

	// A full reindex by replay writes generation 2's index.
	require.NoError(t, env.Runner.Rebuild(ctx, searchdocs.SyncModel, nil))
	f.mu.Lock()
	require.Len(t, f.docs["hp_2"], 4)
	f.mu.Unlock()
	uid, err := searchdocs.LiveIndexUID(env.Pool, "hp")(ctx)
	require.NoError(t, err)
	require.Equal(t, "hp_2", uid)
}

// TestConformance runs the shared suite against a real Meilisearch.
func TestConformance(t *testing.T) {
	t.Parallel()
	url := os.Getenv("MEILI_URL")
	if url == "" {
		t.Skip("MEILI_URL is not set: the Meilisearch conformance run needs a server (MEILI_URL, MEILI_API_KEY)")
	}
	c := meili.NewClient(meili.Config{URL: url, APIKey: os.Getenv("MEILI_API_KEY")})
	searchtest.Run(t, func(t *testing.T, pool *pgxpool.Pool, reg *eventstore.Registry) searchtest.Backend {
		prefix := "honten_test_" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
		t.Cleanup(func() {
			for g := 1; g <= 3; g++ {
				_ = c.DeleteIndex(context.Background(), searchdocs.IndexUID(prefix, g))
			}
		})
		return searchtest.Backend{
			Index:      meili.NewIndex(c, searchdocs.LiveIndexUID(pool, prefix)),
			Projectors: []projections.Projector{searchdocs.Sync{Registry: reg, Target: c, IndexPrefix: prefix}},
		}
	})
}
