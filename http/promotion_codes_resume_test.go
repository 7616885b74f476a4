package http_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/promotion"
	"github.com/honten/honten/internal/apitest"
	"github.com/honten/honten/internal/pgtest"
)

// A bulk code job interrupted half way (its process stopped after two
// batches) stays running; another process cannot take it while its
// heartbeat is fresh; once it is stale, a process starting on the same
// database claims and finishes it at start-up: exactly the count of
// codes, each once, none lost or doubled, the progress never going back.
func TestCodeJobInterruptedIsResumedAtStartUp(t *testing.T) {
	t.Parallel()
	url := pgtest.NewURL(t)
	env := apitest.NewWith(t, apitest.Options{DatabaseURL: url})
	shop := env.Shop(t, "resume-codes-shop", "single_brand", false)
	admin := func(e *apitest.Env, method, path string, body any) apitest.Response {
		t.Helper()
		return e.Do(t, req{Method: method, Path: "/api/v1/admin" + path, Token: shop.Token, Body: body})
	}
	resp := admin(env, "POST", "/promotions", map[string]any{"title": "再開", "kind": "fixed", "value": "300", "codes": []string{}})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	pid, err := promotion.ParseID(resp.Map(t)["id"].(string))
	require.NoError(t, err)
	ctx := context.Background()
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		require.NoError(t, env.Main.Store.Pool().QueryRow(ctx, q, args...).Scan(&n))
		return n
	}
	generate := func(n int) uuid.UUID {
		t.Helper()
		job, _, err := env.Main.Commands.GenerateCodes(ctx, commands.GenerateCodes{Tenant: shop.Tenant,
			By: commands.By{Actor: "test", CommandID: newCommandID()}, Promotion: pid, Count: n, Prefix: "rs-"})
		require.NoError(t, err)
		return job
	}

	// Two runners at once on a queued job: one claims it, the other
	// writes nothing.
	small := generate(7000)
	var wg sync.WaitGroup
	claims := make([]bool, 2)
	errs := make([]error, 2)
	for i := range claims {
		wg.Add(1)
		go func() {
			defer wg.Done()
			claims[i], errs[i] = commands.CodeJobs{Commands: env.Main.Commands}.Run(ctx, shop.Tenant, pid, small)
		}()
	}
	wg.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	require.True(t, claims[0] != claims[1], "exactly one runner claims the job: %v", claims)
	require.Equal(t, 7000, count(`SELECT count(*) FROM promotion_codes WHERE job_id = $1`, small))

	// The big job stops after two batches, as when its process goes away.
	const n = 23_456
	job := generate(n)
	stop, cancel := context.WithCancel(ctx)
	var progress []int
	claimed, err := commands.CodeJobs{Commands: env.Main.Commands, OnProgress: func(_ uuid.UUID, done int) {
		progress = append(progress, done)
		if done >= 10_000 {
			cancel()
		}
	}}.Run(stop, shop.Tenant, pid, job)
	require.True(t, claimed)
	require.Error(t, err)
	require.Equal(t, []int{5000, 10_000}, progress)
	j := admin(env, "GET", "/promotions/"+pid.String()+"/code-jobs/"+job.String(), nil).Map(t)
	require.Equal(t, "running", j["status"], "an interrupted job is not failed: it is resumed")
	require.EqualValues(t, 10_000, j["generated"])
	require.Equal(t, 10_000, count(`SELECT count(*) FROM promotion_codes WHERE job_id = $1`, job))

	// Its heartbeat is fresh: it may be alive elsewhere, so no one takes it.
	claimed, err = commands.CodeJobs{Commands: env.Main.Commands}.Run(ctx, shop.Tenant, pid, job)
	require.NoError(t, err)
	require.False(t, claimed)
	require.Equal(t, 10_000, count(`SELECT count(*) FROM promotion_codes WHERE job_id = $1`, job))

	// Over a minute later (its heartbeat aged as the clock would), a
	// process starts on the same database: it resumes the job at start-up.
	_, err = env.Main.Store.Pool().Exec(ctx, `UPDATE import_jobs SET heartbeat_at = heartbeat_at - interval '2 minutes' WHERE id = $1`, job)
	require.NoError(t, err)
	restarted := apitest.NewWith(t, apitest.Options{DatabaseURL: url})
	last := 10_000.0
	require.Eventually(t, func() bool {
		j := admin(restarted, "GET", "/promotions/"+pid.String()+"/code-jobs/"+job.String(), nil).Map(t)
		g := j["generated"].(float64)
		require.GreaterOrEqual(t, g, last, "progress never goes back")
		last = g
		return j["status"] == "completed"
	}, 120*time.Second, 20*time.Millisecond)
	require.EqualValues(t, n, last)
	require.Equal(t, n, count(`SELECT count(*) FROM promotion_codes WHERE job_id = $1`, job))
	require.Equal(t, n, count(`SELECT count(DISTINCT seq) FROM promotion_codes WHERE job_id = $1`, job))

	// The CSV lists every code of both jobs once.
	resp = admin(restarted, "GET", "/promotions/"+pid.String()+"/codes.csv", nil)
	require.Equal(t, http.StatusOK, resp.Status)
	rows := strings.Split(strings.TrimSpace(string(resp.Body)), "\n")[1:]
	require.Len(t, rows, n+7000)
	seen := map[string]bool{}
	for _, r := range rows {
		code, _, _ := strings.Cut(r, ",")
		require.True(t, strings.HasPrefix(code, "RS-"), code)
		require.False(t, seen[code], "code %s twice", code)
		seen[code] = true
	}
	require.EqualValues(t, n+7000, admin(restarted, "GET", "/promotions/"+pid.String(), nil).Map(t)["generated_codes"])
}
