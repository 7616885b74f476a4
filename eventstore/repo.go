package eventstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

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
	// Continue, when set, returns a copy of a as stored (events it
	// recorded count as saved) with more, the stream's next events,
	// applied, leaving a unchanged. Load then starts from the state the
	// store kept of the stream after the last committed transaction that
	// loaded or saved it, and reads only the events after it: a cart
	// changed by every add-to-cart is not replayed from its first event
	// each time.
	Continue func(a A, more []Event) A
}

// Load reads the aggregate in tx. It returns ErrNotFound when the stream
// has no events for tenant t. Each call returns an instance of its own.
func (r Repo[A]) Load(ctx context.Context, tx *Tx, t tenant.ID, id uuid.UUID) (A, error) {
	if r.Continue == nil {
		a, _, err := r.load(ctx, tx, t, id)
		return a, err
	}
	key := sharedKey{tenant: t.UUID, stream: id, streamType: r.StreamType}
	if base, version, ok := r.kept(tx, key); ok {
		envs, err := tx.store.LoadFrom(ctx, tx, t, id, version)
		if err != nil {
			var zero A
			return zero, err
		}
		if a, ok := r.continueKept(tx, key, base, envs); ok {
			return a, nil
		}
	}
	return r.loadAndKeep(ctx, tx, t, id, key)
}

// LoadAhead is Load with ReadAhead of the streams the transaction reads
// next beside it: when the store keeps the aggregate, the read of its
// newer events and the check of those streams go to the server in one
// round trip (a pipelined batch) instead of two. An add-to-cart loads the
// cart and checks the product and the shop this way.
func (r Repo[A]) LoadAhead(ctx context.Context, tx *Tx, t tenant.ID, id uuid.UUID, ahead ...ReadKey) (A, error) {
	var zero A
	key := sharedKey{tenant: t.UUID, stream: id, streamType: r.StreamType}
	checks := tx.aheadChecks(ahead)
	base, version, ok := r.kept(tx, key)
	if !ok || len(checks) == 0 {
		if err := tx.ReadAhead(ctx, ahead...); err != nil {
			return zero, err
		}
		return r.Load(ctx, tx, t, id)
	}
	b := &pgx.Batch{}
	b.Queue(loadQuery, t, id, version)
	q, args := checks.statement()
	b.Queue(q, args...)
	var envs []Envelope
	err := func() (err error) {
		br := tx.SendBatch(ctx, b)
		defer func() {
			if cerr := br.Close(); err == nil {
				err = cerr
			}
		}()
		rows, err := br.Query()
		if err != nil {
			return fmt.Errorf("load stream %s: %w", id, err)
		}
		if envs, err = scanEvents(rows); err != nil {
			return fmt.Errorf("load stream %s: %w", id, err)
		}
		rows, err = br.Query()
		if err != nil {
			return fmt.Errorf("check streams: %w", err)
		}
		return tx.rememberCurrent(checks, rows)
	}()
	if err != nil {
		return zero, err
	}
	if err := tx.store.decode(ctx, tx, envs); err != nil {
		return zero, fmt.Errorf("load stream %s: %w", id, err)
	}
	if a, ok := r.continueKept(tx, key, base, envs); ok {
		return a, nil
	}
	return r.loadAndKeep(ctx, tx, t, id, key)
}

// Kept returns the instance of stream id of tenant t the store keeps (as
// of the last committed transaction that loaded or saved it through a Repo
// with Continue), for reading only: a hint of what a command will find,
// such as the streams to check ahead of its load, never what it decides
// on.
func (r Repo[A]) Kept(tx *Tx, t tenant.ID, id uuid.UUID) (A, bool) {
	a, _, ok := r.kept(tx, sharedKey{tenant: t.UUID, stream: id, streamType: r.StreamType})
	return a, ok
}

// kept returns the instance of the stream the store keeps (as of the last
// committed transaction that loaded or saved it) and its version, for a
// Repo with Continue.
func (r Repo[A]) kept(tx *Tx, key sharedKey) (A, int64, bool) {
	var zero A
	if r.Continue == nil {
		return zero, 0, false
	}
	v, version, ok := tx.store.kept.Get(key)
	if !ok {
		return zero, 0, false
	}
	base, ok := v.(A)
	return base, version, ok
}

// continueKept applies envs, the stream's events after base, to a copy of
// base and keeps the result once tx commits; false when they carry
// personal data (such a stream is read in full and never kept).
func (r Repo[A]) continueKept(tx *Tx, key sharedKey, base A, envs []Envelope) (A, bool) {
	more := make([]Event, len(envs))
	for i, e := range envs {
		if e.PersonalKey != uuid.Nil {
			var zero A
			return zero, false
		}
		more[i] = e.Data
	}
	a := r.Continue(base, more)
	r.keep(tx, key, a)
	return a, true
}

// loadAndKeep reads the aggregate in full and, unless it holds personal
// data, keeps it once tx commits (for a Repo with Continue).
func (r Repo[A]) loadAndKeep(ctx context.Context, tx *Tx, t tenant.ID, id uuid.UUID, key sharedKey) (A, error) {
	a, personal, err := r.load(ctx, tx, t, id)
	if err != nil || personal {
		return a, err
	}
	if r.Continue != nil {
		r.keep(tx, key, a)
	}
	return a, nil
}

// keep keeps a copy of a once tx has committed, as the transaction left it
// (as loaded, or as it saved it); an instance holding events it did not
// save is not kept.
func (r Repo[A]) keep(tx *Tx, key sharedKey, a A) {
	tx.AfterCommit(func() {
		if len(a.Pending()) == 0 {
			tx.store.kept.Offer(key, a.LoadedVersion(), func() any { return r.Continue(a, nil) })
		}
	})
}

// load is Load, also reporting whether the stream holds personal data.
func (r Repo[A]) load(ctx context.Context, tx *Tx, t tenant.ID, id uuid.UUID) (A, bool, error) {
	var zero A
	envs, err := tx.Load(ctx, t, id)
	if err != nil {
		return zero, false, err
	}
	return r.fromStream(id, envs)
}

// FromStream is the aggregate of stream id from its whole history, read
// by Tx.LoadAfter (from version 0) or Tx.LoadStreams with other reads in
// one round trip. It returns ErrNotFound for no events or a stream of
// another type, as Load does.
func (r Repo[A]) FromStream(id uuid.UUID, envs []Envelope) (A, error) {
	a, _, err := r.fromStream(id, envs)
	return a, err
}

// fromStream is FromStream, also reporting whether the stream holds
// personal data.
func (r Repo[A]) fromStream(id uuid.UUID, envs []Envelope) (A, bool, error) {
	var zero A
	if len(envs) == 0 || envs[0].StreamType != r.StreamType {
		return zero, false, fmt.Errorf("%s %s: %w", r.StreamType, id, ErrNotFound)
	}
	personal := false
	history := make([]Event, len(envs))
	for i, e := range envs {
		history[i] = e.Data
		personal = personal || e.PersonalKey != uuid.Nil
	}
	return r.FromHistory(history), personal, nil
}

// Read returns the aggregate as committed, for reading only: the instance
// is shared with other commands of the process, so the caller must not
// change it (record nothing on it, change nothing it returns). Products
// and the shop's settings are read by every cart and checkout command and
// change rarely: Read keeps the last committed instance of a stream in the
// store's memory and, in tx, only checks that the stream has no newer
// event (one index probe) instead of reading and decoding its history. A
// stream with newer events is read again in full. A stream holding
// personal data is never kept (a forgotten subject's data must not outlive
// its key in memory). Read returns ErrNotFound as Load does.
func (r Repo[A]) Read(ctx context.Context, tx *Tx, t tenant.ID, id uuid.UUID) (A, error) {
	key := sharedKey{tenant: t.UUID, stream: id, streamType: r.StreamType}
	// What the transaction read (or checked with ReadAhead) before it
	// appended to the stream: a command's transaction reads the shop or a
	// product as of its first read. ReadAhead sends nothing for such a
	// stream, and otherwise remembers the kept instance when the stream has
	// no newer event.
	if err := tx.ReadAhead(ctx, ReadKey{key}); err != nil {
		var zero A
		return zero, err
	}
	if v, ok := tx.read[key]; ok && !tx.appendedTo(id) {
		if a, ok := v.(A); ok && len(a.Pending()) == 0 {
			return a, nil
		}
	}
	a, personal, err := r.load(ctx, tx, t, id)
	if err != nil || personal {
		return a, err
	}
	tx.remember(key, a)
	// Kept once the transaction has committed: then what it read (and not
	// an event it appended and could still roll back) is committed.
	tx.AfterCommit(func() {
		if len(a.Pending()) == 0 {
			tx.store.shared.Put(key, a, a.LoadedVersion())
		}
	})
	return a, nil
}

// remember keeps what Read checked for the rest of the transaction.
func (tx *Tx) remember(key sharedKey, a any) {
	if tx.read == nil {
		tx.read = map[sharedKey]any{}
	}
	tx.read[key] = a
}

// movedOn notes a stream ReadAhead found newer than the instance kept: a
// Read of it in the transaction reads it in full at once.
func (tx *Tx) movedOn(key sharedKey) {
	if tx.moved == nil {
		tx.moved = map[sharedKey]bool{}
	}
	tx.moved[key] = true
}

// appendedTo reports whether the transaction appended to stream id.
func (tx *Tx) appendedTo(id uuid.UUID) bool {
	for i := range tx.appended {
		if tx.appended[i].StreamID == id {
			return true
		}
	}
	return false
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
	saves := make([]Saving, len(ids))
	for i, id := range ids {
		saves[i] = r.Saving(t, id, as[id], md)
	}
	return tx.SaveAll(ctx, nil, saves...)
}

// Saving is one aggregate's part of Tx.SaveAll.
type Saving struct {
	part StreamAppend
	agg  Aggregate
}

// Saving is the part of a in a Tx.SaveAll: its pending events, appended at
// its loaded version.
func (r Repo[A]) Saving(t tenant.ID, id uuid.UUID, a A, md Metadata) Saving {
	return Saving{part: StreamAppend{Stream: Stream{Tenant: t, Type: r.StreamType, ID: id}, Expected: a.LoadedVersion(), Events: a.Pending(), Metadata: md}, agg: a}
}

// SaveAll saves aggregates of any types, each as Save without ifVersion
// would (a concurrent writer makes Store.Do rerun the command), with the
// statements queued in with, all in one round trip. A
// command that places an order saves the order, its payment, the cart and
// the inventory items this way, instead of one exchange for each.
func (tx *Tx) SaveAll(ctx context.Context, with *pgx.Batch, saves ...Saving) error {
	if _, err := tx.appendAllWith(ctx, savingParts(saves), with); err != nil {
		if errors.Is(err, ErrVersionConflict) {
			return Retry(err)
		}
		return err
	}
	for _, s := range saves {
		s.agg.Saved()
	}
	return nil
}

// savingParts are the appends of saves.
func savingParts(saves []Saving) []StreamAppend {
	parts := make([]StreamAppend, len(saves))
	for i, s := range saves {
		parts[i] = s.part
	}
	return parts
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
