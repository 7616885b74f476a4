package postgres_test

import (
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/projections/searchdocs"
	"github.com/honten/honten/search/postgres"
	"github.com/honten/honten/search/searchtest"
)

func backend(t *testing.T, pool *pgxpool.Pool, reg *eventstore.Registry) searchtest.Backend {
	return searchtest.Backend{Index: postgres.New(pool), Projectors: []projections.Projector{searchdocs.Projector{Registry: reg}}, QueryReadings: true}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	searchtest.Run(t, backend)
}
