package eventstore

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/aggregate"
	"github.com/honten/honten/domain/tenant"
)

// Event is a domain event (see package aggregate).
type Event = aggregate.Event

// Envelope is one stored event with everything the store knows about it.
type Envelope struct {
	Position      Position
	Tenant        tenant.ID
	StreamType    string
	StreamID      uuid.UUID
	Version       int64
	EventID       uuid.UUID
	Type          string
	SchemaVersion int
	Payload       json.RawMessage
	Metadata      map[string]string
	Actor         string
	CorrelationID uuid.UUID
	CausationID   uuid.UUID
	RecordedAt    time.Time
	// PersonalKey is the key the event's personal data is sealed under,
	// when it carries any and was unsealed (Registry.Unseal) or appended.
	PersonalKey uuid.UUID

	// Data is the decoded, upcast event when the reader decoded it (stream
	// loads do; the feed leaves it nil: use Registry.Decode).
	Data Event
}

// Stream names one aggregate's stream.
type Stream struct {
	Tenant tenant.ID
	Type   string
	ID     uuid.UUID
}

// Metadata is the envelope of a command's events: who, why, and for which tenant.
type Metadata struct {
	Tenant tenant.ID
	// Actor is the principal: "staff:<id>", "customer:<cart>", "system:<policy>".
	Actor string
	// Correlation ties together everything one request or flow caused.
	Correlation uuid.UUID
	// Causation is the event or command that caused these events.
	Causation uuid.UUID
	// CommandID, when set, makes the append idempotent: event ids derive from
	// it, so a retry of the same command appends nothing and fails with
	// ErrDuplicate.
	CommandID uuid.UUID
	// Extra is stored in the metadata column (request id, command name, ...).
	Extra map[string]string
}
