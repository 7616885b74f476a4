package http

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/aggregate"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/shipment"
	"github.com/honten/honten/domain/store"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/eventstore/bus"
	"github.com/honten/honten/internal/database"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/projections/orderviews"
	"github.com/honten/honten/projections/productviews"
	"github.com/honten/honten/projections/stocklevels"
	"github.com/honten/honten/projections/tenancy"
)

// uiRoute is one backoffice page or form action and the permission it
// needs: the same permissions (rolePerms) as the JSON routes it mirrors.
type uiRoute struct {
	method, pattern string
	perm            perm
	handler         http.HandlerFunc
}

func (u *ui) adminRoutes(r chi.Router) {
	r.Get("/admin", func(w http.ResponseWriter, r *http.Request) { redirect(w, r, "/admin/") })
	r.Get("/admin/signin", u.signInPage)
	r.Post("/admin/signin", u.signIn)
	r.Group(func(r chi.Router) {
		r.Use(u.withStaff)
		for _, rt := range append([]uiRoute{
			{"POST", "/admin/signout", permSelf, u.signOut},
			{"GET", "/admin/", permSelf, u.dashboard},
			{"GET", "/admin/orders", permOrdersRead, u.orders},
			{"GET", "/admin/orders/{id}", permOrdersRead, u.orderDetail},
			{"POST", "/admin/orders/{id}/confirm", permPaymentsWrite, u.confirmTransfer},
			{"POST", "/admin/orders/{id}/cancel", permOrdersCancel, u.cancelOrder},
			{"POST", "/admin/shipments/{id}/ship", permShipmentsWrite, u.ship},
			{"POST", "/admin/shipments/{id}/deliver", permShipmentsWrite, u.deliver},
			{"POST", "/admin/shipments/{id}/cod", permShipmentsWrite, u.collectCOD},
			{"GET", "/admin/products", permCatalogRead, u.products},
			{"GET", "/admin/products/{id}", permCatalogRead, u.productDetail},
			{"POST", "/admin/products/{id}", permCatalogWrite, u.saveProduct},
			{"POST", "/admin/variants/{id}", permCatalogWrite, u.saveVariant},
			{"POST", "/admin/stock", permInventoryWrite, u.setStock},
		}, u.backofficeRoutes()...) {
			r.With(u.requirePerm(rt.perm)).Method(rt.method, rt.pattern, rt.handler)
		}
	})
}

// withStaff authenticates the session cookie like withAuth does the bearer
// token (the cookie holds the same session token); without a valid one a
// page redirects to sign-in.
func (u *ui) withStaff(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := cookieValue(r, cookieSession)
		var p commands.Principal
		var err error = errs.Unauthenticatedf("sign in first")
		if token != "" && len(token) <= 256 {
			p, err = u.s.Commands.Authenticate(r.Context(), token)
		}
		if err != nil {
			if errs.KindOf(err) != errs.KindUnauthenticated {
				u.fail(w, r, err)
				return
			}
			setCookie(w, r, cookieSession, "", -1)
			if r.Method == http.MethodGet {
				redirect(w, r, "/admin/signin?back="+url.QueryEscape(r.URL.RequestURI()))
				return
			}
			u.fail(w, r, err)
			return
		}
		c := &caller{Principal: p, Acting: p.Tenant, Token: token}
		addLogAttrs(r.Context(), "tenant_id", c.Acting.String(), "staff_id", c.Staff.String())
		ctx := context.WithValue(r.Context(), keyPrincipal, c)
		ctx = context.WithValue(ctx, keyTenant, c.Acting)
		ctx = database.WithTenant(ctx, c.Acting.UUID)
		if r.Method == http.MethodPost {
			if id, ok := formCommandID(r); ok {
				ctx = context.WithValue(ctx, keyCommandID, id)
			}
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// requirePerm is requirePerm for pages: a 403 page.
func (u *ui) requirePerm(p perm) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c := callerFrom(r.Context())
			if !allowed(c, p) {
				u.fail(w, r, errs.Forbiddenf("your role ("+string(c.role())+") may not do this"))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// can reports whether the signed-in staff member holds permission p (pages
// hide the forms they could not use).
func can(r *http.Request, p string) bool {
	c := callerFrom(r.Context())
	return c != nil && allowed(c, perm(p))
}

func (u *ui) signInPage(w http.ResponseWriter, r *http.Request) {
	u.render(w, r, http.StatusOK, "signin", uiPage{Title: langOf(r).T("signin.title"), Data: map[string]string{
		"Back": localPath(r.URL.Query().Get("back"), "/admin/"), "Email": "", "Shop": ""}})
}

// signIn is the sign-in form: the same SignIn command as POST
// /api/v1/admin/session; the session token goes into an HttpOnly cookie.
func (u *ui) signIn(w http.ResponseWriter, r *http.Request) {
	email, password, shop := strings.TrimSpace(r.PostFormValue("email")), r.PostFormValue("password"), strings.TrimSpace(r.PostFormValue("shop"))
	back := localPath(r.PostFormValue("back"), "/admin/")
	data := map[string]string{"Back": back, "Email": email, "Shop": shop}
	again := func(err error) {
		msg := langOf(r).T("signin.failed")
		status := http.StatusUnauthorized
		if k := errs.KindOf(err); k != errs.KindUnauthenticated && k != errs.KindNotFound && k != errs.KindInvalid {
			if statusOf[k] == 0 || statusOf[k] >= 500 {
				logFrom(r.Context()).Error("sign in", "err", err)
				status = http.StatusInternalServerError
			} else {
				msg, _ = fieldErrors(err)
				status = statusOf[k]
			}
		}
		u.render(w, r, status, "signin", uiPage{Title: langOf(r).T("signin.title"), Error: msg, Data: data})
	}
	if email == "" || len(email) > 254 || password == "" || len(password) > 1024 {
		again(errs.Unauthenticatedf("e-mail and password are required"))
		return
	}
	var t tenant.ID
	if shop != "" {
		var err error
		if t, err = u.s.tenants.byCode(r.Context(), shop); err != nil {
			again(err)
			return
		}
	}
	sess, err := u.s.Commands.SignIn(r.Context(), commands.SignIn{Tenant: t, Email: email, Password: password, Client: u.s.clientIP(r)})
	if err != nil {
		again(err)
		return
	}
	setCookie(w, r, cookieSession, sess.Token, time.Until(sess.ExpiresAt))
	redirect(w, r, back)
}

func (u *ui) signOut(w http.ResponseWriter, r *http.Request) {
	if err := u.s.Commands.SignOut(r.Context(), callerFrom(r.Context()).Token); err != nil {
		u.fail(w, r, err)
		return
	}
	setCookie(w, r, cookieSession, "", -1)
	redirect(w, r, "/admin/signin")
}

// dashboardData is the dashboard: the day so far and what needs attention.
type dashboardData struct {
	Day       orderviews.Day
	Due       []orderviews.DueTransfer
	LowStock  []stocklevels.Level
	Poisoned  []bus.Poisoned
	Lag       []projections.TenantLag
	CanPoison bool
	CanOps    bool
}

func (u *ui) dashboard(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c := callerFrom(ctx)
	now := u.s.Now()
	y, m, d := now.In(jst).Date()
	var out dashboardData
	var err error
	if allowed(c, permOrdersRead) && c.vendorScope() == nil {
		if out.Day, err = orderviews.DaySince(ctx, u.s.Pool, c.Acting, time.Date(y, m, d, 0, 0, 0, 0, jst)); err != nil {
			u.fail(w, r, err)
			return
		}
		if out.Due, err = orderviews.TransfersDue(ctx, u.s.Pool, c.Acting, now.Add(48*time.Hour), 10); err != nil {
			u.fail(w, r, err)
			return
		}
	}
	if allowed(c, permInventoryRead) {
		if out.LowStock, err = stocklevels.Low(ctx, u.s.Pool, c.Acting, 3, c.vendorScope(), 10); err != nil {
			u.fail(w, r, err)
			return
		}
	}
	if out.CanPoison = allowed(c, permPoison); out.CanPoison {
		items, err := bus.ListPoisoned(ctx, u.s.Pool, poisonScope(c), 0, 10)
		if err != nil {
			u.fail(w, r, err)
			return
		}
		for _, p := range items {
			if p.ResolvedAt == nil {
				out.Poisoned = append(out.Poisoned, p)
			}
		}
	}
	if out.CanOps = allowed(c, permOperations) && u.s.Projections != nil; out.CanOps {
		if out.Lag, err = u.s.Projections.TenantLag(ctx, c.Acting); err != nil {
			u.fail(w, r, err)
			return
		}
	}
	u.render(w, r, http.StatusOK, "dashboard", uiPage{Title: langOf(r).T("dash.title"), Data: out})
}

// ordersData is one page of the orders list with its filter.
type ordersData struct {
	List  projections.List[orderviews.Summary]
	Query url.Values
	Next  string
}

// orders is the orders list: orderFilter and orderviews.List, as GET
// /api/v1/admin/orders, a keyset page at a time.
func (u *ui) orders(w http.ResponseWriter, r *http.Request) {
	c := callerFrom(r.Context())
	q := r.URL.Query()
	for _, k := range []string{"status", "payment_method", "q", "created_from", "created_to", "cursor"} {
		if q.Get(k) == "" {
			q.Del(k)
		}
	}
	r.URL.RawQuery = q.Encode()
	f, err := orderFilter(r, c.vendorScope())
	if err != nil {
		u.fail(w, r, err)
		return
	}
	p, err := page(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	if r.URL.Query().Get("limit") == "" {
		p.Limit = 50
	}
	l, err := orderviews.List(r.Context(), u.s.Pool, c.Acting, f, p)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	out := ordersData{List: l, Query: r.URL.Query()}
	if l.NextCursor != nil {
		nq := r.URL.Query()
		nq.Set("cursor", *l.NextCursor)
		out.Next = "/admin/orders?" + nq.Encode()
	}
	u.render(w, r, http.StatusOK, "orders", uiPage{Title: langOf(r).T("orders.title"), Data: out})
}

// timelineEntry is one event of an order's timeline (its own stream, its
// payment's and its shipments').
type timelineEntry struct {
	N        int
	Stream   string
	Version  int64
	Type     string
	Actor    string
	At       time.Time
	Position eventstore.Position
	Summary  string
}

// orderData is the order page.
type orderData struct {
	Order    orderviews.Detail
	Timeline []timelineEntry
	// AsOf, when not zero, is the event number the order is shown at,
	// folded from its own events up to that point.
	AsOf     int
	Then     *order.Order
	CanPay   bool
	CanShip  bool
	CanCncl  bool
	Now      string
	Today    string
	CmdID    string
	DueTotal string
}

func (u *ui) orderDetail(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c := callerFrom(ctx)
	id, err := pathID(r, "id", order.ParseID)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d, err := orderviews.Get(ctx, u.s.Pool, c.Acting, id.UUID, c.vendorScope())
	if err != nil {
		u.fail(w, r, err)
		return
	}
	out := orderData{Order: d, CanPay: allowed(c, permPaymentsWrite) && c.vendorScope() == nil,
		CanShip: allowed(c, permShipmentsWrite), CanCncl: allowed(c, permOrdersCancel),
		Today: u.s.Now().In(jst).Format(time.DateOnly), CmdID: uuid.Must(uuid.NewV7()).String()}
	for _, p := range d.Payments {
		if p.Method == string(order.PaymentBankTransfer) {
			out.DueTotal = p.BalanceDue.Amount().String()
		}
	}
	if allowed(c, permAuditRead) || c.vendorScope() == nil {
		tl, own, err := u.timeline(ctx, c.Acting, d)
		if err != nil {
			u.fail(w, r, err)
			return
		}
		out.Timeline = tl
		if at := r.URL.Query().Get("at"); at != "" {
			n, err := strconv.Atoi(at)
			if err != nil || n < 1 || n > len(own) {
				u.fail(w, r, errs.Field("at", "must be the number of one of the order's events"))
				return
			}
			evs := make([]aggregate.Event, 0, n)
			for _, e := range own[:n] {
				if ev, ok := e.Data.(aggregate.Event); ok {
					evs = append(evs, ev)
				}
			}
			out.AsOf, out.Then = n, order.FromHistory(evs)
		}
	}
	u.render(w, r, http.StatusOK, "order", uiPage{Title: d.Number, Data: out})
}

// timeline reads the events of the order's stream, its payments' and its
// shipments' streams, merged in the global order; own are the order
// stream's events (the ones an "as of" view folds).
func (u *ui) timeline(ctx context.Context, t tenant.ID, d orderviews.Detail) ([]timelineEntry, []eventstore.Envelope, error) {
	type stream struct {
		id   uuid.UUID
		kind string
	}
	streams := []stream{{d.ID, "order"}}
	for _, p := range d.Payments {
		streams = append(streams, stream{p.ID, "payment"})
	}
	for _, s := range d.Shipments {
		streams = append(streams, stream{s.ID, "shipment"})
	}
	var all []timelineEntry
	var own []eventstore.Envelope
	for _, st := range streams {
		envs, err := u.s.Store.Load(ctx, u.s.Pool, t, st.id)
		if err != nil && !errors.Is(err, eventstore.ErrNotFound) {
			return nil, nil, err
		}
		if st.kind == "order" {
			own = envs
		}
		for _, e := range envs {
			te := timelineEntry{Stream: st.kind, Version: e.Version, Type: e.Type, Actor: e.Actor, At: e.RecordedAt, Position: e.Position}
			if st.kind == "order" {
				te.N = int(e.Version)
			}
			te.Summary = eventSummary(e.Payload)
			all = append(all, te)
		}
	}
	slices.SortStableFunc(all, func(a, b timelineEntry) int {
		switch {
		case a.Position.Less(b.Position):
			return -1
		case b.Position.Less(a.Position):
			return 1
		}
		return 0
	})
	return all, own, nil
}

// eventSummary picks the few fields of an event worth a glance.
func eventSummary(payload json.RawMessage) string {
	var m map[string]any
	if json.Unmarshal(payload, &m) != nil {
		return ""
	}
	var parts []string
	for _, k := range []string{"from", "to", "reason", "carrier", "tracking_no", "reference", "status"} {
		if v, ok := m[k].(string); ok && v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	for _, k := range []string{"amount", "received"} {
		if v, ok := m[k].(map[string]any); ok {
			if a, ok := v["amount"].(string); ok {
				parts = append(parts, k+"="+a)
			}
		}
	}
	return strings.Join(parts, " ")
}

// act runs a form's command, waits for the read models to apply it, and
// sends the browser back to the order with a flash message (or renders the
// error).
func (u *ui) act(w http.ResponseWriter, r *http.Request, back, flash string, call func(ctx context.Context) (commands.Result, error)) {
	res, err := call(r.Context())
	if err != nil && !isDuplicate(err) {
		u.fail(w, r, err)
		return
	}
	if !res.Last.IsZero() {
		wctx, cancel := context.WithTimeout(r.Context(), u.s.Config.ConsistencyWait)
		_ = u.s.waitFor(wctx, res.Last)
		cancel()
	}
	redirect(w, r, back+"?flash="+flash)
}

func (u *ui) confirmTransfer(w http.ResponseWriter, r *http.Request) {
	c := callerFrom(r.Context())
	id, err := pathID(r, "id", order.ParseID)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d, err := orderviews.Get(r.Context(), u.s.Pool, c.Acting, id.UUID, c.vendorScope())
	if err != nil {
		u.fail(w, r, err)
		return
	}
	amount, err := money.Parse(strings.TrimSpace(r.PostFormValue("amount")), d.Totals.Total.Currency())
	if err != nil {
		u.fail(w, r, errs.Field("amount", "must be an amount in "+string(d.Totals.Total.Currency())))
		return
	}
	cmd := commands.ConfirmPayment{Tenant: c.Acting, By: c.by(r), Order: id, Amount: amount, Reference: strings.TrimSpace(r.PostFormValue("reference"))}
	if day := r.PostFormValue("received_at"); day != "" {
		t, err := time.ParseInLocation(time.DateOnly, day, jst)
		if err != nil {
			u.fail(w, r, errs.Field("received_at", "must be a date (YYYY-MM-DD)"))
			return
		}
		cmd.ReceivedAt = t
	}
	u.act(w, r, "/admin/orders/"+id.String(), "flash.confirmed", func(ctx context.Context) (commands.Result, error) {
		return u.s.Commands.ConfirmPayment(ctx, cmd)
	})
}

func (u *ui) cancelOrder(w http.ResponseWriter, r *http.Request) {
	c := callerFrom(r.Context())
	id, err := pathID(r, "id", order.ParseID)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	cmd, err := cancelRequest{Reason: strings.TrimSpace(r.PostFormValue("reason"))}.toCommand(c, r, id)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.act(w, r, "/admin/orders/"+id.String(), "flash.cancelled", func(ctx context.Context) (commands.Result, error) {
		return u.s.Commands.CancelOrder(ctx, cmd)
	})
}

// shipmentOrder reads the shipment a form acts on (for the page to go back to).
func (u *ui) shipmentOrder(w http.ResponseWriter, r *http.Request) (shipment.ID, orderviews.Shipment, bool) {
	c := callerFrom(r.Context())
	id, err := pathID(r, "id", shipment.ParseID)
	if err != nil {
		u.fail(w, r, err)
		return id, orderviews.Shipment{}, false
	}
	sh, err := orderviews.GetShipment(r.Context(), u.s.Pool, c.Acting, id.UUID, c.vendorScope())
	if err != nil {
		u.fail(w, r, err)
		return id, sh, false
	}
	return id, sh, true
}

func (u *ui) ship(w http.ResponseWriter, r *http.Request) {
	id, sh, ok := u.shipmentOrder(w, r)
	if !ok {
		return
	}
	c := callerFrom(r.Context())
	cmd := commands.ShipShipment{Tenant: c.Acting, By: c.by(r), VendorScope: c.vendorScope(), Shipment: id,
		Carrier: strings.TrimSpace(r.PostFormValue("carrier")), TrackingNo: strings.TrimSpace(r.PostFormValue("tracking_no"))}
	u.act(w, r, "/admin/orders/"+sh.OrderID.String(), "flash.shipped", func(ctx context.Context) (commands.Result, error) {
		return u.s.Commands.ShipShipment(ctx, cmd)
	})
}

func (u *ui) deliver(w http.ResponseWriter, r *http.Request) {
	id, sh, ok := u.shipmentOrder(w, r)
	if !ok {
		return
	}
	c := callerFrom(r.Context())
	cmd := commands.DeliverShipment{Tenant: c.Acting, By: c.by(r), VendorScope: c.vendorScope(), Shipment: id}
	u.act(w, r, "/admin/orders/"+sh.OrderID.String(), "flash.delivered", func(ctx context.Context) (commands.Result, error) {
		return u.s.Commands.DeliverShipment(ctx, cmd)
	})
}

func (u *ui) collectCOD(w http.ResponseWriter, r *http.Request) {
	id, sh, ok := u.shipmentOrder(w, r)
	if !ok {
		return
	}
	amount, err := money.Parse(strings.TrimSpace(r.PostFormValue("amount")), sh.CODAmount.Currency())
	if err != nil {
		u.fail(w, r, errs.Field("amount", "must be an amount in "+string(sh.CODAmount.Currency())))
		return
	}
	c := callerFrom(r.Context())
	cmd := commands.CollectCOD{Tenant: c.Acting, By: c.by(r), VendorScope: c.vendorScope(), Shipment: id, Amount: amount}
	u.act(w, r, "/admin/orders/"+sh.OrderID.String(), "flash.cod", func(ctx context.Context) (commands.Result, error) {
		return u.s.Commands.CollectCOD(ctx, cmd)
	})
}

// productDoc is the part of a product document the pages show.
type productDoc struct {
	ID          uuid.UUID `json:"id"`
	Title       string    `json:"title"`
	Handle      string    `json:"handle"`
	Description string    `json:"description"`
	Status      string    `json:"status"`
	Categories  []struct {
		Handle string `json:"handle"`
		Name   string `json:"name"`
	} `json:"categories"`
	LocationIDs []uuid.UUID  `json:"location_ids"`
	Variants    []variantDoc `json:"variants"`
}

// variantDoc is a variant of a product document.
type variantDoc struct {
	ID        uuid.UUID   `json:"id"`
	SKU       string      `json:"sku"`
	Title     string      `json:"title"`
	Price     money.Money `json:"price"`
	Status    string      `json:"status"`
	IsHot     bool        `json:"is_hot"`
	Available *int64      `json:"available"`
	InStock   *bool       `json:"in_stock"`
	// Stock is filled by the admin page: the levels per location.
	Stock []stockRow `json:"-"`
}

// stockRow is a variant's stock at one location.
type stockRow struct {
	Location tenancy.LocationView
	Level    stocklevels.Level
}

type productsData struct {
	Items  []productDoc
	Next   string
	Status string
}

// products is the products list: productFilter and productviews.List, as
// GET /api/v1/admin/products.
func (u *ui) products(w http.ResponseWriter, r *http.Request) {
	c := callerFrom(r.Context())
	f, err := productFilter(r, c.vendorScope())
	if err != nil {
		u.fail(w, r, err)
		return
	}
	p, err := page(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	if r.URL.Query().Get("limit") == "" {
		p.Limit = 50
	}
	l, err := productviews.List(r.Context(), u.s.Pool, c.Acting, f, p, false)
	if err != nil {
		if errors.Is(err, productviews.ErrUnknownCategory) {
			err = errs.Field("category", "is not a category of this shop")
		}
		u.fail(w, r, err)
		return
	}
	out := productsData{Status: f.Status}
	for _, raw := range l.Items {
		var d productDoc
		if err := json.Unmarshal(raw, &d); err != nil {
			u.fail(w, r, err)
			return
		}
		out.Items = append(out.Items, d)
	}
	if l.NextCursor != nil {
		nq := r.URL.Query()
		nq.Set("cursor", *l.NextCursor)
		out.Next = "/admin/products?" + nq.Encode()
	}
	u.render(w, r, http.StatusOK, "products", uiPage{Title: langOf(r).T("products.title"), Data: out})
}

type productData struct {
	Product productDoc
	CanEdit bool
	CanStok bool
	CmdID   string
}

func (u *ui) productDetail(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c := callerFrom(ctx)
	id, err := pathID(r, "id", catalog.ParseProductID)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	p, err := u.s.adminProduct(ctx, c, id.UUID)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	var d productDoc
	if err := json.Unmarshal(p.Doc, &d); err != nil {
		u.fail(w, r, err)
		return
	}
	stores, err := tenancy.ListStores(ctx, u.s.Pool, c.Acting, projections.Page{Limit: projections.MaxLimit})
	if err != nil {
		u.fail(w, r, err)
		return
	}
	locs := map[uuid.UUID]tenancy.LocationView{}
	for _, st := range stores.Items {
		for _, l := range st.Locations {
			locs[l.ID] = l
		}
	}
	for i, v := range d.Variants {
		levels, err := stocklevels.List(ctx, u.s.Pool, c.Acting, stocklevels.Filter{Variant: &v.ID}, projections.Page{Limit: projections.MaxLimit})
		if err != nil {
			u.fail(w, r, err)
			return
		}
		have := map[uuid.UUID]bool{}
		for _, l := range levels.Items {
			have[l.LocationID] = true
			d.Variants[i].Stock = append(d.Variants[i].Stock, stockRow{Location: locs[l.LocationID], Level: l})
		}
		for _, lid := range d.LocationIDs {
			if !have[lid] {
				d.Variants[i].Stock = append(d.Variants[i].Stock, stockRow{Location: locs[lid], Level: stocklevels.Level{LocationID: lid}})
			}
		}
	}
	u.render(w, r, http.StatusOK, "product", uiPage{Title: d.Title, Data: productData{Product: d,
		CanEdit: allowed(c, permCatalogWrite), CanStok: allowed(c, permInventoryWrite), CmdID: uuid.Must(uuid.NewV7()).String()}})
}

// saveProduct is the product form: UpdateProduct, as PATCH /products/{id}.
func (u *ui) saveProduct(w http.ResponseWriter, r *http.Request) {
	c := callerFrom(r.Context())
	id, err := pathID(r, "id", catalog.ParseProductID)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	title, desc, status := r.PostFormValue("title"), r.PostFormValue("description"), r.PostFormValue("status")
	cmd := commands.UpdateProduct{Tenant: c.Acting, By: c.by(r), Product: id, VendorScope: c.vendorScope(),
		Title: &title, Description: &desc, Status: &status}
	u.act(w, r, "/admin/products/"+id.String(), "flash.saved", func(ctx context.Context) (commands.Result, error) {
		return u.s.Commands.UpdateProduct(ctx, cmd)
	})
}

// saveVariant is a variant's form: UpdateVariant, as PATCH /variants/{id}.
func (u *ui) saveVariant(w http.ResponseWriter, r *http.Request) {
	c := callerFrom(r.Context())
	id, err := pathID(r, "id", catalog.ParseVariantID)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	product, err := catalog.ParseProductID(r.PostFormValue("product_id"))
	if err != nil {
		u.fail(w, r, errs.Field("product_id", "must be the variant's product"))
		return
	}
	v, err := u.s.adminProduct(r.Context(), c, product.UUID)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	var d productDoc
	if err := json.Unmarshal(v.Doc, &d); err != nil {
		u.fail(w, r, err)
		return
	}
	cur := money.Currency("JPY")
	for _, vd := range d.Variants {
		if vd.ID == id.UUID {
			cur = vd.Price.Currency()
		}
	}
	price, err := money.Parse(strings.TrimSpace(r.PostFormValue("price")), cur)
	if err != nil {
		u.fail(w, r, errs.Field("price", "must be an amount in "+string(cur)))
		return
	}
	title, status, hot := r.PostFormValue("title"), r.PostFormValue("status"), r.PostFormValue("is_hot") == "on"
	cmd := commands.UpdateVariant{Tenant: c.Acting, By: c.by(r), Variant: id, VendorScope: c.vendorScope(),
		Title: &title, Price: &price, Status: &status, IsHot: &hot}
	u.act(w, r, "/admin/products/"+product.String(), "flash.saved", func(ctx context.Context) (commands.Result, error) {
		_, res, err := u.s.Commands.UpdateVariant(ctx, cmd)
		return res, err
	})
}

// setStock is a stock row's form: AdjustInventory with set, as POST
// /inventory/adjustments.
func (u *ui) setStock(w http.ResponseWriter, r *http.Request) {
	c := callerFrom(r.Context())
	variant, err := catalog.ParseVariantID(r.PostFormValue("variant_id"))
	if err != nil {
		u.fail(w, r, errs.Field("variant_id", "must be a variant id"))
		return
	}
	loc, err := store.ParseLocationID(r.PostFormValue("location_id"))
	if err != nil {
		u.fail(w, r, errs.Field("location_id", "must be a location id"))
		return
	}
	n, err := strconv.ParseInt(strings.TrimSpace(r.PostFormValue("on_hand")), 10, 64)
	if err != nil || n < 0 {
		u.fail(w, r, errs.Field("on_hand", "must be a whole number, 0 or more"))
		return
	}
	back := localPath(r.PostFormValue("back"), "/admin/products")
	cmd := commands.AdjustInventory{Tenant: c.Acting, By: c.by(r), VendorScope: c.vendorScope(), Variant: &variant, Location: loc, Set: &n, Reason: "backoffice"}
	u.act(w, r, back, "flash.saved", func(ctx context.Context) (commands.Result, error) {
		_, res, err := u.s.Commands.AdjustInventory(ctx, cmd)
		return res, err
	})
}
