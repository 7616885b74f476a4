package http

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
	"time"
)

// microCache keeps storefront GET responses for a short TTL. A shop's
// catalog pages are read far more than they change; a second of staleness
// is what a CDN in front would give anyway, and a request that must see its
// own writes sends X-Min-Position (or Cache-Control: no-cache), which
// bypasses the cache.
type microCache struct {
	ttl      time.Duration
	maxBytes int

	mu      sync.Mutex
	entries map[string]*cacheEntry
	bytes   int
	// inflight collapses concurrent misses of one key into one computation.
	inflight map[string]*sync.WaitGroup
}

type cacheEntry struct {
	status  int
	header  http.Header
	body    []byte
	expires time.Time
}

func newMicroCache(ttl time.Duration, maxBytes int) *microCache {
	return &microCache{ttl: ttl, maxBytes: maxBytes, entries: map[string]*cacheEntry{}, inflight: map[string]*sync.WaitGroup{}}
}

// recorder captures a response while writing it through.
type recorder struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.buf.Write(b)
	return r.ResponseWriter.Write(b)
}

func (c *microCache) get(key string, now time.Time) (*cacheEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || now.After(e.expires) {
		return nil, false
	}
	return e, true
}

func (c *microCache) put(key string, e *cacheEntry, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bytes+len(e.body) > c.maxBytes {
		for k, old := range c.entries { // drop expired entries, then everything
			if now.After(old.expires) {
				c.bytes -= len(old.body)
				delete(c.entries, k)
			}
		}
		if c.bytes+len(e.body) > c.maxBytes {
			c.entries, c.bytes = map[string]*cacheEntry{}, 0
		}
	}
	if old, ok := c.entries[key]; ok {
		c.bytes -= len(old.body)
	}
	c.entries[key] = e
	c.bytes += len(e.body)
}

// middleware serves cached 200 responses of the storefront GETs it wraps
// (the routes marked cached: public catalog reads, never carts or orders).
func (c *microCache) middleware(next http.Handler) http.Handler {
	if c == nil || c.ttl <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.Header.Get("X-Min-Position") != "" || strings.Contains(r.Header.Get("Cache-Control"), "no-cache") {
			next.ServeHTTP(w, r)
			return
		}
		key := tenantFrom(r.Context()).String() + " " + r.URL.Path + "?" + r.URL.RawQuery
		for attempt := 0; attempt < 2; attempt++ {
			now := time.Now()
			if e, ok := c.get(key, now); ok {
				for k, v := range e.header {
					w.Header()[k] = v
				}
				w.Header().Set("X-Cache", "hit")
				w.WriteHeader(e.status)
				_, _ = w.Write(e.body)
				return
			}
			c.mu.Lock()
			wg, busy := c.inflight[key]
			if !busy {
				wg = &sync.WaitGroup{}
				wg.Add(1)
				c.inflight[key] = wg
			}
			c.mu.Unlock()
			if busy {
				wg.Wait() // another request is computing this page
				continue
			}
			rec := &recorder{ResponseWriter: w}
			w.Header().Set("X-Cache", "miss")
			func() {
				defer func() {
					c.mu.Lock()
					delete(c.inflight, key)
					c.mu.Unlock()
					wg.Done()
				}()
				next.ServeHTTP(rec, r)
			}()
			if rec.status == http.StatusOK {
				h := w.Header().Clone()
				h.Del("X-Cache")
				h.Del("X-Request-Id")
				c.put(key, &cacheEntry{status: rec.status, header: h, body: rec.buf.Bytes(), expires: now.Add(c.ttl)}, now)
			}
			return
		}
		next.ServeHTTP(w, r)
	})
}
