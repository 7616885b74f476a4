package bus_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/eventstore/bus"
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

type testBundle struct {
	store  *eventstore.Store
	tenant tenant.ID
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	pool := pgtest.New(t)
	reg := eventstore.NewRegistry()
	reg.Register(counted{}, acknowledged{})
	return &testBundle{store: eventstore.New(pool, reg), tenant: tenant.NewID()}
}

func (b *testBundle) emit(t *testing.T, stream uuid.UUID, version int64, n int) {
	t.Helper()
	_, err := b.store.Do(context.Background(), func(ctx context.Context, tx *eventstore.Tx) error {
		_, err := tx.Append(ctx, eventstore.Stream{Tenant: b.tenant, Type: "test", ID: stream}, version,
			[]eventstore.Event{counted{N: n}}, eventstore.Metadata{Tenant: b.tenant, Actor: "test"})
		return err
	})
	require.NoError(t, err)
}

func run(t *testing.T, w *bus.Worker) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

// ackPolicy is a policy: for every counted event it appends an
// acknowledgement to the "acks" stream of its tenant, as a command whose id
// is the event's id — so a redelivery appends nothing.
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
				return nil // already done: the redelivery has no effect
			}
			return err
		},
	}
}

func (b *testBundle) acks(t *testing.T) []eventstore.Envelope {
	t.Helper()
	envs, err := b.store.Load(context.Background(), b.store.Pool(), b.tenant, uuid.NewSHA1(uuid.NameSpaceOID, b.tenant.UUID[:]))
	require.NoError(t, err)
	return envs
}

func TestPolicyDeliveredTwiceHasOneEffect(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	stream := uuid.Must(uuid.NewV7())
	for i := 0; i < 5; i++ {
		b.emit(t, stream, int64(i), i)
	}
	var calls atomic.Int64
	opts := bus.Options{PollInterval: 10 * time.Millisecond, LockRetry: 10 * time.Millisecond}
	stop := run(t, bus.NewWorker(b.store.Pool(), []bus.Handler{ackPolicy(b.store, &calls)}, opts))
	require.Eventually(t, func() bool { return len(b.acks(t)) == 5 }, 30*time.Second, 5*time.Millisecond)
	stop()

	// Redeliver everything: rewind the consumer group to the start of the log.
	_, err := b.store.Pool().Exec(ctx, `UPDATE watermill_offsets_events SET offset_acked = 0, last_processed_transaction_id = '0' WHERE consumer_group = 'test_ack_policy'`)
	require.NoError(t, err)
	before := calls.Load()
	run(t, bus.NewWorker(b.store.Pool(), []bus.Handler{ackPolicy(b.store, &calls)}, opts))
	require.Eventually(t, func() bool { return calls.Load() >= before+5 }, 30*time.Second, 5*time.Millisecond)

	acks := b.acks(t)
	require.Len(t, acks, 5, "the second delivery changed nothing")
	seen := map[uuid.UUID]bool{}
	for _, a := range acks {
		of := a.Data.(acknowledged).Of
		require.False(t, seen[of])
		seen[of] = true
		require.Equal(t, "system:test_ack_policy", a.Actor)
	}
}

func TestFailingMessageGoesToPoisonQueueAndTheRestFlows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	stream := uuid.Must(uuid.NewV7())
	for i := 0; i < 3; i++ {
		b.emit(t, stream, int64(i), i)
	}
	var handled atomic.Int64
	h := bus.Handler{Name: "test_fussy", Topics: []string{bus.TopicAll}, Handle: func(ctx context.Context, env eventstore.Envelope) error {
		if env.Version == 2 {
			return errors.New("cannot handle version 2")
		}
		handled.Add(1)
		return nil
	}}
	run(t, bus.NewWorker(b.store.Pool(), []bus.Handler{h}, bus.Options{PollInterval: 10 * time.Millisecond, RetryInterval: time.Millisecond, RetryFor: 50 * time.Millisecond, LockRetry: 10 * time.Millisecond}))
	require.Eventually(t, func() bool { return handled.Load() == 2 }, 30*time.Second, 5*time.Millisecond)
	var reason string
	require.Eventually(t, func() bool {
		return b.store.Pool().QueryRow(ctx, `SELECT metadata->>'reason_poisoned' FROM watermill_poison`).Scan(&reason) == nil
	}, 30*time.Second, 5*time.Millisecond)
	require.Contains(t, reason, "cannot handle version 2")
}

func TestEnvelopeRoundTripsThroughMessages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	stream := uuid.Must(uuid.NewV7())
	b.emit(t, stream, 0, 42)
	got := make(chan eventstore.Envelope, 1)
	h := bus.Handler{Name: "test_capture", Topics: []string{"test"}, Handle: func(ctx context.Context, env eventstore.Envelope) error {
		select {
		case got <- env:
		default:
		}
		return nil
	}}
	run(t, bus.NewWorker(b.store.Pool(), []bus.Handler{h}, bus.Options{PollInterval: 10 * time.Millisecond, LockRetry: 10 * time.Millisecond}))
	var env eventstore.Envelope
	select {
	case env = <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("no delivery")
	}
	stored, err := b.store.Load(context.Background(), b.store.Pool(), b.tenant, stream)
	require.NoError(t, err)
	want := stored[0]
	require.Equal(t, want.EventID, env.EventID)
	require.Equal(t, want.Position, env.Position)
	require.Equal(t, want.Tenant, env.Tenant)
	require.Equal(t, "test.counted.v1", env.Type)
	require.Equal(t, int64(1), env.Version)
	require.WithinDuration(t, want.RecordedAt, env.RecordedAt, time.Microsecond)
	ev, err := b.store.Registry().Decode(env)
	require.NoError(t, err)
	require.Equal(t, counted{N: 42}, ev)
}
