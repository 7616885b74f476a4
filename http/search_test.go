package http_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/internal/apitest"
	"github.com/honten/honten/search/searchtest"
)

func TestStorefrontSearch(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	sh := env.Shop(t, "kissa", "single_brand", false)
	shop := searchtest.NewShop(env.Main.Store)
	shop.Tenant = sh.Tenant
	ctx := context.Background()
	require.NoError(t, shop.LoadCatalog(ctx, searchtest.Catalog()[:12]))
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, env.Main.Runner.WaitFor(wctx, shop.Last))
	get := func(query string) apitest.Response {
		return env.Do(t, apitest.Req{Method: "GET", Path: "/api/v1/store/search?" + query, Header: map[string]string{"X-Tenant": "kissa"}})
	}

	resp := get("q=" + url.QueryEscape("ヘッドフォン") + "&in_stock=true&sort=price_asc")
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	var res struct {
		Hits []struct {
			Handle   string `json:"handle"`
			PriceMin struct {
				Amount   string `json:"amount"`
				Currency string `json:"currency"`
			} `json:"price_min"`
		} `json:"hits"`
		Facets map[string]any `json:"facets"`
		Total  int            `json:"total"`
		TookMS *int           `json:"took_ms"`
	}
	resp.JSON(t, &res)
	require.Equal(t, 3, res.Total)
	require.Equal(t, "headphone-stand", res.Hits[0].Handle)
	require.Equal(t, "2480", res.Hits[0].PriceMin.Amount)
	require.Equal(t, "JPY", res.Hits[0].PriceMin.Currency)
	require.Contains(t, res.Facets, "category")
	require.Contains(t, res.Facets, "vendor")
	require.Contains(t, res.Facets, "price")
	require.NotNil(t, res.TookMS)

	// Bad input is a clean answer or a 4xx, never a 500.
	for query, status := range map[string]int{
		"":                               200,
		"q=" + strings.Repeat("x", 1000): 200,
		"q=" + strings.Repeat("時", 1001): 422,
		"q=%25%5F%5C%27%22":              200,
		"q=%ff%fe":                       400,
		"category=" + "0193a1b2-0000-7000-8000-000000000001": 200,
		"category=not-an-id":         422,
		"price_min=500&price_max=10": 422,
		"offset=1001":                422,
		"offset=1000":                200,
		"limit=0":                    422,
		"sort=random":                422,
		"in_stock=perhaps":           422,
		"q=%E2%80%AE%00":             200,
	} {
		resp := get(query)
		require.Equal(t, status, resp.Status, "%s: %s", query, resp.Body)
	}
	// Another shop's code sees nothing of this one.
	env.Shop(t, "other", "single_brand", false)
	resp = env.Do(t, apitest.Req{Method: "GET", Path: "/api/v1/store/search?q=headphones", Header: map[string]string{"X-Tenant": "other"}})
	require.Equal(t, http.StatusOK, resp.Status)
	resp.JSON(t, &res)
	require.Zero(t, res.Total)
}

// A product created, stocked, repriced and archived through the admin API is
// found as it is now: each search waits for the command's position
// (X-Min-Position), never sleeps.
func TestSearchFollowsTheCatalog(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	sh := env.Shop(t, "kohi", "single_brand", false)
	search := func(query, pos string) map[string]any {
		resp := env.Do(t, apitest.Req{Method: "GET", Path: "/api/v1/store/search?" + query,
			Header: map[string]string{"X-Tenant": "kohi", "X-Min-Position": pos}})
		require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
		return resp.Map(t)
	}
	admin := func(method, path string, body any) apitest.Response {
		resp := env.Do(t, apitest.Req{Method: method, Path: "/api/v1/admin" + path, Token: sh.Token, Body: body})
		require.Less(t, resp.Status, 300, string(resp.Body))
		return resp
	}
	yen := func(n string) map[string]string { return map[string]string{"amount": n, "currency": "JPY"} }
	resp := admin("POST", "/products", map[string]any{"title": "ハンドドリップ コーヒーケトル 0.9L", "handle": "drip-kettle",
		"variants": []map[string]any{{"sku": "KETTLE-09", "title": "0.9L", "price": yen("4980")}}})
	created := resp.Map(t)
	pid := created["id"].(string)
	vid := created["variants"].([]any)[0].(map[string]any)["id"].(string)

	// A draft is not searchable; published, it is (sold out until stocked).
	require.Zero(t, search("q=kettle", resp.Header.Get("X-Event-Position"))["total"])
	resp = admin("PATCH", "/products/"+pid, map[string]any{"status": "active"})
	res := search("q="+url.QueryEscape("コーヒーケトル"), resp.Header.Get("X-Event-Position"))
	require.EqualValues(t, 1, res["total"])
	hit := res["hits"].([]any)[0].(map[string]any)
	require.Equal(t, "drip-kettle", hit["handle"])
	require.Equal(t, false, hit["in_stock"])

	// Stocked.
	resp = admin("POST", "/inventory/adjustments", map[string]any{"sku": "KETTLE-09", "location_id": sh.Created.Location.String(), "set": 5, "reason": "入荷"})
	res = search("q=KETTLE-09&in_stock=true", resp.Header.Get("X-Event-Position"))
	require.EqualValues(t, 1, res["total"])
	require.EqualValues(t, 5, res["hits"].([]any)[0].(map[string]any)["available"])

	// Repriced.
	resp = admin("PATCH", "/variants/"+vid, map[string]any{"price": yen("3980")})
	res = search("q="+url.QueryEscape("ケトル")+"&price_max=4000", resp.Header.Get("X-Event-Position"))
	require.EqualValues(t, 1, res["total"])
	require.Equal(t, map[string]any{"amount": "3980", "currency": "JPY"}, res["hits"].([]any)[0].(map[string]any)["price_min"])

	// Archived: gone.
	resp = admin("DELETE", "/products/"+pid, nil)
	require.Zero(t, search("q="+url.QueryEscape("ケトル"), resp.Header.Get("X-Event-Position"))["total"])
}
