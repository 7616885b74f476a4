package postgres_test

import (
	"flag"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/projections/searchdocs"
	"github.com/honten/honten/search/postgres"
	"github.com/honten/honten/search/searchtest"
)

var updateRelevance = flag.Bool("update-relevance", false,
	"rewrite search/searchtest/testdata/relevance.json: the queries generated from the demo catalog and the recall measured now")

// TestRelevance measures recall@10 and MRR of the relevance set over the
// demo catalog and fails when a class drops below the recorded figures.
func TestRelevance(t *testing.T) {
	t.Parallel()
	gen := searchtest.GenerateRelevance()
	rep := searchtest.MeasureRelevance(t, backend, gen)
	t.Logf("recall@10 and MRR over the demo catalog (PostgreSQL backend):\n%s", rep.Table())
	for _, m := range rep.Misses {
		t.Log("miss:", m)
	}
	if *updateRelevance {
		require.NoError(t, searchtest.WriteRelevance(searchtest.RelevanceSet{
			Catalog: "internal/demo.Catalog(1): the demo store's 1,200 products",
			Metric: "recall@10: share of a query's wanted products among its first 10 hits, averaged per class; " +
				"MRR: mean reciprocal rank of the first wanted product among the first 10 hits",
			Recorded: rep.Recall, RecordedMRR: rep.MRR, Queries: gen}))
		return
	}
	set, err := searchtest.ReadRelevance()
	require.NoError(t, err)
	require.Equal(t, set.Queries, gen, "relevance.json is out of date with the demo catalog: go test ./search/postgres -run TestRelevance -update-relevance")
	require.GreaterOrEqual(t, len(set.Queries), 100)
	for class, recorded := range set.Recorded {
		require.GreaterOrEqual(t, rep.Recall[class], recorded-1e-9, "recall@10 of class %s dropped below the recorded figure", class)
	}
	for class, recorded := range set.RecordedMRR {
		require.GreaterOrEqual(t, rep.MRR[class], recorded-1e-9, "MRR of class %s dropped below the recorded figure", class)
	}
	require.GreaterOrEqual(t, rep.Queries[searchtest.ClassReading], 40)
	require.GreaterOrEqual(t, rep.Recall[searchtest.ClassReading], 0.95)
	require.GreaterOrEqual(t, rep.Recall["overall"], 0.95)
	require.GreaterOrEqual(t, rep.Recall[searchtest.ClassVariantJA], 0.9)
}

// TestRelevanceWithoutReadings measures the same set with readings off
// (surfaces only, the search before readings): no class may do better
// than with readings, and the reading class needs them.
func TestRelevanceWithoutReadings(t *testing.T) {
	t.Parallel()
	gen := searchtest.GenerateRelevance()
	off := searchtest.MeasureRelevance(t, func(t *testing.T, pool *pgxpool.Pool, reg *eventstore.Registry) searchtest.Backend {
		return searchtest.Backend{Index: postgres.New(pool).WithoutReadings(),
			Projectors: []projections.Projector{searchdocs.Projector{Registry: reg, WithoutReadings: true}}}
	}, gen)
	t.Logf("recall@10 and MRR over the demo catalog without readings:\n%s", off.Table())
	set, err := searchtest.ReadRelevance()
	require.NoError(t, err)
	for class, on := range set.Recorded {
		require.GreaterOrEqual(t, on, off.Recall[class]-1e-9, "recall@10 of class %s is better without readings", class)
	}
	for class, on := range set.RecordedMRR {
		require.GreaterOrEqual(t, on, off.MRR[class]-1e-9, "MRR of class %s is better without readings", class)
	}
	require.Less(t, off.Recall[searchtest.ClassReading], 0.5, "the reading class must need readings")
}
