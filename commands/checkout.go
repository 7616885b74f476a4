package commands

import (
	"context"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/commands/reservations"
	"github.com/honten/honten/domain/cart"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/checkout"
	"github.com/honten/honten/domain/contact"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/ids"
	"github.com/honten/honten/domain/inventory"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/payment"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

var (
	orders   = repo(order.StreamType, order.FromHistory)
	payments = repo(payment.StreamType, payment.FromHistory)
)

// Errors of checkout.
var (
	ErrNoBankAccount       = checkout.ErrNoBankAccount
	ErrLinesNotReserved    = errs.Conflict("lines_not_reserved", "some lines are not reserved: wait for their reservation or change them")
	errInvalidPaymentField = errs.InvalidFields(errs.FieldError{Field: "payment_method", Message: "must be bank_transfer or cod"})
)

// NotReserved is the 409 of a checkout whose lines are not all held; it
// lists them with their reservation status.
type NotReserved struct {
	Lines []NotReservedLine
}

// NotReservedLine is one line that blocks a checkout.
type NotReservedLine struct {
	Line   uuid.UUID `json:"line_id"`
	SKU    string    `json:"sku"`
	Status string    `json:"status"`
}

func (e *NotReserved) Error() string { return ErrLinesNotReserved.Error() }

// Unwrap makes the error match ErrLinesNotReserved and its kind.
func (e *NotReserved) Unwrap() error { return ErrLinesNotReserved }

// ProblemExtra adds the blocking lines to the problem document.
func (e *NotReserved) ProblemExtra() map[string]any { return map[string]any{"lines": e.Lines} }

// Checkout turns a cart whose lines are all reserved into an order.
type Checkout struct {
	Tenant tenant.ID
	By     By
	// Customer is the signed-in customer (zero for a guest): the order is
	// theirs, its buyer data is sealed under their key, and per-customer
	// promotion limits count by it (a guest's by e-mail).
	Customer      uuid.UUID
	Cart          cart.ID
	Token         string
	Email         string
	Name          string
	Phone         string
	Address       order.Address
	PaymentMethod string
	CouponCode    string
	Note          string
}

// Placed is what a checkout created.
type Placed struct {
	Order       order.ID
	Number      string
	Status      order.Status
	Totals      order.Totals
	AccessToken string // shown once
	Payment     payment.Created
	Lines       []order.Line
}

// validate checks the buyer's fields and returns them normalised.
func (c Checkout) validate() (order.Customer, order.Address, order.PaymentMethod, error) {
	var v errs.Collector
	email, err := contact.ParseEmail(c.Email)
	v.Merge("", err)
	name, err := contact.ParseName(c.Name)
	v.Merge("", err)
	phone, err := contact.ParsePhone(c.Phone)
	v.Merge("", err)
	addr, err := contact.NewAddress(c.Address.PostalCode, c.Address.Prefecture, c.Address.City, c.Address.Line1, c.Address.Line2)
	v.Merge("shipping_address", err)
	method, err := order.ParsePaymentMethod(c.PaymentMethod)
	if err != nil {
		v.Merge("", errInvalidPaymentField)
	}
	v.Check(utf8.RuneCountInString(c.Note) <= 1000, "note", "at most 1000 characters")
	if err := v.Err(); err != nil {
		return order.Customer{}, order.Address{}, "", err
	}
	return order.Customer{Email: email.String(), Name: name.String(), Phone: phone.String()},
		order.Address{PostalCode: addr.PostalCode.String(), Prefecture: addr.Prefecture.String(), City: addr.City, Line1: addr.Line1, Line2: addr.Line2},
		method, nil
}

// takeOrderNumber makes the taking of the tenant's next order number tx's
// last statement (eventstore.Tx.CommitWith): it is sent with the COMMIT,
// so the shop's counter row is held only while the server runs it and
// commits. Every checkout of a shop goes through that row. The number is
// in *n once the transaction has committed.
func takeOrderNumber(tx *eventstore.Tx, t tenant.ID, n *int64) {
	tx.CommitWith(`INSERT INTO order_counters (tenant_id, last) VALUES ($1, 1)
ON CONFLICT (tenant_id) DO UPDATE SET last = order_counters.last + 1 RETURNING last`, []any{t}, n)
}

// Checkout places the order: every physical line must hold a live
// reservation, which becomes the order's allocation. In one transaction it
// appends the order, its payment, the cart's checkout and every hold's
// commit, and the redemptions of its promotions. It returns Invalid errors
// (buyer fields, payment method), a *CouponNotApplicable (a code that does
// not apply, saying why), ErrPromotionChanged,
// ErrNotFound (cart or token), cart.ErrClosed, cart.ErrEmpty, a *NotReserved
// (409 listing the lines), a *StaleLines (409 price_changed, after which the
// cart holds the current prices, or product_unavailable), ErrNoBankAccount,
// tenant.ErrCODUnavailable and ErrCustomerSession (the signed-in customer's
// account is gone).
func (s *Service) Checkout(ctx context.Context, c Checkout) (Placed, Result, error) {
	customer, addr, method, err := c.validate()
	if err != nil {
		return Placed{}, Result{}, err
	}
	// The number is taken at the end of the precheck's transaction, which
	// refuses most failing checkouts first, so gaps are rare.
	n, err := s.prepareCheckout(ctx, c)
	if err != nil {
		return Placed{}, Result{}, err
	}
	orderID := order.ID{UUID: c.By.DerivedID(0)}
	paymentID := payment.ID{UUID: c.By.DerivedID(1)}
	token, tokenHash := NewToken("hot_")
	now := s.Now()
	out, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (Placed, error) {
		if c.Customer != uuid.Nil {
			if err := holdCustomer(ctx, tx, c.Tenant, c.Customer); err != nil {
				return Placed{}, err
			}
		}
		x, err := loadCart(ctx, tx, c.Tenant, c.Cart, c.Token, checkoutAhead(tx, c.Tenant, c.Cart)...)
		if err != nil {
			return Placed{}, err
		}
		if x.Order() != uuid.Nil {
			return Placed{}, cart.ErrClosed
		}
		lines := x.Lines()
		if len(lines) == 0 {
			return Placed{}, cart.ErrEmpty
		}
		// Priced from the catalog as it is now: a price changed since the
		// reprice above (or a product archived) refuses the checkout.
		offers, err := currentOffers(ctx, tx, c.Tenant, lines)
		if err != nil {
			return Placed{}, err
		}
		if stale := staleLines(lines, offers); stale != nil {
			return Placed{}, stale
		}
		t, err := tenants.Read(ctx, tx, c.Tenant, c.Tenant.UUID)
		if err != nil {
			return Placed{}, err
		}
		set := t.Settings()
		// Lock the variants in one order, so concurrent checkouts cannot deadlock.
		slices.SortStableFunc(lines, func(a, b cart.Line) int { return ids.Compare(a.Variant, b.Variant) })
		var vs []catalog.VariantID
		for _, l := range lines {
			if l.FulfillmentType != catalog.FulfillmentDigital && (len(vs) == 0 || vs[len(vs)-1].UUID != l.Variant) {
				vs = append(vs, catalog.VariantID{UUID: l.Variant})
			}
		}
		its, err := reservations.LockItems(ctx, tx, c.Tenant, vs)
		if err != nil {
			return Placed{}, err
		}
		itemsByVariant := make(map[uuid.UUID]*inventory.Item, len(vs))
		for i, v := range vs {
			itemsByVariant[v.UUID] = its[i]
		}
		var blocked []cart.Line
		expired := map[uuid.UUID]bool{} // blocked lines whose live hold ran out
		for _, l := range lines {
			if l.FulfillmentType == catalog.FulfillmentDigital {
				continue
			}
			it := itemsByVariant[l.Variant]
			h, live := it.Hold(l.Reservation)
			if !live || h.Order != uuid.Nil || !now.Before(h.ExpiresAt) || h.Quantity != l.Quantity {
				blocked = append(blocked, l)
				expired[l.ID] = live && !now.Before(h.ExpiresAt)
			}
		}
		if len(blocked) > 0 {
			return Placed{}, blockedLines(ctx, tx, blocked, expired)
		}
		rates, err := commissionRates(ctx, tx, c.Tenant, x.Lines(), now)
		if err != nil {
			return Placed{}, err
		}
		// The cart's promotions are priced again as they are now: a code
		// that no longer applies refuses the checkout, saying why.
		promo, err := checkoutPromotions(ctx, tx, c.Tenant, x, c.CouponCode, now)
		if err != nil {
			return Placed{}, err
		}
		applied, discounts := orderPromotions(promo)
		priced := make([]checkout.Line, 0, len(lines))
		orderLines := make([]order.Line, 0, len(lines))
		for _, l := range x.Lines() {
			rate := rates[l.Vendor]
			p := checkout.Line{Priced: order.Priced{UnitPrice: l.UnitPrice, Quantity: l.Quantity, TaxRate: l.TaxRate}, Fulfillment: l.FulfillmentType}
			ol := order.Line{ID: l.ID, Variant: l.Variant, Product: l.Product, Vendor: l.Vendor, SKU: l.SKU,
				Title: l.Title, Quantity: l.Quantity, UnitPrice: l.UnitPrice, TaxRate: l.TaxRate, FulfillmentType: l.FulfillmentType,
				Reservation: l.Reservation.UUID, CommissionRate: &rate}
			if d, ok := discounts[l.ID]; ok {
				p.Discount, ol.Discount = d, &d
			}
			priced = append(priced, p)
			orderLines = append(orderLines, ol)
		}
		decided, err := checkout.Decide(checkout.Input{Settings: set, Currency: x.Currency(), Method: method, Lines: priced, Number: n, Now: now})
		if err != nil {
			return Placed{}, err
		}
		totals, number := decided.Totals, decided.Number
		pay := payment.Created{ID: paymentID, Order: orderID.UUID, Method: method, Amount: totals.Total,
			ReferenceCode: decided.ReferenceCode, DueAt: decided.DueAt, Account: decided.Account}
		md := c.By.metadata(c.Tenant)
		o := order.Place(order.Placed{ID: orderID, Number: number, Cart: c.Cart.UUID, CustomerID: c.Customer, Customer: customer, ShipTo: addr,
			PaymentMethod: method, Payment: paymentID.UUID, Lines: orderLines, Totals: totals, Promotions: applied, Tax: order.TaxTerms{PricesIncludeTax: set.Tax.PricesIncludeTax, Rounding: set.Tax.Rounding}, Note: c.Note, AccessToken: tokenHash}, now)
		p := payment.Create(pay, now)
		if err := x.CheckOut(orderID.UUID, now); err != nil {
			return Placed{}, err
		}
		var committed []uuid.UUID
		for _, l := range lines {
			if l.FulfillmentType == catalog.FulfillmentDigital {
				continue
			}
			if err := itemsByVariant[l.Variant].Commit(l.Reservation, orderID.UUID, now); err != nil {
				return Placed{}, err
			}
			committed = append(committed, l.Reservation.UUID)
		}
		// The order, its payment, the cart, the items (and their snapshots
		// when due), the index rows of the committed holds and the order
		// number's claim: one round trip.
		saves := []eventstore.Saving{
			orders.Saving(c.Tenant, orderID.UUID, o, md),
			payments.Saving(c.Tenant, paymentID.UUID, p, md),
			carts.Saving(c.Tenant, c.Cart.UUID, x, md),
		}
		with := &pgx.Batch{}
		for i, v := range vs {
			saves = append(saves, reservations.ItemSaving(c.Tenant, v, its[i], md))
			if err := reservations.QueueSnapshotDue(with, c.Tenant, v, its[i]); err != nil {
				return Placed{}, err
			}
		}
		reservations.QueueCommit(with, committed, now)
		eventstore.QueueClaim(with, c.Tenant.UUID, "order_number", number, orderID.UUID)
		if err := tx.SaveAll(ctx, with, saves...); err != nil {
			return Placed{}, err
		}
		if totals.Total.IsZero() && hasDigital(o) {
			// A free order's downloads are issued at once.
			if err := issueDeliveries(ctx, tx, c.Tenant, o, set, md, now); err != nil {
				return Placed{}, err
			}
		}
		// Last: the redemption counters' row locks are held until commit.
		if err := redeem(ctx, tx, c.Tenant, orderID.UUID, BuyerKey(customer.Email, c.Customer), promo, now); err != nil {
			return Placed{}, err
		}
		return Placed{Order: orderID, Number: number, Status: o.Status(), Totals: totals, AccessToken: token, Payment: pay, Lines: orderLines}, nil
	})
	return out, Result{Result: res, ID: orderID.UUID, Version: 1}, err
}

// blockedLines is the *NotReserved of the lines that block a checkout, each
// with why: expired when its live hold ran out (expired[line]), else as the
// reservation index has it — pending (not decided yet), rejected, expired,
// released — or not_reserved. The index is read once for all of them.
func blockedLines(ctx context.Context, tx *eventstore.Tx, lines []cart.Line, expired map[uuid.UUID]bool) *NotReserved {
	var ids []uuid.UUID
	for _, l := range lines {
		if !expired[l.ID] {
			ids = append(ids, l.Reservation.UUID)
		}
	}
	var indexed map[uuid.UUID]string
	var err error
	if len(ids) > 0 {
		indexed, err = reservations.Indexed(ctx, tx, ids)
	}
	out := make([]NotReservedLine, 0, len(lines))
	for _, l := range lines {
		st, found := indexed[l.Reservation.UUID]
		switch {
		case expired[l.ID]:
			st = "expired"
		case err != nil, st == "reserved":
			st = "not_reserved"
		case !found:
			st = "pending"
		}
		out = append(out, NotReservedLine{Line: l.ID, SKU: l.SKU, Status: st})
	}
	return newNotReserved(out)
}

// newNotReserved returns the *NotReserved of lines, sorted by line id.
func newNotReserved(lines []NotReservedLine) *NotReserved {
	slices.SortFunc(lines, func(a, b NotReservedLine) int { return ids.Compare(a.Line, b.Line) })
	return &NotReserved{Lines: lines}
}

// precheck refuses, before an order number is taken, a checkout of cart x
// that would fail: closed or empty cart, a line whose reservation (by the
// reservation index) is not a live hold.
func precheck(ctx context.Context, tx *eventstore.Tx, x *cart.Cart, now time.Time) error {
	if x.Order() != uuid.Nil {
		return cart.ErrClosed
	}
	if len(x.Lines()) == 0 {
		return cart.ErrEmpty
	}
	var ids []uuid.UUID
	for _, l := range x.Lines() {
		if !l.Reservation.IsZero() {
			ids = append(ids, l.Reservation.UUID)
		}
	}
	live, err := reservations.Live(ctx, tx, ids, now)
	if err != nil {
		return err
	}
	var blocked []NotReservedLine
	for _, l := range x.Lines() {
		if l.Reservation.IsZero() {
			continue
		}
		switch st, ok := live[l.Reservation.UUID]; {
		case !ok:
			blocked = append(blocked, NotReservedLine{Line: l.ID, SKU: l.SKU, Status: "pending"})
		case st != "reserved":
			blocked = append(blocked, NotReservedLine{Line: l.ID, SKU: l.SKU, Status: st})
		}
	}
	if len(blocked) > 0 {
		return newNotReserved(blocked)
	}
	return nil
}
