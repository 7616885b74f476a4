package http

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/search"
)

// searchTimeout bounds one search; past it the backend's work is cancelled
// and the client gets a 503.
const searchTimeout = 3 * time.Second

// errSearchOff means no search backend is configured in this process.
var errSearchOff = errs.New(errs.KindUnavailable, "search_unavailable", "search is not available")

func (s *Server) searchRoutes() []storeRoute {
	return []storeRoute{
		{"GET", "/search", s.searchProducts, true},
	}
}

// searchProducts is GET /store/search: hits, disjunctive facets, total and
// took_ms (API.md). Bad parameters are 400/422, never 500.
func (s *Server) searchProducts(w http.ResponseWriter, r *http.Request) {
	res, err := s.runSearch(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// runSearch parses the storefront search parameters of r (q, category,
// vendor, price_min, price_max, in_stock, sort, limit, offset) and runs them
// on the configured backend for the request's shop. GET /products?q= calls
// it and maps Result.Hits to its items. It returns search.ErrBadEncoding
// (400), Invalid errors (422) and the backend's errors (503 when it is
// unreachable).
func (s *Server) runSearch(r *http.Request) (search.Result, error) {
	if s.Search == nil {
		return search.Result{}, errSearchOff
	}
	q, err := search.ParseParams(r.URL.Query())
	if err != nil {
		return search.Result{}, err
	}
	ctx, cancel := context.WithTimeout(r.Context(), searchTimeout)
	defer cancel()
	addLogAttrs(r.Context(), "search_sort", string(q.Sort), "search_has_text", q.Text != "")
	return s.Search.Search(ctx, tenantFrom(r.Context()), q)
}

// storeSearchList answers GET /store/products?q=… through the search index,
// in the list shape of /products: {"items": [hits], "next_cursor": ...},
// where the cursor carries the next offset (search pages stop at 1,000
// hits). The lead's storeListProducts calls it when q is set:
//
//	if r.URL.Query().Get("q") != "" {
//		s.storeSearchList(w, r)
//		return
//	}
//
// category and vendor take ids here (as in /store/search). Errors are those
// of runSearch, and ErrBadCursor.
func (s *Server) storeSearchList(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	var offset int
	if c := v.Get("cursor"); c != "" {
		if _, err := (projections.Page{Cursor: c}).DecodeCursor(&offset); err != nil || offset < 0 || offset > search.MaxDepth {
			writeError(w, r, projections.ErrBadCursor)
			return
		}
	}
	v.Del("cursor")
	v.Set("offset", strconv.Itoa(offset))
	if l := v.Get("limit"); l != "" {
		if n, err := strconv.Atoi(l); err == nil && n > search.MaxLimit {
			v.Set("limit", strconv.Itoa(search.MaxLimit)) // the list API allows 200; search pages hold 100
		}
	}
	r2 := r.Clone(r.Context())
	r2.URL.RawQuery = v.Encode()
	res, err := s.runSearch(r2)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var next *string
	if end := offset + len(res.Hits); len(res.Hits) > 0 && end < res.Total && end < search.MaxDepth {
		c := projections.EncodeCursor(end)
		next = &c
	}
	writeJSON(w, http.StatusOK, projections.List[search.Hit]{Items: res.Hits, NextCursor: next})
}
