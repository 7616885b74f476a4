package reservations_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/commands/reservations"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/ids"
	"github.com/honten/honten/domain/inventory"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/pgtest"
)

// LockItems sends the locks of a command's items and the reads of the
// cached ones in one round trip, and each read runs once the locks before
// it are held: a command that waited for another's lock reads what that
// one committed, although its cached item is older.
func TestLockedItemsAreReadOnceTheLocksAreHeldInOneRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sent := &pgtest.Sent{}
	pool := pgtest.Traced(t, sent)
	st := eventstore.New(pool, app.Registry())
	shop := tenant.ID{UUID: uuid.Must(uuid.NewV7())}
	md := eventstore.Metadata{Tenant: shop, Actor: "test"}
	loc := uuid.New()
	vs := []catalog.VariantID{{UUID: uuid.New()}, {UUID: uuid.New()}, {UUID: uuid.New()}}
	slices.SortFunc(vs, func(a, b catalog.VariantID) int { return ids.Compare(a.UUID, b.UUID) })

	// Stock the three items; the item cache then holds them.
	_, err := st.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		its, err := reservations.LockItems(ctx, tx, shop, vs)
		if err != nil {
			return err
		}
		for i, it := range its {
			require.Zero(t, it.Version(), "a variant whose stock never changed")
			if err := it.Adjust(loc, 10, nil, "count", time.Now()); err != nil {
				return err
			}
			if err := reservations.SaveItem(ctx, tx, shop, vs[i], it, md); err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(t, err)

	// A holds the second item's lock and adds five units to it.
	locked, release := make(chan struct{}), make(chan struct{})
	aDone := make(chan error, 1)
	go func() {
		_, err := st.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
			it, err := reservations.LockItem(ctx, tx, shop, vs[1])
			if err != nil {
				return err
			}
			if err := it.Adjust(loc, 5, nil, "delivery", time.Now()); err != nil {
				return err
			}
			if err := reservations.SaveItem(ctx, tx, shop, vs[1], it, md); err != nil {
				return err
			}
			close(locked)
			<-release
			return nil
		})
		aDone <- err
	}()
	<-locked

	// B locks all three, from the cache's items (the second one at its
	// version before A's change); it waits for A.
	type result struct {
		onHand []int64
		sent   pgtest.SentCounts
		err    error
	}
	got := make(chan result, 1)
	go func() {
		var r result
		_, r.err = st.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
			sent.Watch(tx.Conn())
			its, err := reservations.LockItems(ctx, tx, shop, vs)
			r.sent = sent.Counts()
			if err != nil {
				return err
			}
			for _, it := range its {
				r.onHand = append(r.onHand, it.OnHand(loc))
			}
			return nil
		})
		got <- r
	}()
	require.Eventually(t, func() bool {
		var waiting bool
		err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted)`).Scan(&waiting)
		return err == nil && waiting
	}, 10*time.Second, time.Millisecond, "B waits for A's lock")
	close(release)
	require.NoError(t, <-aDone)
	r := <-got
	require.NoError(t, r.err)
	require.Equal(t, []int64{10, 15, 10}, r.onHand, "B read A's delivery")
	require.Equal(t, 1, r.sent.Trips, "the locks and the reads in one round trip")
	require.Equal(t, 1, r.sent.Batches)
	require.Equal(t, 2, r.sent.Statements, "the three locks in one statement, the three reads in another")
}

// A lane's batch decided in one chunk moves the lane's checkpoint in the
// transaction of its decisions: one commit for both, and never a
// checkpoint past decisions that did not commit.
func TestABatchDecidedInOneChunkMovesTheCheckpointInItsTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.NewURL(t)
	p := newProcess(t, url)
	s := newShop(t, p, 10)
	r := s.add(t, p)
	w := p.svc.NewReservationWorker(reservations.Options{})
	// The request is readable once every older transaction has ended.
	require.Eventually(t, func() bool {
		n, err := w.Process(ctx, reservations.LaneNormal)
		assert.NoError(t, err)
		return n > 0
	}, 10*time.Second, time.Millisecond)
	pool := p.store.Pool()
	var checkpoint, decision string
	require.NoError(t, pool.QueryRow(ctx, `SELECT xmin::text FROM worker_checkpoints WHERE name = $1`, reservations.LaneNormal).Scan(&checkpoint))
	require.NoError(t, pool.QueryRow(ctx, `SELECT xmin::text FROM reservation_index WHERE reservation_id = $1`, r).Scan(&decision))
	require.Equal(t, decision, checkpoint, "written by one transaction")
}

// A decision batch over several variants is two round trips: the locks
// with the index's decisions and the items' newer events (and BEGIN), then
// the items' events with their index rows, the lane's checkpoint and the
// COMMIT.
func TestABatchOfDecisionsOverThreeVariantsTakesTwoRoundTrips(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sent := &pgtest.Sent{}
	st := eventstore.New(pgtest.Traced(t, sent), app.Registry())
	svc := commands.New(st, nil)
	svc.SetHotThreshold(0)
	by := func() commands.By { return commands.By{Actor: "test", CommandID: uuid.Must(uuid.NewV7())} }
	created, _, err := svc.CreateTenant(ctx, commands.CreateTenant{By: by(), Code: "batch", Name: "batch", Type: "single_brand"})
	require.NoError(t, err)
	pb := by()
	skus := []string{"TEA-1", "TEA-2", "TEA-3"}
	var inputs []commands.VariantInput
	var levels []commands.StockSet
	for i, sku := range skus {
		inputs = append(inputs, commands.VariantInput{SKU: sku, Price: money.MustNew(decimal.NewFromInt(1200), money.JPY)})
		levels = append(levels, commands.StockSet{Variant: catalog.VariantID{UUID: pb.DerivedID(100 + i)}, Location: created.Location, OnHand: 10})
	}
	pid, _, err := svc.CreateProduct(ctx, commands.CreateProduct{Tenant: created.Tenant, By: pb, Title: "抹茶", Status: "active", Variants: inputs})
	require.NoError(t, err)
	_, err = svc.SetStock(ctx, commands.SetStock{Tenant: created.Tenant, By: by(), Product: pid, Reason: "count", Levels: levels})
	require.NoError(t, err)
	w := svc.NewReservationWorker(reservations.Options{})
	// round adds a line of each variant to a new cart and has the lane
	// decide them; each look that decided something took trips round
	// trips. Other transactions of the cluster can leave some requests
	// unreadable for a look: they are decided by the next.
	round := func(trips int) {
		t.Helper()
		c, _, err := svc.CreateCart(ctx, commands.CreateCart{Tenant: created.Tenant, By: by()})
		require.NoError(t, err)
		for _, sku := range skus {
			_, _, err := svc.AddToCart(ctx, commands.AddToCart{Tenant: created.Tenant, By: by(), Cart: c.Cart, Token: c.Token, SKU: sku, Quantity: 1})
			require.NoError(t, err)
		}
		decided := 0
		require.Eventually(t, func() bool {
			sent.Watch(nil)
			n, err := w.Process(ctx, reservations.LaneNormal)
			assert.NoError(t, err)
			if n > 0 && trips > 0 {
				assert.Equal(t, trips, sent.Counts().Trips)
			}
			decided += n
			return decided == len(skus)
		}, 10*time.Second, time.Millisecond)
	}
	round(0) // the worker learns the variants' locations and hold time
	// Process reads the lane's checkpoint (a running lane keeps it), reads
	// the lane, then decides.
	round(1 + 1 + 2)
	var reserved int
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT count(*) FROM reservation_index WHERE status = 'reserved'`).Scan(&reserved))
	require.Equal(t, 6, reserved)
}

// An item saved across a multiple of eventstore.SnapshotEvery events gets
// a snapshot at its new version in the same write, whether its events are
// saved in several commands or many in one, and the snapshot holds its
// stock as of that version.
func TestAnItemSavedPastTheSnapshotIntervalIsSnapshotted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := eventstore.New(pgtest.New(t), app.Registry())
	shop := tenant.ID{UUID: uuid.Must(uuid.NewV7())}
	md := eventstore.Metadata{Tenant: shop, Actor: "test"}
	loc := uuid.New()
	v := catalog.VariantID{UUID: uuid.New()}
	adjust := func(n int) {
		t.Helper()
		_, err := st.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
			it, err := reservations.LockItem(ctx, tx, shop, v)
			if err != nil {
				return err
			}
			for range n {
				if err := it.Adjust(loc, 1, nil, "count", time.Now()); err != nil {
					return err
				}
			}
			return reservations.SaveItem(ctx, tx, shop, v, it, md)
		})
		require.NoError(t, err)
	}
	snapshot := func() (version int64, found bool) {
		t.Helper()
		err := st.Pool().QueryRow(ctx, `SELECT version FROM snapshots WHERE tenant_id = $1 AND stream_id = $2`, shop, v).Scan(&version)
		if errors.Is(err, pgx.ErrNoRows) {
			return 0, false
		}
		require.NoError(t, err)
		return version, true
	}
	adjust(eventstore.SnapshotEvery - 1)
	_, found := snapshot()
	require.False(t, found, "no interval crossed yet")
	adjust(2)
	version, found := snapshot()
	require.True(t, found)
	require.EqualValues(t, eventstore.SnapshotEvery+1, version, "at the version the save reached")
	adjust(eventstore.SnapshotEvery)
	version, _ = snapshot()
	require.EqualValues(t, 2*eventstore.SnapshotEvery+1, version)

	var state []byte
	_, err := st.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		var err error
		version, state, found, err = tx.LoadSnapshot(ctx, shop, v.UUID)
		return err
	})
	require.NoError(t, err)
	require.True(t, found)
	it, err := inventory.ItemFromSnapshot(state, version)
	require.NoError(t, err)
	require.EqualValues(t, 2*eventstore.SnapshotEvery+1, it.Available(loc), "the stock as of the snapshot")
}
