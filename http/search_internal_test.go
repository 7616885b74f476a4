package http

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/pgtest"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/projections/searchdocs"
	"github.com/honten/honten/search"
	"github.com/honten/honten/search/postgres"
	"github.com/honten/honten/search/searchtest"
)

// The /products?q= helper pages search hits with list cursors.
func TestStoreSearchListPages(t *testing.T) {
	t.Parallel()
	env := searchtest.Start(t, pgtest.New(t), func(t *testing.T, pool *pgxpool.Pool, reg *eventstore.Registry) searchtest.Backend {
		return searchtest.Backend{Index: postgres.New(pool), Projectors: []projections.Projector{searchdocs.Projector{Registry: reg}}}
	})
	shop := searchtest.NewShop(env.Store)
	require.NoError(t, shop.LoadCatalog(context.Background(), searchtest.Catalog()))
	env.Wait(t, shop.Last)
	s := &Server{Deps: Deps{Search: env.Backend.Index}}
	get := func(query string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/api/v1/store/products?"+query, nil)
		r = r.WithContext(context.WithValue(r.Context(), keyTenant, shop.Tenant))
		rec := httptest.NewRecorder()
		s.storeSearchList(rec, r)
		return rec
	}
	seen := map[string]bool{}
	cursor, pages := "", 0
	for {
		rec := get("sort=newest&limit=30&cursor=" + cursor)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var page struct {
			Items      []search.Hit `json:"items"`
			NextCursor *string      `json:"next_cursor"`
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &page))
		pages++
		for _, h := range page.Items {
			require.False(t, seen[h.Handle], "%s twice", h.Handle)
			seen[h.Handle] = true
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	require.Len(t, seen, len(searchtest.Catalog())-1, "every published product once")
	require.Equal(t, 4, pages)
	require.Equal(t, http.StatusBadRequest, get("cursor=bogus").Code)
	require.Equal(t, http.StatusUnprocessableEntity, get("category=tea").Code)
}
