package archive_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/eventstore/archive"
	"github.com/honten/honten/internal/apitest"
	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/database"
	"github.com/honten/honten/internal/demo"
	"github.com/honten/honten/internal/pgtest"
	"github.com/honten/honten/projections"
)

// eventRows is the whole log as text, in global order: every column an
// import must keep (the transaction id aside, which is the target's own).
func eventRows(t *testing.T, q eventstore.Querier) []string {
	t.Helper()
	const query = `SELECT format('%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s', global_position, event_id, tenant_id, stream_type,
    stream_id, stream_version, event_type, schema_version, payload, metadata, actor_id, correlation_id, causation_id, recorded_at)
FROM events ORDER BY tx_id, global_position`
	rows, err := q.Query(context.Background(), query)
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return out
}

func openPool(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := database.Open(context.Background(), url, database.Options{MaxConns: 4})
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}

// openMain opens Honten on the database at url without starting it (no
// worker reacts), like the honten demo and import commands.
func openMain(t *testing.T, url string) *app.Main {
	t.Helper()
	cfg, err := app.ConfigFromEnv()
	require.NoError(t, err)
	cfg.DatabaseURL = url
	m := app.New(cfg)
	t.Cleanup(m.Close)
	require.NoError(t, m.Open(context.Background()))
	return m
}

// dumpModels brings every read model up to the log and dumps them.
func dumpModels(t *testing.T, m *app.Main) projections.Dump {
	t.Helper()
	ctx := context.Background()
	for _, model := range m.Runner.Models() {
		require.NoError(t, m.Runner.CatchUp(ctx, model))
	}
	d, err := m.Runner.DumpModelsPortable(ctx)
	require.NoError(t, err)
	return d
}

// The demo store and mall (a realistic log: catalog, stock, carts, orders
// in every status, payments, shipments, ledger entries naming positions,
// a payout run) exported in rotated files and imported in two runs (the
// first interrupted) into an empty database give the same events in the
// same order and read models equal row by row to the source's.
func TestExportImportRoundTripsARealisticLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := openMain(t, pgtest.NewURL(t))
	_, err := demo.Load(ctx, src.Commands, nil, nil)
	require.NoError(t, err)
	_, err = demo.LoadMall(ctx, src.Commands, src.Runner, nil)
	require.NoError(t, err)
	want := dumpModels(t, src)
	require.Greater(t, want.Count(), 1000)
	wantEvents := eventRows(t, src.Pool)

	dir := t.TempDir()
	res, err := archive.Export(ctx, src.Pool, archive.ExportOptions{Dir: dir, PerFile: 1000})
	require.NoError(t, err)
	require.Equal(t, int64(len(wantEvents)), res.Events)
	require.Len(t, res.Files, (len(wantEvents)+999)/1000, "a file every 1,000 events")
	man, err := archive.ReadManifest(dir)
	require.NoError(t, err)
	require.Equal(t, res.Events, man.Events())
	for _, f := range man.Files {
		require.NoError(t, archive.Verify(dir, f))
	}
	// Exporting again continues after the last file: nothing new to write.
	again, err := archive.Export(ctx, src.Pool, archive.ExportOptions{Dir: dir, PerFile: 1000})
	require.NoError(t, err)
	require.Zero(t, again.Events)
	other := eventstore.Position{Tx: 1, Pos: 1}
	_, err = archive.Export(ctx, src.Pool, archive.ExportOptions{Dir: dir, From: &other})
	require.ErrorContains(t, err, "continue from there")

	url := pgtest.NewURL(t)
	pool := openPool(t, url)
	first, err := archive.Import(ctx, pool, archive.ImportOptions{Dir: dir, Batch: 700, StopAfter: 2500})
	require.NoError(t, err)
	require.Equal(t, int64(2500), first.Events, "an interrupted import")
	rest, err := archive.Import(ctx, pool, archive.ImportOptions{Dir: dir, Batch: 700})
	require.NoError(t, err)
	require.Equal(t, int64(2500), rest.Skipped, "a second run continues after what the first wrote")
	require.Equal(t, int64(len(wantEvents))-2500, rest.Events)
	require.Equal(t, wantEvents, eventRows(t, pool), "ids, positions, tenants, payloads and order kept")
	_, err = archive.Import(ctx, pool, archive.ImportOptions{Dir: dir})
	require.NoError(t, err, "a complete import run again writes nothing")
	require.Len(t, eventRows(t, pool), len(wantEvents))

	got := dumpModels(t, openMain(t, url))
	require.Equal(t, want.Count(), got.Count())
	require.Empty(t, want.Diff(got, 20), "every read model equal to the source's")
}

// A database with other events, or a file whose bytes changed, is refused
// before anything is written.
func TestImportRefusesAForeignTargetAndABadChecksum(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := apitest.New(t)
	src.Shop(t, "shop-a", "single_brand", false)
	src.Settle(t)
	dir := t.TempDir()
	res, err := archive.Export(ctx, src.Main.Pool, archive.ExportOptions{Dir: dir, PerFile: 3})
	require.NoError(t, err)
	require.Greater(t, len(res.Files), 1)

	// Another shop's log in the target: not a prefix of this export.
	foreign := apitest.New(t)
	foreign.Shop(t, "shop-b", "single_brand", false)
	foreign.Settle(t)
	before := eventRows(t, foreign.Main.Pool)
	_, err = archive.Import(ctx, foreign.Main.Pool, archive.ImportOptions{Dir: dir})
	require.ErrorIs(t, err, archive.ErrNotEmpty)
	require.Equal(t, before, eventRows(t, foreign.Main.Pool), "nothing written")

	// One byte changed in the last file: refused, nothing written.
	last := filepath.Join(dir, res.Files[len(res.Files)-1].Name)
	b, err := os.ReadFile(last)
	require.NoError(t, err)
	b[len(b)-3] ^= 1
	require.NoError(t, os.WriteFile(last, b, 0o644))
	pool := pgtest.New(t)
	_, err = archive.Import(ctx, pool, archive.ImportOptions{Dir: dir})
	require.ErrorIs(t, err, archive.ErrChecksum)
	require.ErrorContains(t, err, res.Files[len(res.Files)-1].Name)
	require.Empty(t, eventRows(t, pool), "nothing written")

	_, err = archive.Import(ctx, pool, archive.ImportOptions{Dir: t.TempDir()})
	require.ErrorIs(t, err, archive.ErrNoManifest)
}
