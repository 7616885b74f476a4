// Package commands holds one handler per command — load the aggregate,
// let the domain decide, append what it recorded — as methods on Service,
// one file per command. A command struct names its tenant and its issuer
// (By) explicitly; nothing is read from the context but cancellation and an
// optional idempotent response recorder.
//
// Commands run in one short transaction (eventstore.Store.Do). The events
// insert is the first write; claims (unique values), command-side state
// (staff credentials) and the idempotent response come after it.
//
// It must not import http or projections.
package commands
