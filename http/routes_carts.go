package http

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/commands/reservations"
	"github.com/honten/honten/domain/cart"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/checkout"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/projections/cartviews"
	"github.com/honten/honten/projections/tenancy"
)

func (s *Server) cartRoutes() []storeRoute {
	return []storeRoute{
		{"POST", "/carts", s.createCart, false},
		{"GET", "/carts/{id}", s.getCart, false},
		{"POST", "/carts/{id}/items", s.addCartItem, false},
		{"PATCH", "/carts/{id}/items/{line_id}", s.changeCartItem, false},
		{"DELETE", "/carts/{id}/items/{line_id}", s.removeCartItem, false},
		{"POST", "/carts/{id}/checkout", s.checkout, false},
	}
}

// noModels: the response is built from the command's result and the
// command-side reservation index, so it waits for no read model.
var noModels = []string{}

// shopBy is the issuer of a storefront command: the cart (or anonymous buyer).
func shopBy(r *http.Request, actor string) commands.By {
	return commands.By{Actor: actor, Correlation: correlation(r), CommandID: commandID(r)}
}

// cartToken reads X-Cart-Token; a missing one reads as an unknown cart.
func cartToken(r *http.Request) (string, error) {
	t := r.Header.Get("X-Cart-Token")
	if t == "" || len(t) > 100 {
		return "", commands.ErrCartNotFound
	}
	return t, nil
}

type cartView struct {
	ID     uuid.UUID      `json:"id"`
	Token  string         `json:"token,omitempty"`
	Status string         `json:"status"`
	Lines  []cartLineView `json:"lines"`
	Totals order.Totals   `json:"totals"`
	// Promotions are the promotions the cart gets now; RefusedCoupons its
	// codes that do not apply, with why.
	Promotions     []cartPromotion `json:"promotions"`
	RefusedCoupons []refusedCoupon `json:"refused_coupons"`
}

type cartLineView struct {
	ID              uuid.UUID             `json:"id"`
	VariantID       uuid.UUID             `json:"variant_id"`
	SKU             string                `json:"sku"`
	Title           string                `json:"title"`
	Quantity        int64                 `json:"quantity"`
	UnitPrice       money.Money           `json:"unit_price"`
	TaxRate         string                `json:"tax_rate"`
	FulfillmentType string                `json:"fulfillment_type"`
	Reservation     cartviews.Reservation `json:"reservation"`
	// Discount is the line's share of the promotions (absent: none).
	Discount *money.Money `json:"discount,omitempty"`
}

// cartRequest reads the cart the path's {id} names, its X-Cart-Token and,
// when in is not nil, the JSON body into in. It writes the error and
// returns false when any is bad.
func cartRequest(w http.ResponseWriter, r *http.Request, in any) (cart.ID, string, bool) {
	id, err := pathID(r, "id", cart.ParseID)
	var token string
	if err == nil {
		token, err = cartToken(r)
	}
	if err == nil && in != nil {
		err = decodeJSON(r, in)
	}
	if err != nil {
		writeError(w, r, err)
		return id, "", false
	}
	return id, token, true
}

// cartTotals prices a cart's lines as checkout would (checkout.Totals; the
// COD fee depends on the payment method chosen at checkout).
func cartTotals(set tenant.Settings, cur money.Currency, lines []cartLineView) (order.Totals, error) {
	priced := make([]checkout.Line, 0, len(lines))
	for _, l := range lines {
		p := checkout.Line{Priced: order.Priced{UnitPrice: l.UnitPrice, Quantity: l.Quantity, TaxRate: catalog.TaxRate(l.TaxRate)},
			Fulfillment: catalog.FulfillmentType(l.FulfillmentType)}
		if l.Discount != nil {
			p.Discount = *l.Discount
		}
		priced = append(priced, p)
	}
	return checkout.Totals(set, cur, priced, "")
}

// readCart reads a cart from cart_views, checking its token (a wrong token
// is a 404, like a missing cart).
func (s *Server) readCart(ctx context.Context, t tenant.ID, id cart.ID, token string) (cartView, error) {
	db := s.readDB(ctx)
	c, err := cartviews.Get(ctx, db, t, id.UUID, func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]cartviews.Reservation, error) {
		st, err := reservations.Statuses(ctx, db, t, ids)
		out := make(map[uuid.UUID]cartviews.Reservation, len(st))
		for id, d := range st {
			out[id] = cartviews.Reservation{Status: d.Status, ExpiresAt: d.ExpiresAt}
		}
		return out, err
	})
	if err != nil {
		return cartView{}, err
	}
	if commands.HashToken(token) != c.TokenHash {
		return cartView{}, commands.ErrCartNotFound
	}
	cur := money.Currency(c.Currency)
	out := cartView{ID: c.ID, Status: c.Status, Lines: make([]cartLineView, 0, len(c.Lines))}
	for _, l := range c.Lines {
		price, err := money.New(l.UnitPrice, money.Currency(l.Currency))
		if err != nil {
			return cartView{}, err
		}
		out.Lines = append(out.Lines, cartLineView{ID: l.ID, VariantID: l.VariantID, SKU: l.SKU, Title: l.Title, Quantity: l.Quantity,
			UnitPrice: price, TaxRate: l.TaxRate, FulfillmentType: l.FulfillmentType, Reservation: l.Reservation})
	}
	out.Promotions, out.RefusedCoupons = []cartPromotion{}, []refusedCoupon{}
	if c.Status == "open" {
		promos, refused, discounts, err := s.cartPromotions(ctx, t, id, token)
		if err != nil {
			return cartView{}, err
		}
		out.Promotions, out.RefusedCoupons = promos, refused
		for i, l := range out.Lines {
			if d, ok := discounts[l.ID]; ok {
				out.Lines[i].Discount = &d
			}
		}
	}
	tv, err := tenancy.GetTenant(ctx, s.readDB(ctx), t)
	if err != nil {
		return cartView{}, err
	}
	out.Totals, err = cartTotals(tv.Settings, cur, out.Lines)
	return out, err
}

func (s *Server) createCart(w http.ResponseWriter, r *http.Request) {
	// The body is optional, but when sent it must be an empty JSON object:
	// a malformed one is refused rather than ignored.
	if err := decodeOptionalJSON(r, &struct{}{}); err != nil {
		writeError(w, r, err)
		return
	}
	t := tenantFrom(r.Context())
	by := shopBy(r, "customer")
	var created commands.CartCreated
	id := cart.ID{UUID: by.DerivedID(0)}
	s.executeReading(w, r, http.StatusCreated, noModels, func(ctx context.Context) (commands.Result, error) {
		var res commands.Result
		var err error
		created, res, err = s.Commands.CreateCart(ctx, commands.CreateCart{Tenant: t, By: by})
		return res, err
	}, func(ctx context.Context) (view, error) {
		if created.Token == "" {
			return view{}, errs.New(errs.KindConflict, "cart_token_shown_once", "this cart was created by an earlier request; its token was in that response")
		}
		tot, err := cartTotals(created.Settings, created.Currency, nil)
		return view{body: cartView{ID: id.UUID, Token: created.Token, Status: "open", Lines: []cartLineView{}, Totals: tot,
			Promotions: []cartPromotion{}, RefusedCoupons: []refusedCoupon{}}}, err
	})
}

func (s *Server) getCart(w http.ResponseWriter, r *http.Request) {
	id, token, ok := cartRequest(w, r, nil)
	if !ok {
		return
	}
	ctx, t := r.Context(), tenantFrom(r.Context())
	c, err := s.readCart(ctx, t, id, token)
	if errs.KindOf(err) == errs.KindNotFound {
		c, err = s.readNewCart(ctx, t, id, token)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, c)
}

// readNewCart answers a cart that cart_views does not hold yet although
// its stream exists: the cart was created a moment ago (POST /carts does
// not wait for the read model) and a buyer's first GET must not be a 404.
// It waits, bounded, for cart_views to reach the log's head and reads
// again; still missing then, the answer is 503 not_caught_up, not 404.
// A cart that was never created stays a plain 404 without any wait.
func (s *Server) readNewCart(ctx context.Context, t tenant.ID, id cart.ID, token string) (cartView, error) {
	var hash string
	err := s.Pool.QueryRow(ctx, `SELECT coalesce(payload->>'token_hash', '') FROM events
		WHERE tenant_id = $1 AND stream_id = $2 AND stream_version = 1 AND stream_type = $3`,
		t.UUID, id.UUID, cart.StreamType).Scan(&hash)
	if errors.Is(err, pgx.ErrNoRows) || err == nil && subtle.ConstantTimeCompare([]byte(hash), []byte(commands.HashToken(token))) != 1 {
		return cartView{}, commands.ErrCartNotFound
	}
	if err != nil {
		return cartView{}, fmt.Errorf("cart stream: %w", err)
	}
	s.catchUp(ctx, "cart_views")
	c, err := s.readCart(ctx, t, id, token)
	if errs.KindOf(err) == errs.KindNotFound {
		return cartView{}, projections.ErrNotCaughtUp
	}
	return c, err
}

type addItemRequest struct {
	SKU       string             `json:"sku"`
	VariantID *catalog.VariantID `json:"variant_id"`
	Quantity  *int64             `json:"quantity"`
}

// maxWait caps ?wait= on add-to-cart.
const maxWait = 5 * time.Second

func parseWait(r *http.Request) (time.Duration, error) {
	v := r.URL.Query().Get("wait")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > int(maxWait/time.Millisecond) {
		return 0, errs.Field("wait", "must be a number of milliseconds from 0 to 5000")
	}
	return time.Duration(n) * time.Millisecond, nil
}

// addCartItem is POST /carts/{id}/items: add a line and request its stock.
// With ?wait=ms it waits for the reservation worker's decision: 200 with
// the decided line, or 202 with the line still pending.
func (s *Server) addCartItem(w http.ResponseWriter, r *http.Request) {
	var in addItemRequest
	id, token, ok := cartRequest(w, r, &in)
	if !ok {
		return
	}
	wait, err := parseWait(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var v errs.Collector
	v.Check((in.SKU == "") != (in.VariantID == nil), "sku", "give exactly one of sku and variant_id")
	v.Check(in.Quantity != nil, "quantity", "is required")
	if err := v.Err(); err != nil {
		writeError(w, r, err)
		return
	}
	t := tenantFrom(r.Context())
	by := shopBy(r, "cart:"+id.String())
	var change commands.CartChange
	s.executeReading(w, r, http.StatusOK, noModels, func(ctx context.Context) (commands.Result, error) {
		var res commands.Result
		var err error
		change, res, err = s.Commands.AddToCart(ctx, commands.AddToCart{Tenant: t, By: by, Cart: id, Token: token,
			Variant: in.VariantID, SKU: in.SKU, Quantity: *in.Quantity})
		return res, err
	}, func(ctx context.Context) (view, error) {
		if change.Line == uuid.Nil { // a retried request: read the line back
			c, err := s.readCart(ctx, t, id, token)
			if err != nil {
				return view{}, err
			}
			for _, l := range c.Lines {
				if l.VariantID == change.Variant || in.VariantID != nil && l.VariantID == in.VariantID.UUID || l.SKU == in.SKU {
					return view{body: l}, nil
				}
			}
			return view{}, errs.NotFoundf("line")
		}
		return s.lineView(ctx, t, change, wait)
	})
}

// lineView is the line a cart command changed, with its reservation
// decision, waiting up to wait for it (reservations.Worker.Wait: whichever
// process decides it).
func (s *Server) lineView(ctx context.Context, t tenant.ID, c commands.CartChange, wait time.Duration) (view, error) {
	l := c.Now
	out := cartLineView{ID: l.ID, VariantID: l.Variant, SKU: l.SKU, Title: l.Title, Quantity: l.Quantity, UnitPrice: l.UnitPrice,
		TaxRate: string(l.TaxRate), FulfillmentType: string(l.FulfillmentType)}
	if l.Reservation.IsZero() {
		out.Reservation.Status = "not_required"
		return view{body: out}, nil
	}
	rid := l.Reservation.UUID
	out.Reservation.ID = &rid
	st, err := s.Reservations.Wait(ctx, t, rid, wait)
	if err != nil {
		return view{}, err
	}
	out.Reservation.Status, out.Reservation.ExpiresAt = st.Status, st.ExpiresAt
	if !st.Decided() {
		return view{body: out, status: http.StatusAccepted}, nil
	}
	return view{body: out}, nil
}

type changeItemRequest struct {
	Quantity *int64 `json:"quantity"`
}

func (s *Server) changeCartItem(w http.ResponseWriter, r *http.Request) {
	var in changeItemRequest
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	if in.Quantity == nil {
		writeError(w, r, errs.Field("quantity", "is required (0 removes the line)"))
		return
	}
	s.setCartLine(w, r, *in.Quantity)
}

func (s *Server) removeCartItem(w http.ResponseWriter, r *http.Request) { s.setCartLine(w, r, 0) }

func (s *Server) setCartLine(w http.ResponseWriter, r *http.Request, q int64) {
	id, err := pathID(r, "id", cart.ParseID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	line, err := pathID(r, "line_id", uuid.Parse)
	if err != nil {
		writeError(w, r, err)
		return
	}
	token, err := cartToken(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if q < 0 {
		writeError(w, r, cart.ErrQuantity)
		return
	}
	t := tenantFrom(r.Context())
	s.executeReading(w, r, http.StatusOK, []string{"cart_views"}, func(ctx context.Context) (commands.Result, error) {
		_, res, err := s.Commands.ChangeCartLine(ctx, commands.ChangeCartLine{Tenant: t, By: shopBy(r, "cart:"+id.String()), Cart: id, Token: token, Line: line, Quantity: q})
		return res, err
	}, func(ctx context.Context) (view, error) {
		c, err := s.readCart(ctx, t, id, token)
		return view{body: c}, err
	})
}

type checkoutRequest struct {
	Email           string        `json:"email"`
	Name            string        `json:"name"`
	Phone           string        `json:"phone"`
	ShippingAddress order.Address `json:"shipping_address"`
	PaymentMethod   string        `json:"payment_method"`
	CouponCode      string        `json:"coupon_code"`
	Note            string        `json:"note"`
}

type paymentView struct {
	ID            uuid.UUID   `json:"id"`
	Method        string      `json:"method"`
	Amount        money.Money `json:"amount"`
	ReferenceCode string      `json:"reference_code,omitempty"`
	DueAt         *time.Time  `json:"due_at,omitempty"`
	BankAccount   any         `json:"bank_account,omitempty"`
}

type checkoutResponse struct {
	OrderID     uuid.UUID    `json:"order_id"`
	OrderNumber string       `json:"order_number"`
	Status      string       `json:"status"`
	Totals      order.Totals `json:"totals"`
	AccessToken string       `json:"access_token"`
	Payment     paymentView  `json:"payment"`
}

// checkout is POST /carts/{id}/checkout (send an Idempotency-Key: a retry
// gets the first response, with the same order).
func (s *Server) checkout(w http.ResponseWriter, r *http.Request) {
	var in checkoutRequest
	id, token, ok := cartRequest(w, r, &in)
	if !ok {
		return
	}
	t := tenantFrom(r.Context())
	// A signed-in customer's order is theirs (routes_customers.go).
	var buyer uuid.UUID
	if bearer(r) != "" {
		c, ok := s.customerOf(w, r)
		if !ok {
			return
		}
		buyer = c.UUID
	}
	var placed commands.Placed
	s.executeReading(w, r, http.StatusCreated, noModels, func(ctx context.Context) (commands.Result, error) {
		var res commands.Result
		var err error
		placed, res, err = s.Commands.Checkout(ctx, commands.Checkout{Tenant: t, By: shopBy(r, "cart:"+id.String()), Customer: buyer, Cart: id, Token: token,
			Email: in.Email, Name: in.Name, Phone: in.Phone, Address: in.ShippingAddress, PaymentMethod: in.PaymentMethod,
			CouponCode: in.CouponCode, Note: in.Note})
		return res, err
	}, func(ctx context.Context) (view, error) {
		if placed.Order.IsZero() {
			return view{}, errs.New(errs.KindConflict, "checkout_in_progress", "this checkout was placed by an earlier request with the same Idempotency-Key")
		}
		p := placed.Payment
		pv := paymentView{ID: p.ID.UUID, Method: string(p.Method), Amount: p.Amount, ReferenceCode: p.ReferenceCode, DueAt: p.DueAt}
		if p.Account != nil {
			pv.BankAccount = p.Account
		}
		return view{body: checkoutResponse{OrderID: placed.Order.UUID, OrderNumber: placed.Number, Status: string(placed.Status),
			Totals: placed.Totals, AccessToken: placed.AccessToken, Payment: pv}}, nil
	})
}
