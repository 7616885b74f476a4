package eventstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/eventstore"
)

// A permanent claim's owner is looked up once per store: after a committed
// transaction saw it, Tx.Owner answers from memory (the row deleted behind
// the store's back still answers). A claim of a rolled-back transaction is
// not kept, and other kinds are always read.
func TestOwnerKeepsThePermanentClaimsItSawCommitted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	b.store.KeepOwners("fixed")
	scope, owner := b.tenant.UUID, uuid.Must(uuid.NewV7())
	owned := func(kind, value string) (uuid.UUID, bool) {
		var got uuid.UUID
		var ok bool
		_, err := b.store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
			var err error
			got, ok, err = tx.Owner(ctx, scope, kind, value)
			return err
		})
		require.NoError(t, err)
		return got, ok
	}
	claim := func(kind, value string) {
		_, err := b.store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
			return tx.Claim(ctx, scope, kind, value, owner)
		})
		require.NoError(t, err)
	}
	claim("fixed", "a")
	claim("loose", "a")
	// Declaring kinds while commands run (each service built on a shared
	// store declares its own) is safe.
	declared := make(chan struct{})
	go func() {
		defer close(declared)
		for range 100 {
			b.store.KeepOwners("fixed", "also-fixed")
		}
	}()
	owned("fixed", "a")
	<-declared
	for _, kind := range []string{"fixed", "loose"} {
		got, ok := owned(kind, "a")
		require.True(t, ok, kind)
		require.Equal(t, owner, got, kind)
	}
	_, err := b.pool.Exec(ctx, `DELETE FROM unique_claims WHERE scope = $1`, scope)
	require.NoError(t, err)
	got, ok := owned("fixed", "a")
	require.True(t, ok, "a permanent claim is answered from memory")
	require.Equal(t, owner, got)
	_, ok = owned("loose", "a")
	require.False(t, ok, "other kinds are read every time")

	// Seen inside a transaction that rolls back: not kept.
	rollback := errors.New("roll back")
	_, err = b.store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		if err := tx.Claim(ctx, scope, "fixed", "b", owner); err != nil {
			return err
		}
		got, ok, err := tx.Owner(ctx, scope, "fixed", "b")
		require.NoError(t, err)
		require.True(t, ok, "the transaction sees its own claim")
		require.Equal(t, owner, got)
		return rollback
	})
	require.ErrorIs(t, err, rollback)
	_, ok = owned("fixed", "b")
	require.False(t, ok, "a rolled-back claim is not kept")
}
