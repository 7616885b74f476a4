// Package personal names the personal data carried by events and the
// marker shown once it is forgotten. Events that carry names, e-mails,
// phones or addresses implement Data: the event store seals their personal
// fields under the subject's key, and forgetting the subject destroys that
// key (crypto-shredding, docs/adr/0007-crypto-shredding.md). It imports only
// the standard library, uuid and package aggregate.
package personal

import (
	"time"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/aggregate"
)

// Erased is what readers show in place of personal data whose key was
// destroyed.
const Erased = "[erased]"

// Subject is whose personal data an event carries: a customer account, or
// (for a guest) the buyer's e-mail address.
type Subject struct {
	Customer uuid.UUID
	Email    string
}

// Data is an event carrying personal data.
type Data interface {
	aggregate.Event
	// PersonalSubject names the data's subject.
	PersonalSubject() Subject
	// PersonalFields are the top-level JSON fields holding personal data.
	PersonalFields() []string
	// Redacted returns the event with every personal field replaced by Erased.
	Redacted() aggregate.Event
}

// KeyStreamType is the stream type of a personal key: its only event is
// KeyErased.
const KeyStreamType = "personal_key"

// KeyErased records that a subject's key was destroyed: read models replace
// the personal data they copied from events sealed under Key with Erased.
type KeyErased struct {
	Key uuid.UUID `json:"key_id"`
	At  time.Time `json:"at"`
}

// EventName implements aggregate.Event.
func (KeyErased) EventName() string { return "personal_data.erased.v1" }

// Events lists the events of this package for the registry.
var Events = []aggregate.Event{KeyErased{}}
