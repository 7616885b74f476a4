package eventstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

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

// LoadAll reads many aggregates with one query (Tx.LoadStreams). An id
// with no stream of this type is absent from the map.
func (r Repo[A]) LoadAll(ctx context.Context, tx *Tx, t tenant.ID, ids []uuid.UUID) (map[uuid.UUID]A, error) {
	streams, err := tx.LoadStreams(ctx, t, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID]A, len(streams))
	for id, envs := range streams {
		if envs[0].StreamType != r.StreamType {
			continue
		}
		history := make([]Event, len(envs))
		for i, e := range envs {
			history[i] = e.Data
		}
		out[id] = r.FromHistory(history)
	}
	return out, nil
}

// SaveAll appends the pending events of many aggregates in one round trip
// (Tx.AppendAll), each at its loaded version; a concurrent writer makes
// Store.Do rerun the command on fresh state, as Save does.
func (r Repo[A]) SaveAll(ctx context.Context, tx *Tx, t tenant.ID, as map[uuid.UUID]A, md Metadata) error {
	ids := make([]uuid.UUID, 0, len(as))
	for id, a := range as {
		if len(a.Pending()) > 0 {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	parts := make([]StreamAppend, 0, len(ids))
	for _, id := range ids {
		a := as[id]
		parts = append(parts, StreamAppend{Stream: Stream{Tenant: t, Type: r.StreamType, ID: id}, Expected: a.LoadedVersion(), Events: a.Pending(), Metadata: md})
	}
	if _, err := tx.AppendAll(ctx, parts); err != nil {
		if errors.Is(err, ErrVersionConflict) {
			return Retry(err)
		}
		return err
	}
	for _, id := range ids {
		as[id].Saved()
	}
	return nil
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
