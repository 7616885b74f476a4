// Package projtest helps test read models: it runs a projections.Runner
// for the length of a test, dumps a model's tables as comparable text, and
// applies the whole log again over a model's live generation.
package projtest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/projections"
)

// NewRunner returns a runner of ps on pool that retries the leader lock
// and polls quickly, as tests want. It unseals personal data with the
// registry of the first projector holding one (a Registry field), as the
// process does with its own.
func NewRunner(t testing.TB, pool *pgxpool.Pool, ps ...projections.Projector) *projections.Runner {
	t.Helper()
	r, err := projections.NewRunner(pool, ps, projections.Options{LockRetry: 20 * time.Millisecond, MaxPoll: 20 * time.Millisecond,
		Registry: registryOf(ps)})
	require.NoError(t, err)
	return r
}

// registryOf returns the Registry field of the first projector with one.
func registryOf(ps []projections.Projector) *eventstore.Registry {
	for _, p := range ps {
		v := reflect.Indirect(reflect.ValueOf(p))
		if v.Kind() != reflect.Struct {
			continue
		}
		if f := v.FieldByName("Registry"); f.IsValid() {
			if reg, ok := f.Interface().(*eventstore.Registry); ok && reg != nil {
				return reg
			}
		}
	}
	return nil
}

// Start runs r until the test ends.
func Start(t testing.TB, r *projections.Runner) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// Run gives every model of ps a live generation and runs their projectors
// until the test ends.
func Run(t testing.TB, pool *pgxpool.Pool, ps ...projections.Projector) *projections.Runner {
	t.Helper()
	r := NewRunner(t, pool, ps...)
	require.NoError(t, r.Ensure(context.Background()))
	Start(t, r)
	return r
}

// Dump returns every row of tables as text, in a stable order.
func Dump(t testing.TB, q eventstore.Querier, tables ...string) string {
	t.Helper()
	out := ""
	for _, tb := range tables {
		var s *string
		require.NoError(t, q.QueryRow(context.Background(), `SELECT string_agg(x::text, E'\n' ORDER BY x::text) FROM `+tb+` x`).Scan(&s))
		if s != nil {
			out += tb + ":\n" + *s + "\n"
		}
	}
	return out
}

// Reapply applies the whole log (up to 10,000 events) again over the live
// generation of p's model, then its second half once more, in a
// transaction that reads that generation; the transaction is rolled back
// when the test ends. A projector that skips what it applied before
// leaves the rows as they were.
func Reapply(t testing.TB, pool *pgxpool.Pool, p projections.Projector) pgx.Tx {
	t.Helper()
	ctx := context.Background()
	var schema string
	require.NoError(t, pool.QueryRow(ctx, `SELECT schema_name FROM projections WHERE model = $1 AND state = 'live'`, projections.Model(p.Name())).Scan(&schema))
	s := p.Schema()
	all, err := eventstore.ReadFeed(ctx, pool, eventstore.Position{}, 10_000, eventstore.FeedFilter{PayloadTypes: s.PayloadTypes, NoPayload: s.NoPayloads})
	require.NoError(t, err)
	if reg := registryOf([]projections.Projector{p}); reg != nil {
		require.NoError(t, reg.Unseal(ctx, pool, all))
	}
	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = tx.Rollback(context.Background()) })
	_, err = tx.Exec(ctx, `SELECT set_config('search_path', $1, true)`, `"`+schema+`"`)
	require.NoError(t, err)
	require.NoError(t, p.Apply(ctx, tx, all))
	require.NoError(t, p.Apply(ctx, tx, all[len(all)/2:]))
	return tx
}
