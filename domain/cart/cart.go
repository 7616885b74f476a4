// Package cart holds the shopping cart aggregate. Every change is an event,
// so an abandoned cart's history is kept. Adding or changing a physical line
// records a reservation request (inventory.Requested) in the cart's own
// stream; the reservation worker decides it on the variant's inventory
// stream. A line's reservation is replaced, never edited: a new quantity is
// a new request, and the old hold is released.
//
// It imports only the standard library, uuid and other domain packages.
package cart

import (
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/aggregate"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/ids"
	"github.com/honten/honten/domain/inventory"
	"github.com/honten/honten/domain/money"
)

// StreamType is the event stream type of carts.
const StreamType = "cart"

type kind struct{}

func (kind) Kind() string { return "cart" }

// ID identifies a cart.
type ID = ids.ID[kind]

// NewID returns a fresh cart ID.
func NewID() ID { return ids.New[kind]() }

// ParseID parses a cart ID.
func ParseID(s string) (ID, error) { return ids.Parse[kind](s) }

// Limits.
const (
	MaxQuantity = 999
	MaxLines    = 100
)

// Line is one variant in the cart, priced when added.
type Line struct {
	ID              uuid.UUID               `json:"line_id"`
	Variant         uuid.UUID               `json:"variant_id"`
	Product         uuid.UUID               `json:"product_id"`
	Vendor          uuid.UUID               `json:"vendor_id"`
	SKU             string                  `json:"sku"`
	Title           string                  `json:"title"`
	Quantity        int64                   `json:"quantity"`
	UnitPrice       money.Money             `json:"unit_price"`
	TaxRate         catalog.TaxRate         `json:"tax_rate"`
	FulfillmentType catalog.FulfillmentType `json:"fulfillment_type"`
	// Hot routes the line's reservations to the hot lane.
	Hot bool `json:"hot"`
	// Reservation is the line's current stock request (zero for digital goods).
	Reservation inventory.ReservationID `json:"reservation_id"`
}

// Created opens a cart.
type Created struct {
	ID       ID             `json:"id"`
	Token    string         `json:"token_hash"`
	Currency money.Currency `json:"currency"`
	At       time.Time      `json:"at"`
}

// ItemAdded adds a line.
type ItemAdded struct {
	Line Line      `json:"line"`
	At   time.Time `json:"at"`
}

// QuantityChanged sets a line's quantity; the line's stock is requested
// again (Reservation) and the previous hold released.
type QuantityChanged struct {
	Line        uuid.UUID               `json:"line_id"`
	Variant     uuid.UUID               `json:"variant_id"`
	Quantity    int64                   `json:"quantity"`
	Hot         bool                    `json:"hot"`
	Reservation inventory.ReservationID `json:"reservation_id"`
	Previous    inventory.ReservationID `json:"previous_reservation_id"`
	At          time.Time               `json:"at"`
}

// ItemRemoved removes a line and releases its hold.
type ItemRemoved struct {
	Line        uuid.UUID               `json:"line_id"`
	Variant     uuid.UUID               `json:"variant_id"`
	Hot         bool                    `json:"hot"`
	Reservation inventory.ReservationID `json:"reservation_id"`
	At          time.Time               `json:"at"`
}

// ItemRepriced sets a line's unit price to the catalog's current one (the
// price changed since the line was added).
type ItemRepriced struct {
	Line      uuid.UUID   `json:"line_id"`
	UnitPrice money.Money `json:"unit_price"`
	Previous  money.Money `json:"previous_unit_price"`
	At        time.Time   `json:"at"`
}

// CheckedOut closes the cart: it became an order.
type CheckedOut struct {
	Order uuid.UUID `json:"order_id"`
	At    time.Time `json:"at"`
}

// EventName implements aggregate.Event.
func (Created) EventName() string { return "cart.created.v1" }

// EventName implements aggregate.Event.
func (ItemAdded) EventName() string { return "cart.item_added.v1" }

// EventName implements aggregate.Event.
func (QuantityChanged) EventName() string { return "cart.item_quantity_changed.v1" }

// EventName implements aggregate.Event.
func (ItemRemoved) EventName() string { return "cart.item_removed.v1" }

// EventName implements aggregate.Event.
func (CheckedOut) EventName() string { return "cart.checked_out.v1" }

// EventName implements aggregate.Event.
func (ItemRepriced) EventName() string { return "cart.item_repriced.v1" }

// Events lists the cart events for the registry.
var Events = []aggregate.Event{Created{}, ItemAdded{}, QuantityChanged{}, ItemRemoved{}, CheckedOut{}, ItemRepriced{}}

// Errors.
var (
	ErrClosed       = errs.Conflict("cart_closed", "the cart was checked out; start a new cart")
	ErrLineNotFound = errs.NotFoundf("line")
	ErrQuantity     = errs.Field("quantity", fmt.Sprintf("must be a whole number from 1 to %d", MaxQuantity))
	ErrTooManyLines = errs.Field("lines", fmt.Sprintf("a cart holds at most %d lines", MaxLines))
	ErrEmpty        = errs.Conflict("cart_empty", "the cart is empty")
	ErrCurrency     = errs.Conflict("currency_mismatch", "the item's price is in another currency than the cart")
)

// Cart is a shopping cart.
type Cart struct {
	aggregate.Base
	id       ID
	token    string
	currency money.Currency
	lines    []Line
	order    uuid.UUID
	coupons  []string
	created  time.Time
}

// New opens a cart whose token hashes to tokenHash.
func New(id ID, tokenHash string, c money.Currency, now time.Time) *Cart {
	x := &Cart{}
	x.record(Created{ID: id, Token: tokenHash, Currency: c, At: now.UTC()})
	return x
}

// FromHistory rebuilds a cart from its events, without validation.
func FromHistory(history []aggregate.Event) *Cart {
	x := &Cart{}
	for _, e := range history {
		x.apply(e)
	}
	x.Replayed(len(history))
	return x
}

// Continue returns a copy of the cart as stored (the events it recorded
// count as saved) with history, the stream's next events, applied; x is
// not changed. A store keeps a cart's last committed state and continues
// it instead of replaying the whole stream (eventstore.Repo.Continue).
func (x *Cart) Continue(history []aggregate.Event) *Cart {
	c := *x
	c.Saved()
	c.lines = slices.Clone(x.lines)
	c.coupons = slices.Clone(x.coupons)
	for _, e := range history {
		c.apply(e)
	}
	c.Replayed(len(history))
	return &c
}

func checkQuantity(q int64) error {
	if q < 1 || q > MaxQuantity {
		return ErrQuantity
	}
	return nil
}

// ErrQuantityCap is the 422 of a line above the shop's cap for its item.
func ErrQuantityCap(limit int64) error {
	return errs.Field("quantity", fmt.Sprintf("at most %d of this item per cart", limit))
}

// Add adds l (its ID, price and reservation set by the caller). A variant
// already in the cart gets the quantities added up instead, with a new
// reservation request (newReservation) for the sum, and l's price when it
// changed. Physical lines record a reservation request. limit caps the
// line's quantity (0: MaxQuantity only). It returns ErrClosed, ErrQuantity,
// ErrQuantityCap, ErrTooManyLines and ErrCurrency; the id of the line added
// or changed.
func (x *Cart) Add(l Line, newReservation inventory.ReservationID, limit int64, now time.Time) (uuid.UUID, error) {
	if x.order != uuid.Nil {
		return uuid.Nil, ErrClosed
	}
	if err := checkQuantity(l.Quantity); err != nil {
		return uuid.Nil, err
	}
	if l.UnitPrice.Currency() != x.currency {
		return uuid.Nil, ErrCurrency
	}
	for _, cur := range x.lines {
		if cur.Variant == l.Variant {
			if err := x.SetQuantity(cur.ID, cur.Quantity+l.Quantity, newReservation, limit, now); err != nil {
				return uuid.Nil, err
			}
			return cur.ID, x.Reprice(cur.ID, l.UnitPrice, now)
		}
	}
	if limit > 0 && l.Quantity > limit {
		return uuid.Nil, ErrQuantityCap(limit)
	}
	if len(x.lines) >= MaxLines {
		return uuid.Nil, ErrTooManyLines
	}
	if l.FulfillmentType == catalog.FulfillmentDigital {
		l.Reservation = inventory.ReservationID{}
	} else {
		l.Reservation = newReservation
	}
	x.record(ItemAdded{Line: l, At: now.UTC()})
	x.request(l.Reservation, l.Variant, l.ID, l.Quantity, l.Hot, now)
	return l.ID, nil
}

func (x *Cart) request(r inventory.ReservationID, variant, line uuid.UUID, q int64, hot bool, now time.Time) {
	if r.IsZero() {
		return
	}
	x.record(inventory.Requested{Reservation: r, Variant: variant, Cart: x.id.UUID, Line: line, Quantity: q, Hot: hot, At: now.UTC()})
}

// SetQuantity changes a line's quantity (0 removes the line); limit caps
// it (0: MaxQuantity only). It returns ErrClosed, ErrLineNotFound,
// ErrQuantity and ErrQuantityCap; the same quantity is a no-op.
func (x *Cart) SetQuantity(line uuid.UUID, q int64, newReservation inventory.ReservationID, limit int64, now time.Time) error {
	if x.order != uuid.Nil {
		return ErrClosed
	}
	l, ok := x.Line(line)
	if !ok {
		return ErrLineNotFound
	}
	if q == 0 {
		return x.Remove(line, now)
	}
	if err := checkQuantity(q); err != nil {
		return err
	}
	if q == l.Quantity {
		return nil
	}
	if limit > 0 && q > limit {
		return ErrQuantityCap(limit)
	}
	r := newReservation
	if l.FulfillmentType == catalog.FulfillmentDigital {
		r = inventory.ReservationID{}
	}
	x.record(QuantityChanged{Line: line, Variant: l.Variant, Quantity: q, Hot: l.Hot, Reservation: r, Previous: l.Reservation, At: now.UTC()})
	x.request(r, l.Variant, line, q, l.Hot, now)
	return nil
}

// Remove removes a line. It returns ErrClosed and ErrLineNotFound.
func (x *Cart) Remove(line uuid.UUID, now time.Time) error {
	if x.order != uuid.Nil {
		return ErrClosed
	}
	l, ok := x.Line(line)
	if !ok {
		return ErrLineNotFound
	}
	x.record(ItemRemoved{Line: line, Variant: l.Variant, Hot: l.Hot, Reservation: l.Reservation, At: now.UTC()})
	return nil
}

// Reprice sets a line's unit price to price, the catalog's current one; the
// same price is a no-op. It returns ErrClosed, ErrLineNotFound and
// ErrCurrency.
func (x *Cart) Reprice(line uuid.UUID, price money.Money, now time.Time) error {
	if x.order != uuid.Nil {
		return ErrClosed
	}
	l, ok := x.Line(line)
	if !ok {
		return ErrLineNotFound
	}
	if price.Currency() != x.currency {
		return ErrCurrency
	}
	if price.Equal(l.UnitPrice) {
		return nil
	}
	x.record(ItemRepriced{Line: line, UnitPrice: price, Previous: l.UnitPrice, At: now.UTC()})
	return nil
}

// CheckOut closes the cart for order. It returns ErrClosed and ErrEmpty.
func (x *Cart) CheckOut(order uuid.UUID, now time.Time) error {
	if x.order != uuid.Nil {
		return ErrClosed
	}
	if len(x.lines) == 0 {
		return ErrEmpty
	}
	x.record(CheckedOut{Order: order, At: now.UTC()})
	return nil
}

func (x *Cart) record(e aggregate.Event) { x.apply(e); x.Record(e) }

func (x *Cart) apply(e aggregate.Event) {
	switch e := e.(type) {
	case Created:
		x.id, x.token, x.currency, x.created = e.ID, e.Token, e.Currency, e.At
	case ItemAdded:
		x.lines = append(x.lines, e.Line)
	case QuantityChanged:
		for i := range x.lines {
			if x.lines[i].ID == e.Line {
				x.lines[i].Quantity, x.lines[i].Reservation = e.Quantity, e.Reservation
			}
		}
	case ItemRepriced:
		for i := range x.lines {
			if x.lines[i].ID == e.Line {
				x.lines[i].UnitPrice = e.UnitPrice
			}
		}
	case ItemRemoved:
		for i := range x.lines {
			if x.lines[i].ID == e.Line {
				x.lines = append(x.lines[:i], x.lines[i+1:]...)
				break
			}
		}
	case CheckedOut:
		x.order = e.Order
	case CouponApplied:
		x.coupons = append(x.coupons, e.Code)
	case CouponRemoved:
		x.coupons = slices.DeleteFunc(x.coupons, func(c string) bool { return c == e.Code })
	}
}

// ID returns the cart's id.
func (x *Cart) ID() ID { return x.id }

// TokenHash returns the hex SHA-256 of the cart's token.
func (x *Cart) TokenHash() string { return x.token }

// Currency returns the cart's currency.
func (x *Cart) Currency() money.Currency { return x.currency }

// Lines returns the lines in the order they were added.
func (x *Cart) Lines() []Line { return append([]Line(nil), x.lines...) }

// Line returns one line.
func (x *Cart) Line(id uuid.UUID) (Line, bool) {
	for _, l := range x.lines {
		if l.ID == id {
			return l, true
		}
	}
	return Line{}, false
}

// Order returns the order the cart became, or the zero id while open.
func (x *Cart) Order() uuid.UUID { return x.order }
