package http_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/internal/apitest"
)

// Partial cancellation over HTTP: a two-vendor mall order paid by bank
// transfer loses one vendor's part (stock back, refund due for that part,
// totals recomputed, the other part ships), vendor staff cannot touch
// another vendor's lines, a shipped part is a 409, and an unpaid order
// losing some units is settled by a transfer of the new total.
func TestPartialCancellation(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	mall := env.Shop(t, "cancelmall", "mall", false)
	do := func(token, method, path string, body any, want int, header ...string) map[string]any {
		t.Helper()
		h := map[string]string{}
		for i := 0; i+1 < len(header); i += 2 {
			h[header[i]] = header[i+1]
		}
		resp := env.Do(t, req{Method: method, Path: path, Token: token, Body: body, Header: h})
		require.Equal(t, want, resp.Status, "%s %s: %s", method, path, resp.Body)
		if len(resp.Body) == 0 {
			return nil
		}
		return resp.Map(t)
	}
	admin := func(method, path string, body any, want int, header ...string) map[string]any {
		t.Helper()
		return do(mall.Token, method, path, body, want, header...)
	}
	admin("PATCH", "/api/v1/admin/settings", map[string]any{"bank_account": map[string]any{"bank_name": "みずほ銀行", "bank_code": "0001",
		"branch_name": "本店", "branch_code": "100", "account_type": "ordinary", "account_number": "1234567", "account_holder": "ｷｬﾝｾﾙﾓｰﾙ"}}, http.StatusOK)
	vendor := func(name, sku, price, taxRate string) string {
		t.Helper()
		id := admin("POST", "/api/v1/admin/vendors", map[string]any{"name": name, "commission_rate": "0.1"}, http.StatusCreated)["id"].(string)
		p := admin("POST", "/api/v1/admin/products", map[string]any{"title": name + " tea", "status": "active", "vendor_id": id,
			"variants": []map[string]any{{"sku": sku, "price": yen(price), "tax_rate": taxRate}}}, http.StatusCreated)
		variant := p["variants"].([]any)[0].(map[string]any)["id"].(string)
		admin("POST", "/api/v1/admin/inventory/adjustments", map[string]any{"variant_id": variant, "set": 10, "reason": "delivery"}, http.StatusCreated)
		return id
	}
	uji := vendor("Uji", "UJI-1", "3000", "8")
	kago := vendor("Kagoshima", "KAGO-1", "2000", "10")
	available := func(sku string) int64 {
		t.Helper()
		env.Settle(t)
		var out stockList
		resp := env.Do(t, req{Method: "GET", Path: "/api/v1/admin/inventory?sku=" + sku, Token: mall.Token})
		require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
		resp.JSON(t, &out)
		require.Len(t, out.Items, 1)
		return out.Items[0].Available
	}
	checkout := func(lines map[string]int64) (string, map[string]any) {
		t.Helper()
		b := newBuyer(t, env, "cancelmall")
		for sku, q := range lines {
			require.Equal(t, http.StatusOK, b.add(t, sku, q).Status)
		}
		resp := b.do(t, "POST", "/checkout", withMethod("bank_transfer"), "Idempotency-Key", uuid.NewString())
		require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
		m := resp.Map(t)
		env.Settle(t)
		return m["order_id"].(string), m
	}
	lineOf := func(ord map[string]any, sku string) map[string]any {
		t.Helper()
		for _, l := range ord["lines"].([]any) {
			if l := l.(map[string]any); l["sku"] == sku {
				return l
			}
		}
		t.Fatalf("no line %s", sku)
		return nil
	}
	amount := func(m any) string { return m.(map[string]any)["amount"].(string) }

	// A two-vendor order, paid in full.
	orderID, placed := checkout(map[string]int64{"UJI-1": 1, "KAGO-1": 2})
	require.Equal(t, "7800", amount(placed["totals"].(map[string]any)["total"]), "3,000 + 2 × 2,000 + ¥800 shipping")
	require.Equal(t, int64(9), available("UJI-1"))
	admin("POST", "/api/v1/admin/orders/"+orderID+"/payments/confirm", map[string]any{"amount": yen("7800"), "reference": "T-1"}, http.StatusOK)
	env.Settle(t)
	ord := admin("GET", "/api/v1/admin/orders/"+orderID, nil, http.StatusOK)
	require.Equal(t, "pending_shipment", ord["status"])
	ujiLine := lineOf(ord, "UJI-1")["id"].(string)

	// Kagoshima's staff cannot cancel Uji's part or lines.
	admin("POST", "/api/v1/admin/staff", map[string]any{"email": "kago@cancelmall.example.jp", "name": "Kago", "role": "vendor",
		"vendor_id": kago, "password": "password for kago"}, http.StatusCreated)
	staff := env.SignIn(t, "cancelmall", "kago@cancelmall.example.jp", "password for kago")
	do(staff, "POST", "/api/v1/admin/orders/"+orderID+"/cancel", map[string]any{"vendor_id": uji}, http.StatusNotFound)
	do(staff, "POST", "/api/v1/admin/orders/"+orderID+"/cancel", map[string]any{"lines": []map[string]any{{"line_id": ujiLine}}}, http.StatusNotFound)
	admin("POST", "/api/v1/admin/orders/"+orderID+"/cancel", map[string]any{"lines": []map[string]any{{"line_id": ujiLine, "quantity": 2}}},
		http.StatusUnprocessableEntity)
	admin("POST", "/api/v1/admin/orders/"+orderID+"/cancel", map[string]any{"lines": []map[string]any{{"line_id": ujiLine, "quantity": 0}}},
		http.StatusUnprocessableEntity)
	admin("POST", "/api/v1/admin/orders/"+orderID+"/cancel", map[string]any{"vendor_id": uji, "extra": true}, http.StatusBadRequest)
	require.Equal(t, int64(9), available("UJI-1"))

	// Uji's part goes, once for one Idempotency-Key.
	key := uuid.NewString()
	body := map[string]any{"reason": "Uji is out of stock", "vendor_id": uji}
	got := admin("POST", "/api/v1/admin/orders/"+orderID+"/cancel", body, http.StatusOK, "Idempotency-Key", key)
	again := admin("POST", "/api/v1/admin/orders/"+orderID+"/cancel", body, http.StatusOK, "Idempotency-Key", key)
	require.Equal(t, got, again, "the same key answers the first response")
	admin("POST", "/api/v1/admin/orders/"+orderID+"/cancel", body, http.StatusConflict) // a new request: nothing of Uji is left
	require.Equal(t, int64(10), available("UJI-1"), "Uji's stock is back")
	require.Equal(t, int64(8), available("KAGO-1"))

	env.Settle(t)
	ord = admin("GET", "/api/v1/admin/orders/"+orderID, nil, http.StatusOK)
	require.Equal(t, "pending_shipment", ord["status"])
	ul := lineOf(ord, "UJI-1")
	require.Equal(t, float64(0), ul["quantity"])
	require.Equal(t, float64(1), ul["cancelled_quantity"])
	require.Equal(t, float64(2), lineOf(ord, "KAGO-1")["quantity"])
	totals := ord["totals"].(map[string]any)
	require.Equal(t, "4800", amount(totals["total"]))
	require.Equal(t, "4000", amount(totals["subtotal"]))
	require.Equal(t, "800", amount(totals["shipping"]))
	tax := totals["tax"].([]any)
	require.Len(t, tax, 1, "no 8% goods left")
	require.Equal(t, "10", tax[0].(map[string]any)["rate"])
	require.Equal(t, "4800", amount(tax[0].(map[string]any)["taxable"]))
	require.Equal(t, "436", amount(tax[0].(map[string]any)["tax"]), "4,800 × 10/110 = 436.36, rounded down")
	pay := ord["payments"].([]any)[0].(map[string]any)
	require.Equal(t, "4800", amount(pay["amount"]))
	require.Equal(t, "3000", amount(pay["refund_due"]), "Uji's part is due back")
	require.Equal(t, "paid", pay["status"])
	var kagoShipment string
	for _, sh := range ord["shipments"].([]any) {
		sh := sh.(map[string]any)
		switch sh["vendor_id"] {
		case uji:
			require.Equal(t, "cancelled", sh["status"])
		case kago:
			require.Equal(t, "pending", sh["status"])
			kagoShipment = sh["id"].(string)
		}
	}
	require.NotEmpty(t, kagoShipment)
	hist := ord["status_history"].([]any)
	last := hist[len(hist)-1].(map[string]any)
	require.Equal(t, "lines cancelled: Uji is out of stock", last["reason"])

	// Kagoshima's part ships as usual; it cannot be cancelled any more.
	do(staff, "POST", "/api/v1/admin/shipments/"+kagoShipment+"/ship", map[string]any{"carrier": "yamato", "tracking_no": "K-1"}, http.StatusOK)
	env.Settle(t)
	require.Equal(t, "shipped", admin("GET", "/api/v1/admin/orders/"+orderID, nil, http.StatusOK)["status"])
	problem := do(staff, "POST", "/api/v1/admin/orders/"+orderID+"/cancel", map[string]any{"reason": "too late"}, http.StatusConflict)
	require.Equal(t, "order_already_shipped", problem["code"])

	// An unpaid order loses one unit; a transfer of the new total settles it.
	unpaid, placed := checkout(map[string]int64{"KAGO-1": 3})
	require.Equal(t, "6800", amount(placed["totals"].(map[string]any)["total"]))
	ord = admin("GET", "/api/v1/admin/orders/"+unpaid, nil, http.StatusOK)
	kagoLine := lineOf(ord, "KAGO-1")["id"].(string)
	ord = admin("POST", "/api/v1/admin/orders/"+unpaid+"/cancel", map[string]any{"lines": []map[string]any{{"line_id": kagoLine, "quantity": 1}}},
		http.StatusOK, "Idempotency-Key", uuid.NewString())
	require.Equal(t, "pending_payment", ord["status"])
	require.Equal(t, "4800", amount(ord["totals"].(map[string]any)["total"]))
	require.Equal(t, int64(6), available("KAGO-1"), "one of the three units is back")
	admin("POST", "/api/v1/admin/orders/"+unpaid+"/payments/confirm", map[string]any{"amount": yen("4800"), "reference": "T-2"}, http.StatusOK)
	env.Settle(t)
	ord = admin("GET", "/api/v1/admin/orders/"+unpaid, nil, http.StatusOK)
	require.Equal(t, "pending_shipment", ord["status"])
	pay = ord["payments"].([]any)[0].(map[string]any)
	require.Equal(t, "paid", pay["status"])
	require.Equal(t, "0", amount(pay["refund_due"]))
	require.Equal(t, "0", amount(pay["balance_due"]))
	sh := ord["shipments"].([]any)[0].(map[string]any)
	require.Equal(t, float64(2), sh["lines"].([]any)[0].(map[string]any)["quantity"], "the parcel holds what is left")
}
