package database_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/ids"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/internal/pgtest"
)

type gadget struct{}

func (gadget) Kind() string { return "gadget" }

// Round trips through the server, as the pools Open makes send and read
// them: plain and typed ids, arrays, pointers, NULLs.
func TestUUIDsRoundTrip(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	u, typed, tn := uuid.New(), ids.New[gadget](), tenant.NewID()
	list := []uuid.UUID{uuid.New(), uuid.New()}
	typedList := []ids.ID[gadget]{ids.New[gadget](), ids.New[gadget]()}
	var nilPtr *uuid.UUID

	var gotU uuid.UUID
	var gotTyped ids.ID[gadget]
	var gotTenant tenant.ID
	var gotList []uuid.UUID
	var gotTypedList []ids.ID[gadget]
	var gotPtr, gotNilPtr *uuid.UUID
	var gotText string
	require.NoError(t, pool.QueryRow(ctx, `SELECT $1::uuid, $2::uuid, $3::uuid, $4::uuid[], $5::uuid[], $1::uuid, $6::uuid, $2::uuid::text`,
		u, typed, tn, list, typedList, nilPtr).
		Scan(&gotU, &gotTyped, &gotTenant, &gotList, &gotTypedList, &gotPtr, &gotNilPtr, &gotText))
	require.Equal(t, u, gotU)
	require.Equal(t, typed, gotTyped)
	require.Equal(t, tn, gotTenant)
	require.Equal(t, list, gotList)
	require.Equal(t, typedList, gotTypedList)
	require.Equal(t, u, *gotPtr)
	require.Nil(t, gotNilPtr)
	require.Equal(t, typed.String(), gotText)

	// A NULL leaves a uuid.UUID as it was, as its own Scan did.
	kept := uuid.New()
	got := kept
	require.NoError(t, pool.QueryRow(ctx, `SELECT NULL::uuid`).Scan(&got))
	require.Equal(t, kept, got)

	// Text results (the simple protocol) read the same.
	var viaText uuid.UUID
	require.NoError(t, pool.QueryRow(ctx, `SELECT $1::uuid`, pgx.QueryExecModeSimpleProtocol, u).Scan(&viaText))
	require.Equal(t, u, viaText)
}
