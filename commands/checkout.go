package commands

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/cart"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/contact"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/ids"
	"github.com/honten/honten/domain/inventory"
	"github.com/honten/honten/domain/money"
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
	ErrUnknownCoupon       = errs.InvalidFields(errs.FieldError{Field: "coupon_code", Message: "is not a valid coupon"})
	ErrNoBankAccount       = errs.Conflict("bank_transfer_unavailable", "this shop has not set up a bank account for transfers yet")
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
	Tenant        tenant.ID
	By            By
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
	if strings.TrimSpace(c.CouponCode) != "" {
		// No promotion has been created in any shop yet: every code is unknown.
		v.Merge("", ErrUnknownCoupon)
	}
	v.Check(utf8.RuneCountInString(c.Note) <= 1000, "note", "at most 1000 characters")
	if err := v.Err(); err != nil {
		return order.Customer{}, order.Address{}, "", err
	}
	return order.Customer{Email: email.String(), Name: name.String(), Phone: phone.String()},
		order.Address{PostalCode: addr.PostalCode.String(), Prefecture: addr.Prefecture.String(), City: addr.City, Line1: addr.Line1, Line2: addr.Line2},
		method, nil
}

// nextOrderNumber takes the tenant's next order number in its own short
// statement (the counter row is never held for a whole checkout).
func (s *Service) nextOrderNumber(ctx context.Context, t tenant.ID) (int64, error) {
	var n int64
	err := s.store.Pool().QueryRow(ctx, `INSERT INTO order_counters (tenant_id, last) VALUES ($1, 1)
ON CONFLICT (tenant_id) DO UPDATE SET last = order_counters.last + 1 RETURNING last`, t).Scan(&n)
	return n, err
}

// transferDue is the bank-transfer deadline: the end of the day, in Japan,
// days-1 days after the order day (the order day counts as day 1).
func transferDue(now time.Time, days int) time.Time {
	jst := time.FixedZone("JST", 9*60*60)
	d := now.In(jst)
	end := time.Date(d.Year(), d.Month(), d.Day(), 23, 59, 59, 0, jst).AddDate(0, 0, days-1)
	return end.UTC()
}

// ReferenceCode is the digits a buyer writes before their name on a bank
// transfer: the order number, zero-padded to 7 digits, and a Luhn check digit.
func ReferenceCode(n int64) string {
	digits := fmt.Sprintf("%07d", n)
	sum := 0
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if (len(digits)-1-i)%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return digits + fmt.Sprint((10-sum%10)%10)
}

// Checkout places the order: every physical line must hold a live
// reservation, which becomes the order's allocation. In one transaction it
// appends the order, its payment, the cart's checkout and every hold's
// commit. It returns Invalid errors (buyer fields, payment method, coupon),
// ErrNotFound (cart or token), cart.ErrClosed, cart.ErrEmpty, a *NotReserved
// (409 listing the lines), a *StaleLines (409 price_changed, after which the
// cart holds the current prices, or product_unavailable), ErrNoBankAccount
// and tenant.ErrCODUnavailable.
func (s *Service) Checkout(ctx context.Context, c Checkout) (Placed, Result, error) {
	customer, addr, method, err := c.validate()
	if err != nil {
		return Placed{}, Result{}, err
	}
	if err := s.precheck(ctx, c); err != nil {
		return Placed{}, Result{}, err
	}
	if err := s.repriceCart(ctx, c); err != nil {
		return Placed{}, Result{}, err
	}
	// The number is taken by its own short statement before the checkout's
	// transaction (the counter row is never held across a checkout). The
	// precheck refuses most failing checkouts first, so gaps are rare.
	n, err := s.nextOrderNumber(ctx, c.Tenant)
	if err != nil {
		return Placed{}, Result{}, err
	}
	orderID := order.ID{UUID: c.By.DerivedID(0)}
	paymentID := payment.ID{UUID: c.By.DerivedID(1)}
	token, tokenHash := NewToken("hot_")
	now := s.Now()
	out, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (Placed, error) {
		x, err := loadCart(ctx, tx, c.Tenant, c.Cart, c.Token)
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
		t, err := tenants.Load(ctx, tx, c.Tenant, c.Tenant.UUID)
		if err != nil {
			return Placed{}, err
		}
		set := t.Settings()
		// Lock the variants in one order, so concurrent checkouts cannot deadlock.
		slices.SortStableFunc(lines, func(a, b cart.Line) int { return ids.Compare(a.Variant, b.Variant) })
		itemsByVariant := map[uuid.UUID]*inventory.Item{}
		var blocked []cart.Line
		expired := map[uuid.UUID]bool{} // blocked lines whose live hold ran out
		physical := false
		for _, l := range lines {
			if l.FulfillmentType == catalog.FulfillmentDigital {
				continue
			}
			physical = true
			it, ok := itemsByVariant[l.Variant]
			if !ok {
				vid := catalog.VariantID{UUID: l.Variant}
				if err := lockItem(ctx, tx, vid); err != nil {
					return Placed{}, err
				}
				if it, err = loadItem(ctx, tx, c.Tenant, vid); err != nil {
					return Placed{}, err
				}
				itemsByVariant[l.Variant] = it
			}
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
		priced := make([]order.Priced, 0, len(lines))
		orderLines := make([]order.Line, 0, len(lines))
		for _, l := range x.Lines() {
			rate := rates[l.Vendor]
			priced = append(priced, order.Priced{UnitPrice: l.UnitPrice, Quantity: l.Quantity, TaxRate: l.TaxRate})
			orderLines = append(orderLines, order.Line{ID: l.ID, Variant: l.Variant, Product: l.Product, Vendor: l.Vendor, SKU: l.SKU,
				Title: l.Title, Quantity: l.Quantity, UnitPrice: l.UnitPrice, TaxRate: l.TaxRate, FulfillmentType: l.FulfillmentType,
				Reservation: l.Reservation.UUID, CommissionRate: &rate})
		}
		cur := x.Currency()
		subtotal, err := order.ComputeTotals(cur, priced, money.Money{}, money.Money{}, set.Tax.PricesIncludeTax, set.Tax.Rounding)
		if err != nil {
			return Placed{}, err
		}
		shipping := money.Zero(cur)
		if physical {
			shipping = set.Shipping(subtotal.Subtotal)
		}
		codFee := money.Zero(cur)
		if method == order.PaymentCOD {
			before, err := subtotal.Subtotal.Add(shipping)
			if err != nil {
				return Placed{}, err
			}
			if codFee, err = set.CODFee(before); err != nil {
				return Placed{}, err
			}
		}
		totals, err := order.ComputeTotals(cur, priced, shipping, codFee, set.Tax.PricesIncludeTax, set.Tax.Rounding)
		if err != nil {
			return Placed{}, err
		}
		pay := payment.Created{ID: paymentID, Order: orderID.UUID, Method: method, Amount: totals.Total}
		if method == order.PaymentBankTransfer {
			if set.BankAccount == nil {
				return Placed{}, ErrNoBankAccount
			}
			due := transferDue(now, set.TransferDeadlineDays)
			acct := *set.BankAccount
			pay.ReferenceCode, pay.DueAt, pay.Account = ReferenceCode(n), &due, &acct
		}
		number := fmt.Sprintf("%s-%06d", set.OrderNumberPrefix, n)
		md := c.By.metadata(c.Tenant)
		o := order.Place(order.Placed{ID: orderID, Number: number, Cart: c.Cart.UUID, Customer: customer, ShipTo: addr,
			PaymentMethod: method, Payment: paymentID.UUID, Lines: orderLines, Totals: totals, Rounding: set.Tax.Rounding, Note: c.Note, AccessToken: tokenHash}, now)
		if _, err := orders.Save(ctx, tx, c.Tenant, orderID.UUID, o, nil, md); err != nil {
			return Placed{}, err
		}
		p := payment.Create(pay, now)
		if _, err := payments.Save(ctx, tx, c.Tenant, paymentID.UUID, p, nil, md); err != nil {
			return Placed{}, err
		}
		if err := x.CheckOut(orderID.UUID, now); err != nil {
			return Placed{}, err
		}
		if _, err := carts.Save(ctx, tx, c.Tenant, c.Cart.UUID, x, nil, md); err != nil {
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
		for vid, it := range itemsByVariant {
			if err := saveItem(ctx, tx, c.Tenant, catalog.VariantID{UUID: vid}, it, md); err != nil {
				return Placed{}, err
			}
		}
		if len(committed) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE reservation_index SET status = 'committed', expires_at = NULL, decided_at = $2 WHERE reservation_id = ANY($1)`, committed, now); err != nil {
				return Placed{}, err
			}
		}
		if err := tx.Claim(ctx, c.Tenant.UUID, "order_number", number, orderID.UUID); err != nil {
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
		indexed, err = indexedStatus(ctx, tx, ids)
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

// precheck refuses, before an order number is taken, a checkout that would
// fail: unknown cart or token, closed or empty cart, a line whose
// reservation (by the reservation index) is not a live hold.
func (s *Service) precheck(ctx context.Context, c Checkout) error {
	now := s.Now()
	_, err := s.store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		x, err := loadCart(ctx, tx, c.Tenant, c.Cart, c.Token)
		if err != nil {
			return err
		}
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
		rows, err := tx.Query(ctx, `SELECT reservation_id, status, expires_at FROM reservation_index WHERE reservation_id = ANY($1)`, ids)
		if err != nil {
			return err
		}
		defer rows.Close()
		live := map[uuid.UUID]string{}
		for rows.Next() {
			var id uuid.UUID
			var st string
			var exp *time.Time
			if err := rows.Scan(&id, &st, &exp); err != nil {
				return err
			}
			if st == "reserved" && exp != nil && !now.Before(*exp) {
				st = "expired"
			}
			live[id] = st
		}
		if err := rows.Err(); err != nil {
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
	})
	return err
}
