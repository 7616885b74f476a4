package fleet_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/chaos"
	"github.com/honten/honten/internal/devdb"
	"github.com/honten/honten/internal/fleet"
	"github.com/honten/honten/internal/pgtest"
)

// Two API processes behind HAProxy and two processes running the
// projectors and workers (one active, one standing by). An API process is
// SIGKILLed under load while it holds a request (a stock adjustment kept
// waiting on the variant's lock): the balancer takes it out and the load
// goes on through the other one; the cut request is resent by the client
// with the same Idempotency-Key and takes effect once; every invariant holds after
// (one order per checkout key, read models equal a rebuild, stock and
// payments add up).
func TestFleetRoutesAroundAKilledAPIProcess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	root, err := devdb.FindRoot()
	require.NoError(t, err)
	dir, err := os.MkdirTemp("", "honten-fleet-")
	require.NoError(t, err)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("fleet: logs kept in %s", dir)
			return
		}
		os.RemoveAll(dir)
	})
	bin, err := chaos.Build(ctx, root, dir)
	require.NoError(t, err)
	url := pgtest.NewURL(t)

	cfg, err := app.ConfigFromEnv()
	require.NoError(t, err)
	cfg.DatabaseURL, cfg.LogLevel, cfg.DBMaxConns = url, slog.LevelError, 10
	m := app.New(cfg)
	t.Cleanup(m.Close)
	require.NoError(t, m.Open(ctx))
	shop, err := chaos.SetupShop(ctx, m.Commands, "fleet", 10, 2, 50)
	require.NoError(t, err)
	// A shop the load never touches: only the held requests wait on its locks.
	quiet, err := chaos.SetupShop(ctx, m.Commands, "fleet-held", 1, 2, 10)
	require.NoError(t, err)

	listen, err := chaos.FreeAddr()
	require.NoError(t, err)
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	f, err := fleet.Start(sctx, fleet.Options{Binary: bin, DatabaseURL: url, Listen: listen, Dir: dir})
	require.NoError(t, err)
	t.Cleanup(f.Stop)
	// The balancer answers once its health checks have found the processes.
	waitFor(t, 10*time.Second, func() bool {
		resp, err := http.Get(f.URL() + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	log := slog.New(slog.DiscardHandler)
	load := &chaos.Load{Client: chaos.NewClient(f.URL(), shop.Code), Shop: shop, Log: log}
	lctx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); load.Run(lctx, 4, 7) }()

	waitFor(t, 60*time.Second, func() bool { return load.Client.Acks.Load() >= 30 })

	// Two stock adjustments, each with its Idempotency-Key, held inside an
	// API process: the test holds the variants' inventory locks.
	admin := chaos.NewClient(f.URL(), quiet.Code)
	// The cut request may commit after its process died (its statement
	// was waiting for the lock below): the retry is then answered 409
	// request_in_progress until the key is orphaned, and then 201.
	admin.RetryInProgress = true
	a, err := admin.Do(ctx, chaos.Request{Method: "POST", Path: "/api/v1/admin/session", Body: map[string]string{"email": quiet.Owner, "password": quiet.Password}})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, a.Status, string(a.Body))
	var session struct {
		Token string `json:"token"`
	}
	require.NoError(t, a.JSON(&session))
	lock, err := m.Pool.Begin(ctx)
	require.NoError(t, err)
	defer lock.Rollback(ctx) //nolint:errcheck
	held := quiet.Variants[:2]
	for _, v := range held {
		_, err := lock.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('honten.inventory:' || $1::text, 0))`, v)
		require.NoError(t, err)
	}
	answers := make([]chaos.Answer, len(held))
	errs := make([]error, len(held))
	var hw sync.WaitGroup
	for i, v := range held {
		hw.Add(1)
		go func() {
			defer hw.Done()
			answers[i], errs[i] = admin.Do(ctx, chaos.Request{Method: "POST", Path: "/api/v1/admin/inventory/adjustments", Token: session.Token,
				Key: fmt.Sprintf("held-%d", i), Body: map[string]any{"variant_id": v.String(), "delta": 7, "reason": fmt.Sprintf("held %d", i)}})
		}()
	}
	// Which API processes hold them (each names its connections)?
	const holders = `SELECT DISTINCT application_name FROM pg_stat_activity
WHERE wait_event_type = 'Lock' AND application_name LIKE 'honten-api%' AND query LIKE '%honten.inventory%' AND query NOT LIKE '%pg_stat_activity%'`
	var victims []string
	waitFor(t, 10*time.Second, func() bool {
		rows, err := m.Pool.Query(ctx, holders)
		require.NoError(t, err)
		victims, err = pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		return len(victims) > 0
	})
	victim := f.APIs[0]
	if !slices.Contains(victims, "honten-api1") {
		victim = f.APIs[1]
	}
	retries := admin.Retries.Load()
	require.True(t, victim.Kill())
	killed, before := time.Now(), load.Client.Acks.Load()
	// The cut request is resent with its key; let the adjustments through.
	waitFor(t, 30*time.Second, func() bool { return admin.Retries.Load() > retries })
	require.NoError(t, lock.Rollback(ctx))
	hw.Wait()
	for i := range held {
		require.NoError(t, errs[i])
		require.Equal(t, http.StatusCreated, answers[i].Status, string(answers[i].Body))
	}
	// One effect each: one adjustment event per key, whatever the attempts.
	for i, v := range held {
		var n int
		require.NoError(t, m.Pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE tenant_id = $1 AND payload->>'reason' = $2`,
			quiet.Tenant.UUID, fmt.Sprintf("held %d", i)).Scan(&n))
		require.Equal(t, 1, n, "adjustments of variant %s", v)
	}
	// The survivor carries the load: 30 more writes acknowledged, soon.
	waitFor(t, 30*time.Second, func() bool { return load.Client.Acks.Load() >= before+30 })
	t.Logf("%s killed holding a request; the client resent it (%d retries); 30 more writes acknowledged through the balancer in %s (load retries: %d)",
		victim.Name, admin.Retries.Load()-retries, time.Since(killed).Round(time.Millisecond), load.Client.Retries.Load())
	stopLoad()
	wg.Wait()
	require.Empty(t, load.Failures())
	require.Zero(t, load.Client.GaveUp.Load())

	sctx2, cancel2 := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel2()
	require.NoError(t, chaos.Settle(sctx2, m.Pool, m.Runner, m.Handlers(), shop))
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
