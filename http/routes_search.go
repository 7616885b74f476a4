package http

import (
	"context"
	"net/http"
	"time"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/search"
)

// searchTimeout bounds one search; past it the backend's work is cancelled
// and the client gets a 503.
const searchTimeout = 3 * time.Second

// errSearchOff means no search backend is configured in this process.
var errSearchOff = errs.New(errs.KindUnavailable, "search_unavailable", "search is not available")

func (s *Server) searchRoutes() []storeRoute {
	return []storeRoute{
		{"GET", "/search", s.searchProducts},
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
