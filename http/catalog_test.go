package http_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/internal/apitest"
)

func yen(n string) map[string]string { return map[string]string{"amount": n, "currency": "JPY"} }

func TestCatalogAdminAndStorefront(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	shop := env.Shop(t, "matcha", "single_brand", false)
	tok := shop.Token
	store := map[string]string{"X-Tenant": "matcha"}

	resp := env.Do(t, req{Method: "POST", Path: "/api/v1/admin/categories", Token: tok, Body: map[string]any{"name": "お茶", "handle": "tea"}})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	teaID := resp.Map(t)["id"].(string)
	resp = env.Do(t, req{Method: "POST", Path: "/api/v1/admin/categories", Token: tok, Body: map[string]any{"name": "抹茶", "handle": "matcha", "parent_id": teaID}})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))

	product := map[string]any{
		"title": "宇治抹茶 薄茶用 30g", "handle": "uji-matcha-30g", "description": "京都・宇治の一番茶を石臼で挽きました。",
		"categories": []string{"matcha"},
		"variants": []map[string]any{
			{"sku": "MATCHA-30", "title": "30g缶", "price": yen("1620"), "tax_rate": "8", "options": []map[string]string{{"name": "容量", "value": "30g"}}},
			{"sku": "MATCHA-100", "title": "100g袋", "price": yen("4860"), "compare_at_price": yen("5400"), "tax_rate": "8"},
		},
	}
	resp = env.Do(t, req{Method: "POST", Path: "/api/v1/admin/products", Token: tok, Body: product})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	created := resp.Map(t)
	pid := created["id"].(string)
	require.Equal(t, "draft", created["status"])
	require.Len(t, created["variants"], 2)
	require.Equal(t, map[string]any{"min": map[string]any{"amount": "1620", "currency": "JPY"}, "max": map[string]any{"amount": "4860", "currency": "JPY"}}, created["price"])
	require.Equal(t, `"3"`, resp.Header.Get("ETag"))

	// Drafts are not on the storefront.
	resp = env.Do(t, req{Method: "GET", Path: "/api/v1/store/products/uji-matcha-30g", Header: store})
	require.Equal(t, http.StatusNotFound, resp.Status)

	// Publish with If-Match; two editors with the same version: one wins.
	var wg sync.WaitGroup
	statuses := make([]int, 2)
	for i, body := range []map[string]any{{"status": "active"}, {"title": "宇治抹茶 30g"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = env.Do(t, req{Method: "PATCH", Path: "/api/v1/admin/products/" + pid, Token: tok, Header: map[string]string{"If-Match": `"3"`}, Body: body}).Status
		}()
	}
	wg.Wait()
	require.ElementsMatch(t, []int{http.StatusOK, http.StatusPreconditionFailed}, statuses)
	resp = env.Do(t, req{Method: "PATCH", Path: "/api/v1/admin/products/" + pid, Token: tok, Body: map[string]any{"status": "active", "description": "一番茶を石臼で挽きました。"}})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	pos := resp.Header.Get("X-Event-Position")
	require.NotEmpty(t, pos)

	// The storefront sees it by handle and id, in the category tree and lists.
	resp = env.Do(t, req{Method: "GET", Path: "/api/v1/store/products/uji-matcha-30g", Header: map[string]string{"X-Tenant": "matcha", "X-Min-Position": pos}})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	doc := resp.Map(t)
	require.Equal(t, pid, doc["id"])
	require.Equal(t, float64(0), doc["available"])
	require.Equal(t, false, doc["in_stock"])
	cats := doc["categories"].([]any)
	require.Equal(t, "matcha", cats[0].(map[string]any)["handle"])
	for _, path := range []string{"/api/v1/store/products", "/api/v1/store/products?category=tea", "/api/v1/store/products?category=matcha"} {
		resp = env.Do(t, req{Method: "GET", Path: path, Header: store})
		require.Equal(t, http.StatusOK, resp.Status)
		var l struct {
			Items []map[string]any `json:"items"`
		}
		resp.JSON(t, &l)
		require.Len(t, l.Items, 1, path)
	}
	resp = env.Do(t, req{Method: "GET", Path: "/api/v1/store/products?category=nope", Header: store})
	require.Equal(t, http.StatusNotFound, resp.Status)
	resp = env.Do(t, req{Method: "GET", Path: "/api/v1/store/categories", Header: store})
	require.Equal(t, http.StatusOK, resp.Status)
	tree := resp.Map(t)["items"].([]any)
	require.Len(t, tree, 1)
	require.Len(t, tree[0].(map[string]any)["children"], 1)

	// Reprice a variant: price.updated in the history.
	variantID := created["variants"].([]any)[0].(map[string]any)["id"].(string)
	resp = env.Do(t, req{Method: "PATCH", Path: "/api/v1/admin/variants/" + variantID, Token: tok, Body: map[string]any{"price": yen("1700"), "is_hot": true}})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	v := resp.Map(t)
	require.Equal(t, map[string]any{"amount": "1700", "currency": "JPY"}, v["price"])
	require.Equal(t, true, v["is_hot"])
	resp = env.Do(t, req{Method: "GET", Path: "/api/v1/admin/history/variant/" + variantID, Token: tok})
	require.Equal(t, http.StatusOK, resp.Status)
	var h struct {
		Items []struct {
			Type string `json:"type"`
		} `json:"items"`
	}
	resp.JSON(t, &h)
	var types []string
	for _, it := range h.Items {
		types = append(types, it.Type)
	}
	require.Equal(t, []string{"variant.added.v1", "variant.updated.v1", "price.updated.v1"}, types)
	resp = env.Do(t, req{Method: "GET", Path: "/api/v1/admin/history/product/" + pid, Token: tok})
	require.Equal(t, http.StatusOK, resp.Status)
	resp.JSON(t, &h)
	require.Equal(t, "product.created.v1", h.Items[0].Type)

	// Archive: gone from the storefront, still in the backoffice.
	resp = env.Do(t, req{Method: "DELETE", Path: "/api/v1/admin/products/" + pid, Token: tok})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	require.Equal(t, "archived", resp.Map(t)["status"])
	resp = env.Do(t, req{Method: "GET", Path: "/api/v1/store/products/" + pid, Header: map[string]string{"X-Tenant": "matcha", "X-Min-Position": resp.Header.Get("X-Event-Position")}})
	require.Equal(t, http.StatusNotFound, resp.Status)
	resp = env.Do(t, req{Method: "GET", Path: "/api/v1/admin/products?status=archived", Token: tok})
	require.Equal(t, http.StatusOK, resp.Status)
}

func TestCatalogBadInput(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	shop := env.Shop(t, "kobe", "single_brand", false)
	tok := shop.Token
	ok := env.Do(t, req{Method: "POST", Path: "/api/v1/admin/products", Token: tok, Body: map[string]any{
		"title": "Kobe Beef Jerky", "variants": []map[string]any{{"sku": "JERKY-1", "price": yen("2000")}}}})
	require.Equal(t, http.StatusCreated, ok.Status, string(ok.Body))
	require.Equal(t, "kobe-beef-jerky", ok.Map(t)["handle"])

	variant := func(v map[string]any) map[string]any {
		return map[string]any{"title": "x", "variants": []map[string]any{v}}
	}
	cases := []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"invalid SKU", variant(map[string]any{"sku": "bad sku!", "price": yen("100")}), 422, "variants[0].sku"},
		{"negative price", variant(map[string]any{"sku": "A-1", "price": yen("-1")}), 422, "variants[0].price"},
		{"huge price", variant(map[string]any{"sku": "A-1", "price": yen("99999999999")}), 422, "variants[0].price"},
		{"yen decimals", variant(map[string]any{"sku": "A-1", "price": yen("100.5")}), 422, "amount"},
		{"price as number", variant(map[string]any{"sku": "A-1", "price": map[string]any{"amount": 100, "currency": "JPY"}}), 422, "amount"},
		{"other currency", variant(map[string]any{"sku": "A-1", "price": map[string]string{"amount": "10.00", "currency": "USD"}}), 422, "variants[0].price"},
		{"compare below price", variant(map[string]any{"sku": "A-1", "price": yen("100"), "compare_at_price": yen("50")}), 422, "variants[0].compare_at_price"},
		{"tax rate", variant(map[string]any{"sku": "A-1", "price": yen("100"), "tax_rate": "5"}), 422, "variants[0].tax_rate"},
		{"duplicate SKU in product", map[string]any{"title": "x", "variants": []map[string]any{{"sku": "D-1", "price": yen("1")}, {"sku": "d-1", "price": yen("1")}}}, 422, "variants[1].sku"},
		{"SKU of another product", variant(map[string]any{"sku": "jerky-1", "price": yen("100")}), 422, "variants[0].sku"},
		{"unknown category", map[string]any{"title": "x", "categories": []string{"nope"}}, 422, "categories[0]"},
		{"missing title", map[string]any{"description": "x"}, 422, "title"},
		{"taken handle", map[string]any{"title": "y", "handle": "kobe-beef-jerky"}, 422, "handle"},
		{"bad handle", map[string]any{"title": "y", "handle": "Not A Handle"}, 422, "handle"},
		{"unknown field", map[string]any{"title": "y", "colour": "red"}, 400, "colour"},
		{"publish without variants", map[string]any{"title": "y", "status": "active"}, 409, ""},
		{"other tenant's location", map[string]any{"title": "y", "location_ids": []string{"0193a1b2-0000-7000-8000-000000000001"}}, 422, "location_ids[0]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			resp := env.Do(t, req{Method: "POST", Path: "/api/v1/admin/products", Token: tok, Body: c.body})
			require.Equal(t, c.status, resp.Status, string(resp.Body))
			require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
			if c.field != "" {
				require.Contains(t, string(resp.Body), `"field":"`+c.field+`"`)
			}
		})
	}
	t.Run("10 MB body", func(t *testing.T) {
		t.Parallel()
		resp := env.Do(t, req{Method: "POST", Path: "/api/v1/admin/products", Token: tok,
			Body: `{"title":"` + strings.Repeat("あ", 10<<20/3) + `"}`})
		require.Equal(t, http.StatusRequestEntityTooLarge, resp.Status)
	})
	// Nothing half-written: only the first product exists.
	resp := env.Do(t, req{Method: "GET", Path: "/api/v1/admin/products", Token: tok})
	var l struct {
		Items []map[string]any `json:"items"`
	}
	resp.JSON(t, &l)
	require.Len(t, l.Items, 1)
}

func TestVendorStaffSeeOnlyTheirProducts(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	mall := env.Shop(t, "marche", "mall", false)
	var vendors []string
	for _, name := range []string{"パン屋", "花屋"} {
		resp := env.Do(t, req{Method: "POST", Path: "/api/v1/admin/vendors", Token: mall.Token, Body: map[string]any{"name": name, "commission_rate": "0.1"}})
		require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
		vendors = append(vendors, resp.Map(t)["id"].(string))
	}
	for i, v := range vendors {
		resp := env.Do(t, req{Method: "POST", Path: "/api/v1/admin/products", Token: mall.Token, Body: map[string]any{
			"title": "product " + v, "vendor_id": v, "variants": []map[string]any{{"sku": "V" + string(rune('A'+i)) + "-1", "price": yen("500")}}}})
		require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	}
	resp := env.Do(t, req{Method: "POST", Path: "/api/v1/admin/staff", Token: mall.Token, Body: map[string]any{
		"email": "baker@marche.example.jp", "name": "パン職人", "role": "vendor", "vendor_id": vendors[0], "password": "baker password 1"}})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	baker := env.SignIn(t, "marche", "baker@marche.example.jp", "baker password 1")

	resp = env.Do(t, req{Method: "GET", Path: "/api/v1/admin/products", Token: baker})
	var l struct {
		Items []map[string]any `json:"items"`
	}
	resp.JSON(t, &l)
	require.Len(t, l.Items, 1)
	require.Equal(t, vendors[0], l.Items[0]["vendor_id"])

	resp = env.Do(t, req{Method: "GET", Path: "/api/v1/admin/products", Token: mall.Token})
	resp.JSON(t, &l)
	require.Len(t, l.Items, 2)
	var florist string
	for _, p := range l.Items {
		if p["vendor_id"] == vendors[1] {
			florist = p["id"].(string)
		}
	}
	resp = env.Do(t, req{Method: "GET", Path: "/api/v1/admin/products/" + florist, Token: baker})
	require.Equal(t, http.StatusNotFound, resp.Status)
	resp = env.Do(t, req{Method: "PATCH", Path: "/api/v1/admin/products/" + florist, Token: baker, Body: map[string]any{"title": "mine now"}})
	require.Equal(t, http.StatusNotFound, resp.Status)
	// A vendor creates products for itself only.
	resp = env.Do(t, req{Method: "POST", Path: "/api/v1/admin/products", Token: baker, Body: map[string]any{"title": "食パン", "vendor_id": vendors[1]}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status)
	resp = env.Do(t, req{Method: "POST", Path: "/api/v1/admin/products", Token: baker, Body: map[string]any{"title": "食パン"}})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	require.Equal(t, vendors[0], resp.Map(t)["vendor_id"])
	resp = env.Do(t, req{Method: "GET", Path: "/api/v1/admin/vendors", Token: baker})
	var vl struct {
		Items []map[string]any `json:"items"`
	}
	resp.JSON(t, &vl)
	require.Len(t, vl.Items, 1)
}
