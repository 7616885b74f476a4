package http_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/internal/apitest"
)

// History pages with limit and cursor: every event exactly once, in order,
// across pages; a variant's pages keep only its own events.
func TestHistoryPages(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	shop := env.Shop(t, "sencha", "single_brand", false)
	resp := env.Do(t, req{Method: "POST", Path: "/api/v1/admin/products", Token: shop.Token, Body: map[string]any{
		"title": "煎茶", "variants": []map[string]any{{"sku": "SENCHA-1", "price": yen("900")}, {"sku": "SENCHA-2", "price": yen("1900")}}}})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	p := resp.Map(t)
	pid := p["id"].(string)
	vid := p["variants"].([]any)[1].(map[string]any)["id"].(string)
	const edits = 20
	for i := range edits {
		resp = env.Do(t, req{Method: "PATCH", Path: "/api/v1/admin/products/" + pid, Token: shop.Token, Body: map[string]any{"title": fmt.Sprintf("煎茶 %d", i)}})
		require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	}
	for i := range 3 {
		resp = env.Do(t, req{Method: "PATCH", Path: "/api/v1/admin/variants/" + vid, Token: shop.Token, Body: map[string]any{"title": fmt.Sprintf("v%d", i)}})
		require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	}

	type page struct {
		Items []struct {
			Version int64  `json:"version"`
			Type    string `json:"type"`
		} `json:"items"`
		NextCursor *string `json:"next_cursor"`
	}
	walk := func(path string, limit int) (versions []int64, pages int) {
		cursor := ""
		for {
			q := fmt.Sprintf("%s?limit=%d", path, limit)
			if cursor != "" {
				q += "&cursor=" + cursor
			}
			resp := env.Do(t, req{Method: "GET", Path: q, Token: shop.Token})
			require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
			var pg page
			resp.JSON(t, &pg)
			require.LessOrEqual(t, len(pg.Items), limit)
			pages++
			for _, it := range pg.Items {
				versions = append(versions, it.Version)
			}
			if pg.NextCursor == nil {
				return versions, pages
			}
			require.Len(t, pg.Items, limit, "a page before the last is full")
			cursor = *pg.NextCursor
		}
	}
	all, pages := walk("/api/v1/admin/history/product/"+pid, 5)
	total := 1 + 2 + edits + 3 // created, two variants added, the edits, the variant edits
	require.Len(t, all, total)
	require.Equal(t, (total+4)/5, pages)
	for i, v := range all {
		require.Equal(t, int64(i+1), v, "every version once, in order")
	}
	one, _ := walk("/api/v1/admin/history/product/"+pid, 200)
	require.Equal(t, all, one)

	variant, _ := walk("/api/v1/admin/history/variant/"+vid, 2)
	require.Len(t, variant, 4, "added + 3 updates") // SENCHA-1's events are left out
	resp = env.Do(t, req{Method: "GET", Path: "/api/v1/admin/history/product/" + pid, Token: shop.Token})
	require.Equal(t, http.StatusOK, resp.Status)
	var first page
	resp.JSON(t, &first)
	require.Len(t, first.Items, 20, "the default page size")
	require.NotNil(t, first.NextCursor)

	for bad, status := range map[string]int{"?limit=0": 422, "?limit=201": 422, "?cursor=%25%25": 400, "?cursor=bm90IGpzb24": 400} {
		resp = env.Do(t, req{Method: "GET", Path: "/api/v1/admin/history/product/" + pid + bad, Token: shop.Token})
		require.Equal(t, status, resp.Status, bad+": "+string(resp.Body))
	}
}
