package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/pgtest"
)

type testBundle struct {
	base string
	m    *app.Main
}

// setup runs a whole Honten process (all roles) on a fresh database and a
// free port, with the same wiring as cmd/honten.
func setup(t *testing.T) *testBundle {
	t.Helper()
	cfg, err := app.ConfigFromEnv()
	require.NoError(t, err)
	cfg.DatabaseURL = pgtest.NewURL(t)
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.DBMaxConns = 30
	m := app.New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, m.Open(ctx))
	require.NoError(t, m.Listen())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
		m.Close()
	})
	return &testBundle{base: "http://" + m.Addr(), m: m}
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	if v != nil {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
	}
	return resp.StatusCode
}

func TestServeIsReady(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var ready struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	require.Eventually(t, func() bool {
		return getJSON(t, b.base+"/readyz", &ready) == http.StatusOK
	}, 30*time.Second, 10*time.Millisecond)
	require.Equal(t, "ok", ready.Status)
	require.Equal(t, map[string]string{"database": "ok", "migrations": "ok", "projections": "ok"}, ready.Checks)
	require.Equal(t, http.StatusOK, getJSON(t, b.base+"/healthz", nil))

	resp, err := http.Get(b.base + "/metrics")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}
