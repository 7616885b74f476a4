package fleet_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/internal/apitest"
	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/database"
	"github.com/honten/honten/internal/devdb"
)

// replicaPair starts (on first use: initdb, then pg_basebackup) a primary
// of the tests' own under .data/pg-repltest and its streaming replica, and
// returns the URLs of a fresh database on each (the same database: the
// replica replays its creation).
func replicaPair(t *testing.T) (primaryURL, replicaURL string, primary, replica devdb.Cluster) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	root, err := devdb.FindRoot()
	require.NoError(t, err)
	primary, err = devdb.EnsureNamed(ctx, root, "pg-repltest", nil)
	require.NoError(t, err)
	replica, err = devdb.EnsureStandby(ctx, root, primary, "pg-repltest-replica", nil)
	require.NoError(t, err)
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	name := "honten_r_" + hex.EncodeToString(b)
	conn, err := pgx.Connect(ctx, primary.URL("postgres"))
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'`, name))
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// Replay may have been left paused by a failed assertion.
		if c, err := pgx.Connect(ctx, replica.URL("postgres")); err == nil {
			c.Exec(ctx, `SELECT pg_wal_replay_resume()`) //nolint:errcheck
			c.Close(ctx)
		}
		if c, err := pgx.Connect(ctx, primary.URL("postgres")); err == nil {
			c.Exec(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name)) //nolint:errcheck
			c.Close(ctx)
		}
	})
	primaryURL, err = database.WithDatabase(primary.URL("postgres"), name)
	require.NoError(t, err)
	replicaURL, err = database.WithDatabase(replica.URL("postgres"), name)
	require.NoError(t, err)
	// Migrate here, then let the replica replay it all before the process
	// opens its replica pool.
	require.NoError(t, app.Migrate(ctx, primaryURL, slog.New(slog.DiscardHandler)))
	require.NoError(t, devdb.WaitReplayed(ctx, primary.URL("postgres"), replica.URL("postgres")))
	return primaryURL, replicaURL, primary, replica
}

// A process with REPLICA_URL reads the read models of GET requests on a
// real streaming replica, and read-your-writes still holds: a GET with the
// write's X-Min-Position sees the write through the replica; with replay
// paused it waits, then answers 503 with Retry-After (while a GET without
// a position is served at once, stale, from the replica); resumed, 200.
// The lag is on /readyz and in the metrics.
func TestReplicaReadsKeepReadYourWrites(t *testing.T) {
	primaryURL, replicaURL, _, replica := replicaPair(t)
	const wait = 1500 * time.Millisecond
	env := apitest.NewWith(t, apitest.Options{DatabaseURL: primaryURL, ConsistencyWait: wait,
		Configure: func(c *app.Config) { c.ReplicaURL = replicaURL; c.MetricsToken = "m" }})
	require.NotNil(t, env.Main.Replica)
	shop := env.Shop(t, "replica", "single_brand", false)
	tok := shop.Token

	product := map[string]any{"title": "煎茶 100g", "handle": "sencha", "status": "active",
		"variants": []map[string]any{{"sku": "SENCHA-100", "title": "100g", "price": map[string]any{"amount": "1080", "currency": "JPY"}, "tax_rate": "8"}}}
	resp := env.Do(t, apitest.Req{Method: "POST", Path: "/api/v1/admin/products", Token: tok, Body: product})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	pid := resp.Map(t)["id"].(string)
	pos := resp.Header.Get("X-Event-Position")
	require.NotEmpty(t, pos)

	get := func(pos string) (apitest.Response, time.Duration) {
		h := map[string]string{}
		if pos != "" {
			h["X-Min-Position"] = pos
		}
		start := time.Now()
		r := env.Do(t, apitest.Req{Method: "GET", Path: "/api/v1/admin/products/" + pid, Token: tok, Header: h})
		return r, time.Since(start)
	}
	// Write, then read with the token through the replica: the write is there.
	resp, _ = get(pos)
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	require.Equal(t, "煎茶 100g", resp.Map(t)["title"])

	ctx := context.Background()
	standby := pauseReplay(ctx, t, replica.URL("postgres"))

	resp = env.Do(t, apitest.Req{Method: "PATCH", Path: "/api/v1/admin/products/" + pid, Token: tok, Body: map[string]any{"title": "煎茶 200g"}})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	require.Equal(t, "煎茶 200g", resp.Map(t)["title"], "a command's response reads the primary")
	pos2 := resp.Header.Get("X-Event-Position")

	// Without a position the replica answers at once, with what it has.
	resp, _ = get("")
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	require.Equal(t, "煎茶 100g", resp.Map(t)["title"], "GET reads the replica")
	// With the write's position it waits for the replica, then gives up.
	resp, took := get(pos2)
	require.Equal(t, http.StatusServiceUnavailable, resp.Status, string(resp.Body))
	require.NotEmpty(t, resp.Header.Get("Retry-After"))
	require.GreaterOrEqual(t, took, wait*9/10, "the read waited for the replica")

	// The lag shows on /readyz's detail and in the metrics.
	var ready struct {
		Checks map[string]string `json:"checks"`
	}
	require.Eventually(t, func() bool {
		r := env.Do(t, apitest.Req{Method: "GET", Path: "/readyz", Undocumented: true})
		r.JSON(t, &ready)
		return ready.Checks["replica"] != "" && ready.Checks["replica"] != "ok: lag 0.000s, 0 bytes"
	}, 10*time.Second, 20*time.Millisecond)
	require.Contains(t, ready.Checks["replica"], "replay paused")
	lag, err := env.Main.Server.ReplicaLag(ctx)
	require.NoError(t, err)
	require.Positive(t, lag.Bytes)
	metrics := env.Do(t, apitest.Req{Method: "GET", Path: "/metrics", Header: map[string]string{"Authorization": "Bearer m"}, Undocumented: true})
	require.Contains(t, string(metrics.Body), "honten_replica_lag_bytes ")
	require.NotContains(t, string(metrics.Body), "honten_replica_lag_bytes 0\n")

	// Resumed, the same read is answered, with the write.
	_, err = standby.Exec(ctx, `SELECT pg_wal_replay_resume()`)
	require.NoError(t, err)
	resp, _ = get(pos2)
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	require.Equal(t, "煎茶 200g", resp.Map(t)["title"])
	require.Eventually(t, func() bool {
		l, err := env.Main.Server.ReplicaLag(ctx)
		return err == nil && l.Bytes == 0 && !l.Paused
	}, 10*time.Second, 10*time.Millisecond)
}

// The ledger, payout, refund, settings, vendor, store and staff reads are
// served by the replica too: with replay paused, a GET without a position
// answers at once with what the replica holds (the write not there yet),
// one with the write's X-Min-Position waits and answers 503; resumed, both
// see the write. (Bank statements' lines read the replica through the
// same switch; the audit routes read the log itself and stay on the
// primary.)
func TestReplicaServesLedgerAndTenancyReads(t *testing.T) {
	primaryURL, replicaURL, primary, replica := replicaPair(t)
	const wait = 1500 * time.Millisecond
	env := apitest.NewWith(t, apitest.Options{DatabaseURL: primaryURL, ConsistencyWait: wait,
		Configure: func(c *app.Config) { c.ReplicaURL = replicaURL }})
	shop := env.Shop(t, "replica-ledger", "single_brand", false)
	vendor := shop.Created.Vendor.String()
	do := func(method, path, pos string, body any) apitest.Response {
		h := map[string]string{}
		if pos != "" {
			h["X-Min-Position"] = pos
		}
		return env.Do(t, apitest.Req{Method: method, Path: "/api/v1/admin" + path, Token: shop.Token, Header: h, Body: body})
	}
	env.Settle(t)
	ctx := context.Background()
	require.NoError(t, devdb.WaitReplayed(ctx, primary.URL("postgres"), replica.URL("postgres")))
	resp := do("GET", "/payouts/"+vendor+"/account", "", nil)
	require.Equal(t, http.StatusNotFound, resp.Status, string(resp.Body))

	standby := pauseReplay(ctx, t, replica.URL("postgres"))

	resp = do("PATCH", "/settings", "", map[string]any{"transfer_client_code": "77"})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	require.Equal(t, "77", resp.Map(t)["transfer_client_code"], "a command's response reads the primary")
	settingsPos := resp.Header.Get("X-Event-Position")
	resp = do("PUT", "/payouts/"+vendor+"/account", "", map[string]any{"bank_name": "三井住友銀行", "bank_code": "0009",
		"branch_name": "渋谷支店", "branch_code": "234", "account_type": "ordinary", "account_number": "7654321", "account_holder": "ﾎﾝﾃﾝ"})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	accountPos := resp.Header.Get("X-Event-Position")
	resp = do("POST", "/stores", "", map[string]any{"code": "tokyo", "name": "東京店"})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	storesPos := resp.Header.Get("X-Event-Position")
	require.NotEmpty(t, settingsPos)
	require.NotEmpty(t, accountPos)
	require.NotEmpty(t, storesPos)

	// Without a position: the replica's state, without the writes.
	resp = do("GET", "/settings", "", nil)
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	require.Equal(t, "", resp.Map(t)["transfer_client_code"], "GET /settings reads the replica")
	resp = do("GET", "/payouts/"+vendor+"/account", "", nil)
	require.Equal(t, http.StatusNotFound, resp.Status, "GET /payouts/{id}/account reads the replica: %s", resp.Body)
	resp = do("GET", "/stores", "", nil)
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	require.NotContains(t, string(resp.Body), "東京店", "GET /stores reads the replica")
	// With a write's position: wait for the replica, then 503.
	for _, c := range []struct{ path, pos string }{{"/settings", settingsPos}, {"/payouts/" + vendor + "/account", accountPos},
		{"/ledger/trial-balance", accountPos}, {"/refunds?status=due", accountPos}, {"/stores", storesPos}} {
		start := time.Now()
		resp = do("GET", c.path, c.pos, nil)
		require.Equal(t, http.StatusServiceUnavailable, resp.Status, "%s: %s", c.path, resp.Body)
		require.NotEmpty(t, resp.Header.Get("Retry-After"))
		require.GreaterOrEqual(t, time.Since(start), wait*9/10, "%s waited for the replica", c.path)
	}

	_, err := standby.Exec(ctx, `SELECT pg_wal_replay_resume()`)
	require.NoError(t, err)
	resp = do("GET", "/settings", settingsPos, nil)
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	require.Equal(t, "77", resp.Map(t)["transfer_client_code"])
	resp = do("GET", "/payouts/"+vendor+"/account", accountPos, nil)
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	require.Equal(t, "7654321", resp.Map(t)["account_number"])
	resp = do("GET", "/stores", storesPos, nil)
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	require.Contains(t, string(resp.Body), "東京店")
}

// pauseReplay connects to the standby at url and pauses its WAL replay,
// returning once replay is paused; the caller resumes it on the returned
// connection.
func pauseReplay(ctx context.Context, t *testing.T, url string) *pgx.Conn {
	t.Helper()
	standby, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	t.Cleanup(func() { standby.Close(context.WithoutCancel(ctx)) })
	_, err = standby.Exec(ctx, `SELECT pg_wal_replay_pause()`)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		var state string
		require.NoError(t, standby.QueryRow(ctx, `SELECT pg_get_wal_replay_pause_state()`).Scan(&state))
		return state == "paused"
	}, 10*time.Second, 10*time.Millisecond)
	return standby
}
