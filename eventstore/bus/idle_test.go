package bus_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/eventstore/bus"
	"github.com/honten/honten/internal/pgtest"
)

// pollCounter counts the feed's polls sent on a pool: the subscriber's
// select, which reads its offset and the events below pg_snapshot_xmin.
type pollCounter struct{ n atomic.Int64 }

func (c *pollCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if strings.Contains(d.SQL, "pg_snapshot_xmin") && strings.Contains(d.SQL, "watermill_offsets_events") {
		c.n.Add(1)
	}
	return ctx
}

func (c *pollCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// feedSignal is a feed-change signal the test raises by hand: changes
// returns the current channel, and raise closes it for a new one.
type feedSignal struct {
	mu sync.Mutex
	ch chan struct{}
}

func (f *feedSignal) changes() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ch
}

func (f *feedSignal) raise() {
	f.mu.Lock()
	defer f.mu.Unlock()
	close(f.ch)
	f.ch = make(chan struct{})
}

// A subscriber that read fewer events than a batch holds has read all
// that was readable: it waits for the feed to change before it polls
// again, instead of spending a transaction on a poll that finds nothing.
// Each wake with events is then one poll, and nothing is missed.
func TestAShortBatchIsThePollsLastUntilTheFeedChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var polls pollCounter
	pool := pgtest.Traced(t, &polls)
	reg := eventstore.NewRegistry()
	reg.Register(counted{}, acknowledged{})
	b := &testBundle{store: eventstore.New(pool, reg), tenant: tenant.NewID()}

	var seen atomic.Int64
	h := bus.Handler{Name: "test_counter", Topics: []string{"test"}, Handle: func(context.Context, eventstore.Envelope) error {
		seen.Add(1)
		return nil
	}}
	signal := &feedSignal{ch: make(chan struct{})}
	opts := bus.Options{
		// The timer never fires within the test: only the signal wakes.
		PollInterval: 10 * time.Minute, LockRetry: 10 * time.Millisecond,
		ChangesOf: func(...string) func() <-chan struct{} { return signal.changes },
	}
	run(t, bus.NewWorker(pool, []bus.Handler{h}, opts))
	// The first poll finds nothing and the subscriber goes idle.
	require.Eventually(t, func() bool { return polls.n.Load() >= 1 }, 30*time.Second, time.Millisecond)

	stream := uuid.Must(uuid.NewV7())
	const rounds, perRound = 6, 3
	version := int64(0)
	for r := 1; r <= rounds; r++ {
		for range perRound {
			b.emit(t, stream, version, int(version))
			version++
		}
		// Raise the signal once the events are readable: a transaction
		// open elsewhere on the server (another package's test) can hold
		// them back from the feed for a while, and the real watcher wakes
		// the subscriber only when they become readable.
		require.Eventually(t, func() bool {
			var readable bool
			err := pool.QueryRow(ctx, `SELECT bool_and(tx_id < pg_snapshot_xmin(pg_current_snapshot())) FROM events WHERE tenant_id = $1`,
				b.tenant).Scan(&readable)
			return err == nil && readable
		}, 30*time.Second, time.Millisecond)
		signal.raise()
		require.Eventually(t, func() bool { return seen.Load() == int64(r*perRound) }, 30*time.Second, time.Millisecond)
		// The round's events came in one poll, and no empty poll followed
		// them (a poll is counted before its events are handled).
		require.Equal(t, int64(1+r), polls.n.Load(), "polls after round %d", r)
	}
}
