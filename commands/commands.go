package commands

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/honten/honten/commands/reservations"
	"github.com/honten/honten/domain/aggregate"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

// Service runs commands.
type Service struct {
	store *eventstore.Store
	now   func() time.Time
	hot   reservations.Hotness
	// skus remembers what SKUs resolved to (AddToCart by SKU).
	skus skuMemory
	// hashing bounds concurrent password hashing.
	hashing *hashGate
}

// New returns a Service on store with clock now (time.Now when nil).
func New(store *eventstore.Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	s := &Service{store: store, now: now, hashing: newHashGate(0, 0)}
	s.hot.SetThreshold(50)
	store.KeepOwners(ClaimVariant)
	return s
}

// Store returns the event store.
func (s *Service) Store() *eventstore.Store { return s.store }

// Now returns the service clock's time.
func (s *Service) Now() time.Time { return s.now().UTC() }

// By says who issues a command and in which flow.
type By struct {
	// Actor is "staff:<id>", "customer:<id>", "system:<name>" or "cli".
	Actor string
	// Staff is the issuing staff account, when there is one.
	Staff uuid.UUID
	// Correlation ties the command to its request or flow.
	Correlation uuid.UUID
	// Causation is the event that caused the command (policies).
	Causation uuid.UUID
	// CommandID makes the command idempotent: a retry with the same id
	// appends nothing (eventstore.ErrDuplicate).
	CommandID uuid.UUID
}

// System returns a By for a background actor.
func System(name string) By { return By{Actor: "system:" + name, Correlation: uuid.Must(uuid.NewV7())} }

func (b By) metadata(t tenant.ID) eventstore.Metadata {
	return eventstore.Metadata{Tenant: t, Actor: b.Actor, Correlation: b.Correlation, Causation: b.Causation, CommandID: b.CommandID}
}

// Result is what a command did.
type Result struct {
	eventstore.Result
	// ID is the id of the created or changed entity.
	ID uuid.UUID
	// Version is its stream version afterwards (the ETag).
	Version int64
}

// run executes fn in a transaction, claims the request's idempotency key
// (when the context carries one) in the same transaction, and returns fn's value.
func run[R any](ctx context.Context, s *Service, fn func(ctx context.Context, tx *eventstore.Tx) (R, error)) (R, eventstore.Result, error) {
	var out R
	res, err := s.store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		r, err := fn(ctx, tx)
		if err != nil {
			return err
		}
		out = r
		return tx.Finish(ctx)
	})
	return out, res, err
}

// repo builds an eventstore.Repo for a domain aggregate.
func repo[A eventstore.Aggregate](streamType string, fromHistory func([]aggregate.Event) A) eventstore.Repo[A] {
	return eventstore.Repo[A]{StreamType: streamType, FromHistory: fromHistory}
}

// claim claims value of kind for owner in scope (eventstore.Tx.Claim) and
// returns taken, the command's own error, when another owner holds it.
func claim(ctx context.Context, tx *eventstore.Tx, scope uuid.UUID, kind, value string, owner uuid.UUID, taken error) error {
	err := tx.Claim(ctx, scope, kind, value, owner)
	if errors.Is(err, eventstore.ErrClaimTaken) {
		return taken
	}
	return err
}

// reclaim moves owner's claim of kind from old to value (a renamed handle,
// a changed SKU); it does nothing when they are equal. It returns taken
// when another owner holds value.
func reclaim(ctx context.Context, tx *eventstore.Tx, scope uuid.UUID, kind, old, value string, owner uuid.UUID, taken error) error {
	if value == old {
		return nil
	}
	if err := tx.Release(ctx, scope, kind, old, owner); err != nil {
		return err
	}
	return claim(ctx, tx, scope, kind, value, owner, taken)
}

// DerivedID is the id the i-th entity created by an idempotent command gets,
// so a retried request creates the same ids; for other commands it is fresh.
func (b By) DerivedID(i int) uuid.UUID {
	if b.CommandID == uuid.Nil {
		return uuid.Must(uuid.NewV7())
	}
	return eventstore.DeriveID(b.CommandID, uuid.Nil, i)
}
