package http_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/order"
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
