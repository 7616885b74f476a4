package postgres

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTypoCost(t *testing.T) {
	t.Parallel()
	require.Equal(t, 1, typoCost("headphnes", "headphones"))
	require.Equal(t, 1, typoCost("bakcpack", "backpack"))
	require.Equal(t, 1, typoCost("kettel", "kettle"))
	require.Equal(t, 2, typoCost("caturday", "saturday"), "a first-letter typo costs two")
	require.Equal(t, 0, typoBudget("mat"))
	require.Equal(t, 1, typoBudget("kettle"))
	require.Equal(t, 2, typoBudget("headphones"))
	require.Equal(t, 3, osa([]rune("abc"), []rune("")))
}
