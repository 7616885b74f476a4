// Package archive exports the event log to files and imports it into an
// empty database: JSON lines (one event a line, in global order), rotated
// every N events, each file with its SHA-256 in a sidecar and in the
// directory's manifest.json. An export resumes after its last complete file
// (or from a given position); an import refuses a non-empty database unless
// it holds a prefix of the same export, in which case it continues after it.
//
// Import keeps every event's id, tenant, stream, version, global position,
// payload and metadata as written (schema versions included: upcasting
// happens on read, never on copy), and the global order: events are written
// in the export's order, one transaction per run of rising positions.
//
// Beside the events an export carries the personal-data keys (KeysName)
// and the command side's state (StateName: StateTables, the credentials,
// claims, counters and indexes the commands need and no projector
// rebuilds), both from one snapshot in which the log ends at the last
// exported event; import writes the state once the whole log is in, so a
// restored database takes orders where the source stopped.
//
// Like package eventstore, it is allowed to read and write the events table;
// it must not import http, projections or commands.
package archive
