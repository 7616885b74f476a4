package http

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/projections/orderviews"
	"github.com/honten/honten/search"
)

func (u *ui) storeRoutes(r chi.Router) {
	r.Get("/", u.storeHome)
	r.Get("/search", u.storeHome)
	r.Get("/c/{handle}", u.storeHome)
	r.Get("/p/{handle}", u.storeProduct)
	r.Get("/cart", u.storeCart)
	r.Post("/cart/items", u.storeAdd)
	r.Post("/cart/items/{line}", u.storeChange)
	r.Get("/checkout", u.storeCheckoutPage)
	r.Post("/checkout", u.storeCheckout)
	r.Get("/order/{id}", u.storeOrder)
}

// recorder is an in-process response.
type apiRecorder struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func (rec *apiRecorder) Header() http.Header         { return rec.h }
func (rec *apiRecorder) Write(b []byte) (int, error) { return rec.body.Write(b) }
func (rec *apiRecorder) WriteHeader(status int) {
	if rec.status == 0 {
		rec.status = status
	}
}

// api calls the storefront JSON API in process, as the shop's own front end
// would over the network: the same routes, validation, idempotency and
// limits. A problem answer comes back as the errs error it stands for.
// apiResult is an in-process API answer's status and, for a command, the
// position of its last event (X-Event-Position).
type apiResult struct {
	status   int
	position string
}

func (u *ui) api(r *http.Request, method, path string, body any, header map[string]string, out any) (apiResult, error) {
	var rd io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return apiResult{}, err
		}
		rd = bytes.NewReader(b)
	}
	// A fresh routing context: the API router must not reuse the page's.
	ctx := context.WithValue(r.Context(), chi.RouteCtxKey, (*chi.Context)(nil))
	req, err := http.NewRequestWithContext(ctx, method, "/api/v1/store"+path, rd)
	if err != nil {
		return apiResult{}, err
	}
	req.Host, req.RemoteAddr = r.Host, r.RemoteAddr
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	if code := u.shopCode(r); code != "" {
		req.Header.Set("X-Tenant", code)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := &apiRecorder{h: http.Header{}}
	u.s.router.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	if rec.status >= 400 {
		var p Problem
		_ = json.Unmarshal(rec.body.Bytes(), &p)
		return apiResult{rec.status, rec.h.Get("X-Event-Position")}, problemError(p, rec.status)
	}
	if out != nil {
		if err := json.Unmarshal(rec.body.Bytes(), out); err != nil {
			return apiResult{rec.status, rec.h.Get("X-Event-Position")}, err
		}
	}
	return apiResult{rec.status, rec.h.Get("X-Event-Position")}, nil
}

// problemError turns a problem answer back into the error it reports.
func problemError(p Problem, status int) error {
	for k, s := range statusOf {
		if s == status && k != errs.KindInternal {
			e := errs.New(k, p.Code, p.Detail)
			e.Fields = p.Errors
			return e
		}
	}
	return errs.New(errs.KindInternal, "", p.Detail)
}

// shopCode is the shop the storefront shows: ?shop= (remembered in a
// cookie), else the configured storefront shop; empty lets the API pick
// (the host's shop, or the only one).
func (u *ui) shopCode(r *http.Request) string {
	if c := cookieValue(r, cookieShop); c != "" && len(c) <= 64 {
		return c
	}
	return u.s.Config.StorefrontShop
}

// storeHomeData is the catalog page: search results with facets.
type storeHomeData struct {
	Q        string
	Category string
	InStock  bool
	Result   search.Result
	Products []productDoc
	Searched bool
	Query    url.Values
}

// storeHome is the home, search and category pages: GET /store/search
// (facets, typo tolerance) with the category of /c/{handle}; without a
// search index, the product list.
func (u *ui) storeHome(w http.ResponseWriter, r *http.Request) {
	if shop := r.URL.Query().Get("shop"); shop != "" && len(shop) <= 64 {
		setCookie(w, r, cookieShop, shop, 30*24*time.Hour)
		r.AddCookie(&http.Cookie{Name: cookieShop, Value: shop})
	}
	q := url.Values{}
	d := storeHomeData{Q: strings.TrimSpace(r.URL.Query().Get("q")), Category: chi.URLParam(r, "handle")}
	if d.Category == "" {
		d.Category = r.URL.Query().Get("category")
	}
	d.InStock = r.URL.Query().Get("in_stock") == "true"
	for k, v := range map[string]string{"q": d.Q, "category": d.Category, "vendor": r.URL.Query().Get("vendor"), "sort": r.URL.Query().Get("sort"),
		"price_min": r.URL.Query().Get("price_min"), "price_max": r.URL.Query().Get("price_max")} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if d.InStock {
		q.Set("in_stock", "true")
	}
	q.Set("limit", "24")
	d.Query = q
	if u.s.Search != nil {
		if _, err := u.api(r, "GET", "/search?"+q.Encode(), nil, nil, &d.Result); err != nil {
			u.fail(w, r, err)
			return
		}
		d.Searched = true
	} else {
		var l struct {
			Items []productDoc `json:"items"`
		}
		lq := url.Values{"limit": {"24"}}
		if d.Category != "" {
			lq.Set("category", d.Category)
		}
		if _, err := u.api(r, "GET", "/products?"+lq.Encode(), nil, nil, &l); err != nil {
			u.fail(w, r, err)
			return
		}
		d.Products = l.Items
	}
	u.render(w, r, http.StatusOK, "store_home", uiPage{Title: langOf(r).T("app.store"), Data: d})
}

type storeProductData struct {
	Product productDoc
	CSRF    string
}

func (u *ui) storeProduct(w http.ResponseWriter, r *http.Request) {
	var p productDoc
	if _, err := u.api(r, "GET", "/products/"+url.PathEscape(chi.URLParam(r, "handle")), nil, nil, &p); err != nil {
		u.fail(w, r, err)
		return
	}
	u.render(w, r, http.StatusOK, "store_product", uiPage{Title: p.Title, Data: storeProductData{Product: p}})
}

// cartRef reads the cart cookie: "<id>.<token>".
func cartRef(r *http.Request) (string, string, bool) {
	id, token, ok := strings.Cut(cookieValue(r, cookieCart), ".")
	if !ok || len(id) != 36 || token == "" || len(token) > 100 {
		return "", "", false
	}
	return id, token, true
}

func (u *ui) storeAdd(w http.ResponseWriter, r *http.Request) {
	variant, err := uuid.Parse(r.PostFormValue("variant_id"))
	if err != nil {
		u.fail(w, r, errs.Field("variant_id", "choose a variant"))
		return
	}
	qty, err := strconv.ParseInt(r.PostFormValue("quantity"), 10, 64)
	if err != nil {
		u.fail(w, r, errs.Field("quantity", "must be a whole number"))
		return
	}
	id, token, ok := cartRef(r)
	add := func() (apiResult, error) {
		return u.api(r, "POST", "/carts/"+id+"/items?wait=2000", map[string]any{"variant_id": variant, "quantity": qty},
			map[string]string{"X-Cart-Token": token}, nil)
	}
	var res apiResult
	if ok {
		res, err = add()
	}
	if !ok || errs.KindOf(err) == errs.KindNotFound && strings.Contains(errCode(err), "cart") || errCode(err) == "cart_closed" {
		var c cartView
		if _, err = u.api(r, "POST", "/carts", nil, nil, &c); err != nil {
			u.fail(w, r, err)
			return
		}
		id, token = c.ID.String(), c.Token
		setCookie(w, r, cookieCart, id+"."+token, 7*24*time.Hour)
		res, err = add()
	}
	if err != nil {
		u.fail(w, r, err)
		return
	}
	redirect(w, r, cartAt(res.position))
}

func errCode(err error) string {
	if e, ok := errs.As(err); ok {
		return e.Code
	}
	return ""
}

func (u *ui) storeChange(w http.ResponseWriter, r *http.Request) {
	id, token, ok := cartRef(r)
	if !ok {
		redirect(w, r, "/cart")
		return
	}
	line := chi.URLParam(r, "line")
	if _, err := uuid.Parse(line); err != nil {
		u.fail(w, r, errs.NotFoundf("line"))
		return
	}
	qty, err := strconv.ParseInt(r.PostFormValue("quantity"), 10, 64)
	if r.PostFormValue("remove") != "" {
		qty, err = 0, nil
	}
	if err != nil {
		u.fail(w, r, errs.Field("quantity", "must be a whole number"))
		return
	}
	res, err := u.api(r, "PATCH", "/carts/"+id+"/items/"+line, map[string]any{"quantity": qty}, map[string]string{"X-Cart-Token": token}, nil)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	redirect(w, r, cartAt(res.position))
}

// storeCartData is the cart page.
type storeCartData struct {
	Cart     *cartView
	Checkout bool
}

// cartAt is the cart page as of a cart change: it reads the cart once the
// read model has applied the change (X-Min-Position).
func cartAt(position string) string {
	if position == "" {
		return "/cart"
	}
	return "/cart?at=" + url.QueryEscape(position)
}

// readUICart reads the browser's cart (nil when it has none), after the
// change ?at= names when there is one.
func (u *ui) readUICart(r *http.Request) (*cartView, error) {
	id, token, ok := cartRef(r)
	if !ok {
		return nil, nil
	}
	h := map[string]string{"X-Cart-Token": token}
	if at := r.URL.Query().Get("at"); at != "" && len(at) <= 200 {
		h["X-Min-Position"] = at
	}
	var c cartView
	_, err := u.api(r, "GET", "/carts/"+id, nil, h, &c)
	if errs.KindOf(err) == errs.KindNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if c.Status != "open" {
		return nil, nil
	}
	return &c, nil
}

func (u *ui) storeCart(w http.ResponseWriter, r *http.Request) {
	c, err := u.readUICart(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d := storeCartData{Cart: c}
	if c != nil && len(c.Lines) > 0 {
		d.Checkout = true
		for _, l := range c.Lines {
			if l.Reservation.Status != "reserved" && l.Reservation.Status != "not_required" {
				d.Checkout = false
			}
		}
	}
	u.render(w, r, http.StatusOK, "store_cart", uiPage{Title: langOf(r).T("cart.title"), Data: d})
}

// checkoutForm is the checkout form's values.
type checkoutForm struct {
	Cart *cartView
	In   checkoutRequest
	Key  string
}

func (u *ui) storeCheckoutPage(w http.ResponseWriter, r *http.Request) {
	c, err := u.readUICart(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	if c == nil || len(c.Lines) == 0 {
		redirect(w, r, "/cart")
		return
	}
	u.render(w, r, http.StatusOK, "store_checkout", uiPage{Title: langOf(r).T("checkout.title"),
		Data: checkoutForm{Cart: c, In: checkoutRequest{PaymentMethod: "bank_transfer"}, Key: uuid.Must(uuid.NewV7()).String()}})
}

// storeCheckout is the checkout form: POST /carts/{id}/checkout with the
// form's Idempotency-Key (a resubmitted form places one order).
func (u *ui) storeCheckout(w http.ResponseWriter, r *http.Request) {
	id, token, ok := cartRef(r)
	if !ok {
		redirect(w, r, "/cart")
		return
	}
	f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	in := checkoutRequest{Email: f("email"), Name: f("name"), Phone: f("phone"), PaymentMethod: f("payment_method"), Note: f("note"),
		ShippingAddress: order.Address{PostalCode: f("postal_code"), Prefecture: f("prefecture"), City: f("city"), Line1: f("line1"), Line2: f("line2")}}
	key := f("key")
	if _, err := uuid.Parse(key); err != nil {
		key = uuid.Must(uuid.NewV7()).String()
	}
	var out checkoutResponse
	res, err := u.api(r, "POST", "/carts/"+id+"/checkout", in, map[string]string{"X-Cart-Token": token, "Idempotency-Key": key}, &out)
	if err != nil {
		if k := errs.KindOf(err); k == errs.KindInvalid || k == errs.KindConflict || k == errs.KindMalformed {
			c, cerr := u.readUICart(r)
			if cerr != nil {
				u.fail(w, r, cerr)
				return
			}
			msg, fields := fieldErrors(err)
			u.render(w, r, statusOf[k], "store_checkout", uiPage{Title: langOf(r).T("checkout.title"), Error: msg, Fields: fields,
				Data: checkoutForm{Cart: c, In: in, Key: key}})
			return
		}
		u.fail(w, r, err)
		return
	}
	setCookie(w, r, cookieCart, "", -1)
	setCookie(w, r, cookieOrder, out.OrderID.String()+"."+out.AccessToken, 30*24*time.Hour)
	to := "/order/" + out.OrderID.String()
	if res.position != "" {
		to += "?at=" + url.QueryEscape(res.position)
	}
	redirect(w, r, to)
}

// storeOrderData is the order status page.
type storeOrderData struct {
	Order   orderviews.BuyerOrder
	Account map[string]any
}

func (u *ui) storeOrder(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	token := r.URL.Query().Get("token")
	if cid, ct, ok := strings.Cut(cookieValue(r, cookieOrder), "."); ok && cid == id && token == "" {
		token = ct
	}
	h := map[string]string{"X-Order-Token": token}
	if at := r.URL.Query().Get("at"); at != "" && len(at) <= 200 {
		h["X-Min-Position"] = at // just placed: read it once the read model has it
	}
	var d storeOrderData
	if _, err := u.api(r, "GET", "/orders/"+url.PathEscape(id), nil, h, &d.Order); err != nil {
		u.fail(w, r, err)
		return
	}
	if d.Order.Payment != nil && len(d.Order.Payment.BankAccount) > 0 {
		_ = json.Unmarshal(d.Order.Payment.BankAccount, &d.Account)
	}
	u.render(w, r, http.StatusOK, "store_order", uiPage{Title: langOf(r).T("status.title"), Data: d})
}
