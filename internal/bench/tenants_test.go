package bench_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/bench"
	"github.com/honten/honten/internal/pgtest"
)

// A small run of `honten bench tenants` loads every tenant and reports
// every measure, with sane distributions, alone and among the others.
func TestTenantsBenchRunsSmall(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	env, cleanup, err := bench.NewEnv(ctx, pgtest.ServerURL(t), 40, log, io.Discard)
	require.NoError(t, err)
	defer cleanup()
	cfg, err := app.ConfigFromEnv()
	require.NoError(t, err)
	const tenants, staff = 20, 30
	rep, err := bench.Tenants(ctx, env, cfg, bench.TenantsOptions{Tenants: tenants, Staff: staff, Sample: 5, Duration: 100 * time.Millisecond, Concurrency: 2,
		SmallProducts: 2, SmallOrders: 1, MeasuredProducts: 6, MeasuredOrders: 6, LoadWorkers: 4})
	require.NoError(t, err)

	// The crowded database holds every tenant, and the measured one its staff.
	var shops, accounts, measuredStaff int
	require.NoError(t, env.Pool.QueryRow(ctx, `SELECT (SELECT count(DISTINCT tenant_id) FROM products), (SELECT count(*) FROM staff_accounts),
  (SELECT count(*) FROM staff_accounts s WHERE s.email LIKE '%@bench-measured.example.jp')`).Scan(&shops, &accounts, &measuredStaff))
	require.Equal(t, tenants, shops)
	require.Equal(t, staff+tenants-1, accounts)
	require.Equal(t, staff, measuredStaff)
	// Each copy's owner has an e-mail of its own, in the accounts and the read model.
	var emails, members int
	require.NoError(t, env.Pool.QueryRow(ctx, `SELECT (SELECT count(DISTINCT lower(email)) FROM staff_accounts), (SELECT count(*) FROM staff_accounts a
  WHERE EXISTS (SELECT 1 FROM events e WHERE e.tenant_id = a.tenant_id AND e.stream_type = 'staff' AND e.payload->>'email' = a.email))`).Scan(&emails, &members))
	require.Equal(t, accounts, emails)
	require.Equal(t, accounts, members)
	require.Len(t, rep.Load, 2)

	want := []string{"staff sign-in (argon2id)", "admin orders list", "admin products list", "admin staff list",
		"storefront product list", "storefront search", "projection lag under writes"}
	var names []string
	for _, m := range rep.Measures {
		names = append(names, m.Name)
		for _, s := range []bench.Summary{m.Base, m.Many} {
			require.GreaterOrEqual(t, s.N, 5, m.Name)
			require.Positive(t, s.P50, m.Name)
			require.LessOrEqual(t, s.P50, s.P95, m.Name)
			require.LessOrEqual(t, s.P95, s.P99, m.Name)
			require.Less(t, s.P99, 30*time.Second, m.Name)
		}
		for _, q := range []float64{.5, .95, .99} {
			require.Positive(t, m.Ratio(q), m.Name)
		}
	}
	require.Equal(t, want, names)
	// A password hash (argon2id, 19 MiB) takes milliseconds by design.
	require.Greater(t, rep.Measures[0].Base.P50, time.Millisecond)

	var out bytes.Buffer
	bench.PrintTenants(&out, rep)
	t.Log(out.String())
	for _, n := range want {
		require.Contains(t, out.String(), n)
	}
}
