package stocklevels_test

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/aggregate"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/inventory"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/store"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/pgtest"
	"github.com/honten/honten/internal/projtest"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/projections/stocklevels"
)

var tables = []string{"stock_levels", "stock_levels_variants", "stock_levels_products", "stock_levels_holds"}

type testBundle struct {
	pool   *pgxpool.Pool
	store  *eventstore.Store
	cmds   *commands.Service
	runner *projections.Runner
	by     commands.By
}

// setup gives a fresh database with the stock_levels projector running live.
func setup(t *testing.T) *testBundle {
	t.Helper()
	pool := pgtest.New(t)
	reg := app.Registry()
	st := eventstore.New(pool, reg)
	var tick atomic.Int64
	clock := func() time.Time {
		return time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(tick.Add(1)) * time.Second)
	}
	r := projtest.Run(t, pool, stocklevels.Projector{Registry: reg})
	return &testBundle{pool: pool, store: st, cmds: commands.New(st, clock), runner: r, by: commands.By{Actor: "test"}}
}

// shop creates a tenant and a product with the given SKUs in its default store.
func (b *testBundle) shop(t *testing.T, code string, skus ...string) (commands.TenantCreated, catalog.ProductID, []catalog.VariantID) {
	t.Helper()
	ctx := context.Background()
	created, _, err := b.cmds.CreateTenant(ctx, commands.CreateTenant{By: b.by, Code: code, Name: code, Type: "single_brand"})
	require.NoError(t, err)
	var in []commands.VariantInput
	for _, s := range skus {
		in = append(in, commands.VariantInput{SKU: s, Price: money.MustNew(decimal.NewFromInt(1200), money.JPY)})
	}
	pid, _, err := b.cmds.CreateProduct(ctx, commands.CreateProduct{Tenant: created.Tenant, By: b.by, Title: "Sencha " + code, Variants: in})
	require.NoError(t, err)
	p, err := b.product(t, created.Tenant, pid)
	require.NoError(t, err)
	var ids []catalog.VariantID
	for _, v := range p.Variants() {
		ids = append(ids, v.ID)
	}
	return created, pid, ids
}

func (b *testBundle) product(t *testing.T, tn tenant.ID, pid catalog.ProductID) (*catalog.Product, error) {
	t.Helper()
	envs, err := b.store.Load(context.Background(), b.pool, tn, pid.UUID)
	if err != nil {
		return nil, err
	}
	return catalog.FromHistory(data(envs)), nil
}

func data(envs []eventstore.Envelope) []aggregate.Event {
	out := make([]aggregate.Event, len(envs))
	for i, e := range envs {
		out[i] = e.Data
	}
	return out
}

// item runs fn on the variant's inventory and appends what it recorded, as
// the reservation worker will.
func (b *testBundle) item(t *testing.T, tn tenant.ID, v catalog.VariantID, fn func(it *inventory.Item)) eventstore.Position {
	t.Helper()
	res, err := b.store.Do(context.Background(), func(ctx context.Context, tx *eventstore.Tx) error {
		envs, err := tx.Load(ctx, tn, v.UUID)
		if err != nil {
			return err
		}
		it := inventory.FromHistory(data(envs))
		fn(it)
		_, err = tx.Append(ctx, eventstore.Stream{Tenant: tn, Type: inventory.StreamType, ID: v.UUID}, it.LoadedVersion(), it.Pending(),
			eventstore.Metadata{Tenant: tn, Actor: "system:test"})
		return err
	})
	require.NoError(t, err)
	return res.Last
}

func (b *testBundle) adjust(t *testing.T, c commands.AdjustInventory) eventstore.Position {
	t.Helper()
	c.By = b.by
	if c.Reason == "" {
		c.Reason = "test"
	}
	_, res, err := b.cmds.AdjustInventory(context.Background(), c)
	require.NoError(t, err)
	return res.Last
}

func (b *testBundle) wait(t *testing.T, pos eventstore.Position) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, b.runner.WaitFor(ctx, pos))
}

func ptr(n int64) *int64 { return &n }

// requireMatchesAggregate checks every row of a variant against the
// aggregate's state, and that the rows' available adds up to the total the
// stream's last event carries.
func (b *testBundle) requireMatchesAggregate(t *testing.T, tn tenant.ID, v catalog.VariantID) {
	t.Helper()
	ctx := context.Background()
	envs, err := b.store.Load(ctx, b.pool, tn, v.UUID)
	require.NoError(t, err)
	it := inventory.FromHistory(data(envs))
	l, err := stocklevels.List(ctx, b.pool, tn, stocklevels.Filter{Variant: &v.UUID}, projections.Page{Limit: 200})
	require.NoError(t, err)
	require.Len(t, l.Items, len(it.Locations()))
	var total int64
	for _, row := range l.Items {
		require.Equal(t, it.OnHand(row.LocationID), row.OnHand, "on hand at %s", row.LocationID)
		require.Equal(t, it.Reserved(row.LocationID), row.Reserved, "reserved at %s", row.LocationID)
		require.Equal(t, row.OnHand-row.Reserved, row.Available)
		require.LessOrEqual(t, row.Version, it.Version())
		total += row.Available
	}
	require.Equal(t, it.TotalAvailable(), total)
	last := envs[len(envs)-1]
	require.Equal(t, int64(len(envs)), last.Version)
	var stamped struct {
		Available int64 `json:"available"`
	}
	require.NoError(t, json.Unmarshal(last.Payload, &stamped))
	require.Equal(t, total, stamped.Available, "the last event's total matches the rows")
}

// TestStockLevelsFollowCommandsAndReservations drives adjustments through
// the command and every reservation event through the aggregate, and
// checks the model against the aggregate; then replaying twice (and
// applying the whole log again over the live rows) changes nothing.
func TestStockLevelsFollowCommandsAndReservations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	shop, pid, vs := b.shop(t, "kyoto", "TEA-1", "TEA-2")
	other, _, ovs := b.shop(t, "osaka", "TEA-1")
	loc1 := shop.Location
	loc2, _, err := b.cmds.AddLocation(ctx, commands.AddLocation{Tenant: shop.Tenant, By: b.by, Store: shop.Store, Code: "annex", Name: "別館"})
	require.NoError(t, err)

	b.adjust(t, commands.AdjustInventory{Tenant: shop.Tenant, Variant: &vs[0], Delta: ptr(10)})
	b.adjust(t, commands.AdjustInventory{Tenant: shop.Tenant, SKU: "tea-1", Location: loc2, Set: ptr(5)})
	b.adjust(t, commands.AdjustInventory{Tenant: shop.Tenant, Variant: &vs[0], Delta: ptr(-1)})
	b.adjust(t, commands.AdjustInventory{Tenant: shop.Tenant, Variant: &vs[1], Set: ptr(0)})
	b.adjust(t, commands.AdjustInventory{Tenant: other.Tenant, Variant: &ovs[0], Delta: ptr(7)})

	now := time.Date(2025, 4, 2, 0, 0, 0, 0, time.UTC)
	order := uuid.Must(uuid.NewV7())
	req := func(q int64) inventory.Requested {
		return inventory.Requested{Reservation: inventory.NewReservationID(), Variant: vs[0].UUID, Cart: uuid.New(), Line: uuid.New(), Quantity: q}
	}
	shipped, released, expired, rejected, cancelled, live, reduced := req(3), req(2), req(4), req(100), req(1), req(2), req(3)
	both := []uuid.UUID{loc1.UUID, loc2.UUID}
	b.item(t, shop.Tenant, vs[0], func(it *inventory.Item) {
		it.Reserve(shipped, both, time.Hour, now)
		it.Reserve(released, []uuid.UUID{loc2.UUID}, time.Hour, now)
		it.Reserve(expired, both, time.Minute, now)
	})
	b.item(t, shop.Tenant, vs[0], func(it *inventory.Item) {
		it.Reserve(rejected, both, time.Hour, now)
		require.NoError(t, it.Commit(shipped.Reservation, order, now))
		it.Release(released.Reservation, "line removed", now)
		it.ExpireDue(now.Add(2 * time.Minute))
	})
	b.item(t, shop.Tenant, vs[0], func(it *inventory.Item) {
		it.Fulfil(shipped.Reservation, order, now)
		it.Reserve(cancelled, both, time.Hour, now)
		it.Reserve(live, []uuid.UUID{loc2.UUID}, time.Hour, now)
		it.Reserve(reduced, []uuid.UUID{loc1.UUID}, time.Hour, now)
		it.Release(inventory.NewReservationID(), "never decided", now)
	})
	b.item(t, shop.Tenant, vs[0], func(it *inventory.Item) {
		require.NoError(t, it.Commit(cancelled.Reservation, order, now))
		require.NoError(t, it.Commit(reduced.Reservation, order, now))
	})
	b.item(t, shop.Tenant, vs[0], func(it *inventory.Item) {
		it.ReleaseAllocation(cancelled.Reservation, order, "order cancelled", now)
		require.NoError(t, it.ReduceAllocation(reduced.Reservation, order, 2, "2 units cancelled", now))
	})
	// A SKU change reaches the rows.
	newSKU := "TEA-1-GREEN"
	_, res, err := b.cmds.UpdateVariant(ctx, commands.UpdateVariant{Tenant: shop.Tenant, By: b.by, Variant: vs[0], SKU: &newSKU})
	require.NoError(t, err)
	last := b.adjust(t, commands.AdjustInventory{Tenant: shop.Tenant, Variant: &vs[0], Location: loc2, Delta: ptr(1)})
	require.True(t, res.Last.Less(last))
	b.wait(t, last)

	for _, v := range vs {
		b.requireMatchesAggregate(t, shop.Tenant, v)
	}
	b.requireMatchesAggregate(t, other.Tenant, ovs[0])
	l1, err := stocklevels.Get(ctx, b.pool, shop.Tenant, vs[0].UUID, loc1.UUID)
	require.NoError(t, err)
	require.Equal(t, stocklevels.Level{VariantID: vs[0].UUID, SKU: newSKU, ProductID: &pid.UUID, VendorID: &shop.Vendor.UUID,
		LocationID: loc1.UUID, OnHand: 6, Reserved: 1, Available: 5, Version: l1.Version, UpdatedAt: now}, l1,
		"10 - 1 delivered, 3 shipped; the expired and cancelled holds came back, 1 of the reduced allocation is left")
	l2, err := stocklevels.Get(ctx, b.pool, shop.Tenant, vs[0].UUID, loc2.UUID)
	require.NoError(t, err)
	require.Equal(t, []int64{6, 2, 4}, []int64{l2.OnHand, l2.Reserved, l2.Available}, "5 + 1 on hand, the live hold of 2")
	var holds int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM stock_levels_holds`).Scan(&holds))
	require.Equal(t, 2, holds, "only the live hold and what is left of the reduced allocation are kept")
	var left int64
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT quantity FROM stock_levels_holds WHERE reservation_id = $1`, reduced.Reservation.UUID).Scan(&left))
	require.Equal(t, int64(1), left)

	// Replaying twice gives the rows the live tail built.
	live1 := projtest.Dump(t, b.pool, tables...)
	require.NoError(t, b.runner.Rebuild(ctx, "stock_levels", nil))
	replay1 := projtest.Dump(t, b.pool, tables...)
	require.NoError(t, b.runner.Rebuild(ctx, "stock_levels", nil))
	replay2 := projtest.Dump(t, b.pool, tables...)
	require.Equal(t, live1, replay1)
	require.Equal(t, replay1, replay2)

	// Applying the whole log again over the rows changes nothing: every
	// stream's events apply only above the version already applied.
	tx := projtest.Reapply(t, b.pool, stocklevels.Projector{Registry: b.store.Registry()})
	require.Equal(t, live1, projtest.Dump(t, tx, tables...))
	require.NoError(t, tx.Rollback(ctx))

	// A reservation and its release write the variant's level and hold,
	// never its catalog row (row versions unchanged), and a replay of them
	// over the rows is still a no-op.
	var schema string
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT schema_name FROM projections WHERE model = 'stock_levels' AND state = 'live'`).Scan(&schema))
	rowVersions := func() string {
		var s string
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT string_agg(variant_id::text || ':' || xmin::text, ',' ORDER BY variant_id) FROM `+
			pgx.Identifier{schema, "stock_levels_variants"}.Sanitize()).Scan(&s))
		return s
	}
	named := rowVersions()
	more := req(1)
	b.item(t, shop.Tenant, vs[0], func(it *inventory.Item) { it.Reserve(more, []uuid.UUID{loc1.UUID}, time.Hour, now) })
	b.wait(t, b.item(t, shop.Tenant, vs[0], func(it *inventory.Item) { it.Release(more.Reservation, "line removed", now) }))
	require.Equal(t, named, rowVersions())
	after, err := stocklevels.Get(ctx, b.pool, shop.Tenant, vs[0].UUID, loc1.UUID)
	require.NoError(t, err)
	require.Greater(t, after.Version, l1.Version, "the level row took both events")
	require.Equal(t, l1.Available, after.Available)
	live2 := projtest.Dump(t, b.pool, tables...)
	tx = projtest.Reapply(t, b.pool, stocklevels.Projector{Registry: b.store.Registry()})
	require.Equal(t, live2, projtest.Dump(t, tx, tables...))
}

func TestQueries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	shop, _, vs := b.shop(t, "nara", "B-2", "a-1", "C-3")
	loc2, _, err := b.cmds.AddLocation(ctx, commands.AddLocation{Tenant: shop.Tenant, By: b.by, Store: shop.Store, Code: "annex", Name: "別館"})
	require.NoError(t, err)
	other, _, ovs := b.shop(t, "kobe", "A-1")
	for i, v := range vs {
		b.adjust(t, commands.AdjustInventory{Tenant: shop.Tenant, Variant: &v, Set: ptr(int64(10 * (i + 1)))})
		b.adjust(t, commands.AdjustInventory{Tenant: shop.Tenant, Variant: &v, Location: loc2, Set: ptr(int64(i + 1))})
	}
	b.adjust(t, commands.AdjustInventory{Tenant: other.Tenant, Variant: &ovs[0], Set: ptr(99)})
	b.wait(t, b.item(t, shop.Tenant, vs[1], func(it *inventory.Item) {
		it.Reserve(inventory.Requested{Reservation: inventory.NewReservationID(), Quantity: 4}, []uuid.UUID{shop.Location.UUID}, time.Hour, time.Date(2025, 4, 2, 0, 0, 0, 0, time.UTC))
	}))

	list := func(f stocklevels.Filter, p projections.Page) projections.List[stocklevels.Level] {
		t.Helper()
		l, err := stocklevels.List(ctx, b.pool, shop.Tenant, f, p)
		require.NoError(t, err)
		return l
	}
	all := list(stocklevels.Filter{}, projections.Page{Limit: 200})
	require.Len(t, all.Items, 6, "3 variants × 2 locations, no other tenant's")
	require.Nil(t, all.NextCursor)
	var skus []string
	for _, l := range all.Items {
		skus = append(skus, l.SKU)
	}
	require.Equal(t, []string{"B-2", "B-2", "C-3", "C-3", "a-1", "a-1"}, skus, "by SKU (bytewise: upper case first)")

	// Pages of 4 then 2 give the same rows.
	p1 := list(stocklevels.Filter{}, projections.Page{Limit: 4})
	require.Len(t, p1.Items, 4)
	require.NotNil(t, p1.NextCursor)
	p2 := list(stocklevels.Filter{}, projections.Page{Limit: 4, Cursor: *p1.NextCursor})
	require.Nil(t, p2.NextCursor)
	require.Equal(t, all.Items, append(p1.Items, p2.Items...))
	_, err = stocklevels.List(ctx, b.pool, shop.Tenant, stocklevels.Filter{}, projections.Page{Limit: 4, Cursor: "bm9wZQ"})
	require.ErrorIs(t, err, projections.ErrBadCursor)

	require.Len(t, list(stocklevels.Filter{SKU: "A-1"}, projections.Page{Limit: 20}).Items, 2, "SKU matches case-insensitively")
	require.Len(t, list(stocklevels.Filter{Location: &loc2.UUID}, projections.Page{Limit: 20}).Items, 3)
	require.Len(t, list(stocklevels.Filter{Variant: &vs[2].UUID, Location: &loc2.UUID}, projections.Page{Limit: 20}).Items, 1)
	require.Len(t, list(stocklevels.Filter{Vendor: &shop.Vendor.UUID}, projections.Page{Limit: 20}).Items, 6)
	require.Empty(t, list(stocklevels.Filter{Vendor: &other.Vendor.UUID}, projections.Page{Limit: 20}).Items)
	require.Empty(t, list(stocklevels.Filter{Variant: &ovs[0].UUID}, projections.Page{Limit: 20}).Items, "another tenant's variant")

	unknown := catalog.NewVariantID()
	tot, err := stocklevels.ForVariants(ctx, b.pool, shop.Tenant, []catalog.VariantID{vs[0], vs[1], unknown, ovs[0]}, nil)
	require.NoError(t, err)
	require.Equal(t, map[catalog.VariantID]stocklevels.Totals{
		vs[0]:   {OnHand: 11, Reserved: 0, Available: 11},
		vs[1]:   {OnHand: 22, Reserved: 4, Available: 18},
		unknown: {},
		ovs[0]:  {},
	}, tot)
	tot, err = stocklevels.ForVariants(ctx, b.pool, shop.Tenant, []catalog.VariantID{vs[1]}, []uuid.UUID{loc2.UUID})
	require.NoError(t, err)
	require.Equal(t, stocklevels.Totals{OnHand: 2, Available: 2}, tot[vs[1]])
	tot, err = stocklevels.ForVariants(ctx, b.pool, shop.Tenant, nil, nil)
	require.NoError(t, err)
	require.Empty(t, tot)

	_, err = stocklevels.Get(ctx, b.pool, shop.Tenant, vs[0].UUID, store.NewLocationID().UUID)
	require.ErrorIs(t, err, eventstore.ErrNotFound)
	_, err = stocklevels.Get(ctx, b.pool, other.Tenant, vs[0].UUID, shop.Location.UUID)
	require.ErrorIs(t, err, eventstore.ErrNotFound)
}
