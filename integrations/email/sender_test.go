package email_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/integrations/email"
	"github.com/honten/honten/internal/pgtest"
)

// A sender woken for a message written in its process polls the outbox
// once: the poll that found fewer messages than a batch took every
// message due, so the sender waits for the next nudge instead of polling
// again to find nothing (which, under load, was a second statement for
// each order's mail).
func TestASenderPollsTheOutboxOnceForEachNudge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	polls := &pgtest.Sent{Match: func(sql string) bool {
		return strings.HasPrefix(sql, "SELECT") && strings.Contains(sql, "FROM email_outbox") && strings.Contains(sql, "status = 'pending'")
	}}
	pool := pgtest.Traced(t, polls)
	s := &email.Sender{Pool: pool, From: "noreply@example.jp", Every: time.Hour}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(rctx) }()
	require.Eventually(t, func() bool { return polls.Counts().Matched == 1 }, 10*time.Second, time.Millisecond, "the first poll")

	ten := tenant.NewID()
	const rounds = 6
	for i := range rounds {
		key := fmt.Sprintf("round-%d", i)
		_, err := email.Enqueue(ctx, pool, email.Outgoing{Tenant: ten, DedupKey: key, Template: "cancelled", To: "x@example.jp",
			Rendered: email.Rendered{Subject: "件名", Text: "本文"}})
		require.NoError(t, err)
		s.Nudge()
		require.Eventually(t, func() bool {
			var status string
			err := pool.QueryRow(ctx, `SELECT status FROM email_outbox WHERE dedup_key = $1`, key).Scan(&status)
			return err == nil && status == "sent"
		}, 10*time.Second, time.Millisecond, "round %d sent", i)
	}
	cancel()
	require.NoError(t, <-done)
	require.Equal(t, 1+rounds, polls.Counts().Matched, "one poll at the start and one per nudge")
}

// A poll's messages are marked sent together: the poll, then one batch of
// marks (one transaction), whatever the number of messages.
func TestAPollMarksItsMessagesInOneBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sent := &pgtest.Sent{}
	pool := pgtest.Traced(t, sent)
	s := &email.Sender{Pool: pool, From: "noreply@example.jp"}
	ten := tenant.NewID()
	for i := range 5 {
		_, err := email.Enqueue(ctx, pool, email.Outgoing{Tenant: ten, DedupKey: fmt.Sprintf("m-%d", i), Template: "cancelled",
			To: "x@example.jp", Rendered: email.Rendered{Subject: "件名", Text: "本文"}})
		require.NoError(t, err)
	}
	sent.Watch(nil)
	n, err := s.SendDue(ctx, 50)
	require.NoError(t, err)
	require.Equal(t, 5, n)
	c := sent.Counts()
	require.Equal(t, 2, c.Trips, "the poll, then the marks")
	require.Equal(t, 1, c.Batches)
	var marked int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM email_outbox WHERE tenant_id = $1 AND status = 'sent' AND attempts = 1`, ten).Scan(&marked))
	require.Equal(t, 5, marked)
	n, err = s.SendDue(ctx, 50)
	require.NoError(t, err)
	require.Zero(t, n, "nothing is sent twice")
}
