package database

import (
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/ids"
	"github.com/honten/honten/domain/tenant"
)

type widget struct{}

func (widget) Kind() string { return "widget" }

// The uuid codec encodes ids itself: the plan is the 16-byte one, not the
// database/sql fallback that formats a string and parses it back.
func TestUUIDsAreEncodedAsTheirBytes(t *testing.T) {
	m := pgtype.NewMap()
	RegisterUUID(m)
	for _, v := range []any{uuid.New(), ids.New[widget](), tenant.NewID()} {
		plan := m.PlanEncode(pgtype.UUIDOID, pgtype.BinaryFormatCode, v)
		require.IsType(t, uuidEncodePlan{}, plan, "%T", v)
		buf, err := plan.Encode(v, nil)
		require.NoError(t, err)
		require.Len(t, buf, 16)
	}
	var u uuid.UUID
	require.IsType(t, uuidScanPlan{}, m.PlanScan(pgtype.UUIDOID, pgtype.BinaryFormatCode, &u))
	var id ids.ID[widget]
	require.IsType(t, uuidScanPlan{}, m.PlanScan(pgtype.UUIDOID, pgtype.BinaryFormatCode, &id))
}
