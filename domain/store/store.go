package store

import (
	"time"

	"github.com/honten/honten/domain/aggregate"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/ids"
	"github.com/honten/honten/domain/tenant"
)

// StreamType is the event stream type of stores.
const StreamType = "store"

type kind struct{}

func (kind) Kind() string { return "store" }

type locationKind struct{}

func (locationKind) Kind() string { return "location" }

// ID identifies a store.
type ID = ids.ID[kind]

// NewID returns a fresh store ID.
func NewID() ID { return ids.New[kind]() }

// ParseID parses a store ID.
func ParseID(s string) (ID, error) { return ids.Parse[kind](s) }

// LocationID identifies a stock location (a warehouse, a shop floor).
type LocationID = ids.ID[locationKind]

// NewLocationID returns a fresh location ID.
func NewLocationID() LocationID { return ids.New[locationKind]() }

// ParseLocationID parses a location ID.
func ParseLocationID(s string) (LocationID, error) { return ids.Parse[locationKind](s) }

// LocationStatus says whether a location fulfils orders.
type LocationStatus string

// Location statuses.
const (
	LocationActive   LocationStatus = "active"
	LocationInactive LocationStatus = "inactive"
)

// ParseLocationStatus parses a location status.
func ParseLocationStatus(s string) (LocationStatus, error) {
	return errs.OneOf("status", s, []LocationStatus{LocationActive, LocationInactive})
}

// Created is a store's first event.
type Created struct {
	ID     ID        `json:"id"`
	Tenant tenant.ID `json:"tenant_id"`
	Code   Code      `json:"code"`
	Name   string    `json:"name"`
	At     time.Time `json:"at"`
}

// Renamed changes a store's name.
type Renamed struct {
	Name string    `json:"name"`
	At   time.Time `json:"at"`
}

// LocationAdded adds a stock location to the store.
type LocationAdded struct {
	Location LocationID     `json:"location_id"`
	Code     LocationCode   `json:"code"`
	Name     string         `json:"name"`
	Status   LocationStatus `json:"status"`
	At       time.Time      `json:"at"`
}

// LocationUpdated changes a location's name or status.
type LocationUpdated struct {
	Location LocationID     `json:"location_id"`
	Name     string         `json:"name"`
	Status   LocationStatus `json:"status"`
	At       time.Time      `json:"at"`
}

// EventName implements aggregate.Event.
func (Created) EventName() string { return "store.created.v1" }

// EventName implements aggregate.Event.
func (Renamed) EventName() string { return "store.renamed.v1" }

// EventName implements aggregate.Event.
func (LocationAdded) EventName() string { return "store.location_added.v1" }

// EventName implements aggregate.Event.
func (LocationUpdated) EventName() string { return "store.location_updated.v1" }

// Events lists the store events for the registry.
var Events = []aggregate.Event{Created{}, Renamed{}, LocationAdded{}, LocationUpdated{}}

// Errors.
var (
	ErrLocationNotFound = errs.NotFoundf("location")
	ErrDuplicateCode    = errs.InvalidFields(errs.FieldError{Field: "code", Message: "is already used by another location of this store"})
	ErrTooManyLocations = errs.Field("locations", "a store has at most 200 locations")
)

// Location is a place that holds stock.
type Location struct {
	ID     LocationID
	Code   LocationCode
	Name   string
	Status LocationStatus
}

// Store is a sales channel with its stock locations.
type Store struct {
	aggregate.Base
	id        ID
	tenant    tenant.ID
	code      Code
	name      string
	locations []Location
}

// ValidateName checks a store or location name, with the rules of
// tenant.ValidateName.
func ValidateName(name string) error { return tenant.ValidateName("name", name) }

// New creates a store.
func New(id ID, t tenant.ID, code Code, name string, now time.Time) (*Store, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	s := &Store{}
	s.record(Created{ID: id, Tenant: t, Code: code, Name: name, At: now.UTC()})
	return s, nil
}

// FromHistory rebuilds a store from its events, without validation.
func FromHistory(history []aggregate.Event) *Store {
	s := &Store{}
	for _, e := range history {
		s.apply(e)
	}
	s.Replayed(len(history))
	return s
}

// Rename changes the store's name.
func (s *Store) Rename(name string, now time.Time) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	if name != s.name {
		s.record(Renamed{Name: name, At: now.UTC()})
	}
	return nil
}

// AddLocation adds a location. Its code must be new in this store.
func (s *Store) AddLocation(id LocationID, code LocationCode, name string, status LocationStatus, now time.Time) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	for _, l := range s.locations {
		if l.Code == code {
			return ErrDuplicateCode
		}
	}
	if len(s.locations) >= 200 {
		return ErrTooManyLocations
	}
	s.record(LocationAdded{Location: id, Code: code, Name: name, Status: status, At: now.UTC()})
	return nil
}

// UpdateLocation changes a location's name or status (nil keeps it).
func (s *Store) UpdateLocation(id LocationID, name *string, status *LocationStatus, now time.Time) error {
	l, ok := s.Location(id)
	if !ok {
		return ErrLocationNotFound
	}
	n, st := l.Name, l.Status
	if name != nil {
		if err := ValidateName(*name); err != nil {
			return err
		}
		n = *name
	}
	if status != nil {
		st = *status
	}
	if n != l.Name || st != l.Status {
		s.record(LocationUpdated{Location: id, Name: n, Status: st, At: now.UTC()})
	}
	return nil
}

func (s *Store) record(e aggregate.Event) { s.apply(e); s.Record(e) }

func (s *Store) apply(e aggregate.Event) {
	switch e := e.(type) {
	case Created:
		s.id, s.tenant, s.code, s.name = e.ID, e.Tenant, e.Code, e.Name
	case Renamed:
		s.name = e.Name
	case LocationAdded:
		s.locations = append(s.locations, Location{ID: e.Location, Code: e.Code, Name: e.Name, Status: e.Status})
	case LocationUpdated:
		for i := range s.locations {
			if s.locations[i].ID == e.Location {
				s.locations[i].Name, s.locations[i].Status = e.Name, e.Status
			}
		}
	}
}

// ID returns the store's id.
func (s *Store) ID() ID { return s.id }

// Code returns the store's code.
func (s *Store) Code() Code { return s.code }

// Name returns the store's name.
func (s *Store) Name() string { return s.name }

// Locations returns the store's locations.
func (s *Store) Locations() []Location { return append([]Location(nil), s.locations...) }

// Location returns one location.
func (s *Store) Location(id LocationID) (Location, bool) {
	for _, l := range s.locations {
		if l.ID == id {
			return l, true
		}
	}
	return Location{}, false
}
