package app_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/internal/apitest"
)

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
	// A whole Honten process (all roles) on a fresh database and a free
	// port, with the same wiring as cmd/honten.
	b := apitest.New(t)
	var ready struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	require.Eventually(t, func() bool {
		return getJSON(t, b.Base+"/readyz", &ready) == http.StatusOK
	}, 2*time.Minute, 10*time.Millisecond) // every read model built and caught up, under the race detector
	require.Equal(t, "ok", ready.Status)
	require.Equal(t, map[string]string{"database": "ok", "migrations": "ok", "projections": "ok", "poison": "ok"}, ready.Checks)
	require.Equal(t, http.StatusOK, getJSON(t, b.Base+"/healthz", nil))

	// Without METRICS_TOKEN the public listener does not serve metrics.
	resp, err := http.Get(b.Base + "/metrics")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}
