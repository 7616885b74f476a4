package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/integrations/webhook"
	"github.com/honten/honten/internal/pgtest"
)

type pinged struct {
	N int `json:"n"`
}

func (pinged) EventName() string { return "test.pinged.v1" }

type other struct{}

func (other) EventName() string { return "test.other.v1" }

type testBundle struct {
	pool   *pgxpool.Pool
	store  *eventstore.Store
	tenant tenant.ID
	stream uuid.UUID
	n      int
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	pool := pgtest.New(t)
	reg := eventstore.NewRegistry()
	reg.Register(pinged{}, other{})
	return &testBundle{pool: pool, store: eventstore.New(pool, reg), tenant: tenant.NewID(), stream: uuid.Must(uuid.NewV7())}
}

// ping appends n events test.pinged.v1 (numbered on from the last) in n
// transactions and returns their ids in order.
func (b *testBundle) ping(t *testing.T, n int) []uuid.UUID {
	t.Helper()
	var ids []uuid.UUID
	for range n {
		b.n++
		res, err := b.store.Do(context.Background(), func(ctx context.Context, tx *eventstore.Tx) error {
			_, err := tx.Append(ctx, eventstore.Stream{Tenant: b.tenant, Type: "test", ID: b.stream}, int64(b.n-1), []eventstore.Event{pinged{N: b.n}},
				eventstore.Metadata{Tenant: b.tenant, Actor: "test"})
			return err
		})
		require.NoError(t, err)
		ids = append(ids, res.Events[0].EventID)
	}
	return ids
}

func (b *testBundle) endpoint(t *testing.T, url string, events ...string) webhook.Endpoint {
	t.Helper()
	if len(events) == 0 {
		events = []string{"test.pinged"}
	}
	e, err := webhook.Create(context.Background(), b.pool, b.tenant, webhook.NewEndpoint{URL: url, Events: events}, webhook.Rules{AllowPrivate: true}, time.Now())
	require.NoError(t, err)
	return e
}

// run starts a dispatcher until the test ends.
func (b *testBundle) run(t *testing.T, o webhook.Options) *webhook.Dispatcher {
	t.Helper()
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	if o.FirstRetry == 0 {
		o.FirstRetry = 5 * time.Millisecond
	}
	o.Refresh, o.Poll, o.LockRetry = 20*time.Millisecond, 20*time.Millisecond, 20*time.Millisecond
	if !o.AllowPrivate {
		o.Client = nil
	}
	d := webhook.NewDispatcher(b.pool, o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })
	return d
}

// receiver is a webhook receiver that verifies signatures and processes
// each event id once (it dedups by Honten-Event-Id).
type receiver struct {
	secrets []string
	// fail, when set, decides the answer to an attempt before it is
	// processed (true: 500); after, when set, after it is processed.
	fail  func(id string, attempt int) bool
	after func(id string, attempt int) bool
	block chan struct{} // when set, every request waits for it to close

	mu         sync.Mutex
	attempts   map[string]int
	processed  []string // event ids in the order first processed
	seen       map[string]bool
	duplicates int
	badSig     int
	bodies     map[string]webhook.Body
}

func newReceiver(secrets ...string) *receiver {
	return &receiver{secrets: secrets, attempts: map[string]int{}, seen: map[string]bool{}, bodies: map[string]webhook.Body{}}
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rc.block != nil {
		select {
		case <-rc.block:
		case <-r.Context().Done():
			return
		}
	}
	body, _ := io.ReadAll(r.Body)
	id := r.Header.Get(webhook.EventIDHeader)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, s := range rc.secrets {
		if webhook.Verify(r.Header.Get(webhook.SignatureHeader), body, s, 5*time.Minute, time.Now()) != nil {
			rc.badSig++
		}
	}
	rc.attempts[id]++
	n := rc.attempts[id]
	if rc.fail != nil && rc.fail(id, n) {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	if rc.seen[id] {
		rc.duplicates++
	} else {
		rc.seen[id] = true
		rc.processed = append(rc.processed, id)
		var b webhook.Body
		_ = json.Unmarshal(body, &b)
		rc.bodies[id] = b
	}
	if rc.after != nil && rc.after(id, n) {
		w.WriteHeader(http.StatusBadGateway) // processed, but the answer is lost
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) got() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.processed...)
}

func strs(ids []uuid.UUID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}

func deliveries(t *testing.T, b *testBundle, ep uuid.UUID) []webhook.Delivery {
	t.Helper()
	ds, err := webhook.ListDeliveries(context.Background(), b.pool, b.tenant, ep, "", 0, 200)
	require.NoError(t, err)
	return ds
}

// Signatures verify, events arrive in feed order although some attempts
// fail with 500 and some succeed on the receiver's side while their answer
// is lost, and a receiver that drops duplicates by event id processes each
// event exactly once.
func TestDeliveriesAreSignedOrderedAndProcessedOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rc := newReceiver()
	rc.fail = func(id string, attempt int) bool { return id[len(id)-1]%3 == 0 && attempt == 1 }
	rc.after = func(id string, attempt int) bool { return id[len(id)-1]%4 == 1 && attempt == 1 }
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	ep := b.endpoint(t, srv.URL)
	rc.secrets = []string{ep.Secret}
	b.run(t, webhook.Options{AllowPrivate: true})
	want := strs(b.ping(t, 40))
	require.Eventually(t, func() bool { return len(rc.got()) == len(want) }, 90*time.Second, 5*time.Millisecond)
	require.Equal(t, want, rc.got(), "in feed order, once each")
	require.Eventually(t, func() bool {
		for _, d := range deliveries(t, b, ep.ID) {
			if d.Status != webhook.StatusDelivered {
				return false
			}
		}
		return true
	}, 10*time.Second, 5*time.Millisecond)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	require.Zero(t, rc.badSig)
	require.Positive(t, rc.duplicates, "answers were lost: some events came twice and were dropped")
	retried := 0
	for _, d := range deliveries(t, b, ep.ID) {
		if d.Attempts > 1 {
			retried++
		}
		require.Equal(t, "test.pinged.v1", d.EventType)
	}
	require.Positive(t, retried)
	first := rc.bodies[want[0]]
	require.Equal(t, "test.pinged.v1", first.Type)
	require.JSONEq(t, `{"n":1}`, string(first.Data))
}

// An attempt that gets no answer within the timeout is retried.
func TestTimeoutIsRetried(t *testing.T) {
	t.Parallel()
	b := setup(t)
	release := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		first := false
		once.Do(func() { first = true })
		if first {
			select { // hang until the sender gives up
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	ep := b.endpoint(t, srv.URL)
	b.run(t, webhook.Options{AllowPrivate: true, Timeout: time.Second})
	b.ping(t, 1)
	require.Eventually(t, func() bool {
		ds := deliveries(t, b, ep.ID)
		return len(ds) == 1 && ds[0].Status == webhook.StatusDelivered
	}, 90*time.Second, 5*time.Millisecond)
	d := deliveries(t, b, ep.ID)[0]
	require.Equal(t, 2, d.Attempts)
	require.Equal(t, 200, *d.LastStatus)
}

// A delivery that fails until its retry window ends is dead; the next one
// goes, and a retry by hand delivers the dead one.
func TestDeadLetterAfterLastTryThenManualRetry(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rc := newReceiver()
	var mu sync.Mutex
	broken := true
	rc.fail = func(string, int) bool { mu.Lock(); defer mu.Unlock(); return broken }
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	ep := b.endpoint(t, srv.URL)
	d := b.run(t, webhook.Options{AllowPrivate: true, FirstRetry: 5 * time.Millisecond, MaxRetryDelay: 20 * time.Millisecond, RetryFor: 150 * time.Millisecond})
	require.Equal(t, 5*time.Millisecond, d.Backoff(0))
	require.Equal(t, 10*time.Millisecond, d.Backoff(10*time.Millisecond))
	require.Equal(t, 20*time.Millisecond, d.Backoff(time.Hour))
	ids := b.ping(t, 2)
	require.Eventually(t, func() bool {
		ds := deliveries(t, b, ep.ID)
		return len(ds) == 2 && ds[0].Status == webhook.StatusDead && ds[1].Status == webhook.StatusDead
	}, 90*time.Second, 5*time.Millisecond)
	ds := deliveries(t, b, ep.ID)
	require.GreaterOrEqual(t, ds[1].Attempts, 2, "retried with backoff before giving up")
	require.GreaterOrEqual(t, ds[1].LastAttempt.Sub(ds[1].CreatedAt), 150*time.Millisecond, "for the whole retry window")
	require.Equal(t, 500, *ds[1].LastStatus)
	require.Equal(t, ids[0], ds[1].EventID, "newest first")
	require.Empty(t, rc.got())

	mu.Lock()
	broken = false
	mu.Unlock()
	more := b.ping(t, 1)
	require.Eventually(t, func() bool { return len(rc.got()) == 1 }, 90*time.Second, 5*time.Millisecond)
	require.Equal(t, strs(more), rc.got(), "a dead delivery does not block the ones behind it")

	_, err := webhook.Retry(context.Background(), b.pool, b.tenant, ds[1].ID, time.Now())
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(rc.got()) == 2 }, 90*time.Second, 5*time.Millisecond)
	require.Equal(t, []string{more[0].String(), ids[0].String()}, rc.got())
	_, err = webhook.Retry(context.Background(), b.pool, tenant.NewID(), ds[0].ID, time.Now())
	require.ErrorIs(t, err, webhook.ErrDeliveryNotFound, "another shop's delivery")
}

// An endpoint that does not answer holds back only itself: another one
// receives every event meanwhile.
func TestSlowEndpointDoesNotDelayAnother(t *testing.T) {
	t.Parallel()
	b := setup(t)
	slow, fast := newReceiver(), newReceiver()
	slow.block = make(chan struct{})
	slowSrv, fastSrv := httptest.NewServer(slow), httptest.NewServer(fast)
	t.Cleanup(func() { slowSrv.Close(); fastSrv.Close() })
	b.endpoint(t, slowSrv.URL)
	b.endpoint(t, fastSrv.URL, "*")
	b.run(t, webhook.Options{AllowPrivate: true, Timeout: time.Minute})
	want := strs(b.ping(t, 30))
	require.Eventually(t, func() bool { return len(fast.got()) == len(want) }, 90*time.Second, 5*time.Millisecond)
	require.Equal(t, want, fast.got())
	require.Empty(t, slow.got(), "the slow endpoint is still on its first delivery")
	close(slow.block)
	require.Eventually(t, func() bool { return len(slow.got()) == len(want) }, 90*time.Second, 5*time.Millisecond)
	require.Equal(t, want, slow.got())
}

// After a rotation deliveries carry two signatures, one per secret, until
// the old secret expires; a receiver with either secret verifies them.
func TestSecretRotationSignsWithBoth(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var mu sync.Mutex
	var headers []string
	var bodies [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		headers, bodies = append(headers, r.Header.Get(webhook.SignatureHeader)), append(bodies, body)
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	ep := b.endpoint(t, srv.URL)
	old := ep.Secret
	fresh := "a new secret of the shop, 2026"
	rotated, err := webhook.Update(context.Background(), b.pool, b.tenant, ep.ID, webhook.Patch{Secret: &fresh}, webhook.Rules{AllowPrivate: true}, time.Now())
	require.NoError(t, err)
	require.NotNil(t, rotated.PreviousSecretUntil)
	require.WithinDuration(t, time.Now().Add(24*time.Hour), *rotated.PreviousSecretUntil, time.Minute)
	b.run(t, webhook.Options{AllowPrivate: true})
	b.ping(t, 1)
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(headers) == 1 }, 90*time.Second, 5*time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	require.Regexp(t, `^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$`, headers[0])
	for _, s := range []string{old, fresh} {
		require.NoError(t, webhook.Verify(headers[0], bodies[0], s, time.Minute, time.Now()))
	}
	require.ErrorIs(t, webhook.Verify(headers[0], bodies[0], "some other secret!", time.Minute, time.Now()), webhook.ErrBadSignature)
	require.ErrorIs(t, webhook.Verify(headers[0], bodies[0], fresh, time.Minute, time.Now().Add(time.Hour)), webhook.ErrStale)
}

// The event filter: exact types, types without version, prefixes, all.
func TestMatches(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		patterns []string
		typ      string
		want     bool
	}{
		{[]string{"*"}, "order.placed.v1", true},
		{[]string{"order.placed.v1"}, "order.placed.v1", true},
		{[]string{"order.placed.v1"}, "order.placed.v2", false},
		{[]string{"order.placed"}, "order.placed.v2", true},
		{[]string{"order.placed"}, "order.placed_late.v1", false},
		{[]string{"order.*"}, "order.status_changed.v1", true},
		{[]string{"order.*"}, "orders.x.v1", false},
		{[]string{"payment.*", "shipment.shipped"}, "shipment.shipped.v1", true},
		{[]string{"payment.*", "shipment.shipped"}, "shipment.delivered.v1", false},
	} {
		require.Equal(t, c.want, webhook.Matches(c.patterns, c.typ), "%v %s", c.patterns, c.typ)
	}
}

// Production refuses private addresses: in the URL when saved, and after
// DNS resolution when a delivery connects.
func TestSSRFGuard(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"http://127.0.0.1/x", "http://localhost:8080/", "http://10.1.2.3/", "http://169.254.169.254/latest/meta-data",
		"http://[::1]/", "http://192.168.0.1/", "http://100.64.0.1/", "ftp://example.com/", "http://user:pw@example.com/", "example.com"} {
		require.Error(t, webhook.CheckURL(u, false), u)
	}
	require.NoError(t, webhook.CheckURL("https://hooks.example.com/honten", false))
	require.NoError(t, webhook.CheckURL("http://127.0.0.1:9999/", true))

	b := setup(t)
	rc := newReceiver()
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	ep := b.endpoint(t, srv.URL) // saved under the development rules
	b.run(t, webhook.Options{AllowPrivate: false, RetryFor: time.Hour})
	b.ping(t, 1)
	require.Eventually(t, func() bool {
		ds := deliveries(t, b, ep.ID)
		return len(ds) == 1 && ds[0].LastError != nil
	}, 90*time.Second, 5*time.Millisecond)
	require.Contains(t, *deliveries(t, b, ep.ID)[0].LastError, "refused to connect to private address")
	require.Empty(t, rc.got())
}

// Three dispatchers on one database (three worker processes): one leads,
// so a receiver that always answers gets each event once, in order.
func TestOneDispatcherLeads(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rc := newReceiver()
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	b.endpoint(t, srv.URL)
	for range 3 {
		b.run(t, webhook.Options{AllowPrivate: true})
	}
	want := strs(b.ping(t, 50))
	require.Eventually(t, func() bool { return len(rc.got()) == len(want) }, 90*time.Second, 5*time.Millisecond)
	require.Equal(t, want, rc.got())
	rc.mu.Lock()
	defer rc.mu.Unlock()
	require.Zero(t, rc.duplicates)
	for id, n := range rc.attempts {
		require.Equal(t, 1, n, id)
	}
}
