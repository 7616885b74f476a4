package commands_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/pgtest"
)

// AddToCart by SKU follows the SKU when it moves to another variant, even
// when another process moved it (the service remembers what a SKU resolved
// to and checks it against the product it reads).
func TestAddToCartBySKUFollowsTheSKUWhereverItMoves(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newShop(t, 10, false)
	other := commands.New(eventstore.New(b.store.Pool(), app.Registry()), b.clock.now)
	ten := b.tenant.Tenant
	by := func() commands.By { return commands.By{Actor: "test", CommandID: uuid.Must(uuid.NewV7())} }
	add := func(sku string) (uuid.UUID, error) {
		t.Helper()
		c, _, err := b.svc.CreateCart(ctx, commands.CreateCart{Tenant: ten, By: by()})
		require.NoError(t, err)
		ch, _, err := b.svc.AddToCart(ctx, commands.AddToCart{Tenant: ten, By: by(), Cart: c.Cart, Token: c.Token, SKU: sku, Quantity: 1})
		return ch.Variant, err
	}
	rename := func(v catalog.VariantID, sku string) {
		t.Helper()
		_, _, err := other.UpdateVariant(ctx, commands.UpdateVariant{Tenant: ten, By: by(), Variant: v, SKU: &sku})
		require.NoError(t, err)
	}

	got, err := add("SNKR-1")
	require.NoError(t, err)
	require.Equal(t, b.variant.UUID, got)
	got, err = add("snkr-1")
	require.NoError(t, err)
	require.Equal(t, b.variant.UUID, got, "SKUs are matched without case")

	// Another process renames the variant and gives its old SKU to a new one.
	rename(b.variant, "SNKR-1B")
	pb := by()
	_, _, err = other.CreateProduct(ctx, commands.CreateProduct{Tenant: ten, By: pb, Title: "復刻スニーカー", Status: "active",
		Variants: []commands.VariantInput{{SKU: "SNKR-1", Price: money.MustNew(decimal.NewFromInt(21000), money.JPY)}}})
	require.NoError(t, err)
	reissued := catalog.VariantID{UUID: pb.DerivedID(100)}
	got, err = add("SNKR-1")
	require.NoError(t, err)
	require.Equal(t, reissued.UUID, got, "the SKU now names the new variant")
	got, err = add("SNKR-1B")
	require.NoError(t, err)
	require.Equal(t, b.variant.UUID, got)

	// A SKU no variant holds any more is unknown.
	rename(reissued, "SNKR-2")
	_, err = add("SNKR-1")
	require.ErrorIs(t, err, commands.ErrUnknownSKU)
	got, err = add("SNKR-2")
	require.NoError(t, err)
	require.Equal(t, reissued.UUID, got)
}

// An add-to-cart on a cart the process keeps reads the cart's newer events
// and checks its product and the shop in the round trip that begins the
// transaction, and sends its append with the COMMIT: two round trips.
func TestAnAddToCartTakesTwoRoundTrips(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sent := &pgtest.Sent{}
	st := eventstore.New(pgtest.Traced(t, sent), app.Registry())
	svc := commands.New(st, nil)
	by := func() commands.By { return commands.By{Actor: "test", CommandID: uuid.Must(uuid.NewV7())} }
	created, _, err := svc.CreateTenant(ctx, commands.CreateTenant{By: by(), Code: "trips", Name: "trips", Type: "single_brand"})
	require.NoError(t, err)
	ten := created.Tenant
	_, _, err = svc.CreateProduct(ctx, commands.CreateProduct{Tenant: ten, By: by(), Title: "抹茶", Status: "active",
		Variants: []commands.VariantInput{{SKU: "TEA-1", Price: money.MustNew(decimal.NewFromInt(1200), money.JPY)}}})
	require.NoError(t, err)
	c, _, err := svc.CreateCart(ctx, commands.CreateCart{Tenant: ten, By: by()})
	require.NoError(t, err)
	add := func() int {
		t.Helper()
		sent.Watch(nil)
		_, _, err := svc.AddToCart(ctx, commands.AddToCart{Tenant: ten, By: by(), Cart: c.Cart, Token: c.Token, SKU: "TEA-1", Quantity: 1})
		require.NoError(t, err)
		return sent.Counts().Trips
	}
	add() // the process learns the cart, the SKU and its product
	require.EqualValues(t, 2, add())
	require.EqualValues(t, 2, add())
}
