package commands_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/inventory"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/store"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/pgtest"
)

type testBundle struct {
	store *eventstore.Store
	cmds  *commands.Service
	by    commands.By
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	st := eventstore.New(pgtest.New(t), app.Registry())
	return &testBundle{store: st, cmds: commands.New(st, nil), by: commands.By{Actor: "test"}}
}

func ptr(n int64) *int64 { return &n }

// shop creates a tenant of typ with a product of the given SKUs.
func (b *testBundle) shop(t *testing.T, code, typ string, skus ...string) (commands.TenantCreated, []catalog.VariantID) {
	t.Helper()
	created, _, err := b.cmds.CreateTenant(context.Background(), commands.CreateTenant{By: b.by, Code: code, Name: code, Type: typ})
	require.NoError(t, err)
	return created, b.product(t, created.Tenant, nil, nil, skus...)
}

// product creates a product (of vendor and store when given) and returns its variants.
func (b *testBundle) product(t *testing.T, tn tenant.ID, vendor, st *uuid.UUID, skus ...string) []catalog.VariantID {
	t.Helper()
	ctx := context.Background()
	var in []commands.VariantInput
	for _, s := range skus {
		in = append(in, commands.VariantInput{SKU: s, Price: money.MustNew(decimal.NewFromInt(500), money.JPY)})
	}
	pid, _, err := b.cmds.CreateProduct(ctx, commands.CreateProduct{Tenant: tn, By: b.by, Vendor: vendor, Store: st, Title: "Matcha " + skus[0], Variants: in})
	require.NoError(t, err)
	var out []catalog.VariantID
	for _, s := range skus {
		v, err := commands.VariantBySKU(ctx, b.store.Pool(), tn, s)
		require.NoError(t, err)
		p, err := commands.VariantProduct(ctx, b.store.Pool(), tn, v)
		require.NoError(t, err)
		require.Equal(t, pid, p)
		out = append(out, v)
	}
	return out
}

func (b *testBundle) events(t *testing.T, tn tenant.ID, v catalog.VariantID) []eventstore.Envelope {
	t.Helper()
	envs, err := b.store.Load(context.Background(), b.store.Pool(), tn, v.UUID)
	require.NoError(t, err)
	return envs
}

func TestAdjustInventory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	shop, vs := b.shop(t, "kyoto", "single_brand", "TEA-1")
	v := vs[0]

	lvl, res, err := b.cmds.AdjustInventory(ctx, commands.AdjustInventory{Tenant: shop.Tenant, By: b.by, Variant: &v, Delta: ptr(12), Reason: "delivery"})
	require.NoError(t, err)
	require.Equal(t, shop.Location, lvl.Location, "the default store's first location")
	require.Equal(t, catalog.SKU("TEA-1"), lvl.SKU)
	require.Equal(t, shop.Vendor.UUID, lvl.Vendor)
	require.Equal(t, []int64{12, 0, 12, 1}, []int64{lvl.OnHand, lvl.Reserved, lvl.Available, lvl.Version})
	require.Equal(t, int64(1), res.Version)
	require.Equal(t, v.UUID, res.ID)
	require.False(t, res.Last.IsZero())
	require.False(t, lvl.At.IsZero())

	lvl, res, err = b.cmds.AdjustInventory(ctx, commands.AdjustInventory{Tenant: shop.Tenant, By: b.by, SKU: " tea-1 ", Location: shop.Location, Set: ptr(7), Reason: "stocktake"})
	require.NoError(t, err)
	require.Equal(t, []int64{7, 2}, []int64{lvl.OnHand, res.Version})
	envs := b.events(t, shop.Tenant, v)
	require.Len(t, envs, 2)
	require.Equal(t, inventory.StreamType, envs[1].StreamType)
	require.Equal(t, inventory.Adjusted{Location: shop.Location.UUID, Delta: -5, OnHand: 7, Reason: "stocktake", Available: 7, At: envs[1].Data.(inventory.Adjusted).At}, envs[1].Data)
	require.Equal(t, "test", envs[1].Actor)

	// Setting what is there appends nothing.
	lvl, res, err = b.cmds.AdjustInventory(ctx, commands.AdjustInventory{Tenant: shop.Tenant, By: b.by, Variant: &v, Set: ptr(7), Reason: "recount"})
	require.NoError(t, err)
	require.True(t, res.Last.IsZero())
	require.True(t, lvl.At.IsZero())
	require.Equal(t, []int64{7, 2}, []int64{lvl.OnHand, res.Version})
	require.Len(t, b.events(t, shop.Tenant, v), 2)

	// Never below zero: a 409 naming the stock there.
	_, _, err = b.cmds.AdjustInventory(ctx, commands.AdjustInventory{Tenant: shop.Tenant, By: b.by, Variant: &v, Delta: ptr(-8), Reason: "damaged"})
	require.ErrorIs(t, err, inventory.ErrNegativeStock)
	require.Equal(t, errs.KindConflict, errs.KindOf(err))
	var sc *commands.StockConflict
	require.ErrorAs(t, err, &sc)
	require.Equal(t, map[string]any{"location_id": shop.Location, "on_hand": int64(7), "reserved": int64(0)}, sc.ProblemExtra())
	require.Contains(t, err.Error(), "7 on hand and 0 reserved")

	// Never below what is reserved.
	_, err = b.store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		envs, err := tx.Load(ctx, shop.Tenant, v.UUID)
		if err != nil {
			return err
		}
		hist := make([]eventstore.Event, len(envs))
		for i, e := range envs {
			hist[i] = e.Data
		}
		it := inventory.FromHistory(hist)
		it.Reserve(inventory.Requested{Reservation: inventory.NewReservationID(), Quantity: 5}, []uuid.UUID{shop.Location.UUID}, 0, b.cmds.Now())
		_, err = tx.Append(ctx, eventstore.Stream{Tenant: shop.Tenant, Type: inventory.StreamType, ID: v.UUID}, it.LoadedVersion(), it.Pending(), eventstore.Metadata{Tenant: shop.Tenant})
		return err
	})
	require.NoError(t, err)
	_, _, err = b.cmds.AdjustInventory(ctx, commands.AdjustInventory{Tenant: shop.Tenant, By: b.by, Variant: &v, Set: ptr(4), Reason: "recount"})
	require.ErrorIs(t, err, inventory.ErrNegativeStock)
	require.Contains(t, err.Error(), "7 on hand and 5 reserved")
	lvl, _, err = b.cmds.AdjustInventory(ctx, commands.AdjustInventory{Tenant: shop.Tenant, By: b.by, Variant: &v, Set: ptr(5), Reason: "recount"})
	require.NoError(t, err)
	require.Equal(t, []int64{5, 5, 0}, []int64{lvl.OnHand, lvl.Reserved, lvl.Available})

	// Above the maximum.
	_, _, err = b.cmds.AdjustInventory(ctx, commands.AdjustInventory{Tenant: shop.Tenant, By: b.by, Variant: &v, Delta: ptr(inventory.MaxStock), Reason: "x"})
	requireFields(t, err, "delta")
}

func requireFields(t *testing.T, err error, fields ...string) {
	t.Helper()
	e, ok := errs.As(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, errs.KindInvalid, e.Kind, "%v", err)
	var got []string
	for _, f := range e.Fields {
		got = append(got, f.Field)
	}
	require.Equal(t, fields, got, "%v", err)
}

func TestAdjustInventoryRefusesBadCommands(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	shop, vs := b.shop(t, "nara", "single_brand", "DEER-1")
	other, ovs := b.shop(t, "kobe", "single_brand", "BEEF-1")
	v := vs[0]
	// A second store of the shop, with a product of its own.
	st2, _, err := b.cmds.CreateStore(ctx, commands.CreateStore{Tenant: shop.Tenant, By: b.by, Code: "popup", Name: "ポップアップ"})
	require.NoError(t, err)
	loc2, _, err := b.cmds.AddLocation(ctx, commands.AddLocation{Tenant: shop.Tenant, By: b.by, Store: st2, Code: "floor", Name: "売り場"})
	require.NoError(t, err)
	popup := b.product(t, shop.Tenant, nil, &st2.UUID, "POP-1")[0]

	long := strings.Repeat("あ", commands.MaxReasonLen+1)
	zero := catalog.VariantID{}
	cases := []struct {
		name   string
		cmd    commands.AdjustInventory
		fields []string
		is     error
	}{
		{"neither sku nor variant", commands.AdjustInventory{Delta: ptr(1), Reason: "x"}, []string{"sku"}, nil},
		{"both sku and variant", commands.AdjustInventory{Variant: &v, SKU: "DEER-1", Delta: ptr(1), Reason: "x"}, []string{"sku"}, nil},
		{"zero variant", commands.AdjustInventory{Variant: &zero, Delta: ptr(1), Reason: "x"}, []string{"variant_id"}, nil},
		{"neither delta nor set", commands.AdjustInventory{Variant: &v, Reason: "x"}, []string{"delta"}, nil},
		{"both delta and set", commands.AdjustInventory{Variant: &v, Delta: ptr(1), Set: ptr(1), Reason: "x"}, []string{"delta"}, nil},
		{"zero delta", commands.AdjustInventory{Variant: &v, Delta: ptr(0), Reason: "x"}, []string{"delta"}, nil},
		{"huge delta", commands.AdjustInventory{Variant: &v, Delta: ptr(1 << 62), Reason: "x"}, []string{"delta"}, nil},
		{"huge negative delta", commands.AdjustInventory{Variant: &v, Delta: ptr(-1 << 62), Reason: "x"}, []string{"delta"}, nil},
		{"negative set", commands.AdjustInventory{Variant: &v, Set: ptr(-1), Reason: "x"}, []string{"set"}, nil},
		{"huge set", commands.AdjustInventory{Variant: &v, Set: ptr(inventory.MaxStock + 1), Reason: "x"}, []string{"set"}, nil},
		{"no reason", commands.AdjustInventory{Variant: &v, Delta: ptr(1), Reason: "  "}, []string{"reason"}, nil},
		{"long reason", commands.AdjustInventory{Variant: &v, Delta: ptr(1), Reason: long}, []string{"reason"}, nil},
		{"control characters", commands.AdjustInventory{Variant: &v, Delta: ptr(1), Reason: "a\x00b"}, []string{"reason"}, nil},
		{"everything wrong", commands.AdjustInventory{Reason: ""}, []string{"sku", "delta", "reason"}, nil},
		{"unknown SKU", commands.AdjustInventory{SKU: "NOPE", Delta: ptr(1), Reason: "x"}, []string{"sku"}, commands.ErrUnknownSKU},
		{"malformed SKU", commands.AdjustInventory{SKU: "no pe", Delta: ptr(1), Reason: "x"}, []string{"sku"}, commands.ErrUnknownSKU},
		{"another tenant's SKU", commands.AdjustInventory{SKU: "BEEF-1", Delta: ptr(1), Reason: "x"}, []string{"sku"}, commands.ErrUnknownSKU},
		{"unknown variant", commands.AdjustInventory{Variant: ptrTo(catalog.NewVariantID()), Delta: ptr(1), Reason: "x"}, nil, eventstore.ErrNotFound},
		{"another tenant's variant", commands.AdjustInventory{Variant: &ovs[0], Delta: ptr(1), Reason: "x"}, nil, eventstore.ErrNotFound},
		{"unknown location", commands.AdjustInventory{Variant: &v, Location: store.NewLocationID(), Delta: ptr(1), Reason: "x"}, []string{"location_id"}, commands.ErrUnknownLocation},
		{"another tenant's location", commands.AdjustInventory{Variant: &v, Location: other.Location, Delta: ptr(1), Reason: "x"}, []string{"location_id"}, commands.ErrUnknownLocation},
		{"another store's location", commands.AdjustInventory{Variant: &v, Location: loc2, Delta: ptr(1), Reason: "x"}, []string{"location_id"}, commands.ErrUnknownLocation},
		{"the popup product at the main store", commands.AdjustInventory{Variant: &popup, Location: shop.Location, Delta: ptr(1), Reason: "x"}, []string{"location_id"}, commands.ErrUnknownLocation},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.cmd.Tenant, c.cmd.By = shop.Tenant, b.by
			_, res, err := b.cmds.AdjustInventory(ctx, c.cmd)
			require.Error(t, err)
			require.True(t, res.Last.IsZero())
			if c.fields != nil {
				requireFields(t, err, c.fields...)
			}
			if c.is != nil {
				require.ErrorIs(t, err, c.is)
			}
			// Nothing is written, in either tenant (no case of this test
			// adjusts these variants).
			for _, id := range []catalog.VariantID{v, ovs[0]} {
				for _, tn := range []tenant.ID{shop.Tenant, other.Tenant} {
					envs, err := b.store.Load(ctx, b.store.Pool(), tn, id.UUID)
					require.NoError(t, err)
					require.Empty(t, envs)
				}
			}
		})
	}
	t.Run("a product of another store defaults to that store's first location", func(t *testing.T) {
		t.Parallel()
		lvl, _, err := b.cmds.AdjustInventory(ctx, commands.AdjustInventory{Tenant: shop.Tenant, By: b.by, SKU: "POP-1", Delta: ptr(3), Reason: "x"})
		require.NoError(t, err)
		require.Equal(t, loc2, lvl.Location)
	})
}

func ptrTo[T any](v T) *T { return &v }

func TestAdjustInventoryVendorScope(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	mall, _ := b.shop(t, "tokyo-mall", "mall", "MALL-1")
	mine, _, err := b.cmds.CreateVendor(ctx, commands.CreateVendor{Tenant: mall.Tenant, By: b.by, Name: "たなか"})
	require.NoError(t, err)
	theirs, _, err := b.cmds.CreateVendor(ctx, commands.CreateVendor{Tenant: mall.Tenant, By: b.by, Name: "すずき"})
	require.NoError(t, err)
	own := b.product(t, mall.Tenant, &mine.UUID, nil, "TANAKA-1")[0]
	foreign := b.product(t, mall.Tenant, &theirs.UUID, nil, "SUZUKI-1")[0]
	scope := &mine.UUID

	lvl, _, err := b.cmds.AdjustInventory(ctx, commands.AdjustInventory{Tenant: mall.Tenant, By: b.by, VendorScope: scope, Variant: &own, Delta: ptr(4), Reason: "x"})
	require.NoError(t, err)
	require.Equal(t, mine.UUID, lvl.Vendor)

	// Another vendor's variant is missing, never forbidden.
	_, _, err = b.cmds.AdjustInventory(ctx, commands.AdjustInventory{Tenant: mall.Tenant, By: b.by, VendorScope: scope, Variant: &foreign, Delta: ptr(4), Reason: "x"})
	require.ErrorIs(t, err, eventstore.ErrNotFound)
	_, _, err = b.cmds.AdjustInventory(ctx, commands.AdjustInventory{Tenant: mall.Tenant, By: b.by, VendorScope: scope, SKU: "SUZUKI-1", Delta: ptr(4), Reason: "x"})
	require.ErrorIs(t, err, commands.ErrUnknownSKU)
	require.Empty(t, b.events(t, mall.Tenant, foreign))
}

// Concurrent adjustments of one variant all land: 32 writers, none lost.
func TestAdjustInventoryConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	shop, vs := b.shop(t, "sapporo", "single_brand", "MILK-1")
	v := vs[0]
	const writers = 32
	start := make(chan struct{})
	var wg sync.WaitGroup
	errc := make(chan error, writers)
	var want int64
	for i := range writers {
		delta := int64(i + 1)
		want += delta
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, _, err := b.cmds.AdjustInventory(ctx, commands.AdjustInventory{Tenant: shop.Tenant, By: b.by, Variant: &v, Delta: &delta, Reason: fmt.Sprintf("writer %d", i)})
			errc <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errc)
	for err := range errc {
		require.NoError(t, err)
	}
	envs := b.events(t, shop.Tenant, v)
	require.Len(t, envs, writers)
	last := envs[writers-1].Data.(inventory.Adjusted)
	require.Equal(t, want, last.OnHand)
	require.Equal(t, want, last.Available)
}

// A command id (an Idempotency-Key) applies once.
func TestAdjustInventoryIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	shop, vs := b.shop(t, "hakata", "single_brand", "RAMEN-1")
	by := b.by
	by.CommandID = uuid.Must(uuid.NewV7())
	c := commands.AdjustInventory{Tenant: shop.Tenant, By: by, Variant: &vs[0], Delta: ptr(5), Reason: "delivery"}
	_, _, err := b.cmds.AdjustInventory(ctx, c)
	require.NoError(t, err)
	_, res, err := b.cmds.AdjustInventory(ctx, c)
	require.ErrorIs(t, err, eventstore.ErrDuplicate)
	require.True(t, res.Last.IsZero())
	envs := b.events(t, shop.Tenant, vs[0])
	require.Len(t, envs, 1)
	require.Equal(t, int64(5), envs[0].Data.(inventory.Adjusted).OnHand)
}
