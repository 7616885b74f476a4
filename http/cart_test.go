package http_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/commands/reservations"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/internal/apitest"
)

// sellable creates an active product with one variant per SKU and puts
// stock of each at the default location.
func sellable(t *testing.T, env *apitest.Env, shop apitest.Shop, price int64, stock int64, skus ...string) map[string]string {
	t.Helper()
	ctx := context.Background()
	var vs []commands.VariantInput
	for _, sku := range skus {
		vs = append(vs, commands.VariantInput{SKU: sku, Price: money.MustNew(decimal.NewFromInt(price), money.JPY), TaxRate: "10"})
	}
	by := commands.By{Actor: "test", CommandID: newCommandID()}
	pid, _, err := env.Main.Commands.CreateProduct(ctx, commands.CreateProduct{Tenant: shop.Tenant, By: by, Title: "商品 " + skus[0], Status: "active", Variants: vs})
	require.NoError(t, err)
	out := map[string]string{}
	set := commands.SetStock{Tenant: shop.Tenant, By: commands.By{Actor: "test", CommandID: newCommandID()}, Product: pid, Reason: "test"}
	for i, sku := range skus {
		vid := catalog.VariantID{UUID: by.DerivedID(100 + i)}
		out[sku] = vid.String()
		set.Levels = append(set.Levels, commands.StockSet{Variant: vid, Location: shop.Created.Location, OnHand: stock})
	}
	_, err = env.Main.Commands.SetStock(ctx, set)
	require.NoError(t, err)
	return out
}

type buyer struct {
	env   *apitest.Env
	shop  string
	cart  string
	token string
}

func newBuyer(t *testing.T, env *apitest.Env, shop string) *buyer {
	t.Helper()
	resp := env.Do(t, req{Method: "POST", Path: "/api/v1/store/carts", Header: map[string]string{"X-Tenant": shop}})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	m := resp.Map(t)
	return &buyer{env: env, shop: shop, cart: m["id"].(string), token: m["token"].(string)}
}

func (b *buyer) do(t *testing.T, method, path string, body any, extra ...string) apitest.Response {
	t.Helper()
	h := map[string]string{"X-Tenant": b.shop, "X-Cart-Token": b.token}
	for i := 0; i+1 < len(extra); i += 2 {
		h[extra[i]] = extra[i+1]
	}
	return b.env.Do(t, req{Method: method, Path: "/api/v1/store/carts/" + b.cart + path, Body: body, Header: h})
}

func (b *buyer) add(t *testing.T, sku string, q int64) apitest.Response {
	t.Helper()
	resp := b.do(t, "POST", "/items?wait=5000", map[string]any{"sku": sku, "quantity": q})
	if resp.Status != http.StatusAccepted {
		return resp
	}
	// Still pending after the longest wait (a loaded machine): follow the
	// line on the cart, as a client would, until its reservation is
	// decided, and answer what the add would have: 200 with the line.
	id := resp.Map(t)["id"]
	var line map[string]any
	require.Eventually(t, func() bool {
		cart := b.do(t, "GET", "", nil)
		if cart.Status != http.StatusOK {
			return false
		}
		items, _ := cart.Map(t)["lines"].([]any)
		for _, it := range items {
			l := it.(map[string]any)
			if l["id"] == id {
				line = l
				return l["reservation"].(map[string]any)["status"] != "pending"
			}
		}
		return false
	}, 2*time.Minute, 20*time.Millisecond, "line %v never decided", id)
	body, err := json.Marshal(line)
	require.NoError(t, err)
	return apitest.Response{Status: http.StatusOK, Body: body}
}

var checkoutBody = map[string]any{
	"email": "taro@example.jp", "name": "山田 太郎", "phone": "090-1234-5678",
	"shipping_address": map[string]any{"postal_code": "150-0041", "prefecture": "東京都", "city": "渋谷区", "line1": "神南1-2-3", "line2": ""},
	"payment_method":   "bank_transfer",
}

func withMethod(m string) map[string]any {
	out := map[string]any{}
	for k, v := range checkoutBody {
		out[k] = v
	}
	out["payment_method"] = m
	return out
}

func TestCartReserveAndCheckout(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	shop := env.Shop(t, "cart-shop", "single_brand", false)
	setBank(t, env, shop)
	sellable(t, env, shop, 1980, 5, "TEA-A", "TEA-B")

	b := newBuyer(t, env, "cart-shop")
	resp := b.add(t, "TEA-A", 2)
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	line := resp.Map(t)
	require.Equal(t, "reserved", line["reservation"].(map[string]any)["status"])
	require.NotNil(t, line["reservation"].(map[string]any)["expires_at"])
	resp = b.add(t, "TEA-B", 9)
	require.Equal(t, http.StatusOK, resp.Status)
	require.Equal(t, "rejected", resp.Map(t)["reservation"].(map[string]any)["status"], "only 5 in stock")
	rejected := resp.Map(t)["id"].(string)

	// Checkout refuses while a line is not reserved, naming it.
	resp = b.do(t, "POST", "/checkout", checkoutBody)
	require.Equal(t, http.StatusConflict, resp.Status, string(resp.Body))
	require.Contains(t, string(resp.Body), rejected)
	require.Contains(t, string(resp.Body), `"status":"rejected"`)

	resp = b.do(t, "PATCH", "/items/"+rejected, map[string]any{"quantity": 3})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	resp = b.do(t, "GET", "", nil)
	require.Equal(t, http.StatusOK, resp.Status)
	var cart struct {
		Lines []struct {
			SKU         string         `json:"sku"`
			Quantity    int            `json:"quantity"`
			Reservation map[string]any `json:"reservation"`
		} `json:"lines"`
		Totals map[string]any `json:"totals"`
	}
	require.Eventually(t, func() bool {
		b.do(t, "GET", "", nil).JSON(t, &cart)
		return len(cart.Lines) == 2 && cart.Lines[1].Reservation["status"] == "reserved"
	}, 30e9, 5e6)
	require.Equal(t, map[string]any{"amount": "9900", "currency": "JPY"}, cart.Totals["subtotal"])

	resp = b.do(t, "POST", "/checkout", checkoutBody, "Idempotency-Key", "order-1")
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	o := resp.Map(t)
	require.Equal(t, "HT-000001", o["order_number"])
	require.Equal(t, "pending_payment", o["status"])
	require.NotEmpty(t, o["access_token"])
	pay := o["payment"].(map[string]any)
	require.Equal(t, "00000018", pay["reference_code"])
	require.Equal(t, map[string]any{"amount": "10700", "currency": "JPY"}, pay["amount"], "9,900 is below free shipping: + ¥800")
	tot := o["totals"].(map[string]any)
	require.Equal(t, map[string]any{"amount": "800", "currency": "JPY"}, tot["shipping"])
	require.Equal(t, map[string]any{"amount": "10700", "currency": "JPY"}, tot["total"])
	require.Equal(t, []any{map[string]any{"rate": "10", "taxable": map[string]any{"amount": "10700", "currency": "JPY"}, "tax": map[string]any{"amount": "972", "currency": "JPY"}}}, tot["tax"])

	// The cart is closed.
	resp = b.add(t, "TEA-A", 1)
	require.Equal(t, http.StatusConflict, resp.Status)
}

// A cart shows a line's reservation decision as soon as it is decided: the
// cart read model keeps which reservation holds the line, the decision is
// read from the reservation index, so a read at the add's own position
// (the line is there) already shows it.
func TestCartShowsTheDecisionOnceTheLineIsThere(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	shop := env.Shop(t, "decided-shop", "single_brand", false)
	sellable(t, env, shop, 1200, 5, "CUP-1")
	b := newBuyer(t, env, "decided-shop")
	resp := b.do(t, "POST", "/items?wait=5000", map[string]any{"sku": "CUP-1", "quantity": 2})
	require.Contains(t, []int{http.StatusOK, http.StatusAccepted}, resp.Status, string(resp.Body))
	at := resp.Header.Get("X-Event-Position")
	require.NotEmpty(t, at)
	rid, err := uuid.Parse(resp.Map(t)["reservation"].(map[string]any)["id"].(string))
	require.NoError(t, err)
	var decided reservations.Status
	require.Eventually(t, func() bool { // a loaded machine answered 202: wait for the worker
		st, err := reservations.Statuses(context.Background(), env.Main.Pool, shop.Tenant, []uuid.UUID{rid})
		require.NoError(t, err)
		decided = st[rid]
		return decided.Decided()
	}, time.Minute, 10*time.Millisecond)
	require.Equal(t, "reserved", decided.Status)

	var cart struct {
		Lines []struct {
			Reservation struct {
				ID        string     `json:"id"`
				Status    string     `json:"status"`
				ExpiresAt *time.Time `json:"expires_at"`
			} `json:"reservation"`
		} `json:"lines"`
	}
	got := b.do(t, "GET", "", nil, "X-Min-Position", at)
	require.Equal(t, http.StatusOK, got.Status, string(got.Body))
	got.JSON(t, &cart)
	require.Len(t, cart.Lines, 1)
	require.Equal(t, rid.String(), cart.Lines[0].Reservation.ID)
	require.Equal(t, "reserved", cart.Lines[0].Reservation.Status)
	require.NotNil(t, cart.Lines[0].Reservation.ExpiresAt)
	require.True(t, decided.ExpiresAt.Equal(*cart.Lines[0].Reservation.ExpiresAt))
}

func setBank(t *testing.T, env *apitest.Env, shop apitest.Shop) {
	t.Helper()
	resp := env.Do(t, req{Method: "PATCH", Path: "/api/v1/admin/settings", Token: shop.Token, Body: map[string]any{"bank_account": map[string]any{
		"bank_name": "ゆうちょ銀行", "bank_code": "9900", "branch_name": "〇一八", "branch_code": "018", "account_type": "ordinary",
		"account_number": "1234567", "account_holder": "ﾎﾝﾃﾝ"}}})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
}

func TestCheckoutIsIdempotentUnderConcurrentRetries(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	shop := env.Shop(t, "retry-shop", "single_brand", false)
	setBank(t, env, shop)
	sellable(t, env, shop, 1200, 10, "MUG-1")
	b := newBuyer(t, env, "retry-shop")
	require.Equal(t, http.StatusOK, b.add(t, "MUG-1", 1).Status)

	const n = 20
	resps := make([]apitest.Response, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range resps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resps[i] = b.do(t, "POST", "/checkout", checkoutBody, "Idempotency-Key", "same-key")
		}()
	}
	close(start)
	wg.Wait()
	for _, r := range resps {
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		require.JSONEq(t, string(resps[0].Body), string(r.Body))
	}
	var orders int
	require.NoError(t, env.Main.Pool.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE event_type = 'order.placed.v1' AND tenant_id = $1`, shop.Tenant).Scan(&orders))
	require.Equal(t, 1, orders)

	other := withMethod("cod")
	resp := b.do(t, "POST", "/checkout", other, "Idempotency-Key", "same-key")
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status, string(resp.Body))
}

func TestCartBadInput(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	shop := env.Shop(t, "bad-cart", "single_brand", false)
	setBank(t, env, shop)
	sellable(t, env, shop, 500, 3, "PEN-1")
	other := env.Shop(t, "other-cart", "single_brand", false)
	b := newBuyer(t, env, "bad-cart")
	events := func() int {
		var n int
		require.NoError(t, env.Main.Pool.QueryRow(context.Background(), `SELECT count(*) FROM events`).Scan(&n))
		return n
	}
	before := events()
	for name, c := range map[string]struct {
		body   any
		status int
	}{
		"zero quantity":     {map[string]any{"sku": "PEN-1", "quantity": 0}, 422},
		"negative quantity": {map[string]any{"sku": "PEN-1", "quantity": -3}, 422},
		"huge quantity":     {map[string]any{"sku": "PEN-1", "quantity": 1_000_000}, 422},
		"float quantity":    {map[string]any{"sku": "PEN-1", "quantity": 1.5}, 400},
		"unknown sku":       {map[string]any{"sku": "NOPE-1", "quantity": 1}, 422},
		"no quantity":       {map[string]any{"sku": "PEN-1"}, 422},
		"sku and variant":   {map[string]any{"sku": "PEN-1", "variant_id": "01938f5e-7a3c-7b2e-9a1d-3c4b5d6e7f80", "quantity": 1}, 422},
		"unknown field":     {map[string]any{"sku": "PEN-1", "quantity": 1, "gift": true}, 400},
	} {
		resp := b.do(t, "POST", "/items", c.body)
		require.Equal(t, c.status, resp.Status, "%s: %s", name, resp.Body)
	}
	// Wrong token, other tenant, empty cart checkout, bad buyer fields.
	resp := env.Do(t, req{Method: "GET", Path: "/api/v1/store/carts/" + b.cart, Header: map[string]string{"X-Tenant": "bad-cart", "X-Cart-Token": "hct_wrong"}})
	require.Equal(t, http.StatusNotFound, resp.Status)
	resp = env.Do(t, req{Method: "GET", Path: "/api/v1/store/carts/" + b.cart, Header: map[string]string{"X-Tenant": "other-cart", "X-Cart-Token": b.token}})
	require.Equal(t, http.StatusNotFound, resp.Status)
	resp = env.Do(t, req{Method: "POST", Path: "/api/v1/store/carts/" + b.cart + "/items", Body: map[string]any{"sku": "PEN-1", "quantity": 1},
		Header: map[string]string{"X-Tenant": "other-cart", "X-Cart-Token": b.token}})
	require.Equal(t, http.StatusNotFound, resp.Status)
	resp = b.do(t, "POST", "/checkout", checkoutBody)
	require.Equal(t, http.StatusConflict, resp.Status, "an empty cart: %s", resp.Body)
	bad := withMethod("bitcoin")
	bad["shipping_address"] = map[string]any{"postal_code": "12-345", "prefecture": "Atlantis", "city": "", "line1": "x"}
	bad["phone"] = "12345"
	resp = b.do(t, "POST", "/checkout", bad)
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status)
	for _, f := range []string{"payment_method", "shipping_address.postal_code", "shipping_address.prefecture", "shipping_address.city", "phone"} {
		require.Contains(t, string(resp.Body), `"field":"`+f+`"`)
	}
	require.Equal(t, before, events(), "no event written")
	_ = other
}

func newCommandID() uuid.UUID { return uuid.Must(uuid.NewV7()) }

// A cart created a moment ago is never a 404 to its buyer: while
// cart_views has not applied the creation, GET waits for it and answers
// 503 not_caught_up when the wait runs out; once applied, the cart reads.
// A cart that does not exist, or a wrong token, stays a 404.
func TestNewCartIsNotA404WhileItsViewLags(t *testing.T) {
	t.Parallel()
	env := apitest.NewWith(t, apitest.Options{ConsistencyWait: 500 * time.Millisecond})
	shop := env.Shop(t, "lag-cart", "single_brand", false)
	ctx := context.Background()
	// Hold the cart_views projector: its inserts need ROW EXCLUSIVE,
	// which SHARE refuses; reads still go through.
	hold, err := env.Main.Pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = hold.Rollback(ctx) }()
	_, err = hold.Exec(ctx, `LOCK TABLE carts IN SHARE MODE`)
	require.NoError(t, err)

	b := newBuyer(t, env, shop.Code)
	resp := b.do(t, "GET", "", nil)
	require.Equal(t, http.StatusServiceUnavailable, resp.Status, string(resp.Body))
	require.Equal(t, "not_caught_up", resp.Map(t)["code"])

	wrong := *b
	wrong.token = "hct_wrong"
	resp = wrong.do(t, "GET", "", nil)
	require.Equal(t, http.StatusNotFound, resp.Status, "a wrong token: %s", resp.Body)
	missing := *b
	missing.cart = uuid.Must(uuid.NewV7()).String()
	resp = missing.do(t, "GET", "", nil)
	require.Equal(t, http.StatusNotFound, resp.Status, "no such cart: %s", resp.Body)

	require.NoError(t, hold.Rollback(ctx))
	require.Eventually(t, func() bool { return b.do(t, "GET", "", nil).Status == http.StatusOK },
		time.Minute, 20*time.Millisecond, "the cart reads once its view has it")
}
