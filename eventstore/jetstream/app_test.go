package jetstream_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/eventstore/jetstream"
	"github.com/honten/honten/internal/apitest"
	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/chaos"
	"github.com/honten/honten/internal/natstest"
)

// With NATS_URL and REACTIONS_FROM=jetstream, Honten's own policies read
// JetStream: buyers and a back office run for a few seconds, then every
// reaction the chaos checks look for has happened (COD orders shipped,
// paid orders completed, no poison), read models equal a rebuild — and the
// policies' progress is in JetStream's consumers, not in PostgreSQL's
// offsets.
func TestPoliciesRunFromJetStream(t *testing.T) {
	t.Parallel()
	url := natstest.Start(t)
	env := apitest.NewWith(t, apitest.Options{Configure: func(c *app.Config) { c.NatsURL, c.ReactionsFrom = url, "jetstream" }})
	ctx := context.Background()
	shop, err := chaos.SetupShop(ctx, env.Main.Commands, "js", 6, 2, 40)
	require.NoError(t, err)
	// The storefront knows the shop once the read models have applied it.
	head, err := eventstore.Head(ctx, env.Main.Pool)
	require.NoError(t, err)
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	require.NoError(t, env.Main.Runner.WaitFor(wctx, head))
	load := &chaos.Load{Client: chaos.NewClient(env.Base, shop.Code), Shop: shop, Log: slog.New(slog.DiscardHandler)}
	lctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); load.Run(lctx, 3, 11) }()
	require.Eventually(t, func() bool { return load.Stats.Checkouts.Load() >= 8 }, 60*time.Second, 10*time.Millisecond)
	stop()
	wg.Wait()
	require.Empty(t, load.Failures())

	var failing string
	require.Eventually(t, func() bool {
		for _, c := range chaos.Verify(ctx, env.Main.Pool, env.Main.Runner, shop, load) {
			if !c.OK {
				failing = c.Name + ": " + c.Detail
				return false
			}
		}
		return true
	}, 60*time.Second, 500*time.Millisecond, "last failing check: %s", &failing)

	nc, err := nats.Connect(url)
	require.NoError(t, err)
	defer nc.Close()
	js, err := nc.JetStream()
	require.NoError(t, err)
	for _, h := range env.Main.Handlers() {
		for _, topic := range h.Topics {
			var n int
			require.NoError(t, env.Main.Pool.QueryRow(ctx, `SELECT count(*) FROM watermill_offsets_events WHERE consumer_group = $1`, h.Name).Scan(&n))
			require.Zero(t, n, "%s reads JetStream, not the PostgreSQL feed", h.Name)
			info, err := js.ConsumerInfo(jetstream.Stream, jetstream.Durable(h.Name, topic))
			require.NoError(t, err, h.Name)
			require.Zero(t, info.NumAckPending, h.Name)
		}
	}
	info, err := js.StreamInfo(jetstream.Stream)
	require.NoError(t, err)
	var events uint64
	require.NoError(t, env.Main.Pool.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&events))
	require.Equal(t, events, info.State.Msgs, "every committed event relayed once")
}
