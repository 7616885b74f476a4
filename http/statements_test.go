package http_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/japanese"

	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/internal/zengin"
)

// placeNamed checks out qty units like orderEnv.place, as a buyer of the
// given name, and returns the order with its reference code.
func (o *orderEnv) placeNamed(t *testing.T, method order.PaymentMethod, qty int64, name string) (placed, string) {
	t.Helper()
	b := newBuyer(t, o.env, "orders")
	resp := b.add(t, "SENCHA-1", qty)
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	body := withMethod(string(method))
	body["name"] = name
	resp = b.do(t, "POST", "/checkout", body, "Idempotency-Key", uuid.NewString())
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	m := resp.Map(t)
	id, err := order.ParseID(m["order_id"].(string))
	require.NoError(t, err)
	total := m["totals"].(map[string]any)["total"].(map[string]any)
	amount, err := decimal.NewFromString(total["amount"].(string))
	require.NoError(t, err)
	p := placed{Order: id, Number: m["order_number"].(string), Token: m["access_token"].(string)}
	p.Total = mustYen(t, amount)
	ref := ""
	if pay, ok := m["payment"].(map[string]any); ok && pay["reference_code"] != nil {
		ref = pay["reference_code"].(string)
	}
	return p, ref
}

// advanceSignedIn moves the clock and signs in again (sessions expire).
func (o *orderEnv) advanceSignedIn(t *testing.T, d time.Duration) {
	t.Helper()
	o.advance(d)
	o.shop.Token = o.env.SignIn(t, "orders", o.shop.Owner, o.shop.Password)
}

// deposit is one line of a generated statement.
type deposit struct {
	payer  string
	amount int64
	out    bool // a withdrawal
}

// statementFile writes a 入出金取引明細 of the lines, credited on the JST
// day of at.
func statementFile(t *testing.T, at time.Time, lines ...deposit) []byte {
	t.Helper()
	d := at.In(zengin.JST)
	day := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, zengin.JST)
	a := zengin.Account{Created: day, From: day.AddDate(0, 0, -1), To: day, BankCode: "0001", BankName: "ﾐｽﾞﾎ", BranchCode: "100",
		BranchName: "ﾎﾝﾃﾝ", AccountType: zengin.Ordinary, AccountNumber: "1234567", Name: "ｷﾖｳﾄﾁﾔ", Passbook: "1",
		OpeningBalance: decimal.NewFromInt(1_000_000)}
	st := zengin.Statement{Kind: zengin.Transactions, Accounts: []zengin.Account{a}}
	balance := a.OpeningBalance
	for i, l := range lines {
		zl := zengin.Line{Reference: fmt.Sprintf("%08d", i+1), Date: day, ValueDate: day, Direction: zengin.Deposit, TxType: "11",
			Amount: decimal.NewFromInt(l.amount), PayerName: l.payer, PayerBank: "ｻﾝﾌﾟﾙ", PayerBranch: "ｴｷﾏｴ"}
		if l.out {
			zl.Direction, zl.TxType, zl.PayerName, zl.PayerBank, zl.PayerBranch, zl.Description = zengin.Withdrawal, "14", "", "", "", "ﾃｽｳﾘﾖｳ"
		}
		balance = balance.Add(zl.Signed())
		st.Lines = append(st.Lines, zl)
	}
	st.Accounts[0].ClosingBalance = balance
	var buf bytes.Buffer
	require.NoError(t, zengin.WriteStatement(&buf, st))
	return buf.Bytes()
}

// importStatement posts a file and waits until its import has finished
// and the read model shows its lines.
func (o *orderEnv) importStatement(t *testing.T, query string, file []byte) map[string]any {
	t.Helper()
	resp := o.env.Do(t, req{Method: "POST", Path: "/api/v1/admin/bank-statements" + query, Token: o.shop.Token, Body: file,
		Header: map[string]string{"Content-Type": "application/octet-stream"}})
	require.Equal(t, http.StatusAccepted, resp.Status, string(resp.Body))
	id := resp.Map(t)["id"].(string)
	return o.waitStatement(t, id)
}

// waitStatement polls a statement until its import finished and every
// line is projected with its decision.
func (o *orderEnv) waitStatement(t *testing.T, id string) map[string]any {
	t.Helper()
	var got map[string]any
	require.Eventually(t, func() bool {
		got = o.do(t, "GET", "/api/v1/admin/bank-statements/"+id, nil, http.StatusOK)
		switch got["status"] {
		case "failed":
			return true
		case "completed":
			return got["lines"] == got["total_lines"] && got["matched"] == got["lines"].(float64)-got["unmatched"].(float64)-got["ignored"].(float64) &&
				o.matchedProjected(t, id, got)
		}
		return false
	}, 30*time.Second, 5*time.Millisecond)
	return got
}

// matchedProjected reports whether the read model shows as many matched
// lines as the import matched (the job's count is exact at once).
func (o *orderEnv) matchedProjected(t *testing.T, id string, got map[string]any) bool {
	var matched int
	require.NoError(t, o.env.Main.Pool.QueryRow(context.Background(), `SELECT created FROM import_jobs WHERE id = $1`, id).Scan(&matched))
	return got["matched"] == float64(matched)
}

func (o *orderEnv) lines(t *testing.T, id, status string) []any {
	t.Helper()
	return o.do(t, "GET", "/api/v1/admin/bank-statements/"+id+"/lines?status="+status, nil, http.StatusOK)["items"].([]any)
}

func (o *orderEnv) payment(t *testing.T, id order.ID) map[string]any {
	t.Helper()
	return o.do(t, "GET", "/api/v1/admin/orders/"+id.String(), nil, http.StatusOK)["payments"].([]any)[0].(map[string]any)
}

// An order placed, the bank statement imported: the transfer carrying the
// order's reference code pays it, the order ships; the withdrawal is
// listed as not a deposit; the same file again adds nothing.
func TestBankStatementPaysOrder(t *testing.T) {
	t.Parallel()
	o := newOrderEnv(t)
	p, ref := o.placeNamed(t, order.PaymentBankTransfer, 2, "ヤマダ タロウ")
	require.Len(t, ref, 8)
	o.advanceSignedIn(t, 24*time.Hour)
	file := statementFile(t, o.clock(), deposit{payer: ref + " ﾔﾏﾀﾞ ﾀﾛｳ", amount: p.Total.Amount().IntPart()}, deposit{amount: 440, out: true})

	st := o.importStatement(t, "?format=zengin", file)
	require.Equal(t, "completed", st["status"], st)
	require.Equal(t, float64(2), st["lines"])
	require.Equal(t, float64(1), st["matched"])
	require.Equal(t, float64(1), st["ignored"], "the withdrawal")
	require.Equal(t, float64(0), st["unmatched"])
	id := st["id"].(string)
	matched := o.lines(t, id, "matched")
	require.Len(t, matched, 1)
	l := matched[0].(map[string]any)
	require.Equal(t, "auto", l["how"])
	require.Equal(t, p.Order.String(), l["allocations"].([]any)[0].(map[string]any)["order_id"])
	ignored := o.lines(t, id, "ignored")
	require.Len(t, ignored, 1)
	require.Equal(t, "not_a_deposit", ignored[0].(map[string]any)["reason"])
	require.Equal(t, false, ignored[0].(map[string]any)["deposit"])

	d := o.waitOrder(t, p.Order, "pending_shipment")
	pay := d["payments"].([]any)[0].(map[string]any)
	require.Equal(t, "paid", pay["status"])
	o.env.Settle(t)
	sid := shipmentID(t, o.do(t, "GET", "/api/v1/admin/orders/"+p.Order.String(), nil, http.StatusOK))
	o.do(t, "POST", "/api/v1/admin/shipments/"+sid+"/ship", map[string]any{"carrier": "ヤマト運輸", "tracking_no": "1111-2222-3333"}, http.StatusOK)
	o.waitOrder(t, p.Order, "shipped")
	o.env.Settle(t)

	// The same file again: every line is a duplicate; nothing is received twice.
	before := o.countEvents(t)
	again := o.importStatement(t, "", file)
	require.Equal(t, "completed", again["status"])
	require.Equal(t, float64(2), again["duplicates"])
	require.Equal(t, float64(0), again["lines"])
	require.Equal(t, before+1, o.countEvents(t), "only the second statement's (empty) import event")
	require.Len(t, o.payment(t, p.Order)["receipts"], 1)
}

// A transfer that arrives after the sweeper cancelled the order is
// recorded, all of it a refund due; staff may reinstate the order.
func TestLateTransferAfterCancellationIsARefundDue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	o := newOrderEnv(t)
	p, ref := o.placeNamed(t, order.PaymentBankTransfer, 1, "スズキ ハナコ")
	o.env.Settle(t)
	o.advance(7*24*time.Hour + 73*time.Hour)
	o.shop.Token = o.env.SignIn(t, "orders", o.shop.Owner, o.shop.Password)
	n, err := o.env.Main.Sweeper.CancelOverdue(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	o.waitOrder(t, p.Order, "cancelled")

	st := o.importStatement(t, "?format=zengin", statementFile(t, o.clock(), deposit{payer: ref + " ｽｽﾞｷ ﾊﾅｺ", amount: p.Total.Amount().IntPart()}))
	require.Equal(t, float64(1), st["matched"], st)
	require.Eventually(t, func() bool {
		pay := o.payment(t, p.Order)
		return pay["refund_due"].(map[string]any)["amount"] == p.Total.AmountString()
	}, 30*time.Second, 5*time.Millisecond)
	require.Equal(t, "cancelled", o.do(t, "GET", "/api/v1/admin/orders/"+p.Order.String(), nil, http.StatusOK)["status"])
	o.do(t, "POST", "/api/v1/admin/orders/"+p.Order.String()+"/reinstate", map[string]any{"reason": "paid late"}, http.StatusOK)
}

// A deposit without a reference code waits for staff with ranked
// suggestions; staff match it (the payment is confirmed once) or ignore a
// line; a combined transfer carrying two codes pays both orders.
func TestAmbiguousLineIsMatchedByStaff(t *testing.T) {
	t.Parallel()
	o := newOrderEnv(t)
	a, _ := o.placeNamed(t, order.PaymentBankTransfer, 1, "タナカ イチロウ")
	b, _ := o.placeNamed(t, order.PaymentBankTransfer, 2, "サトウ ジロウ")
	c, refC := o.placeNamed(t, order.PaymentBankTransfer, 1, "イトウ サブロウ")
	d, refD := o.placeNamed(t, order.PaymentBankTransfer, 1, "イトウ サブロウ")
	o.env.Settle(t)
	o.advanceSignedIn(t, 24*time.Hour)
	combined := c.Total.Amount().IntPart() + d.Total.Amount().IntPart()
	file := statementFile(t, o.clock(),
		deposit{payer: "ﾀﾅｶ ｲﾁﾛｳ", amount: a.Total.Amount().IntPart()}, // no code
		deposit{payer: "ﾜｶﾗﾅｲ ﾋﾄ", amount: 12345},                      // unknown payer
		deposit{payer: refC + " " + refD + " ｲﾄｳ ｻﾌﾞﾛｳ", amount: combined})
	st := o.importStatement(t, "", file)
	require.Equal(t, float64(1), st["matched"], st)
	require.Equal(t, float64(2), st["unmatched"])
	id := st["id"].(string)

	queue := o.lines(t, id, "unmatched")
	require.Len(t, queue, 2)
	first := queue[0].(map[string]any)
	sugg := first["suggestions"].([]any)
	require.NotEmpty(t, sugg)
	top := sugg[0].(map[string]any)
	require.Equal(t, a.Order.String(), top["order_id"], "same name and amount ranks first")
	require.Equal(t, true, top["amount_equal"])
	require.Equal(t, float64(1), top["name_similarity"])
	for _, s := range sugg {
		require.NotEqual(t, b.Order.String(), s.(map[string]any)["order_id"], "another name and amount is no suggestion")
	}

	lineID := first["id"].(string)
	m := o.do(t, "POST", "/api/v1/admin/bank-statement-lines/"+lineID+"/match", map[string]any{"order_id": a.Order.String()}, http.StatusOK)
	require.Equal(t, "matched", m["status"])
	require.Equal(t, "staff", m["how"])
	o.waitOrder(t, a.Order, "pending_shipment")
	// Again: nothing more; to another order: 409.
	o.do(t, "POST", "/api/v1/admin/bank-statement-lines/"+lineID+"/match", map[string]any{"order_id": a.Order.String()}, http.StatusOK)
	require.Len(t, o.payment(t, a.Order)["receipts"], 1)
	resp := o.env.Do(t, req{Method: "POST", Path: "/api/v1/admin/bank-statement-lines/" + lineID + "/match", Token: o.shop.Token, Body: map[string]any{"order_id": b.Order.String()}})
	require.Equal(t, http.StatusConflict, resp.Status, string(resp.Body))
	resp = o.env.Do(t, req{Method: "POST", Path: "/api/v1/admin/bank-statement-lines/" + lineID + "/ignore", Token: o.shop.Token, Body: map[string]any{"reason": "x"}})
	require.Equal(t, http.StatusConflict, resp.Status, string(resp.Body))

	unknown := queue[1].(map[string]any)["id"].(string)
	ig := o.do(t, "POST", "/api/v1/admin/bank-statement-lines/"+unknown+"/ignore", map[string]any{"reason": "not ours: returned to the payer"}, http.StatusOK)
	require.Equal(t, "ignored", ig["status"])
	resp = o.env.Do(t, req{Method: "POST", Path: "/api/v1/admin/bank-statement-lines/" + unknown + "/ignore", Token: o.shop.Token, Body: map[string]any{"reason": ""}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status, string(resp.Body))
	resp = o.env.Do(t, req{Method: "POST", Path: "/api/v1/admin/bank-statement-lines/" + uuid.NewString() + "/match", Token: o.shop.Token, Body: map[string]any{"order_id": a.Order.String()}})
	require.Equal(t, http.StatusNotFound, resp.Status, string(resp.Body))

	// The combined transfer paid both orders their balances.
	matched := o.lines(t, id, "matched")
	var allocs []any
	for _, l := range matched {
		if l.(map[string]any)["how"] == "auto" {
			allocs = l.(map[string]any)["allocations"].([]any)
		}
	}
	require.Len(t, allocs, 2)
	o.waitOrder(t, c.Order, "pending_shipment")
	o.waitOrder(t, d.Order, "pending_shipment")
	require.Eventually(t, func() bool {
		st = o.do(t, "GET", "/api/v1/admin/bank-statements/"+id, nil, http.StatusOK)
		return st["matched"] == float64(2) && st["ignored"] == float64(1) && st["unmatched"] == float64(0)
	}, 30*time.Second, 5*time.Millisecond)
}

// Files that cannot be read fail the import with the line at fault, and
// nothing of them is imported.
func TestBrokenStatementFilesImportNothing(t *testing.T) {
	t.Parallel()
	o := newOrderEnv(t)
	p, ref := o.placeNamed(t, order.PaymentBankTransfer, 1, "ヤマダ タロウ")
	o.advanceSignedIn(t, 24*time.Hour)
	good := statementFile(t, o.clock(), deposit{payer: ref + " ﾔﾏﾀﾞ ﾀﾛｳ", amount: p.Total.Amount().IntPart()}, deposit{payer: "ﾀﾅｶ", amount: 1000})
	recs := bytes.Split(good, []byte("\r\n"))
	require.Len(t, recs, 6) // header, 2 lines, trailer, end, ""

	encoding := bytes.Clone(good)
	i := bytes.IndexByte(recs[2], 0xC0) // ﾀ of the second line's payer
	require.Positive(t, i)
	copy(encoding[len(recs[0])+len(recs[1])+4+i:], "ア") // 3 bytes of UTF-8 where cp932 is expected
	truncated := bytes.Join([][]byte{recs[0], recs[1], recs[2][:150], recs[3], recs[4], nil}, []byte("\r\n"))
	totals := bytes.Clone(good)
	trailer := 200*3 + 2*3 // the trailer's first byte
	require.Equal(t, byte('8'), totals[trailer])
	totals[trailer+19] = '9' // 入金額合計's last digits

	before := o.countEvents(t)
	for name, tc := range map[string]struct {
		file []byte
		line float64
	}{"encoding": {encoding, 3}, "truncated": {truncated, 3}, "totals": {totals, 4}} {
		st := o.importStatement(t, "", tc.file)
		require.Equal(t, "failed", st["status"], name)
		errs := st["errors"].([]any)
		require.NotEmpty(t, errs, name)
		require.Equal(t, tc.line, errs[0].(map[string]any)["line"], "%s: %v", name, errs)
		require.Equal(t, float64(0), st["lines"], name)
	}
	require.Equal(t, before, o.countEvents(t), "nothing half-applied")
	require.Equal(t, "pending_payment", o.do(t, "GET", "/api/v1/admin/orders/"+p.Order.String(), nil, http.StatusOK)["status"])

	// Bad options are refused at once.
	for _, q := range []string{"?format=ofx", "?format=csv", "?format=csv&preset=mizuho", "?format=zengin&preset=smbc"} {
		resp := o.env.Do(t, req{Method: "POST", Path: "/api/v1/admin/bank-statements" + q, Token: o.shop.Token, Body: good,
			Header: map[string]string{"Content-Type": "application/octet-stream"}})
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s: %s", q, resp.Body)
	}
}

// A bank CSV read with a preset: the same matching applies.
func TestBankCSVWithPreset(t *testing.T) {
	t.Parallel()
	o := newOrderEnv(t)
	p, ref := o.placeNamed(t, order.PaymentBankTransfer, 1, "ヤマダ タロウ")
	o.advanceSignedIn(t, 24*time.Hour)
	day := o.clock().In(zengin.JST).Format("2006/1/2")
	csv := "年月日,お引出し,お預入れ,お取り扱い内容,残高\r\n" + day + ",," + p.Total.AmountString() + ",ﾌﾘｺﾐ " + ref + " ﾔﾏﾀﾞ ﾀﾛｳ,100000\r\n"
	sj, err := toShiftJIS(csv)
	require.NoError(t, err)
	st := o.importStatement(t, "?format=csv&preset=smbc", sj)
	require.Equal(t, float64(1), st["matched"], st)
	o.waitOrder(t, p.Order, "pending_shipment")
}

// A carrier's remittance: the delivered parcel's collection is recorded
// with the carrier's fee; a parcel whose amount differs is listed for
// staff. The same file again adds nothing.
func TestCODRemittance(t *testing.T) {
	t.Parallel()
	o := newOrderEnv(t)
	a := o.place(t, order.PaymentCOD, 1)
	b := o.place(t, order.PaymentCOD, 1)
	o.waitOrder(t, a.Order, "pending_shipment")
	o.waitOrder(t, b.Order, "pending_shipment")
	o.env.Settle(t)
	ship := func(p placed, tracking string) string {
		sid := shipmentID(t, o.do(t, "GET", "/api/v1/admin/orders/"+p.Order.String(), nil, http.StatusOK))
		o.do(t, "POST", "/api/v1/admin/shipments/"+sid+"/ship", map[string]any{"carrier": "佐川急便", "tracking_no": tracking}, http.StatusOK)
		o.do(t, "POST", "/api/v1/admin/shipments/"+sid+"/deliver", map[string]any{}, http.StatusOK)
		return sid
	}
	sa := ship(a, "4000-1111-2222")
	ship(b, "4000-3333-4444")
	o.env.Settle(t)

	csv := strings.Join([]string{"tracking_no,amount,fee,remitted_on",
		"400011112222," + a.Total.AmountString() + ",330,2025-12-05",
		"400033334444,1000,330,2025-12-05",
		"999999999999,2630,330,2025-12-05"}, "\n") + "\n"
	post := func() map[string]any {
		resp := o.env.Do(t, req{Method: "POST", Path: "/api/v1/admin/cod-remittances", Token: o.shop.Token, Body: csv, Header: map[string]string{"Content-Type": "text/csv"}})
		require.Equal(t, http.StatusAccepted, resp.Status, string(resp.Body))
		id := resp.Map(t)["id"].(string)
		var got map[string]any
		require.Eventually(t, func() bool {
			got = o.do(t, "GET", "/api/v1/admin/cod-remittances/"+id, nil, http.StatusOK)
			return got["status"] == "completed" && len(got["lines"].([]any))+int(got["duplicates"].(float64)) == 3
		}, 30*time.Second, 5*time.Millisecond)
		return got
	}
	r := post()
	require.Equal(t, float64(1), r["collected"])
	require.Equal(t, float64(2), r["discrepancies"])
	lines := r["lines"].([]any)
	require.Equal(t, "collected", lines[0].(map[string]any)["status"])
	require.Equal(t, sa, lines[0].(map[string]any)["shipment_id"])
	require.Equal(t, map[string]any{"amount": "330", "currency": "JPY"}, lines[0].(map[string]any)["fee"])
	require.Equal(t, "amount_differs", lines[1].(map[string]any)["status"])
	require.Equal(t, map[string]any{"amount": b.Total.AmountString(), "currency": "JPY"}, lines[1].(map[string]any)["expected"])
	require.Equal(t, "unknown_tracking_no", lines[2].(map[string]any)["status"])
	o.waitOrder(t, a.Order, "completed")
	require.Equal(t, "shipped", o.do(t, "GET", "/api/v1/admin/orders/"+b.Order.String(), nil, http.StatusOK)["status"])
	var fees int
	require.NoError(t, o.env.Main.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM events WHERE event_type = 'cod_remittance.carrier_fee_recorded.v1' AND payload->>'shipment_id' = $1 AND payload->>'order_id' = $2`,
		sa, a.Order.String()).Scan(&fees))
	require.Equal(t, 1, fees)
	o.env.Settle(t)
	tb := o.do(t, "GET", "/api/v1/admin/ledger/trial-balance", nil, http.StatusOK)
	got := map[string]string{}
	for _, a := range tb["accounts"].([]any) {
		a := a.(map[string]any)
		got[a["account"].(string)] = a["balance"].(map[string]any)["amount"].(string)
	}
	collected := decimal.RequireFromString(a.Total.AmountString())
	require.Equal(t, "660", got["expense:cod_carrier_fee"], "the carrier's fee on both parcels it remitted for is an expense")
	require.Equal(t, collected.Sub(decimal.NewFromInt(660)).String(), got["cash:cod"],
		"the cash is the recorded collection less the fees (the parcel whose amount differs waits for staff)")

	before := o.countEvents(t)
	again := post()
	require.Equal(t, float64(3), again["duplicates"])
	require.Empty(t, again["lines"])
	require.Equal(t, before+1, o.countEvents(t), "only the second remittance's (empty) import event")
}

func mustYen(t *testing.T, d decimal.Decimal) money.Money {
	t.Helper()
	m, err := money.New(d, money.JPY)
	require.NoError(t, err)
	return m
}

func toShiftJIS(s string) ([]byte, error) {
	return japanese.ShiftJIS.NewEncoder().Bytes([]byte(s))
}
