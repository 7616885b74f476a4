// Package ids provides typed identifiers: one distinct Go type per aggregate,
// all backed by a UUIDv7, without writing the same methods for each.
//
// An aggregate package declares its ID once:
//
//	type kind struct{}
//	func (kind) Kind() string { return "order" }
//	type ID = ids.ID[kind]
//	func NewID() ID                    { return ids.New[kind]() }
//	func ParseID(s string) (ID, error) { return ids.Parse[kind](s) }
//
// An order.ID cannot be passed where a cart.ID is expected. JSON, text and
// database/sql (and so pgx) use the methods promoted from uuid.UUID.
//
// This package imports only the standard library and uuid.
package ids

import (
	"bytes"
	"fmt"

	"github.com/google/uuid"
)

// Kind names the aggregate an ID belongs to; it appears in error messages.
type Kind interface {
	Kind() string
}

// ID is an identifier of the aggregate kind K. The zero ID is "no id".
type ID[K Kind] struct {
	uuid.UUID
}

// New returns a fresh UUIDv7 identifier of kind K.
func New[K Kind]() ID[K] {
	return ID[K]{uuid.Must(uuid.NewV7())}
}

// From converts an untyped UUID to an ID of kind K.
func From[K Kind](u uuid.UUID) ID[K] {
	return ID[K]{u}
}

// Parse parses the canonical 36-character form of a UUID into an ID of kind K.
// It returns an error naming the kind when s is not a UUID.
func Parse[K Kind](s string) (ID[K], error) {
	var k K
	if len(s) != 36 {
		return ID[K]{}, fmt.Errorf("invalid %s id %q: not a UUID", k.Kind(), clip(s))
	}
	u, err := uuid.Parse(s)
	if err != nil {
		return ID[K]{}, fmt.Errorf("invalid %s id %q: not a UUID", k.Kind(), clip(s))
	}
	return ID[K]{u}, nil
}

// IsZero reports whether the ID is unset.
func (id ID[K]) IsZero() bool { return id.UUID == uuid.Nil }

// Kind returns the name of the aggregate kind.
func (id ID[K]) Kind() string {
	var k K
	return k.Kind()
}

// UnmarshalText parses a canonical UUID. It is stricter than uuid.UUID's:
// only the 36-character hyphenated form is accepted.
func (id *ID[K]) UnmarshalText(b []byte) error {
	v, err := Parse[K](string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// Compare orders two UUIDs by their bytes, which is the order of their
// canonical strings, without formatting them: -1, 0 or +1.
func Compare(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) }

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
