package projections_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/projtest"
	"github.com/honten/honten/projections"
)

type noted struct {
	Text string `json:"text"`
}

func (noted) EventName() string { return "test.noted.v1" }

// stamp records, per event, the transaction that applied it, whether its
// payload arrived and how often it was applied.
type stamp struct {
	model    string
	reg      *eventstore.Registry
	payloads []string
	none     bool
	// failAt, when above zero, makes Apply fail on the counted event with
	// that N.
	failAt *atomic.Int64
}

func (p stamp) Name() string { return p.model + ".v1" }
func (p stamp) Schema() projections.Schema {
	return projections.Schema{Tables: []string{p.model}, Create: "rm_" + p.model + "_create", PayloadTypes: p.payloads, NoPayloads: p.none}
}

func (p stamp) Apply(ctx context.Context, tx pgx.Tx, batch []eventstore.Envelope) error {
	b := &pgx.Batch{}
	for _, e := range batch {
		if p.failAt != nil && e.Type == (counted{}).EventName() && e.Payload != nil {
			ev, err := p.reg.Decode(e)
			if err != nil {
				return err
			}
			if n := ev.(counted).N; n == int(p.failAt.Load()) {
				return fmt.Errorf("refusing counted %d", n)
			}
		}
		b.Queue(`INSERT INTO `+p.model+` (event_id, tx, payload, times) VALUES ($1, txid_current(), $2, 1)
ON CONFLICT (event_id) DO UPDATE SET times = `+p.model+`.times + 1`, e.EventID, e.Payload != nil)
	}
	return tx.SendBatch(ctx, b).Close()
}

// stamps returns three stamp projectors reading different payloads:
// stamp_a the counted ones, stamp_b the noted ones, stamp_c none.
func stamps(t *testing.T, b *testBundle) (a, bb, c stamp) {
	t.Helper()
	b.reg.Register(noted{})
	for _, m := range []string{"stamp_a", "stamp_b", "stamp_c"} {
		_, err := b.pool.Exec(context.Background(), fmt.Sprintf(`CREATE FUNCTION rm_%[1]s_create(s text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('CREATE TABLE %%I.%[1]s (event_id uuid PRIMARY KEY, tx bigint NOT NULL, payload bool NOT NULL, times int NOT NULL)', s);
END $$`, m))
		require.NoError(t, err)
	}
	return stamp{model: "stamp_a", reg: b.reg, payloads: []string{counted{}.EventName()}},
		stamp{model: "stamp_b", reg: b.reg, payloads: []string{noted{}.EventName()}},
		stamp{model: "stamp_c", reg: b.reg, none: true}
}

// gatheringRunner runs ps until the test ends with a long gather: a group
// waits for every running tail, so each batch is shared by all of them.
func gatheringRunner(t *testing.T, b *testBundle, ps ...projections.Projector) *projections.Runner {
	t.Helper()
	r, err := projections.NewRunner(b.pool, ps,
		projections.Options{LockRetry: 20 * time.Millisecond, MaxPoll: 20 * time.Millisecond, Gather: time.Minute})
	require.NoError(t, err)
	require.NoError(t, r.Ensure(context.Background()))
	projtest.Start(t, r)
	return r
}

// appendNoted appends a noted event to a new stream.
func (b *testBundle) appendNoted(ctx context.Context) (eventstore.Result, error) {
	return b.store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		_, err := tx.Append(ctx, eventstore.Stream{Tenant: b.tenant, Type: "test", ID: uuid.Must(uuid.NewV7())}, 0,
			[]eventstore.Event{noted{Text: "x"}}, eventstore.Metadata{Tenant: b.tenant, Actor: "test"})
		return err
	})
}

// hammer appends writers × per events from concurrent writers, every
// second one noted, and returns the last position.
func hammer(t *testing.T, b *testBundle, writers, per int) eventstore.Position {
	t.Helper()
	ctx := context.Background()
	var mu sync.Mutex
	var last eventstore.Position
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			stream := uuid.Must(uuid.NewV7())
			for i := range per {
				var res eventstore.Result
				var err error
				if i%2 == 1 {
					res, err = b.appendNoted(ctx)
				} else {
					res, err = b.appendOne(ctx, stream, 100+w*per+i)
				}
				if !assertNoError(t, err) {
					return
				}
				mu.Lock()
				if last.Less(res.Last) {
					last = res.Last
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return last
}

func assertNoError(t *testing.T, err error) bool {
	t.Helper()
	if err != nil {
		t.Errorf("append: %v", err)
		return false
	}
	return true
}

// The live tails of one runner apply their batches together: every event
// appended by 8 concurrent writers, once all three tails run, is applied
// by all three read models in one transaction, exactly once each, and
// each model sees the payloads it reads and no others.
func TestLiveTailsApplyTheirBatchesInOneTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	pa, pb, pc := stamps(t, b)
	r := gatheringRunner(t, b, pa, pb, pc)

	first, err := b.appendOne(ctx, uuid.Must(uuid.NewV7()), 1)
	require.NoError(t, err)
	waitApplied(t, r, first.Last)
	last := hammer(t, b, 8, 40)
	waitApplied(t, r, last)

	for _, m := range []string{"stamp_a", "stamp_b", "stamp_c"} {
		var rows, applied int
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*), sum(times) FROM `+m).Scan(&rows, &applied))
		require.Equal(t, 1+8*40, rows, m)
		require.Equal(t, rows, applied, "%s applied each event once", m)
	}
	var apart, txs int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE a.tx <> bb.tx OR bb.tx <> c.tx), count(DISTINCT a.tx)
FROM stamp_a a JOIN stamp_b bb USING (event_id) JOIN stamp_c c USING (event_id) WHERE a.event_id <> $1`, first.Events[0].EventID).Scan(&apart, &txs))
	require.Zero(t, apart, "every event was applied by the three models in one transaction")
	require.Less(t, txs, 8*40, "batches carry several commits' events")

	var wrong int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT
  (SELECT count(*) FROM stamp_a a JOIN events e ON e.event_id = a.event_id WHERE a.payload <> (e.event_type = 'test.counted.v1'))
+ (SELECT count(*) FROM stamp_b x JOIN events e ON e.event_id = x.event_id WHERE x.payload <> (e.event_type = 'test.noted.v1'))
+ (SELECT count(*) FROM stamp_c WHERE payload)`).Scan(&wrong))
	require.Zero(t, wrong, "each model saw exactly the payloads it reads")
}

// A read model whose Apply fails does not hold back the others: the
// group is rolled back and each batch applied alone, so the others apply
// everything while the failing one stops before the event and reports the
// error; once it is fixed it catches up, and nothing is applied twice.
func TestFailingProjectorDoesNotHoldBackItsGroup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	pa, pb, pc := stamps(t, b)
	pa.failAt = &atomic.Int64{}
	pa.failAt.Store(13)
	r := gatheringRunner(t, b, pa, pb, pc)

	stream := uuid.Must(uuid.NewV7())
	var bad eventstore.Result
	for i := 1; i <= 20; i++ {
		res, err := b.appendOne(ctx, stream, i)
		require.NoError(t, err)
		if i == 13 {
			bad = res
		}
	}
	last := hammer(t, b, 4, 10)
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	require.NoError(t, r.WaitFor(wctx, last, "stamp_b", "stamp_c"))

	require.Eventually(t, func() bool {
		sts, err := r.Status(ctx)
		require.NoError(t, err)
		for _, s := range sts {
			if s.Model == "stamp_a" && s.LastError != nil {
				return true
			}
		}
		return false
	}, 2*time.Minute, 10*time.Millisecond, "the failing model reports its error")
	var seen bool
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM stamp_a WHERE event_id = $1)`, bad.Events[0].EventID).Scan(&seen))
	require.False(t, seen, "the failing model stopped before the event")

	pa.failAt.Store(0)
	waitApplied(t, r, last)
	for _, m := range []string{"stamp_a", "stamp_b", "stamp_c"} {
		var rows, applied int
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*), sum(times) FROM `+m).Scan(&rows, &applied))
		require.Equal(t, 20+4*10, rows, m)
		require.Equal(t, rows, applied, "%s applied each event once", m)
	}
}
