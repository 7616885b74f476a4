package eventstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/eventstore"
)

// appendTo appends one event to a new stream of type typ.
func (b *testBundle) appendTo(t *testing.T, typ string) {
	t.Helper()
	_, err := b.store.Do(context.Background(), func(ctx context.Context, tx *eventstore.Tx) error {
		_, err := tx.Append(ctx, eventstore.Stream{Tenant: b.tenant, Type: typ, ID: uuid.Must(uuid.NewV7())}, 0, []eventstore.Event{noted{N: 1}}, b.md())
		return err
	})
	require.NoError(t, err)
}

// waitClosed waits for ch to be closed, with a deadline: other tests'
// transactions on the cluster can hold the feed back for a while.
func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(2 * time.Minute):
		t.Fatalf("%s: not woken", what)
	}
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestWatcherWakesOnlyTheConsumersOfWhatBecameReadable(t *testing.T) {
	b := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.appendTo(t, "order") // the log is not empty when the watcher starts
	// ... and the order is readable then: held back by a transaction open
	// elsewhere on a shared server, it would become news with the cart.
	require.Eventually(t, func() bool {
		head, err := eventstore.StartWatch(ctx, b.pool)
		require.NoError(t, err)
		return head != eventstore.Position{}
	}, 2*time.Minute, 10*time.Millisecond, "the order event becomes readable")
	w := eventstore.NewWatcher(b.pool, eventstore.WatchOptions{MaxPoll: 20 * time.Millisecond})
	first := w.Changes()
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() { cancel(); require.NoError(t, <-done) }()
	waitClosed(t, first, "every consumer at the watcher's first look")

	carts, orders, all := w.ChangesOf("cart"), w.ChangesOf("order", "payment"), w.Changes
	cartCh, orderCh, allCh := carts(), orders(), all()
	b.appendTo(t, "cart")
	w.Nudge()
	waitClosed(t, cartCh, "cart consumer after a cart commit")
	waitClosed(t, allCh, "consumer of every type after a cart commit")
	require.False(t, closed(orderCh), "the consumer of orders and payments was woken by a cart commit")

	// A consumer of several types wakes for any of them; the cart
	// consumer's new channel stays open.
	cartCh = carts()
	b.appendTo(t, "payment")
	w.Nudge()
	waitClosed(t, orderCh, "order and payment consumer after a payment commit")
	require.False(t, closed(cartCh), "the cart consumer was woken by a payment commit")
}

func TestWatchStateHoldsBackWhatAnOlderTransactionHides(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	b.appendTo(t, "order")
	var start eventstore.WatchState
	require.Eventually(t, func() bool {
		head, err := eventstore.StartWatch(ctx, b.pool)
		require.NoError(t, err)
		start, err = eventstore.ReadWatchState(ctx, b.pool, head)
		require.NoError(t, err)
		return !start.Held && len(start.Types) == 0
	}, 2*time.Minute, 10*time.Millisecond, "the feed settles")

	// An older transaction with an id, still running, hides a later commit.
	older, err := b.pool.Begin(ctx)
	require.NoError(t, err)
	defer older.Rollback(ctx) //nolint:errcheck
	_, err = older.Exec(ctx, `SELECT pg_current_xact_id()`)
	require.NoError(t, err)
	b.appendTo(t, "cart")
	st, err := eventstore.ReadWatchState(ctx, b.pool, start.Cursor)
	require.NoError(t, err)
	require.True(t, st.Held, "the cart event waits behind the older transaction")
	require.Empty(t, st.Types)
	require.Equal(t, start.Cursor, st.Cursor, "the cursor does not pass a hidden event")

	require.NoError(t, older.Rollback(ctx))
	require.Eventually(t, func() bool {
		st, err = eventstore.ReadWatchState(ctx, b.pool, start.Cursor)
		require.NoError(t, err)
		return len(st.Types) > 0
	}, 2*time.Minute, 10*time.Millisecond)
	require.Equal(t, []string{"cart"}, st.Types)
	require.Equal(t, 1, st.Read)
	require.True(t, start.Cursor.Less(st.Cursor))

	// Nothing new after the cursor: an empty look.
	again, err := eventstore.ReadWatchState(ctx, b.pool, st.Cursor)
	require.NoError(t, err)
	require.Empty(t, again.Types)
	require.Equal(t, st.Cursor, again.Cursor)
}
