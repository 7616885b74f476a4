package projections_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/projtest"
	"github.com/honten/honten/projections"
)

// seen is a model that records how often it applied each event (not
// idempotent: a double application shows), one per name.
type seen struct {
	name string
}

func (p seen) Name() string { return p.name + ".v1" }
func (p seen) Schema() projections.Schema {
	return projections.Schema{Tables: []string{p.name}, Create: "rm_" + p.name + "_v1_create"}
}

func (p seen) Apply(ctx context.Context, tx pgx.Tx, batch []eventstore.Envelope) error {
	b := &pgx.Batch{}
	for _, e := range batch {
		b.Queue(fmt.Sprintf(`INSERT INTO %s (event_id, times) VALUES ($1, 1) ON CONFLICT (event_id) DO UPDATE SET times = %s.times + 1`, p.name, p.name), e.EventID)
	}
	return tx.SendBatch(ctx, b).Close()
}

func seenDDL(name string) string {
	return fmt.Sprintf(`CREATE FUNCTION rm_%[1]s_v1_create(s text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('CREATE TABLE %%I.%[1]s (event_id uuid PRIMARY KEY, times int NOT NULL)', s);
END $$;`, name)
}

// active counts the models r runs the live tail of.
func active(t *testing.T, r *projections.Runner) int {
	t.Helper()
	sts, err := r.Status(context.Background())
	require.NoError(t, err)
	n := 0
	for _, s := range sts {
		if s.Active {
			n++
		}
	}
	return n
}

// Two runners share the projectors instead of one leading them all: the
// first, alone, leads all six; once a second runs, each leads three (the
// first hands three over between batches); every event is applied once
// per model throughout; when the second stops, the first takes its three
// back.
func TestRunnersShareTheProjectors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	var ps []projections.Projector
	for i := range 6 {
		name := fmt.Sprintf("spread_%d", i)
		_, err := b.pool.Exec(ctx, seenDDL(name))
		require.NoError(t, err)
		ps = append(ps, seen{name: name})
	}
	r1, r2 := b.runner(t, ps...), b.runner(t, ps...)
	require.NoError(t, r1.Ensure(ctx))
	projtest.Start(t, r1)
	require.Eventually(t, func() bool { return active(t, r1) == 6 }, 30*time.Second, 10*time.Millisecond, "alone, the first leads all")

	// Writes all along, across the hand-over.
	stop := make(chan struct{})
	wrote := make(chan eventstore.Position, 1)
	go func() {
		var last eventstore.Position
		defer func() { wrote <- last }()
		stream := uuid.Must(uuid.NewV7())
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			res, err := b.appendOne(ctx, stream, i)
			if err != nil {
				return
			}
			last = res.Last
		}
	}()

	ctx2, cancel2 := context.WithCancel(ctx)
	done2 := make(chan struct{})
	go func() { defer close(done2); _ = r2.Run(ctx2) }()
	t.Cleanup(func() { cancel2(); <-done2 })
	require.Eventually(t, func() bool { return active(t, r1) == 3 && active(t, r2) == 3 }, 30*time.Second, 10*time.Millisecond,
		"two runners lead three each")
	close(stop)
	last := <-wrote
	require.False(t, last.IsZero())
	waitApplied(t, r1, last)
	require.Equal(t, 3, active(t, r1), "the share holds once settled")
	require.Equal(t, 3, active(t, r2))

	cancel2()
	<-done2
	require.Eventually(t, func() bool { return active(t, r1) == 6 }, 30*time.Second, 10*time.Millisecond, "the first takes the second's back")
	res, err := b.appendOne(ctx, uuid.Must(uuid.NewV7()), 1)
	require.NoError(t, err)
	waitApplied(t, r1, res.Last)
	var events int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&events))
	for _, p := range ps {
		var n, twice int
		require.NoError(t, b.pool.QueryRow(ctx, fmt.Sprintf(`SELECT count(*), count(*) FILTER (WHERE times <> 1) FROM %s`, p.(seen).name)).Scan(&n, &twice))
		require.Equal(t, events, n, "%s applied every event", p.Name())
		require.Zero(t, twice, "%s applied no event twice", p.Name())
	}
}
