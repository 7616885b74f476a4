package chaos_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/chaos"
	"github.com/honten/honten/internal/devdb"
	"github.com/honten/honten/internal/pgtest"
)

// Two processes run the projectors and workers (--roles=projectors,workers)
// beside an API process on one database. The active one is SIGKILLed under
// load, three times over (each time the survivor is the active one): the
// standby takes over within 5 s — every read model and every consumer group
// passes the head of the log as it stood at the kill — and nothing is
// applied twice (read models equal a rebuild; one decision per
// reservation, one shipment per order).
func TestRolesStandbyTakesOverWithinFiveSeconds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	root, err := devdb.FindRoot()
	require.NoError(t, err)
	dir := t.TempDir()
	bin, err := chaos.Build(ctx, root, dir)
	require.NoError(t, err)
	url := pgtest.NewURL(t)

	cfg, err := app.ConfigFromEnv()
	require.NoError(t, err)
	cfg.DatabaseURL, cfg.LogLevel, cfg.DBMaxConns = url, slog.LevelError, 10
	m := app.New(cfg)
	t.Cleanup(m.Close)
	require.NoError(t, m.Open(ctx))
	shop, err := chaos.SetupShop(ctx, m.Commands, "roles", 10, 2, 50)
	require.NoError(t, err)

	addr, err := chaos.FreeAddr()
	require.NoError(t, err)
	log := slog.New(slog.DiscardHandler)
	proc := func(name, roles, addr string) *chaos.Process {
		p := &chaos.Process{Name: name, Binary: bin, Roles: roles, Addr: addr, DatabaseURL: url, LogPath: filepath.Join(dir, name+".log"), LogLevel: "info", Log: log}
		t.Cleanup(func() { p.Stop(15 * time.Second) })
		return p
	}
	api := proc("api", "api", addr)
	workers := []*chaos.Process{proc("a", "projectors,workers", ""), proc("b", "projectors,workers", "")}

	// a starts alone, so it takes every lock; b then takes its share of the
	// read models and stands by for the workers.
	require.NoError(t, workers[0].Start())
	require.NoError(t, api.Start())
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	require.NoError(t, api.WaitReady(wctx))
	require.NoError(t, chaos.Settle(wctx, m.Pool, m.Runner, m.Handlers(), shop))
	require.NoError(t, workers[1].Start())
	require.NoError(t, workers[1].WaitRunning(wctx))

	load := &chaos.Load{Client: chaos.NewClient("http://"+addr, shop.Code), Shop: shop, Log: log}
	lctx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); load.Run(lctx, 3, 42) }()

	active := 0
	var takeovers []time.Duration
	for round := range 3 {
		// Let the load run a moment, with the standby idle (past its start-up:
		// a process still starting is no standby yet).
		sctx, cancel := context.WithTimeout(ctx, time.Minute)
		require.NoError(t, workers[1-active].WaitRunning(sctx))
		cancel()
		before := load.Client.Acks.Load()
		waitFor(t, 60*time.Second, func() bool { return load.Client.Acks.Load() >= before+20 })
		head, err := eventstore.Head(ctx, m.Pool)
		require.NoError(t, err)
		require.True(t, workers[active].Kill())
		killed := time.Now()
		// Until the survivor has applied everything committed before the kill.
		waitFor(t, 30*time.Second, func() bool {
			models, groups, err := chaos.Lagging(ctx, m.Pool, m.Runner, m.Handlers(), head)
			require.NoError(t, err)
			return models == 0 && groups == 0
		})
		took := time.Since(killed)
		takeovers = append(takeovers, took)
		t.Logf("round %d: process %s killed; the standby applied the log up to the kill in %s", round+1, workers[active].Name, took.Round(time.Millisecond))
		// The killed one comes back as the standby.
		require.NoError(t, workers[active].Start())
		active = 1 - active
	}
	stopLoad()
	wg.Wait()
	for _, took := range takeovers {
		require.Less(t, took, 5*time.Second, "takeovers: %v", takeovers)
	}
	require.Empty(t, load.Failures())

	sctx, cancel2 := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel2()
	require.NoError(t, chaos.Settle(sctx, m.Pool, m.Runner, m.Handlers(), shop))
	for _, c := range chaos.Verify(ctx, m.Pool, m.Runner, shop, load) {
		require.True(t, c.OK, "%s: %s", c.Name, c.Detail)
		t.Logf("ok: %s — %s", c.Name, c.Detail)
	}
}

// waitFor polls cond every 20ms until it holds, failing the test after d.
func waitFor(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("condition not met within %s", d)
		case <-tick.C:
		}
	}
}
