package http

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/honten/honten/commands/reconcile"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/projections/ledger"
	"github.com/honten/honten/projections/orderviews"
)

// --- ledger

// ledgerData is the trial balance page.
type ledgerData struct {
	TB      ledger.TrialBalance
	At      string
	Vendors map[string]string
}

// ledgerPage is the trial balance: GET /ledger/trial-balance?at=.
func (u *ui) ledgerPage(w http.ResponseWriter, r *http.Request) {
	at := strings.TrimSpace(r.URL.Query().Get("at"))
	path := "/ledger/trial-balance"
	if at != "" {
		path += "?at=" + url.QueryEscape(at)
	}
	d := ledgerData{At: at}
	if _, err := u.adminAPI(r, "GET", path, nil, &d.TB); err != nil {
		u.fail(w, r, err)
		return
	}
	names, _, err := u.vendorNames(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d.Vendors = names
	u.render(w, r, http.StatusOK, "ledger", uiPage{Title: langOf(r).T("ledger.title"), Data: d})
}

// --- payouts

// payoutsData is the payouts page: what each vendor is owed, and the runs.
type payoutsData struct {
	Balances []ledger.VendorBalance
	Vendors  map[string]string
	Runs     []ledger.Run
	CanRuns  bool
	CanPay   bool
	Today    string
	CmdID    string
}

func (u *ui) payoutsPage(w http.ResponseWriter, r *http.Request) {
	c := callerFrom(r.Context())
	d := payoutsData{CanRuns: allowed(c, permLedgerRead), CanPay: allowed(c, permPayoutsWrite),
		Today: u.s.Now().In(jst).Format(time.DateOnly), CmdID: newCmd()}
	var l projections.List[ledger.VendorBalance]
	if _, err := u.adminAPI(r, "GET", "/payouts?limit="+strconv.Itoa(projections.MaxLimit), nil, &l); err != nil {
		u.fail(w, r, err)
		return
	}
	d.Balances = l.Items
	var err error
	if d.Vendors, _, err = u.vendorNames(r); err != nil {
		u.fail(w, r, err)
		return
	}
	if d.CanRuns {
		var runs projections.List[ledger.Run]
		if _, err := u.adminAPI(r, "GET", "/payout-runs?limit=20", nil, &runs); err != nil {
			u.fail(w, r, err)
			return
		}
		d.Runs = runs.Items
	}
	u.render(w, r, http.StatusOK, "payouts", uiPage{Title: langOf(r).T("payouts.title"), Data: d})
}

// createPayoutRun is the payout run form: POST /payout-runs with the end
// of the period's day (JST) and the minimum amount.
func (u *ui) createPayoutRun(w http.ResponseWriter, r *http.Request) {
	cur, _, err := u.shopCurrency(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	var fe errs.Collector
	day := dayParam(r, "period_end", &fe)
	fe.Check(!day.IsZero(), "period_end", "is required")
	minAmount := moneyParam(r, "min_amount", cur, &fe)
	if err := fe.Err(); err != nil {
		u.fail(w, r, err)
		return
	}
	// The period ends with the chosen day (JST), or now when that is today.
	end := day.AddDate(0, 0, 1)
	if now := u.s.Now(); end.After(now) {
		end = now
	}
	body := map[string]any{"period_end": end}
	if minAmount != nil {
		body["min_amount"] = *minAmount
	}
	res, err := u.adminAPI(r, "POST", "/payout-runs", body, nil)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.after(w, r, res, "/admin/payouts", "flash.run_created")
}

// statementDoc is GET /payouts/{vendor_id}/statement.
type statementDoc struct {
	From    time.Time              `json:"from"`
	To      time.Time              `json:"to"`
	Opening ledger.Owed            `json:"opening"`
	Entries []ledger.StatementLine `json:"entries"`
	Closing ledger.Owed            `json:"closing"`
}

// vendorPayoutsData is one vendor's payouts page.
type vendorPayoutsData struct {
	Vendor    uuid.UUID
	Name      string
	Balance   *ledger.VendorBalance
	Entries   []ledger.Entry
	Next      string
	Statement statementDoc
	From, To  string
	CSV       string
	CanPay    bool
	Today     string
	CmdID     string
}

// vendorPayouts is a vendor's ledger entries and statement: GET
// /payouts/{vendor_id}/entries and /statement?from=&to=.
func (u *ui) vendorPayouts(w http.ResponseWriter, r *http.Request) {
	v, err := pathID(r, "vendor", uuid.Parse)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	d := vendorPayoutsData{Vendor: v, From: q.Get("from"), To: q.Get("to"), CanPay: allowed(callerFrom(r.Context()), permPayoutsWrite),
		Today: u.s.Now().In(jst).Format(time.DateOnly), CmdID: newCmd()}
	entries := "/payouts/" + v.String() + "/entries?limit=100"
	if cur := q.Get("cursor"); cur != "" {
		entries += "&cursor=" + url.QueryEscape(cur)
	}
	var l projections.List[ledger.Entry]
	if _, err := u.adminAPI(r, "GET", entries, nil, &l); err != nil {
		u.fail(w, r, err)
		return
	}
	d.Entries = l.Items
	if l.NextCursor != nil {
		nq := url.Values{"cursor": {*l.NextCursor}, "from": {d.From}, "to": {d.To}}
		d.Next = "/admin/payouts/" + v.String() + "?" + nq.Encode()
	}
	rng := url.Values{}
	if d.From != "" {
		rng.Set("from", d.From)
	}
	if d.To != "" {
		rng.Set("to", d.To)
	}
	sq := ""
	if len(rng) > 0 {
		sq = "?" + rng.Encode()
	}
	if _, err := u.adminAPI(r, "GET", "/payouts/"+v.String()+"/statement"+sq, nil, &d.Statement); err != nil {
		u.fail(w, r, err)
		return
	}
	d.CSV = "/admin/payouts/" + v.String() + "/statement.csv" + sq
	var bal projections.List[ledger.VendorBalance]
	if _, err := u.adminAPI(r, "GET", "/payouts?limit="+strconv.Itoa(projections.MaxLimit), nil, &bal); err != nil {
		u.fail(w, r, err)
		return
	}
	for i := range bal.Items {
		if bal.Items[i].Vendor == v {
			d.Balance = &bal.Items[i]
		}
	}
	names, _, err := u.vendorNames(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d.Name = names[v.String()]
	u.render(w, r, http.StatusOK, "payout", uiPage{Title: langOf(r).T("payouts.title") + " · " + d.Name, Data: d})
}

// recordPayout is the record-a-payout form: POST /payouts/{vendor_id}.
func (u *ui) recordPayout(w http.ResponseWriter, r *http.Request) {
	v, err := pathID(r, "vendor", uuid.Parse)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	cur, _, err := u.shopCurrency(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	var fe errs.Collector
	amount := moneyParam(r, "amount", cur, &fe)
	fe.Check(amount != nil, "amount", "is required")
	day := dayParam(r, "paid_at", &fe)
	fe.Check(!day.IsZero(), "paid_at", "is required")
	if err := fe.Err(); err != nil {
		u.fail(w, r, err)
		return
	}
	body := map[string]any{"amount": *amount, "paid_at": day, "reference": strings.TrimSpace(r.PostFormValue("reference"))}
	res, err := u.adminAPI(r, "POST", "/payouts/"+v.String(), body, nil)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.after(w, r, res, "/admin/payouts/"+v.String(), "flash.payout_recorded")
}

// --- bank statements

// statementsData is the bank statements page: the upload form and the
// latest imports.
type statementsData struct {
	Imports []reconcile.StatementView
	CmdID   string
}

func (u *ui) statementsPage(w http.ResponseWriter, r *http.Request) {
	ids, err := u.recentJobs(r.Context(), callerFrom(r.Context()).Acting, reconcile.KindStatement, 30)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d := statementsData{CmdID: newCmd()}
	for _, id := range ids {
		var v reconcile.StatementView
		if _, err := u.adminAPI(r, "GET", "/bank-statements/"+id.String(), nil, &v); err != nil {
			u.fail(w, r, err)
			return
		}
		d.Imports = append(d.Imports, v)
	}
	u.render(w, r, http.StatusOK, "statements", uiPage{Title: langOf(r).T("statements.title"), Data: d})
}

// uploadStatement is the statement upload form: POST /bank-statements
// with the file and its format (全銀 or a bank's CSV preset).
func (u *ui) uploadStatement(w http.ResponseWriter, r *http.Request) {
	file, err := uploadedFile(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	q := url.Values{}
	switch f := r.PostFormValue("format"); f {
	case "", reconcile.FormatZengin:
		q.Set("format", reconcile.FormatZengin)
	default:
		q.Set("format", reconcile.FormatCSV)
		q.Set("preset", f)
	}
	var v reconcile.StatementView
	if _, err := u.adminAPI(r, "POST", "/bank-statements?"+q.Encode(), rawBody{file, "application/octet-stream"}, &v); err != nil {
		u.fail(w, r, err)
		return
	}
	redirect(w, r, "/admin/statements/"+v.ID.String())
}

// statementData is a statement's page: its import and the lines of one
// status (the exceptions queue: unmatched, by default).
type statementData struct {
	S       reconcile.StatementView
	Running bool
	Percent int
	Status  string
	Lines   []reconcile.LineView
	Next    string
}

// statementPage is a statement import and its exceptions queue: GET
// /bank-statements/{id} and /lines?status=; /progress is the polled
// fragment while the import runs.
func (u *ui) statementPage(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", uuid.Parse)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d := statementData{Status: r.URL.Query().Get("status")}
	if d.Status == "" {
		d.Status = "unmatched"
	}
	if _, err := u.adminAPI(r, "GET", "/bank-statements/"+id.String(), nil, &d.S); err != nil {
		u.fail(w, r, err)
		return
	}
	d.Running, d.Percent = d.S.Status == "queued" || d.S.Status == "running", percent(d.S.ProcessedLines, d.S.TotalLines)
	p := uiPage{Title: langOf(r).T("statements.title"), Data: &d}
	if isPoll(r) {
		u.renderPart(w, r, "statement", "progress", p)
		return
	}
	lq := url.Values{"limit": {"100"}}
	if d.Status != "all" {
		lq.Set("status", d.Status)
	}
	if c := r.URL.Query().Get("cursor"); c != "" {
		lq.Set("cursor", c)
	}
	var l projections.List[reconcile.LineView]
	if _, err := u.adminAPI(r, "GET", "/bank-statements/"+id.String()+"/lines?"+lq.Encode(), nil, &l); err != nil {
		u.fail(w, r, err)
		return
	}
	d.Lines = l.Items
	if l.NextCursor != nil {
		d.Next = "/admin/statements/" + id.String() + "?" + url.Values{"status": {d.Status}, "cursor": {*l.NextCursor}}.Encode()
	}
	u.render(w, r, http.StatusOK, "statement", p)
}

// lineBack is where a line's form returns: its statement's queue.
func lineBack(r *http.Request) string {
	return localPath(r.PostFormValue("back"), "/admin/statements")
}

// matchLine is a line's match form: POST /bank-statement-lines/{id}/match
// with the order chosen among the suggestions or typed by its number.
func (u *ui) matchLine(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", uuid.Parse)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	oid := strings.TrimSpace(r.PostFormValue("order_id"))
	if n := strings.TrimSpace(r.PostFormValue("order_number")); n != "" {
		if oid, err = u.orderByNumber(r, n); err != nil {
			u.fail(w, r, err)
			return
		}
	}
	if oid == "" {
		u.fail(w, r, errs.Field("order_id", "choose a suggested order or type an order number"))
		return
	}
	res, err := u.adminAPI(r, "POST", "/bank-statement-lines/"+id.String()+"/match", map[string]string{"order_id": oid}, nil)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.after(w, r, res, lineBack(r), "flash.matched")
}

// orderByNumber finds an order by its exact number through the orders
// list's search (GET /orders?q=).
func (u *ui) orderByNumber(r *http.Request, number string) (string, error) {
	var l projections.List[orderviews.Summary]
	if _, err := u.adminAPI(r, "GET", "/orders?limit=100&q="+url.QueryEscape(number), nil, &l); err != nil {
		return "", err
	}
	for _, o := range l.Items {
		if strings.EqualFold(o.Number, number) {
			return o.ID.String(), nil
		}
	}
	return "", errs.Field("order_number", "no order has this number")
}

// ignoreLine is a line's ignore form: POST /bank-statement-lines/{id}/ignore.
func (u *ui) ignoreLine(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", uuid.Parse)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	res, err := u.adminAPI(r, "POST", "/bank-statement-lines/"+id.String()+"/ignore", map[string]string{"reason": strings.TrimSpace(r.PostFormValue("reason"))}, nil)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.after(w, r, res, lineBack(r), "flash.ignored")
}
