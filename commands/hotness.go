package commands

import (
	"sync"
	"time"

	"github.com/google/uuid"
)

// hotness marks a variant hot when it is added to carts faster than a
// threshold, so its reservations go to the hot lane even when staff have
// not flagged it (a product that suddenly trends). It counts per process
// and per second; a variant stays hot for a minute after its last burst.
type hotness struct {
	threshold int
	mu        sync.Mutex
	counts    map[uuid.UUID]*rate
}

type rate struct {
	second   int64
	n        int
	hotUntil time.Time
}

// SetHotThreshold sets how many add-to-cart requests per second (in this
// process) make a variant hot; 0 turns the detection off.
func (s *Service) SetHotThreshold(perSecond int) {
	s.hot.mu.Lock()
	s.hot.threshold = perSecond
	s.hot.mu.Unlock()
}

// observe records one request for v at now and reports whether v is hot.
func (h *hotness) observe(v uuid.UUID, now time.Time) bool {
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
