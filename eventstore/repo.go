package eventstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/tenant"
)

// Aggregate is what Repo needs of an aggregate root (aggregate.Base gives it).
type Aggregate interface {
	LoadedVersion() int64
	Pending() []Event
	Saved()
}

// Repo loads and saves one aggregate type. FromHistory is the domain's
// constructor from stored events; it is the only path that skips validation.
type Repo[A Aggregate] struct {
	StreamType  string
	FromHistory func(history []Event) A
}

// Load reads the aggregate in tx. It returns ErrNotFound when the stream
// has no events for tenant t.
func (r Repo[A]) Load(ctx context.Context, tx *Tx, t tenant.ID, id uuid.UUID) (A, error) {
	var zero A
	envs, err := tx.Load(ctx, t, id)
	if err != nil {
		return zero, err
	}
	if len(envs) == 0 || envs[0].StreamType != r.StreamType {
		return zero, fmt.Errorf("%s %s: %w", r.StreamType, id, ErrNotFound)
	}
	history := make([]Event, len(envs))
	for i, e := range envs {
		history[i] = e.Data
	}
	return r.FromHistory(history), nil
}

// Save appends the aggregate's pending events at its loaded version. With
// ifVersion set (an If-Match), a stale version fails with
// ErrVersionConflict before anything is written; without it, a concurrent
// writer makes Store.Do rerun the command on fresh state.
func (r Repo[A]) Save(ctx context.Context, tx *Tx, t tenant.ID, id uuid.UUID, a A, ifVersion *int64, md Metadata) ([]Envelope, error) {
	if ifVersion != nil && *ifVersion != a.LoadedVersion() {
		return nil, fmt.Errorf("%s %s at version %d, expected %d: %w", r.StreamType, id, a.LoadedVersion(), *ifVersion, ErrVersionConflict)
	}
	envs, err := tx.Append(ctx, Stream{Tenant: t, Type: r.StreamType, ID: id}, a.LoadedVersion(), a.Pending(), md)
	if err != nil {
		if ifVersion == nil && errors.Is(err, ErrVersionConflict) {
			return nil, Retry(err)
		}
		return nil, err
	}
	a.Saved()
	return envs, nil
}

// Update loads the aggregate, runs fn on it and saves what fn recorded, in
// one transaction (rerun on an unpinned conflict). It returns ErrNotFound,
// ErrVersionConflict, ErrDuplicate or fn's error.
func (r Repo[A]) Update(ctx context.Context, s *Store, t tenant.ID, id uuid.UUID, ifVersion *int64, md Metadata, fn func(A) error) (A, Result, error) {
	var out A
	res, err := s.Do(ctx, func(ctx context.Context, tx *Tx) error {
		a, err := r.Load(ctx, tx, t, id)
		if err != nil {
			return err
		}
		if err := fn(a); err != nil {
			return err
		}
		if _, err := r.Save(ctx, tx, t, id, a, ifVersion, md); err != nil {
			return err
		}
		out = a
		return nil
	})
	return out, res, err
}
