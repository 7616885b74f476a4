package http

import (
	"context"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/shipment"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/projections/orderviews"
)

func (s *Server) orderRoutes() []adminRoute {
	return []adminRoute{
		{"GET", "/orders", permOrdersRead, s.listOrders},
		{"GET", "/orders/{id}", permOrdersRead, s.getOrder},
		{"POST", "/orders/{id}/payments/confirm", permPaymentsWrite, s.confirmPayment},
		{"POST", "/orders/{id}/cancel", permOrdersCancel, s.cancelOrder},
		{"POST", "/orders/{id}/reinstate", permOrdersWrite, s.reinstateOrder},
		{"POST", "/shipments/{id}/ship", permShipmentsWrite, s.shipShipment},
		{"POST", "/shipments/{id}/deliver", permShipmentsWrite, s.deliverShipment},
		{"POST", "/shipments/{id}/cod-collected", permShipmentsWrite, s.collectCOD},
	}
}

func (s *Server) storefrontOrderRoutes() []storeRoute {
	return []storeRoute{
		{"GET", "/orders/{id}", s.storeGetOrder, false},
	}
}

// listOrders is GET /orders?status=&payment_method=&vendor_id=&q=&created_from=&created_to=:
// orders newest first. Vendor staff see orders with a line of theirs only.
func (s *Server) listOrders(w http.ResponseWriter, r *http.Request) {
	serveList(w, r, func(ctx context.Context, c *caller, p projections.Page) (projections.List[orderviews.Summary], error) {
		f, err := orderFilter(r, c.vendorScope())
		if err != nil {
			return projections.List[orderviews.Summary]{}, err
		}
		return orderviews.List(ctx, s.readDB(r.Context()), c.Acting, f, p)
	})
}

// parseTimeParam reads an RFC 3339 time or a date (YYYY-MM-DD, midnight UTC).
func parseTimeParam(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), true
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// orderFilter reads the list's query parameters; a malformed value is a 422
// naming the parameter.
func orderFilter(r *http.Request, scope *uuid.UUID) (orderviews.Filter, error) {
	query := r.URL.Query()
	var f orderviews.Filter
	var v errs.Collector
	if st := query.Get("status"); st != "" {
		parsed, err := order.ParseStatus(st)
		v.Merge("", err)
		f.Status = string(parsed)
	}
	if m := query.Get("payment_method"); m != "" {
		parsed, err := order.ParsePaymentMethod(m)
		v.Merge("", err)
		f.PaymentMethod = string(parsed)
	}
	if sv := query.Get("vendor_id"); sv != "" {
		id, err := uuid.Parse(sv)
		v.Check(err == nil && len(sv) == 36, "vendor_id", "must be a vendor id")
		f.Vendor = &id
	}
	if q := query.Get("q"); q != "" {
		v.Check(utf8.ValidString(q) && utf8.RuneCountInString(q) <= 100, "q", "must be at most 100 characters")
		f.Query = q
	}
	for _, p := range []struct {
		name string
		dst  **time.Time
	}{{"created_from", &f.CreatedFrom}, {"created_to", &f.CreatedTo}} {
		if sv := query.Get(p.name); sv != "" {
			t, ok := parseTimeParam(sv)
			v.Check(ok, p.name, "must be an RFC 3339 time or a date (YYYY-MM-DD)")
			*p.dst = &t
		}
	}
	if err := v.Err(); err != nil {
		return f, err
	}
	f.Vendor = scopeVendor(f.Vendor, scope)
	return f, nil
}

// scopeVendor is the vendor a list filters on: the one asked for, bound to
// scope for vendor staff (another vendor's rows are invisible: asking for
// them matches nothing).
func scopeVendor(asked, scope *uuid.UUID) *uuid.UUID {
	switch {
	case scope == nil:
		return asked
	case asked != nil && *asked != *scope:
		none := uuid.Nil
		return &none
	}
	return scope
}

// getOrder is GET /orders/{id}: the order with its lines, payments,
// shipments and status history. Vendor staff see their lines and shipments
// only, without totals and payments.
func (s *Server) getOrder(w http.ResponseWriter, r *http.Request) {
	if u, ok, err := asOf(r); ok || err != nil {
		if err != nil {
			writeError(w, r, err)
			return
		}
		s.getOrderAsOf(w, r, u)
		return
	}
	serveOne(w, r, order.ParseID, func(ctx context.Context, _ *caller, id order.ID) (any, int64, error) {
		v, err := s.orderView(ctx, id)
		return v.body, v.version, err
	})
}

// orderView reads an order's detail for a command's response.
func (s *Server) orderView(ctx context.Context, id order.ID) (view, error) {
	c := callerFrom(ctx)
	d, err := orderviews.Get(ctx, s.readDB(ctx), c.Acting, id.UUID, c.vendorScope())
	if err != nil {
		return view{}, err
	}
	return view{body: d, version: d.Version}, nil
}

// confirmRequest is the body of POST /orders/{id}/payments/confirm.
type confirmRequest struct {
	Amount     *money.Money `json:"amount"`
	ReceivedAt *time.Time   `json:"received_at"`
	Reference  string       `json:"reference"`
}

// confirmPayment is POST /orders/{id}/payments/confirm: 200 with the order.
// A COD order is a 409 not_bank_transfer.
func (s *Server) confirmPayment(w http.ResponseWriter, r *http.Request) {
	var in confirmRequest
	id, ok := decodeAt(w, r, order.ParseID, &in)
	if !ok {
		return
	}
	if in.Amount == nil {
		writeError(w, r, errs.Field("amount", "is required"))
		return
	}
	c := callerFrom(r.Context())
	// Without a reference, a request with its own Idempotency-Key asserts a
	// transfer of its own; one without is deduplicated by amount and day.
	cmd := commands.ConfirmPayment{Tenant: c.Acting, By: c.by(r), Order: id, Amount: *in.Amount, Reference: in.Reference,
		Distinct: eventstore.IdempotencyFrom(r.Context()) != nil}
	if in.ReceivedAt != nil {
		cmd.ReceivedAt = *in.ReceivedAt
	}
	s.execute(w, r, http.StatusOK, func(ctx context.Context) (commands.Result, error) {
		return s.Commands.ConfirmPayment(ctx, cmd)
	}, func(ctx context.Context) (view, error) { return s.orderView(ctx, id) })
}

// cancelRequest is the body of POST /orders/{id}/cancel: the whole order,
// one vendor's part (vendor_id) or some units of some lines (lines).
type cancelRequest struct {
	Reason   string              `json:"reason"`
	VendorID *uuid.UUID          `json:"vendor_id"`
	Lines    []cancelLineRequest `json:"lines"`
}

// cancelLineRequest names an order line (its id in the order's lines) and
// the units to cancel; without quantity, every unit left.
type cancelLineRequest struct {
	LineID   uuid.UUID `json:"line_id"`
	Quantity *int64    `json:"quantity"`
}

// toCommand converts the request into the command.
func (in cancelRequest) toCommand(c *caller, r *http.Request, id order.ID) (commands.CancelOrder, error) {
	cmd := commands.CancelOrder{Tenant: c.Acting, By: c.by(r), VendorScope: c.vendorScope(), Order: id, Vendor: in.VendorID, Reason: in.Reason}
	if in.Lines == nil {
		return cmd, nil
	}
	var v errs.Collector
	cmd.Lines = make([]commands.CancelLine, 0, len(in.Lines))
	for i, l := range in.Lines {
		q := int64(0)
		if l.Quantity != nil {
			q = *l.Quantity
			v.Check(q >= 1, fmt.Sprintf("lines[%d].quantity", i), "must be at least 1")
		}
		cmd.Lines = append(cmd.Lines, commands.CancelLine{Line: l.LineID, Quantity: q})
	}
	return cmd, v.Err()
}

// cancelOrder is POST /orders/{id}/cancel: 200 with the order. A shipped
// order (or, for a part, a shipped line) is a 409 order_already_shipped.
// Vendor staff cancel their own vendor's lines only: without vendor_id and
// lines, their vendor's part.
func (s *Server) cancelOrder(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", order.ParseID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var in cancelRequest
	if err := decodeOptionalJSON(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	c := callerFrom(r.Context())
	cmd, err := in.toCommand(c, r, id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.execute(w, r, http.StatusOK, func(ctx context.Context) (commands.Result, error) {
		return s.Commands.CancelOrder(ctx, cmd)
	}, func(ctx context.Context) (view, error) { return s.orderView(ctx, id) })
}

// reinstateRequest is the body of POST /orders/{id}/reinstate.
type reinstateRequest struct {
	Reason string `json:"reason"`
}

// reinstateOrder is POST /orders/{id}/reinstate: a cancelled bank-transfer
// order whose money arrived late ships after all. 200 with the order; 409
// order_not_cancelled, order_not_reinstatable (the money does not cover
// it), insufficient_stock (nothing written: the transfer stays a refund
// due).
func (s *Server) reinstateOrder(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", order.ParseID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var in reinstateRequest
	if err := decodeOptionalJSON(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	c := callerFrom(r.Context())
	cmd := commands.ReinstateOrder{Tenant: c.Acting, By: c.by(r), Order: id, Reason: in.Reason}
	s.execute(w, r, http.StatusOK, func(ctx context.Context) (commands.Result, error) {
		return s.Commands.ReinstateOrder(ctx, cmd)
	}, func(ctx context.Context) (view, error) { return s.orderView(ctx, id) })
}

// shipmentView reads a shipment for a command's response.
func (s *Server) shipmentView(ctx context.Context, id shipment.ID) (view, error) {
	c := callerFrom(ctx)
	sh, err := orderviews.GetShipment(ctx, s.Pool, c.Acting, id.UUID, c.vendorScope())
	if err != nil {
		return view{}, err
	}
	return view{body: sh, version: sh.Version}, nil
}

// shipRequest is the body of POST /shipments/{id}/ship.
type shipRequest struct {
	Carrier    string `json:"carrier"`
	TrackingNo string `json:"tracking_no"`
}

// shipShipment is POST /shipments/{id}/ship: 200 with the shipment. A
// cancelled order is a 409 order_cancelled. Vendor staff ship their
// vendor's shipments only.
func (s *Server) shipShipment(w http.ResponseWriter, r *http.Request) {
	var in shipRequest
	id, ok := decodeAt(w, r, shipment.ParseID, &in)
	if !ok {
		return
	}
	c := callerFrom(r.Context())
	cmd := commands.ShipShipment{Tenant: c.Acting, By: c.by(r), VendorScope: c.vendorScope(), Shipment: id, Carrier: in.Carrier, TrackingNo: in.TrackingNo}
	s.execute(w, r, http.StatusOK, func(ctx context.Context) (commands.Result, error) {
		return s.Commands.ShipShipment(ctx, cmd)
	}, func(ctx context.Context) (view, error) { return s.shipmentView(ctx, id) })
}

// deliverShipment is POST /shipments/{id}/deliver (no body): 200 with the shipment.
func (s *Server) deliverShipment(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", shipment.ParseID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := decodeOptionalJSON(r, &struct{}{}); err != nil {
		writeError(w, r, err)
		return
	}
	c := callerFrom(r.Context())
	cmd := commands.DeliverShipment{Tenant: c.Acting, By: c.by(r), VendorScope: c.vendorScope(), Shipment: id}
	s.execute(w, r, http.StatusOK, func(ctx context.Context) (commands.Result, error) {
		return s.Commands.DeliverShipment(ctx, cmd)
	}, func(ctx context.Context) (view, error) { return s.shipmentView(ctx, id) })
}

// codRequest is the body of POST /shipments/{id}/cod-collected.
type codRequest struct {
	Amount *money.Money `json:"amount"`
}

// collectCOD is POST /shipments/{id}/cod-collected: 200 with the shipment.
// A bank-transfer order is a 409 not_cod.
func (s *Server) collectCOD(w http.ResponseWriter, r *http.Request) {
	var in codRequest
	id, ok := decodeAt(w, r, shipment.ParseID, &in)
	if !ok {
		return
	}
	if in.Amount == nil {
		writeError(w, r, errs.Field("amount", "is required"))
		return
	}
	c := callerFrom(r.Context())
	cmd := commands.CollectCOD{Tenant: c.Acting, By: c.by(r), VendorScope: c.vendorScope(), Shipment: id, Amount: *in.Amount}
	s.execute(w, r, http.StatusOK, func(ctx context.Context) (commands.Result, error) {
		return s.Commands.CollectCOD(ctx, cmd)
	}, func(ctx context.Context) (view, error) { return s.shipmentView(ctx, id) })
}

// storeGetOrder is the storefront's GET /orders/{id}: the buyer's view of
// their order, with the access token in X-Order-Token (or, for e-mailed
// links, ?token=), or without a token for a signed-in customer whose order
// it is (Authorization: Bearer <customer session>). A missing or wrong
// token, and another customer's order, are a 404, like an unknown order;
// an invalid or expired session is a 401.
func (s *Server) storeGetOrder(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	token := r.Header.Get("X-Order-Token")
	if token == "" {
		token = r.URL.Query().Get("token")
	}
	var customer uuid.UUID
	if token == "" && bearer(r) != "" {
		id, ok := s.customerOf(w, r)
		if !ok {
			return
		}
		customer = id.UUID
	}
	serveOne(w, r, order.ParseID, func(ctx context.Context, _ *caller, id order.ID) (any, int64, error) {
		var o orderviews.BuyerOrder
		var err error
		if customer != uuid.Nil {
			o, err = orderviews.ForCustomer(ctx, s.readDB(r.Context()), tenantFrom(ctx), id.UUID, customer)
		} else {
			o, err = orderviews.ForBuyer(ctx, s.readDB(r.Context()), tenantFrom(ctx), id.UUID, token)
		}
		if err != nil {
			return o, 0, err
		}
		return s.withDownloads(ctx, o)
	})
}
