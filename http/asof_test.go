package http_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/internal/apitest"
	"github.com/honten/honten/internal/ordertest"
)

// withoutAsOf is a JSON object without its as_of member.
func withoutAsOf(t *testing.T, b []byte) (map[string]any, string) {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	at, _ := m["as_of"].(string)
	delete(m, "as_of")
	return m, at
}

// GET /admin/orders/{id}?as_of= and /admin/products/{id}?as_of= answer the
// entity as it stood then — byte for byte what the current detail said at
// that moment, plus the position it reflects — by position token or time;
// a moment before it existed is a 404, a bad value a 400 naming as_of,
// another shop's id a 404.
func TestTimeTravelShowsOrdersAndProductsAsTheyStood(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apitest.New(t)
	shop := env.Shop(t, "jikan", "single_brand", false)
	other := env.Shop(t, "yoso", "single_brand", false)

	resp := env.Do(t, req{Method: "POST", Path: "/api/v1/admin/products", Token: shop.Token, Body: map[string]any{
		"title": "玉露", "variants": []map[string]any{{"sku": "GYOKURO-1", "price": yen("2400")}}}})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	created := resp.Map(t)
	pid := created["id"].(string)
	created1 := resp.Header.Get("X-Event-Position")
	productAt1 := env.Do(t, req{Method: "GET", Path: "/api/v1/admin/products/" + pid, Token: shop.Token, Header: map[string]string{"X-Min-Position": created1}})
	require.Equal(t, http.StatusOK, productAt1.Status)
	resp = env.Do(t, req{Method: "PATCH", Path: "/api/v1/admin/products/" + pid, Token: shop.Token, Body: map[string]any{"title": "玉露 特選"}})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))

	resp = env.Do(t, req{Method: "GET", Path: "/api/v1/admin/products/" + pid + "?as_of=" + created1, Token: shop.Token})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	past, at := withoutAsOf(t, resp.Body)
	now, _ := withoutAsOf(t, productAt1.Body)
	require.Equal(t, now, past, "the product as the current detail showed it then")
	require.Equal(t, "玉露", past["title"])
	require.NotEmpty(t, at)
	resp = env.Do(t, req{Method: "GET", Path: "/api/v1/admin/products/" + pid + "?as_of=2999-01-01T00:00:00Z", Token: shop.Token})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	require.Equal(t, "玉露 特選", resp.Map(t)["title"])
	resp = env.Do(t, req{Method: "GET", Path: "/api/v1/admin/products/" + pid + "?as_of=2001-01-01T00:00:00Z", Token: shop.Token})
	require.Equal(t, http.StatusNotFound, resp.Status, "before the product existed")
	resp = env.Do(t, req{Method: "GET", Path: "/api/v1/admin/products/" + pid + "?as_of=" + created1, Token: other.Token})
	require.Equal(t, http.StatusNotFound, resp.Status, "another shop's product")

	// An order: placed, then cancelled.
	v, err := commands.VariantBySKU(ctx, env.Main.Pool, shop.Tenant, "GYOKURO-1")
	require.NoError(t, err)
	n := int64(10)
	_, _, err = env.Main.Commands.AdjustInventory(ctx, commands.AdjustInventory{Tenant: shop.Tenant, By: commands.By{Actor: "staff:test"}, Variant: &v, Delta: &n, Reason: "delivery"})
	require.NoError(t, err)
	placed, err := ordertest.Place(ctx, env.Main.Commands, ordertest.Order{Tenant: shop.Tenant, Method: order.PaymentBankTransfer,
		Lines: []ordertest.Line{{Variant: v, Vendor: shop.Created.Vendor.UUID, SKU: "GYOKURO-1", Quantity: 2, Price: 2400}}})
	require.NoError(t, err)
	placedAt := placed.Events[len(placed.Events)-1].Position.Token()
	path := "/api/v1/admin/orders/" + placed.Order.String()
	orderAt1 := env.Do(t, req{Method: "GET", Path: path, Token: shop.Token, Header: map[string]string{"X-Min-Position": placedAt}})
	require.Equal(t, http.StatusOK, orderAt1.Status, string(orderAt1.Body))
	resp = env.Do(t, req{Method: "POST", Path: path + "/cancel", Token: shop.Token, Body: map[string]any{"reason": "changed my mind"}})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	cancelledAt := resp.Header.Get("X-Event-Position")

	resp = env.Do(t, req{Method: "GET", Path: path + "?as_of=" + placedAt, Token: shop.Token})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	past, at = withoutAsOf(t, resp.Body)
	now, _ = withoutAsOf(t, orderAt1.Body)
	require.Equal(t, now, past, "the order, its payment and history as the current detail showed them then")
	require.Equal(t, "pending_payment", past["status"])
	// as_of names the last event of the order's streams by then: asking
	// for it gives the same order.
	again := env.Do(t, req{Method: "GET", Path: path + "?as_of=" + at, Token: shop.Token})
	require.Equal(t, http.StatusOK, again.Status, string(again.Body))
	require.JSONEq(t, string(resp.Body), string(again.Body))
	require.Equal(t, resp.Header.Get("ETag"), orderAt1.Header.Get("ETag"))

	resp = env.Do(t, req{Method: "GET", Path: path + "?as_of=" + cancelledAt, Token: shop.Token})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	require.Equal(t, "cancelled", resp.Map(t)["status"])
	current := env.Do(t, req{Method: "GET", Path: path, Token: shop.Token, Header: map[string]string{"X-Min-Position": cancelledAt}})
	past, _ = withoutAsOf(t, resp.Body)
	now, _ = withoutAsOf(t, current.Body)
	require.Equal(t, now, past)

	resp = env.Do(t, req{Method: "GET", Path: path + "?as_of=2001-01-01T00:00:00Z", Token: shop.Token})
	require.Equal(t, http.StatusNotFound, resp.Status, "before the order existed")
	resp = env.Do(t, req{Method: "GET", Path: path + "?as_of=" + placedAt, Token: other.Token})
	require.Equal(t, http.StatusNotFound, resp.Status, "another shop's order")
	for _, bad := range []string{"yesterday", "2026-13-01T00:00:00Z", "cDEuMS4x%21"} {
		resp = env.Do(t, req{Method: "GET", Path: path + "?as_of=" + bad, Token: shop.Token})
		require.Equal(t, http.StatusBadRequest, resp.Status, bad)
		require.Contains(t, string(resp.Body), `"field":"as_of"`, bad)
		resp = env.Do(t, req{Method: "GET", Path: "/api/v1/admin/products/" + pid + "?as_of=" + bad, Token: shop.Token})
		require.Equal(t, http.StatusBadRequest, resp.Status, bad)
	}
}
