package http

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/projections/customerviews"
	"github.com/honten/honten/projections/orderviews"
)

// --- customers

// customersData is the customers list with its search.
type customersData struct {
	Q     string
	Items []customerviews.Customer
	Next  string
}

// customersPage is the customers list: GET /customers?q=.
func (u *ui) customersPage(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	aq := url.Values{"limit": {"50"}}
	if q != "" {
		aq.Set("q", q)
	}
	if c := r.URL.Query().Get("cursor"); c != "" {
		aq.Set("cursor", c)
	}
	var l projections.List[customerviews.Customer]
	if _, err := u.adminAPI(r, "GET", "/customers?"+aq.Encode(), nil, &l); err != nil {
		u.fail(w, r, err)
		return
	}
	d := customersData{Q: q, Items: l.Items}
	if l.NextCursor != nil {
		d.Next = "/admin/customers?" + url.Values{"q": {q}, "cursor": {*l.NextCursor}}.Encode()
	}
	u.render(w, r, http.StatusOK, "customers", uiPage{Title: langOf(r).T("customers.title"), Data: d})
}

// customerData is a customer's page.
type customerData struct {
	C         customerDetail
	Orders    []orderviews.Summary
	CanForget bool
	CmdID     string
}

// customerPage is a customer, their addresses and timeline (GET
// /customers/{id}) and their latest orders.
func (u *ui) customerPage(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", uuid.Parse)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	c := callerFrom(r.Context())
	d := customerData{CanForget: allowed(c, permCustomersWrite), CmdID: newCmd()}
	if _, err := u.adminAPI(r, "GET", "/customers/"+id.String(), nil, &d.C); err != nil {
		u.fail(w, r, err)
		return
	}
	// The admin orders list has no customer filter; the page reads the
	// same query (orderviews.List) with the customer's.
	l, err := orderviews.List(r.Context(), u.s.Pool, c.Acting, orderviews.Filter{Customer: &id, Vendor: c.vendorScope()}, projections.Page{Limit: 50})
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d.Orders = l.Items
	u.render(w, r, http.StatusOK, "customer", uiPage{Title: d.C.Name, Data: d})
}

// forgetCustomer is the erase form: POST /customers/{id}/forget.
func (u *ui) forgetCustomer(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", uuid.Parse)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	if r.PostFormValue("confirm") != "on" {
		u.fail(w, r, errs.Field("confirm", "tick the box to confirm the erasure"))
		return
	}
	res, err := u.adminAPI(r, "POST", "/customers/"+id.String()+"/forget", map[string]any{}, nil)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.after(w, r, res, "/admin/customers/"+id.String(), "flash.forgotten")
}

// --- promotions

// promotionsData is the promotions list and the create form.
type promotionsData struct {
	Items   []promotionView
	Next    string
	CanEdit bool
	CmdID   string
}

func (u *ui) promotionsPage(w http.ResponseWriter, r *http.Request) {
	aq := url.Values{"limit": {"100"}}
	if c := r.URL.Query().Get("cursor"); c != "" {
		aq.Set("cursor", c)
	}
	var l projections.List[promotionView]
	if _, err := u.adminAPI(r, "GET", "/promotions?"+aq.Encode(), nil, &l); err != nil {
		u.fail(w, r, err)
		return
	}
	d := promotionsData{Items: l.Items, CanEdit: allowed(callerFrom(r.Context()), permPromotionsWrite), CmdID: newCmd()}
	if l.NextCursor != nil {
		d.Next = "/admin/promotions?" + url.Values{"cursor": {*l.NextCursor}}.Encode()
	}
	u.render(w, r, http.StatusOK, "promotions", uiPage{Title: langOf(r).T("promotions.title"), Data: d})
}

// createPromotion is the new-promotion form: POST /promotions. A coupon
// promotion lists its codes (one a line; none when they are to be
// generated); an automatic one applies to every qualifying cart.
func (u *ui) createPromotion(w http.ResponseWriter, r *http.Request) {
	cur, _, err := u.shopCurrency(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	var fe errs.Collector
	body := map[string]any{"title": strings.TrimSpace(r.PostFormValue("title")), "kind": r.PostFormValue("kind"),
		"combinable": r.PostFormValue("combinable") == "on"}
	if v := strings.TrimSpace(r.PostFormValue("value")); v != "" {
		d, err := decimal.NewFromString(v)
		fe.Check(err == nil, "value", "must be a number")
		body["value"] = d
	}
	if m := moneyParam(r, "min_subtotal", cur, &fe); m != nil {
		body["min_subtotal"] = *m
	}
	if t := dayParam(r, "starts_at", &fe); !t.IsZero() {
		body["starts_at"] = t
	}
	if t := dayParam(r, "ends_at", &fe); !t.IsZero() {
		body["ends_at"] = t.Add(24*time.Hour - time.Second)
	}
	if n := intParam(r, "usage_limit", &fe); n != nil {
		body["usage_limit"] = *n
	}
	if r.PostFormValue("coupon") == "on" {
		codes := []string{}
		for _, c := range strings.Split(r.PostFormValue("codes"), "\n") {
			if c = strings.TrimSpace(c); c != "" {
				codes = append(codes, c)
			}
		}
		body["codes"] = codes
	}
	if err := fe.Err(); err != nil {
		u.fail(w, r, err)
		return
	}
	var v promotionView
	if _, err := u.adminAPI(r, "POST", "/promotions", body, &v); err != nil {
		u.fail(w, r, err)
		return
	}
	redirect(w, r, "/admin/promotions/"+v.ID.String()+"?flash=flash.saved")
}

// promotionData is a promotion's page.
type promotionData struct {
	P       promotionView
	CanEdit bool
	CmdID   string
}

func (u *ui) promotionPage(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", uuid.Parse)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d := promotionData{CanEdit: allowed(callerFrom(r.Context()), permPromotionsWrite), CmdID: newCmd()}
	if _, err := u.adminAPI(r, "GET", "/promotions/"+id.String(), nil, &d.P); err != nil {
		u.fail(w, r, err)
		return
	}
	u.render(w, r, http.StatusOK, "promotion", uiPage{Title: d.P.Title, Data: d})
}

// generateCodes is the bulk codes form: POST /promotions/{id}/codes; the
// batch is written in the background, the CSV link lists what is written.
func (u *ui) generateCodes(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", uuid.Parse)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	var fe errs.Collector
	n := intParam(r, "count", &fe)
	fe.Check(n != nil, "count", "is required")
	if err := fe.Err(); err != nil {
		u.fail(w, r, err)
		return
	}
	var job commands.CodeJob
	res, err := u.adminAPI(r, "POST", "/promotions/"+id.String()+"/codes", map[string]any{"count": *n, "prefix": strings.TrimSpace(r.PostFormValue("prefix"))}, &job)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.after(w, r, res, "/admin/promotions/"+id.String(), "flash.codes_started")
}
