package database_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/internal/database"
)

func TestListedRowsNumbersTheParametersAndTheRows(t *testing.T) {
	require.Equal(t, "($1::uuid, 1)", database.ListedRows(1, "uuid"))
	require.Equal(t, "($1::uuid, $2::bigint, 1), ($3::uuid, $4::bigint, 2), ($5::uuid, $6::bigint, 3)",
		database.ListedRows(3, "uuid", "bigint"))
}
