// Package eventstore is Honten's PostgreSQL event store: the append-only
// events table (the only source of truth), appends with an expected version,
// stream loads with upcasting, the gap-safe global feed, and the event
// registry. It is the only package that reads or writes the events,
// idempotency and watermill tables; subpackage bus wires watermill onto it.
//
// Global order is (tx_id, global_position), read only below
// pg_snapshot_xmin(pg_current_snapshot()): an event whose transaction commits
// late is delivered late, never skipped. An append is the first write of its
// transaction and carries an ordering guard, so that order never inverts a
// stream's versions.
//
// It must not import http, projections or commands.
package eventstore
