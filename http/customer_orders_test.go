package http_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/internal/apitest"
)

// A signed-in customer reads their own order on the storefront's GET
// /orders/{id} with the customer session alone (no access token), and it
// is in their history; another customer's session, no credentials at all,
// and an unknown order are 404; a session that is not valid is a 401.
func TestStoreOrderReadWithTheCustomerSession(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	shop := env.Shop(t, "own-order-shop", "single_brand", false)
	setBank(t, env, shop)
	sellable(t, env, shop, 1200, 10, "MUG-OWN")
	store := map[string]string{"X-Tenant": "own-order-shop"}
	signUp := func(email, name string) string {
		t.Helper()
		const pw = "a long enough password 1"
		resp := env.Do(t, req{Method: "POST", Path: "/api/v1/store/customers", Header: store,
			Body: map[string]any{"email": email, "password": pw, "name": name}})
		require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
		resp = env.Do(t, req{Method: "POST", Path: "/api/v1/store/customers/session", Header: store,
			Body: map[string]any{"email": email, "password": pw}})
		require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
		return resp.Map(t)["token"].(string)
	}
	alice := signUp("alice.own@example.jp", "有栖 花子")
	bob := signUp("bob.own@example.jp", "保 太郎")

	b := newBuyer(t, env, "own-order-shop")
	require.Equal(t, http.StatusOK, b.add(t, "MUG-OWN", 2).Status)
	h := map[string]string{"X-Tenant": "own-order-shop", "X-Cart-Token": b.token, "Idempotency-Key": "own-order-checkout"}
	resp := env.Do(t, req{Method: "POST", Path: "/api/v1/store/carts/" + b.cart + "/checkout", Token: alice, Header: h, Body: map[string]any{
		"email": "alice.own@example.jp", "name": "有栖 花子", "phone": "090-1111-2222", "payment_method": "bank_transfer",
		"shipping_address": map[string]any{"postal_code": "100-0001", "prefecture": "東京都", "city": "千代田区", "line1": "1-1", "line2": ""}}})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	placed := resp.Map(t)
	orderID := placed["order_id"].(string)
	pos := resp.Header.Get("X-Event-Position")
	require.NotEmpty(t, pos)

	get := func(token string, header map[string]string, id string) apitest.Response {
		t.Helper()
		hd := map[string]string{"X-Tenant": "own-order-shop", "X-Min-Position": pos}
		for k, v := range header {
			hd[k] = v
		}
		return env.Do(t, req{Method: "GET", Path: "/api/v1/store/orders/" + id, Token: token, Header: hd})
	}
	// Alice, with her session only.
	got := get(alice, nil, orderID)
	require.Equal(t, http.StatusOK, got.Status, string(got.Body))
	o := got.Map(t)
	require.Equal(t, orderID, o["id"])
	require.Equal(t, placed["order_number"], o["order_number"])
	require.Equal(t, "pending_payment", o["status"])
	require.Equal(t, placed["totals"], o["totals"])
	require.Equal(t, "no-store", got.Header.Get("Cache-Control"))
	// The access token still works, with or without a session.
	got = get("", map[string]string{"X-Order-Token": placed["access_token"].(string)}, orderID)
	require.Equal(t, http.StatusOK, got.Status, string(got.Body))
	got = get(bob, map[string]string{"X-Order-Token": placed["access_token"].(string)}, orderID)
	require.Equal(t, http.StatusOK, got.Status, "the order's own token opens it whoever asks: %s", got.Body)

	// Bob's session, no credentials, and an unknown order: 404 alike.
	for name, r := range map[string]apitest.Response{
		"another customer": get(bob, nil, orderID),
		"no credentials":   get("", nil, orderID),
		"a wrong token":    get(alice, map[string]string{"X-Order-Token": "not-the-token"}, orderID),
		"unknown order":    get(alice, nil, "0190a7b6-5c3d-7e00-8000-000000000001"),
	} {
		require.Equal(t, http.StatusNotFound, r.Status, "%s: %s", name, r.Body)
		require.NotContains(t, string(r.Body), "有栖", name)
	}
	// A session that is not (or no longer) valid: sign in again.
	got = get("hcs_not-a-session", nil, orderID)
	require.Equal(t, http.StatusUnauthorized, got.Status, string(got.Body))

	// Alice's history lists it; Bob's does not.
	history := func(token string) []any {
		t.Helper()
		r := env.Do(t, req{Method: "GET", Path: "/api/v1/store/customers/me/orders", Token: token, Header: map[string]string{"X-Tenant": "own-order-shop", "X-Min-Position": pos}})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		items, _ := r.Map(t)["items"].([]any)
		return items
	}
	items := history(alice)
	require.Len(t, items, 1)
	require.Equal(t, orderID, items[0].(map[string]any)["id"])
	require.Empty(t, history(bob))

	// Signed out, the session opens nothing.
	require.Equal(t, http.StatusNoContent, env.Do(t, req{Method: "DELETE", Path: "/api/v1/store/customers/session", Token: alice, Header: store}).Status)
	require.Equal(t, http.StatusUnauthorized, get(alice, nil, orderID).Status)
}
