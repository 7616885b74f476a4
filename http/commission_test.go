package http_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/internal/apitest"
)

// A mall vendor's rate change applies from its effective date: orders
// placed before it keep the old rate on their lines, later orders freeze
// the new one, and the history lists both steps.
func TestCommissionRateHistoryIsFrozenOnOrderLines(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	env := apitest.NewWith(t, apitest.Options{Now: clock})
	mall := env.Shop(t, "ratemall", "mall", false)
	do := func(method, path string, body any, want int) map[string]any {
		t.Helper()
		resp := env.Do(t, req{Method: method, Path: path, Token: mall.Token, Body: body})
		require.Equal(t, want, resp.Status, "%s %s: %s", method, path, resp.Body)
		if len(resp.Body) == 0 {
			return nil
		}
		return resp.Map(t)
	}
	do("PATCH", "/api/v1/admin/settings", map[string]any{"bank_account": map[string]any{"bank_name": "みずほ銀行", "bank_code": "0001",
		"branch_name": "本店", "branch_code": "100", "account_type": "ordinary", "account_number": "1234567", "account_holder": "ﾗｲﾄﾓｰﾙ"}}, http.StatusOK)
	v := do("POST", "/api/v1/admin/vendors", map[string]any{"name": "Uji Tea", "commission_rate": "0.1"}, http.StatusCreated)
	vendorID := v["id"].(string)
	do("POST", "/api/v1/admin/products", map[string]any{"title": "Gyokuro", "status": "active", "vendor_id": vendorID,
		"variants": []map[string]any{{"sku": "GYOKURO-1", "price": yen("3000"), "tax_rate": "8"}}}, http.StatusCreated)
	variants := do("GET", "/api/v1/admin/products?limit=10", nil, http.StatusOK)["items"].([]any)
	require.Len(t, variants, 1)
	variantID := variants[0].(map[string]any)["variants"].([]any)[0].(map[string]any)["id"].(string)
	do("POST", "/api/v1/admin/inventory/adjustments", map[string]any{"variant_id": variantID, "set": 10, "reason": "delivery"}, http.StatusCreated)

	// Bad changes: a date in the past, a date without a rate.
	past := now.Add(-time.Hour).Format(time.RFC3339)
	do("PATCH", "/api/v1/admin/vendors/"+vendorID, map[string]any{"commission_rate": "0.2", "effective_from": past}, http.StatusUnprocessableEntity)
	do("PATCH", "/api/v1/admin/vendors/"+vendorID, map[string]any{"effective_from": now.Add(time.Hour).Format(time.RFC3339)}, http.StatusUnprocessableEntity)

	from := now.Add(time.Hour)
	do("PATCH", "/api/v1/admin/vendors/"+vendorID, map[string]any{"commission_rate": "0.15", "effective_from": from.Format(time.RFC3339)}, http.StatusOK)
	rates := do("GET", "/api/v1/admin/vendors/"+vendorID+"/commission-rates", nil, http.StatusOK)["items"].([]any)
	require.Len(t, rates, 2)
	require.Equal(t, "0.1", rates[0].(map[string]any)["commission_rate"])
	require.Equal(t, "0.15", rates[1].(map[string]any)["commission_rate"])
	require.Equal(t, from.Format(time.RFC3339), rates[1].(map[string]any)["effective_from"])
	do("GET", "/api/v1/admin/vendors/"+uuid.Must(uuid.NewV7()).String()+"/commission-rates", nil, http.StatusNotFound)

	// Another vendor's staff see their own history only.
	other := do("POST", "/api/v1/admin/vendors", map[string]any{"name": "Kagoshima Tea", "commission_rate": "0.05"}, http.StatusCreated)["id"].(string)
	do("POST", "/api/v1/admin/staff", map[string]any{"email": "kago@ratemall.example.jp", "name": "Kago", "role": "vendor",
		"vendor_id": other, "password": "password for kago"}, http.StatusCreated)
	kago := env.SignIn(t, "ratemall", "kago@ratemall.example.jp", "password for kago")
	resp := env.Do(t, req{Method: "GET", Path: "/api/v1/admin/vendors/" + vendorID + "/commission-rates", Token: kago})
	require.Equal(t, http.StatusNotFound, resp.Status, string(resp.Body))
	resp = env.Do(t, req{Method: "GET", Path: "/api/v1/admin/vendors/" + other + "/commission-rates", Token: kago})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	require.Len(t, resp.Map(t)["items"].([]any), 1)

	checkout := func() string {
		t.Helper()
		b := newBuyer(t, env, "ratemall")
		resp := b.add(t, "GYOKURO-1", 1)
		require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
		resp = b.do(t, "POST", "/checkout", withMethod("bank_transfer"), "Idempotency-Key", uuid.NewString())
		require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
		return resp.Map(t)["order_id"].(string)
	}
	lineRate := func(id string) any {
		t.Helper()
		var got map[string]any
		require.Eventually(t, func() bool {
			resp := env.Do(t, req{Method: "GET", Path: "/api/v1/admin/orders/" + id, Token: mall.Token})
			if resp.Status != http.StatusOK {
				return false // not projected yet
			}
			got = resp.Map(t)
			return true
		}, 30*time.Second, 5*time.Millisecond, "order %s never projected", id)
		lines := got["lines"].([]any)
		require.Len(t, lines, 1)
		return lines[0].(map[string]any)["commission_rate"]
	}
	before := checkout()
	advance(2 * time.Hour)
	after := checkout()
	require.Equal(t, "0.1", lineRate(before), "the rate in force when placed")
	require.Equal(t, "0.15", lineRate(after), "the new rate from its effective date")
	// A later change does not touch placed orders.
	do("PATCH", "/api/v1/admin/vendors/"+vendorID, map[string]any{"commission_rate": "0.2"}, http.StatusOK)
	require.Equal(t, "0.1", lineRate(before))
	require.Equal(t, "0.15", lineRate(after))
	require.Len(t, do("GET", "/api/v1/admin/vendors/"+vendorID+"/commission-rates", nil, http.StatusOK)["items"].([]any), 3)
}
