package http

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/honten/honten/domain/errs"
)

// rateLimiter is a token bucket per key: perMinute tokens a minute, as
// many at most, one a request. Buckets that have filled up again are
// dropped, so memory follows the clients active in the last minute.
type rateLimiter struct {
	perMinute float64
	now       func() time.Time

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newRateLimiter(perMinute int, now func() time.Time) *rateLimiter {
	if perMinute <= 0 {
		return nil
	}
	return &rateLimiter{perMinute: float64(perMinute), now: now, buckets: map[string]*bucket{}}
}

// allow takes a token for key; when there is none it returns false and the
// time until the next one.
func (l *rateLimiter) allow(key string) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	now := l.now()
	perSecond := l.perMinute / 60
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > time.Minute {
		for k, b := range l.buckets {
			if b.tokens+now.Sub(b.at).Seconds()*perSecond >= l.perMinute {
				delete(l.buckets, k)
			}
		}
		l.lastSweep = now
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.perMinute, at: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.perMinute, b.tokens+now.Sub(b.at).Seconds()*perSecond)
	b.at = now
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) / perSecond * float64(time.Second))
	}
	b.tokens--
	return true, 0
}

// ErrCartRateLimited answers a client that creates carts or adds to carts
// faster than CART_CREATE_RATE / CART_ADD_RATE allow.
var ErrCartRateLimited = errs.New(errs.KindRateLimited, "cart_rate_limited", "too many cart requests from this client; slow down")

// withCartLimits applies the per-client cart-creation and add-to-cart
// rate limits (per shop, per API process) to storefront requests.
func (s *Server) withCartLimits(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var l *rateLimiter
		if r.Method == http.MethodPost {
			p := strings.TrimSuffix(r.URL.Path, "/")
			switch {
			case strings.HasSuffix(p, "/store/carts"):
				l = s.cartCreateLimit
			case strings.Contains(p, "/store/carts/") && strings.HasSuffix(p, "/items"):
				l = s.cartAddLimit
			}
		}
		if l != nil {
			if ok, wait := l.allow(tenantFrom(r.Context()).String() + "|" + s.clientIP(r)); !ok {
				writeError(w, r, errs.WithRetryAfter(ErrCartRateLimited, wait))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
