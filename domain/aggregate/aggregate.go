// Package aggregate holds what every event-sourced aggregate shares: the
// Event interface and Base, which tracks the loaded version and the events
// recorded since. It imports only the standard library.
//
// An aggregate decides, then records:
//
//	func (o *Order) Cancel(now time.Time, reason string) error {
//		if o.status == Shipped {
//			return ErrAlreadyShipped
//		}
//		o.record(Cancelled{At: now, Reason: reason})
//		return nil
//	}
//	func (o *Order) record(e aggregate.Event) { o.apply(e); o.Record(e) }
//
// apply only mutates: it never fails, validates or reads the clock.
package aggregate

// Event is a domain event. Its name is frozen and versioned
// ("order.cancelled.v1"): renaming one breaks every stored stream.
type Event interface {
	EventName() string
}

// Base is embedded in an aggregate root.
type Base struct {
	version int64
	pending []Event
}

// Record appends e to the events to be saved. The aggregate applies it first.
func (b *Base) Record(e Event) { b.pending = append(b.pending, e) }

// Replayed marks that n stored events were applied; FromHistory calls it.
func (b *Base) Replayed(n int) { b.version += int64(n) }

// LoadedVersion is the stream version the aggregate was loaded at: the
// expected version for the next append (0 for a new aggregate).
func (b *Base) LoadedVersion() int64 { return b.version }

// Version is the stream version after the pending events are saved.
func (b *Base) Version() int64 { return b.version + int64(len(b.pending)) }

// Pending returns the events recorded since loading.
func (b *Base) Pending() []Event { return b.pending }

// Saved marks the pending events as stored.
func (b *Base) Saved() {
	b.version += int64(len(b.pending))
	b.pending = nil
}
