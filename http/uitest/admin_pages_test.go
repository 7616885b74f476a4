package uitest_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/internal/apitest"
	"github.com/honten/honten/internal/zengin"
)

// The backoffice screens checked without a browser: a staff member signs
// in with the sign-in form (cookies, CSRF token), loads each page, uses
// its forms, and a role without the permission gets neither the menu
// entry nor the page.

// staffSession is a signed-in browser session without the browser.
type staffSession struct {
	t    *testing.T
	base string
	c    *http.Client
}

func (s *staffSession) csrf() string {
	u, _ := url.Parse(s.base)
	for _, c := range s.c.Jar.Cookies(u) {
		if c.Name == "honten_csrf" {
			return c.Value
		}
	}
	return ""
}

// signIn signs a staff member in through the sign-in form.
func signIn(t *testing.T, base, shop, email, password string) *staffSession {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	s := &staffSession{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 2 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	status, _ := s.get("/admin/signin")
	require.Equal(t, http.StatusOK, status)
	status, loc, body := s.post("/admin/signin", url.Values{"email": {email}, "password": {password}, "shop": {shop}})
	require.Equal(t, http.StatusSeeOther, status, body)
	require.Equal(t, "/admin/", loc)
	return s
}

func (s *staffSession) get(path string) (int, string) {
	s.t.Helper()
	resp, err := s.c.Get(s.base + path)
	require.NoError(s.t, err)
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	return resp.StatusCode, string(b)
}

// page loads a page, wants 200 and checks its accessibility basics.
func (s *staffSession) page(path string) string {
	s.t.Helper()
	status, body := s.get(path)
	require.Equal(s.t, http.StatusOK, status, "%s: %s", path, body)
	accessibleHTML(s.t, path, body)
	return body
}

// post submits a form with the CSRF token and a fresh command id.
func (s *staffSession) post(path string, form url.Values) (int, string, string) {
	s.t.Helper()
	form.Set("csrf", s.csrf())
	if form.Get("cmd") == "" {
		form.Set("cmd", uuid.Must(uuid.NewV7()).String())
	}
	resp, err := s.c.PostForm(s.base+path, form)
	require.NoError(s.t, err)
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// submit posts a form that answers with a redirect and follows it.
func (s *staffSession) submit(path string, form url.Values) string {
	s.t.Helper()
	status, loc, body := s.post(path, form)
	require.Equal(s.t, http.StatusSeeOther, status, "%s: %s", path, body)
	return s.page(loc)
}

// upload posts a multipart form with a file.
func (s *staffSession) upload(path string, fields map[string]string, file []byte) (int, string, string) {
	s.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fields["csrf"], fields["cmd"] = s.csrf(), uuid.Must(uuid.NewV7()).String()
	for k, v := range fields {
		require.NoError(s.t, mw.WriteField(k, v))
	}
	fw, err := mw.CreateFormFile("file", "upload.csv")
	require.NoError(s.t, err)
	_, err = fw.Write(file)
	require.NoError(s.t, err)
	require.NoError(s.t, mw.Close())
	req, err := http.NewRequest("POST", s.base+path, &buf)
	require.NoError(s.t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := s.c.Do(req)
	require.NoError(s.t, err)
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

var (
	controlRe = regexp.MustCompile(`<(input|select|textarea)\b[^>]*>`)
	idRe      = regexp.MustCompile(`\bid="([^"]+)"`)
)

// accessibleHTML checks a page's lang and that every form control has a
// label naming it.
func accessibleHTML(t *testing.T, path, body string) {
	t.Helper()
	require.Regexp(t, `<html lang="(ja|en)">`, body, path)
	for _, tag := range controlRe.FindAllString(body, -1) {
		if strings.Contains(tag, `type="hidden"`) {
			continue
		}
		m := idRe.FindStringSubmatch(tag)
		require.NotNil(t, m, "%s: a control without an id (so without a label): %s", path, tag)
		require.Contains(t, body, `for="`+m[1]+`"`, "%s: no label for %s", path, tag)
	}
}

// formValue reads a named hidden field's value from a page.
func formValue(t *testing.T, body, name string) string {
	t.Helper()
	m := regexp.MustCompile(`name="` + regexp.QuoteMeta(name) + `" value="([^"]*)"`).FindStringSubmatch(body)
	require.NotNil(t, m, "no field %s", name)
	return m[1]
}

// Staff: the owner invites an operator and a finance member, who sign in
// with the password shown once; the operator sees no ledger, finance
// sees it; the owner changes a role and deactivates a member.
func TestStaffPageAndPermissionGating(t *testing.T) {
	t.Parallel()
	s := newShop(t, "ui-staff")
	owner := signIn(t, s.env.Base, "ui-staff", s.shop.Owner, s.shop.Password)
	dash := owner.page("/admin/")
	for _, p := range []string{"/admin/imports", "/admin/staff", "/admin/settings", "/admin/ledger", "/admin/payouts",
		"/admin/statements", "/admin/customers", "/admin/promotions"} {
		require.Contains(t, dash, `href="`+p+`"`, "the owner's menu has %s", p)
	}
	owner.page("/admin/staff")

	invite := func(email, role string) string {
		status, _, body := owner.post("/admin/staff", url.Values{"email": {email}, "name": {"スタッフ " + role}, "role": {role}})
		require.Equal(t, http.StatusOK, status, body)
		require.Contains(t, body, "招待しました")
		accessibleHTML(t, "invite", body)
		m := regexp.MustCompile(`id="initial-password">([^<]+)<`).FindStringSubmatch(body)
		require.NotNil(t, m, "the initial password is shown once")
		require.Contains(t, body, `data-email="`+email+`"`)
		return m[1]
	}
	opPass := invite("op@ui-staff.example.jp", "operator")
	finPass := invite("fin@ui-staff.example.jp", "finance")

	op := signIn(t, s.env.Base, "ui-staff", "op@ui-staff.example.jp", opPass)
	opDash := op.page("/admin/")
	for _, p := range []string{"/admin/ledger", "/admin/payouts", "/admin/statements", "/admin/staff"} {
		require.NotContains(t, opDash, `href="`+p+`"`, "no %s in an operator's menu", p)
	}
	require.Contains(t, opDash, `href="/admin/imports"`)
	require.NotContains(t, op.page("/admin/settings"), `<button type="submit">保存</button>`, "operators read the settings only")
	status, _, _ := op.post("/admin/settings", url.Values{"transfer_deadline_days": {"9"}})
	require.Equal(t, http.StatusForbidden, status)
	for _, p := range []string{"/admin/ledger", "/admin/payouts", "/admin/statements", "/admin/staff"} {
		status, _ := op.get(p)
		require.Equal(t, http.StatusForbidden, status, p)
	}
	status, _, _ = op.post("/admin/staff", url.Values{"email": {"x@ui-staff.example.jp"}, "name": {"x"}, "role": {"owner"}})
	require.Equal(t, http.StatusForbidden, status)

	fin := signIn(t, s.env.Base, "ui-staff", "fin@ui-staff.example.jp", finPass)
	finDash := fin.page("/admin/")
	require.Contains(t, finDash, `href="/admin/ledger"`)
	require.NotContains(t, finDash, `href="/admin/staff"`)
	fin.page("/admin/ledger")
	status, _ = fin.get("/admin/staff")
	require.Equal(t, http.StatusForbidden, status)

	// Change the operator's role to viewer, then deactivate them: their
	// session ends.
	staffPage := owner.page("/admin/staff")
	opID := regexp.MustCompile(`(?s)<tr data-email="op@ui-staff\.example\.jp">.*?action="/admin/staff/([0-9a-f-]{36})"`).FindStringSubmatch(staffPage)
	require.NotNil(t, opID)
	body := owner.submit("/admin/staff/"+opID[1], url.Values{"action": {"role"}, "role": {"viewer"}})
	require.Contains(t, body, "保存しました")
	require.Regexp(t, `data-email="op@ui-staff\.example\.jp"><td>[^<]*</td><td>[^<]*</td><td>閲覧のみ</td>`, body)
	body = owner.submit("/admin/staff/"+opID[1], url.Values{"action": {"deactivate"}})
	require.Contains(t, body, "無効にしました")
	require.Regexp(t, `data-email="op@ui-staff\.example\.jp"><td>[^<]*</td><td>[^<]*</td><td>[^<]*</td><td>無効</td>`, body)
	status, _ = op.get("/admin/imports")
	require.Equal(t, http.StatusSeeOther, status, "a deactivated member is signed out")

	// English is the switch away, on the new pages too.
	owner.get("/lang?l=en&back=/admin/staff")
	require.Contains(t, owner.page("/admin/staff"), "Staff and roles")
}

// Settings: the owner changes the deadline and the COD fee tiers; a bad
// bank code is shown on the form with 422; a viewer cannot save.
func TestSettingsPage(t *testing.T) {
	t.Parallel()
	s := newShop(t, "ui-settings")
	owner := signIn(t, s.env.Base, "ui-settings", s.shop.Owner, s.shop.Password)
	page := owner.page("/admin/settings")
	require.Contains(t, page, `value="ゆうちょ銀行"`)
	form := url.Values{"bank_name": {"ゆうちょ銀行"}, "bank_code": {"9900"}, "branch_name": {"〇一八"}, "branch_code": {"018"},
		"account_type": {"ordinary"}, "account_number": {"1234567"}, "account_holder": {"ﾎﾝﾃﾝ"},
		"transfer_deadline_days": {"5"}, "payment_grace_hours": {"48"}, "reservation_ttl_minutes": {"20"},
		"shipping_fee": {"800"}, "free_shipping_over": {"10000"},
		"cod_up_to": {"10000", "30000", ""}, "cod_fee": {"330", "440", ""}}
	body := owner.submit("/admin/settings", form)
	require.Contains(t, body, "保存しました")
	require.Contains(t, body, `id="transfer_deadline_days" name="transfer_deadline_days" type="number" min="1" value="5"`)
	resp := s.env.Do(t, apitest.Req{Method: "GET", Path: "/api/v1/admin/settings", Token: s.shop.Token})
	require.Equal(t, http.StatusOK, resp.Status)
	st := resp.Map(t)
	require.Equal(t, float64(5), st["transfer_deadline_days"])
	tiers := st["cod_fees"].([]any)
	require.Len(t, tiers, 2)
	require.Equal(t, "440", tiers[1].(map[string]any)["fee"].(map[string]any)["amount"])

	form.Set("bank_code", "99")
	status, _, body := owner.post("/admin/settings", form)
	require.Equal(t, http.StatusUnprocessableEntity, status, body)
	require.Contains(t, body, "bank_account.bank_code")
	accessibleHTML(t, "settings error", body)
}

// Imports: a CSV with a bad row is uploaded; the progress page polls its
// fragment until the job finishes and shows the row error; the export
// link downloads the products.
func TestImportsPage(t *testing.T) {
	t.Parallel()
	s := newShop(t, "ui-imports")
	owner := signIn(t, s.env.Base, "ui-imports", s.shop.Owner, s.shop.Password)
	page := owner.page("/admin/imports")
	require.Contains(t, page, `href="/admin/exports/products.csv"`)
	require.Contains(t, page, `enctype="multipart/form-data"`)
	file := "handle,title,status,sku,price,tax_rate\n" +
		"gyokuro,玉露,active,GYOKURO-50,2400,8\n" +
		"matcha,抹茶,active,MATCHA-30,not-a-price,8\n"
	status, loc, body := owner.upload("/admin/imports", map[string]string{}, []byte(file))
	require.Equal(t, http.StatusSeeOther, status, body)
	require.Regexp(t, `^/admin/imports/[0-9a-f-]{36}$`, loc)
	page = owner.page(loc)
	require.Contains(t, page, `id="job"`)
	var frag string
	require.Eventually(t, func() bool {
		_, frag = owner.get(loc + "/progress")
		return !strings.Contains(frag, "data-poll")
	}, 60*time.Second, 50*time.Millisecond, "the import finishes")
	require.True(t, strings.HasPrefix(frag, `<section id="job"`), frag)
	require.Contains(t, frag, "完了")
	page = owner.page(loc)
	require.Contains(t, page, `id="row-errors"`)
	require.Contains(t, page, "price")
	require.Contains(t, owner.page("/admin/imports"), loc)

	resp, err := owner.c.Get(s.env.Base + "/admin/exports/products.csv")
	require.NoError(t, err)
	csv, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/csv; charset=utf-8", resp.Header.Get("Content-Type"))
	require.Contains(t, string(csv), "GYOKURO-50")
	require.NotContains(t, string(csv), "MATCHA-30")
}

// placeTransferOrder buys one unit by bank transfer through the storefront
// API and returns the order's number and total.
func placeTransferOrder(t *testing.T, s *shop, name string) (string, int64) {
	t.Helper()
	h := map[string]string{"X-Tenant": s.shop.Code}
	resp := s.env.Do(t, apitest.Req{Method: "POST", Path: "/api/v1/store/carts", Header: h})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	cart := resp.Map(t)
	h["X-Cart-Token"] = cart["token"].(string)
	base := "/api/v1/store/carts/" + cart["id"].(string)
	resp = s.env.Do(t, apitest.Req{Method: "POST", Path: base + "/items?wait=5000", Header: h, Body: map[string]any{"sku": "SENCHA-100", "quantity": 1}})
	require.Contains(t, []int{http.StatusOK, http.StatusAccepted}, resp.Status, string(resp.Body))
	require.Eventually(t, func() bool {
		c := s.env.Do(t, apitest.Req{Method: "GET", Path: base, Header: h})
		lines, _ := c.Map(t)["lines"].([]any)
		return len(lines) == 1 && strings.Contains(string(c.Body), `"reserved"`)
	}, 60*time.Second, 20*time.Millisecond, "the line is reserved")
	h["Idempotency-Key"] = uuid.NewString()
	resp = s.env.Do(t, apitest.Req{Method: "POST", Path: base + "/checkout", Header: h, Body: map[string]any{
		"email": "buyer@example.jp", "name": name, "phone": "090-1234-5678", "payment_method": "bank_transfer",
		"shipping_address": map[string]any{"postal_code": "150-0041", "prefecture": "東京都", "city": "渋谷区", "line1": "神南1-2-3", "line2": ""}}})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	m := resp.Map(t)
	total, err := decimal.NewFromString(m["totals"].(map[string]any)["total"].(map[string]any)["amount"].(string))
	require.NoError(t, err)
	return m["order_number"].(string), total.IntPart()
}

// zenginStatement writes a 全銀 statement of deposits credited on day.
func zenginStatement(t *testing.T, day time.Time, deposits map[string]int64) []byte {
	t.Helper()
	d := day.In(zengin.JST)
	day = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, zengin.JST)
	a := zengin.Account{Created: day, From: day.AddDate(0, 0, -1), To: day, BankCode: "9900", BankName: "ﾕｳﾁﾖ", BranchCode: "018",
		BranchName: "ｾﾞﾛｲﾁﾊﾁ", AccountType: zengin.Ordinary, AccountNumber: "1234567", Name: "ﾎﾝﾃﾝ", Passbook: "1",
		OpeningBalance: decimal.NewFromInt(1_000_000)}
	st := zengin.Statement{Kind: zengin.Transactions, Accounts: []zengin.Account{a}}
	balance := a.OpeningBalance
	i := 0
	for payer, amount := range deposits {
		i++
		l := zengin.Line{Reference: fmt.Sprintf("%08d", i), Date: day, ValueDate: day, Direction: zengin.Deposit, TxType: "11",
			Amount: decimal.NewFromInt(amount), PayerName: payer, PayerBank: "ｻﾝﾌﾟﾙ", PayerBranch: "ｴｷﾏｴ"}
		balance = balance.Add(l.Signed())
		st.Lines = append(st.Lines, l)
	}
	st.Accounts[0].ClosingBalance = balance
	var buf bytes.Buffer
	require.NoError(t, zengin.WriteStatement(&buf, st))
	return buf.Bytes()
}

// Bank statements: a statement with a transfer that names no reference
// code lands in the exceptions queue; finance matches it to the order by
// number, ignores a stranger's transfer, and the order awaits shipment.
func TestStatementsExceptionsQueue(t *testing.T) {
	t.Parallel()
	s := newShop(t, "ui-recon")
	number, total := placeTransferOrder(t, s, "ヤマダ タロウ")
	s.env.Settle(t)
	owner := signIn(t, s.env.Base, "ui-recon", s.shop.Owner, s.shop.Password)
	owner.page("/admin/statements")
	file := zenginStatement(t, time.Now(), map[string]int64{"ﾔﾏﾀﾞ ﾀﾛｳ": total, "ﾜｶﾗﾅｲ ﾋﾄ": 12345})
	status, loc, body := owner.upload("/admin/statements", map[string]string{"format": "zengin"}, file)
	require.Equal(t, http.StatusSeeOther, status, body)
	require.Regexp(t, `^/admin/statements/[0-9a-f-]{36}$`, loc)
	require.Eventually(t, func() bool {
		_, frag := owner.get(loc + "/progress")
		return strings.Contains(frag, `<strong id="unmatched-count">2</strong>`) && !strings.Contains(frag, "data-poll")
	}, 60*time.Second, 50*time.Millisecond, "the import finishes with two unmatched lines")
	page := owner.page(loc)
	require.Equal(t, 2, strings.Count(page, `class="match-form"`))
	require.Contains(t, owner.page("/admin/statements"), loc)

	rows := regexp.MustCompile(`<tr id="line-([0-9a-f-]{36})">.*?(ﾔﾏﾀﾞ ﾀﾛｳ|ﾜｶﾗﾅｲ ﾋﾄ)`).FindAllStringSubmatch(page, -1)
	require.Len(t, rows, 2)
	lines := map[string]string{}
	for _, r := range rows {
		lines[r[2]] = r[1]
	}
	back := loc + "?status=unmatched"
	body = owner.submit("/admin/statement-lines/"+lines["ﾔﾏﾀﾞ ﾀﾛｳ"]+"/match", url.Values{"order_number": {number}, "back": {back}})
	require.Contains(t, body, "照合しました")
	body = owner.submit("/admin/statement-lines/"+lines["ﾜｶﾗﾅｲ ﾋﾄ"]+"/ignore", url.Values{"reason": {"返金済"}, "back": {back}})
	require.Contains(t, body, "対象外にしました")
	require.NotContains(t, body, `class="match-form"`, "the queue is empty")
	matched := owner.page(loc + "?status=matched")
	require.Contains(t, matched, "ﾔﾏﾀﾞ ﾀﾛｳ")
	require.Contains(t, matched, `<td>照合済 · <a href="/admin/orders/`)
	require.Contains(t, owner.page(loc+"?status=ignored"), "返金済")

	status, _, _ = owner.post("/admin/statement-lines/"+lines["ﾜｶﾗﾅｲ ﾋﾄ"]+"/match", url.Values{"order_number": {"NO-SUCH"}, "back": {back}})
	require.Equal(t, http.StatusUnprocessableEntity, status)
	orders := owner.page("/admin/orders?q=" + url.QueryEscape(number))
	require.Contains(t, orders, "出荷待ち")
}

// The ledger and payouts: the trial balance balances, a vendor's page
// shows its statement for a range, and the statement CSV downloads.
func TestLedgerAndPayoutsPages(t *testing.T) {
	t.Parallel()
	s := newShop(t, "ui-ledger")
	placeTransferOrder(t, s, "ヤマダ タロウ")
	s.env.Settle(t)
	owner := signIn(t, s.env.Base, "ui-ledger", s.shop.Owner, s.shop.Password)
	ledger := owner.page("/admin/ledger")
	debit := regexp.MustCompile(`id="total-debit">([^<]*)<`).FindStringSubmatch(ledger)
	credit := regexp.MustCompile(`id="total-credit">([^<]*)<`).FindStringSubmatch(ledger)
	require.Contains(t, ledger, `id="trial-balance"`)
	require.Equal(t, debit == nil, credit == nil)
	if debit != nil {
		require.Equal(t, debit[1], credit[1], "debits equal credits")
	}
	owner.page("/admin/ledger?at=" + time.Now().In(zengin.JST).Format(time.DateOnly))
	status, _ := owner.get("/admin/ledger?at=yesterday")
	require.Equal(t, http.StatusUnprocessableEntity, status)

	payouts := owner.page("/admin/payouts")
	require.Contains(t, payouts, `id="run-form"`)
	resp := s.env.Do(t, apitest.Req{Method: "GET", Path: "/api/v1/admin/vendors", Token: s.shop.Token})
	require.Equal(t, http.StatusOK, resp.Status)
	vendor := resp.Map(t)["items"].([]any)[0].(map[string]any)["id"].(string)
	from, to := time.Now().AddDate(0, 0, -7).Format(time.DateOnly), time.Now().AddDate(0, 0, 1).Format(time.DateOnly)
	page := owner.page("/admin/payouts/" + vendor + "?from=" + from + "&to=" + to)
	require.Contains(t, page, `id="statement"`)
	require.Contains(t, page, `href="/admin/payouts/`+vendor+`/statement.csv?from=`+from+`&amp;to=`+to+`"`)
	csvResp, err := owner.c.Get(s.env.Base + "/admin/payouts/" + vendor + "/statement.csv?from=" + from + "&to=" + to)
	require.NoError(t, err)
	_ = csvResp.Body.Close()
	require.Equal(t, http.StatusOK, csvResp.StatusCode)
	require.Contains(t, csvResp.Header.Get("Content-Type"), "text/csv")
	// Nothing is payable yet (the parcel is not delivered): the payout run
	// is refused with the API's reason, on the error page.
	status, _, body := owner.post("/admin/payout-runs", url.Values{"period_end": {time.Now().Format(time.DateOnly)}, "min_amount": {"0"}})
	require.Equal(t, http.StatusConflict, status, body)
	accessibleHTML(t, "payout run refused", body)
}

// Customers and promotions: search a registered customer, open their
// timeline, erase their personal data; create a coupon promotion,
// generate codes and download them.
func TestCustomersAndPromotionsPages(t *testing.T) {
	t.Parallel()
	s := newShop(t, "ui-crm")
	resp := s.env.Do(t, apitest.Req{Method: "POST", Path: "/api/v1/store/customers", Header: map[string]string{"X-Tenant": "ui-crm"},
		Body: map[string]any{"email": "hanako@example.jp", "password": "first password 1", "name": "佐藤 花子"}})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	owner := signIn(t, s.env.Base, "ui-crm", s.shop.Owner, s.shop.Password)
	list := owner.page("/admin/customers?q=hanako")
	m := regexp.MustCompile(`href="(/admin/customers/[0-9a-f-]{36})">佐藤 花子<`).FindStringSubmatch(list)
	require.NotNil(t, m, list)
	require.Contains(t, owner.page("/admin/customers?q=nobody"), "該当する顧客はいません")
	detail := owner.page(m[1])
	require.Contains(t, detail, "hanako@example.jp")
	require.Contains(t, detail, `id="timeline"`)
	require.Contains(t, detail, "customer.registered")
	status, _, _ := owner.post(m[1]+"/forget", url.Values{})
	require.Equal(t, http.StatusUnprocessableEntity, status, "erasing needs the confirmation box")
	detail = owner.submit(m[1]+"/forget", url.Values{"confirm": {"on"}})
	require.Contains(t, detail, "個人情報を消去しました")
	require.NotContains(t, detail, "hanako@example.jp")

	owner.page("/admin/promotions")
	status, loc, body := owner.post("/admin/promotions", url.Values{"title": {"初回10%オフ"}, "kind": {"percent"}, "value": {"10"},
		"min_subtotal": {"3000"}, "coupon": {"on"}, "codes": {"WELCOME10\n"}, "usage_limit": {"100"}})
	require.Equal(t, http.StatusSeeOther, status, body)
	promo := owner.page(loc)
	require.Contains(t, promo, "初回10%オフ")
	require.Contains(t, promo, "<code>WELCOME10</code>")
	require.Contains(t, owner.page("/admin/promotions"), "初回10%オフ")
	path := strings.SplitN(loc, "?", 2)[0]
	body = owner.submit(path+"/codes", url.Values{"count": {"5"}, "prefix": {"SPRING"}})
	require.Contains(t, body, "コードの生成を開始しました")
	var csv string
	require.Eventually(t, func() bool {
		resp, err := owner.c.Get(s.env.Base + path + "/codes.csv")
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		csv = string(b)
		return resp.StatusCode == http.StatusOK && strings.Count(csv, "SPRING") == 5
	}, 60*time.Second, 50*time.Millisecond, "five generated codes in the CSV")

	// A viewer reads promotions but gets no create form; customers are
	// not theirs to see.
	_, _, err := s.env.Main.Commands.InviteStaff(context.Background(), commands.InviteStaff{Tenant: s.shop.Tenant,
		By: commands.By{Actor: "test", CommandID: uuid.Must(uuid.NewV7())}, ByRole: "owner",
		Email: "viewer@ui-crm.example.jp", Name: "閲覧", Role: "viewer", Password: "viewer password 1"})
	require.NoError(t, err)
	viewer := signIn(t, s.env.Base, "ui-crm", "viewer@ui-crm.example.jp", "viewer password 1")
	require.NotContains(t, viewer.page("/admin/promotions"), `id="promotion-form"`)
	status, _ = viewer.get("/admin/customers")
	require.Equal(t, http.StatusForbidden, status)
	status, _, _ = viewer.post("/admin/promotions", url.Values{"title": {"x"}, "kind": {"percent"}, "value": {"5"}})
	require.Equal(t, http.StatusForbidden, status)
}
