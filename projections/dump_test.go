package projections_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/projections"
)

func TestDumpDiffComparesRowByRow(t *testing.T) {
	t.Parallel()
	a := projections.Dump{Tables: []string{"t", "u"}, Rows: map[string][]string{"t": {"(1,a)", "(2,b)", "(3,c)"}, "u": {"(x)"}}}
	require.Empty(t, a.Diff(a, 10))
	require.Equal(t, 4, a.Count())

	b := projections.Dump{Tables: []string{"t", "u"}, Rows: map[string][]string{"t": {"(1,a)", "(2,B)", "(3,c)", "(4,d)"}, "u": {"(x)"}}}
	require.Equal(t, []string{
		"t: 3 rows vs 4",
		"t: only after: (2,B)",
		"t: only before: (2,b)",
		"t: only after: (4,d)",
	}, a.Diff(b, 10))
	require.Len(t, a.Diff(b, 2), 2, "at most max differences")
	require.Equal(t, []string{"u: 1 rows vs 0", "u: only before: (x)"},
		a.Diff(projections.Dump{Tables: a.Tables, Rows: map[string][]string{"t": a.Rows["t"]}}, 10))
}
