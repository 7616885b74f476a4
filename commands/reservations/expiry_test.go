package reservations_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/commands/reservations"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/store"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/pgtest"
)

// The expiry loop looks for due holds again when a decision grants a hold
// due before its next look, and only then: a short hold granted while it
// waits for an hour expires on time, and holds due after its next look
// cost it no look (under load, a look was two reads for every decision
// batch).
func TestTheExpiryLoopLooksAgainOnlyForAHoldDueBeforeItsNextLook(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	looks := &pgtest.Sent{Match: func(sql string) bool { return strings.Contains(sql, "WHERE status = 'reserved'") }}
	pool := pgtest.Traced(t, looks)
	st := eventstore.New(pool, app.Registry())
	svc := commands.New(st, nil)
	svc.SetHotThreshold(0)
	p := process{store: st, svc: svc}
	short := newShop(t, p, 100)
	// A second product whose holds last an hour.
	by := commands.By{Actor: "test", CommandID: uuid.Must(uuid.NewV7())}
	pid, _, err := svc.CreateProduct(ctx, commands.CreateProduct{Tenant: short.tenant, By: by, Title: "煎茶", Status: "active",
		Variants: []commands.VariantInput{{SKU: "TEA-2", Price: money.MustNew(decimal.NewFromInt(900), money.JPY)}}})
	require.NoError(t, err)
	long := catalog.VariantID{UUID: by.DerivedID(100)}
	_, err = svc.SetStock(ctx, commands.SetStock{Tenant: short.tenant, By: commands.By{Actor: "test"}, Product: pid, Reason: "count",
		Levels: []commands.StockSet{{Variant: long, Location: store.LocationID{UUID: short.location}, OnHand: 100}}})
	require.NoError(t, err)
	meta := func(_ context.Context, _ *eventstore.Tx, _ tenant.ID, v catalog.VariantID) ([]uuid.UUID, time.Duration, error) {
		if v == long {
			return []uuid.UUID{short.location}, time.Hour, nil
		}
		return []uuid.UUID{short.location}, 300 * time.Millisecond, nil
	}
	w := reservations.NewWorker(st, time.Now, meta, reservations.Options{ExpiryEvery: time.Hour, LockRetry: 5 * time.Millisecond})
	run(t, w)
	hold := func(s shop) uuid.UUID {
		t.Helper()
		id := s.add(t, p)
		got, err := w.Wait(ctx, s.tenant, id, 30*time.Second)
		require.NoError(t, err)
		require.Equal(t, "reserved", got.Status)
		return id
	}
	expires := func(id uuid.UUID) {
		t.Helper()
		require.Eventually(t, func() bool {
			st, err := w.Statuses(ctx, short.tenant, []uuid.UUID{id})
			return err == nil && st[id].Status == "expired"
		}, 30*time.Second, 5*time.Millisecond, "the short hold expired")
	}

	expires(hold(short))
	before := looks.Counts().Matched
	for range 5 {
		hold(shop{tenant: short.tenant, sku: "TEA-2", location: short.location})
	}
	expires(hold(short))
	// The short hold: a look when it was granted and one when it fell
	// due, each the due holds and the next expiry. The five long holds:
	// none.
	require.Equal(t, 4, looks.Counts().Matched-before)
}
