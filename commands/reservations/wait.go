package reservations

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/tenant"
)

// Await registers interest in the decision on tenant t's reservation id:
// the returned channel receives it once, whichever process decides it —
// at once when this process's lanes decide it, else when the watch loop
// reads it from the index (woken by Options.Changes, polling at most
// Options.WaitPoll apart). A reservation decided before the call is
// delivered too. Call cancel when done.
func (w *Worker) Await(t tenant.ID, id uuid.UUID) (<-chan Status, func()) {
	k := waitKey{t, id}
	ch := make(chan Status, 1)
	w.mu.Lock()
	w.waiters[k] = append(w.waiters[k], ch)
	start := !w.watching
	w.watching = true
	w.mu.Unlock()
	if start {
		go w.watch()
	}
	select { // look now, for this waiter
	case w.kick <- struct{}{}:
	default:
	}
	return ch, func() { w.drop(k, ch) }
}

// Wait returns the decision on tenant t's reservation id, waiting up to
// wait for it, whichever process decides it. It returns the "pending"
// status when no decision came by then or when ctx ended first; with wait
// 0 it reads the index once.
func (w *Worker) Wait(ctx context.Context, t tenant.ID, id uuid.UUID, wait time.Duration) (Status, error) {
	if wait <= 0 {
		st, err := w.Statuses(ctx, t, []uuid.UUID{id})
		return st[id], err
	}
	ch, cancel := w.Await(t, id)
	defer cancel()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case st := <-ch:
		return st, nil
	case <-ctx.Done():
		return Status{Status: Pending}, nil
	case <-timer.C:
	}
	// A decision committed since the watch loop's last look is still told.
	select {
	case st := <-ch:
		return st, nil
	default:
	}
	st, err := w.Statuses(ctx, t, []uuid.UUID{id})
	if err != nil && ctx.Err() != nil {
		return Status{Status: Pending}, nil
	}
	return st[id], err
}

// drop removes a waiter (a delivered one is gone already).
func (w *Worker) drop(k waitKey, ch chan Status) {
	w.mu.Lock()
	defer w.mu.Unlock()
	ws := w.waiters[k]
	for i, c := range ws {
		if c == ch {
			ws = append(ws[:i:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(w.waiters, k)
	} else {
		w.waiters[k] = ws
	}
}

// deliver hands decisions to their waiters and forgets those waiters.
func (w *Worker) deliver(ds map[waitKey]Status) {
	if len(ds) == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for k, st := range ds {
		if st.Status == "reserved" && st.ExpiresAt != nil && (w.soonest.IsZero() || st.ExpiresAt.Before(w.soonest)) {
			w.soonest = *st.ExpiresAt
		}
		for _, ch := range w.waiters[k] {
			select {
			case ch <- st:
			default:
			}
		}
		delete(w.waiters, k)
	}
}

// waitLookTimeout bounds one look at the index for waiters.
const waitLookTimeout = 5 * time.Second

// waitGap is the shortest time between two looks: under a flash sale
// commits and new waiters come by the thousand a second, and one look
// serves all of them.
const waitGap = 10 * time.Millisecond

// watch reads the index for the reservations waited on, all of them in
// one query, whenever the feed changes (Options.Changes), a new waiter
// comes, or at the latest Options.WaitPoll after the last look; it ends
// when nobody waits. Looks are at least waitGap apart.
func (w *Worker) watch() {
	first := max(w.opts.MinPoll, waitGap)
	backoff := first
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		// Taken before the look: a change while it runs is not missed.
		var changed <-chan struct{}
		if w.opts.DecisionChanges != nil {
			changed = w.opts.DecisionChanges()
		}
		w.mu.Lock()
		keys := make([]waitKey, 0, len(w.waiters))
		for k := range w.waiters {
			keys = append(keys, k)
		}
		if len(keys) == 0 {
			w.watching = false
			w.mu.Unlock()
			return
		}
		w.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), waitLookTimeout)
		ds, err := tenantStatuses(ctx, w.store.Pool(), keys)
		cancel()
		if err != nil {
			w.log.Warn("reservations: reading decisions for waiters failed", "err", err)
		} else {
			w.deliver(ds)
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		looked := time.Now()
		timer.Reset(backoff)
		woken := true
		select {
		case <-changed:
		case <-w.kick:
		case <-timer.C:
			woken = false
		}
		if woken {
			backoff = first
			time.Sleep(waitGap - time.Since(looked)) // returns at once when the gap has passed
		} else {
			backoff = min(backoff*2, w.opts.WaitPoll)
		}
	}
}
