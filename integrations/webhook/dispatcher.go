package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/database"
)

// Options tune a Dispatcher.
type Options struct {
	// AllowPrivate lets deliveries connect to private and loopback
	// addresses (WEBHOOK_ALLOW_PRIVATE: development and tests only).
	AllowPrivate bool
	// Timeout bounds one attempt, response included; 0 means 10s.
	Timeout time.Duration
	// FirstRetry is the delay after the first failed attempt, doubling
	// after each one; 0 means 10s.
	FirstRetry time.Duration
	// MaxRetryDelay caps the delay between two attempts; 0 means 1h.
	MaxRetryDelay time.Duration
	// RetryFor is how long after its first attempt a failing delivery is
	// retried before it is dead; 0 means 24h.
	RetryFor time.Duration
	// Refresh is how often the list of live endpoints is read; 0 means 1s.
	Refresh time.Duration
	// Poll bounds an endpoint's idle wait (a safety net with Changes, and
	// how soon a delivery retried by hand is seen); 0 means 5s, or 100ms
	// without Changes.
	Poll time.Duration
	// Batch is how many feed events an endpoint reads at a time; 0 means 100.
	Batch int
	// Changes, when set, returns a channel closed when the feed may hold
	// something new (eventstore.Watcher.Changes).
	Changes func() <-chan struct{}
	// Client sends the requests; nil means one with the SSRF guard, no
	// redirects and Timeout.
	Client *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// LockRetry is how often a standby retries the dispatcher lock; 0 means 1s.
	LockRetry time.Duration
	Logger    *slog.Logger
	// Registry, when set, opens the personal data sealed in an event's
	// payload as the delivery is sent: the delivery log keeps the payload
	// sealed, so forgetting a buyer reaches the deliveries not yet sent
	// (they carry the redaction marker).
	Registry *eventstore.Registry
}

// Dispatcher delivers events to the endpoints of every shop.
type Dispatcher struct {
	pool *pgxpool.Pool
	opts Options
	log  *slog.Logger
}

// NewDispatcher returns a dispatcher on pool.
func NewDispatcher(pool *pgxpool.Pool, o Options) *Dispatcher {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.FirstRetry <= 0 {
		o.FirstRetry = 10 * time.Second
	}
	if o.MaxRetryDelay <= 0 {
		o.MaxRetryDelay = time.Hour
	}
	if o.RetryFor <= 0 {
		o.RetryFor = 24 * time.Hour
	}
	if o.Refresh <= 0 {
		o.Refresh = time.Second
	}
	if o.Poll <= 0 {
		o.Poll = 100 * time.Millisecond
		if o.Changes != nil {
			o.Poll = 5 * time.Second
		}
	}
	if o.Batch <= 0 {
		o.Batch = 100
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.LockRetry <= 0 {
		o.LockRetry = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Client == nil {
		o.Client = NewClient(o.AllowPrivate, o.Timeout)
	}
	return &Dispatcher{pool: pool, opts: o, log: o.Logger}
}

// NewClient returns the HTTP client deliveries use: the SSRF guard at
// connection time (unless allowPrivate), no proxy, no redirects followed
// (a 3xx is a failed attempt), timeout per attempt.
func NewClient(allowPrivate bool, timeout time.Duration) *http.Client {
	tr := &http.Transport{DialContext: guardedDialer(allowPrivate), MaxIdleConns: 100, MaxIdleConnsPerHost: 4,
		IdleConnTimeout: 90 * time.Second, TLSHandshakeTimeout: 10 * time.Second, ForceAttemptHTTP2: true}
	return &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Backoff is the delay before the next attempt of a delivery whose first
// attempt was sinceFirst ago: as long again, at least FirstRetry and at most
// MaxRetryDelay. Attempts thus come at 0, F, 2F, 4F, 8F… (exponential),
// and a retry by hand starts the series afresh.
func (d *Dispatcher) Backoff(sinceFirst time.Duration) time.Duration {
	return min(max(sinceFirst, d.opts.FirstRetry), d.opts.MaxRetryDelay)
}

// Run delivers until ctx ends, whenever this process holds the dispatcher
// lock (one active dispatcher cluster-wide; others stand by).
func (d *Dispatcher) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		if err := d.lead(ctx); err != nil && ctx.Err() == nil {
			d.log.Error("webhooks: dispatcher stopped; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(d.opts.LockRetry):
		}
	}
	return nil
}

func (d *Dispatcher) lead(ctx context.Context) error {
	conn, err := d.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	_, err = database.LeadWithLock(ctx, conn, "honten.worker:webhooks", func(lctx context.Context) error {
		d.log.Info("webhooks: dispatcher active")
		return d.supervise(lctx)
	})
	return err
}

// supervise runs one goroutine per live endpoint, starting new ones as
// they appear; a goroutine ends when its endpoint is deleted or paused.
func (d *Dispatcher) supervise(ctx context.Context) error {
	running := map[uuid.UUID]bool{}
	ended := make(chan uuid.UUID)
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTicker(d.opts.Refresh)
	defer t.Stop()
	for {
		ids, err := liveEndpoints(ctx, d.pool)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if running[id] {
				continue
			}
			running[id] = true
			wg.Add(1)
			go func() {
				defer wg.Done()
				d.endpointLoop(ctx, id)
				select {
				case ended <- id:
				case <-ctx.Done():
				}
			}()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case id := <-ended:
			delete(running, id)
		case <-t.C:
		}
	}
}

func liveEndpoints(ctx context.Context, db eventstore.Querier) ([]uuid.UUID, error) {
	rows, err := db.Query(ctx, `SELECT id FROM webhook_endpoints WHERE deleted_at IS NULL AND active ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("webhooks: live endpoints: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("webhooks: live endpoints: %w", err)
	}
	return ids, nil
}

// endpoint is what a delivery needs of its endpoint, read afresh before
// each step so that edits apply at once.
type endpoint struct {
	id            uuid.UUID
	tenant        tenant.ID
	url           string
	events        []string
	secret        string
	previous      *string
	previousUntil *time.Time
	live          bool
	cursor        eventstore.Position
}

func loadEndpoint(ctx context.Context, db eventstore.Querier, id uuid.UUID) (endpoint, error) {
	const q = `SELECT tenant_id, url, events, secret, previous_secret, previous_secret_until, active AND deleted_at IS NULL,
       cursor_tx::text, cursor_pos FROM webhook_endpoints WHERE id = $1`
	e := endpoint{id: id}
	var tx string
	err := db.QueryRow(ctx, q, id).Scan(&e.tenant, &e.url, &e.events, &e.secret, &e.previous, &e.previousUntil, &e.live, &tx, &e.cursor.Pos)
	if err != nil {
		return e, fmt.Errorf("webhook %s: %w", id, err)
	}
	e.cursor.Tx, err = strconv.ParseUint(tx, 10, 64)
	return e, err
}

// secrets are the secrets a delivery at now is signed with.
func (e endpoint) secrets(now time.Time) []string {
	s := []string{e.secret}
	if e.previous != nil && e.previousUntil != nil && now.Before(*e.previousUntil) {
		s = append(s, *e.previous)
	}
	return s
}

// pending is an endpoint's next delivery.
type pending struct {
	id        uuid.UUID
	eventID   uuid.UUID
	eventType string
	body      string
	attempts  int
	first     *time.Time
	next      time.Time
}

// endpointLoop delivers endpoint id's events in order until ctx ends or
// the endpoint is deleted or paused.
func (d *Dispatcher) endpointLoop(ctx context.Context, id uuid.UUID) {
	failures := 0
	for ctx.Err() == nil {
		wait, err := d.step(ctx, id)
		if errors.Is(err, errEndpointGone) {
			return
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			wait = min(time.Duration(failures)*100*time.Millisecond, 5*time.Second)
			d.log.Error("webhooks: endpoint step failed", "webhook", id, "err", err)
		} else {
			failures = 0
		}
		if wait == 0 {
			continue
		}
		var changed <-chan struct{}
		if wait < 0 { // idle: wait for the feed
			wait = d.opts.Poll
			if d.opts.Changes != nil {
				changed = d.opts.Changes()
				// Re-check once the channel is held: a change between the
				// empty read and now is not missed.
				if w, err := d.step(ctx, id); err != nil || w >= 0 {
					continue
				}
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-changed:
		case <-t.C:
		}
		t.Stop()
	}
}

var errEndpointGone = errors.New("webhooks: endpoint deleted or paused")

// window is how many pending deliveries of an endpoint one step reads and
// posts in order before it reads the endpoint again.
const window = 100

// step does the endpoint's next piece of work: posts its pending
// deliveries in order while they are due and succeed, or else reads the
// feed after its cursor. It returns how long to wait before the next step:
// 0 for at once, a negative duration when idle (nothing pending, nothing
// new in the feed).
//
// Successes are recorded together after the run of posts (one statement);
// a crash before that only sends them again, which at-least-once delivery
// allows and the event id lets receivers drop.
func (d *Dispatcher) step(ctx context.Context, id uuid.UUID) (time.Duration, error) {
	ep, err := loadEndpoint(ctx, d.pool, id)
	if err != nil {
		return 0, err
	}
	if !ep.live {
		return 0, errEndpointGone
	}
	const head = `SELECT id, event_id, event_type, body, attempts, first_attempt_at, next_attempt_at FROM webhook_deliveries
WHERE endpoint_id = $1 AND status = 'pending' ORDER BY endpoint_id, seq LIMIT $2`
	rows, err := d.pool.Query(ctx, head, id, window)
	if err != nil {
		return 0, fmt.Errorf("webhook %s: pending deliveries: %w", id, err)
	}
	due, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (pending, error) {
		var p pending
		err := r.Scan(&p.id, &p.eventID, &p.eventType, &p.body, &p.attempts, &p.first, &p.next)
		return p, err
	})
	if err != nil {
		return 0, fmt.Errorf("webhook %s: pending deliveries: %w", id, err)
	}
	if len(due) == 0 {
		moved, err := d.fill(ctx, ep)
		if err != nil || moved {
			return 0, err
		}
		return -1, nil
	}
	var ok delivered
	defer func() {
		if err := d.recordDelivered(context.WithoutCancel(ctx), ok); err != nil {
			d.log.Error("webhooks: record deliveries", "webhook", id, "err", err)
		}
	}()
	for _, p := range due {
		now := d.opts.Now()
		if p.next.After(now) {
			return min(p.next.Sub(now), d.opts.Poll), nil
		}
		status, sendErr := d.post(ctx, ep, p, now)
		if ctx.Err() != nil {
			return 0, ctx.Err() // shutting down: the attempt is made again by the next leader
		}
		if sendErr != nil {
			return 0, d.recordFailure(ctx, ep, p, status, sendErr)
		}
		first := now
		if p.first != nil {
			first = *p.first
		}
		ok.add(p.id, first, d.opts.Now(), status)
	}
	return 0, nil
}

// delivered are successful attempts to record.
type delivered struct {
	ids           []uuid.UUID
	firsts, lasts []time.Time
	statuses      []int32
}

func (b *delivered) add(id uuid.UUID, first, at time.Time, status int) {
	b.ids, b.firsts, b.lasts, b.statuses = append(b.ids, id), append(b.firsts, first.UTC()), append(b.lasts, at.UTC()), append(b.statuses, int32(status))
}

func (d *Dispatcher) recordDelivered(ctx context.Context, b delivered) error {
	if len(b.ids) == 0 {
		return nil
	}
	const q = `UPDATE webhook_deliveries d SET status = 'delivered', attempts = d.attempts + 1, first_attempt_at = u.first,
    last_attempt_at = u.at, last_status = u.status, last_error = NULL, delivered_at = u.at
FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[], $4::int[]) AS u(id, first, at, status)
WHERE d.id = u.id AND d.status = 'pending'`
	_, err := d.pool.Exec(ctx, q, b.ids, b.firsts, b.lasts, b.statuses)
	return err
}

// Body is the JSON a delivery posts: the event and its envelope.
type Body struct {
	ID         uuid.UUID       `json:"id"`
	Type       string          `json:"type"`
	OccurredAt time.Time       `json:"occurred_at"`
	Position   string          `json:"position"`
	StreamType string          `json:"stream_type"`
	StreamID   uuid.UUID       `json:"stream_id"`
	Version    int64           `json:"version"`
	Data       json.RawMessage `json:"data"`
}

// fill reads the feed after the endpoint's cursor, writes a delivery per
// matching event and moves the cursor past what it read, in one
// transaction; the cursor update is guarded by its old value, so two
// writers never both commit. It reports whether the cursor moved.
func (d *Dispatcher) fill(ctx context.Context, ep endpoint) (bool, error) {
	envs, err := eventstore.ReadFeed(ctx, d.pool, ep.cursor, d.opts.Batch, eventstore.FeedFilter{Tenant: ep.tenant})
	if err != nil || len(envs) == 0 {
		return false, err
	}
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	var b pgx.Batch
	const ins = `INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, event_type, body, next_attempt_at)
VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (endpoint_id, event_id) DO NOTHING`
	now := d.opts.Now().UTC()
	for _, env := range envs {
		if !Matches(ep.events, env.Type) {
			continue
		}
		body, err := json.Marshal(Body{ID: env.EventID, Type: env.Type, OccurredAt: env.RecordedAt.UTC(), Position: env.Position.Token(),
			StreamType: env.StreamType, StreamID: env.StreamID, Version: env.Version, Data: env.Payload})
		if err != nil {
			return false, fmt.Errorf("webhook %s: event %s: %w", ep.id, env.EventID, err)
		}
		b.Queue(ins, uuid.Must(uuid.NewV7()), ep.tenant, ep.id, env.EventID, env.Type, string(body), now)
	}
	last := envs[len(envs)-1].Position
	b.Queue(`UPDATE webhook_endpoints SET cursor_tx = $2::text::xid8, cursor_pos = $3 WHERE id = $1 AND cursor_tx = $4::text::xid8 AND cursor_pos = $5`,
		ep.id, last.TxText(), last.Pos, ep.cursor.TxText(), ep.cursor.Pos)
	res := tx.SendBatch(ctx, &b)
	for i := 0; i < b.Len(); i++ {
		tag, err := res.Exec()
		if err != nil {
			res.Close()
			return false, fmt.Errorf("webhook %s: enqueue: %w", ep.id, err)
		}
		if i == b.Len()-1 && tag.RowsAffected() != 1 {
			res.Close()
			return false, fmt.Errorf("webhook %s: cursor moved by another writer", ep.id)
		}
	}
	if err := res.Close(); err != nil {
		return false, err
	}
	return true, tx.Commit(ctx)
}

// recordFailure records a failed attempt of p: retried after the backoff,
// or dead once RetryFor has passed since its first attempt.
func (d *Dispatcher) recordFailure(ctx context.Context, ep endpoint, p pending, status int, sendErr error) error {
	now := d.opts.Now().UTC()
	msg := sendErr.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	var lastStatus *int
	if status != 0 {
		lastStatus = &status
	}
	first := now
	if p.first != nil {
		first = *p.first
	}
	n := p.attempts + 1
	st, next := StatusPending, now.Add(d.Backoff(now.Sub(first)))
	if !now.Before(first.Add(d.opts.RetryFor)) {
		st = StatusDead
		d.log.Warn("webhooks: delivery dead after its last attempt", "webhook", ep.id, "delivery", p.id, "event", p.eventID, "attempts", n, "err", sendErr)
	}
	const q = `UPDATE webhook_deliveries SET status = $2, attempts = attempts + 1, first_attempt_at = $3, last_attempt_at = $4,
    next_attempt_at = $5, last_status = $6, last_error = $7 WHERE id = $1 AND status = 'pending'`
	_, err := d.pool.Exec(ctx, q, p.id, st, first, now, next, lastStatus, msg)
	return err
}

// post sends one attempt; a nil error means a 2xx answer.
// openBody unseals the personal data of a delivery's event (see
// Options.Registry).
func (d *Dispatcher) openBody(ctx context.Context, body []byte) ([]byte, error) {
	if d.opts.Registry == nil {
		return body, nil
	}
	var b Body
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fmt.Errorf("delivery body: %w", err)
	}
	data, err := d.opts.Registry.UnsealPayload(ctx, d.pool, b.Type, b.Data)
	if err != nil {
		return nil, err
	}
	if bytes.Equal(data, b.Data) {
		return body, nil
	}
	b.Data = data
	return json.Marshal(b)
}

func (d *Dispatcher) post(ctx context.Context, ep endpoint, p pending, now time.Time) (int, error) {
	actx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	body, err := d.openBody(ctx, []byte(p.body))
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(actx, http.MethodPost, ep.url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Honten-Webhooks/1")
	req.Header.Set(EventIDHeader, p.eventID.String())
	req.Header.Set("Honten-Event-Type", p.eventType)
	req.Header.Set("Honten-Delivery-Id", p.id.String())
	req.Header.Set(SignatureHeader, Sign(body, now, ep.secrets(now)...))
	resp, err := d.opts.Client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}
