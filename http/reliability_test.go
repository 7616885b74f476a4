package http_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/apitest"
)

func TestCreateCartRefusesMalformedBody(t *testing.T) {
	t.Parallel()
	o := newOrderEnv(t)
	for _, body := range []string{`{"x":`, `[1,2]`, `{"unknown": 1}`} {
		resp := o.env.Do(t, req{Method: "POST", Path: "/api/v1/store/carts", Body: body, Header: map[string]string{"X-Tenant": "orders"}})
		require.Equal(t, http.StatusBadRequest, resp.Status, "%s: %s", body, resp.Body)
	}
	var n int
	require.NoError(t, o.env.Main.Pool.QueryRow(t.Context(), `SELECT count(*) FROM events WHERE stream_type = 'cart'`).Scan(&n))
	require.Zero(t, n, "no cart was created")
	for _, body := range []any{nil, `{}`} {
		resp := o.env.Do(t, req{Method: "POST", Path: "/api/v1/store/carts", Body: body, Header: map[string]string{"X-Tenant": "orders"}})
		require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	}
}

func TestOrderTokenInHeaderAndNoReferrer(t *testing.T) {
	t.Parallel()
	o := newOrderEnv(t)
	p := o.place(t, order.PaymentBankTransfer, 1)
	path := "/api/v1/store/orders/" + p.Order.String()
	var resp apitest.Response
	require.Eventually(t, func() bool {
		resp = o.env.Do(t, req{Method: "GET", Path: path, Header: map[string]string{"X-Tenant": "orders", "X-Order-Token": p.Token}})
		return resp.Status == http.StatusOK
	}, 30*time.Second, 5*time.Millisecond)
	require.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"))
	require.Equal(t, p.Number, resp.Map(t)["order_number"])
	resp = o.env.Do(t, req{Method: "GET", Path: path, Header: map[string]string{"X-Tenant": "orders", "X-Order-Token": "wrong"}})
	require.Equal(t, http.StatusNotFound, resp.Status)
	require.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"), "problems too")
}

func TestConfirmPaymentWithoutReferenceTwiceRecordsOnce(t *testing.T) {
	t.Parallel()
	o := newOrderEnv(t)
	p := o.place(t, order.PaymentBankTransfer, 2) // 3,800 due
	confirm := "/api/v1/admin/orders/" + p.Order.String() + "/payments/confirm"
	body := map[string]any{"amount": yen("1000"), "received_at": "2025-12-01T08:00:00Z"}
	o.do(t, "POST", confirm, body, http.StatusOK)
	d := o.do(t, "POST", confirm, body, http.StatusOK)
	pay := d["payments"].([]any)[0].(map[string]any)
	require.Len(t, pay["receipts"], 1, "the same transfer confirmed twice is recorded once")
	require.Equal(t, map[string]any{"amount": "2800", "currency": "JPY"}, pay["balance_due"])
	// Without received_at (now, the same bank day): the same transfer again.
	d = o.do(t, "POST", confirm, map[string]any{"amount": yen("1000")}, http.StatusOK)
	require.Len(t, d["payments"].([]any)[0].(map[string]any)["receipts"], 1)
	// Staff assert a second transfer of the same amount with its own Idempotency-Key.
	resp := o.env.Do(t, req{Method: "POST", Path: confirm, Token: o.shop.Token, Body: body, Header: map[string]string{"Idempotency-Key": uuid.NewString()}})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	pay = resp.Map(t)["payments"].([]any)[0].(map[string]any)
	require.Len(t, pay["receipts"], 2)
	require.Equal(t, map[string]any{"amount": "1800", "currency": "JPY"}, pay["balance_due"])
}

// cartFor opens a cart in the orders shop and reserves qty of SENCHA-1.
func (o *orderEnv) cartFor(t *testing.T, qty int64) *buyer {
	t.Helper()
	b := newBuyer(t, o.env, "orders")
	resp := b.add(t, "SENCHA-1", qty)
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	return b
}

func TestCheckoutPricesFromTheCurrentCatalog(t *testing.T) {
	t.Parallel()
	o := newOrderEnv(t)
	b := o.cartFor(t, 1) // at ¥1,500
	o.do(t, "PATCH", "/api/v1/admin/variants/"+o.variant.String(), map[string]any{"price": yen("1800")}, http.StatusOK)

	resp := b.do(t, "POST", "/checkout", checkoutBody, "Idempotency-Key", uuid.NewString())
	require.Equal(t, http.StatusConflict, resp.Status, string(resp.Body))
	m := resp.Map(t)
	require.Equal(t, "price_changed", m["code"])
	line := m["lines"].([]any)[0].(map[string]any)
	require.Equal(t, "price_changed", line["status"])
	require.Equal(t, yenAny("1800"), line["unit_price"])
	require.Equal(t, yenAny("1500"), line["previous_unit_price"])

	// The cart shows the new price; checking out again charges it.
	var cart map[string]any
	require.Eventually(t, func() bool {
		cart = b.do(t, "GET", "", nil).Map(t)
		return cart["lines"].([]any)[0].(map[string]any)["unit_price"].(map[string]any)["amount"] == "1800"
	}, 30*time.Second, 5*time.Millisecond)
	resp = b.do(t, "POST", "/checkout", checkoutBody, "Idempotency-Key", uuid.NewString())
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	require.Equal(t, yenAny("2600"), resp.Map(t)["totals"].(map[string]any)["total"], "¥1,800 + ¥800 shipping")
}

func TestQuantityChangeTakesTheCurrentPrice(t *testing.T) {
	t.Parallel()
	o := newOrderEnv(t)
	b := o.cartFor(t, 1)
	o.do(t, "PATCH", "/api/v1/admin/variants/"+o.variant.String(), map[string]any{"price": yen("1200")}, http.StatusOK)
	cart := b.do(t, "GET", "", nil).Map(t)
	lineID := cart["lines"].([]any)[0].(map[string]any)["id"].(string)
	resp := b.do(t, "PATCH", "/items/"+lineID, map[string]any{"quantity": 2})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	require.Equal(t, yenAny("1200"), resp.Map(t)["lines"].([]any)[0].(map[string]any)["unit_price"])
	resp = b.add(t, "SENCHA-1", 1)
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	require.Equal(t, yenAny("1200"), resp.Map(t)["unit_price"])
}

func TestCheckoutRefusesAnArchivedProduct(t *testing.T) {
	t.Parallel()
	o := newOrderEnv(t)
	b := o.cartFor(t, 1)
	v := o.do(t, "GET", "/api/v1/admin/variants/"+o.variant.String(), nil, http.StatusOK)
	o.do(t, "DELETE", "/api/v1/admin/products/"+v["product_id"].(string), nil, http.StatusOK)
	before := o.countEvents(t)
	resp := b.do(t, "POST", "/checkout", checkoutBody, "Idempotency-Key", uuid.NewString())
	require.Equal(t, http.StatusConflict, resp.Status, string(resp.Body))
	m := resp.Map(t)
	require.Equal(t, "product_unavailable", m["code"])
	require.Equal(t, "unavailable", m["lines"].([]any)[0].(map[string]any)["status"])
	require.Equal(t, before, o.countEvents(t), "no order")
}

func TestCartQuantityCaps(t *testing.T) {
	t.Parallel()
	o := newOrderEnv(t)
	b := newBuyer(t, o.env, "orders")
	resp := b.add(t, "SENCHA-1", 100)
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "the default line cap is 99: %s", resp.Body)
	require.Equal(t, "quantity", resp.Map(t)["errors"].([]any)[0].(map[string]any)["field"])

	s := o.do(t, "PATCH", "/api/v1/admin/settings", map[string]any{"max_line_quantity": 5, "sku_quantity_caps": map[string]any{"SENCHA-1": 2}}, http.StatusOK)
	require.Equal(t, float64(5), s["max_line_quantity"])
	resp = b.add(t, "SENCHA-1", 3)
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "the SKU's own cap is 2: %s", resp.Body)
	resp = b.add(t, "SENCHA-1", 2)
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	lineID := resp.Map(t)["id"].(string)
	resp = b.add(t, "SENCHA-1", 1)
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "adding up goes over the cap: %s", resp.Body)
	resp = b.do(t, "PATCH", "/items/"+lineID, map[string]any{"quantity": 3})
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status, string(resp.Body))
	require.Equal(t, "quantity", resp.Map(t)["errors"].([]any)[0].(map[string]any)["field"])
	resp = b.do(t, "PATCH", "/items/"+lineID, map[string]any{"quantity": 1})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))

	o.do(t, "PATCH", "/api/v1/admin/settings", map[string]any{"sku_quantity_caps": nil}, http.StatusOK)
	resp = b.do(t, "PATCH", "/items/"+lineID, map[string]any{"quantity": 5})
	require.Equal(t, http.StatusOK, resp.Status, "the line cap: %s", resp.Body)
	resp = b.do(t, "PATCH", "/items/"+lineID, map[string]any{"quantity": 6})
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status, string(resp.Body))
	bad := o.env.Do(t, req{Method: "PATCH", Path: "/api/v1/admin/settings", Token: o.shop.Token, Body: map[string]any{"max_line_quantity": 0}})
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status, string(bad.Body))
}

func yenAny(n string) map[string]any { return map[string]any{"amount": n, "currency": "JPY"} }

// A far-future X-Min-Position holds no request whose shop or caller is
// unknown: they are answered at once (the wait would be 20 s here).
func TestMinPositionIsHonouredOnlyAfterShopAndAuth(t *testing.T) {
	t.Parallel()
	o := newOrderEnv(t)
	future := eventstore.Position{Tx: 1 << 60, Pos: 1 << 60}.Token()
	start := time.Now()
	resp := o.env.Do(t, req{Method: "GET", Path: "/api/v1/admin/orders", Header: map[string]string{"X-Min-Position": future}})
	require.Equal(t, http.StatusUnauthorized, resp.Status, string(resp.Body))
	resp = o.env.Do(t, req{Method: "GET", Path: "/api/v1/admin/orders", Token: "hst_forged", Header: map[string]string{"X-Min-Position": future}})
	require.Equal(t, http.StatusUnauthorized, resp.Status, string(resp.Body))
	resp = o.env.Do(t, req{Method: "GET", Path: "/api/v1/store/products", Header: map[string]string{"X-Tenant": "nowhere", "X-Min-Position": future}})
	require.Equal(t, http.StatusNotFound, resp.Status, string(resp.Body))
	require.Less(t, time.Since(start), 5*time.Second, "nothing waited for the position")
	// A malformed token from a known caller is still a 400.
	resp = o.env.Do(t, req{Method: "GET", Path: "/api/v1/admin/orders", Token: o.shop.Token, Header: map[string]string{"X-Min-Position": "garbage"}})
	require.Equal(t, http.StatusBadRequest, resp.Status)
}
