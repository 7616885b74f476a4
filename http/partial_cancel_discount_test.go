package http_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/internal/apitest"
)

// A paid order with 10 % off, some units cancelled over HTTP: the
// discount those units carried is reversed, the tax is recomputed per
// rate after discount (rounded once per rate), the refund due is exactly
// what the units cost the buyer, the line keeps the discount of its units
// left, and the ledger still balances.
//
//	placed:  cups 3 × 1,100 (10 %) − 330, tea 2 × 1,080 (8 %) − 216, shipping 800
//	         total 5,714; 10 %: 3,770 → 342; 8 %: 1,944 → 144
//	one cup: −1,100 + 110 reversed = 990 refunded; total 4,724;
//	         10 %: 2,780 → 252; 8 % unchanged
func TestPartialCancelOfADiscountedPaidOrder(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	shop := env.Shop(t, "discount-cancel-shop", "single_brand", false)
	setBank(t, env, shop)
	admin := func(method, path string, body any, want int) map[string]any {
		t.Helper()
		resp := env.Do(t, req{Method: method, Path: "/api/v1/admin" + path, Token: shop.Token, Body: body})
		require.Equal(t, want, resp.Status, "%s %s: %s", method, path, resp.Body)
		return resp.Map(t)
	}
	for _, p := range []struct{ sku, price, rate string }{{"CUP-D", "1100", "10"}, {"TEA-D", "1080", "8"}} {
		pr := admin("POST", "/products", map[string]any{"title": p.sku, "status": "active",
			"variants": []map[string]any{{"sku": p.sku, "price": yen(p.price), "tax_rate": p.rate}}}, http.StatusCreated)
		v := pr["variants"].([]any)[0].(map[string]any)["id"].(string)
		admin("POST", "/inventory/adjustments", map[string]any{"variant_id": v, "set": 10, "reason": "delivery"}, http.StatusCreated)
	}
	admin("POST", "/promotions", map[string]any{"title": "一割引", "kind": "percent", "value": "10", "codes": []string{"TENOFF"}}, http.StatusCreated)
	env.Settle(t)

	b := newBuyer(t, env, "discount-cancel-shop")
	require.Equal(t, http.StatusOK, b.add(t, "CUP-D", 3).Status)
	require.Equal(t, http.StatusOK, b.add(t, "TEA-D", 2).Status)
	h := map[string]string{"X-Tenant": "discount-cancel-shop", "X-Cart-Token": b.token, "Idempotency-Key": "discount-cancel"}
	resp := env.Do(t, req{Method: "POST", Path: "/api/v1/store/carts/" + b.cart + "/checkout", Header: h, Body: map[string]any{
		"email": "buyer@example.jp", "name": "割引 太郎", "phone": "090-1234-5678", "payment_method": "bank_transfer", "coupon_code": "tenoff",
		"shipping_address": map[string]any{"postal_code": "100-0001", "prefecture": "東京都", "city": "千代田区", "line1": "1-1", "line2": ""}}})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	orderID := resp.Map(t)["order_id"].(string)
	tax := func(totals map[string]any) map[string][2]string {
		out := map[string][2]string{}
		for _, x := range totals["tax"].([]any) {
			x := x.(map[string]any)
			out[x["rate"].(string)] = [2]string{amount(x["taxable"]), amount(x["tax"])}
		}
		return out
	}
	totals := resp.Map(t)["totals"].(map[string]any)
	require.Equal(t, "5460", amount(totals["subtotal"]))
	require.Equal(t, "546", amount(totals["discount"]))
	require.Equal(t, "800", amount(totals["shipping"]))
	require.Equal(t, "5714", amount(totals["total"]))
	require.Equal(t, map[string][2]string{"10": {"3770", "342"}, "8": {"1944", "144"}}, tax(totals))

	admin("POST", "/orders/"+orderID+"/payments/confirm", map[string]any{"amount": yen("5714"), "reference": "paid"}, http.StatusOK)
	d := admin("GET", "/orders/"+orderID, nil, http.StatusOK)
	var cup map[string]any
	for _, l := range d["lines"].([]any) {
		if l := l.(map[string]any); l["sku"] == "CUP-D" {
			cup = l
		}
	}
	require.NotNil(t, cup)
	require.Equal(t, "330", amount(cup["discount"]))

	d = admin("POST", "/orders/"+orderID+"/cancel", map[string]any{"reason": "one cup broke",
		"lines": []map[string]any{{"line_id": cup["id"], "quantity": 1}}}, http.StatusOK)
	totals = d["totals"].(map[string]any)
	require.Equal(t, "4360", amount(totals["subtotal"]))
	require.Equal(t, "436", amount(totals["discount"]))
	require.Equal(t, "4724", amount(totals["total"]))
	require.Equal(t, map[string][2]string{"10": {"2780", "252"}, "8": {"1944", "144"}}, tax(totals))
	pay := d["payments"].([]any)[0].(map[string]any)
	require.Equal(t, "990", amount(pay["refund_due"]), "exactly what the cup cost the buyer: 1,100 − 110")
	for _, l := range d["lines"].([]any) {
		if l := l.(map[string]any); l["sku"] == "CUP-D" {
			require.EqualValues(t, 2, l["quantity"])
			require.EqualValues(t, 1, l["cancelled_quantity"])
			require.Equal(t, "220", amount(l["discount"]), "the discount of the 2 cups left")
		}
	}

	env.Settle(t)
	tb := admin("GET", "/ledger/trial-balance", nil, http.StatusOK)
	for _, s := range tb["totals"].([]any) {
		s := s.(map[string]any)
		require.Equal(t, s["debit"], s["credit"], "the trial balance sums to zero")
	}
	refunds := admin("GET", "/refunds?status=due", nil, http.StatusOK)["items"].([]any)
	require.Len(t, refunds, 1)
	require.Equal(t, "990", amount(refunds[0].(map[string]any)["outstanding"]))
}
