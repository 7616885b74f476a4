package http_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/internal/apitest"
	"github.com/honten/honten/internal/app"
)

// digitalProduct creates an active digital product whose file is file
// (in the downloads directory), allowing max downloads.
func digitalProduct(t *testing.T, env *apitest.Env, shop apitest.Shop, sku string, price int64, file string, max int) {
	t.Helper()
	by := commands.By{Actor: "test", CommandID: newCommandID()}
	_, _, err := env.Main.Commands.CreateProduct(context.Background(), commands.CreateProduct{Tenant: shop.Tenant, By: by, Title: "電子書籍 " + sku,
		Status: "active", Digital: &catalog.Digital{File: file, MaxDownloads: max},
		Variants: []commands.VariantInput{{SKU: sku, FulfillmentType: "digital", Price: money.MustNew(decimal.NewFromInt(price), money.JPY), TaxRate: "10"}}})
	require.NoError(t, err)
}

func amount(m any) string { return m.(map[string]any)["amount"].(string) }

// TestCouponCheckoutPaymentAndDownloadsOverHTTP is the whole path: a
// coupon promotion, a cart with a refused and an applied code, a
// bank-transfer checkout, the payment confirmed, the digital line
// downloaded up to its limit (then 410), a re-issued link, and the use
// given back when the order is cancelled.
func TestCouponCheckoutPaymentAndDownloadsOverHTTP(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "guides"), 0o755))
	content := []byte("%PDF-1.4 お茶の手引き")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "guides", "tea.pdf"), content, 0o644))
	env := apitest.NewWith(t, apitest.Options{Configure: func(c *app.Config) { c.DownloadsDir = dir }})
	shop := env.Shop(t, "promo-shop", "single_brand", false)
	setBank(t, env, shop)
	sellable(t, env, shop, 1000, 5, "TEA-A")
	digitalProduct(t, env, shop, "EBOOK", 2000, "guides/tea.pdf", 2)
	admin := func(method, path string, body any) apitest.Response {
		return env.Do(t, req{Method: method, Path: "/api/v1/admin" + path, Token: shop.Token, Body: body})
	}

	resp := admin("POST", "/promotions", map[string]any{"title": "冬の10%オフ", "kind": "percent", "value": "10",
		"codes": []string{"winter10"}, "usage_limit": 5, "per_customer_limit": 2})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	promo := resp.Map(t)
	require.Equal(t, []any{"WINTER10"}, promo["codes"])
	require.Equal(t, false, promo["automatic"])
	pid := promo["id"].(string)

	b := newBuyer(t, env, "promo-shop")
	require.Equal(t, http.StatusOK, b.add(t, "TEA-A", 1).Status)
	require.Equal(t, http.StatusOK, b.add(t, "EBOOK", 1).Status)

	// An unknown code: 422 with the reason, and the cart keeps no code.
	resp = b.do(t, "POST", "/coupons", map[string]any{"code": "NOPE"})
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status, string(resp.Body))
	p := resp.Map(t)
	require.Equal(t, "coupon_not_applicable", p["code"])
	require.Equal(t, "unknown_code", p["reason"])

	resp = b.do(t, "POST", "/coupons", map[string]any{"code": "winter10"})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	c := resp.Map(t)
	promos := c["promotions"].([]any)
	require.Len(t, promos, 1)
	require.Equal(t, pid, promos[0].(map[string]any)["id"])
	require.Equal(t, "冬の10%オフ", promos[0].(map[string]any)["title"])
	require.Equal(t, "300", amount(promos[0].(map[string]any)["discount"]))
	require.Equal(t, "300", amount(c["totals"].(map[string]any)["discount"]))

	resp = b.do(t, "POST", "/checkout", checkoutBody, "Idempotency-Key", "promo-order")
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	o := resp.Map(t)
	tot := o["totals"].(map[string]any)
	require.Equal(t, "3000", amount(tot["subtotal"]))
	require.Equal(t, "300", amount(tot["discount"]))
	// 3,000 − 300 + ¥800 shipping; tax 10/110 of 3,500 = 318.
	require.Equal(t, "3500", amount(tot["total"]))
	require.Equal(t, "318", amount(tot["tax"].([]any)[0].(map[string]any)["tax"]))
	orderID := o["order_id"].(string)

	resp = admin("GET", "/orders/"+orderID+"/deliveries", nil)
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	require.Empty(t, resp.Map(t)["items"], "nothing is delivered before payment")

	resp = admin("POST", "/orders/"+orderID+"/payments/confirm", map[string]any{"amount": yen("3500"), "reference": "p1", "received_at": "2026-12-01T08:00:00Z"})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	var items []any
	require.Eventually(t, func() bool {
		items, _ = admin("GET", "/orders/"+orderID+"/deliveries", nil).Map(t)["items"].([]any)
		return len(items) == 1
	}, 30e9, 10e6)
	d := items[0].(map[string]any)
	require.Equal(t, "EBOOK", d["sku"])
	require.EqualValues(t, 2, d["max_downloads"])
	url := d["url"].(string)

	get := func(u string) apitest.Response {
		return env.Do(t, req{Method: "GET", Path: u, Header: map[string]string{"X-Tenant": "promo-shop"}})
	}
	for range 2 {
		resp = get(url)
		require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
		require.Equal(t, content, resp.Body)
	}
	resp = get(url)
	require.Equal(t, http.StatusGone, resp.Status, string(resp.Body))
	require.Equal(t, "download_limit_reached", resp.Map(t)["code"])
	// A forged token names nothing.
	resp = get(url[:len(url)-2] + "AA")
	require.Equal(t, http.StatusNotFound, resp.Status, string(resp.Body))

	// The buyer's order shows the link.
	resp = env.Do(t, req{Method: "GET", Path: "/api/v1/store/orders/" + orderID, Header: map[string]string{"X-Tenant": "promo-shop", "X-Order-Token": o["access_token"].(string)}})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	require.Len(t, resp.Map(t)["downloads"], 1)

	// Staff re-issue: a new link works, the old one is void.
	resp = admin("POST", "/deliveries/"+d["id"].(string)+"/reissue", map[string]any{"reason": "lost the file"})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	fresh := resp.Map(t)["url"].(string)
	require.NotEqual(t, url, fresh)
	require.Equal(t, http.StatusOK, get(fresh).Status)
	resp = get(url)
	require.Equal(t, http.StatusGone, resp.Status)
	require.Equal(t, "download_link_replaced", resp.Map(t)["code"])

	// Each download is an event on the delivery's stream.
	var downloads int
	require.NoError(t, env.Main.Store.Pool().QueryRow(context.Background(),
		`SELECT count(*) FROM events WHERE event_type = 'delivery.downloaded.v1'`).Scan(&downloads))
	require.Equal(t, 3, downloads)

	resp = admin("GET", "/promotions/"+pid, nil)
	require.EqualValues(t, 1, resp.Map(t)["used"])
	// Cancelling the order gives the use back.
	resp = admin("POST", "/orders/"+orderID+"/cancel", map[string]any{"reason": "buyer asked"})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	resp = admin("GET", "/promotions/"+pid, nil)
	require.EqualValues(t, 0, resp.Map(t)["used"])
}

// couponCarts opens n carts holding one digital item each, through the
// commands, and returns their ids and tokens.
func couponCarts(t *testing.T, env *apitest.Env, shop apitest.Shop, sku string, n int) []commands.CartCreated {
	t.Helper()
	ctx := context.Background()
	out := make([]commands.CartCreated, n)
	var wg sync.WaitGroup
	errc := make(chan error, n)
	sem := make(chan struct{}, 8)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			c, _, err := env.Main.Commands.CreateCart(ctx, commands.CreateCart{Tenant: shop.Tenant, By: commands.By{Actor: "test", CommandID: newCommandID()}})
			if err == nil {
				_, _, err = env.Main.Commands.AddToCart(ctx, commands.AddToCart{Tenant: shop.Tenant, By: commands.By{Actor: "test", CommandID: newCommandID()},
					Cart: c.Cart, Token: c.Token, SKU: sku, Quantity: 1})
			}
			out[i] = c
			errc <- err
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		require.NoError(t, err)
	}
	return out
}

func checkoutCmd(shop apitest.Shop, c commands.CartCreated, email, code string) commands.Checkout {
	return commands.Checkout{Tenant: shop.Tenant, By: commands.By{Actor: "test", CommandID: newCommandID()}, Cart: c.Cart, Token: c.Token,
		Email: email, Name: "山田 太郎", Phone: "090-1234-5678", PaymentMethod: "bank_transfer", CouponCode: code,
		Address: order.Address{PostalCode: "150-0041", Prefecture: "東京都", City: "渋谷区", Line1: "神南1-2-3"}}
}

// TestCouponUsageLimitUnderAThousandConcurrentCheckouts: a code limited to
// 100 uses, 1,000 checkouts at once: exactly 100 orders get it, every
// other checkout is refused with usage_limit_reached, and the counter,
// the redemptions and the placed orders agree. A cancelled order gives its
// use back, which exactly one more checkout then takes.
func TestCouponUsageLimitUnderAThousandConcurrentCheckouts(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	shop := env.Shop(t, "hammer-shop", "single_brand", false)
	setBank(t, env, shop)
	digitalProduct(t, env, shop, "EBOOK-H", 1000, "", 0)
	resp := env.Do(t, req{Method: "POST", Path: "/api/v1/admin/promotions", Token: shop.Token, Body: map[string]any{
		"title": "先着100名", "kind": "fixed", "value": "100", "codes": []string{"FIRST100"}, "usage_limit": 100}})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	pid := resp.Map(t)["id"].(string)

	const n = 1000
	carts := couponCarts(t, env, shop, "EBOOK-H", n+1)
	ctx := context.Background()
	var won, refused atomic.Int64
	var other []error
	var mu sync.Mutex
	var placed []commands.Placed
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			p, _, err := env.Main.Commands.Checkout(ctx, checkoutCmd(shop, carts[i], fmt.Sprintf("buyer%d@example.jp", i), "first100"))
			var na *commands.CouponNotApplicable
			switch {
			case err == nil:
				won.Add(1)
				mu.Lock()
				placed = append(placed, p)
				mu.Unlock()
			case errors.As(err, &na) && na.Reason == "usage_limit_reached":
				refused.Add(1)
			default:
				mu.Lock()
				other = append(other, err)
				mu.Unlock()
			}
		}()
	}
	began := time.Now()
	close(start)
	wg.Wait()
	t.Logf("%d checkouts in %s: %d placed, %d refused", n, time.Since(began), won.Load(), refused.Load())
	require.Empty(t, other)
	require.EqualValues(t, 100, won.Load())
	require.EqualValues(t, n-100, refused.Load())
	for _, p := range placed {
		require.Equal(t, "100", p.Totals.Discount.AmountString())
		require.Equal(t, "900", p.Totals.Total.AmountString())
	}
	count := func(q string) int {
		var c int
		require.NoError(t, env.Main.Store.Pool().QueryRow(ctx, q).Scan(&c))
		return c
	}
	require.Equal(t, 100, count(`SELECT used FROM promotion_usage`))
	require.Equal(t, 100, count(`SELECT count(*) FROM promotion_redemptions WHERE released_at IS NULL`))
	require.Equal(t, 100, count(`SELECT count(*) FROM events WHERE event_type = 'order.placed.v1' AND payload->'promotions'->0->>'id' = '`+pid+`'`))

	// A cancellation gives one use back; the next checkout takes it.
	_, err := env.Main.Commands.CancelOrder(ctx, commands.CancelOrder{Tenant: shop.Tenant, By: commands.By{Actor: "test"}, Order: placed[0].Order})
	require.NoError(t, err)
	require.Equal(t, 99, count(`SELECT used FROM promotion_usage`))
	p, _, err := env.Main.Commands.Checkout(ctx, checkoutCmd(shop, carts[n], "late@example.jp", "FIRST100"))
	require.NoError(t, err)
	require.Equal(t, "100", p.Totals.Discount.AmountString())
	require.Equal(t, 100, count(`SELECT used FROM promotion_usage`))
}

// TestPerBuyerLimitCountsByEmail: a promotion once per buyer; guests are
// the same buyer by their e-mail, whatever its case.
func TestPerBuyerLimitCountsByEmail(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	shop := env.Shop(t, "per-buyer-shop", "single_brand", false)
	setBank(t, env, shop)
	digitalProduct(t, env, shop, "EBOOK-P", 1000, "", 0)
	resp := env.Do(t, req{Method: "POST", Path: "/api/v1/admin/promotions", Token: shop.Token, Body: map[string]any{
		"title": "お一人様一回", "kind": "percent", "value": "50", "codes": []string{"ONCE"}, "per_customer_limit": 1}})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	carts := couponCarts(t, env, shop, "EBOOK-P", 3)
	ctx := context.Background()
	_, _, err := env.Main.Commands.Checkout(ctx, checkoutCmd(shop, carts[0], "hanako@example.jp", "ONCE"))
	require.NoError(t, err)
	_, _, err = env.Main.Commands.Checkout(ctx, checkoutCmd(shop, carts[1], "Hanako@Example.jp", "once"))
	var na *commands.CouponNotApplicable
	require.ErrorAs(t, err, &na)
	require.Equal(t, "per_customer_limit_reached", na.Reason)
	p, _, err := env.Main.Commands.Checkout(ctx, checkoutCmd(shop, carts[2], "jiro@example.jp", "ONCE"))
	require.NoError(t, err)
	require.Equal(t, "500", p.Totals.Discount.AmountString())
}

// TestBulkCodesJobAndCSV: 100,000 unique codes generated by a job with
// progress, exported as CSV, all distinct.
func TestBulkCodesJobAndCSV(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	shop := env.Shop(t, "codes-shop", "single_brand", false)
	admin := func(method, path string, body any) apitest.Response {
		return env.Do(t, req{Method: method, Path: "/api/v1/admin" + path, Token: shop.Token, Body: body})
	}
	resp := admin("POST", "/promotions", map[string]any{"title": "招待", "kind": "fixed", "value": "500"})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	auto := resp.Map(t)["id"].(string)
	resp = admin("POST", "/promotions/"+auto+"/codes", map[string]any{"count": 10})
	require.Equal(t, http.StatusConflict, resp.Status, "an automatic promotion has no codes")
	resp = admin("POST", "/promotions", map[string]any{"title": "招待", "kind": "fixed", "value": "500", "codes": []string{}})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	pid := resp.Map(t)["id"].(string)
	resp = admin("POST", "/promotions/"+pid+"/codes", map[string]any{"count": 100001})
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status)

	const n = 100_000
	began := time.Now()
	resp = admin("POST", "/promotions/"+pid+"/codes", map[string]any{"count": n, "prefix": "inv-"})
	require.Equal(t, http.StatusAccepted, resp.Status, string(resp.Body))
	job := resp.Map(t)["id"].(string)
	var last float64
	require.Eventually(t, func() bool {
		j := admin("GET", "/promotions/"+pid+"/code-jobs/"+job, nil).Map(t)
		g := j["generated"].(float64)
		require.GreaterOrEqual(t, g, last, "progress never goes back")
		last = g
		return j["status"] == "completed"
	}, 120*time.Second, 50*time.Millisecond)
	t.Logf("%d codes in %s", n, time.Since(began))
	require.EqualValues(t, n, last)

	resp = admin("GET", "/promotions/"+pid+"/codes.csv", nil)
	require.Equal(t, http.StatusOK, resp.Status)
	rows := strings.Split(strings.TrimSpace(string(resp.Body)), "\n")
	require.Len(t, rows, n+1)
	require.Equal(t, "code,job_id,redeemed_order_id", rows[0])
	seen := map[string]bool{}
	for _, r := range rows[1:] {
		code, _, _ := strings.Cut(r, ",")
		require.True(t, strings.HasPrefix(code, "INV-"))
		require.False(t, seen[code])
		seen[code] = true
	}
	require.EqualValues(t, n, admin("GET", "/promotions/"+pid, nil).Map(t)["generated_codes"])
}

// TestUniqueCodeIsSingleUse: a generated code places one order; the next
// checkout with it is refused (code_used) until that order is cancelled.
func TestUniqueCodeIsSingleUse(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	shop := env.Shop(t, "unique-shop", "single_brand", false)
	setBank(t, env, shop)
	digitalProduct(t, env, shop, "EBOOK-U", 1000, "", 0)
	admin := func(method, path string, body any) apitest.Response {
		return env.Do(t, req{Method: method, Path: "/api/v1/admin" + path, Token: shop.Token, Body: body})
	}
	resp := admin("POST", "/promotions", map[string]any{"title": "一回限り", "kind": "percent", "value": "20", "codes": []string{}})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	pid := resp.Map(t)["id"].(string)
	job := admin("POST", "/promotions/"+pid+"/codes", map[string]any{"count": 2}).Map(t)["id"].(string)
	require.Eventually(t, func() bool {
		return admin("GET", "/promotions/"+pid+"/code-jobs/"+job, nil).Map(t)["status"] == "completed"
	}, 30*time.Second, 20*time.Millisecond)
	rows := strings.Split(strings.TrimSpace(string(admin("GET", "/promotions/"+pid+"/codes.csv", nil).Body)), "\n")
	code, _, _ := strings.Cut(rows[1], ",")

	carts := couponCarts(t, env, shop, "EBOOK-U", 3)
	ctx := context.Background()
	first, _, err := env.Main.Commands.Checkout(ctx, checkoutCmd(shop, carts[0], "a@example.jp", code))
	require.NoError(t, err)
	require.Equal(t, "200", first.Totals.Discount.AmountString())
	_, _, err = env.Main.Commands.Checkout(ctx, checkoutCmd(shop, carts[1], "b@example.jp", code))
	var na *commands.CouponNotApplicable
	require.ErrorAs(t, err, &na)
	require.Equal(t, "code_used", na.Reason)
	_, err = env.Main.Commands.CancelOrder(ctx, commands.CancelOrder{Tenant: shop.Tenant, By: commands.By{Actor: "test"}, Order: first.Order})
	require.NoError(t, err)
	_, _, err = env.Main.Commands.Checkout(ctx, checkoutCmd(shop, carts[2], "c@example.jp", code))
	require.NoError(t, err)
}
