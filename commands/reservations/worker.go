package reservations

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/cart"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/inventory"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/database"
)

// Options tune the reservation worker.
type Options struct {
	// Batch is how many feed events a lane reads at once; 0 means 500.
	Batch int
	// Parallel is how many transactions a lane runs at once; 0 means 4.
	Parallel int
	// ChunkVariants is how many variants one transaction decides; 0 means 16.
	ChunkVariants int
	// MinPoll and MaxPoll bound the idle polling backoff; 0 means 1ms and
	// 50ms, or 1ms and 5s with Changes.
	MinPoll, MaxPoll time.Duration
	// Changes, when set, returns a channel closed when requests may have
	// become readable on the feed (eventstore.Watcher.ChangesOf the cart
	// stream type), also after a commit in another process: an idle lane
	// waits on it, and its own polling is then only a safety net.
	Changes func() <-chan struct{}
	// DecisionChanges, when set, returns a channel closed when decisions
	// may have become readable (eventstore.Watcher.ChangesOf the inventory
	// stream type): waiters (Wait) wait on it for a decision made in
	// another process. Nil means Changes.
	DecisionChanges func() <-chan struct{}
	// ExpiryEvery is the longest wait between two looks for due holds; 0
	// means 500ms, or 5s with Changes. The expiry loop also wakes at the
	// next hold's expiry time and after every decision.
	ExpiryEvery time.Duration
	// WaitPoll is the longest wait between two looks at the index for the
	// decisions waiters wait on; 0 means 200ms, or 500ms with Changes.
	WaitPoll time.Duration
	// LockRetry is how often a standby retries a lane's lock; 0 means 1s.
	LockRetry time.Duration
	Logger    *slog.Logger
}

// Meta returns what deciding needs about a variant: the locations its
// product is sold from and the tenant's hold time.
type Meta func(ctx context.Context, tx *eventstore.Tx, t tenant.ID, v catalog.VariantID) (locations []uuid.UUID, ttl time.Duration, err error)

// Worker decides reservation requests: it reads the reservation feed
// (requests, quantity changes, removals recorded in carts), groups the
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
//
// A Worker also serves waiters (Wait, Await) without running: decisions
// of this process's lanes are handed over directly, those of another
// process's are read from the index.
type Worker struct {
	store *eventstore.Store
	now   func() time.Time
	meta  Meta
	opts  Options
	log   *slog.Logger

	mu      sync.Mutex
	decided chan struct{} // closed and replaced after every decision commit
	// soonest is the earliest expiry of the holds this worker's lanes
	// granted since the expiry loop last took it (zero: none).
	soonest time.Time
	metas   map[uuid.UUID]variantMeta
	// waiters are the callers in this process waiting for a decision.
	waiters  map[waitKey][]chan Status
	watching bool          // the watch loop runs
	kick     chan struct{} // wakes the watch loop for a new waiter
}

// variantMeta is what deciding needs about a variant: where its product is
// sold from and the tenant's hold time; refreshed every few seconds.
type variantMeta struct {
	locations []uuid.UUID
	ttl       time.Duration
	at        time.Time
}

type waitKey struct {
	tenant tenant.ID
	id     uuid.UUID
}

// NewWorker returns the worker of store's reservations, on the clock now,
// with meta for what deciding needs of the catalog.
func NewWorker(store *eventstore.Store, now func() time.Time, meta Meta, o Options) *Worker {
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
	if o.WaitPoll <= 0 {
		o.WaitPoll = 200 * time.Millisecond
		if o.Changes != nil {
			o.WaitPoll = 500 * time.Millisecond
		}
	}
	if o.LockRetry <= 0 {
		o.LockRetry = time.Second
	}
	if o.DecisionChanges == nil {
		o.DecisionChanges = o.Changes
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Worker{store: store, now: now, meta: meta, opts: o, log: o.Logger, decided: make(chan struct{}), metas: map[uuid.UUID]variantMeta{},
		waiters: map[waitKey][]chan Status{}, kick: make(chan struct{}, 1)}
}

// Decided returns a channel closed at the next decision commit of this
// worker's lanes or expiry loop.
func (w *Worker) Decided() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.decided
}

// takeSoonest returns the earliest expiry of the holds granted since the
// last call (zero: none).
func (w *Worker) takeSoonest() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.soonest
	w.soonest = time.Time{}
	return s
}

func (w *Worker) signal() {
	w.mu.Lock()
	close(w.decided)
	w.decided = make(chan struct{})
	w.mu.Unlock()
}

// Statuses returns the index status of a tenant's reservations; unknown
// ones are pending.
func (w *Worker) Statuses(ctx context.Context, t tenant.ID, ids []uuid.UUID) (map[uuid.UUID]Status, error) {
	return Statuses(ctx, w.store.PoolFor(ctx), t, ids)
}

// Lane names.
const (
	LaneHot    = "reservations.hot"
	LaneNormal = "reservations.normal"
	laneExpiry = "reservations.expiry"
)

// Run runs both lanes and the expiry loop until ctx ends.
func (w *Worker) Run(ctx context.Context) error {
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
				// decisions wake the loop, which looks again only for a
				// hold due before its next look (the lanes tell it the
				// holds' expiry), not for every decision: under load, two
				// reads a decision batch.
				decided := w.Decided()
				w.takeSoonest()
				wait := w.opts.ExpiryEvery
				if _, err := w.ExpireDue(ctx); err != nil && ctx.Err() == nil {
					w.log.Error("reservations: expiry failed", "err", err)
				} else if next, ok, err := NextHoldExpiry(ctx, w.store.Pool()); err == nil && ok {
					wait = min(wait, max(time.Until(next)+time.Millisecond, time.Millisecond))
				}
				due := time.Now().Add(wait)
				t := time.NewTimer(wait)
			wait:
				for {
					select {
					case <-ctx.Done():
						t.Stop()
						return nil
					case <-decided:
						decided = w.Decided()
						if s := w.takeSoonest(); !s.IsZero() && s.Before(due) {
							t.Stop()
							break wait
						}
					case <-t.C:
						break wait
					}
				}
			}
		})
	}()
	wg.Wait()
	return nil
}

// lead runs fn while holding the named advisory lock on a dedicated
// connection; a standby retries.
func (w *Worker) lead(ctx context.Context, name string, fn func(context.Context) error) {
	for ctx.Err() == nil {
		err := func() error {
			conn, err := w.store.Pool().Acquire(ctx)
			if err != nil {
				return err
			}
			defer conn.Release()
			_, err = database.LeadWithLock(ctx, conn, "honten.worker:"+name, fn)
			return err
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

func (w *Worker) runLane(ctx context.Context, lane string) error {
	backoff := w.opts.MinPoll
	// The lane's checkpoint, read once: while this process leads the lane
	// nobody else moves it.
	var cp *eventstore.Position
	for ctx.Err() == nil {
		// Taken before the read: a change while it runs is not missed.
		var changed <-chan struct{}
		if w.opts.Changes != nil {
			changed = w.opts.Changes()
		}
		n, last, err := w.process(ctx, lane, cp)
		if err != nil {
			return err
		}
		cp = &last
		if n > 0 {
			backoff = w.opts.MinPoll
			continue
		}
		// Committed requests held back by an older transaction still
		// running (the feed reads only below it) are read soon after it
		// ends (it may append nothing, so no nudge comes): poll every few
		// milliseconds at most while that lasts. With Changes, the feed
		// watcher wakes the lane when they become readable.
		if w.opts.Changes == nil {
			held, err := eventstore.ReservationFeedHeldBack(ctx, w.store.Pool(), last)
			if err != nil {
				return err
			}
			if held {
				backoff = min(backoff, max(w.opts.MinPoll, heldPoll))
			}
		}
		select {
		case <-ctx.Done():
		case <-changed:
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
func (w *Worker) Process(ctx context.Context, lane string) (int, error) {
	n, _, err := w.process(ctx, lane, nil)
	return n, err
}

// process is Process from checkpoint from (nil: the stored one), also
// returning the checkpoint after it.
func (w *Worker) process(ctx context.Context, lane string, from *eventstore.Position) (int, eventstore.Position, error) {
	pool := w.store.Pool()
	var cp eventstore.Position
	if from != nil {
		cp = *from
	} else {
		var err error
		if cp, err = w.checkpoint(ctx, lane); err != nil {
			return 0, cp, err
		}
	}
	evs, err := eventstore.ReadReservationFeed(ctx, pool, cp, w.opts.Batch)
	if err != nil || len(evs) == 0 {
		return 0, cp, err
	}
	hotLane := lane == LaneHot
	reg := w.store.Registry()
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
	// chunks in parallel; each variant's ops stay in feed order. A batch
	// decided in one chunk moves the checkpoint in that chunk's transaction
	// (a commit fewer); otherwise the checkpoint moves once every chunk
	// has committed.
	last := evs[len(evs)-1].Position
	chunks := chunk(order, w.opts.ChunkVariants)
	var with *laneCheckpoint
	if len(chunks) == 1 {
		with = &laneCheckpoint{lane: lane, at: last}
	}
	sem := make(chan struct{}, w.opts.Parallel)
	errc := make(chan error, len(chunks))
	var wg sync.WaitGroup
	for _, keys := range chunks {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ds, err := w.decide(ctx, keys, ops, with)
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
	if with != nil {
		return len(evs), last, nil
	}
	return len(evs), last, w.saveCheckpoint(ctx, lane, last)
}

// laneCheckpoint is a lane's checkpoint to move in a decision's
// transaction.
type laneCheckpoint struct {
	lane string
	at   eventstore.Position
}

// saveCheckpointSQL moves a lane's checkpoint.
const saveCheckpointSQL = `INSERT INTO worker_checkpoints (name, tx_id, position, updated_at) VALUES ($1, $2::text::xid8, $3, now())
ON CONFLICT (name) DO UPDATE SET tx_id = excluded.tx_id, position = excluded.position, updated_at = now()`

// heldPoll is the longest poll interval while committed requests are held
// back.
const heldPoll = 4 * time.Millisecond

func (w *Worker) checkpoint(ctx context.Context, lane string) (eventstore.Position, error) {
	var txText string
	var p eventstore.Position
	err := w.store.Pool().QueryRow(ctx, `SELECT tx_id::text, position FROM worker_checkpoints WHERE name = $1`, lane).Scan(&txText, &p.Pos)
	if errors.Is(err, pgx.ErrNoRows) {
		return eventstore.Position{}, nil
	}
	if err != nil {
		return p, err
	}
	p.Tx, _ = strconv.ParseUint(txText, 10, 64)
	return p, nil
}

func (w *Worker) saveCheckpoint(ctx context.Context, lane string, p eventstore.Position) error {
	_, err := w.store.Pool().Exec(ctx, saveCheckpointSQL, lane, p.TxText(), p.Pos)
	return err
}

// metaOf returns the variant's sale locations and the tenant's hold time.
func (w *Worker) metaOf(ctx context.Context, tx *eventstore.Tx, k variantKey, now time.Time) (variantMeta, error) {
	w.mu.Lock()
	m, ok := w.metas[k.variant]
	w.mu.Unlock()
	if ok && now.Sub(m.at) < 5*time.Second && m.at.Before(now.Add(time.Second)) {
		return m, nil
	}
	locs, ttl, err := w.meta(ctx, tx, k.tenant, catalog.VariantID{UUID: k.variant})
	if err != nil {
		return variantMeta{}, err
	}
	m = variantMeta{locations: locs, ttl: ttl, at: now}
	w.mu.Lock()
	w.metas[k.variant] = m
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
// to each variant's inventory stream, the reservation index rows of the
// decisions and, when with is set, the lane's checkpoint.
// It returns the decisions, for delivery once committed.
func (w *Worker) decide(ctx context.Context, keys []variantKey, ops map[variantKey][]op, with *laneCheckpoint) (map[waitKey]Status, error) {
	var ds map[waitKey]Status
	_, err := w.store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		ds = map[waitKey]Status{}
		now := w.now().UTC()
		var ids []uuid.UUID
		for _, k := range keys {
			for _, o := range ops[k] {
				ids = append(ids, o.r.UUID)
			}
		}
		// What the index has decided already, read once the locks are
		// held, in their round trip.
		done := map[uuid.UUID]string{}
		indexed := &pgx.Batch{}
		queueIndexed(indexed, ids, done)
		its, err := lockItems(ctx, tx, keys, indexed)
		if err != nil {
			return err
		}
		// The items' events, the index rows and the lane's checkpoint, with
		// the COMMIT: one round trip for the whole batch of variants.
		writes := &pgx.Batch{}
		var saves []eventstore.Saving
		for i, k := range keys {
			decided, err := w.decideVariant(ctx, tx, k, its[i], ops[k], done, ds, now, writes)
			if err != nil {
				return fmt.Errorf("decide %s: %w", k.variant, err)
			}
			if decided {
				vid := catalog.VariantID{UUID: k.variant}
				saves = append(saves, ItemSaving(k.tenant, vid, its[i], eventstore.Metadata{Tenant: k.tenant, Actor: "system:reservations"}))
				if err := QueueSnapshotDue(writes, k.tenant, vid, its[i]); err != nil {
					return err
				}
			}
		}
		if with != nil {
			writes.Queue(saveCheckpointSQL, with.lane, with.at.TxText(), with.at.Pos)
		}
		tx.SaveAtCommit(writes, saves...)
		return nil
	})
	return ds, err
}

// decideVariant applies the ops of one variant to its item, locked and
// loaded by decide, and queues the index rows of the decisions in writes.
// It reports whether it decided anything, which the caller saves.
func (w *Worker) decideVariant(ctx context.Context, tx *eventstore.Tx, k variantKey, it *inventory.Item, ops []op, done map[uuid.UUID]string,
	ds map[waitKey]Status, now time.Time, writes *pgx.Batch) (bool, error) {
	m, err := w.metaOf(ctx, tx, k, now)
	if err != nil {
		return false, err
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
		return false, nil
	}
	for _, e := range pending {
		switch e := e.(type) {
		case inventory.Reserved:
			at := e.ExpiresAt.UTC().Truncate(time.Microsecond) // as the index stores it
			ds[waitKey{k.tenant, e.Reservation.UUID}] = Status{Status: "reserved", ExpiresAt: &at}
		case inventory.Rejected:
			ds[waitKey{k.tenant, e.Reservation.UUID}] = Status{Status: "rejected"}
		case inventory.Released:
			ds[waitKey{k.tenant, e.Reservation.UUID}] = Status{Status: "released"}
		}
	}
	hot := map[uuid.UUID]bool{}
	for _, o := range ops {
		hot[o.r.UUID] = o.req.Hot
	}
	queueDecisions(writes, k, hot, pending, now)
	return true, nil
}

// ExpireDue expires every hold whose time has come (by the worker's clock)
// and returns how many it expired.
func (w *Worker) ExpireDue(ctx context.Context) (int, error) {
	now := w.now().UTC()
	due, err := DueHolds(ctx, w.store.Pool(), now, 1000)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, d := range due {
		k := variantKey{d.Tenant, d.Variant}
		vid := catalog.VariantID{UUID: k.variant}
		_, err := w.store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
			its, err := lockItems(ctx, tx, []variantKey{k}, nil)
			if err != nil {
				return err
			}
			it := its[0]
			it.ExpireDue(now)
			pending := it.Pending()
			if len(pending) == 0 {
				// Already gone from the stream (committed or released): fix the index.
				return expireGone(ctx, tx, k, now, holdIDs(it))
			}
			if err := SaveItem(ctx, tx, k.tenant, vid, it, eventstore.Metadata{Tenant: k.tenant, Actor: "system:reservations"}); err != nil {
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
