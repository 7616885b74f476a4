package pgtest_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/internal/pgtest"
	"github.com/honten/honten/migrations"
)

func TestNewGivesMigratedIsolatedDatabases(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := pgtest.New(t), pgtest.New(t)

	n, err := migrations.Pending(ctx, a)
	require.NoError(t, err)
	require.Zero(t, n)

	_, err = a.Exec(ctx, `CREATE TABLE only_in_a (x int)`)
	require.NoError(t, err)
	var exists bool
	require.NoError(t, b.QueryRow(ctx, `SELECT to_regclass('only_in_a') IS NOT NULL`).Scan(&exists))
	require.False(t, exists)

	var ctype string
	require.NoError(t, a.QueryRow(ctx, `SELECT datctype FROM pg_database WHERE datname = current_database()`).Scan(&ctype))
	require.Equal(t, "C.UTF-8", ctype)
}
