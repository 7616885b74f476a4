package http_test

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/internal/apitest"
	"github.com/honten/honten/internal/zengin"
)

// A mall order of two vendors, paid by bank transfer in two parts and with
// 200 yen too much: the ledger holds the deposits until the payment
// settles, then owes each vendor its goods less the commission at its
// frozen rate and the 10 % tax on it; the trial balance sums to zero at
// every moment, and vendor staff see their own vendor only.
func TestLedgerOfAMallOrder(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	env := apitest.NewWith(t, apitest.Options{Now: clock})
	mall := env.Shop(t, "ledgermall", "mall", false)
	do := func(token, method, path string, body any, want int) map[string]any {
		t.Helper()
		resp := env.Do(t, req{Method: method, Path: path, Token: token, Body: body})
		require.Equal(t, want, resp.Status, "%s %s: %s", method, path, resp.Body)
		if len(resp.Body) == 0 {
			return nil
		}
		return resp.Map(t)
	}
	admin := func(method, path string, body any, want int) map[string]any {
		t.Helper()
		return do(mall.Token, method, path, body, want)
	}
	admin("PATCH", "/api/v1/admin/settings", map[string]any{"bank_account": map[string]any{"bank_name": "みずほ銀行", "bank_code": "0001",
		"branch_name": "本店", "branch_code": "100", "account_type": "ordinary", "account_number": "1234567", "account_holder": "ﾚｼﾞｬｰﾓｰﾙ"}}, http.StatusOK)
	vendor := func(name, rate, sku, price, taxRate string) string {
		t.Helper()
		id := admin("POST", "/api/v1/admin/vendors", map[string]any{"name": name, "commission_rate": rate}, http.StatusCreated)["id"].(string)
		p := admin("POST", "/api/v1/admin/products", map[string]any{"title": name + " tea", "status": "active", "vendor_id": id,
			"variants": []map[string]any{{"sku": sku, "price": yen(price), "tax_rate": taxRate}}}, http.StatusCreated)
		variant := p["variants"].([]any)[0].(map[string]any)["id"].(string)
		admin("POST", "/api/v1/admin/inventory/adjustments", map[string]any{"variant_id": variant, "set": 10, "reason": "delivery"}, http.StatusCreated)
		return id
	}
	uji := vendor("Uji", "0.1", "UJI-1", "3000", "8")
	kago := vendor("Kagoshima", "0.05", "KAGO-1", "2000", "10")
	// The rate changes after the order is placed: the ledger keeps the frozen one.
	b := newBuyer(t, env, "ledgermall")
	require.Equal(t, http.StatusOK, b.add(t, "UJI-1", 1).Status)
	require.Equal(t, http.StatusOK, b.add(t, "KAGO-1", 2).Status)
	resp := b.do(t, "POST", "/checkout", withMethod("bank_transfer"), "Idempotency-Key", uuid.NewString())
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	placed := resp.Map(t)
	orderID := placed["order_id"].(string)
	require.Equal(t, "7800", placed["totals"].(map[string]any)["total"].(map[string]any)["amount"], "3,000 + 2 × 2,000 + ¥800 shipping")
	admin("PATCH", "/api/v1/admin/vendors/"+uji, map[string]any{"commission_rate": "0.2"}, http.StatusOK)

	balances := func(at string) map[string]string {
		t.Helper()
		path := "/api/v1/admin/ledger/trial-balance"
		if at != "" {
			path += "?at=" + at
		}
		env.Settle(t)
		tb := admin("GET", path, nil, http.StatusOK)
		out := map[string]string{}
		for _, a := range tb["accounts"].([]any) {
			a := a.(map[string]any)
			key := a["account"].(string)
			if v, ok := a["vendor_id"].(string); ok {
				key += "@" + map[string]string{uji: "uji", kago: "kago"}[v]
			}
			out[key] = a["balance"].(map[string]any)["amount"].(string)
		}
		for _, s := range tb["totals"].([]any) {
			s := s.(map[string]any)
			require.Equal(t, s["debit"], s["credit"], "debits equal credits")
		}
		return out
	}
	require.Empty(t, balances(""), "nothing received, nothing posted")

	pay := func(amount string) {
		t.Helper()
		advance(time.Hour)
		admin("POST", "/api/v1/admin/orders/"+orderID+"/payments/confirm", map[string]any{"amount": yen(amount)}, http.StatusOK)
	}
	pay("5000")
	require.Equal(t, map[string]string{"cash:bank_transfer": "5000", "clearing:deposits": "-5000"}, balances(""),
		"a partial transfer is a deposit")
	partly := clock().Format(time.RFC3339)
	pay("3000")
	want := map[string]string{
		"cash:bank_transfer": "8000", "clearing:deposits": "0", "refunds:due": "-200",
		"vendor:held@uji": "-2670", "income:commission@uji": "-300", "tax:commission@uji": "-30",
		"vendor:held@kago": "-3780", "income:commission@kago": "-200", "tax:commission@kago": "-20",
		"income:shipping": "-800",
	}
	require.Equal(t, want, balances(""))
	require.Equal(t, map[string]string{"cash:bank_transfer": "5000", "clearing:deposits": "-5000"}, balances(partly), "as it stood after the first transfer")

	byVendor := func(token string) map[string]map[string]any {
		t.Helper()
		out := map[string]map[string]any{}
		for _, it := range do(token, "GET", "/api/v1/admin/payouts", nil, http.StatusOK)["items"].([]any) {
			it := it.(map[string]any)
			row := map[string]any{}
			for _, k := range []string{"receivable", "commission", "held", "payable", "paid"} {
				row[k] = it[k].(map[string]any)["amount"]
			}
			out[it["vendor_id"].(string)] = row
		}
		return out
	}
	require.Equal(t, map[string]map[string]any{
		uji:  {"receivable": "3000", "commission": "330", "held": "2670", "payable": "0", "paid": "0"},
		kago: {"receivable": "4000", "commission": "220", "held": "3780", "payable": "0", "paid": "0"},
	}, byVendor(mall.Token))

	entries := admin("GET", "/api/v1/admin/payouts/"+uji+"/entries", nil, http.StatusOK)["items"].([]any)
	require.Len(t, entries, 3, "held, commission, commission tax")
	for _, e := range entries {
		e := e.(map[string]any)
		require.Equal(t, orderID, e["order_id"])
		require.NotEmpty(t, e["event_id"])
		require.NotEmpty(t, e["position"])
	}
	page := admin("GET", "/api/v1/admin/payouts/"+uji+"/entries?limit=2", nil, http.StatusOK)
	require.Len(t, page["items"], 2)
	rest := admin("GET", "/api/v1/admin/payouts/"+uji+"/entries?limit=2&cursor="+page["next_cursor"].(string), nil, http.StatusOK)
	require.Len(t, rest["items"], 1)
	require.Nil(t, rest["next_cursor"])

	// Kagoshima's staff: their own balance and lines, nothing else.
	admin("POST", "/api/v1/admin/staff", map[string]any{"email": "kago@ledgermall.example.jp", "name": "Kago", "role": "vendor",
		"vendor_id": kago, "password": "password for kago"}, http.StatusCreated)
	staff := env.SignIn(t, "ledgermall", "kago@ledgermall.example.jp", "password for kago")
	mine := byVendor(staff)
	require.Len(t, mine, 1)
	require.Contains(t, mine, kago)
	do(staff, "GET", "/api/v1/admin/payouts/"+uji+"/entries", nil, http.StatusNotFound)
	require.Len(t, do(staff, "GET", "/api/v1/admin/payouts/"+kago+"/entries", nil, http.StatusOK)["items"], 3)
	do(staff, "GET", "/api/v1/admin/ledger/trial-balance", nil, http.StatusForbidden)
	admin("GET", "/api/v1/admin/payouts/"+uuid.NewString()+"/entries", nil, http.StatusNotFound)

	// Uji's parcel is delivered; eight days later (the default return
	// window) its money becomes payable, and only its.
	ord := admin("GET", "/api/v1/admin/orders/"+orderID, nil, http.StatusOK)
	var ujiShipment string
	for _, sh := range ord["shipments"].([]any) {
		if sh := sh.(map[string]any); sh["vendor_id"] == uji {
			ujiShipment = sh["id"].(string)
		}
	}
	require.NotEmpty(t, ujiShipment)
	admin("POST", "/api/v1/admin/shipments/"+ujiShipment+"/ship", map[string]any{"carrier": "yamato", "tracking_no": "L-1"}, http.StatusOK)
	env.Settle(t)
	require.Equal(t, "partially_shipped", admin("GET", "/api/v1/admin/orders/"+orderID, nil, http.StatusOK)["status"], "Kagoshima's parcel has not left")
	admin("POST", "/api/v1/admin/shipments/"+ujiShipment+"/deliver", nil, http.StatusOK)
	env.Settle(t)
	ctx := t.Context()
	advance(8*24*time.Hour - time.Minute)
	n, err := env.Main.Sweeper.ReleaseDue(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "the return window has not ended")
	advance(time.Minute)
	n, err = env.Main.Sweeper.ReleaseDue(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	env.Settle(t)
	n, err = env.Main.Sweeper.ReleaseDue(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "released once")
	// The sessions expired with the clock.
	mall.Token = env.SignIn(t, "ledgermall", mall.Owner, mall.Password)
	staff = env.SignIn(t, "ledgermall", "kago@ledgermall.example.jp", "password for kago")
	require.Equal(t, map[string]map[string]any{
		uji:  {"receivable": "3000", "commission": "330", "held": "0", "payable": "2670", "paid": "0"},
		kago: {"receivable": "4000", "commission": "220", "held": "3780", "payable": "0", "paid": "0"},
	}, byVendor(mall.Token))
	want["vendor:held@uji"], want["vendor:payable@uji"] = "0", "-2670"
	require.Equal(t, want, balances(""))
	admin("GET", "/api/v1/admin/ledger/trial-balance?at=yesterday", nil, http.StatusUnprocessableEntity)

	// Uji's statement: sale owed (held), then payable, nothing paid yet.
	st := admin("GET", "/api/v1/admin/payouts/"+uji+"/statement", nil, http.StatusOK)
	owed := func(m any) []any {
		m2 := m.(map[string]any)
		return []any{m2["held"].(map[string]any)["amount"], m2["payable"].(map[string]any)["amount"], m2["owed"].(map[string]any)["amount"]}
	}
	require.Equal(t, []any{"0", "0", "0"}, owed(st["opening"]))
	require.Equal(t, []any{"0", "2670", "2670"}, owed(st["closing"]))
	var amounts []any
	for _, e := range st["entries"].([]any) {
		amounts = append(amounts, e.(map[string]any)["account"].(string)+" "+e.(map[string]any)["amount"].(map[string]any)["amount"].(string))
	}
	require.Equal(t, []any{"vendor:held 2670", "vendor:held -2670", "vendor:payable 2670"}, amounts)
	released := clock().Add(-time.Second).Format(time.RFC3339)
	st = admin("GET", "/api/v1/admin/payouts/"+uji+"/statement?to="+released, nil, http.StatusOK)
	require.Equal(t, []any{"2670", "0", "2670"}, owed(st["closing"]), "before the release, dated when it happened, all was held")
	require.Len(t, st["entries"], 1)
	st = admin("GET", "/api/v1/admin/payouts/"+uji+"/statement?from="+released, nil, http.StatusOK)
	require.Equal(t, []any{"2670", "0", "2670"}, owed(st["opening"]))
	require.Len(t, st["entries"], 2)
	admin("GET", "/api/v1/admin/payouts/"+uji+"/statement?from=2026-03-09&to=2026-03-01", nil, http.StatusUnprocessableEntity)
	do(staff, "GET", "/api/v1/admin/payouts/"+uji+"/statement", nil, http.StatusNotFound)
	require.Equal(t, http.StatusOK, env.Do(t, req{Method: "GET", Path: "/api/v1/admin/payouts/" + kago + "/statement.csv", Token: staff}).Status)

	// A payout run pays only vendors with a payout account.
	periodEnd := clock().Format(time.RFC3339)
	admin("POST", "/api/v1/admin/payout-runs", map[string]any{"period_end": periodEnd, "min_amount": yen("1000")}, http.StatusConflict)
	admin("PUT", "/api/v1/admin/payouts/"+uji+"/account", map[string]any{"bank_name": "京都銀行", "bank_code": "015",
		"branch_name": "宇治支店", "branch_code": "301", "account_type": "ordinary", "account_number": "7654321", "account_holder": "ｶ)ｳｼﾞｾｲﾁﾔ"}, http.StatusUnprocessableEntity)
	account := map[string]any{"bank_name": "京都銀行", "bank_code": "0158", "branch_name": "宇治支店", "branch_code": "301",
		"account_type": "ordinary", "account_number": "7654321", "account_holder": "ｶ)ｳｼﾞｾｲﾁﾔ"}
	require.Equal(t, account, admin("PUT", "/api/v1/admin/payouts/"+uji+"/account", account, http.StatusOK))
	do(staff, "PUT", "/api/v1/admin/payouts/"+kago+"/account", account, http.StatusForbidden)
	admin("POST", "/api/v1/admin/payout-runs", map[string]any{"period_end": clock().Add(time.Hour).Format(time.RFC3339)}, http.StatusUnprocessableEntity)
	run := admin("POST", "/api/v1/admin/payout-runs", map[string]any{"period_end": periodEnd, "min_amount": yen("1000")}, http.StatusCreated)
	require.Equal(t, "2670", run["total"].(map[string]any)["amount"])
	require.Len(t, run["items"], 1)
	item := run["items"].([]any)[0].(map[string]any)
	require.Equal(t, uji, item["vendor_id"])
	require.Equal(t, false, item["paid"])
	require.Empty(t, run["skipped"])
	runID := run["id"].(string)
	admin("POST", "/api/v1/admin/payout-runs", map[string]any{"period_end": periodEnd, "min_amount": yen("1000")}, http.StatusConflict)
	do(staff, "GET", "/api/v1/admin/payout-runs", nil, http.StatusForbidden)

	// The run's transfer file, from the mall's account.
	file := "/api/v1/admin/payout-runs/" + runID + "/zengin?date=2026-03-10"
	admin("GET", file, nil, http.StatusConflict)
	admin("PATCH", "/api/v1/admin/settings", map[string]any{"transfer_client_code": "12345678901"}, http.StatusUnprocessableEntity)
	admin("PATCH", "/api/v1/admin/settings", map[string]any{"transfer_client_code": "1234567890"}, http.StatusOK)
	zf := env.Do(t, req{Method: "GET", Path: file, Token: mall.Token})
	require.Equal(t, http.StatusOK, zf.Status, string(zf.Body))
	require.Len(t, zf.Body, 4*122, "header, one transfer, trailer, end: 120 bytes and CRLF each")
	tf, err := zengin.ReadTransfer(bytes.NewReader(zf.Body))
	require.NoError(t, err)
	require.Equal(t, "1234567890", tf.Header.ClientCode)
	require.Equal(t, "ﾚｼﾞﾔ-ﾓ-ﾙ", tf.Header.ClientName)
	require.Equal(t, zengin.MonthDay{Month: time.March, Day: 10}, tf.Header.Date)
	require.Len(t, tf.Items, 1)
	require.Equal(t, "0158", tf.Items[0].BankCode)
	require.Equal(t, "7654321", tf.Items[0].AccountNumber)
	require.Equal(t, "ｶ)ｳｼﾞｾｲﾁﾔ", tf.Items[0].Name)
	require.Equal(t, "2670", tf.Items[0].Amount.String())
	require.Len(t, admin("GET", "/api/v1/admin/payout-runs", nil, http.StatusOK)["items"], 1)

	// Recording the run's payout moves Uji's payable to paid, once.
	paidAt := clock().Format(time.RFC3339)
	admin("POST", "/api/v1/admin/payouts/"+uji, map[string]any{"amount": yen("2000"), "paid_at": paidAt, "reference": "FB-1", "run_id": runID}, http.StatusUnprocessableEntity)
	key := uuid.NewString()
	body := map[string]any{"amount": yen("2670"), "paid_at": paidAt, "reference": "FB-1", "run_id": runID}
	first := env.Do(t, req{Method: "POST", Path: "/api/v1/admin/payouts/" + uji, Token: mall.Token, Body: body, Header: map[string]string{"Idempotency-Key": key}})
	require.Equal(t, http.StatusCreated, first.Status, string(first.Body))
	again := env.Do(t, req{Method: "POST", Path: "/api/v1/admin/payouts/" + uji, Token: mall.Token, Body: body, Header: map[string]string{"Idempotency-Key": key}})
	require.Equal(t, http.StatusCreated, again.Status)
	require.JSONEq(t, string(first.Body), string(again.Body), "a retry replays the payout, it does not pay twice")
	bal := first.Map(t)["balance"].(map[string]any)
	require.Equal(t, "0", bal["payable"].(map[string]any)["amount"])
	require.Equal(t, "2670", bal["paid"].(map[string]any)["amount"])
	admin("POST", "/api/v1/admin/payouts/"+uji, map[string]any{"amount": yen("1"), "paid_at": paidAt, "reference": "FB-1"}, http.StatusConflict)
	admin("POST", "/api/v1/admin/payouts/"+uji, map[string]any{"amount": yen("1"), "paid_at": paidAt, "reference": "FB-2"}, http.StatusConflict)
	admin("POST", "/api/v1/admin/payouts/"+kago, map[string]any{"amount": yen("1"), "paid_at": paidAt, "reference": "FB-3"}, http.StatusConflict)
	admin("POST", "/api/v1/admin/payouts/"+uji, map[string]any{"amount": yen("1"), "paid_at": clock().Add(time.Hour).Format(time.RFC3339), "reference": "FB-4"}, http.StatusUnprocessableEntity)
	require.Equal(t, true, admin("GET", "/api/v1/admin/payout-runs/"+runID, nil, http.StatusOK)["items"].([]any)[0].(map[string]any)["paid"])
	require.Equal(t, map[string]map[string]any{
		uji:  {"receivable": "3000", "commission": "330", "held": "0", "payable": "0", "paid": "2670"},
		kago: {"receivable": "4000", "commission": "220", "held": "3780", "payable": "0", "paid": "0"},
	}, byVendor(mall.Token))
	want["vendor:payable@uji"], want["cash:paid_out@uji"] = "0", "-2670"
	require.Equal(t, want, balances(""))

	csvResp := env.Do(t, req{Method: "GET", Path: "/api/v1/admin/payouts/" + uji + "/statement.csv", Token: mall.Token})
	require.Equal(t, http.StatusOK, csvResp.Status)
	require.Equal(t, "text/csv; charset=utf-8", csvResp.Header.Get("Content-Type"))
	rows, err := csv.NewReader(bytes.NewReader(csvResp.Body)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 1+1+4+1, "header, opening, four lines, closing")
	require.Equal(t, []string{"opening", "0"}, []string{rows[1][1], rows[1][10]})
	require.Equal(t, []string{"vendor:payable", "2670", "0", "0"}, []string{rows[5][2], rows[5][6], rows[5][7], rows[5][10]}, "the payout")
	require.Equal(t, []string{"closing", "0", "0", "0"}, []string{rows[6][1], rows[6][8], rows[6][9], rows[6][10]})
}

// Vendor staff of a mall never see another vendor's money or orders: its
// orders, products, ledger lines, statements, payout account, balances and
// runs are 404, filtered out or forbidden, whichever route they try.
func TestVendorStaffSeeOnlyTheirOwnMoney(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	mall := env.Shop(t, "moneywall", "mall", false)
	admin := func(method, path string, body any, want int) map[string]any {
		t.Helper()
		resp := env.Do(t, req{Method: method, Path: path, Token: mall.Token, Body: body})
		require.Equal(t, want, resp.Status, "%s %s: %s", method, path, resp.Body)
		return resp.Map(t)
	}
	admin("PATCH", "/api/v1/admin/settings", map[string]any{"bank_account": map[string]any{"bank_name": "みずほ銀行", "bank_code": "0001",
		"branch_name": "本店", "branch_code": "100", "account_type": "ordinary", "account_number": "1234567", "account_holder": "ﾏﾈｰ"}}, http.StatusOK)
	ids := map[string]string{}
	for _, v := range []string{"a", "b"} {
		ids[v] = admin("POST", "/api/v1/admin/vendors", map[string]any{"name": "Vendor " + v, "commission_rate": "0.1"}, http.StatusCreated)["id"].(string)
		p := admin("POST", "/api/v1/admin/products", map[string]any{"title": "Tea " + v, "status": "active", "vendor_id": ids[v],
			"variants": []map[string]any{{"sku": "TEA-" + v, "price": yen("1000"), "tax_rate": "8"}}}, http.StatusCreated)
		ids["product-"+v] = p["id"].(string)
		ids["variant-"+v] = p["variants"].([]any)[0].(map[string]any)["id"].(string)
		admin("POST", "/api/v1/admin/inventory/adjustments", map[string]any{"variant_id": ids["variant-"+v], "set": 10, "reason": "delivery"}, http.StatusCreated)
	}
	order := func(skus ...string) string {
		b := newBuyer(t, env, "moneywall")
		for _, s := range skus {
			require.Equal(t, http.StatusOK, b.add(t, s, 1).Status)
		}
		resp := b.do(t, "POST", "/checkout", withMethod("bank_transfer"), "Idempotency-Key", uuid.NewString())
		require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
		id := resp.Map(t)["order_id"].(string)
		admin("POST", "/api/v1/admin/orders/"+id+"/payments/confirm", map[string]any{"amount": resp.Map(t)["totals"].(map[string]any)["total"]}, http.StatusOK)
		return id
	}
	onlyB, both := order("TEA-b"), order("TEA-a", "TEA-b")
	env.Settle(t)
	admin("POST", "/api/v1/admin/staff", map[string]any{"email": "a@moneywall.example.jp", "name": "A", "role": "vendor",
		"vendor_id": ids["a"], "password": "password for vendor a"}, http.StatusCreated)
	staff := env.SignIn(t, "moneywall", "a@moneywall.example.jp", "password for vendor a")
	call := func(method, path string, body any) apitest.Response {
		t.Helper()
		return env.Do(t, req{Method: method, Path: path, Token: staff, Body: body})
	}
	b := ids["b"]
	for _, c := range []struct {
		method, path string
		body         any
		want         int
	}{
		{"GET", "/api/v1/admin/orders/" + onlyB, nil, http.StatusNotFound},
		{"GET", "/api/v1/admin/products/" + ids["product-b"], nil, http.StatusNotFound},
		{"GET", "/api/v1/admin/payouts/" + b + "/entries", nil, http.StatusNotFound},
		{"GET", "/api/v1/admin/payouts/" + b + "/statement", nil, http.StatusNotFound},
		{"GET", "/api/v1/admin/payouts/" + b + "/statement.csv", nil, http.StatusNotFound},
		{"GET", "/api/v1/admin/payouts/" + b + "/account", nil, http.StatusNotFound},
		{"PUT", "/api/v1/admin/payouts/" + b + "/account", map[string]any{}, http.StatusForbidden},
		{"POST", "/api/v1/admin/payouts/" + b, map[string]any{"amount": yen("1"), "paid_at": "2026-01-01T00:00:00Z", "reference": "x"}, http.StatusForbidden},
		{"GET", "/api/v1/admin/payout-runs", nil, http.StatusForbidden},
		{"POST", "/api/v1/admin/payout-runs", map[string]any{"period_end": "2026-01-01T00:00:00Z"}, http.StatusForbidden},
		{"GET", "/api/v1/admin/ledger/trial-balance", nil, http.StatusForbidden},
	} {
		require.Equal(t, c.want, call(c.method, c.path, c.body).Status, "%s %s", c.method, c.path)
	}
	balances := call("GET", "/api/v1/admin/payouts", nil).Map(t)["items"].([]any)
	require.Len(t, balances, 1)
	require.Equal(t, ids["a"], balances[0].(map[string]any)["vendor_id"])
	for _, e := range call("GET", "/api/v1/admin/payouts/"+ids["a"]+"/entries", nil).Map(t)["items"].([]any) {
		require.Equal(t, both, e.(map[string]any)["order_id"], "only the order with vendor A's goods")
	}
	listed := call("GET", "/api/v1/admin/orders", nil).Map(t)["items"].([]any)
	require.Len(t, listed, 1)
	require.Equal(t, both, listed[0].(map[string]any)["id"])
	shared := call("GET", "/api/v1/admin/orders/"+both, nil)
	require.Equal(t, http.StatusOK, shared.Status)
	for _, l := range shared.Map(t)["lines"].([]any) {
		require.Equal(t, ids["a"], l.(map[string]any)["vendor_id"], "vendor B's lines are not shown")
	}
}

// Money owed back is paid back: an over-paid order's extra and a paid
// order cancelled are refunds due; with the account the buyer gave they
// go into a transfer file, and recording them paid moves the ledger from
// refunds due to refunded, never more than is outstanding.
func TestRefundsOwedBackArePaidBack(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	shop := env.Shop(t, "refundshop", "single_brand", false)
	admin := func(method, path string, body any, want int) map[string]any {
		t.Helper()
		resp := env.Do(t, req{Method: method, Path: path, Token: shop.Token, Body: body})
		require.Equal(t, want, resp.Status, "%s %s: %s", method, path, resp.Body)
		if len(resp.Body) == 0 || resp.Body[0] != '{' {
			return nil
		}
		return resp.Map(t)
	}
	admin("PATCH", "/api/v1/admin/settings", map[string]any{"bank_account": map[string]any{"bank_name": "みずほ銀行", "bank_code": "0001",
		"branch_name": "本店", "branch_code": "100", "account_type": "ordinary", "account_number": "1234567", "account_holder": "ﾍﾝｷﾝ"}}, http.StatusOK)
	p := admin("POST", "/api/v1/admin/products", map[string]any{"title": "Tea", "status": "active",
		"variants": []map[string]any{{"sku": "TEA", "price": yen("2000"), "tax_rate": "8"}}}, http.StatusCreated)
	admin("POST", "/api/v1/admin/inventory/adjustments", map[string]any{"variant_id": p["variants"].([]any)[0].(map[string]any)["id"], "set": 10, "reason": "delivery"}, http.StatusCreated)
	place := func() (string, string) {
		b := newBuyer(t, env, "refundshop")
		require.Equal(t, http.StatusOK, b.add(t, "TEA", 1).Status)
		resp := b.do(t, "POST", "/checkout", withMethod("bank_transfer"), "Idempotency-Key", uuid.NewString())
		require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
		m := resp.Map(t)
		return m["order_id"].(string), m["totals"].(map[string]any)["total"].(map[string]any)["amount"].(string)
	}
	over, total := place()
	require.Equal(t, "2800", total)
	cancelled, _ := place()
	admin("POST", "/api/v1/admin/orders/"+over+"/payments/confirm", map[string]any{"amount": yen("3300")}, http.StatusOK)
	admin("POST", "/api/v1/admin/orders/"+cancelled+"/payments/confirm", map[string]any{"amount": yen("2800")}, http.StatusOK)
	env.Settle(t)
	admin("POST", "/api/v1/admin/orders/"+cancelled+"/cancel", map[string]any{"reason": "out of stock after all"}, http.StatusOK)
	env.Settle(t)

	outstanding := func(status string) map[string]string {
		out := map[string]string{}
		for _, it := range admin("GET", "/api/v1/admin/refunds?status="+status, nil, http.StatusOK)["items"].([]any) {
			it := it.(map[string]any)
			out[it["order_id"].(string)] = it["outstanding"].(map[string]any)["amount"].(string)
		}
		return out
	}
	require.Equal(t, map[string]string{over: "500", cancelled: "2800"}, outstanding("due"))
	require.Empty(t, outstanding("paid"))
	admin("GET", "/api/v1/admin/refunds?status=maybe", nil, http.StatusUnprocessableEntity)

	file := "/api/v1/admin/refunds.zengin?ids=" + over + "," + cancelled
	admin("PATCH", "/api/v1/admin/settings", map[string]any{"transfer_client_code": "42"}, http.StatusOK)
	admin("GET", file, nil, http.StatusConflict)
	admin("PUT", "/api/v1/admin/orders/"+over+"/refund-account", map[string]any{"bank_name": "ゆうちょ銀行", "bank_code": "9900",
		"branch_name": "〇一八", "branch_code": "018", "account_type": "ordinary", "account_number": "1234567", "account_holder": "やまだ たろう"}, http.StatusOK)
	admin("PUT", "/api/v1/admin/orders/"+cancelled+"/refund-account", map[string]any{"bank_name": "三井住友銀行", "bank_code": "0009",
		"branch_name": "渋谷支店", "branch_code": "234", "account_type": "savings", "account_number": "7654321", "account_holder": "山田花子"}, http.StatusUnprocessableEntity)
	admin("PUT", "/api/v1/admin/orders/"+cancelled+"/refund-account", map[string]any{"bank_name": "三井住友銀行", "bank_code": "0009",
		"branch_name": "渋谷支店", "branch_code": "234", "account_type": "savings", "account_number": "7654321", "account_holder": "ヤマダ ハナコ"}, http.StatusOK)
	zf := env.Do(t, req{Method: "GET", Path: file, Token: shop.Token})
	require.Equal(t, http.StatusOK, zf.Status, string(zf.Body))
	tf, err := zengin.ReadTransfer(bytes.NewReader(zf.Body))
	require.NoError(t, err)
	require.Len(t, tf.Items, 2)
	require.Equal(t, "ﾔﾏﾀﾞ ﾀﾛｳ", tf.Items[0].Name)
	require.Equal(t, "500", tf.Items[0].Amount.String())
	require.Equal(t, zengin.Savings, tf.Items[1].AccountType)
	require.Equal(t, "3300", tf.Total.String())

	paidAt := time.Now().UTC().Format(time.RFC3339)
	admin("POST", "/api/v1/admin/orders/"+over+"/refunds", map[string]any{"amount": yen("501"), "paid_at": paidAt, "reference": "RF-1"}, http.StatusConflict)
	rf := admin("POST", "/api/v1/admin/orders/"+over+"/refunds", map[string]any{"amount": yen("500"), "paid_at": paidAt, "reference": "RF-1"}, http.StatusCreated)
	require.Equal(t, "paid", rf["status"])
	admin("POST", "/api/v1/admin/orders/"+cancelled+"/refunds", map[string]any{"amount": yen("800"), "paid_at": paidAt, "reference": "RF-2"}, http.StatusCreated)
	admin("POST", "/api/v1/admin/orders/"+cancelled+"/refunds", map[string]any{"amount": yen("1"), "paid_at": paidAt, "reference": "RF-2"}, http.StatusConflict)
	admin("GET", file, nil, http.StatusConflict)
	require.Equal(t, map[string]string{cancelled: "2000"}, outstanding("due"))
	require.Equal(t, map[string]string{over: "0"}, outstanding("paid"))

	tb := admin("GET", "/api/v1/admin/ledger/trial-balance", nil, http.StatusOK)
	got := map[string]string{}
	for _, a := range tb["accounts"].([]any) {
		a := a.(map[string]any)
		got[a["account"].(string)] = a["balance"].(map[string]any)["amount"].(string)
	}
	require.Equal(t, "-2000", got["refunds:due"], "owed back still")
	require.Equal(t, "-1300", got["cash:refunded"])
	require.Equal(t, "0", got["clearing:deposits"], "the cancelled sale went back to deposits, then to refunds due")
	require.Equal(t, "6100", got["cash:bank_transfer"])
}
