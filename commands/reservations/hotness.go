package reservations

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/tenant"
)

// Hotness marks a variant hot when it is added to carts faster than a
// threshold, so its reservations go to the hot lane even when staff have
// not flagged it (a product that suddenly trends). It counts per process
// and per second; a variant stays hot for a minute after its last burst.
//
// It is also the waiting room: it admits add-to-cart commands for variants
// known to be hot a few at a time, so a flash sale's thousands of buyers
// queue in memory instead of taking every database connection and CPU
// slot, and carts of other products keep their speed.
//
// The zero value detects nothing and admits everything.
type Hotness struct {
	threshold int
	mu        sync.Mutex
	counts    map[uuid.UUID]*rate
	// known maps a tenant's variant id or SKU to the time it stays hot.
	known map[HotKey]time.Time
	gate  chan struct{} // nil: no admission limit
}

// HotKey names a variant of a tenant for the waiting room, by id or SKU.
type HotKey struct {
	Tenant tenant.ID
	Key    string // variant id or "sku:" + SKU
}

// VariantKey is the HotKey of a variant by id.
func VariantKey(t tenant.ID, v uuid.UUID) HotKey { return HotKey{t, v.String()} }

// SKUKey is the HotKey of a variant by SKU.
func SKUKey(t tenant.ID, sku string) HotKey { return HotKey{t, "sku:" + sku} }

type rate struct {
	second   int64
	n        int
	hotUntil time.Time
}

// hotQueueWait is how long a hot add-to-cart waits for admission before
// the shop answers 503 (retry later).
const hotQueueWait = 10 * time.Second

// SetThreshold sets how many add-to-cart requests per second (in this
// process) make a variant hot; 0 turns the detection off.
func (h *Hotness) SetThreshold(perSecond int) {
	h.mu.Lock()
	h.threshold = perSecond
	h.mu.Unlock()
}

// SetConcurrency sets how many add-to-cart commands for hot variants run
// at once in this process (the rest wait their turn); 0 removes the limit.
// Call it before serving.
func (h *Hotness) SetConcurrency(n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.gate = nil
	if n > 0 {
		h.gate = make(chan struct{}, n)
	}
}

// Observe records one request for v at now and reports whether v is hot.
func (h *Hotness) Observe(v uuid.UUID, now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.threshold <= 0 {
		return false
	}
	if h.counts == nil || len(h.counts) > 100_000 {
		h.counts = map[uuid.UUID]*rate{}
	}
	r := h.counts[v]
	if r == nil {
		r = &rate{}
		h.counts[v] = r
	}
	sec := now.Unix()
	if r.second != sec {
		r.second, r.n = sec, 0
	}
	r.n++
	if r.n > h.threshold {
		r.hotUntil = now.Add(time.Minute)
	}
	return now.Before(r.hotUntil)
}

// Remember notes that keys name a hot variant, for a minute from now.
func (h *Hotness) Remember(now time.Time, keys ...HotKey) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.known == nil || len(h.known) > 10_000 {
		h.known = map[HotKey]time.Time{}
	}
	for _, k := range keys {
		h.known[k] = now.Add(time.Minute)
	}
}

// Admit waits for a turn when k names a variant known to be hot and
// returns the function that ends the turn. It fails with 503 when no turn
// comes within hotQueueWait, and with ctx's error when ctx ends first.
func (h *Hotness) Admit(ctx context.Context, k HotKey, now time.Time) (func(), error) {
	h.mu.Lock()
	gate := h.gate
	hot := now.Before(h.known[k])
	h.mu.Unlock()
	if gate == nil || !hot {
		return func() {}, nil
	}
	t := time.NewTimer(hotQueueWait)
	defer t.Stop()
	select {
	case gate <- struct{}{}:
		return func() { <-gate }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for a turn: %w", ctx.Err())
	case <-t.C:
		return nil, errs.New(errs.KindUnavailable, "busy", "this item is in high demand; try again in a moment")
	}
}
