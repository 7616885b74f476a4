// Package inventory holds the stock of one variant across locations: the
// inventory item aggregate, one stream per variant (its id is the variant's
// id). It records stock adjustments and the life of every reservation:
// reserved (a cart's hold, with an expiry), rejected, released, expired,
// committed (the hold becomes an order's allocation), and finally fulfilled
// (shipped: stock leaves) or released back.
//
// Invariant, enforced by every method: at each location, the units held and
// allocated never exceed the units on hand — available never goes below
// zero. Every event carries the variant's total available afterwards, so a
// projection can follow availability without re-deriving it.
//
// It imports only the standard library, uuid and other domain packages.
package inventory

import (
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/aggregate"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/ids"
)

// StreamType is the event stream type of inventory items.
const StreamType = "inventory"

type reservationKind struct{}

func (reservationKind) Kind() string { return "reservation" }

// ReservationID identifies a reservation (one cart line's hold).
type ReservationID = ids.ID[reservationKind]

// NewReservationID returns a fresh reservation ID.
func NewReservationID() ReservationID { return ids.New[reservationKind]() }

// MaxStock bounds on-hand quantities and adjustments.
const MaxStock = 1_000_000_000

// Errors.
var (
	ErrNegativeStock   = errs.Conflict("stock_below_reserved", "on-hand stock cannot go below zero or below what is reserved and allocated")
	ErrOutOfRange      = errs.Field("quantity", "must be between 0 and 1,000,000,000")
	ErrNoChange        = errs.Field("delta", "must not be zero")
	ErrUnknownHold     = errs.NotFoundf("reservation")
	ErrInvalidQuantity = errs.Field("quantity", "must be at least 1")
	ErrNoOrder         = errs.Field("order_id", "is required")
	// ErrInsufficientStock refuses a reallocation no location can cover.
	ErrInsufficientStock = errs.Conflict("insufficient_stock", "not enough stock available to allocate the order's lines again")
)

// Adjusted records a stock adjustment at a location (a count, a delivery,
// damage, a correction): on_hand moved by Delta to OnHand.
type Adjusted struct {
	Location  uuid.UUID `json:"location_id"`
	Delta     int64     `json:"delta"`
	OnHand    int64     `json:"on_hand"`
	Reason    string    `json:"reason"`
	Available int64     `json:"available"`
	At        time.Time `json:"at"`
}

// Requested asks for a hold on stock for a cart line. It is appended to the
// cart's stream with the line; the reservation worker decides it.
type Requested struct {
	Reservation ReservationID `json:"reservation_id"`
	Variant     uuid.UUID     `json:"variant_id"`
	Cart        uuid.UUID     `json:"cart_id"`
	Line        uuid.UUID     `json:"line_id"`
	Quantity    int64         `json:"quantity"`
	Hot         bool          `json:"hot"`
	At          time.Time     `json:"at"`
}

// Reserved grants a hold at a location until ExpiresAt.
type Reserved struct {
	Reservation ReservationID `json:"reservation_id"`
	Cart        uuid.UUID     `json:"cart_id"`
	Line        uuid.UUID     `json:"line_id"`
	Location    uuid.UUID     `json:"location_id"`
	Quantity    int64         `json:"quantity"`
	ExpiresAt   time.Time     `json:"expires_at"`
	Available   int64         `json:"available"`
	At          time.Time     `json:"at"`
}

// Rejected refuses a request: not enough stock.
type Rejected struct {
	Reservation ReservationID `json:"reservation_id"`
	Cart        uuid.UUID     `json:"cart_id"`
	Line        uuid.UUID     `json:"line_id"`
	Quantity    int64         `json:"quantity"`
	Reason      string        `json:"reason"`
	Available   int64         `json:"available"`
	At          time.Time     `json:"at"`
}

// Released gives a hold back (line removed or changed, cart abandoned).
type Released struct {
	Reservation ReservationID `json:"reservation_id"`
	Reason      string        `json:"reason"`
	Available   int64         `json:"available"`
	At          time.Time     `json:"at"`
}

// Expired gives back a hold whose time ran out.
type Expired struct {
	Reservation ReservationID `json:"reservation_id"`
	Available   int64         `json:"available"`
	At          time.Time     `json:"at"`
}

// Committed turns a hold into an order's allocation (no expiry).
type Committed struct {
	Reservation ReservationID `json:"reservation_id"`
	Order       uuid.UUID     `json:"order_id"`
	Available   int64         `json:"available"`
	At          time.Time     `json:"at"`
}

// AllocationReleased gives an order's allocation back (order cancelled).
type AllocationReleased struct {
	Reservation ReservationID `json:"reservation_id"`
	Order       uuid.UUID     `json:"order_id"`
	Reason      string        `json:"reason"`
	Available   int64         `json:"available"`
	At          time.Time     `json:"at"`
}

// AllocationReduced gives back part of an order's allocation (some units of
// its line were cancelled): Quantity units are available again, Remaining
// stay allocated.
type AllocationReduced struct {
	Reservation ReservationID `json:"reservation_id"`
	Order       uuid.UUID     `json:"order_id"`
	Quantity    int64         `json:"quantity"`
	Remaining   int64         `json:"remaining"`
	Reason      string        `json:"reason"`
	Available   int64         `json:"available"`
	At          time.Time     `json:"at"`
}

// Reallocated allocates stock to an order again, without a cart's hold
// first: a cancelled order reinstated by staff (its money arrived late).
type Reallocated struct {
	Reservation ReservationID `json:"reservation_id"`
	Order       uuid.UUID     `json:"order_id"`
	Location    uuid.UUID     `json:"location_id"`
	Quantity    int64         `json:"quantity"`
	Reason      string        `json:"reason"`
	Available   int64         `json:"available"`
	At          time.Time     `json:"at"`
}

// Fulfilled ships an allocation: the units leave the location.
type Fulfilled struct {
	Reservation ReservationID `json:"reservation_id"`
	Order       uuid.UUID     `json:"order_id"`
	Location    uuid.UUID     `json:"location_id"`
	Quantity    int64         `json:"quantity"`
	OnHand      int64         `json:"on_hand"`
	Available   int64         `json:"available"`
	At          time.Time     `json:"at"`
}

// EventName implements aggregate.Event.
func (Adjusted) EventName() string { return "inventory.updated.v1" }

// EventName implements aggregate.Event.
func (Requested) EventName() string { return "inventory.reservation.requested.v1" }

// EventName implements aggregate.Event.
func (Reserved) EventName() string { return "inventory.reservation.reserved.v1" }

// EventName implements aggregate.Event.
func (Rejected) EventName() string { return "inventory.reservation.rejected.v1" }

// EventName implements aggregate.Event.
func (Released) EventName() string { return "inventory.reservation.released.v1" }

// EventName implements aggregate.Event.
func (Expired) EventName() string { return "inventory.reservation.expired.v1" }

// EventName implements aggregate.Event.
func (Committed) EventName() string { return "inventory.reservation.committed.v1" }

// EventName implements aggregate.Event.
func (AllocationReleased) EventName() string { return "inventory.allocation.released.v1" }

// EventName implements aggregate.Event.
func (AllocationReduced) EventName() string { return "inventory.allocation.reduced.v1" }

// EventName implements aggregate.Event.
func (Reallocated) EventName() string { return "inventory.allocation.reallocated.v1" }

// EventName implements aggregate.Event.
func (Fulfilled) EventName() string { return "inventory.allocation.fulfilled.v1" }

// Events lists the inventory events for the registry.
var Events = []aggregate.Event{Adjusted{}, Requested{}, Reserved{}, Rejected{}, Released{}, Expired{}, Committed{}, AllocationReleased{}, Reallocated{}, Fulfilled{}, AllocationReduced{}}

// Hold is stock set aside at a location: a cart's hold (with an expiry) or,
// once committed, an order's allocation.
type Hold struct {
	Reservation ReservationID
	Cart, Line  uuid.UUID
	Order       uuid.UUID // set once committed
	Location    uuid.UUID
	Quantity    int64
	ExpiresAt   time.Time // zero once committed
}

// Item is the stock of one variant.
type Item struct {
	aggregate.Base
	onHand map[uuid.UUID]int64
	holds  map[ReservationID]Hold
	// reserved is the sum of the holds' quantities per location, kept by
	// apply so that a hot item with thousands of holds decides in O(1).
	reserved map[uuid.UUID]int64
	// decided remembers every reservation decided, so a redelivered request
	// is not decided twice.
	decided map[ReservationID]bool
}

// NewItem returns the empty item of a variant with no events yet.
func NewItem() *Item {
	return &Item{onHand: map[uuid.UUID]int64{}, holds: map[ReservationID]Hold{}, reserved: map[uuid.UUID]int64{},
		decided: map[ReservationID]bool{}}
}

// FromHistory rebuilds an item from its events, without validation.
func FromHistory(history []aggregate.Event) *Item {
	it := NewItem()
	for _, e := range history {
		it.apply(e)
	}
	it.Replayed(len(history))
	return it
}

// AvailableAfter returns the variant's available units recorded on an
// inventory event (every event that changes them carries the figure), and
// false for any other event.
func AvailableAfter(e aggregate.Event) (int64, bool) {
	switch e := e.(type) {
	case Adjusted:
		return e.Available, true
	case Reserved:
		return e.Available, true
	case Rejected:
		return e.Available, true
	case Released:
		return e.Available, true
	case Expired:
		return e.Available, true
	case Committed:
		return e.Available, true
	case AllocationReleased:
		return e.Available, true
	case AllocationReduced:
		return e.Available, true
	case Reallocated:
		return e.Available, true
	case Fulfilled:
		return e.Available, true
	}
	return 0, false
}

// Clone returns a copy of the item as loaded (pending events are not
// copied). Like a snapshot, it remembers as decided only the reservations
// it still holds: the reservation index is the record of older decisions.
func (it *Item) Clone() *Item {
	c := &Item{onHand: maps.Clone(it.onHand), holds: maps.Clone(it.holds), reserved: maps.Clone(it.reserved),
		decided: make(map[ReservationID]bool, len(it.holds))}
	for r := range it.holds {
		c.decided[r] = true
	}
	c.Replayed(int(it.LoadedVersion()))
	return c
}

// Apply applies one stored event (the reservation worker keeps items in
// memory and follows their streams).
func (it *Item) Apply(e aggregate.Event) {
	it.apply(e)
	it.Replayed(1)
}

// OnHand returns the units on hand at a location.
func (it *Item) OnHand(loc uuid.UUID) int64 { return it.onHand[loc] }

// Reserved returns the units held or allocated at a location.
func (it *Item) Reserved(loc uuid.UUID) int64 { return it.reserved[loc] }

// Available returns on hand minus reserved at a location.
func (it *Item) Available(loc uuid.UUID) int64 { return it.onHand[loc] - it.Reserved(loc) }

// TotalAvailable is the sum of Available over every location.
func (it *Item) TotalAvailable() int64 {
	var n int64
	for loc := range it.onHand {
		n += it.Available(loc)
	}
	return n
}

// Locations returns the locations with stock records, sorted.
func (it *Item) Locations() []uuid.UUID {
	out := make([]uuid.UUID, 0, len(it.onHand))
	for l := range it.onHand {
		out = append(out, l)
	}
	slices.SortFunc(out, ids.Compare)
	return out
}

// Hold returns a live hold or allocation.
func (it *Item) Hold(r ReservationID) (Hold, bool) {
	h, ok := it.holds[r]
	return h, ok
}

// Holds returns every live hold and allocation.
func (it *Item) Holds() []Hold {
	out := make([]Hold, 0, len(it.holds))
	for _, h := range it.holds {
		out = append(out, h)
	}
	return sortedHolds(out)
}

// sortedHolds sorts holds by reservation id and returns them.
func sortedHolds(holds []Hold) []Hold {
	slices.SortFunc(holds, func(a, b Hold) int { return ids.Compare(a.Reservation.UUID, b.Reservation.UUID) })
	return holds
}

// Decided reports whether a reservation request was already decided.
func (it *Item) Decided(r ReservationID) bool { return it.decided[r] }

// Adjust changes the stock at loc by delta, or sets it to set when set is
// not nil. On hand never goes below zero nor below what is reserved there
// (ErrNegativeStock). A change to the same value records nothing.
func (it *Item) Adjust(loc uuid.UUID, delta int64, set *int64, reason string, now time.Time) error {
	cur := it.onHand[loc]
	next := cur + delta
	if set != nil {
		if *set < 0 || *set > MaxStock {
			return ErrOutOfRange
		}
		next = *set
	} else if delta < -MaxStock || delta > MaxStock {
		return errs.Field("delta", "must be between -1,000,000,000 and 1,000,000,000")
	}
	if next < 0 || next < it.Reserved(loc) {
		return ErrNegativeStock
	}
	if next > MaxStock {
		return ErrOutOfRange
	}
	if next == cur {
		if _, known := it.onHand[loc]; known || set == nil {
			return nil
		}
	}
	it.record(Adjusted{Location: loc, Delta: next - cur, OnHand: next, Reason: reason, At: now.UTC()})
	return nil
}

// Reserve decides a request: it holds quantity at the first of candidates
// (locations in preference order) with enough available, or rejects it. A
// request decided before records nothing (redelivery).
func (it *Item) Reserve(req Requested, candidates []uuid.UUID, ttl time.Duration, now time.Time) {
	if it.decided[req.Reservation] {
		return
	}
	if req.Quantity >= 1 {
		for _, loc := range candidates {
			if it.Available(loc) >= req.Quantity {
				it.record(Reserved{Reservation: req.Reservation, Cart: req.Cart, Line: req.Line, Location: loc,
					Quantity: req.Quantity, ExpiresAt: now.Add(ttl).UTC(), At: now.UTC()})
				return
			}
		}
	}
	it.record(Rejected{Reservation: req.Reservation, Cart: req.Cart, Line: req.Line, Quantity: req.Quantity,
		Reason: "insufficient_stock", At: now.UTC()})
}

// Release gives back a hold (not an allocation). Releasing an unknown or
// finished reservation records nothing; a request released before it was
// decided is marked decided, so the late decision is skipped.
func (it *Item) Release(r ReservationID, reason string, now time.Time) {
	h, ok := it.holds[r]
	if !ok {
		if !it.decided[r] {
			it.record(Released{Reservation: r, Reason: reason, At: now.UTC()})
		}
		return
	}
	if h.Order != uuid.Nil {
		return
	}
	it.record(Released{Reservation: r, Reason: reason, At: now.UTC()})
}

// ExpireDue expires every hold whose time has come.
func (it *Item) ExpireDue(now time.Time) {
	var due []Hold
	for _, h := range it.holds {
		if h.Order == uuid.Nil && !h.ExpiresAt.IsZero() && !now.Before(h.ExpiresAt) {
			due = append(due, h)
		}
	}
	for _, h := range sortedHolds(due) {
		it.record(Expired{Reservation: h.Reservation, At: now.UTC()})
	}
}

// NextExpiry returns when the earliest hold expires (zero when none).
func (it *Item) NextExpiry() time.Time {
	var next time.Time
	for _, h := range it.holds {
		if h.Order == uuid.Nil && (next.IsZero() || h.ExpiresAt.Before(next)) {
			next = h.ExpiresAt
		}
	}
	return next
}

// Commit turns a live hold into an allocation of order. Committing it again
// to the same order records nothing. It returns ErrNoOrder without an
// order, and ErrUnknownHold when the hold is gone (expired, released) or
// allocated to another order.
func (it *Item) Commit(r ReservationID, order uuid.UUID, now time.Time) error {
	if order == uuid.Nil {
		return ErrNoOrder
	}
	h, ok := it.holds[r]
	if !ok {
		return ErrUnknownHold
	}
	if h.Order == order {
		return nil
	}
	if h.Order != uuid.Nil {
		return ErrUnknownHold
	}
	it.record(Committed{Reservation: r, Order: order, At: now.UTC()})
	return nil
}

// ReleaseAllocation gives an order's allocation back (cancellation). It
// records nothing unless r is allocated to order (a cart's hold is not an
// allocation: Release gives it back).
func (it *Item) ReleaseAllocation(r ReservationID, order uuid.UUID, reason string, now time.Time) {
	if h, ok := it.holds[r]; ok && order != uuid.Nil && h.Order == order {
		it.record(AllocationReleased{Reservation: r, Order: order, Reason: reason, At: now.UTC()})
	}
}

// ReduceAllocation gives quantity units of an order's allocation back
// (some units of its line were cancelled); giving back all of them
// releases it (AllocationReleased). It records nothing unless r is
// allocated to order, and returns ErrInvalidQuantity below 1.
func (it *Item) ReduceAllocation(r ReservationID, order uuid.UUID, quantity int64, reason string, now time.Time) error {
	if quantity < 1 {
		return ErrInvalidQuantity
	}
	h, ok := it.holds[r]
	if !ok || order == uuid.Nil || h.Order != order {
		return nil
	}
	if quantity >= h.Quantity {
		it.record(AllocationReleased{Reservation: r, Order: order, Reason: reason, At: now.UTC()})
		return nil
	}
	it.record(AllocationReduced{Reservation: r, Order: order, Quantity: quantity, Remaining: h.Quantity - quantity, Reason: reason, At: now.UTC()})
	return nil
}

// Reallocate allocates quantity to order at the first of candidates
// (locations in preference order) with enough available, under the
// reservation r (a fresh id the caller derives). Reallocating r to the same
// order again records nothing. It returns ErrNoOrder without an order,
// ErrInvalidQuantity below 1, and ErrInsufficientStock when no candidate
// has enough.
func (it *Item) Reallocate(r ReservationID, order uuid.UUID, quantity int64, candidates []uuid.UUID, reason string, now time.Time) error {
	if order == uuid.Nil {
		return ErrNoOrder
	}
	if quantity < 1 {
		return ErrInvalidQuantity
	}
	if h, ok := it.holds[r]; ok && h.Order == order {
		return nil
	}
	for _, loc := range candidates {
		if it.Available(loc) >= quantity {
			it.record(Reallocated{Reservation: r, Order: order, Location: loc, Quantity: quantity, Reason: reason, At: now.UTC()})
			return nil
		}
	}
	return ErrInsufficientStock
}

// Fulfil ships an order's allocation: its units leave on hand. It records
// nothing unless r is allocated to order (a cart's hold cannot ship).
func (it *Item) Fulfil(r ReservationID, order uuid.UUID, now time.Time) {
	h, ok := it.holds[r]
	if !ok || order == uuid.Nil || h.Order != order {
		return
	}
	it.record(Fulfilled{Reservation: r, Order: order, Location: h.Location, Quantity: h.Quantity,
		OnHand: it.onHand[h.Location] - h.Quantity, At: now.UTC()})
}

// record applies e, stamps the resulting total available, and keeps it.
func (it *Item) record(e aggregate.Event) {
	it.apply(e)
	avail := it.TotalAvailable()
	switch x := e.(type) {
	case Adjusted:
		x.Available = avail
		e = x
	case Reserved:
		x.Available = avail
		e = x
	case Rejected:
		x.Available = avail
		e = x
	case Released:
		x.Available = avail
		e = x
	case Expired:
		x.Available = avail
		e = x
	case Committed:
		x.Available = avail
		e = x
	case AllocationReleased:
		x.Available = avail
		e = x
	case AllocationReduced:
		x.Available = avail
		e = x
	case Reallocated:
		x.Available = avail
		e = x
	case Fulfilled:
		x.Available = avail
		e = x
	}
	it.Record(e)
}

func (it *Item) apply(e aggregate.Event) {
	switch e := e.(type) {
	case Adjusted:
		it.onHand[e.Location] = e.OnHand
	case Reserved:
		it.decided[e.Reservation] = true
		it.drop(e.Reservation) // never counted twice, whatever the history
		it.holds[e.Reservation] = Hold{Reservation: e.Reservation, Cart: e.Cart, Line: e.Line, Location: e.Location,
			Quantity: e.Quantity, ExpiresAt: e.ExpiresAt}
		it.reserved[e.Location] += e.Quantity
	case Rejected:
		it.decided[e.Reservation] = true
	case Released:
		it.decided[e.Reservation] = true
		it.drop(e.Reservation)
	case Expired:
		it.drop(e.Reservation)
	case Committed:
		if h, ok := it.holds[e.Reservation]; ok {
			h.Order, h.ExpiresAt = e.Order, time.Time{}
			it.holds[e.Reservation] = h
		}
	case AllocationReleased:
		it.drop(e.Reservation)
	case AllocationReduced:
		if h, ok := it.holds[e.Reservation]; ok && e.Remaining < h.Quantity {
			it.reserved[h.Location] -= h.Quantity - e.Remaining
			h.Quantity = e.Remaining
			it.holds[e.Reservation] = h
		}
	case Reallocated:
		it.decided[e.Reservation] = true
		it.drop(e.Reservation)
		it.holds[e.Reservation] = Hold{Reservation: e.Reservation, Order: e.Order, Location: e.Location, Quantity: e.Quantity}
		it.reserved[e.Location] += e.Quantity
	case Fulfilled:
		it.drop(e.Reservation)
		it.onHand[e.Location] = e.OnHand
	}
}

// drop removes a hold and its units from its location's reserved count.
func (it *Item) drop(r ReservationID) {
	h, ok := it.holds[r]
	if !ok {
		return
	}
	delete(it.holds, r)
	if n := it.reserved[h.Location] - h.Quantity; n != 0 {
		it.reserved[h.Location] = n
	} else {
		delete(it.reserved, h.Location)
	}
}

// snapshot is an item's state as stored in a snapshot. The set of decided
// reservations is not kept: past a snapshot, the reservation worker's own
// index says what was decided.
type snapshot struct {
	OnHand map[uuid.UUID]int64 `json:"on_hand"`
	Holds  []Hold              `json:"holds"`
}

// MarshalSnapshot returns the item's state for a snapshot.
func (it *Item) MarshalSnapshot() ([]byte, error) {
	return json.Marshal(snapshot{OnHand: it.onHand, Holds: it.Holds()})
}

// ItemFromSnapshot rebuilds an item from a snapshot taken at version.
func ItemFromSnapshot(data []byte, version int64) (*Item, error) {
	var s snapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, err
	}
	it := NewItem()
	for loc, n := range s.OnHand {
		it.onHand[loc] = n
	}
	for _, h := range s.Holds {
		it.holds[h.Reservation] = h
		it.reserved[h.Location] += h.Quantity
		it.decided[h.Reservation] = true
	}
	it.Replayed(int(version))
	return it, nil
}
