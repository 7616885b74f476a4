package archive_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/eventstore/archive"
	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/pgtest"
)

// v1Log is a log written before order.placed had schema version 2: the
// demo mall (checkout froze the rounding), a tax-included and a
// tax-excluded shop (orders placed without a rounding), partial
// cancellations. See testdata/v1-log/README.md.
const v1Log = "testdata/v1-log"

// rewriteAsV2 writes into a new export directory the records of the v1 log
// with every order.placed payload as this build writes it: decoded through
// the registry, encoded again (schema version 2).
func rewriteAsV2(t *testing.T, reg *eventstore.Registry) (dir string, rewritten int) {
	t.Helper()
	man, err := archive.ReadManifest(v1Log)
	require.NoError(t, err)
	dir = t.TempDir()
	out := archive.Manifest{Format: archive.Format}
	for _, f := range man.Files {
		in, err := os.Open(filepath.Join(v1Log, f.Name))
		require.NoError(t, err)
		w, err := os.Create(filepath.Join(dir, f.Name))
		require.NoError(t, err)
		h := sha256.New()
		sc := bufio.NewScanner(in)
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			var r archive.Record
			require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
			if r.Type == (order.Placed{}).EventName() {
				require.Equal(t, 1, r.SchemaVersion, "the golden log is v1")
				ev, err := reg.Decode(eventstore.Envelope{Type: r.Type, SchemaVersion: r.SchemaVersion, Payload: r.Payload})
				require.NoError(t, err)
				r.Payload, r.SchemaVersion, err = reg.Encode(ev)
				require.NoError(t, err)
				require.Equal(t, 2, r.SchemaVersion)
				rewritten++
			}
			b, err := json.Marshal(r)
			require.NoError(t, err)
			b = append(b, '\n')
			_, err = w.Write(b)
			require.NoError(t, err)
			h.Write(b)
		}
		require.NoError(t, sc.Err())
		require.NoError(t, in.Close())
		require.NoError(t, w.Close())
		out.Files = append(out.Files, archive.File{Name: f.Name, Events: f.Events, First: f.First, Last: f.Last, SHA256: hex.EncodeToString(h.Sum(nil))})
	}
	b, err := json.Marshal(out)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, archive.ManifestName), b, 0o644))
	return dir, rewritten
}

// A log holding order.placed at schema version 1 (as the previous code
// wrote it) replays into the same read models as the same log written at
// version 2, and a command deciding on one of its orders (a partial
// cancellation of a tax-excluded order, whose totals are recomputed from
// the frozen tax terms) decides the same on both.
func TestV1LogReplaysLikeTheSameLogWrittenAsV2(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	v2Dir, rewritten := rewriteAsV2(t, app.Registry())
	require.GreaterOrEqual(t, rewritten, 10)

	open := func(dir string) *app.Main {
		url := pgtest.NewURL(t)
		_, err := archive.Import(ctx, openPool(t, url), archive.ImportOptions{Dir: dir})
		require.NoError(t, err)
		m := openMain(t, url)
		clock := time.Date(2026, 12, 24, 10, 0, 0, 0, time.UTC)
		m.Commands = commands.New(m.Store, func() time.Time { return clock })
		return m
	}
	v1, v2 := open(v1Log), open(v2Dir)
	versions := func(m *app.Main) []int {
		var out []int
		rows, err := m.Pool.Query(ctx, `SELECT DISTINCT schema_version FROM events WHERE event_type = 'order.placed.v1' ORDER BY 1`)
		require.NoError(t, err)
		defer rows.Close()
		for rows.Next() {
			var v int
			require.NoError(t, rows.Scan(&v))
			out = append(out, v)
		}
		return out
	}
	require.Equal(t, []int{1}, versions(v1))
	require.Equal(t, []int{2}, versions(v2))

	d1, d2 := dumpModels(t, v1), dumpModels(t, v2)
	require.Greater(t, d1.Count(), 300)
	require.Empty(t, d1.Diff(d2, 20), "the same read models from v1 and v2 payloads")

	// The tax-excluded shop's last order: cancel one more unit of its
	// first line on both sides.
	var tn, id, line uuid.UUID
	require.NoError(t, v1.Pool.QueryRow(ctx, `SELECT e.tenant_id, e.stream_id, (e.payload->'lines'->0->>'id')::uuid FROM events e
JOIN events t ON t.stream_id = e.tenant_id AND t.event_type = 'tenant.created.v1' AND t.payload->>'code' = 'zeinuki'
WHERE e.event_type = 'order.placed.v1' ORDER BY e.global_position DESC LIMIT 1`).Scan(&tn, &id, &line))
	cancelled := func(m *app.Main) json.RawMessage {
		res, err := m.Commands.CancelOrder(ctx, commands.CancelOrder{Tenant: tenant.ID{UUID: tn}, By: commands.By{Actor: "staff:test"},
			Order: order.ID{UUID: id}, Lines: []commands.CancelLine{{Line: line, Quantity: 1}}, Reason: "again"})
		require.NoError(t, err)
		var p json.RawMessage
		require.NoError(t, m.Pool.QueryRow(ctx, `SELECT payload FROM events WHERE stream_id = $1 AND event_type = 'order.lines_cancelled.v1'
ORDER BY stream_version DESC LIMIT 1`, id).Scan(&p))
		require.NotZero(t, res.Result.Last)
		return p
	}
	p1, p2 := cancelled(v1), cancelled(v2)
	require.JSONEq(t, string(p1), string(p2))
	var lc order.LinesCancelled
	require.NoError(t, json.Unmarshal(p1, &lc))
	require.False(t, lc.Totals.IncludesTax(), "the totals stay tax-excluded: %s", p1)
}
