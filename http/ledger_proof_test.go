package http_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/internal/apitest"
	"github.com/honten/honten/internal/projtest"
)

// A randomized mall workload — orders across three vendors paid by
// transfer (exactly, in two parts, too much, too late, never) or cash on
// delivery, parcels delivered or not, the return window passing, a payout
// run and payouts — after which: the trial balance sums to zero, each
// vendor's held, payable and paid equal an independent computation from
// the orders (commission per line at the vendor's rate, its 10 % tax, both
// rounded down), and a rebuild of the ledger equals the live one row for
// row.
func TestLedgerMatchesAnIndependentComputation(t *testing.T) {
	t.Parallel()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 17))

	var mu sync.Mutex
	now := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	env := apitest.NewWith(t, apitest.Options{Now: clock})
	mall := env.Shop(t, "proofmall", "mall", false)
	admin := func(method, path string, body any, want int) map[string]any {
		t.Helper()
		resp := env.Do(t, req{Method: method, Path: path, Token: mall.Token, Body: body})
		require.Equal(t, want, resp.Status, "%s %s: %s", method, path, resp.Body)
		if len(resp.Body) == 0 {
			return nil
		}
		return resp.Map(t)
	}
	admin("PATCH", "/api/v1/admin/settings", map[string]any{"transfer_client_code": "1234567890", "bank_account": map[string]any{
		"bank_name": "みずほ銀行", "bank_code": "0001", "branch_name": "本店", "branch_code": "100", "account_type": "ordinary",
		"account_number": "1234567", "account_holder": "ｼｮｳﾒｲﾓｰﾙ"}}, http.StatusOK)

	type product struct {
		sku, vendor string
		price       int64
	}
	rates := map[string]decimal.Decimal{}
	var products []product
	var vendors []string
	for i, v := range []struct{ name, rate string }{{"Uji", "0.1"}, {"Kyoto", "0.05"}, {"Nara", "0.125"}} {
		id := admin("POST", "/api/v1/admin/vendors", map[string]any{"name": v.name, "commission_rate": v.rate}, http.StatusCreated)["id"].(string)
		vendors = append(vendors, id)
		rates[id] = decimal.RequireFromString(v.rate)
		for j, price := range []int64{1080, 3333} {
			sku := fmt.Sprintf("P%d-%d", i, j)
			p := admin("POST", "/api/v1/admin/products", map[string]any{"title": v.name + sku, "status": "active", "vendor_id": id,
				"variants": []map[string]any{{"sku": sku, "price": yen(fmt.Sprint(price)), "tax_rate": "8"}}}, http.StatusCreated)
			variant := p["variants"].([]any)[0].(map[string]any)["id"].(string)
			admin("POST", "/api/v1/admin/inventory/adjustments", map[string]any{"variant_id": variant, "set": 1000, "reason": "delivery"}, http.StatusCreated)
			products = append(products, product{sku, id, price})
		}
	}
	// Two vendors can be paid by transfer; the third has no account yet.
	for _, v := range vendors[:2] {
		admin("PUT", "/api/v1/admin/payouts/"+v+"/account", map[string]any{"bank_name": "京都銀行", "bank_code": "0158", "branch_name": "本店",
			"branch_code": "101", "account_type": "ordinary", "account_number": "7654321", "account_holder": "ｶ)ﾃｽﾄ"}, http.StatusOK)
	}

	// What each vendor is owed for each order, computed here from the lines.
	type expect struct{ held, payable, paid decimal.Decimal }
	want := map[string]*expect{}
	for _, v := range vendors {
		want[v] = &expect{decimal.Zero, decimal.Zero, decimal.Zero}
	}
	ten := decimal.NewFromInt(10)
	type line struct {
		sku, vendor string
		price, qty  int64
	}
	type placedOrder struct {
		id, method, fate string
		total            int64
		lines            []*line
	}
	// nets is what each vendor is owed for an order's lines.
	nets := func(o placedOrder) map[string]decimal.Decimal {
		out := map[string]decimal.Decimal{}
		for _, l := range o.lines {
			total := decimal.NewFromInt(l.price * l.qty)
			commission := total.Mul(rates[l.vendor]).Floor()
			tax := commission.Mul(ten).Div(decimal.NewFromInt(100)).Floor()
			out[l.vendor] = out[l.vendor].Add(total.Sub(commission).Sub(tax))
		}
		return out
	}
	var orders []placedOrder
	const n = 24
	for i := 0; i < n; i++ {
		b := newBuyer(t, env, "proofmall")
		var lines []*line
		used := map[string]bool{}
		for k := 0; k < 1+rng.IntN(3); k++ {
			p := products[rng.IntN(len(products))]
			if used[p.sku] {
				continue
			}
			used[p.sku] = true
			q := int64(1 + rng.IntN(3))
			require.Equal(t, http.StatusOK, b.add(t, p.sku, q).Status)
			lines = append(lines, &line{p.sku, p.vendor, p.price, q})
		}
		method := "bank_transfer"
		if rng.IntN(3) == 0 {
			method = "cod"
		}
		resp := b.do(t, "POST", "/checkout", withMethod(method), "Idempotency-Key", uuid.NewString())
		require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
		placed := resp.Map(t)
		total := decimal.RequireFromString(placed["totals"].(map[string]any)["total"].(map[string]any)["amount"].(string)).IntPart()
		fate := "cod"
		if method == "bank_transfer" {
			fate = []string{"exact", "two_parts", "overpaid", "late", "never", "cancelled", "part_paid", "paid_part"}[rng.IntN(8)]
		}
		orders = append(orders, placedOrder{placed["order_id"].(string), method, fate, total, lines})
	}

	// Money in, parcels out. A settled order's vendors are owed their nets:
	// held until the parcel's return window ends after delivery.
	delivered := map[string]map[string]bool{}
	confirm := func(o placedOrder, amount int64) {
		admin("POST", "/api/v1/admin/orders/"+o.id+"/payments/confirm", map[string]any{"amount": yen(fmt.Sprint(amount))}, http.StatusOK)
	}
	// cancelPart cancels the first line's vendor's part when the order has
	// another vendor, else one unit of the first line when it has two,
	// else nothing; it returns the order's new total.
	cancelPart := func(o *placedOrder) int64 {
		first := o.lines[0]
		var body map[string]any
		var kept []*line
		for _, l := range o.lines {
			if l.vendor != first.vendor {
				kept = append(kept, l)
			}
		}
		switch {
		case len(kept) > 0:
			body = map[string]any{"reason": "out of season", "vendor_id": first.vendor}
		case first.qty > 1:
			d := admin("GET", "/api/v1/admin/orders/"+o.id, nil, http.StatusOK)
			for _, l := range d["lines"].([]any) {
				if l := l.(map[string]any); l["sku"] == first.sku {
					body = map[string]any{"reason": "one fewer", "lines": []map[string]any{{"line_id": l["id"], "quantity": 1}}}
				}
			}
			first.qty--
			kept = o.lines
		default:
			return o.total
		}
		d := admin("POST", "/api/v1/admin/orders/"+o.id+"/cancel", body, http.StatusOK)
		o.lines = kept
		o.total = decimal.RequireFromString(d["totals"].(map[string]any)["total"].(map[string]any)["amount"].(string)).IntPart()
		return o.total
	}
	settled := map[string]bool{}
	for i := range orders {
		o := &orders[i]
		switch o.fate {
		case "part_paid": // a part cancelled before payment; the new total paid
			cancelPart(o)
			confirm(*o, o.total)
		case "paid_part": // paid, then a part cancelled: that part is owed back
			confirm(*o, o.total)
			env.Settle(t)
			cancelPart(o)
		case "exact":
			confirm(*o, o.total)
		case "two_parts":
			confirm(*o, o.total/3)
			confirm(*o, o.total-o.total/3)
		case "overpaid":
			confirm(*o, o.total+500)
		case "cancelled": // paid, then cancelled before anything shipped: all of it is owed back
			confirm(*o, o.total)
			env.Settle(t)
			admin("POST", "/api/v1/admin/orders/"+o.id+"/cancel", map[string]any{"reason": "the buyer changed their mind"}, http.StatusOK)
		}
		settled[o.id] = o.fate == "exact" || o.fate == "two_parts" || o.fate == "overpaid" || o.fate == "cod" || o.fate == "part_paid" || o.fate == "paid_part"
	}
	env.Settle(t)
	for _, o := range orders {
		if !settled[o.id] {
			continue
		}
		delivered[o.id] = map[string]bool{}
		d := admin("GET", "/api/v1/admin/orders/"+o.id, nil, http.StatusOK)
		for _, sh := range d["shipments"].([]any) {
			sh := sh.(map[string]any)
			if sh["status"] == "cancelled" {
				continue // its vendor's part was cancelled
			}
			if o.fate != "cod" && rng.IntN(3) == 0 {
				continue // not delivered yet: its vendor's money stays held
			}
			id := sh["id"].(string)
			admin("POST", "/api/v1/admin/shipments/"+id+"/ship", map[string]any{"carrier": "yamato", "tracking_no": id[:12]}, http.StatusOK)
			admin("POST", "/api/v1/admin/shipments/"+id+"/deliver", nil, http.StatusOK)
			if c, ok := sh["cod_amount"].(map[string]any); ok && o.fate == "cod" && c["amount"] != "0" {
				admin("POST", "/api/v1/admin/shipments/"+id+"/cod-collected", map[string]any{"amount": sh["cod_amount"]}, http.StatusOK)
			}
			delivered[o.id][sh["vendor_id"].(string)] = true
		}
	}
	env.Settle(t)

	// Time passes: unpaid transfers are cancelled, a late one still
	// arrives (a refund due, nothing for the vendors), return windows end.
	advance(10*24*time.Hour + time.Hour)
	mall.Token = env.SignIn(t, "proofmall", mall.Owner, mall.Password)
	ctx := t.Context()
	_, err := env.Main.Sweeper.CancelOverdue(ctx)
	require.NoError(t, err)
	env.Settle(t)
	for _, o := range orders {
		if o.fate == "late" {
			confirm(o, o.total)
		}
	}
	_, err = env.Main.Sweeper.ReleaseDue(ctx)
	require.NoError(t, err)
	env.Settle(t)
	for _, o := range orders {
		if !settled[o.id] {
			continue
		}
		for v, net := range nets(o) {
			if delivered[o.id][v] {
				want[v].payable = want[v].payable.Add(net)
			} else {
				want[v].held = want[v].held.Add(net)
			}
		}
	}

	// A payout run for what is payable, recorded; then half of the third
	// vendor's payable paid by hand.
	runResp := env.Do(t, req{Method: "POST", Path: "/api/v1/admin/payout-runs", Token: mall.Token,
		Body: map[string]any{"period_end": clock().Format(time.RFC3339), "min_amount": yen("1")}})
	if runResp.Status == http.StatusCreated {
		run := runResp.Map(t)
		for _, it := range run["items"].([]any) {
			it := it.(map[string]any)
			v := it["vendor_id"].(string)
			amount := it["amount"].(map[string]any)["amount"].(string)
			admin("POST", "/api/v1/admin/payouts/"+v, map[string]any{"amount": it["amount"], "paid_at": clock().Format(time.RFC3339),
				"reference": "RUN-" + v[:8], "run_id": run["id"]}, http.StatusCreated)
			a := decimal.RequireFromString(amount)
			want[v].payable, want[v].paid = want[v].payable.Sub(a), want[v].paid.Add(a)
		}
		for _, s := range run["skipped"].([]any) {
			require.Equal(t, vendors[2], s.(map[string]any)["vendor_id"])
		}
	} else {
		require.Equal(t, http.StatusConflict, runResp.Status, string(runResp.Body))
	}
	if half := want[vendors[2]].payable.Div(decimal.NewFromInt(2)).Floor(); half.IsPositive() {
		admin("POST", "/api/v1/admin/payouts/"+vendors[2], map[string]any{"amount": yen(half.String()), "paid_at": clock().Format(time.RFC3339),
			"reference": "HAND-1"}, http.StatusCreated)
		want[vendors[2]].payable, want[vendors[2]].paid = want[vendors[2]].payable.Sub(half), want[vendors[2]].paid.Add(half)
	}
	env.Settle(t)

	// Refunds due: every other one paid back.
	for i, it := range admin("GET", "/api/v1/admin/refunds?status=due", nil, http.StatusOK)["items"].([]any) {
		if it := it.(map[string]any); i%2 == 0 {
			admin("POST", "/api/v1/admin/orders/"+it["order_id"].(string)+"/refunds", map[string]any{"amount": it["outstanding"],
				"paid_at": clock().Format(time.RFC3339), "reference": fmt.Sprintf("RF-%d", i)}, http.StatusCreated)
		}
	}
	env.Settle(t)

	tb := admin("GET", "/api/v1/admin/ledger/trial-balance", nil, http.StatusOK)
	for _, s := range tb["totals"].([]any) {
		s := s.(map[string]any)
		require.Equal(t, s["debit"], s["credit"], "the trial balance sums to zero")
	}
	for _, a := range tb["accounts"].([]any) {
		if a := a.(map[string]any); a["account"] == "clearing:deposits" {
			require.Equal(t, "0", a["balance"].(map[string]any)["amount"], "every deposit was recognised or is owed back")
		}
	}
	got := map[string]*expect{}
	for _, it := range admin("GET", "/api/v1/admin/payouts", nil, http.StatusOK)["items"].([]any) {
		it := it.(map[string]any)
		amt := func(k string) decimal.Decimal {
			return decimal.RequireFromString(it[k].(map[string]any)["amount"].(string))
		}
		if _, ok := want[it["vendor_id"].(string)]; ok {
			got[it["vendor_id"].(string)] = &expect{amt("held"), amt("payable"), amt("paid")}
		}
	}
	for _, v := range vendors {
		w, g := want[v], got[v]
		if w.held.IsZero() && w.payable.IsZero() && w.paid.IsZero() && g == nil {
			continue
		}
		require.NotNil(t, g, "vendor %s", v)
		require.Equal(t, []string{w.held.String(), w.payable.String(), w.paid.String()},
			[]string{g.held.String(), g.payable.String(), g.paid.String()}, "vendor %s: held, payable, paid", v)
	}

	tables := []string{"ledger_orders", "ledger_shipments", "ledger_vendors", "ledger_entries", "ledger_balances", "ledger_payouts", "ledger_runs", "ledger_refunds"}
	live := projtest.Dump(t, env.Main.Pool, tables...)
	require.NoError(t, env.Main.Runner.Rebuild(ctx, "ledger", nil))
	require.Equal(t, live, projtest.Dump(t, env.Main.Pool, tables...), "a rebuild of the ledger equals the live one row for row")
}
