package http_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/internal/apitest"
	"github.com/honten/honten/internal/app"
)

// A regular's whole journey over HTTP, across accounts, promotions and
// digital delivery: sign up → an address → a cart with a coupon →
// checkout signed in → paid → the e-book downloaded twice, then its limit
// (410) → the order in their history; then the customer is forgotten: the
// order, its discount, totals, tax, the redemption, the downloads and the
// ledger stay, and none of their personal data is left anywhere.
func TestCustomerJourneyFromSignUpToForgetting(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	content := []byte("%PDF-1.4 煎茶の淹れ方")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "sencha.pdf"), content, 0o644))
	env := apitest.NewWith(t, apitest.Options{Configure: func(c *app.Config) { c.DownloadsDir = dir }})
	shop := env.Shop(t, "journey-shop", "single_brand", false)
	setBank(t, env, shop)
	sellable(t, env, shop, 1500, 10, "CUP-1")
	digitalProduct(t, env, shop, "EBOOK-SENCHA", 1000, "sencha.pdf", 2)
	store := map[string]string{"X-Tenant": "journey-shop"}
	do := func(method, path, token string, body any, want int) map[string]any {
		t.Helper()
		resp := env.Do(t, req{Method: method, Path: path, Token: token, Body: body, Header: store})
		require.Equal(t, want, resp.Status, "%s %s: %s", method, path, resp.Body)
		if len(resp.Body) == 0 {
			return nil
		}
		return resp.Map(t)
	}
	admin := func(method, path string, body any, want int) map[string]any {
		t.Helper()
		resp := env.Do(t, req{Method: method, Path: "/api/v1/admin" + path, Token: shop.Token, Body: body})
		require.Equal(t, want, resp.Status, "%s %s: %s", method, path, resp.Body)
		return resp.Map(t)
	}
	const email, name, phone = "keiko.journey@example.jp", "旅路 恵子", "090-5555-6666"
	const city, line1 = "旅路市", "茶畑町3-2-1"
	personal := []string{email, name, "09055556666", city, line1}

	promo := admin("POST", "/promotions", map[string]any{"title": "会員500円引き", "kind": "fixed", "value": "500",
		"codes": []string{"WELCOME500"}, "usage_limit": 100, "per_customer_limit": 1}, http.StatusCreated)

	// Sign up, sign in, an address in the book.
	me := do("POST", "/api/v1/store/customers", "", map[string]any{"email": email, "password": "sencha and cups 1", "name": name}, http.StatusCreated)
	customerID := me["id"].(string)
	token := do("POST", "/api/v1/store/customers/session", "", map[string]any{"email": email, "password": "sencha and cups 1"}, http.StatusCreated)["token"].(string)
	addr := do("POST", "/api/v1/store/customers/me/addresses", token, map[string]any{"name": name, "phone": phone,
		"postal_code": "420-0001", "prefecture": "静岡県", "city": city, "line1": line1}, http.StatusCreated)

	// A cart with a cup and the e-book, and the coupon.
	b := newBuyer(t, env, "journey-shop")
	require.Equal(t, http.StatusOK, b.add(t, "CUP-1", 1).Status)
	require.Equal(t, http.StatusOK, b.add(t, "EBOOK-SENCHA", 1).Status)
	resp := b.do(t, "POST", "/coupons", map[string]any{"code": "welcome500"})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	require.Equal(t, "500", amount(resp.Map(t)["totals"].(map[string]any)["discount"]))

	// Checkout signed in, shipping to the address from the book.
	h := map[string]string{"X-Tenant": "journey-shop", "X-Cart-Token": b.token, "Idempotency-Key": "journey-checkout"}
	resp = env.Do(t, req{Method: "POST", Path: "/api/v1/store/carts/" + b.cart + "/checkout", Token: token, Header: h, Body: map[string]any{
		"email": email, "name": addr["name"], "phone": addr["phone"], "payment_method": "bank_transfer",
		"shipping_address": map[string]any{"postal_code": addr["postal_code"], "prefecture": addr["prefecture"], "city": addr["city"],
			"line1": addr["line1"], "line2": ""}}})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	placed := resp.Map(t)
	orderID := placed["order_id"].(string)
	totals := placed["totals"].(map[string]any)
	// 2,500 − 500 + ¥800 shipping = 2,800; tax 10/110 of it, once: 254.
	require.Equal(t, "500", amount(totals["discount"]))
	require.Equal(t, "2800", amount(totals["total"]))
	require.Equal(t, "254", amount(totals["tax"].([]any)[0].(map[string]any)["tax"]))

	// Paid: the e-book's link, downloaded to its limit.
	admin("POST", "/orders/"+orderID+"/payments/confirm", map[string]any{"amount": yen("2800"), "reference": "journey transfer"}, http.StatusOK)
	var links []any
	require.Eventually(t, func() bool {
		links, _ = admin("GET", "/orders/"+orderID+"/deliveries", nil, http.StatusOK)["items"].([]any)
		return len(links) == 1
	}, 30e9, 10e6)
	url := links[0].(map[string]any)["url"].(string)
	for range 2 {
		got := env.Do(t, req{Method: "GET", Path: url, Header: store})
		require.Equal(t, http.StatusOK, got.Status, string(got.Body))
		require.Equal(t, content, got.Body)
	}
	got := env.Do(t, req{Method: "GET", Path: url, Header: store})
	require.Equal(t, http.StatusGone, got.Status, string(got.Body))

	// The order is in their history.
	require.Eventually(t, func() bool {
		items, _ := do("GET", "/api/v1/store/customers/me/orders", token, nil, http.StatusOK)["items"].([]any)
		return len(items) == 1 && items[0].(map[string]any)["id"] == orderID
	}, 30e9, 10e6)
	env.Settle(t)
	ledger := ledgerLines(t, env)
	require.NotEmpty(t, plaintextIn(t, env, name), "the read models hold the name until forgotten")

	// Forgotten: history intact, nothing personal left.
	admin("POST", "/customers/"+customerID+"/forget", nil, http.StatusOK)
	env.Settle(t)
	require.Empty(t, plaintextIn(t, env, personal...), "plaintext left after forgetting")
	d := admin("GET", "/orders/"+orderID, nil, http.StatusOK)
	require.Equal(t, "[erased]", d["customer"].(map[string]any)["name"])
	require.Equal(t, "[erased]", d["shipping_address"].(map[string]any)["line1"])
	require.Equal(t, placed["totals"], d["totals"], "totals, discount and tax stay")
	require.Equal(t, ledger, ledgerLines(t, env), "the ledger stays")
	require.EqualValues(t, 1, admin("GET", "/promotions/"+promo["id"].(string), nil, http.StatusOK)["used"], "the redemption stays")
	var downloads int
	require.NoError(t, env.Main.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM events WHERE event_type = 'delivery.downloaded.v1'`).Scan(&downloads))
	require.Equal(t, 2, downloads, "the downloads stay")
	do("GET", "/api/v1/store/customers/me", token, nil, http.StatusUnauthorized)
}
