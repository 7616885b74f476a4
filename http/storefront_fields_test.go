package http_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/internal/apitest"
)

// The storefront's product documents carry no back-office fields (store,
// stock locations, the hot-lane flag) and no variant that is not on sale;
// the backoffice keeps all of them.
func TestStorefrontDocumentsHideBackofficeFields(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	shop := env.Shop(t, "yuzu", "single_brand", false)
	resp := env.Do(t, req{Method: "POST", Path: "/api/v1/admin/products", Token: shop.Token, Body: map[string]any{
		"title": "柚子胡椒", "handle": "yuzu-kosho", "status": "active",
		"variants": []map[string]any{
			{"sku": "YUZU-ON", "price": yen("800"), "is_hot": true},
			{"sku": "YUZU-OFF", "price": yen("700"), "status": "inactive"},
		}}})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	admin := resp.Map(t)
	pos := resp.Header.Get("X-Event-Position")
	for _, k := range []string{"store_id", "location_ids"} {
		require.Contains(t, admin, k)
	}
	require.Len(t, admin["variants"], 2)
	require.Contains(t, admin["variants"].([]any)[0], "is_hot")

	hdr := map[string]string{"X-Tenant": "yuzu", "X-Min-Position": pos}
	resp = env.Do(t, req{Method: "GET", Path: "/api/v1/store/products/yuzu-kosho", Header: hdr})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	detail := resp.Map(t)
	resp = env.Do(t, req{Method: "GET", Path: "/api/v1/store/products", Header: hdr})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	var list struct {
		Items []map[string]any `json:"items"`
	}
	resp.JSON(t, &list)
	require.Len(t, list.Items, 1)
	for _, doc := range []map[string]any{detail, list.Items[0]} {
		require.NotContains(t, doc, "store_id")
		require.NotContains(t, doc, "location_ids")
		vs := doc["variants"].([]any)
		require.Len(t, vs, 1, "inactive variants are not on the storefront")
		v := vs[0].(map[string]any)
		require.Equal(t, "YUZU-ON", v["sku"])
		require.NotContains(t, v, "is_hot")
	}

	// The backoffice still reads the whole document.
	resp = env.Do(t, req{Method: "GET", Path: "/api/v1/admin/products/" + admin["id"].(string), Token: shop.Token})
	require.Equal(t, http.StatusOK, resp.Status)
	again := resp.Map(t)
	require.Contains(t, again, "store_id")
	require.Len(t, again["variants"], 2)
}
