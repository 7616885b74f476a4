package chaos_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/internal/chaos"
	"github.com/honten/honten/internal/devdb"
	"github.com/honten/honten/internal/pgtest"
)

// The short chaos run: a minute of mixed load while the server process is
// SIGKILLed at random five times (and restarted), and every connection of
// the database is cut once; afterwards every invariant holds.
func TestChaosKillsKeepEveryInvariant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	root, err := devdb.FindRoot()
	require.NoError(t, err)
	url := pgtest.NewURL(t)
	rep, err := chaos.Run(ctx, chaos.Options{
		Duration: 60 * time.Second, Kills: 5, Buyers: 4, Root: root, DatabaseURL: url, Dir: t.TempDir(),
		// Little stock, so that reservations are refused and oversell is possible.
		Products: 4, Variants: 2, Stock: 3,
		RestartDB:     func(ctx context.Context) error { return cutConnections(ctx, url) },
		RestartDBName: "every connection of the database terminated",
	})
	var out bytes.Buffer
	rep.Print(&out)
	t.Log("\n" + out.String())
	require.NoError(t, err)
	require.GreaterOrEqual(t, rep.Kills, 5)
	require.Equal(t, 1, rep.DBRestarts)
	require.Positive(t, rep.Orders)
	require.Positive(t, rep.Payments+rep.Shipped+rep.Delivered)
	require.Positive(t, rep.Rejected, "stock ran out: some reservations were refused")
	require.Positive(t, rep.PriceEdits+rep.StockEdits)
	require.Zero(t, rep.GaveUp, "every request got an answer within its retry budget")
	require.Empty(t, rep.Failures)
	for _, c := range rep.Checks {
		require.True(t, c.OK, "%s: %s", c.Name, c.Detail)
	}
	require.True(t, rep.Passed())
}

// cutConnections terminates every session of the database at url, as a
// database restart does to its clients.
func cutConnections(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)
	return err
}
