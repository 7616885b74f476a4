package order

import (
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/honten/honten/domain/aggregate"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/ids"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/personal"
)

// StreamType is the event stream type of orders.
const StreamType = "order"

type kind struct{}

func (kind) Kind() string { return "order" }

// ID identifies an order.
type ID = ids.ID[kind]

// NewID returns a fresh order ID.
func NewID() ID { return ids.New[kind]() }

// ParseID parses an order ID.
func ParseID(s string) (ID, error) { return ids.Parse[kind](s) }

// Line is one ordered variant, with what it cost when ordered.
type Line struct {
	ID              uuid.UUID               `json:"id"`
	Variant         uuid.UUID               `json:"variant_id"`
	Product         uuid.UUID               `json:"product_id"`
	Vendor          uuid.UUID               `json:"vendor_id"`
	SKU             string                  `json:"sku"`
	Title           string                  `json:"title"`
	Quantity        int64                   `json:"quantity"`
	UnitPrice       money.Money             `json:"unit_price"`
	TaxRate         catalog.TaxRate         `json:"tax_rate"`
	FulfillmentType catalog.FulfillmentType `json:"fulfillment_type"`
	// Reservation is the inventory hold the line was allocated from (zero for digital goods).
	Reservation uuid.UUID `json:"reservation_id"`
	// CommissionRate is the vendor's commission rate in force when the
	// order was placed, frozen on the line. Orders placed before rates were
	// frozen have none: readers take the vendor's rate at the order's
	// placing from the vendor's history (see FrozenRate).
	CommissionRate *decimal.Decimal `json:"commission_rate,omitempty"`
	// Discount is the line's share of the order's promotions (whole
	// units, allocated by largest remainder); nil when none.
	Discount *money.Money `json:"discount,omitempty"`
}

// Promotion is a promotion applied to an order: its redemption.
type Promotion struct {
	ID       uuid.UUID   `json:"id"`
	Title    string      `json:"title"`
	Code     string      `json:"code,omitempty"`
	Discount money.Money `json:"discount"`
}

// Customer is who ordered. It is personal data: never log it.
type Customer struct {
	Email string `json:"email"`
	Name  string `json:"name"`
	Phone string `json:"phone"`
}

// Address is a Japanese shipping address.
type Address struct {
	PostalCode string `json:"postal_code"`
	Prefecture string `json:"prefecture"`
	City       string `json:"city"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2"`
}

// Placed is an order's first event: a checked-out cart.
type Placed struct {
	ID     ID        `json:"id"`
	Number string    `json:"number"`
	Cart   uuid.UUID `json:"cart_id"`
	// CustomerID is the customer account the buyer was signed in to (zero
	// for a guest).
	CustomerID    uuid.UUID     `json:"customer_id,omitzero"`
	Customer      Customer      `json:"customer"`
	ShipTo        Address       `json:"shipping_address"`
	PaymentMethod PaymentMethod `json:"payment_method"`
	Payment       uuid.UUID     `json:"payment_id"`
	Lines         []Line        `json:"lines"`
	Totals        Totals        `json:"totals"`
	// Promotions are the promotions the order redeemed (their discounts
	// are on the lines and in Totals.Discount).
	Promotions []Promotion `json:"promotions,omitempty"`
	// Tax is how the order's tax was computed, frozen for every amount
	// computed later from it (totals after a partial cancellation, the
	// commission and its tax). Schema version 1 had only an optional
	// "rounding"; UpcastPlacedV1 fills these in.
	Tax  TaxTerms `json:"tax_terms"`
	Note string   `json:"note,omitempty"`
	// AccessToken is the SHA-256 of the buyer's order token (hex), never the token.
	AccessToken string    `json:"access_token_hash"`
	Status      Status    `json:"status"`
	At          time.Time `json:"at"`
}

// TaxTerms are the shop's tax settings an order was placed under.
type TaxTerms struct {
	// PricesIncludeTax is true when prices contain the tax (総額表示).
	PricesIncludeTax bool `json:"prices_include_tax"`
	// Rounding rounds each rate's tax once per order.
	Rounding money.Rounding `json:"rounding"`
}

// StatusChanged moves the order to another status.
type StatusChanged struct {
	From   Status    `json:"from"`
	To     Status    `json:"to"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// Reinstated revives a cancelled order whose money arrived after the
// cancellation: staff chose to ship it rather than refund it. Its lines'
// stock was allocated again under new reservations (the old ones were
// released). A StatusChanged from cancelled follows it.
type Reinstated struct {
	// Reservations maps each physical line's id to its new reservation.
	Reservations map[uuid.UUID]uuid.UUID `json:"reservations"`
	Reason       string                  `json:"reason"`
	At           time.Time               `json:"at"`
}

// EventName implements aggregate.Event.
func (Placed) EventName() string { return "order.placed.v1" }

// SchemaVersion is the payload shape Placed writes: 2 since the tax terms
// (tax_terms) replaced the optional rounding (see UpcastPlacedV1).
func (Placed) SchemaVersion() int { return 2 }

var _ personal.Data = Placed{}

// PersonalSubject implements personal.Data: the signed-in customer, else
// the guest buyer's e-mail.
func (p Placed) PersonalSubject() personal.Subject {
	return personal.Subject{Customer: p.CustomerID, Email: p.Customer.Email}
}

// PersonalFields implements personal.Data: the buyer, the shipping address
// and the buyer's note.
func (Placed) PersonalFields() []string { return []string{"customer", "shipping_address", "note"} }

// Redacted implements personal.Data.
func (p Placed) Redacted() aggregate.Event {
	x := personal.Erased
	p.Customer = Customer{Email: x, Name: x, Phone: x}
	p.ShipTo = Address{PostalCode: x, Prefecture: x, City: x, Line1: x, Line2: x}
	p.Note = x
	return p
}

// EventName implements aggregate.Event.
func (Reinstated) EventName() string { return "order.reinstated.v1" }

// EventName implements aggregate.Event.
func (StatusChanged) EventName() string { return "order.status_changed.v1" }

// Events lists the order events for the registry.
var Events = []aggregate.Event{Placed{}, StatusChanged{}, Reinstated{}, LinesCancelled{}}

// Errors.
var (
	ErrAlreadyShipped = errs.Conflict("order_already_shipped", "the order has shipped and can no longer be cancelled")
	ErrFinished       = errs.Conflict("order_finished", "the order is already completed or cancelled")
	ErrNotPayable     = errs.Conflict("order_not_awaiting_payment", "the order is not waiting for a payment")
	ErrNotReady       = errs.Conflict("order_not_ready_to_ship", "the order is not ready to ship: it awaits payment")
	ErrNotShipped     = errs.Conflict("order_not_shipped", "the order has not shipped yet")
	ErrCancelled      = errs.Conflict("order_cancelled", "the order was cancelled")
	ErrNotCancelled   = errs.Conflict("order_not_cancelled", "only a cancelled order can be reinstated")
)

// Order is a placed order.
type Order struct {
	aggregate.Base
	id      ID
	number  string
	method  PaymentMethod
	payment uuid.UUID
	// lines are the lines with units left, each with the units left.
	lines []Line
	// placedLines are the lines as placed.
	placedLines []Line
	totals      Totals
	tax         TaxTerms
	status      Status
	promotions  []Promotion
	placed      time.Time
	token       string
}

// Place records a new order; status is pending_payment for a bank transfer
// and pending_shipment for COD.
func Place(p Placed, now time.Time) *Order {
	p.Status = StatusPendingShipment
	if p.PaymentMethod == PaymentBankTransfer {
		p.Status = StatusPendingPayment
	}
	p.At = now.UTC()
	o := &Order{}
	o.record(p)
	return o
}

// FromHistory rebuilds an order from its events, without validation: it is
// the only path that skips it.
func FromHistory(history []aggregate.Event) *Order {
	o := &Order{}
	for _, e := range history {
		o.apply(e)
	}
	o.Replayed(len(history))
	return o
}

func (o *Order) move(to Status, reason string, now time.Time) {
	if o.status != to {
		o.record(StatusChanged{From: o.status, To: to, Reason: reason, At: now.UTC()})
	}
}

// Paid records that the payment is complete: a bank-transfer order waits
// for shipment, or completes at once when nothing is to ship. It returns
// ErrNotPayable unless the order awaits payment (a repeat is a no-op).
func (o *Order) Paid(now time.Time) error {
	switch o.status {
	case StatusPendingPayment:
		if o.Shippable() {
			o.move(StatusPendingShipment, "paid", now)
		} else {
			o.move(StatusCompleted, "paid", now)
		}
		return nil
	case StatusPendingShipment, StatusPartiallyShipped, StatusShipped, StatusCompleted:
		return nil
	}
	return ErrNotPayable
}

// Shipped records shipment progress: all tells whether every shipment has
// shipped. The order becomes partially_shipped or shipped; it never goes
// back from shipped, and a repeat records nothing. It returns ErrNotReady
// while a bank transfer is unpaid, ErrCancelled and ErrFinished.
func (o *Order) Shipped(all bool, now time.Time) error {
	switch o.status {
	case StatusPendingPayment:
		return ErrNotReady
	case StatusCancelled:
		return ErrCancelled
	case StatusCompleted:
		return ErrFinished
	case StatusShipped:
		return nil
	}
	if all {
		o.move(StatusShipped, "shipped", now)
	} else {
		o.move(StatusPartiallyShipped, "partially shipped", now)
	}
	return nil
}

// Complete finishes a shipped order once it is delivered and paid (the
// caller knows both); a repeat records nothing. It returns ErrCancelled and
// ErrNotShipped before everything shipped.
func (o *Order) Complete(reason string, now time.Time) error {
	switch o.status {
	case StatusCompleted:
		return nil
	case StatusCancelled:
		return ErrCancelled
	case StatusShipped:
		o.move(StatusCompleted, reason, now)
		return nil
	}
	return ErrNotShipped
}

// Cancel cancels an order before anything shipped. It returns
// ErrAlreadyShipped after a shipment and ErrFinished when completed; a
// cancelled order stays as it is.
func (o *Order) Cancel(reason string, now time.Time) error {
	switch o.status {
	case StatusCancelled:
		return nil
	case StatusPartiallyShipped, StatusShipped:
		return ErrAlreadyShipped
	case StatusCompleted:
		return ErrFinished
	}
	o.move(StatusCancelled, reason, now)
	return nil
}

// Reinstate revives a cancelled bank-transfer order: its physical lines
// take the new reservations (line id → reservation, one for each) and the
// order waits for its payment again, which the caller settles at once. It
// returns ErrNotCancelled unless the order is cancelled, and
// ErrNotPayable for a COD order.
func (o *Order) Reinstate(reservations map[uuid.UUID]uuid.UUID, reason string, now time.Time) error {
	if o.status != StatusCancelled {
		return ErrNotCancelled
	}
	if o.method != PaymentBankTransfer {
		return ErrNotPayable
	}
	for _, l := range o.lines {
		if _, ok := reservations[l.ID]; ok != (l.FulfillmentType != catalog.FulfillmentDigital && l.Reservation != uuid.Nil) {
			return fmt.Errorf("order: reinstate: line %s: a new reservation for each physical line, no other", l.ID)
		}
	}
	o.record(Reinstated{Reservations: reservations, Reason: reason, At: now.UTC()})
	o.record(StatusChanged{From: StatusCancelled, To: StatusPendingPayment, Reason: reason, At: now.UTC()})
	return nil
}

func (o *Order) record(e aggregate.Event) { o.apply(e); o.Record(e) }

func (o *Order) apply(e aggregate.Event) {
	switch e := e.(type) {
	case Placed:
		o.id, o.number, o.method, o.payment, o.lines, o.totals, o.status, o.placed, o.token =
			e.ID, e.Number, e.PaymentMethod, e.Payment, e.Lines, e.Totals, e.Status, e.At, e.AccessToken
		o.placedLines, o.tax, o.promotions = e.Lines, e.Tax, e.Promotions
	case LinesCancelled:
		o.applyLinesCancelled(e)
	case StatusChanged:
		o.status = e.To
	case Reinstated:
		lines := slices.Clone(o.lines)
		for i, l := range lines {
			if r, ok := e.Reservations[l.ID]; ok {
				lines[i].Reservation = r
			}
		}
		o.lines = lines
	}
}

// ID returns the order's id.
func (o *Order) ID() ID { return o.id }

// Number returns the human order number.
func (o *Order) Number() string { return o.number }

// Status returns the status.
func (o *Order) Status() Status { return o.status }

// PaymentMethod returns how the buyer pays.
func (o *Order) PaymentMethod() PaymentMethod { return o.method }

// Payment returns the order's payment id.
func (o *Order) Payment() uuid.UUID { return o.payment }

// Lines returns the lines with units left, each with the units left
// (PlacedLines returns them as placed).
func (o *Order) Lines() []Line { return o.lines }

// Totals returns the amounts, recomputed after a partial cancellation.
func (o *Order) Totals() Totals { return o.totals }

// Promotions returns the promotions the order redeemed.
func (o *Order) Promotions() []Promotion { return o.promotions }

// PlacedAt returns when the order was placed.
func (o *Order) PlacedAt() time.Time { return o.placed }

// AccessTokenHash returns the hex SHA-256 of the buyer's token.
func (o *Order) AccessTokenHash() string { return o.token }

// Shippable reports whether any line is physical.
func (o *Order) Shippable() bool {
	for _, l := range o.lines {
		if l.FulfillmentType != catalog.FulfillmentDigital {
			return true
		}
	}
	return false
}

// Currency returns the order's currency.
func (o *Order) Currency() money.Currency { return o.totals.Total.Currency() }

// LinesOf returns the physical lines of vendor, in order.
func (o *Order) LinesOf(vendor uuid.UUID) []Line {
	var out []Line
	for _, l := range o.lines {
		if l.FulfillmentType != catalog.FulfillmentDigital && l.Vendor == vendor {
			out = append(out, l)
		}
	}
	return out
}

// HasVendor reports whether any line of the order, as placed, is vendor's.
func (o *Order) HasVendor(vendor uuid.UUID) bool {
	for _, l := range o.placedLines {
		if l.Vendor == vendor {
			return true
		}
	}
	return false
}

// Vendors returns the vendors of the physical lines with units left, in
// first-line order.
func (o *Order) Vendors() []uuid.UUID {
	var out []uuid.UUID
	seen := map[uuid.UUID]bool{}
	for _, l := range o.lines {
		if l.FulfillmentType == catalog.FulfillmentDigital || seen[l.Vendor] {
			continue
		}
		seen[l.Vendor] = true
		out = append(out, l.Vendor)
	}
	return out
}
