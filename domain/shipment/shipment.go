// Package shipment holds the shipment aggregate: the parcel one vendor sends
// for one order (a single-brand shop has one per order, a mall order one
// per vendor). It is created when the order is ready to ship (COD at once,
// bank transfer once paid), ships with a carrier and tracking number, and
// is delivered or, before it ships, cancelled with its order. A COD order's
// first shipment carries the amount the carrier collects; the collection
// itself is recorded on the payment (payment.CollectCOD).
//
// It imports only the standard library, uuid, decimal and other domain
// packages; never pgx, watermill or chi.
package shipment

import (
	"crypto/sha256"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/aggregate"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/ids"
	"github.com/honten/honten/domain/money"
)

// StreamType is the event stream type of shipments.
const StreamType = "shipment"

type kind struct{}

func (kind) Kind() string { return "shipment" }

// ID identifies a shipment.
type ID = ids.ID[kind]

// ParseID parses a shipment ID.
func ParseID(s string) (ID, error) { return ids.Parse[kind](s) }

// IDFor returns the id of an order's shipment from vendor. It is derived
// from the two ids, so the shipment of a vendor is created once however
// often its creation is attempted, and an order's shipments are found from
// its vendors without an index. It is shaped like a UUIDv7 carrying the
// order id's timestamp.
func IDFor(order, vendor uuid.UUID) ID {
	h := sha256.New()
	h.Write([]byte("honten.shipment:"))
	h.Write(order[:])
	h.Write(vendor[:])
	var u uuid.UUID
	copy(u[:], h.Sum(nil)[:16])
	copy(u[:6], order[:6])
	u[6] = (u[6] & 0x0f) | 0x70
	u[8] = (u[8] & 0x3f) | 0x80
	return ids.From[kind](u)
}

// Status is where a shipment is.
type Status string

// The shipment statuses.
const (
	StatusPending   Status = "pending"   // created, waiting to be handed to a carrier
	StatusShipped   Status = "shipped"   // with the carrier
	StatusDelivered Status = "delivered" // received by the buyer; terminal
	StatusCancelled Status = "cancelled" // cancelled with its order before shipping; terminal
)

// Line is one order line (or part of one) in the parcel.
type Line struct {
	// OrderLine is the order line's id.
	OrderLine uuid.UUID `json:"line_id"`
	Variant   uuid.UUID `json:"variant_id"`
	SKU       string    `json:"sku"`
	Quantity  int64     `json:"quantity"`
	// Reservation is the inventory allocation the units ship from.
	Reservation uuid.UUID `json:"reservation_id"`
}

// Created is a shipment's first event.
type Created struct {
	ID     ID        `json:"id"`
	Order  uuid.UUID `json:"order_id"`
	Vendor uuid.UUID `json:"vendor_id"`
	Lines  []Line    `json:"lines"`
	// CODAmount is what the carrier collects on delivery: the order total on
	// a COD order's first shipment, zero otherwise.
	CODAmount money.Money `json:"cod_amount"`
	At        time.Time   `json:"at"`
}

// Shipped records the hand-over to a carrier.
type Shipped struct {
	Carrier    string    `json:"carrier"`
	TrackingNo string    `json:"tracking_no"`
	At         time.Time `json:"at"`
}

// Delivered records that the buyer received the parcel.
type Delivered struct {
	// HoldUntil is when the return window in force at the delivery ends
	// and the vendor's money becomes payable. Deliveries recorded before
	// it was frozen have none: LegacyHold after the delivery.
	HoldUntil *time.Time `json:"hold_until,omitempty"`
	At        time.Time  `json:"at"`
}

// LegacyHold is the return window of deliveries recorded without one (the
// default of the shops' settings).
const LegacyHold = 8 * 24 * time.Hour

// FundsReleased records that the return window after the delivery has
// passed: the vendor's part of the order becomes payable. A worker appends
// it (time is an event), so a replay of the ledger gives the same answer.
type FundsReleased struct {
	At time.Time `json:"at"`
}

// LinesCancelled records units taken out of the parcel before it shipped:
// some lines of its order were cancelled. Each Line holds the units taken
// out; a line with none left leaves the parcel.
type LinesCancelled struct {
	Lines  []Line    `json:"lines"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// CODAmountChanged records a new amount for the carrier to collect on
// delivery: the order's total changed before the parcel shipped.
type CODAmountChanged struct {
	From   money.Money `json:"from"`
	To     money.Money `json:"to"`
	Reason string      `json:"reason"`
	At     time.Time   `json:"at"`
}

// Cancelled records that the parcel will not ship (its order was cancelled).
type Cancelled struct {
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// EventName implements aggregate.Event.
func (Created) EventName() string { return "shipment.created.v1" }

// EventName implements aggregate.Event.
func (Shipped) EventName() string { return "shipment.shipped.v1" }

// EventName implements aggregate.Event.
func (Delivered) EventName() string { return "shipment.delivered.v1" }

// EventName implements aggregate.Event.
func (Cancelled) EventName() string { return "shipment.cancelled.v1" }

// EventName implements aggregate.Event.
func (FundsReleased) EventName() string { return "shipment.funds_released.v1" }

// EventName implements aggregate.Event.
func (LinesCancelled) EventName() string { return "shipment.lines_cancelled.v1" }

// EventName implements aggregate.Event.
func (CODAmountChanged) EventName() string { return "shipment.cod_amount_changed.v1" }

// Events lists the shipment events for the registry.
var Events = []aggregate.Event{Created{}, Shipped{}, Delivered{}, Cancelled{}, FundsReleased{}, LinesCancelled{}, CODAmountChanged{}}

// MaxFieldLen bounds the carrier name and the tracking number, in characters.
const MaxFieldLen = 64

// Errors.
var (
	ErrAlreadyShipped = errs.Conflict("shipment_already_shipped", "the shipment has already shipped")
	ErrNotShipped     = errs.Conflict("shipment_not_shipped", "the shipment has not shipped yet")
	ErrCancelled      = errs.Conflict("shipment_cancelled", "the shipment was cancelled with its order")
)

// Shipment is one vendor's parcel for an order.
type Shipment struct {
	aggregate.Base
	id         ID
	order      uuid.UUID
	vendor     uuid.UUID
	lines      []Line
	cod        money.Money
	status     Status
	carrier    string
	trackingNo string
	delivered  time.Time
	holdUntil  time.Time
	released   bool
}

// Create records a new shipment.
func Create(c Created, now time.Time) *Shipment {
	c.At = now.UTC()
	s := &Shipment{}
	s.record(c)
	return s
}

// FromHistory rebuilds a shipment from its events, without validation.
func FromHistory(history []aggregate.Event) *Shipment {
	s := &Shipment{}
	for _, e := range history {
		s.apply(e)
	}
	s.Replayed(len(history))
	return s
}

// checkText validates a short single-line field and returns it trimmed.
func checkText(v *errs.Collector, field, s string) string {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		v.Add(field, "is required")
	case !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl):
		v.Add(field, "must be text without control characters")
	case utf8.RuneCountInString(s) > MaxFieldLen:
		v.Add(field, "must be at most 64 characters")
	}
	return s
}

// Ship hands the parcel to carrier under trackingNo. Shipping it again with
// the same carrier and number records nothing. It returns Invalid errors
// for a missing or malformed carrier or tracking_no, ErrCancelled, and
// ErrAlreadyShipped when it shipped (or was delivered) under another number.
func (s *Shipment) Ship(carrier, trackingNo string, now time.Time) error {
	var v errs.Collector
	carrier = checkText(&v, "carrier", carrier)
	trackingNo = checkText(&v, "tracking_no", trackingNo)
	if err := v.Err(); err != nil {
		return err
	}
	switch s.status {
	case StatusCancelled:
		return ErrCancelled
	case StatusShipped, StatusDelivered:
		if s.carrier == carrier && s.trackingNo == trackingNo {
			return nil
		}
		return ErrAlreadyShipped
	}
	s.record(Shipped{Carrier: carrier, TrackingNo: trackingNo, At: now.UTC()})
	return nil
}

// Deliver records the delivery, with the vendor's money held for hold (the
// shop's return window) from now; a repeat records nothing. It returns
// ErrNotShipped before the parcel shipped and ErrCancelled.
func (s *Shipment) Deliver(now time.Time, hold time.Duration) error {
	switch s.status {
	case StatusPending:
		return ErrNotShipped
	case StatusCancelled:
		return ErrCancelled
	case StatusDelivered:
		return nil
	}
	until := now.Add(hold).UTC()
	s.record(Delivered{HoldUntil: &until, At: now.UTC()})
	return nil
}

// ReleaseFunds records that the vendor's money for this parcel is payable,
// once the return window frozen at the delivery has passed. It reports
// whether it recorded the release: not before the delivery and the window,
// and only once.
func (s *Shipment) ReleaseFunds(now time.Time) bool {
	if s.status != StatusDelivered || s.released || now.Before(s.holdUntil) {
		return false
	}
	s.record(FundsReleased{At: now.UTC()})
	return true
}

// Cancel cancels a parcel that has not shipped; a repeat records nothing.
// It returns ErrAlreadyShipped once shipped.
func (s *Shipment) Cancel(reason string, now time.Time) error {
	switch s.status {
	case StatusCancelled:
		return nil
	case StatusShipped, StatusDelivered:
		return ErrAlreadyShipped
	}
	s.record(Cancelled{Reason: reason, At: now.UTC()})
	return nil
}

// CancelLines takes units out of a parcel that has not shipped: each of
// lines names an order line (OrderLine) and the units taken out
// (Quantity). It returns ErrCancelled and ErrAlreadyShipped.
func (s *Shipment) CancelLines(lines []Line, reason string, now time.Time) error {
	switch s.status {
	case StatusCancelled:
		return ErrCancelled
	case StatusShipped, StatusDelivered:
		return ErrAlreadyShipped
	}
	if len(lines) > 0 {
		s.record(LinesCancelled{Lines: lines, Reason: reason, At: now.UTC()})
	}
	return nil
}

// ChangeCOD sets what the carrier collects on delivery, before the parcel
// ships; the same amount records nothing. It returns ErrCancelled and
// ErrAlreadyShipped.
func (s *Shipment) ChangeCOD(to money.Money, reason string, now time.Time) error {
	switch s.status {
	case StatusCancelled:
		return ErrCancelled
	case StatusShipped, StatusDelivered:
		return ErrAlreadyShipped
	}
	if !to.Equal(s.cod) {
		s.record(CODAmountChanged{From: s.cod, To: to, Reason: reason, At: now.UTC()})
	}
	return nil
}

func (s *Shipment) record(e aggregate.Event) { s.apply(e); s.Record(e) }

func (s *Shipment) apply(e aggregate.Event) {
	switch e := e.(type) {
	case Created:
		s.id, s.order, s.vendor, s.lines, s.cod, s.status = e.ID, e.Order, e.Vendor, e.Lines, e.CODAmount, StatusPending
	case Shipped:
		s.status, s.carrier, s.trackingNo = StatusShipped, e.Carrier, e.TrackingNo
	case Delivered:
		s.status, s.delivered, s.holdUntil = StatusDelivered, e.At, e.At.Add(LegacyHold)
		if e.HoldUntil != nil {
			s.holdUntil = *e.HoldUntil
		}
	case FundsReleased:
		s.released = true
	case LinesCancelled:
		out := map[uuid.UUID]int64{}
		for _, l := range e.Lines {
			out[l.OrderLine] += l.Quantity
		}
		lines := make([]Line, 0, len(s.lines))
		for _, l := range s.lines {
			l.Quantity -= out[l.OrderLine]
			if l.Quantity > 0 {
				lines = append(lines, l)
			}
		}
		s.lines = lines
	case CODAmountChanged:
		s.cod = e.To
	case Cancelled:
		s.status = StatusCancelled
	}
}

// ID returns the shipment's id.
func (s *Shipment) ID() ID { return s.id }

// Order returns the order shipped.
func (s *Shipment) Order() uuid.UUID { return s.order }

// Vendor returns the vendor who ships it.
func (s *Shipment) Vendor() uuid.UUID { return s.vendor }

// Lines returns what is in the parcel.
func (s *Shipment) Lines() []Line { return s.lines }

// CODAmount returns what the carrier collects (zero when nothing).
func (s *Shipment) CODAmount() money.Money { return s.cod }

// Status returns the status.
func (s *Shipment) Status() Status { return s.status }

// DeliveredAt returns when the parcel was delivered (zero before).
func (s *Shipment) DeliveredAt() time.Time { return s.delivered }

// HoldUntil returns when the vendor's money for the delivered parcel
// becomes payable (zero before the delivery).
func (s *Shipment) HoldUntil() time.Time { return s.holdUntil }

// FundsReleased reports whether the vendor's money for the parcel is payable.
func (s *Shipment) FundsReleased() bool { return s.released }

// Carrier returns the carrier, once shipped.
func (s *Shipment) Carrier() string { return s.carrier }

// TrackingNo returns the tracking number, once shipped.
func (s *Shipment) TrackingNo() string { return s.trackingNo }

// HasShipped reports whether the parcel left (shipped or delivered).
func (s *Shipment) HasShipped() bool { return s.status == StatusShipped || s.status == StatusDelivered }
