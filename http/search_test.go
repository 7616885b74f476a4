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
