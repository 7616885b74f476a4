package eventstore_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/internal/pgtest"
)

// Typed ids travel through pgx as uuid parameters and scan back, also as
// arrays and NULLs.
func TestTypedIDsRoundTripThroughPgx(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	id := tenant.NewID()

	var back tenant.ID
	require.NoError(t, pool.QueryRow(ctx, `SELECT $1::uuid`, id).Scan(&back))
	require.Equal(t, id, back)

	var text string
	require.NoError(t, pool.QueryRow(ctx, `SELECT $1::uuid::text`, id).Scan(&text))
	require.Equal(t, id.String(), text)

	var ptr *tenant.ID
	require.NoError(t, pool.QueryRow(ctx, `SELECT NULL::uuid`).Scan(&ptr))
	require.Nil(t, ptr)
	require.NoError(t, pool.QueryRow(ctx, `SELECT $1::uuid`, id).Scan(&ptr))
	require.Equal(t, id, *ptr)

	var n int
	require.NoError(t, pool.QueryRow(ctx, `SELECT cardinality($1::uuid[])`, []tenant.ID{id, tenant.NewID()}).Scan(&n))
	require.Equal(t, 2, n)
}
