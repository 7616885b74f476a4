package archive_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/eventstore/archive"
	"github.com/honten/honten/internal/pgtest"
)

// claimOwnersAndTenants lists the shop-code claims' owners and the tenant
// streams in the log, sorted.
func claimOwnersAndTenants(t *testing.T, q eventstore.Querier) (claims, streams []string) {
	t.Helper()
	ctx := context.Background()
	rows, err := q.Query(ctx, `SELECT owner::text FROM unique_claims WHERE scope = $1 AND kind = $2 ORDER BY 1`,
		eventstore.PlatformScope, commands.ClaimTenantCode)
	require.NoError(t, err)
	claims, err = pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	rows, err = q.Query(ctx, `SELECT DISTINCT stream_id::text FROM events WHERE stream_type = $1 ORDER BY 1`, tenant.StreamType)
	require.NoError(t, err)
	streams, err = pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return claims, streams
}

// Shops are created by eight writers without a pause while the log is
// exported, twice over: each export's command state belongs to
// exactly its events — imported, every shop-code claim has its shop in
// the log and every shop in the log its claim.
func TestExportStateMatchesItsEventsUnderWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := openMain(t, pgtest.NewURL(t))
	var n atomic.Int64
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for wctx.Err() == nil {
				i := n.Add(1)
				_, _, err := src.Commands.CreateTenant(wctx, commands.CreateTenant{By: commands.By{Actor: "cli"},
					Code: fmt.Sprintf("shop-%d", i), Name: "店", Type: "single_brand"})
				if err != nil && wctx.Err() == nil {
					errc <- err
					return
				}
			}
		}()
	}
	defer func() { stop(); wg.Wait() }()
	require.Eventually(t, func() bool {
		var shops int
		require.NoError(t, src.Pool.QueryRow(ctx, `SELECT count(*) FROM unique_claims`).Scan(&shops))
		return shops >= 20
	}, time.Minute, 10*time.Millisecond, "the writers are under way")
	for round := range 2 {
		before := n.Load()
		dir := t.TempDir()
		res, err := archive.Export(ctx, src.Pool, archive.ExportOptions{Dir: dir, PerFile: 500})
		require.NoError(t, err, "round %d", round)
		require.Greater(t, n.Load(), before, "shops were created during the export")
		pool := openPool(t, pgtest.NewURL(t))
		got, err := archive.Import(ctx, pool, archive.ImportOptions{Dir: dir})
		require.NoError(t, err)
		require.Equal(t, res.Events, got.Events)
		claims, streams := claimOwnersAndTenants(t, pool)
		require.NotEmpty(t, claims)
		require.Equal(t, streams, claims, "round %d: the claims are those of the exported shops", round)
		t.Logf("round %d: %d events, %d shops", round, got.Events, len(claims))
	}
	select {
	case err := <-errc:
		require.NoError(t, err, "a writer failed")
	default:
	}
}
