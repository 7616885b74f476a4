package commands

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/cart"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/inventory"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

// ReservationOptions tune the reservation worker.
type ReservationOptions struct {
	// Batch is how many feed events a lane reads at once; 0 means 500.
	Batch int
	// Parallel is how many transactions a lane runs at once; 0 means 4.
	Parallel int
	// ChunkVariants is how many variants one transaction decides; 0 means 16.
	ChunkVariants int
	// MinPoll and MaxPoll bound the idle polling backoff; 0 means 1ms and
	// 50ms, or 1ms and 5s with Changes.
	MinPoll, MaxPoll time.Duration
	// Changes, when set, returns a channel closed when the feed may hold
	// something new (eventstore.Watcher.Changes): an idle lane waits on it,
	// and its own polling is only a safety net.
	Changes func() <-chan struct{}
	// ExpiryEvery is the longest wait between two looks for due holds; 0
	// means 500ms, or 5s with Changes. The expiry loop also wakes at the
	// next hold's expiry time and after every decision.
	ExpiryEvery time.Duration
	// LockRetry is how often a standby retries a lane's lock; 0 means 1s.
	LockRetry time.Duration
	Logger    *slog.Logger
}

// ReservationWorker decides reservation requests: it reads the reservation
// feed (requests, quantity changes, removals recorded in carts), groups the
// requests of a batch by variant, and decides each variant's requests with
// one append to its inventory stream. Hot lines go to their own lane with
// its own checkpoint and connection, so a flash sale on one SKU queues up
// there and never delays other SKUs. A third loop expires holds whose time
// ran out. Each lane runs on one process at a time (an advisory lock).
//
// Decisions are idempotent: each is recorded with the reservation's id in
// the reservation index in the same transaction, and a request already
// decided is skipped — so a crash between a decision and the checkpoint
// (the batch is read again) decides nothing twice.
type ReservationWorker struct {
	s    *Service
	opts ReservationOptions
	log  *slog.Logger

	mu      sync.Mutex
	decided chan struct{} // closed and replaced after every decision commit
	meta    map[uuid.UUID]variantMeta
	wake    map[string]chan struct{}
	// waiters are the requests in this process waiting for a decision.
	waiters map[uuid.UUID][]chan ReservationStatus
	leading map[string]*atomic.Bool
}

// variantMeta is what deciding needs about a variant: where its product is
// sold from and the tenant's hold time; refreshed every few seconds.
type variantMeta struct {
	locations []uuid.UUID
	ttl       time.Duration
	at        time.Time
}

// NewReservationWorker returns the worker.
func (s *Service) NewReservationWorker(o ReservationOptions) *ReservationWorker {
	if o.Batch <= 0 {
		o.Batch = 500
	}
	if o.Parallel <= 0 {
		o.Parallel = 4
	}
	if o.ChunkVariants <= 0 {
		o.ChunkVariants = 16
	}
	if o.MinPoll <= 0 {
		o.MinPoll = time.Millisecond
	}
	if o.MaxPoll <= 0 {
		o.MaxPoll = 50 * time.Millisecond
		if o.Changes != nil {
			o.MaxPoll = 5 * time.Second
		}
	}
	if o.ExpiryEvery <= 0 {
		o.ExpiryEvery = 500 * time.Millisecond
		if o.Changes != nil {
			o.ExpiryEvery = 5 * time.Second
		}
	}
	if o.LockRetry <= 0 {
		o.LockRetry = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &ReservationWorker{s: s, opts: o, log: o.Logger, decided: make(chan struct{}), meta: map[uuid.UUID]variantMeta{},
		wake:    map[string]chan struct{}{LaneHot: make(chan struct{}, 1), LaneNormal: make(chan struct{}, 1)},
		waiters: map[uuid.UUID][]chan ReservationStatus{},
		leading: map[string]*atomic.Bool{LaneHot: {}, LaneNormal: {}, laneExpiry: {}}}
}

// Await registers interest in a reservation's decision: the returned
// channel receives it when this process's worker commits it. Register
// before checking the index, so a decision in between is not missed; call
// cancel when done. Decisions made by a worker in another process are not
// delivered (see Leading).
func (w *ReservationWorker) Await(id uuid.UUID) (<-chan ReservationStatus, func()) {
	ch := make(chan ReservationStatus, 1)
	w.mu.Lock()
	w.waiters[id] = append(w.waiters[id], ch)
	w.mu.Unlock()
	return ch, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		ws := w.waiters[id]
		for i, c := range ws {
			if c == ch {
				ws = append(ws[:i], ws[i+1:]...)
				break
			}
		}
		if len(ws) == 0 {
			delete(w.waiters, id)
		} else {
			w.waiters[id] = ws
		}
	}
}

// Leading reports whether this process's worker runs lane now (holds its
// lock), so that Await will see the lane's decisions.
func (w *ReservationWorker) Leading(lane string) bool {
	l, ok := w.leading[lane]
	return ok && l.Load()
}

// deliver hands committed decisions to their waiters.
func (w *ReservationWorker) deliver(ds map[uuid.UUID]ReservationStatus) {
	if len(ds) == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for id, st := range ds {
		for _, ch := range w.waiters[id] {
			select {
			case ch <- st:
			default:
			}
		}
	}
}

// Nudge wakes idle lanes now (the store calls it after a commit in this
// process) instead of at their next poll.
func (w *ReservationWorker) Nudge() {
	for _, ch := range w.wake {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Decided returns a channel closed at the next decision commit (waiters
// in this process re-check the reservation index then).
func (w *ReservationWorker) Decided() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.decided
}

func (w *ReservationWorker) signal() {
	w.mu.Lock()
	close(w.decided)
	w.decided = make(chan struct{})
	w.mu.Unlock()
}

// lockPing is how often a lane's lock session is checked: a lost session
// means another process may have taken over.
const lockPing = 3 * time.Second

// Lane names.
const (
	LaneHot    = "reservations.hot"
	LaneNormal = "reservations.normal"
	laneExpiry = "reservations.expiry"
)

// Run runs both lanes and the expiry loop until ctx ends.
func (w *ReservationWorker) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, lane := range []string{LaneHot, LaneNormal} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.lead(ctx, lane, func(ctx context.Context) error { return w.runLane(ctx, lane) })
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		w.lead(ctx, laneExpiry, func(ctx context.Context) error {
			for {
				// A decision made after this look may add a hold that is due
				// sooner than the next one seen now (a shorter hold time):
				// decisions wake the loop.
				decided := w.Decided()
				wait := w.opts.ExpiryEvery
				if _, err := w.ExpireDue(ctx); err != nil && ctx.Err() == nil {
					w.log.Error("reservations: expiry failed", "err", err)
				} else if next, ok, err := NextHoldExpiry(ctx, w.s.store.Pool()); err == nil && ok {
					wait = min(wait, max(time.Until(next)+time.Millisecond, time.Millisecond))
				}
				t := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					t.Stop()
					return nil
				case <-decided:
					t.Stop()
				case <-t.C:
				}
			}
		})
	}()
	wg.Wait()
	return nil
}

// lead runs fn while holding the named advisory lock on a dedicated
// connection; a standby retries.
func (w *ReservationWorker) lead(ctx context.Context, name string, fn func(context.Context) error) {
	for ctx.Err() == nil {
		err := func() error {
			conn, err := w.s.store.Pool().Acquire(ctx)
			if err != nil {
				return err
			}
			defer conn.Release()
			var ok bool
			if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended('honten.worker:' || $1, 0))`, name).Scan(&ok); err != nil {
				return err
			}
			if !ok {
				return nil
			}
			defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(hashtextextended('honten.worker:' || $1, 0))`, name) //nolint:errcheck
			lctx, cancel := context.WithCancel(ctx)
			pinged := make(chan struct{})
			defer func() { cancel(); <-pinged }() // before the unlock: one user of conn at a time
			go func() {                           // losing the lock's session means another process may take over
				defer close(pinged)
				t := time.NewTicker(lockPing)
				defer t.Stop()
				for {
					select {
					case <-lctx.Done():
						return
					case <-t.C:
						if conn.Ping(lctx) != nil {
							cancel()
							return
						}
					}
				}
			}()
			if l := w.leading[name]; l != nil {
				l.Store(true)
				defer l.Store(false)
			}
			return fn(lctx)
		}()
		if err != nil && ctx.Err() == nil {
			w.log.Error("reservations: worker stopped; retrying", "lane", name, "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(w.opts.LockRetry):
		}
	}
}

func (w *ReservationWorker) runLane(ctx context.Context, lane string) error {
	backoff := w.opts.MinPoll
	for ctx.Err() == nil {
		// Taken before the read: a change while it runs is not missed.
		var changed <-chan struct{}
		if w.opts.Changes != nil {
			changed = w.opts.Changes()
		}
		n, cp, err := w.process(ctx, lane)
		if err != nil {
			return err
		}
		if n > 0 {
			backoff = w.opts.MinPoll
			continue
		}
		// Committed requests held back by an older transaction still
		// running (the feed reads only below it) are read soon after it
		// ends (it may append nothing, so no nudge comes): poll every few
		// milliseconds at most while that lasts.
		held, err := eventstore.ReservationFeedHeldBack(ctx, w.s.store.Pool(), cp)
		if err != nil {
			return err
		}
		if held {
			backoff = min(backoff, max(w.opts.MinPoll, heldPoll))
		}
		select {
		case <-ctx.Done():
		case <-changed:
			backoff = w.opts.MinPoll
		case <-w.wake[lane]:
			backoff = w.opts.MinPoll
		case <-time.After(backoff):
			backoff = min(backoff*2, w.opts.MaxPoll)
		}
	}
	return nil
}

// op is one thing to do to a variant's stock.
type op struct {
	release bool
	r       inventory.ReservationID
	req     inventory.Requested
	reason  string
}

type variantKey struct {
	tenant  tenant.ID
	variant uuid.UUID
}

// Process reads one batch of lane's feed, decides it, and moves the lane's
// checkpoint past it. It returns how many feed events it read.
func (w *ReservationWorker) Process(ctx context.Context, lane string) (int, error) {
	n, _, err := w.process(ctx, lane)
	return n, err
}

// process is Process, also returning the checkpoint it read from.
func (w *ReservationWorker) process(ctx context.Context, lane string) (int, eventstore.Position, error) {
	pool := w.s.store.Pool()
	cp, err := w.checkpoint(ctx, lane)
	if err != nil {
		return 0, cp, err
	}
	evs, err := eventstore.ReadReservationFeed(ctx, pool, cp, w.opts.Batch)
	if err != nil || len(evs) == 0 {
		return 0, cp, err
	}
	hotLane := lane == LaneHot
	reg := w.s.store.Registry()
	var order []variantKey
	ops := map[variantKey][]op{}
	add := func(k variantKey, o op) {
		if _, ok := ops[k]; !ok {
			order = append(order, k)
		}
		ops[k] = append(ops[k], o)
	}
	for _, env := range evs {
		ev, err := reg.Decode(env)
		if err != nil {
			return 0, cp, err
		}
		switch e := ev.(type) {
		case inventory.Requested:
			if e.Hot == hotLane {
				add(variantKey{env.Tenant, e.Variant}, op{r: e.Reservation, req: e})
			}
		case cart.QuantityChanged:
			if e.Hot == hotLane && !e.Previous.IsZero() {
				add(variantKey{env.Tenant, e.Variant}, op{release: true, r: e.Previous, reason: "quantity_changed"})
			}
		case cart.ItemRemoved:
			if e.Hot == hotLane && !e.Reservation.IsZero() {
				add(variantKey{env.Tenant, e.Variant}, op{release: true, r: e.Reservation, reason: "removed"})
			}
		}
	}
	// Decide variants in chunks, one transaction (one commit) per chunk, the
	// chunks in parallel; each variant's ops stay in feed order.
	chunks := chunk(order, w.opts.ChunkVariants)
	sem := make(chan struct{}, w.opts.Parallel)
	errc := make(chan error, len(chunks))
	var wg sync.WaitGroup
	for _, keys := range chunks {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ds, err := w.decide(ctx, keys, ops)
			if err != nil {
				errc <- err
				return
			}
			w.deliver(ds)
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		return 0, cp, err
	}
	if len(order) > 0 {
		w.signal()
	}
	last := evs[len(evs)-1].Position
	return len(evs), last, w.saveCheckpoint(ctx, lane, last)
}

// heldPoll is the longest poll interval while committed requests are held
// back.
const heldPoll = 4 * time.Millisecond

func (w *ReservationWorker) checkpoint(ctx context.Context, lane string) (eventstore.Position, error) {
	var txText string
	var p eventstore.Position
	err := w.s.store.Pool().QueryRow(ctx, `SELECT tx_id::text, position FROM worker_checkpoints WHERE name = $1`, lane).Scan(&txText, &p.Pos)
	if errors.Is(err, pgx.ErrNoRows) {
		return eventstore.Position{}, nil
	}
	if err != nil {
		return p, err
	}
	p.Tx, _ = strconv.ParseUint(txText, 10, 64)
	return p, nil
}

func (w *ReservationWorker) saveCheckpoint(ctx context.Context, lane string, p eventstore.Position) error {
	_, err := w.s.store.Pool().Exec(ctx, `INSERT INTO worker_checkpoints (name, tx_id, position, updated_at) VALUES ($1, $2::text::xid8, $3, now())
ON CONFLICT (name) DO UPDATE SET tx_id = excluded.tx_id, position = excluded.position, updated_at = now()`, lane, p.TxText(), p.Pos)
	return err
}

// metaOf returns the variant's sale locations and the tenant's hold time.
func (w *ReservationWorker) metaOf(ctx context.Context, tx *eventstore.Tx, k variantKey, now time.Time) (variantMeta, error) {
	w.mu.Lock()
	m, ok := w.meta[k.variant]
	w.mu.Unlock()
	if ok && now.Sub(m.at) < 5*time.Second && m.at.Before(now.Add(time.Second)) {
		return m, nil
	}
	pid, err := VariantProduct(ctx, tx, k.tenant, catalog.VariantID{UUID: k.variant})
	if err != nil {
		return variantMeta{}, err
	}
	p, err := products.Load(ctx, tx, k.tenant, pid.UUID)
	if err != nil {
		return variantMeta{}, err
	}
	t, err := tenants.Load(ctx, tx, k.tenant, k.tenant.UUID)
	if err != nil {
		return variantMeta{}, err
	}
	m = variantMeta{locations: p.Locations(), ttl: time.Duration(t.Settings().ReservationTTLMinutes) * time.Minute, at: now}
	w.mu.Lock()
	w.meta[k.variant] = m
	w.mu.Unlock()
	return m, nil
}

// chunk splits keys into groups of at most n, in order, locking order kept
// within each (sorted by variant, so concurrent transactions cannot deadlock).
func chunk(keys []variantKey, n int) [][]variantKey {
	var out [][]variantKey
	for len(keys) > 0 {
		k := min(n, len(keys))
		c := append([]variantKey(nil), keys[:k]...)
		sort.Slice(c, func(i, j int) bool { return c[i].variant.String() < c[j].variant.String() })
		out = append(out, c)
		keys = keys[k:]
	}
	return out
}

// decide applies the ops of some variants in one transaction: one append
// to each variant's inventory stream, and the reservation index rows of the
// decisions.
// It returns the decisions, for delivery once committed.
func (w *ReservationWorker) decide(ctx context.Context, keys []variantKey, ops map[variantKey][]op) (map[uuid.UUID]ReservationStatus, error) {
	var ds map[uuid.UUID]ReservationStatus
	_, err := w.s.store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		ds = map[uuid.UUID]ReservationStatus{}
		now := w.s.Now()
		var ids []uuid.UUID
		for _, k := range keys {
			for _, o := range ops[k] {
				ids = append(ids, o.r.UUID)
			}
		}
		done, err := indexedStatus(ctx, tx, ids)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := w.decideVariant(ctx, tx, k, ops[k], done, ds, now); err != nil {
				return fmt.Errorf("decide %s: %w", k.variant, err)
			}
		}
		return nil
	})
	return ds, err
}

func (w *ReservationWorker) decideVariant(ctx context.Context, tx *eventstore.Tx, k variantKey, ops []op, done map[uuid.UUID]string,
	ds map[uuid.UUID]ReservationStatus, now time.Time) error {
	vid := catalog.VariantID{UUID: k.variant}
	m, err := w.metaOf(ctx, tx, k, now)
	if err != nil {
		return err
	}
	if err := lockItem(ctx, tx, vid); err != nil {
		return err
	}
	it, err := loadItem(ctx, tx, k.tenant, vid)
	if err != nil {
		return err
	}
	for _, o := range ops {
		st, seen := done[o.r.UUID]
		switch {
		case o.release && (st == "reserved" || !seen):
			it.Release(o.r, o.reason, now)
		case !o.release && !seen:
			it.Reserve(o.req, m.locations, m.ttl, now)
		}
	}
	pending := it.Pending()
	if len(pending) == 0 {
		return nil
	}
	if err := saveItem(ctx, tx, k.tenant, vid, it, eventstore.Metadata{Tenant: k.tenant, Actor: "system:reservations"}); err != nil {
		return err
	}
	for _, e := range pending {
		switch e := e.(type) {
		case inventory.Reserved:
			at := e.ExpiresAt.UTC().Truncate(time.Microsecond) // as the index stores it
			ds[e.Reservation.UUID] = ReservationStatus{Status: "reserved", ExpiresAt: &at}
		case inventory.Rejected:
			ds[e.Reservation.UUID] = ReservationStatus{Status: "rejected"}
		case inventory.Released:
			ds[e.Reservation.UUID] = ReservationStatus{Status: "released"}
		}
	}
	return indexDecisions(ctx, tx, k, ops, pending, now)
}

// indexedStatus returns the reservation index status of the ids it knows.
func indexedStatus(ctx context.Context, q eventstore.Querier, ids []uuid.UUID) (map[uuid.UUID]string, error) {
	rows, err := q.Query(ctx, `SELECT reservation_id, status FROM reservation_index WHERE reservation_id = ANY($1)`, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[uuid.UUID]string{}
	for rows.Next() {
		var id uuid.UUID
		var st string
		if err := rows.Scan(&id, &st); err != nil {
			return nil, err
		}
		out[id] = st
	}
	return out, rows.Err()
}

// indexDecisions writes the reservation index rows of recorded decisions.
func indexDecisions(ctx context.Context, tx *eventstore.Tx, k variantKey, ops []op, pending []eventstore.Event, now time.Time) error {
	hot := map[uuid.UUID]bool{}
	for _, o := range ops {
		hot[o.r.UUID] = o.req.Hot
	}
	b := &pgx.Batch{}
	for _, e := range pending {
		switch e := e.(type) {
		case inventory.Reserved:
			b.Queue(`INSERT INTO reservation_index (reservation_id, tenant_id, variant_id, cart_id, line_id, status, location_id, quantity, expires_at, hot, decided_at)
VALUES ($1, $2, $3, $4, $5, 'reserved', $6, $7, $8, $9, $10)`, e.Reservation, k.tenant, k.variant, e.Cart, e.Line, e.Location, e.Quantity, e.ExpiresAt, hot[e.Reservation.UUID], now)
		case inventory.Rejected:
			b.Queue(`INSERT INTO reservation_index (reservation_id, tenant_id, variant_id, cart_id, line_id, status, quantity, hot, decided_at)
VALUES ($1, $2, $3, $4, $5, 'rejected', $6, $7, $8)`, e.Reservation, k.tenant, k.variant, e.Cart, e.Line, e.Quantity, hot[e.Reservation.UUID], now)
		case inventory.Released:
			b.Queue(`INSERT INTO reservation_index (reservation_id, tenant_id, variant_id, cart_id, line_id, status, quantity, decided_at)
VALUES ($1, $2, $3, $4, $4, 'released', 0, $5)
ON CONFLICT (reservation_id) DO UPDATE SET status = 'released', decided_at = excluded.decided_at`, e.Reservation, k.tenant, k.variant, uuid.Nil, now)
		case inventory.Expired:
			b.Queue(`UPDATE reservation_index SET status = 'expired', decided_at = $2 WHERE reservation_id = $1`, e.Reservation, now)
		}
	}
	if b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, b).Close()
}

// NextHoldExpiry returns when the first live hold expires (through the
// partial index on due holds); ok is false when no hold is live.
func NextHoldExpiry(ctx context.Context, q eventstore.Querier) (time.Time, bool, error) {
	var next *time.Time
	if err := q.QueryRow(ctx, `SELECT min(expires_at) FROM reservation_index WHERE status = 'reserved'`).Scan(&next); err != nil {
		return time.Time{}, false, fmt.Errorf("next hold expiry: %w", err)
	}
	if next == nil {
		return time.Time{}, false, nil
	}
	return *next, true, nil
}

// DueHolds returns up to limit variants with a live hold expired at now,
// through the partial index on live holds' expiry times: its cost follows
// the number of due holds, never the size of the index.
func DueHolds(ctx context.Context, q eventstore.Querier, now time.Time, limit int) ([]DueHold, error) {
	rows, err := q.Query(ctx, `SELECT DISTINCT tenant_id, variant_id FROM reservation_index
WHERE status = 'reserved' AND expires_at <= $1 LIMIT $2`, now, limit)
	if err != nil {
		return nil, fmt.Errorf("due holds: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (DueHold, error) {
		var k DueHold
		return k, r.Scan(&k.Tenant, &k.Variant)
	})
}

// DueHold names a variant with an expired live hold.
type DueHold struct {
	Tenant  tenant.ID
	Variant uuid.UUID
}

// ExpireDue expires every hold whose time has come (by the service clock)
// and returns how many it expired.
func (w *ReservationWorker) ExpireDue(ctx context.Context) (int, error) {
	now := w.s.Now()
	due, err := DueHolds(ctx, w.s.store.Pool(), now, 1000)
	if err != nil {
		return 0, err
	}
	keys := make([]variantKey, len(due))
	for i, d := range due {
		keys[i] = variantKey{d.Tenant, d.Variant}
	}
	total := 0
	for _, k := range keys {
		vid := catalog.VariantID{UUID: k.variant}
		_, err := w.s.store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
			if err := lockItem(ctx, tx, vid); err != nil {
				return err
			}
			it, err := loadItem(ctx, tx, k.tenant, vid)
			if err != nil {
				return err
			}
			it.ExpireDue(now)
			pending := it.Pending()
			if len(pending) == 0 {
				// Already gone from the stream (committed or released): fix the index.
				_, err := tx.Exec(ctx, `UPDATE reservation_index SET status = 'expired' WHERE tenant_id = $1 AND variant_id = $2
  AND status = 'reserved' AND expires_at <= $3 AND NOT (reservation_id = ANY($4))`, k.tenant, k.variant, now, holdIDs(it))
				return err
			}
			if err := saveItem(ctx, tx, k.tenant, vid, it, eventstore.Metadata{Tenant: k.tenant, Actor: "system:reservations"}); err != nil {
				return err
			}
			total += len(pending)
			return indexDecisions(ctx, tx, k, nil, pending, now)
		})
		if err != nil {
			return total, fmt.Errorf("expire holds of %s: %w", k.variant, err)
		}
	}
	if total > 0 {
		w.signal()
	}
	return total, nil
}

func holdIDs(it *inventory.Item) []uuid.UUID {
	var out []uuid.UUID
	for _, h := range it.Holds() {
		out = append(out, h.Reservation.UUID)
	}
	return out
}

// ReservationStatus is a reservation's state in the index.
type ReservationStatus struct {
	Status    string // "pending" until decided
	ExpiresAt *time.Time
}

// ReservationStatuses returns the index status of reservations; unknown
// ones are pending.
func (s *Service) ReservationStatuses(ctx context.Context, t tenant.ID, ids []uuid.UUID) (map[uuid.UUID]ReservationStatus, error) {
	rows, err := s.store.Pool().Query(ctx, `SELECT reservation_id, status, expires_at FROM reservation_index WHERE tenant_id = $1 AND reservation_id = ANY($2)`, t, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[uuid.UUID]ReservationStatus, len(ids))
	for _, id := range ids {
		out[id] = ReservationStatus{Status: "pending"}
	}
	for rows.Next() {
		var id uuid.UUID
		var st ReservationStatus
		if err := rows.Scan(&id, &st.Status, &st.ExpiresAt); err != nil {
			return nil, err
		}
		out[id] = st
	}
	return out, rows.Err()
}
