package http_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/internal/apitest"
)

// promoEnv is a shop selling a 1,000 yen e-book by bank transfer, with
// helpers to place, cancel, pay late and reinstate coupon orders.
type promoEnv struct {
	env  *apitest.Env
	shop apitest.Shop
	sku  string
}

func newPromoEnv(t *testing.T, code string) promoEnv {
	t.Helper()
	env := apitest.New(t)
	shop := env.Shop(t, code, "single_brand", false)
	setBank(t, env, shop)
	digitalProduct(t, env, shop, "EBOOK-R", 1000, "", 0)
	return promoEnv{env: env, shop: shop, sku: "EBOOK-R"}
}

func (p promoEnv) admin(t *testing.T, method, path string, body any) apitest.Response {
	t.Helper()
	return p.env.Do(t, req{Method: method, Path: "/api/v1/admin" + path, Token: p.shop.Token, Body: body})
}

func (p promoEnv) promotion(t *testing.T, body map[string]any) string {
	t.Helper()
	resp := p.admin(t, "POST", "/promotions", body)
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	return resp.Map(t)["id"].(string)
}

// lapsed places an order with code, cancels it (its use given back) and
// records its transfer arriving afterwards (a refund due), as an order
// cancelled at its deadline and paid late stands.
func (p promoEnv) lapsed(t *testing.T, c commands.CartCreated, email, code string) commands.Placed {
	t.Helper()
	ctx := context.Background()
	o, _, err := p.env.Main.Commands.Checkout(ctx, checkoutCmd(p.shop, c, email, code))
	require.NoError(t, err)
	_, err = p.env.Main.Commands.CancelOrder(ctx, commands.CancelOrder{Tenant: p.shop.Tenant, By: commands.By{Actor: "test"}, Order: o.Order, Reason: "no transfer in time"})
	require.NoError(t, err)
	_, err = p.env.Main.Commands.ConfirmPayment(ctx, commands.ConfirmPayment{Tenant: p.shop.Tenant, By: commands.By{Actor: "test"}, Order: o.Order,
		Amount: o.Totals.Total, Reference: "late " + o.Number})
	require.NoError(t, err)
	return o
}

func (p promoEnv) reinstate(o commands.Placed) error {
	_, err := p.env.Main.Commands.ReinstateOrder(context.Background(), commands.ReinstateOrder{Tenant: p.shop.Tenant,
		By: commands.By{Actor: "test", CommandID: newCommandID()}, Order: o.Order})
	return err
}

func (p promoEnv) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, p.env.Main.Store.Pool().QueryRow(context.Background(), q, args...).Scan(&n))
	return n
}

func (p promoEnv) orderStatus(t *testing.T, o commands.Placed) string {
	t.Helper()
	var s string
	require.NoError(t, p.env.Main.Store.Pool().QueryRow(context.Background(),
		`SELECT payload->>'to' FROM events WHERE stream_id = $1 AND event_type = 'order.status_changed.v1' ORDER BY stream_version DESC LIMIT 1`,
		o.Order.UUID).Scan(&s))
	return s
}

// A cancelled order gives its promotion use back; reinstated after its
// late transfer, it takes the use again when one is left (the counters
// and the redemption agree) and is refused with 409
// promotion_limit_reached when the usage limit, the buyer's limit or its
// single-use code went meanwhile: the order stays cancelled, its transfer
// a refund due, nothing written.
func TestReinstatedOrderRetakesItsPromotionUseOrIsRefused(t *testing.T) {
	t.Parallel()
	p := newPromoEnv(t, "retake-shop")
	limited := p.promotion(t, map[string]any{"title": "先着2名", "kind": "fixed", "value": "100", "codes": []string{"TWO"}, "usage_limit": 2})
	once := p.promotion(t, map[string]any{"title": "お一人様一回", "kind": "percent", "value": "10", "codes": []string{"ONCEEACH"}, "per_customer_limit": 1})
	carts := couponCarts(t, p.env, p.shop, p.sku, 6)
	used := func(id string) int {
		return p.count(t, `SELECT used FROM promotion_usage WHERE promotion_id = $1`, id)
	}

	// A use is left: the reinstated order takes it back.
	a := p.lapsed(t, carts[0], "a@example.jp", "TWO")
	require.Equal(t, 0, used(limited), "the cancellation gave the use back")
	resp := p.admin(t, "POST", "/orders/"+a.Order.String()+"/reinstate", map[string]any{"reason": "paid late"})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	require.Equal(t, "completed", resp.Map(t)["status"], "a paid e-book order completes")
	require.Equal(t, 1, used(limited))
	require.Equal(t, 1, p.count(t, `SELECT count(*) FROM promotion_redemptions WHERE order_id = $1 AND released_at IS NULL`, a.Order.UUID))

	// The limit is reached meanwhile: refused, nothing written.
	b := p.lapsed(t, carts[1], "b@example.jp", "TWO")
	require.Equal(t, 1, used(limited))
	_, _, err := p.env.Main.Commands.Checkout(context.Background(), checkoutCmd(p.shop, carts[2], "c@example.jp", "TWO"))
	require.NoError(t, err)
	require.Equal(t, 2, used(limited))
	before := p.count(t, `SELECT count(*) FROM events`)
	resp = p.admin(t, "POST", "/orders/"+b.Order.String()+"/reinstate", nil)
	require.Equal(t, http.StatusConflict, resp.Status, string(resp.Body))
	problem := resp.Map(t)
	require.Equal(t, "promotion_limit_reached", problem["code"])
	require.Equal(t, "usage_limit_reached", problem["reason"])
	require.Equal(t, limited, problem["promotion_id"])
	require.Equal(t, "TWO", problem["coupon_code"])
	require.Equal(t, before, p.count(t, `SELECT count(*) FROM events`), "nothing written")
	require.Equal(t, 2, used(limited))
	require.Equal(t, "cancelled", p.orderStatus(t, b))
	require.Equal(t, 1, p.count(t, `SELECT count(*) FROM promotion_redemptions WHERE order_id = $1 AND released_at IS NOT NULL`, b.Order.UUID))

	// The buyer used their one use on another order meanwhile.
	d := p.lapsed(t, carts[3], "d@example.jp", "ONCEEACH")
	_, _, err = p.env.Main.Commands.Checkout(context.Background(), checkoutCmd(p.shop, carts[4], "D@example.jp", "onceeach"))
	require.NoError(t, err)
	err = p.reinstate(d)
	var lr *commands.PromotionLimitReached
	require.ErrorAs(t, err, &lr)
	require.Equal(t, "per_customer_limit_reached", lr.Reason)
	require.Equal(t, 1, used(once))
	require.Equal(t, 1, p.count(t, `SELECT used FROM promotion_buyer_usage WHERE promotion_id = $1`, once))
	require.Equal(t, "cancelled", p.orderStatus(t, d))
}

// TestReinstatementRacingCheckoutsNeverOverRedeems: a code limited to 3
// uses, 5 cancelled-and-paid-late orders reinstated while 150 checkouts
// with the same code run at once: exactly 3 orders hold a use — the
// checkouts placed plus the orders reinstated — and every other attempt
// is refused for the limit (usage_limit_reached, promotion_limit_reached):
// at least 2 of the reinstatements are.
func TestReinstatementRacingCheckoutsNeverOverRedeems(t *testing.T) {
	t.Parallel()
	p := newPromoEnv(t, "retake-race-shop")
	const limit, n, lapsedN = 3, 150, 5
	pid := p.promotion(t, map[string]any{"title": "先着3名", "kind": "fixed", "value": "100", "codes": []string{"RACE30"}, "usage_limit": limit})
	carts := couponCarts(t, p.env, p.shop, p.sku, n+lapsedN)
	var lapsed []commands.Placed
	for i := range lapsedN {
		lapsed = append(lapsed, p.lapsed(t, carts[n+i], fmt.Sprintf("late%d@example.jp", i), "RACE30"))
	}
	require.Equal(t, 0, p.count(t, `SELECT used FROM promotion_usage WHERE promotion_id = $1`, pid))

	ctx := context.Background()
	var mu sync.Mutex
	var placed, reinstated, refusedCheckouts, refusedReinstates int
	var other []error
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range lapsedN {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			err := p.reinstate(lapsed[i])
			var lr *commands.PromotionLimitReached
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				reinstated++
			case errors.As(err, &lr) && lr.Reason == "usage_limit_reached":
				refusedReinstates++
			default:
				other = append(other, err)
			}
		}()
	}
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, _, err := p.env.Main.Commands.Checkout(ctx, checkoutCmd(p.shop, carts[i], fmt.Sprintf("buyer%d@example.jp", i), "RACE30"))
			var na *commands.CouponNotApplicable
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				placed++
			case errors.As(err, &na) && na.Reason == "usage_limit_reached":
				refusedCheckouts++
			default:
				other = append(other, err)
			}
		}()
	}
	began := time.Now()
	close(start)
	wg.Wait()
	t.Logf("in %s: %d placed, %d reinstated, %d checkouts and %d reinstatements refused",
		time.Since(began), placed, reinstated, refusedCheckouts, refusedReinstates)
	require.Empty(t, other)
	require.Equal(t, lapsedN, reinstated+refusedReinstates)
	require.GreaterOrEqual(t, refusedReinstates, lapsedN-limit)
	require.Equal(t, n-placed, refusedCheckouts)
	require.Equal(t, limit, placed+reinstated, "exactly the limit, never more")
	require.Equal(t, limit, p.count(t, `SELECT used FROM promotion_usage WHERE promotion_id = $1`, pid))
	require.Equal(t, limit, p.count(t, `SELECT count(*) FROM promotion_redemptions WHERE promotion_id = $1 AND released_at IS NULL`, pid))
	for _, o := range lapsed {
		held := p.count(t, `SELECT count(*) FROM promotion_redemptions WHERE order_id = $1 AND released_at IS NULL`, o.Order.UUID)
		if p.orderStatus(t, o) == "cancelled" {
			require.Equal(t, 0, held, "a refused order holds no use")
		} else {
			require.Equal(t, 1, held, "a reinstated order holds its use")
		}
	}
}

// TestSingleUseCodeGoesToOneOrderOnlyUnderReinstatement: single-use codes
// each freed by a cancelled order paid late; that order's reinstatement
// races a new checkout with the same code, 12 codes at once. Each code
// ends with exactly one order: either the reinstated one or the new one;
// the loser is refused (promotion_limit_reached / code_used, or the
// checkout's code_used).
func TestSingleUseCodeGoesToOneOrderOnlyUnderReinstatement(t *testing.T) {
	t.Parallel()
	p := newPromoEnv(t, "retake-unique-shop")
	const n = 12
	pid := p.promotion(t, map[string]any{"title": "招待", "kind": "percent", "value": "20", "codes": []string{}})
	resp := p.admin(t, "POST", "/promotions/"+pid+"/codes", map[string]any{"count": n + 1})
	require.Equal(t, http.StatusAccepted, resp.Status, string(resp.Body))
	job := resp.Map(t)["id"].(string)
	require.Eventually(t, func() bool {
		return p.admin(t, "GET", "/promotions/"+pid+"/code-jobs/"+job, nil).Map(t)["status"] == "completed"
	}, 30*time.Second, 20*time.Millisecond)
	rows := strings.Split(strings.TrimSpace(string(p.admin(t, "GET", "/promotions/"+pid+"/codes.csv", nil).Body)), "\n")[1:]
	require.Len(t, rows, n+1)
	carts := couponCarts(t, p.env, p.shop, p.sku, 2*n+2)

	// One at a time first: the code went to another order, so the
	// reinstatement is refused.
	extra, _, _ := strings.Cut(rows[n], ",")
	x := p.lapsed(t, carts[2*n], "x@example.jp", extra)
	taker, _, err := p.env.Main.Commands.Checkout(context.Background(), checkoutCmd(p.shop, carts[2*n+1], "y@example.jp", extra))
	require.NoError(t, err)
	resp = p.admin(t, "POST", "/orders/"+x.Order.String()+"/reinstate", nil)
	require.Equal(t, http.StatusConflict, resp.Status, string(resp.Body))
	require.Equal(t, "promotion_limit_reached", resp.Map(t)["code"])
	require.Equal(t, "code_used", resp.Map(t)["reason"])
	require.Equal(t, "cancelled", p.orderStatus(t, x))
	var holder string
	require.NoError(t, p.env.Main.Store.Pool().QueryRow(context.Background(), `SELECT order_id::text FROM promotion_codes WHERE code = $1`, extra).Scan(&holder))
	require.Equal(t, taker.Order.String(), holder)
	rows = rows[:n]
	codes := make([]string, n)
	lapsed := make([]commands.Placed, n)
	for i, r := range rows {
		codes[i], _, _ = strings.Cut(r, ",")
		lapsed[i] = p.lapsed(t, carts[i], fmt.Sprintf("first%d@example.jp", i), codes[i])
	}
	require.Equal(t, 1, p.count(t, `SELECT count(*) FROM promotion_codes WHERE promotion_id = $1 AND order_id IS NOT NULL`, pid), "every code but the extra one is free again")

	type outcome struct {
		reinstated, placed bool
		err                []error
	}
	out := make([]outcome, n)
	var mu sync.Mutex
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-start
			err := p.reinstate(lapsed[i])
			var lr *commands.PromotionLimitReached
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				out[i].reinstated = true
			} else if !errors.As(err, &lr) || lr.Reason != "code_used" || lr.Code != codes[i] {
				out[i].err = append(out[i].err, err)
			}
		}()
		go func() {
			defer wg.Done()
			<-start
			_, _, err := p.env.Main.Commands.Checkout(context.Background(), checkoutCmd(p.shop, carts[n+i], fmt.Sprintf("second%d@example.jp", i), codes[i]))
			var na *commands.CouponNotApplicable
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				out[i].placed = true
			} else if !errors.As(err, &na) || na.Reason != "code_used" {
				out[i].err = append(out[i].err, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	wins := map[bool]int{}
	for i, o := range out {
		require.Empty(t, o.err, "code %d", i)
		require.True(t, o.reinstated != o.placed, "code %d goes to exactly one order (reinstated %v, placed %v)", i, o.reinstated, o.placed)
		wins[o.reinstated]++
		var holder *string
		require.NoError(t, p.env.Main.Store.Pool().QueryRow(context.Background(),
			`SELECT order_id::text FROM promotion_codes WHERE code = $1`, codes[i]).Scan(&holder))
		require.NotNil(t, holder)
		if o.reinstated {
			require.Equal(t, lapsed[i].Order.String(), *holder)
		} else {
			require.NotEqual(t, lapsed[i].Order.String(), *holder)
			require.Equal(t, "cancelled", p.orderStatus(t, lapsed[i]))
		}
		require.Equal(t, 1, p.count(t, `SELECT count(*) FROM promotion_redemptions WHERE code = $1 AND released_at IS NULL`, codes[i]))
	}
	t.Logf("reinstatements won %d codes, new checkouts %d", wins[true], wins[false])
	require.Equal(t, n+1, p.count(t, `SELECT used FROM promotion_usage WHERE promotion_id = $1`, pid))
}
