package tenant

import "github.com/honten/honten/domain/ids"

type kind struct{}

func (kind) Kind() string { return "tenant" }

// ID identifies a tenant: a single-brand shop or a mall.
type ID = ids.ID[kind]

// NewID returns a fresh tenant ID.
func NewID() ID { return ids.New[kind]() }

// ParseID parses a tenant ID.
func ParseID(s string) (ID, error) { return ids.Parse[kind](s) }
