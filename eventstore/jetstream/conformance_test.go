package jetstream_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/eventstore/bus"
	"github.com/honten/honten/eventstore/jetstream"
	"github.com/honten/honten/internal/natstest"
	"github.com/honten/honten/internal/pgtest"
)

type counted struct {
	N int `json:"n"`
}

func (counted) EventName() string { return "test.counted.v1" }

type acknowledged struct {
	Of uuid.UUID `json:"of"`
}

func (acknowledged) EventName() string { return "test.acknowledged.v1" }

// transport runs bus handlers from one feed: the PostgreSQL feed, or
// JetStream fed by the relay.
type transport struct {
	name string
	// worker returns a worker running handlers.
	worker func(handlers []bus.Handler, opts bus.Options) *bus.Worker
	// redeliver makes the next worker deliver group's topic from the start.
	redeliver func(group, topic string)
}

type env struct {
	store  *eventstore.Store
	tenant tenant.ID
	nats   string // JetStream's URL, for the jetstream transport
}

func setup(t *testing.T) *env {
	t.Helper()
	pool := pgtest.New(t)
	reg := eventstore.NewRegistry()
	reg.Register(counted{}, acknowledged{})
	return &env{store: eventstore.New(pool, reg), tenant: tenant.NewID()}
}

func transports(t *testing.T, e *env) []transport {
	pool := e.store.Pool()
	pg := transport{name: "postgres",
		worker: func(hs []bus.Handler, o bus.Options) *bus.Worker { return bus.NewWorker(pool, hs, o) },
		redeliver: func(group, topic string) {
			_, err := pool.Exec(context.Background(), `UPDATE watermill_offsets_events SET offset_acked = 0, last_processed_transaction_id = '0' WHERE consumer_group = $1 AND topic = $2`, group, topic)
			require.NoError(t, err)
		}}
	return []transport{pg, jetStream(t, e, pool)}
}

func jetStream(t *testing.T, e *env, pool *pgxpool.Pool) transport {
	return transport{name: "jetstream",
		worker: func(hs []bus.Handler, o bus.Options) *bus.Worker {
			if e.nats == "" {
				e.nats = natstest.Start(t)
				require.NoError(t, jetstream.Ensure(e.nats, 2*time.Minute))
			}
			relay, closeRelay, err := jetstream.Relay(e.nats, watermill.NopLogger{})
			require.NoError(t, err)
			t.Cleanup(func() { closeRelay() }) //nolint:errcheck
			retryFor := o.RetryFor
			if retryFor <= 0 {
				retryFor = 10 * time.Minute
			}
			o.Subscribe = jetstream.Subscribe(e.nats, retryFor+time.Minute, watermill.NopLogger{})
			return bus.NewWorker(pool, append([]bus.Handler{relay}, hs...), o)
		},
		redeliver: func(group, topic string) {
			nc, err := nats.Connect(e.nats)
			require.NoError(t, err)
			defer nc.Close()
			js, err := nc.JetStream()
			require.NoError(t, err)
			require.NoError(t, js.DeleteConsumer(jetstream.Stream, jetstream.Durable(group, topic)))
		}}
}

func (e *env) emit(t *testing.T, stream uuid.UUID, version int64, n int) {
	t.Helper()
	_, err := e.store.Do(context.Background(), func(ctx context.Context, tx *eventstore.Tx) error {
		_, err := tx.Append(ctx, eventstore.Stream{Tenant: e.tenant, Type: "test", ID: stream}, version,
			[]eventstore.Event{counted{N: n}}, eventstore.Metadata{Tenant: e.tenant, Actor: "test"})
		return err
	})
	require.NoError(t, err)
}

func run(t *testing.T, w *bus.Worker) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

var fast = bus.Options{PollInterval: 10 * time.Millisecond, LockRetry: 10 * time.Millisecond}

// The bus contract, run on both feeds: order per stream, at-least-once
// with an idempotent effect, poison handling.
func TestConformance(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"postgres", "jetstream"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			pick := func(e *env) transport {
				for _, tr := range transports(t, e) {
					if tr.name == name {
						return tr
					}
				}
				panic(name)
			}
			t.Run("order per stream", func(t *testing.T) {
				t.Parallel()
				e := setup(t)
				tr := pick(e)
				a, b := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
				for i := range 10 {
					e.emit(t, a, int64(i), i)
					e.emit(t, b, int64(i), i)
				}
				var mu sync.Mutex
				seen := map[uuid.UUID][]int64{}
				h := bus.Handler{Name: "test_order", Topics: []string{"test"}, Handle: func(ctx context.Context, env eventstore.Envelope) error {
					mu.Lock()
					defer mu.Unlock()
					seen[env.StreamID] = append(seen[env.StreamID], env.Version)
					return nil
				}}
				run(t, tr.worker([]bus.Handler{h}, fast))
				require.Eventually(t, func() bool {
					mu.Lock()
					defer mu.Unlock()
					return len(seen[a])+len(seen[b]) >= 20
				}, 30*time.Second, 5*time.Millisecond)
				mu.Lock()
				defer mu.Unlock()
				want := []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
				require.Equal(t, want, seen[a])
				require.Equal(t, want, seen[b])
			})
			t.Run("delivered twice, one effect", func(t *testing.T) {
				t.Parallel()
				e := setup(t)
				tr := pick(e)
				stream := uuid.Must(uuid.NewV7())
				for i := range 5 {
					e.emit(t, stream, int64(i), i)
				}
				var calls atomic.Int64
				stop := run(t, tr.worker([]bus.Handler{ackPolicy(e.store, &calls)}, fast))
				require.Eventually(t, func() bool { return len(e.acks(t)) == 5 }, 30*time.Second, 5*time.Millisecond)
				stop()
				tr.redeliver("test_ack_policy", "test")
				before := calls.Load()
				run(t, tr.worker([]bus.Handler{ackPolicy(e.store, &calls)}, fast))
				require.Eventually(t, func() bool { return calls.Load() >= before+5 }, 30*time.Second, 5*time.Millisecond)
				acks := e.acks(t)
				require.Len(t, acks, 5, "the second delivery changed nothing")
				seen := map[uuid.UUID]bool{}
				for _, a := range acks {
					of := a.Data.(acknowledged).Of
					require.False(t, seen[of])
					seen[of] = true
				}
			})
			t.Run("poison, and the rest flows", func(t *testing.T) {
				t.Parallel()
				e := setup(t)
				tr := pick(e)
				stream := uuid.Must(uuid.NewV7())
				for i := range 3 {
					e.emit(t, stream, int64(i), i)
				}
				var handled atomic.Int64
				h := bus.Handler{Name: "test_fussy", Topics: []string{bus.TopicAll}, Handle: func(ctx context.Context, env eventstore.Envelope) error {
					if env.Version == 2 {
						return errors.New("cannot handle version 2")
					}
					handled.Add(1)
					return nil
				}}
				o := fast
				o.RetryInterval, o.RetryFor = time.Millisecond, 50*time.Millisecond
				run(t, tr.worker([]bus.Handler{h}, o))
				require.Eventually(t, func() bool { return handled.Load() == 2 }, 30*time.Second, 5*time.Millisecond)
				var reason string
				require.Eventually(t, func() bool {
					return e.store.Pool().QueryRow(context.Background(), `SELECT metadata->>'reason_poisoned' FROM watermill_poison`).Scan(&reason) == nil
				}, 30*time.Second, 5*time.Millisecond)
				require.Contains(t, reason, "cannot handle version 2")
			})
		})
	}
}

// A relay that publishes again what it already published (its offset lost
// in a crash) adds nothing to the stream: the event id is the Nats-Msg-Id.
func TestRelayRepublishIsDeduplicated(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tr := jetStream(t, e, e.store.Pool())
	stream := uuid.Must(uuid.NewV7())
	for i := range 6 {
		e.emit(t, stream, int64(i), i)
	}
	msgs := func() uint64 {
		nc, err := nats.Connect(e.nats)
		require.NoError(t, err)
		defer nc.Close()
		js, err := nc.JetStream()
		require.NoError(t, err)
		info, err := js.StreamInfo(jetstream.Stream)
		require.NoError(t, err)
		return info.State.Msgs
	}
	var relayed int64
	require.NoError(t, e.store.Pool().QueryRow(context.Background(), `SELECT max(global_position) FROM events`).Scan(&relayed))
	offset := func() int64 {
		var n int64
		err := e.store.Pool().QueryRow(context.Background(), `SELECT offset_acked FROM watermill_offsets_events WHERE consumer_group = $1`, jetstream.RelayName).Scan(&n)
		if err != nil {
			return -1
		}
		return n
	}
	stop := run(t, tr.worker(nil, fast))
	require.Eventually(t, func() bool { return msgs() == 6 && offset() == relayed }, 30*time.Second, 5*time.Millisecond)
	stop()
	// Rewind the relay: everything is published a second time.
	_, err := e.store.Pool().Exec(context.Background(), `UPDATE watermill_offsets_events SET offset_acked = 0, last_processed_transaction_id = '0' WHERE consumer_group = $1`, jetstream.RelayName)
	require.NoError(t, err)
	run(t, tr.worker(nil, fast))
	require.Eventually(t, func() bool { return offset() == relayed }, 30*time.Second, 5*time.Millisecond)
	require.Equal(t, uint64(6), msgs(), "republished events were dropped as duplicates")
}

// ackPolicy appends, for every counted event, an acknowledgement whose
// command id is the event's id: a redelivery appends nothing.
func ackPolicy(store *eventstore.Store, calls *atomic.Int64) bus.Handler {
	return bus.Handler{
		Name:   "test_ack_policy",
		Topics: []string{"test"},
		Handle: func(ctx context.Context, env eventstore.Envelope) error {
			calls.Add(1)
			if env.Type != "test.counted.v1" {
				return nil
			}
			acks := uuid.NewSHA1(uuid.NameSpaceOID, env.Tenant.UUID[:])
			_, err := store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
				envs, err := tx.Load(ctx, env.Tenant, acks)
				if err != nil {
					return err
				}
				_, err = tx.Append(ctx, eventstore.Stream{Tenant: env.Tenant, Type: "acks", ID: acks}, int64(len(envs)),
					[]eventstore.Event{acknowledged{Of: env.EventID}},
					eventstore.Metadata{Tenant: env.Tenant, Actor: "system:test_ack_policy", Correlation: env.CorrelationID,
						Causation: env.EventID, CommandID: env.EventID})
				if errors.Is(err, eventstore.ErrVersionConflict) {
					return eventstore.Retry(err)
				}
				return err
			})
			if errors.Is(err, eventstore.ErrDuplicate) {
				return nil
			}
			return err
		},
	}
}

func (e *env) acks(t *testing.T) []eventstore.Envelope {
	t.Helper()
	envs, err := e.store.Load(context.Background(), e.store.Pool(), e.tenant, uuid.NewSHA1(uuid.NameSpaceOID, e.tenant.UUID[:]))
	require.NoError(t, err)
	return envs
}
