package http_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/internal/apitest"
)

// orderEnv is a single-brand shop with a bank account, one stocked
// variant (10 on hand) and a clock the test moves.
type orderEnv struct {
	env     *apitest.Env
	shop    apitest.Shop
	variant catalog.VariantID
	mu      sync.Mutex
	now     time.Time
}

func newOrderEnv(t *testing.T) *orderEnv {
	t.Helper()
	o := &orderEnv{now: time.Date(2025, 12, 1, 9, 0, 0, 0, time.UTC)}
	o.env = apitest.NewWith(t, apitest.Options{Now: o.clock})
	o.shop = o.env.Shop(t, "orders", "single_brand", false)
	resp := o.env.Do(t, req{Method: "PATCH", Path: "/api/v1/admin/settings", Token: o.shop.Token,
		Body: map[string]any{"bank_account": map[string]any{"bank_name": "みずほ銀行", "bank_code": "0001", "branch_name": "本店",
			"branch_code": "100", "account_type": "ordinary", "account_number": "1234567", "account_holder": "ｷｮｳﾄﾁｬ"}}})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	p := o.do(t, "POST", "/api/v1/admin/products", map[string]any{"title": "Sencha", "status": "active",
		"variants": []map[string]any{{"sku": "SENCHA-1", "price": yen("1500"), "tax_rate": "10"}}}, http.StatusCreated)
	v, err := catalog.ParseVariantID(p["variants"].([]any)[0].(map[string]any)["id"].(string))
	require.NoError(t, err)
	o.variant = v
	o.do(t, "POST", "/api/v1/admin/inventory/adjustments", map[string]any{"variant_id": v.String(), "set": 10, "reason": "delivery"}, http.StatusCreated)
	return o
}

func (o *orderEnv) clock() time.Time { o.mu.Lock(); defer o.mu.Unlock(); return o.now }

func (o *orderEnv) advance(d time.Duration) { o.mu.Lock(); o.now = o.now.Add(d); o.mu.Unlock() }

func (o *orderEnv) do(t *testing.T, method, path string, body any, want int) map[string]any {
	t.Helper()
	resp := o.env.Do(t, req{Method: method, Path: path, Token: o.shop.Token, Body: body})
	require.Equal(t, want, resp.Status, "%s %s: %s", method, path, resp.Body)
	if len(resp.Body) == 0 {
		return nil
	}
	return resp.Map(t)
}

// placed is a checked-out order.
type placed struct {
	Order  order.ID
	Number string
	Token  string
	Total  money.Money
}

// place checks out a cart of qty units through the storefront: a new
// cart, the line reserved (?wait=), the checkout.
func (o *orderEnv) place(t *testing.T, method order.PaymentMethod, qty int64) placed {
	t.Helper()
	b := newBuyer(t, o.env, "orders")
	resp := b.add(t, "SENCHA-1", qty)
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	require.Equal(t, "reserved", resp.Map(t)["reservation"].(map[string]any)["status"])
	resp = b.do(t, "POST", "/checkout", withMethod(string(method)), "Idempotency-Key", uuid.NewString())
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	m := resp.Map(t)
	id, err := order.ParseID(m["order_id"].(string))
	require.NoError(t, err)
	total := m["totals"].(map[string]any)["total"].(map[string]any)
	amount, err := money.Parse(total["amount"].(string), money.JPY)
	require.NoError(t, err)
	return placed{Order: id, Number: m["order_number"].(string), Token: m["access_token"].(string), Total: amount}
}

// waitOrder polls the admin order until its status is want.
func (o *orderEnv) waitOrder(t *testing.T, id order.ID, want string) map[string]any {
	t.Helper()
	var got map[string]any
	require.Eventually(t, func() bool {
		resp := o.env.Do(t, req{Method: "GET", Path: "/api/v1/admin/orders/" + id.String(), Token: o.shop.Token})
		if resp.Status != http.StatusOK {
			return false // not projected yet
		}
		got = resp.Map(t)
		return got["status"] == want
	}, 30*time.Second, 5*time.Millisecond, "order %s never became %s", id, want)
	return got
}

func (o *orderEnv) available(t *testing.T) float64 {
	t.Helper()
	l := o.do(t, "GET", "/api/v1/admin/inventory?variant_id="+o.variant.String(), nil, http.StatusOK)
	return l["items"].([]any)[0].(map[string]any)["available"].(float64)
}

func (o *orderEnv) countEvents(t *testing.T) int {
	t.Helper()
	var n int
	require.NoError(t, o.env.Main.Pool.QueryRow(context.Background(), `SELECT count(*) FROM events`).Scan(&n))
	return n
}

func shipmentID(t *testing.T, d map[string]any) string {
	t.Helper()
	ships := d["shipments"].([]any)
	require.Len(t, ships, 1)
	return ships[0].(map[string]any)["id"].(string)
}

func statuses(d map[string]any) []string {
	var out []string
	for _, h := range d["status_history"].([]any) {
		out = append(out, h.(map[string]any)["to"].(string))
	}
	return out
}

func TestBankTransferOrderOverHTTP(t *testing.T) {
	t.Parallel()
	o := newOrderEnv(t)
	p := o.place(t, order.PaymentBankTransfer, 2)
	id := p.Order.String()
	o.env.Settle(t)

	// The buyer sees the transfer instructions with their token only.
	buyer := o.env.Do(t, req{Method: "GET", Path: "/api/v1/store/orders/" + id + "?token=" + p.Token, Header: map[string]string{"X-Tenant": "orders"}})
	require.Equal(t, http.StatusOK, buyer.Status, string(buyer.Body))
	bv := buyer.Map(t)
	require.Equal(t, "pending_payment", bv["status"])
	pay := bv["payment"].(map[string]any)
	require.NotEmpty(t, pay["reference_code"])
	require.Equal(t, "2025-12-07T14:59:59Z", pay["due_at"], "the end of the 7th day in Japan, order day = day 1")
	require.Equal(t, "1234567", pay["bank_account"].(map[string]any)["account_number"])
	require.Equal(t, map[string]any{"amount": "3800", "currency": "JPY"}, pay["balance_due"])
	for _, tok := range []string{"", "?token=wrong", "?token=" + uuid.NewString()} {
		r := o.env.Do(t, req{Method: "GET", Path: "/api/v1/store/orders/" + id + tok, Header: map[string]string{"X-Tenant": "orders"}})
		require.Equal(t, http.StatusNotFound, r.Status)
	}

	confirm := "/api/v1/admin/orders/" + id + "/payments/confirm"
	d := o.do(t, "POST", confirm, map[string]any{"amount": yen("1800"), "reference": "101", "received_at": "2025-12-01T08:00:00Z"}, http.StatusOK)
	payment := d["payments"].([]any)[0].(map[string]any)
	require.Equal(t, "partially_paid", payment["status"])
	require.Equal(t, map[string]any{"amount": "2000", "currency": "JPY"}, payment["balance_due"])
	require.Equal(t, "pending_payment", d["status"], "partial: still pending")
	// Repeated: nothing more.
	d = o.do(t, "POST", confirm, map[string]any{"amount": yen("1800"), "reference": "101"}, http.StatusOK)
	require.Len(t, d["payments"].([]any)[0].(map[string]any)["receipts"], 1)
	// Over: paid, refund due; the order moves on and gets its shipment.
	d = o.do(t, "POST", confirm, map[string]any{"amount": yen("2500"), "reference": "102"}, http.StatusOK)
	payment = d["payments"].([]any)[0].(map[string]any)
	require.Equal(t, "paid", payment["status"])
	require.Equal(t, map[string]any{"amount": "500", "currency": "JPY"}, payment["refund_due"])
	d = o.waitOrder(t, p.Order, "pending_shipment")
	o.env.Settle(t)
	d = o.do(t, "GET", "/api/v1/admin/orders/"+id, nil, http.StatusOK)
	sid := shipmentID(t, d)
	require.Equal(t, float64(8), o.available(t))

	sh := o.do(t, "POST", "/api/v1/admin/shipments/"+sid+"/ship", map[string]any{"carrier": "ヤマト運輸", "tracking_no": "1234-5678-9012"}, http.StatusOK)
	require.Equal(t, "shipped", sh["status"])
	require.Equal(t, "1234-5678-9012", sh["tracking_no"])
	o.waitOrder(t, p.Order, "shipped")
	sh = o.do(t, "POST", "/api/v1/admin/shipments/"+sid+"/deliver", nil, http.StatusOK)
	require.Equal(t, "delivered", sh["status"])
	d = o.waitOrder(t, p.Order, "completed")
	require.Equal(t, []string{"pending_payment", "pending_shipment", "shipped", "completed"}, statuses(d))
	require.Equal(t, float64(8), o.available(t), "2 shipped out of 10")
	l := o.do(t, "GET", "/api/v1/admin/inventory?variant_id="+o.variant.String(), nil, http.StatusOK)
	require.Equal(t, float64(8), l["items"].([]any)[0].(map[string]any)["on_hand"])

	// Listed with filters.
	list := o.do(t, "GET", "/api/v1/admin/orders?status=completed&payment_method=bank_transfer&q="+p.Number, nil, http.StatusOK)
	require.Len(t, list["items"], 1)
	require.Equal(t, p.Number, list["items"].([]any)[0].(map[string]any)["order_number"])
	buyer = o.env.Do(t, req{Method: "GET", Path: "/api/v1/store/orders/" + id + "?token=" + p.Token, Header: map[string]string{"X-Tenant": "orders"}})
	require.Equal(t, "completed", buyer.Map(t)["status"])
}

func TestCODOrderOverHTTP(t *testing.T) {
	t.Parallel()
	o := newOrderEnv(t)
	p := o.place(t, order.PaymentCOD, 1)
	id := p.Order.String()
	require.Equal(t, "2630", p.Total.AmountString(), "1,500 + ¥800 shipping + ¥330 COD fee")
	d := o.waitOrder(t, p.Order, "pending_shipment")
	o.env.Settle(t)
	d = o.do(t, "GET", "/api/v1/admin/orders/"+id, nil, http.StatusOK)
	sid := shipmentID(t, d)
	require.Equal(t, map[string]any{"amount": "2630", "currency": "JPY"}, d["shipments"].([]any)[0].(map[string]any)["cod_amount"])

	// Confirming a bank transfer on a COD order: 409, nothing written.
	before := o.countEvents(t)
	resp := o.env.Do(t, req{Method: "POST", Path: "/api/v1/admin/orders/" + id + "/payments/confirm", Token: o.shop.Token, Body: map[string]any{"amount": yen("2630")}})
	require.Equal(t, http.StatusConflict, resp.Status)
	require.Equal(t, "not_bank_transfer", resp.Map(t)["code"])
	// Collecting before shipping: 409.
	resp = o.env.Do(t, req{Method: "POST", Path: "/api/v1/admin/shipments/" + sid + "/cod-collected", Token: o.shop.Token, Body: map[string]any{"amount": yen("2630")}})
	require.Equal(t, http.StatusConflict, resp.Status)
	require.Equal(t, "shipment_not_shipped", resp.Map(t)["code"])
	require.Equal(t, before, o.countEvents(t))

	o.do(t, "POST", "/api/v1/admin/shipments/"+sid+"/ship", map[string]any{"carrier": "佐川急便", "tracking_no": "S-1"}, http.StatusOK)
	o.do(t, "POST", "/api/v1/admin/shipments/"+sid+"/deliver", map[string]any{}, http.StatusOK)
	o.waitOrder(t, p.Order, "shipped")
	o.env.Settle(t)
	require.Equal(t, "shipped", o.do(t, "GET", "/api/v1/admin/orders/"+id, nil, http.StatusOK)["status"], "delivered, not yet collected")
	o.do(t, "POST", "/api/v1/admin/shipments/"+sid+"/cod-collected", map[string]any{"amount": yen("2630")}, http.StatusOK)
	d = o.waitOrder(t, p.Order, "completed")
	payment := d["payments"].([]any)[0].(map[string]any)
	require.Equal(t, "paid", payment["status"])
	require.Equal(t, "cod", payment["receipts"].([]any)[0].(map[string]any)["kind"])
	require.Equal(t, []string{"pending_shipment", "shipped", "completed"}, statuses(d))
}

func TestCancelOrderOverHTTP(t *testing.T) {
	t.Parallel()
	o := newOrderEnv(t)
	p := o.place(t, order.PaymentCOD, 3)
	shipped := o.place(t, order.PaymentCOD, 1)
	o.env.Settle(t)
	require.Equal(t, float64(6), o.available(t))

	d := o.do(t, "POST", "/api/v1/admin/orders/"+p.Order.String()+"/cancel", map[string]any{"reason": "buyer asked"}, http.StatusOK)
	require.Equal(t, "cancelled", d["status"])
	require.Equal(t, "cancelled", d["payments"].([]any)[0].(map[string]any)["status"])
	require.Equal(t, "cancelled", d["shipments"].([]any)[0].(map[string]any)["status"])
	h := d["status_history"].([]any)
	require.Equal(t, "buyer asked", h[len(h)-1].(map[string]any)["reason"])
	require.Equal(t, float64(9), o.available(t), "the 3 units are back")
	// Again: 200, nothing written.
	before := o.countEvents(t)
	o.do(t, "POST", "/api/v1/admin/orders/"+p.Order.String()+"/cancel", nil, http.StatusOK)
	require.Equal(t, before, o.countEvents(t))

	// Shipping a cancelled order: 409, nothing written.
	resp := o.env.Do(t, req{Method: "POST", Path: "/api/v1/admin/shipments/" + shipmentID(t, d) + "/ship", Token: o.shop.Token,
		Body: map[string]any{"carrier": "yamato", "tracking_no": "1"}})
	require.Equal(t, http.StatusConflict, resp.Status, string(resp.Body))
	require.Equal(t, "order_cancelled", resp.Map(t)["code"])
	require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	require.Equal(t, before, o.countEvents(t))

	// Cancelling a shipped order: 409 order_already_shipped.
	sd := o.do(t, "GET", "/api/v1/admin/orders/"+shipped.Order.String(), nil, http.StatusOK)
	o.do(t, "POST", "/api/v1/admin/shipments/"+shipmentID(t, sd)+"/ship", map[string]any{"carrier": "yamato", "tracking_no": "2"}, http.StatusOK)
	o.env.Settle(t)
	before = o.countEvents(t)
	resp = o.env.Do(t, req{Method: "POST", Path: "/api/v1/admin/orders/" + shipped.Order.String() + "/cancel", Token: o.shop.Token, Body: map[string]any{}})
	require.Equal(t, http.StatusConflict, resp.Status)
	require.Equal(t, "order_already_shipped", resp.Map(t)["code"])
	require.Equal(t, before, o.countEvents(t))
}

func TestUnpaidOrderIsCancelledAtItsDueDate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	o := newOrderEnv(t)
	unpaid := o.place(t, order.PaymentBankTransfer, 4)
	partly := o.place(t, order.PaymentBankTransfer, 1)
	paid := o.place(t, order.PaymentBankTransfer, 1)
	o.do(t, "POST", "/api/v1/admin/orders/"+partly.Order.String()+"/payments/confirm", map[string]any{"amount": yen("1000")}, http.StatusOK)
	o.do(t, "POST", "/api/v1/admin/orders/"+paid.Order.String()+"/payments/confirm", map[string]any{"amount": yen("2300")}, http.StatusOK)
	o.waitOrder(t, paid.Order, "pending_shipment")
	o.env.Settle(t)
	require.Equal(t, float64(4), o.available(t))

	o.advance(6*24*time.Hour + 5*time.Hour + 58*time.Minute + 59*time.Second) // a minute before 2025-12-07T14:59:59Z
	n, err := o.env.Main.Sweeper.CancelOverdue(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "not due yet")
	o.advance(time.Minute)
	n, err = o.env.Main.Sweeper.CancelOverdue(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "due, but within the 72h grace period (a transfer sent on the due date arrives the next banking day)")
	o.advance(72 * time.Hour)
	o.shop.Token = o.env.SignIn(t, "orders", o.shop.Owner, o.shop.Password) // the week-old session expired
	n, err = o.env.Main.Sweeper.CancelOverdue(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	o.env.Settle(t)

	d := o.do(t, "GET", "/api/v1/admin/orders/"+unpaid.Order.String(), nil, http.StatusOK)
	require.Equal(t, "cancelled", d["status"])
	h := d["status_history"].([]any)
	require.Equal(t, commands.ReasonPaymentOverdue, h[len(h)-1].(map[string]any)["reason"])
	require.Equal(t, "system:payment_deadline", h[len(h)-1].(map[string]any)["actor"])
	d = o.do(t, "GET", "/api/v1/admin/orders/"+partly.Order.String(), nil, http.StatusOK)
	require.Equal(t, "cancelled", d["status"])
	require.Equal(t, map[string]any{"amount": "1000", "currency": "JPY"}, d["payments"].([]any)[0].(map[string]any)["refund_due"])
	require.Equal(t, "pending_shipment", o.do(t, "GET", "/api/v1/admin/orders/"+paid.Order.String(), nil, http.StatusOK)["status"])
	require.Equal(t, float64(9), o.available(t), "the 5 units of the two cancelled orders are back")

	n, err = o.env.Main.Sweeper.CancelOverdue(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "a second sweep does nothing")
	// The buyer's late transfer is recorded, as a refund due: money is never dropped.
	d = o.do(t, "POST", "/api/v1/admin/orders/"+unpaid.Order.String()+"/payments/confirm", map[string]any{"amount": yen("6800")}, http.StatusOK)
	require.Equal(t, "cancelled", d["status"])
	pay := d["payments"].([]any)[0].(map[string]any)
	require.Equal(t, map[string]any{"amount": "6800", "currency": "JPY"}, pay["refund_due"])
	require.Len(t, pay["receipts"], 1)
}

func TestOrderEndpointsBadInput(t *testing.T) {
	t.Parallel()
	o := newOrderEnv(t)
	p := o.place(t, order.PaymentBankTransfer, 1)
	o.env.Settle(t)
	id := p.Order.String()
	before := o.countEvents(t)
	confirm := "/api/v1/admin/orders/" + id + "/payments/confirm"
	for i, c := range []struct {
		method, path string
		body         any
		status       int
	}{
		{"POST", confirm, `{"amount": 1200}`, http.StatusUnprocessableEntity},
		{"POST", confirm, `{"amount": {"amount": "12.5", "currency": "JPY"}}`, http.StatusUnprocessableEntity},
		{"POST", confirm, `{"amount": {"amount": "0", "currency": "JPY"}}`, http.StatusUnprocessableEntity},
		{"POST", confirm, `{"amount": {"amount": "-5", "currency": "JPY"}}`, http.StatusUnprocessableEntity},
		{"POST", confirm, `{"amount": {"amount": "5", "currency": "USD"}}`, http.StatusUnprocessableEntity},
		{"POST", confirm, `{"amount": {"amount": "5", "currency": "XXX"}}`, http.StatusUnprocessableEntity},
		{"POST", confirm, `{}`, http.StatusUnprocessableEntity},
		{"POST", confirm, `{"amount": {"amount": "5", "currency": "JPY"}, "received_at": "yesterday"}`, http.StatusBadRequest},
		{"POST", confirm, `{"amount": {"amount": "5", "currency": "JPY"}, "received_at": "2030-01-01T00:00:00Z"}`, http.StatusUnprocessableEntity},
		{"POST", confirm, `{"amount": {"amount": "5", "currency": "JPY"}, "extra": 1}`, http.StatusBadRequest},
		{"POST", confirm, `not json`, http.StatusBadRequest},
		{"POST", "/api/v1/admin/orders/" + uuid.NewString() + "/payments/confirm", `{"amount": {"amount": "5", "currency": "JPY"}}`, http.StatusNotFound},
		{"POST", "/api/v1/admin/orders/not-an-id/cancel", `{}`, http.StatusNotFound},
		{"POST", "/api/v1/admin/orders/" + id + "/cancel", `{"reason": 5}`, http.StatusBadRequest},
		{"POST", "/api/v1/admin/orders/" + id + "/cancel", fmt.Sprintf(`{"reason": %q}`, strings.Repeat("あ", 201)), http.StatusUnprocessableEntity},
		{"POST", "/api/v1/admin/shipments/" + uuid.NewString() + "/ship", `{"carrier": "x", "tracking_no": "1"}`, http.StatusNotFound},
		{"POST", "/api/v1/admin/shipments/" + uuid.NewString() + "/deliver", `{"x": 1}`, http.StatusBadRequest},
		{"POST", "/api/v1/admin/shipments/" + uuid.NewString() + "/cod-collected", `{}`, http.StatusUnprocessableEntity},
		{"GET", "/api/v1/admin/orders?status=lost", nil, http.StatusUnprocessableEntity},
		{"GET", "/api/v1/admin/orders?payment_method=card", nil, http.StatusUnprocessableEntity},
		{"GET", "/api/v1/admin/orders?vendor_id=x", nil, http.StatusUnprocessableEntity},
		{"GET", "/api/v1/admin/orders?created_from=monday", nil, http.StatusUnprocessableEntity},
		{"GET", "/api/v1/admin/orders?limit=500", nil, http.StatusUnprocessableEntity},
		{"GET", "/api/v1/admin/orders?cursor=zzz", nil, http.StatusBadRequest},
		{"GET", "/api/v1/admin/orders/" + uuid.NewString(), nil, http.StatusNotFound},
	} {
		resp := o.env.Do(t, req{Method: c.method, Path: c.path, Token: o.shop.Token, Body: c.body})
		require.Equal(t, c.status, resp.Status, "case %d %s %s %v: %s", i, c.method, c.path, c.body, resp.Body)
		require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"), "case %d", i)
	}
	require.Equal(t, before, o.countEvents(t), "no event written")

	// Idempotency-Key: a retried confirmation appends once and answers the same.
	key := map[string]string{"Idempotency-Key": "confirm-1"}
	first := o.env.Do(t, req{Method: "POST", Path: confirm, Token: o.shop.Token, Header: key, Body: map[string]any{"amount": yen("100")}})
	require.Equal(t, http.StatusOK, first.Status, string(first.Body))
	again := o.env.Do(t, req{Method: "POST", Path: confirm, Token: o.shop.Token, Header: key, Body: map[string]any{"amount": yen("100")}})
	require.Equal(t, http.StatusOK, again.Status)
	require.Equal(t, string(first.Body), string(again.Body))
	d := o.do(t, "GET", "/api/v1/admin/orders/"+id, nil, http.StatusOK)
	require.Len(t, d["payments"].([]any)[0].(map[string]any)["receipts"], 1)
}

// A transfer that arrives after its order was cancelled is a refund due;
// staff may instead reinstate the order when the stock is still there.
func TestLatePaidOrderIsReinstatedWhenStockAllows(t *testing.T) {
	t.Parallel()
	o := newOrderEnv(t)
	late := o.place(t, order.PaymentBankTransfer, 4)  // 4 × 1,500 + 800 shipping = 6,800
	short := o.place(t, order.PaymentBankTransfer, 1) // 2,300
	path := func(p placed, what string) string { return "/api/v1/admin/orders/" + p.Order.String() + what }
	o.do(t, "POST", path(late, "/cancel"), map[string]any{"reason": "no transfer in time"}, http.StatusOK)
	o.do(t, "POST", path(short, "/cancel"), nil, http.StatusOK)

	// Not yet paid: nothing to reinstate with.
	resp := o.env.Do(t, req{Method: "POST", Path: path(late, "/reinstate"), Token: o.shop.Token})
	require.Equal(t, http.StatusConflict, resp.Status, string(resp.Body))
	require.Equal(t, "order_not_reinstatable", resp.Map(t)["code"])
	// The late transfers: 200 yen more than due, and less than due.
	o.do(t, "POST", path(late, "/payments/confirm"), map[string]any{"amount": yen("7000")}, http.StatusOK)
	o.do(t, "POST", path(short, "/payments/confirm"), map[string]any{"amount": yen("2000")}, http.StatusOK)
	resp = o.env.Do(t, req{Method: "POST", Path: path(short, "/reinstate"), Token: o.shop.Token})
	require.Equal(t, http.StatusConflict, resp.Status, string(resp.Body))
	require.Equal(t, "order_not_reinstatable", resp.Map(t)["code"], "2,000 yen does not cover 2,300")

	// Meanwhile two buyers took all 10 units: the reinstatement is refused
	// and writes nothing.
	a := o.place(t, order.PaymentBankTransfer, 5)
	o.place(t, order.PaymentBankTransfer, 5)
	o.env.Settle(t)
	require.Equal(t, float64(0), o.available(t))
	before := o.countEvents(t)
	resp = o.env.Do(t, req{Method: "POST", Path: path(late, "/reinstate"), Token: o.shop.Token})
	require.Equal(t, http.StatusConflict, resp.Status, string(resp.Body))
	require.Equal(t, "insufficient_stock", resp.Map(t)["code"])
	require.Equal(t, before, o.countEvents(t), "nothing written")
	d := o.do(t, "GET", path(late, ""), nil, http.StatusOK)
	require.Equal(t, "cancelled", d["status"])
	require.Equal(t, map[string]any{"amount": "7000", "currency": "JPY"}, d["payments"].([]any)[0].(map[string]any)["refund_due"])

	// One of them cancels: the stock is back, and the order ships after all.
	o.do(t, "POST", path(a, "/cancel"), nil, http.StatusOK)
	d = o.do(t, "POST", path(late, "/reinstate"), map[string]any{"reason": "paid late; the buyer wants the tea"}, http.StatusOK)
	require.Equal(t, "pending_shipment", d["status"])
	pay := d["payments"].([]any)[0].(map[string]any)
	require.Equal(t, "paid", pay["status"])
	require.Equal(t, map[string]any{"amount": "200", "currency": "JPY"}, pay["refund_due"], "only the excess is still due back")
	require.Len(t, d["shipments"], 1, "its shipment is created with it")
	h := d["status_history"].([]any)
	require.Equal(t, []any{"cancelled", "pending_payment", "pending_shipment"}, []any{
		h[len(h)-3].(map[string]any)["to"], h[len(h)-2].(map[string]any)["to"], h[len(h)-1].(map[string]any)["to"]})
	require.Equal(t, "paid late; the buyer wants the tea", h[len(h)-2].(map[string]any)["reason"])
	o.env.Settle(t)
	require.Equal(t, float64(1), o.available(t), "5 units back from the cancelled order, 4 allocated again")

	// Once only; and it ships like any paid order, its stock leaving on hand.
	resp = o.env.Do(t, req{Method: "POST", Path: path(late, "/reinstate"), Token: o.shop.Token})
	require.Equal(t, http.StatusConflict, resp.Status, string(resp.Body))
	require.Equal(t, "order_not_cancelled", resp.Map(t)["code"])
	o.do(t, "POST", "/api/v1/admin/shipments/"+shipmentID(t, d)+"/ship", map[string]any{"carrier": "yamato", "tracking_no": "1234-5678-9012"}, http.StatusOK)
	o.env.Settle(t)
	require.Equal(t, float64(6), o.onHand(t), "the 4 units left")
	require.Equal(t, float64(1), o.available(t))
}
