package tenant

import (
	"bytes"
	"encoding/json"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/aggregate"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/money"
)

// StreamType is the event stream type of tenants.
const StreamType = "tenant"

// Type is the kind of tenant.
type Type string

// Tenant types.
const (
	SingleBrand Type = "single_brand"
	Mall        Type = "mall"
)

// ParseType parses a tenant type.
func ParseType(s string) (Type, error) {
	return errs.OneOf("type", s, []Type{SingleBrand, Mall})
}

// Created is the first event of a tenant. ImplicitVendor is the vendor
// created with it (a single-brand shop's own brand, a mall's house vendor)
// and DefaultStore its first store, so a single-brand shop never has to ask
// for either.
type Created struct {
	ID              ID             `json:"id"`
	Code            Code           `json:"code"`
	Name            string         `json:"name"`
	Type            Type           `json:"type"`
	DefaultCurrency money.Currency `json:"default_currency"`
	Settings        Settings       `json:"settings"`
	ImplicitVendor  uuid.UUID      `json:"implicit_vendor_id"`
	DefaultStore    uuid.UUID      `json:"default_store_id"`
	At              time.Time      `json:"at"`
}

// SettingsUpdated replaces the tenant's settings.
type SettingsUpdated struct {
	Settings Settings  `json:"settings"`
	At       time.Time `json:"at"`
}

// Renamed changes the tenant's display name.
type Renamed struct {
	Name string    `json:"name"`
	At   time.Time `json:"at"`
}

// EventName implements aggregate.Event.
func (Created) EventName() string { return "tenant.created.v1" }

// EventName implements aggregate.Event.
func (SettingsUpdated) EventName() string { return "tenant.settings_updated.v1" }

// EventName implements aggregate.Event.
func (Renamed) EventName() string { return "tenant.renamed.v1" }

// Events lists the tenant events for the registry.
var Events = []aggregate.Event{Created{}, SettingsUpdated{}, Renamed{}}

// Tenant is one shop or mall.
type Tenant struct {
	aggregate.Base
	id             ID
	code           Code
	name           string
	typ            Type
	currency       money.Currency
	settings       Settings
	implicitVendor uuid.UUID
	defaultStore   uuid.UUID
}

// ValidateName checks a display name for field: 1 to 100 characters. It is
// the rule of every name a shop gives (tenant, store, location, vendor,
// staff member).
func ValidateName(field, name string) error {
	if name == "" || utf8.RuneCountInString(name) > 100 {
		return errs.Field(field, "is required, at most 100 characters")
	}
	return nil
}

// New creates a tenant with default settings, naming its implicit vendor
// and default store (created in the same command).
// It returns Invalid errors for a bad name or an unsupported currency.
func New(id ID, code Code, name string, typ Type, currency money.Currency, implicitVendor, defaultStore uuid.UUID, now time.Time) (*Tenant, error) {
	var v errs.Collector
	v.Merge("name", ValidateName("", name))
	if !currency.Valid() {
		v.Add("default_currency", "is not a supported currency")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	t := &Tenant{}
	t.record(Created{ID: id, Code: code, Name: name, Type: typ, DefaultCurrency: currency,
		Settings: DefaultSettings(currency), ImplicitVendor: implicitVendor, DefaultStore: defaultStore, At: now.UTC()})
	return t, nil
}

// FromHistory rebuilds a tenant from its events. It is the only constructor
// that skips validation.
func FromHistory(history []aggregate.Event) *Tenant {
	t := &Tenant{}
	for _, e := range history {
		t.apply(e)
	}
	t.Replayed(len(history))
	return t
}

// UpdateSettings replaces the settings; nothing is recorded when they are unchanged.
func (t *Tenant) UpdateSettings(s Settings, now time.Time) error {
	if s.Hosts == nil {
		s.Hosts = []string{}
	}
	if err := s.Validate(t.currency); err != nil {
		return err
	}
	if sameJSON(s, t.settings) {
		return nil
	}
	t.record(SettingsUpdated{Settings: s, At: now.UTC()})
	return nil
}

// Rename changes the display name.
func (t *Tenant) Rename(name string, now time.Time) error {
	if err := ValidateName("name", name); err != nil {
		return err
	}
	if name != t.name {
		t.record(Renamed{Name: name, At: now.UTC()})
	}
	return nil
}

func (t *Tenant) record(e aggregate.Event) { t.apply(e); t.Record(e) }

func (t *Tenant) apply(e aggregate.Event) {
	switch e := e.(type) {
	case Created:
		t.id, t.code, t.name, t.typ, t.currency = e.ID, e.Code, e.Name, e.Type, e.DefaultCurrency
		t.settings, t.implicitVendor, t.defaultStore = e.Settings, e.ImplicitVendor, e.DefaultStore
	case SettingsUpdated:
		t.settings = e.Settings
	case Renamed:
		t.name = e.Name
	}
}

// ID returns the tenant's id.
func (t *Tenant) ID() ID { return t.id }

// Code returns the tenant's code.
func (t *Tenant) Code() Code { return t.code }

// Name returns the display name.
func (t *Tenant) Name() string { return t.name }

// Type returns single_brand or mall.
func (t *Tenant) Type() Type { return t.typ }

// Currency returns the default currency.
func (t *Tenant) Currency() money.Currency { return t.currency }

// Settings returns the settings.
func (t *Tenant) Settings() Settings { return t.settings }

// ImplicitVendor returns the id of the vendor created with the tenant.
func (t *Tenant) ImplicitVendor() uuid.UUID { return t.implicitVendor }

// sameJSON compares two values by their JSON form (money values compare by
// amount, not by internal representation).
func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// DefaultStore returns the id of the store created with the tenant.
func (t *Tenant) DefaultStore() uuid.UUID { return t.defaultStore }
