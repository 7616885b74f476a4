package archive_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/eventstore/archive"
	"github.com/honten/honten/eventstore/bus"
	"github.com/honten/honten/integrations/webhook"
	"github.com/honten/honten/internal/apitest"
	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/pgtest"
)

// shopClient speaks to one shop of a running Honten.
type shopClient struct {
	env   *apitest.Env
	code  string
	token string // an owner's bearer token
}

func (c shopClient) admin(t *testing.T, method, path string, body any, want int) map[string]any {
	t.Helper()
	resp := c.env.Do(t, apitest.Req{Method: method, Path: "/api/v1/admin" + path, Token: c.token, Body: body})
	require.Equal(t, want, resp.Status, "%s %s: %s", method, path, resp.Body)
	if len(resp.Body) == 0 || resp.Body[0] != '{' {
		return nil
	}
	return resp.Map(t)
}

func (c shopClient) store(t *testing.T, method, path, cartToken string, body any, header ...string) apitest.Response {
	t.Helper()
	h := map[string]string{"X-Tenant": c.code}
	if cartToken != "" {
		h["X-Cart-Token"] = cartToken
	}
	for i := 0; i+1 < len(header); i += 2 {
		h[header[i]] = header[i+1]
	}
	return c.env.Do(t, apitest.Req{Method: method, Path: "/api/v1/store" + path, Body: body, Header: h})
}

// cart opens a cart holding quantity of sku, reserved, and returns its id
// and token.
func (c shopClient) cart(t *testing.T, sku string, quantity int) (string, string) {
	t.Helper()
	resp := c.store(t, "POST", "/carts", "", nil)
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	m := resp.Map(t)
	id, tok := m["id"].(string), m["token"].(string)
	resp = c.store(t, "POST", "/carts/"+id+"/items?wait=5000", tok, map[string]any{"sku": sku, "quantity": quantity})
	require.Contains(t, []int{http.StatusOK, http.StatusAccepted}, resp.Status, string(resp.Body))
	require.Eventually(t, func() bool {
		lines, _ := c.store(t, "GET", "/carts/"+id, tok, nil).Map(t)["lines"].([]any)
		return len(lines) == 1 && lines[0].(map[string]any)["reservation"].(map[string]any)["status"] == "reserved"
	}, 2*time.Minute, 20*time.Millisecond, "the line is reserved")
	return id, tok
}

// checkout places the cart's order and returns its number.
func (c shopClient) checkout(t *testing.T, id, tok, buyer string) string {
	t.Helper()
	resp := c.store(t, "POST", "/carts/"+id+"/checkout", tok, map[string]any{
		"email": buyer, "name": "山田 太郎", "phone": "090-1234-5678", "payment_method": "bank_transfer",
		"shipping_address": map[string]any{"postal_code": "150-0041", "prefecture": "東京都", "city": "渋谷区", "line1": "神南1-2-3", "line2": ""}},
		"Idempotency-Key", uuid.NewString())
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	return resp.Map(t)["order_number"].(string)
}

// orderSeq is the running number of an order number (HT-000042 → 42).
func orderSeq(t *testing.T, number string) int {
	t.Helper()
	n, err := strconv.Atoi(number[strings.LastIndexAny(number, "-")+1:])
	require.NoError(t, err, number)
	return n
}

// A shop exported with its staff, customers, a single-use coupon and
// orders, imported into an empty database as honten import events does it,
// goes on where it stopped: the staff and the customer sign in with their
// passwords, the used coupon stays used, the next order gets the next
// number, a SKU stays taken, and the webhook endpoint goes on from where it
// was: the new order is delivered signed with the same secret, the old
// ones not again.
func TestImportedShopGoesOn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var mu sync.Mutex
	var placed []string // the order.placed deliveries' event ids, as received
	var badSignatures int
	var secret string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if webhook.Verify(r.Header.Get(webhook.SignatureHeader), body, secret, time.Hour, time.Now()) != nil {
			badSignatures++
		}
		if strings.HasPrefix(r.Header.Get("Honten-Event-Type"), "order.placed") {
			placed = append(placed, r.Header.Get(webhook.EventIDHeader))
		}
	}))
	t.Cleanup(hook.Close)
	deliveredPlaced := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(placed)
	}
	allowPrivate := func(c *app.Config) { c.WebhookAllowPrivate = true }
	src := apitest.NewWith(t, apitest.Options{Configure: allowPrivate})
	shop := src.Shop(t, "restore-shop", "single_brand", false)
	c := shopClient{env: src, code: shop.Code, token: shop.Token}
	const clerk, clerkPassword = "clerk@restore-shop.example.jp", "clerk password 42"
	_, _, err := src.Main.Commands.InviteStaff(ctx, commands.InviteStaff{Tenant: shop.Tenant, By: commands.By{Actor: "cli"}, ByRole: "owner",
		Email: clerk, Name: "店員", Role: "operator", Password: clerkPassword})
	require.NoError(t, err)
	c.admin(t, "PATCH", "/settings", map[string]any{"bank_account": map[string]any{"bank_name": "みずほ銀行", "bank_code": "0001",
		"branch_name": "本店", "branch_code": "100", "account_type": "ordinary", "account_number": "1234567", "account_holder": "ﾎﾝﾃﾝ"}}, http.StatusOK)
	p := c.admin(t, "POST", "/products", map[string]any{"title": "煎茶", "status": "active",
		"variants": []map[string]any{{"sku": "SENCHA", "price": map[string]any{"amount": "1000", "currency": "JPY"}}}}, http.StatusCreated)
	c.admin(t, "POST", "/inventory/adjustments", map[string]any{"variant_id": p["variants"].([]any)[0].(map[string]any)["id"], "set": 20, "reason": "入荷"}, http.StatusCreated)
	ep := c.admin(t, "POST", "/webhooks", map[string]any{"url": hook.URL, "events": []string{"order.*"}}, http.StatusCreated)
	mu.Lock()
	secret = ep["secret"].(string)
	mu.Unlock()
	c.admin(t, "POST", "/promotions", map[string]any{"title": "一回限り", "kind": "fixed", "value": "100", "codes": []string{"ONCE"}, "usage_limit": 1}, http.StatusCreated)
	resp := c.store(t, "POST", "/customers", "", map[string]any{"email": "sachiko@example.jp", "password": "customer pass 1", "name": "鈴木 幸子"})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))

	id, tok := c.cart(t, "SENCHA", 1)
	resp = c.store(t, "POST", "/carts/"+id+"/coupons", tok, map[string]any{"code": "once"})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	c.checkout(t, id, tok, "taro@example.jp")
	id, tok = c.cart(t, "SENCHA", 2)
	last := c.checkout(t, id, tok, "hanako@example.jp")
	src.Settle(t)
	require.Eventually(t, func() bool { return deliveredPlaced() == 2 }, time.Minute, 10*time.Millisecond, "both orders delivered to the endpoint")

	dir := t.TempDir()
	res, err := archive.Export(ctx, src.Main.Pool, archive.ExportOptions{Dir: dir, PerFile: 50})
	require.NoError(t, err)
	man, err := archive.ReadManifest(dir)
	require.NoError(t, err)
	require.NotNil(t, man.State)
	require.NoError(t, archive.Verify(dir, *man.State))

	// The import, as honten import events runs it: the log and the state,
	// the reactions marked handled; then Honten starts on it.
	url := pgtest.NewURL(t)
	m := openMain(t, url)
	got, err := archive.Import(ctx, m.Pool, archive.ImportOptions{Dir: dir})
	require.NoError(t, err)
	require.Equal(t, res.Events, got.Events)
	require.Equal(t, man.State.Events, got.State)
	head, err := eventstore.Head(ctx, m.Pool)
	require.NoError(t, err)
	require.NoError(t, bus.MarkHandled(ctx, m.Pool, m.Handlers(), head))
	again, err := archive.Import(ctx, m.Pool, archive.ImportOptions{Dir: dir})
	require.NoError(t, err, "a complete import run again changes nothing")
	require.Zero(t, again.Events)

	dst := apitest.NewWith(t, apitest.Options{DatabaseURL: url, Configure: allowPrivate})
	owner := dst.SignIn(t, shop.Code, shop.Owner, shop.Password)
	dst.SignIn(t, shop.Code, clerk, clerkPassword)
	d := shopClient{env: dst, code: shop.Code, token: owner}
	resp = d.store(t, "POST", "/customers/session", "", map[string]any{"email": "sachiko@example.jp", "password": "customer pass 1"})
	require.Equal(t, http.StatusCreated, resp.Status, "the customer signs in: %s", resp.Body)
	resp = d.store(t, "POST", "/customers", "", map[string]any{"email": "sachiko@example.jp", "password": "customer pass 2", "name": "鈴木 幸子"})
	require.Equal(t, http.StatusConflict, resp.Status, "the e-mail stays taken: %s", resp.Body)

	id, tok = d.cart(t, "SENCHA", 1)
	resp = d.store(t, "POST", "/carts/"+id+"/coupons", tok, map[string]any{"code": "ONCE"})
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "the used coupon stays used: %s", resp.Body)
	require.Equal(t, "usage_limit_reached", resp.Map(t)["reason"])
	next := d.checkout(t, id, tok, "jiro@example.jp")
	require.Equal(t, orderSeq(t, last)+1, orderSeq(t, next), "the next order number after %s", last)
	require.Eventually(t, func() bool { return deliveredPlaced() == 3 }, time.Minute, 10*time.Millisecond, "the new order delivered")
	var deliveries int
	require.NoError(t, dst.Main.Pool.QueryRow(ctx, `SELECT count(*) FROM webhook_deliveries`).Scan(&deliveries))
	require.Equal(t, 1, deliveries, "the endpoint went on after its cursor: the imported orders were not delivered again")
	mu.Lock()
	require.Zero(t, badSignatures, "every delivery signed with the endpoint's secret")
	require.Len(t, placed, 3)
	mu.Unlock()

	dup := d.admin(t, "POST", "/products", map[string]any{"title": "もう一つの煎茶", "status": "active",
		"variants": []map[string]any{{"sku": "SENCHA", "price": map[string]any{"amount": "1000", "currency": "JPY"}}}}, http.StatusUnprocessableEntity)
	require.Contains(t, dup["errors"].([]any)[0].(map[string]any)["message"], "already used", "the SKU stays claimed")
}
