package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/integrations/webhook"
)

// WebhooksOptions size the webhook benchmark.
type WebhooksOptions struct {
	// Events is how many events each endpoint receives; 0 means 20,000.
	Events int
	// Endpoints are the endpoint counts measured (each beside a bare loop
	// of as many concurrent clients); nil means 1 and 8.
	Endpoints []int
	// Duration of each bare POST loop; 0 means 5s.
	Duration time.Duration
}

type benchPinged struct {
	N    int    `json:"n"`
	Note string `json:"note"`
}

func (benchPinged) EventName() string { return "bench.pinged.v1" }

// Webhooks measures deliveries per second from the dispatcher to a local
// receiver (a backlog of events already in the log, signed, one endpoint's
// deliveries in order, each recorded in the delivery log) beside a bare
// loop of HTTP POSTs of the same bodies to the same receiver by as many
// clients as there are endpoints, in the same run.
func Webhooks(ctx context.Context, env *Env, o WebhooksOptions) ([]Row, error) {
	if o.Events <= 0 {
		o.Events = 20_000
	}
	if len(o.Endpoints) == 0 {
		o.Endpoints = []int{1, 8}
	}
	if o.Duration <= 0 {
		o.Duration = 5 * time.Second
	}
	var received atomic.Int64
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		received.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l) //nolint:errcheck
	defer srv.Close()
	base := "http://" + l.Addr().String()

	reg := eventstore.NewRegistry()
	reg.Register(benchPinged{})
	store := eventstore.New(env.Pool, reg)
	body := fmt.Sprintf(`{"id":"%s","type":"bench.pinged.v1","data":{"n":1,"note":"%s"}}`, uuid.Must(uuid.NewV7()), strings.Repeat("x", 200))

	var rows []Row
	for _, n := range o.Endpoints {
		// The bare ceiling: n clients posting as fast as the receiver answers.
		client := webhook.NewClient(true, 10*time.Second)
		var posted atomic.Int64
		lctx, cancel := context.WithTimeout(ctx, o.Duration)
		start := time.Now()
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for lctx.Err() == nil {
					req, _ := http.NewRequestWithContext(lctx, http.MethodPost, base+"/bare", bytes.NewReader([]byte(body)))
					req.Header.Set("Content-Type", "application/json")
					resp, err := client.Do(req)
					if err != nil {
						continue
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					posted.Add(1)
				}
			}()
		}
		wg.Wait()
		cancel()
		bare := float64(posted.Load()) / time.Since(start).Seconds()

		// The dispatcher: n endpoints, each owing o.Events deliveries.
		t := tenant.NewID()
		for i := range n {
			if _, err := webhook.Create(ctx, env.Pool, t, webhook.NewEndpoint{URL: fmt.Sprintf("%s/hook/%d", base, i), Events: []string{"bench.*"}},
				webhook.Rules{AllowPrivate: true}, time.Now()); err != nil {
				return nil, err
			}
		}
		stream := uuid.Must(uuid.NewV7())
		const batch = 500
		for v := 0; v < o.Events; v += batch {
			evs := make([]eventstore.Event, 0, batch)
			for i := v; i < min(v+batch, o.Events); i++ {
				evs = append(evs, benchPinged{N: i, Note: strings.Repeat("x", 200)})
			}
			if _, err := store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
				_, err := tx.Append(ctx, eventstore.Stream{Tenant: t, Type: "bench", ID: stream}, int64(v), evs, eventstore.Metadata{Tenant: t, Actor: "bench"})
				return err
			}); err != nil {
				return nil, err
			}
		}
		received.Store(0)
		want := int64(n * o.Events)
		d := webhook.NewDispatcher(env.Pool, webhook.Options{AllowPrivate: true, Refresh: 10 * time.Millisecond, Poll: 10 * time.Millisecond,
			LockRetry: 10 * time.Millisecond, Logger: env.Log})
		dctx, dcancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		start = time.Now()
		go func() { done <- d.Run(dctx) }()
		// Done when every delivery is recorded delivered (the receiver
		// sees the last one a moment before its row is updated).
		var delivered int64
		for delivered < want && ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
			if received.Load() < want {
				continue
			}
			if err := env.Pool.QueryRow(ctx, `SELECT count(*) FROM webhook_deliveries WHERE tenant_id = $1 AND status = 'delivered'`, t).Scan(&delivered); err != nil {
				dcancel()
				return nil, err
			}
		}
		elapsed := time.Since(start)
		dcancel()
		if err := <-done; err != nil {
			return nil, err
		}
		if got := received.Load(); got != want || delivered != want {
			return nil, fmt.Errorf("webhooks bench: %d endpoints: received %d, delivered %d, want %d", n, got, delivered, want)
		}
		rate := float64(want) / elapsed.Seconds()
		rows = append(rows,
			Row{Name: fmt.Sprintf("bare HTTP POST loop, %d client(s)", n), Value: bare, Unit: "req/s"},
			Row{Name: fmt.Sprintf("webhook deliveries, %d endpoint(s) × %d events", n, o.Events), Value: rate, Unit: "deliveries/s",
				Baseline: fmt.Sprintf("bare loop, %d client(s)", n), Ratio: rate / bare,
				Note: "signed, in order per endpoint, each logged (2 writes)"})
	}
	return rows, nil
}
