package postgres_test

import (
	"flag"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/search/searchtest"
)

var updateRelevance = flag.Bool("update-relevance", false,
	"rewrite search/searchtest/testdata/relevance.json: the queries generated from the demo catalog and the recall measured now")

// TestRelevance measures recall@10 of the relevance set over the demo
// catalog and fails when a class drops below the recorded figure.
func TestRelevance(t *testing.T) {
	t.Parallel()
	gen := searchtest.GenerateRelevance()
	rep := searchtest.MeasureRelevance(t, backend, gen)
	t.Logf("recall@10 over the demo catalog (PostgreSQL backend):\n%s", rep.Table())
	for _, m := range rep.Misses {
		t.Log("miss:", m)
	}
	if *updateRelevance {
		require.NoError(t, searchtest.WriteRelevance(searchtest.RelevanceSet{
			Catalog:  "internal/demo.Catalog(1): the demo store's 1,200 products",
			Metric:   "recall@10: share of a query's wanted products among its first 10 hits, averaged per class",
			Recorded: rep.Recall, Queries: gen}))
		return
	}
	set, err := searchtest.ReadRelevance()
	require.NoError(t, err)
	require.Equal(t, set.Queries, gen, "relevance.json is out of date with the demo catalog: go test ./search/postgres -run TestRelevance -update-relevance")
	require.GreaterOrEqual(t, len(set.Queries), 100)
	for class, recorded := range set.Recorded {
		require.GreaterOrEqual(t, rep.Recall[class], recorded-1e-9, "recall@10 of class %s dropped below the recorded figure", class)
	}
	require.GreaterOrEqual(t, rep.Recall["overall"], 0.95)
	require.GreaterOrEqual(t, rep.Recall[searchtest.ClassVariantJA], 0.9)
}
