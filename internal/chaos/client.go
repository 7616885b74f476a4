package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/honten/honten/eventstore"
)

// Client is an HTTP client that behaves as a careful integration does when
// its server crashes: a request that fails on the connection or with a 5xx
// is sent again, with the same Idempotency-Key, until it gets an answer or
// its retry budget ends. It records every acknowledged write.
type Client struct {
	Base   string
	Shop   string
	HTTP   *http.Client
	Budget time.Duration // per request, retries included
	// RetryInProgress resends a request answered 409 request_in_progress
	// as well, as a client told to "retry shortly" does: the key's first
	// attempt is still running, or committed in a process that died before
	// storing its response, which a retry gets once the key is orphaned
	// (rebuilt from the log). Off, such an answer is returned (and counted
	// in Stuck).
	RetryInProgress bool

	Requests atomic.Int64 // sent, retries included
	Retries  atomic.Int64
	GaveUp   atomic.Int64
	Acks     atomic.Int64 // 2xx answers to writes
	// Stuck counts 409 request_in_progress answers: a key whose first
	// attempt committed but whose response was never stored.
	Stuck atomic.Int64

	mu        sync.Mutex
	positions []eventstore.Position
}

// NewClient returns a client for the server at base (http://host:port) and
// the shop code.
func NewClient(base, shop string) *Client {
	return &Client{Base: base, Shop: shop, Budget: 90 * time.Second,
		HTTP: &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
}

// Request is one call.
type Request struct {
	Method, Path string
	Body         any
	Key          string // Idempotency-Key
	Token        string // admin bearer token
	CartToken    string
	// From is the shopper's address the request stands for, sent as
	// X-Forwarded-For: the processes trust the loopback as their proxy,
	// so per-client limits see many shoppers, as behind a load balancer.
	From   string
	Header map[string]string
}

// Answer is the final response to a call.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
	// Attempts is how many times the request was sent.
	Attempts int
}

// JSON decodes the body into v.
func (a Answer) JSON(v any) error {
	if err := json.Unmarshal(a.Body, v); err != nil {
		return fmt.Errorf("decode %d answer: %w: %.200s", a.Status, err, a.Body)
	}
	return nil
}

// ErrGaveUp means a request got no answer within its retry budget.
var ErrGaveUp = errors.New("chaos: no answer within the retry budget")

// Do sends r, retrying connection errors and 5xx answers with the same
// Idempotency-Key, and records the write when acknowledged.
func (c *Client) Do(ctx context.Context, r Request) (Answer, error) {
	var raw []byte
	if r.Body != nil {
		var err error
		if raw, err = json.Marshal(r.Body); err != nil {
			return Answer{}, err
		}
	}
	deadline := time.Now().Add(c.Budget)
	delay := 20 * time.Millisecond
	for attempt := 1; ; attempt++ {
		a, err := c.once(ctx, r, raw)
		a.Attempts = attempt
		c.Requests.Add(1)
		if err == nil && a.Status < 500 && !(c.RetryInProgress && inProgress(a)) {
			if a.Status < 300 && r.Method != http.MethodGet {
				c.Acks.Add(1)
				if tok := a.Header.Get("X-Event-Position"); tok != "" {
					pos, perr := eventstore.ParseToken(tok)
					if perr != nil {
						return a, fmt.Errorf("chaos: %s %s: bad X-Event-Position %q", r.Method, r.Path, tok)
					}
					c.mu.Lock()
					c.positions = append(c.positions, pos)
					c.mu.Unlock()
				}
			}
			if Stuck(a) {
				c.Stuck.Add(1)
			}
			return a, nil
		}
		if ctx.Err() != nil {
			return Answer{}, ctx.Err()
		}
		if time.Now().After(deadline) {
			c.GaveUp.Add(1)
			if err == nil {
				err = fmt.Errorf("%d %.200s", a.Status, a.Body)
			}
			return Answer{}, fmt.Errorf("%w: %s %s: %v", ErrGaveUp, r.Method, r.Path, err)
		}
		c.Retries.Add(1)
		select {
		case <-ctx.Done():
			return Answer{}, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, time.Second)
	}
}

func (c *Client) once(ctx context.Context, r Request, raw []byte) (Answer, error) {
	var body io.Reader
	if raw != nil {
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, c.Base+r.Path, body)
	if err != nil {
		return Answer{}, err
	}
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("X-Tenant", c.Shop)
	if r.Key != "" {
		req.Header.Set("Idempotency-Key", r.Key)
	}
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	if r.CartToken != "" {
		req.Header.Set("X-Cart-Token", r.CartToken)
	}
	if r.From != "" {
		req.Header.Set("X-Forwarded-For", r.From)
	}
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return Answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return Answer{}, err
	}
	return Answer{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// Stuck reports whether a is the answer to a retry whose first attempt
// committed but whose response was never stored (the process died in
// between): 409 request_in_progress, or cart_token_shown_once for a cart.
func Stuck(a Answer) bool {
	return inProgress(a) || a.Status == http.StatusConflict && bytes.Contains(a.Body, []byte(`"cart_token_shown_once"`))
}

// inProgress reports whether a is 409 request_in_progress.
func inProgress(a Answer) bool {
	return a.Status == http.StatusConflict && bytes.Contains(a.Body, []byte(`"request_in_progress"`))
}

// Positions returns the X-Event-Position of every acknowledged write.
func (c *Client) Positions() []eventstore.Position {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]eventstore.Position(nil), c.positions...)
}
