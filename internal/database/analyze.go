package database

import (
	"context"
	"fmt"
)

// Analyze refreshes the planner's statistics of the database's tables
// (ANALYZE) after a bulk load: the demo store, a benchmark's shop. Until
// autovacuum analyzes a table (within its naptime, a minute by default),
// PostgreSQL plans from what it knew of the table before the load, and a
// pooled connection keeps a generic plan it made then: one made while the
// log held a few pages read a shop's whole log for the last version of
// one stream. ANALYZE replaces the statistics and with them every cached
// plan that depends on them.
func Analyze(ctx context.Context, db Execer) error {
	if _, err := db.Exec(ctx, `ANALYZE`); err != nil {
		return fmt.Errorf("database: analyze: %w", err)
	}
	return nil
}
