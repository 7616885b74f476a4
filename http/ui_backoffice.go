package http

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/honten/honten/commands/importer"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/projections/tenancy"
)

// The backoffice screens of the work that came after the first pages
// (imports, staff, settings, ledger, payouts, bank statements, customers,
// promotions) are clients of the admin JSON API, called in process with
// the signed-in staff member's session token: the same routes, commands,
// queries, validation, permission checks and idempotency as over the
// network. Each page's own route also requires the API route's permission,
// so a page a role may not use is a 403 page, and the menu hides it.

// backofficeRoutes are the pages and form actions of these screens.
func (u *ui) backofficeRoutes() []uiRoute {
	return []uiRoute{
		{"GET", "/admin/imports", permImports, u.imports},
		{"POST", "/admin/imports", permImports, u.uploadImport},
		{"GET", "/admin/imports/{id}", permImports, u.importJob},
		{"GET", "/admin/imports/{id}/progress", permImports, u.importJob},
		{"GET", "/admin/exports/products.csv", permImports, u.passThrough("/exports/products.csv")},
		{"GET", "/admin/staff", permStaffRead, u.staffPage},
		{"POST", "/admin/staff", permStaffWrite, u.inviteStaff},
		{"POST", "/admin/staff/{id}", permStaffWrite, u.changeStaff},
		{"GET", "/admin/settings", permSettingsRead, u.settingsPage},
		{"POST", "/admin/settings", permSettingsWrite, u.saveSettings},
		{"GET", "/admin/ledger", permLedgerRead, u.ledgerPage},
		{"GET", "/admin/payouts", permPayoutsRead, u.payoutsPage},
		{"POST", "/admin/payout-runs", permPayoutsWrite, u.createPayoutRun},
		{"GET", "/admin/payout-runs/{id}/zengin", permLedgerRead, u.passThrough("/payout-runs/{id}/zengin")},
		{"GET", "/admin/payouts/{vendor}", permPayoutsRead, u.vendorPayouts},
		{"POST", "/admin/payouts/{vendor}", permPayoutsWrite, u.recordPayout},
		{"GET", "/admin/payouts/{vendor}/statement.csv", permPayoutsRead, u.passThrough("/payouts/{vendor}/statement.csv")},
		{"GET", "/admin/statements", permPaymentsWrite, u.statementsPage},
		{"POST", "/admin/statements", permPaymentsWrite, u.uploadStatement},
		{"GET", "/admin/statements/{id}", permPaymentsWrite, u.statementPage},
		{"GET", "/admin/statements/{id}/progress", permPaymentsWrite, u.statementPage},
		{"POST", "/admin/statement-lines/{id}/match", permPaymentsWrite, u.matchLine},
		{"POST", "/admin/statement-lines/{id}/ignore", permPaymentsWrite, u.ignoreLine},
		{"GET", "/admin/customers", permCustomersRead, u.customersPage},
		{"GET", "/admin/customers/{id}", permCustomersRead, u.customerPage},
		{"POST", "/admin/customers/{id}/forget", permCustomersWrite, u.forgetCustomer},
		{"GET", "/admin/promotions", permPromotionsRead, u.promotionsPage},
		{"POST", "/admin/promotions", permPromotionsWrite, u.createPromotion},
		{"GET", "/admin/promotions/{id}", permPromotionsRead, u.promotionPage},
		{"POST", "/admin/promotions/{id}/codes", permPromotionsWrite, u.generateCodes},
		{"GET", "/admin/promotions/{id}/codes.csv", permPromotionsRead, u.passThrough("/promotions/{id}/codes.csv")},
	}
}

// adminRequest builds an in-process request to the admin API as the
// signed-in staff member. A form's command id ("cmd") becomes its
// Idempotency-Key: a resubmitted form replays the first answer.
func (u *ui) adminRequest(r *http.Request, method, path string, body io.Reader, contentType string) (*http.Request, error) {
	c := callerFrom(r.Context())
	if c == nil {
		return nil, errs.Unauthenticatedf("sign in first")
	}
	// A fresh routing context: the API router must not reuse the page's.
	ctx := context.WithValue(r.Context(), chi.RouteCtxKey, (*chi.Context)(nil))
	if body == nil {
		body = http.NoBody
	}
	req, err := http.NewRequestWithContext(ctx, method, "/api/v1/admin"+path, body)
	if err != nil {
		return nil, err
	}
	req.Host, req.RemoteAddr = r.Host, r.RemoteAddr
	req.Header.Set("Authorization", "Bearer "+c.Token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if method == http.MethodPost {
		if id, ok := formCommandID(r); ok {
			req.Header.Set("Idempotency-Key", "ui-"+id.String())
		}
	}
	return req, nil
}

// adminAPI calls the admin JSON API in process and decodes a success into
// out; a problem answer comes back as the errs error it stands for.
func (u *ui) adminAPI(r *http.Request, method, path string, body any, out any) (apiResult, error) {
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case rawBody:
		rd, ct = bytes.NewReader(b.data), b.contentType
	default:
		j, err := json.Marshal(body)
		if err != nil {
			return apiResult{}, err
		}
		rd, ct = bytes.NewReader(j), "application/json"
	}
	req, err := u.adminRequest(r, method, path, rd, ct)
	if err != nil {
		return apiResult{}, err
	}
	rec := &apiRecorder{h: http.Header{}}
	u.s.router.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	res := apiResult{rec.status, rec.h.Get("X-Event-Position")}
	if rec.status >= 400 {
		var p Problem
		_ = json.Unmarshal(rec.body.Bytes(), &p)
		return res, problemError(p, rec.status)
	}
	if out != nil {
		if err := json.Unmarshal(rec.body.Bytes(), out); err != nil {
			return res, fmt.Errorf("decode %s %s: %w", method, path, err)
		}
	}
	return res, nil
}

// rawBody is a request body that is not JSON (an uploaded file).
type rawBody struct {
	data        []byte
	contentType string
}

// passThrough streams an admin API download (CSV, transfer files) to the
// browser: the API's own handler answers, with its headers, so the file is
// exactly the API's. Path parameters in braces are the page's.
func (u *ui) passThrough(pattern string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		path := pattern
		for _, name := range []string{"id", "vendor"} {
			if v := chi.URLParam(r, name); v != "" {
				path = strings.ReplaceAll(path, "{"+name+"}", url.PathEscape(v))
			}
		}
		if q := r.URL.RawQuery; q != "" {
			path += "?" + q
		}
		req, err := u.adminRequest(r, http.MethodGet, path, nil, "")
		if err != nil {
			u.fail(w, r, err)
			return
		}
		u.s.router.ServeHTTP(w, req)
	}
}

// after waits, like act, for the read models to apply a command the API
// ran, then sends the browser to back with a flash message.
func (u *ui) after(w http.ResponseWriter, r *http.Request, res apiResult, back, flash string) {
	if res.position != "" {
		if pos, err := eventstore.ParseToken(res.position); err == nil {
			wctx, cancel := context.WithTimeout(r.Context(), u.s.Config.ConsistencyWait)
			_ = u.s.waitFor(wctx, pos)
			cancel()
		}
	}
	sep := "?"
	if strings.Contains(back, "?") {
		sep = "&"
	}
	redirect(w, r, back+sep+"flash="+flash)
}

// renderPart writes one named block of a page's template (no layout): the
// fragment a polling element swaps in.
func (u *ui) renderPart(w http.ResponseWriter, r *http.Request, page, block string, p uiPage) {
	t, ok := u.pages[page]
	if !ok {
		panic("ui: no template " + page)
	}
	p.L = langOf(r)
	p.CSRF, _ = r.Context().Value(keyCSRF).(string)
	p.Path = r.URL.RequestURI()
	if p.Staff == nil {
		p.Staff = callerFrom(r.Context())
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, block, p); err != nil {
		logFrom(r.Context()).Error("render fragment", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

// isPoll reports a polling element's request for its fragment.
func isPoll(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/progress") }

// formError renders page again with a command's error: a client mistake
// shows on the form with its status, anything else is the error page.
func (u *ui) formError(w http.ResponseWriter, r *http.Request, err error, page string, p uiPage) {
	status := statusOf[errs.KindOf(err)]
	if status == 0 || status >= 500 {
		u.fail(w, r, err)
		return
	}
	p.Error, p.Fields = fieldErrors(err)
	u.render(w, r, status, page, p)
}

// vendorNames maps the shop's vendors to their names (for the ledger
// pages), read through GET /vendors.
func (u *ui) vendorNames(r *http.Request) (map[string]string, []tenancy.VendorView, error) {
	var l projections.List[tenancy.VendorView]
	if _, err := u.adminAPI(r, "GET", "/vendors?limit="+strconv.Itoa(projections.MaxLimit), nil, &l); err != nil {
		return nil, nil, err
	}
	out := map[string]string{}
	for _, v := range l.Items {
		out[v.ID.String()] = v.Name
	}
	return out, l.Items, nil
}

// dayParam reads a date form field (YYYY-MM-DD, JST): zero when empty.
func dayParam(r *http.Request, name string, fe *errs.Collector) time.Time {
	s := strings.TrimSpace(r.FormValue(name))
	if s == "" {
		return time.Time{}
	}
	t, err := time.ParseInLocation(time.DateOnly, s, jst)
	fe.Check(err == nil, name, "must be a date (YYYY-MM-DD)")
	return t
}

// moneyParam reads an amount form field in cur: nil when empty.
func moneyParam(r *http.Request, name string, cur money.Currency, fe *errs.Collector) *money.Money {
	s := strings.ReplaceAll(strings.TrimSpace(r.FormValue(name)), ",", "")
	if s == "" {
		return nil
	}
	m, err := money.Parse(s, cur)
	fe.Check(err == nil, name, "must be an amount in "+string(cur))
	return &m
}

// intParam reads a whole-number form field: nil when empty.
func intParam(r *http.Request, name string, fe *errs.Collector) *int64 {
	s := strings.TrimSpace(r.FormValue(name))
	if s == "" {
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	fe.Check(err == nil, name, "must be a whole number")
	return &n
}

// shopCurrency is the acting shop's currency (its shipping fee's).
func (u *ui) shopCurrency(r *http.Request) (money.Currency, tenant.Settings, error) {
	var st tenant.Settings
	if _, err := u.adminAPI(r, "GET", "/settings", nil, &st); err != nil {
		// Roles without settings:read still see money in the shop's currency.
		if errs.KindOf(err) != errs.KindForbidden {
			return "", st, err
		}
		cur, err := u.s.shopCurrency(r.Context())
		return cur, st, err
	}
	cur := st.ShippingFee.Currency()
	if cur == "" {
		cur = money.JPY
	}
	return cur, st, nil
}

// --- CSV imports

// importsData is the imports page: the upload form and the latest jobs.
type importsData struct {
	Jobs  []importer.Job
	CmdID string
}

// recentJobs lists the ids of tenant t's latest import jobs of a kind,
// newest first (the API reads them one by one).
func (u *ui) recentJobs(ctx context.Context, t tenant.ID, kind string, n int) ([]uuid.UUID, error) {
	rows, err := u.s.Pool.Query(ctx, `SELECT id FROM import_jobs WHERE tenant_id = $1 AND kind = $2 ORDER BY created_at DESC, id DESC LIMIT $3`, t, kind, n)
	if err != nil {
		return nil, fmt.Errorf("recent %s jobs: %w", kind, err)
	}
	defer rows.Close()
	var out []uuid.UUID
	for rows.Next() {
		var id uuid.UUID
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

func (u *ui) imports(w http.ResponseWriter, r *http.Request) {
	ids, err := u.recentJobs(r.Context(), callerFrom(r.Context()).Acting, "products", 20)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	out := importsData{CmdID: newCmd()}
	for _, id := range ids {
		var j importer.Job
		if _, err := u.adminAPI(r, "GET", "/imports/"+id.String(), nil, &j); err != nil {
			u.fail(w, r, err)
			return
		}
		out.Jobs = append(out.Jobs, j)
	}
	u.render(w, r, http.StatusOK, "imports", uiPage{Title: langOf(r).T("imports.title"), Data: out})
}

// uploadedFile reads the form's file field.
func uploadedFile(r *http.Request) ([]byte, error) {
	f, _, err := r.FormFile("file")
	if err != nil {
		return nil, errs.Field("file", "choose a file")
	}
	defer func() { _ = f.Close() }()
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read upload: %w", err)
	}
	return b, nil
}

// uploadImport is the import form: POST /imports/products with the file.
func (u *ui) uploadImport(w http.ResponseWriter, r *http.Request) {
	file, err := uploadedFile(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	var j importer.Job
	if _, err := u.adminAPI(r, "POST", "/imports/products", rawBody{file, "text/csv"}, &j); err != nil {
		u.fail(w, r, err)
		return
	}
	redirect(w, r, "/admin/imports/"+j.ID.String())
}

// importJobData is an import's progress page (and its polled fragment).
type importJobData struct {
	Job     importer.Job
	Running bool
	Percent int
}

func percent(done, total int) int {
	if total <= 0 {
		return 0
	}
	return min(100, done*100/total)
}

// importJob is an import's page; /progress is its polled fragment.
func (u *ui) importJob(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", uuid.Parse)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	var j importer.Job
	if _, err := u.adminAPI(r, "GET", "/imports/"+id.String(), nil, &j); err != nil {
		u.fail(w, r, err)
		return
	}
	d := importJobData{Job: j, Running: j.Status == "queued" || j.Status == "running", Percent: percent(j.ProcessedRows, j.TotalRows)}
	p := uiPage{Title: langOf(r).T("imports.title"), Data: d}
	if isPoll(r) {
		u.renderPart(w, r, "import", "job", p)
		return
	}
	u.render(w, r, http.StatusOK, "import", p)
}

// --- staff

// staffData is the staff page.
type staffData struct {
	Staff    []tenancy.StaffView
	Vendors  []tenancy.VendorView
	Roles    []string
	CanEdit  bool
	Self     uuid.UUID
	Invited  string // the e-mail of the member just invited
	Password string // their initial password, shown once
}

var staffRoles = []string{"owner", "admin", "operator", "finance", "vendor", "viewer"}

func (u *ui) staffData(r *http.Request) (staffData, error) {
	c := callerFrom(r.Context())
	d := staffData{Roles: staffRoles, CanEdit: allowed(c, permStaffWrite), Self: c.Staff.UUID}
	var l projections.List[tenancy.StaffView]
	if _, err := u.adminAPI(r, "GET", "/staff?limit="+strconv.Itoa(projections.MaxLimit), nil, &l); err != nil {
		return d, err
	}
	d.Staff = l.Items
	_, vendors, err := u.vendorNames(r)
	if err != nil {
		return d, err
	}
	for _, v := range vendors {
		if !v.Implicit {
			d.Vendors = append(d.Vendors, v)
		}
	}
	return d, nil
}

func (u *ui) staffPage(w http.ResponseWriter, r *http.Request) {
	d, err := u.staffData(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.render(w, r, http.StatusOK, "staff", uiPage{Title: langOf(r).T("staff.title"), Data: d})
}

// inviteStaff is the invite form: POST /staff. The server-chosen initial
// password is shown once, on the page the form answers with.
func (u *ui) inviteStaff(w http.ResponseWriter, r *http.Request) {
	body := map[string]any{"email": strings.TrimSpace(r.PostFormValue("email")), "name": strings.TrimSpace(r.PostFormValue("name")),
		"role": r.PostFormValue("role")}
	if v := r.PostFormValue("vendor_id"); v != "" && r.PostFormValue("role") == "vendor" {
		body["vendor_id"] = v
	}
	var created staffCreated
	res, err := u.adminAPI(r, "POST", "/staff", body, &created)
	d, derr := u.staffData(r)
	if derr != nil {
		u.fail(w, r, derr)
		return
	}
	if err != nil {
		u.formError(w, r, err, "staff", uiPage{Title: langOf(r).T("staff.title"), Data: d})
		return
	}
	if res.position != "" {
		if pos, err := eventstore.ParseToken(res.position); err == nil {
			wctx, cancel := context.WithTimeout(r.Context(), u.s.Config.ConsistencyWait)
			_ = u.s.waitFor(wctx, pos)
			cancel()
		}
		if d, err = u.staffData(r); err != nil {
			u.fail(w, r, err)
			return
		}
	}
	d.Invited, d.Password = created.Email, created.InitialPassword
	u.render(w, r, http.StatusOK, "staff", uiPage{Title: langOf(r).T("staff.title"), Flash: langOf(r).T("flash.invited"), Data: d})
}

// changeStaff is a staff row's forms: PATCH /staff/{id} with the new role
// (and vendor), or status disabled/active.
func (u *ui) changeStaff(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", uuid.Parse)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	body := map[string]any{}
	flash := "flash.saved"
	switch r.PostFormValue("action") {
	case "role":
		body["role"] = r.PostFormValue("role")
		if v := r.PostFormValue("vendor_id"); v != "" && r.PostFormValue("role") == "vendor" {
			body["vendor_id"] = v
		}
	case "deactivate":
		body["status"], flash = "disabled", "flash.deactivated"
	case "activate":
		body["status"] = "active"
	default:
		u.fail(w, r, errs.Field("action", "must be role, deactivate or activate"))
		return
	}
	res, err := u.adminAPI(r, "PATCH", "/staff/"+id.String(), body, nil)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.after(w, r, res, "/admin/staff", flash)
}

// --- settings

// settingsData is the settings form.
type settingsData struct {
	S       tenant.Settings
	Bank    tenant.BankAccount
	Tiers   []tenant.CODTier
	CanEdit bool
	CmdID   string
}

func (u *ui) settingsData(r *http.Request, st tenant.Settings) settingsData {
	d := settingsData{S: st, CanEdit: allowed(callerFrom(r.Context()), permSettingsWrite), CmdID: newCmd()}
	if st.BankAccount != nil {
		d.Bank = *st.BankAccount
	}
	d.Tiers = append(d.Tiers, st.CODFees...)
	cur := st.ShippingFee.Currency()
	if cur == "" {
		cur = money.JPY
	}
	for range 2 { // room for new tiers
		d.Tiers = append(d.Tiers, tenant.CODTier{UpTo: money.Zero(cur), Fee: money.Zero(cur)})
	}
	return d
}

func (u *ui) settingsPage(w http.ResponseWriter, r *http.Request) {
	var st tenant.Settings
	if _, err := u.adminAPI(r, "GET", "/settings", nil, &st); err != nil {
		u.fail(w, r, err)
		return
	}
	u.render(w, r, http.StatusOK, "settings", uiPage{Title: langOf(r).T("settings.title"), Data: u.settingsData(r, st)})
}

// saveSettings is the settings form: a merge patch (PATCH /settings) of
// the bank account, deadlines, shipping and COD fees, and the stock hold.
func (u *ui) saveSettings(w http.ResponseWriter, r *http.Request) {
	var cur tenant.Settings
	if _, err := u.adminAPI(r, "GET", "/settings", nil, &cur); err != nil {
		u.fail(w, r, err)
		return
	}
	c := cur.ShippingFee.Currency()
	if c == "" {
		c = money.JPY
	}
	var fe errs.Collector
	patch := map[string]any{}
	bank := map[string]string{}
	given := false
	for _, k := range []string{"bank_name", "bank_code", "branch_name", "branch_code", "account_type", "account_number", "account_holder"} {
		bank[k] = strings.TrimSpace(r.PostFormValue(k))
		if bank[k] != "" && k != "account_type" {
			given = true
		}
	}
	if given {
		patch["bank_account"] = bank
	}
	for _, k := range []string{"transfer_deadline_days", "payment_grace_hours", "reservation_ttl_minutes"} {
		if n := intParam(r, k, &fe); n != nil {
			patch[k] = *n
		}
	}
	for _, k := range []string{"shipping_fee", "free_shipping_over"} {
		if m := moneyParam(r, k, c, &fe); m != nil {
			patch[k] = *m
		}
	}
	ups, fees := r.PostForm["cod_up_to"], r.PostForm["cod_fee"]
	tiers := []tenant.CODTier{}
	for i := range ups {
		up := strings.ReplaceAll(strings.TrimSpace(ups[i]), ",", "")
		fee := ""
		if i < len(fees) {
			fee = strings.ReplaceAll(strings.TrimSpace(fees[i]), ",", "")
		}
		if (up == "" || up == "0") && (fee == "" || fee == "0") {
			continue
		}
		upM, err1 := money.Parse(up, c)
		feeM, err2 := money.Parse(fee, c)
		field := fmt.Sprintf("cod_fees[%d]", i)
		fe.Check(err1 == nil && err2 == nil, field, "needs an upper total and a fee in "+string(c))
		tiers = append(tiers, tenant.CODTier{UpTo: upM, Fee: feeM})
	}
	patch["cod_fees"] = tiers
	p := uiPage{Title: langOf(r).T("settings.title")}
	if err := fe.Err(); err != nil {
		p.Data = u.settingsData(r, cur)
		u.formError(w, r, err, "settings", p)
		return
	}
	res, err := u.adminAPI(r, "PATCH", "/settings", patch, nil)
	if err != nil {
		p.Data = u.settingsData(r, cur)
		u.formError(w, r, err, "settings", p)
		return
	}
	u.after(w, r, res, "/admin/settings", "flash.saved")
}

// newCmd is a fresh command id for a form.
func newCmd() string { return uuid.Must(uuid.NewV7()).String() }
