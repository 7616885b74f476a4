package commands

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/commands/reservations"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/ids"
	"github.com/honten/honten/domain/inventory"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/payment"
	"github.com/honten/honten/domain/shipment"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

// shipments is the repository of shipments (orders and payments are declared with checkout).
var shipments = repo(shipment.StreamType, shipment.FromHistory)

// lockOrderQuery queues the command behind every other command on the
// order (its payment and shipments included) until its transaction ends.
// Order commands touch several streams — the order, its payment, its
// shipments, inventory — and decide on all of them: the lock makes that
// decision and its appends one step, so a cancellation and a shipment
// cannot both pass. It is taken before any inventory lock, always in that
// order; loadOrder sends it with the read of the order's events.
const lockOrderQuery = `SELECT pg_advisory_xact_lock(hashtextextended('honten.order:' || $1::text, 0))`

// orderState is an order with its payment and its shipments, loaded under
// the order's lock.
type orderState struct {
	order   *order.Order
	payment *payment.Payment
	// shipments are the shipments created so far, in the order of
	// o.PlacedVendors() (a vendor's part cancelled keeps its cancelled one).
	shipments []*shipment.Shipment
}

// loadOrder locks and loads an order, its payment and its shipments, in
// two round trips: the lock with the order's events, then the payment's and
// the shipments' events together. Under a vendor scope an order without a
// line of that vendor is ErrNotFound, like a missing one.
func loadOrder(ctx context.Context, tx *eventstore.Tx, t tenant.ID, id uuid.UUID, scope *uuid.UUID) (*orderState, error) {
	lock := &pgx.Batch{}
	lock.Queue(lockOrderQuery, id)
	envs, err := tx.LoadAfter(ctx, lock, []eventstore.StreamAfter{{Tenant: t, ID: id}})
	if err != nil {
		return nil, fmt.Errorf("lock and load order %s: %w", id, err)
	}
	o, err := orders.FromStream(id, envs[0])
	if err != nil {
		return nil, err
	}
	if scope != nil && !o.HasVendor(*scope) {
		return nil, fmt.Errorf("order %s: %w", id, eventstore.ErrNotFound)
	}
	st := &orderState{order: o}
	var reads []eventstore.StreamAfter
	if o.Payment() != uuid.Nil {
		reads = append(reads, eventstore.StreamAfter{Tenant: t, ID: o.Payment()})
	}
	for _, v := range o.PlacedVendors() {
		reads = append(reads, eventstore.StreamAfter{Tenant: t, ID: shipment.IDFor(id, v).UUID})
	}
	if len(reads) == 0 {
		return st, nil
	}
	streams, err := tx.LoadAfter(ctx, nil, reads)
	if err != nil {
		return nil, err
	}
	if o.Payment() != uuid.Nil {
		if st.payment, err = payments.FromStream(o.Payment(), streams[0]); err != nil {
			return nil, fmt.Errorf("payment of order %s: %w", id, err)
		}
		streams, reads = streams[1:], reads[1:]
	}
	for i, envs := range streams {
		s, err := shipments.FromStream(reads[i].ID, envs)
		if errors.Is(err, eventstore.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		st.shipments = append(st.shipments, s)
	}
	return st, nil
}

// shipmentOrder finds the order of a shipment, hiding another vendor's
// shipment from a vendor scope like a missing one.
func shipmentOrder(ctx context.Context, tx *eventstore.Tx, t tenant.ID, id shipment.ID, scope *uuid.UUID) (uuid.UUID, error) {
	s, err := shipments.Load(ctx, tx, t, id.UUID)
	if err != nil {
		return uuid.Nil, err
	}
	if scope != nil && s.Vendor() != *scope {
		return uuid.Nil, fmt.Errorf("shipment %s: %w", id, eventstore.ErrNotFound)
	}
	return s.Order(), nil
}

// shipmentIn returns the loaded shipment id of st.
func (st *orderState) shipmentIn(id shipment.ID) (*shipment.Shipment, error) {
	for _, s := range st.shipments {
		if s.ID() == id {
			return s, nil
		}
	}
	return nil, fmt.Errorf("shipment %s: %w", id, eventstore.ErrNotFound)
}

// anyShipped reports whether a shipment of the order has left.
func (st *orderState) anyShipped() bool {
	return slices.ContainsFunc(st.shipments, (*shipment.Shipment).HasShipped)
}

// live returns the shipments not cancelled.
func (st *orderState) live() []*shipment.Shipment {
	var out []*shipment.Shipment
	for _, s := range st.shipments {
		if s.Status() != shipment.StatusCancelled {
			out = append(out, s)
		}
	}
	return out
}

// allShipped reports whether the shipment of every vendor with lines left
// exists and has left.
func (st *orderState) allShipped() bool {
	live := st.live()
	return len(live) == len(st.order.Vendors()) && !slices.ContainsFunc(live, func(s *shipment.Shipment) bool { return !s.HasShipped() })
}

// allDelivered reports whether the shipment of every vendor with lines
// left exists and was delivered.
func (st *orderState) allDelivered() bool {
	live := st.live()
	return len(live) == len(st.order.Vendors()) && !slices.ContainsFunc(live, func(s *shipment.Shipment) bool { return s.Status() != shipment.StatusDelivered })
}

// save appends what the command recorded on the order, its payment and its
// shipments — the order first, so the transaction's first write is an
// append to the stream every order command locks.
func (st *orderState) save(ctx context.Context, tx *eventstore.Tx, t tenant.ID, md eventstore.Metadata) error {
	return tx.SaveAll(ctx, nil, st.savings(t, md)...)
}

// saveAtCommit is save sent with the COMMIT (eventstore.Tx.SaveAtCommit):
// for a command whose last write it is.
func (st *orderState) saveAtCommit(tx *eventstore.Tx, t tenant.ID, md eventstore.Metadata) {
	tx.SaveAtCommit(nil, st.savings(t, md)...)
}

// savings are the parts of the order, its payment and its shipments in a
// save.
func (st *orderState) savings(t tenant.ID, md eventstore.Metadata) []eventstore.Saving {
	saves := []eventstore.Saving{orders.Saving(t, st.order.ID().UUID, st.order, md)}
	if st.payment != nil {
		saves = append(saves, payments.Saving(t, st.payment.ID().UUID, st.payment, md))
	}
	for _, s := range st.shipments {
		saves = append(saves, shipments.Saving(t, s.ID().UUID, s, md))
	}
	return saves
}

// allocation is one order line's inventory allocation.
type allocation struct {
	variant     catalog.VariantID
	reservation inventory.ReservationID
}

// compareAllocations orders allocations by variant, then reservation: the
// order every command locks inventory items in.
func compareAllocations(a, b allocation) int {
	if c := ids.Compare(a.variant.UUID, b.variant.UUID); c != 0 {
		return c
	}
	return ids.Compare(a.reservation.UUID, b.reservation.UUID)
}

// changeAllocations runs fn on each allocation's inventory item, in the
// order of variant and reservation (changeItems).
func changeAllocations(ctx context.Context, tx *eventstore.Tx, t tenant.ID, allocs []allocation, md eventstore.Metadata,
	fn func(it *inventory.Item, r inventory.ReservationID)) error {
	slices.SortFunc(allocs, compareAllocations)
	return changeItems(ctx, tx, t, allocs, func(a allocation) catalog.VariantID { return a.variant }, md,
		func(it *inventory.Item, a allocation) error {
			fn(it, a.reservation)
			return nil
		})
}

// changeItems runs fn on the inventory item of each entry's variant, and
// locks and loads the items together, then saves each variant's item once. entries must be sorted
// by variant: every command then locks variants in one order, so two of
// them cannot deadlock.
func changeItems[E any](ctx context.Context, tx *eventstore.Tx, t tenant.ID, entries []E, variant func(E) catalog.VariantID,
	md eventstore.Metadata, fn func(it *inventory.Item, e E) error) error {
	var vs []catalog.VariantID
	for _, e := range entries {
		if v := variant(e); len(vs) == 0 || vs[len(vs)-1] != v {
			vs = append(vs, v)
		}
	}
	its, err := reservations.LockItems(ctx, tx, t, vs)
	if err != nil {
		return err
	}
	i := 0
	for n, v := range vs {
		for ; i < len(entries) && variant(entries[i]) == v; i++ {
			if err := fn(its[n], entries[i]); err != nil {
				return err
			}
		}
		if err := reservations.SaveItem(ctx, tx, t, v, its[n], md); err != nil {
			return err
		}
	}
	return nil
}

// orderAllocations lists the allocations of an order's physical lines.
func orderAllocations(o *order.Order) []allocation {
	var out []allocation
	for _, l := range o.Lines() {
		if l.FulfillmentType == catalog.FulfillmentDigital || l.Reservation == uuid.Nil {
			continue
		}
		out = append(out, allocation{catalog.VariantID{UUID: l.Variant}, inventory.ReservationID{UUID: l.Reservation}})
	}
	return out
}

// checkNote validates an optional free-text field (a reason, a reference)
// of at most max characters and returns it trimmed.
func checkNote(v *errs.Collector, field, s string, max int) string {
	s = strings.TrimSpace(s)
	switch {
	case !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl):
		v.Add(field, "must be text without control characters")
	case utf8.RuneCountInString(s) > max:
		v.Add(field, fmt.Sprintf("must be at most %d characters", max))
	}
	return s
}

// orderResult is the Result of a command on an order.
func orderResult(res eventstore.Result, id uuid.UUID) Result {
	return Result{Result: res, ID: id, Version: res.Version(id)}
}

func variantID(u uuid.UUID) catalog.VariantID { return catalog.VariantID{UUID: u} }
