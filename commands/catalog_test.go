package commands_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/catalog"
)

// Changing one field of a category keeps the others, its place among its
// siblings included.
func TestUpdateCategoryKeepsWhatItDoesNotChange(t *testing.T) {
	ctx := context.Background()
	b := setup(t)
	shop, _ := b.shop(t, "kyoto", "single_brand", "TEA-1")
	by := commands.By{Actor: "test", CommandID: uuid.Must(uuid.NewV7())}
	id, _, err := b.cmds.CreateCategory(ctx, commands.CreateCategory{Tenant: shop.Tenant, By: by, Name: "Tea", Handle: "tea", Position: 3})
	require.NoError(t, err)
	name := "Green tea"
	_, err = b.cmds.UpdateCategory(ctx, commands.UpdateCategory{Tenant: shop.Tenant, By: commands.By{Actor: "test"}, Category: id, Name: &name})
	require.NoError(t, err)

	envs, err := b.store.Load(ctx, b.store.Pool(), shop.Tenant, id.UUID)
	require.NoError(t, err)
	require.Len(t, envs, 2)
	updated, ok := envs[1].Data.(catalog.CategoryUpdated)
	require.True(t, ok, "got %T", envs[1].Data)
	require.Equal(t, "Green tea", updated.Name)
	require.Equal(t, "tea", updated.Handle)
	require.Nil(t, updated.Parent)
	require.Equal(t, 3, updated.Position)
}
