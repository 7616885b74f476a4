// Package customer is the customer account aggregate: an optional account a
// buyer signs up for, with a profile, an address book and a verified e-mail
// address that links their guest orders. Its personal data (e-mail, name,
// phone, addresses) is sealed in the event log under the customer's key;
// forgetting the customer destroys the key (package personal). It imports
// only the standard library, uuid and the domain packages.
package customer

import (
	"time"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/aggregate"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/ids"
	"github.com/honten/honten/domain/personal"
)

// StreamType is the event stream type of customers.
const StreamType = "customer"

type kind struct{}

func (kind) Kind() string { return "customer" }

// ID identifies a customer.
type ID = ids.ID[kind]

// NewID returns a fresh customer ID.
func NewID() ID { return ids.New[kind]() }

// ParseID parses a customer ID.
func ParseID(s string) (ID, error) { return ids.Parse[kind](s) }

// MaxAddresses is the size of an address book.
const MaxAddresses = 20

// Address is one entry of the address book: who receives, and where.
type Address struct {
	ID         uuid.UUID `json:"id"`
	Name       string    `json:"name"`
	Phone      string    `json:"phone"`
	PostalCode string    `json:"postal_code"`
	Prefecture string    `json:"prefecture"`
	City       string    `json:"city"`
	Line1      string    `json:"line1"`
	Line2      string    `json:"line2"`
}

// Registered is a customer's first event: the account was opened.
type Registered struct {
	Customer uuid.UUID `json:"customer_id"`
	Email    string    `json:"email"`
	Name     string    `json:"name"`
	At       time.Time `json:"at"`
}

// ProfileChanged records the customer's new name and phone.
type ProfileChanged struct {
	Customer uuid.UUID `json:"customer_id"`
	Name     string    `json:"name"`
	Phone    string    `json:"phone"`
	At       time.Time `json:"at"`
}

// AddressAdded adds an address to the address book. AddressID repeats
// Address.ID outside the personal data, so it survives an erasure.
type AddressAdded struct {
	Customer  uuid.UUID `json:"customer_id"`
	AddressID uuid.UUID `json:"address_id"`
	Address   Address   `json:"address"`
	At        time.Time `json:"at"`
}

// AddressRemoved removes an address from the address book.
type AddressRemoved struct {
	Address uuid.UUID `json:"address_id"`
	At      time.Time `json:"at"`
}

// EmailVerified records that the customer proved the account's e-mail is
// theirs. EmailKey is the key sealing guest orders placed with that e-mail:
// those orders, past and future, belong to the customer.
type EmailVerified struct {
	EmailKey uuid.UUID `json:"email_key_id"`
	At       time.Time `json:"at"`
}

// PasswordChanged records a new password (by a reset or by the customer).
type PasswordChanged struct {
	Reset bool      `json:"reset"`
	At    time.Time `json:"at"`
}

// Forgotten records that the customer's personal data was erased: the keys
// destroyed. The account is closed; the history stays.
type Forgotten struct {
	Keys []uuid.UUID `json:"key_ids"`
	At   time.Time   `json:"at"`
}

// EventName implements aggregate.Event.
func (Registered) EventName() string { return "customer.registered.v1" }

// EventName implements aggregate.Event.
func (ProfileChanged) EventName() string { return "customer.profile_changed.v1" }

// EventName implements aggregate.Event.
func (AddressAdded) EventName() string { return "customer.address_added.v1" }

// EventName implements aggregate.Event.
func (AddressRemoved) EventName() string { return "customer.address_removed.v1" }

// EventName implements aggregate.Event.
func (EmailVerified) EventName() string { return "customer.email_verified.v1" }

// EventName implements aggregate.Event.
func (PasswordChanged) EventName() string { return "customer.password_changed.v1" }

// EventName implements aggregate.Event.
func (Forgotten) EventName() string { return "customer.forgotten.v1" }

// PersonalSubject implements personal.Data.
func (e Registered) PersonalSubject() personal.Subject { return personal.Subject{Customer: e.Customer} }

// PersonalFields implements personal.Data.
func (Registered) PersonalFields() []string { return []string{"email", "name"} }

// Redacted implements personal.Data.
func (e Registered) Redacted() aggregate.Event {
	e.Email, e.Name = personal.Erased, personal.Erased
	return e
}

// PersonalSubject implements personal.Data.
func (e ProfileChanged) PersonalSubject() personal.Subject {
	return personal.Subject{Customer: e.Customer}
}

// PersonalFields implements personal.Data.
func (ProfileChanged) PersonalFields() []string { return []string{"name", "phone"} }

// Redacted implements personal.Data.
func (e ProfileChanged) Redacted() aggregate.Event {
	e.Name, e.Phone = personal.Erased, personal.Erased
	return e
}

// PersonalSubject implements personal.Data.
func (e AddressAdded) PersonalSubject() personal.Subject {
	return personal.Subject{Customer: e.Customer}
}

// PersonalFields implements personal.Data.
func (AddressAdded) PersonalFields() []string { return []string{"address"} }

// Redacted implements personal.Data.
func (e AddressAdded) Redacted() aggregate.Event {
	x := personal.Erased
	e.Address = Address{ID: e.AddressID, Name: x, Phone: x, PostalCode: x, Prefecture: x, City: x, Line1: x, Line2: x}
	return e
}

var (
	_ personal.Data = Registered{}
	_ personal.Data = ProfileChanged{}
	_ personal.Data = AddressAdded{}
)

// Events lists the customer events for the registry.
var Events = []aggregate.Event{Registered{}, ProfileChanged{}, AddressAdded{}, AddressRemoved{}, EmailVerified{}, PasswordChanged{}, Forgotten{}}

// Errors.
var (
	ErrNotFound        = errs.New(errs.KindNotFound, "customer_not_found", "no such customer")
	ErrAddressNotFound = errs.New(errs.KindNotFound, "address_not_found", "no such address")
	ErrAddressBookFull = errs.Conflict("address_book_full", "the address book is full: remove an address first")
	ErrForgotten       = errs.Conflict("customer_forgotten", "the customer was forgotten")
)

// Customer is a customer account.
type Customer struct {
	aggregate.Base
	id        uuid.UUID
	addresses map[uuid.UUID]bool
	verified  uuid.UUID // the e-mail key once verified
	forgotten bool
}

// Register opens an account; email and name are already validated.
func Register(id ID, email, name string, now time.Time) *Customer {
	c := &Customer{}
	c.record(Registered{Customer: id.UUID, Email: email, Name: name, At: now.UTC()})
	return c
}

// FromHistory rebuilds a customer from its events, without validation: it
// is the only path that skips it.
func FromHistory(history []aggregate.Event) *Customer {
	c := &Customer{}
	for _, e := range history {
		c.apply(e)
	}
	c.Replayed(len(history))
	return c
}

func (c *Customer) record(e aggregate.Event) { c.apply(e); c.Record(e) }

func (c *Customer) apply(e aggregate.Event) {
	switch e := e.(type) {
	case Registered:
		c.id = e.Customer
		c.addresses = map[uuid.UUID]bool{}
	case AddressAdded:
		c.addresses[e.AddressID] = true
	case AddressRemoved:
		delete(c.addresses, e.Address)
	case EmailVerified:
		c.verified = e.EmailKey
	case Forgotten:
		c.forgotten = true
		c.addresses = map[uuid.UUID]bool{}
	}
}

// ID returns the customer's id.
func (c *Customer) ID() uuid.UUID { return c.id }

// Forgotten reports whether the customer was forgotten.
func (c *Customer) Forgotten() bool { return c.forgotten }

// Verified reports whether the customer verified their e-mail.
func (c *Customer) Verified() bool { return c.verified != uuid.Nil }

// ChangeProfile records a new name and phone (validated). It returns
// ErrForgotten.
func (c *Customer) ChangeProfile(name, phone string, now time.Time) error {
	if c.forgotten {
		return ErrForgotten
	}
	c.record(ProfileChanged{Customer: c.id, Name: name, Phone: phone, At: now.UTC()})
	return nil
}

// AddAddress adds a (validated) address. It returns ErrAddressBookFull or
// ErrForgotten.
func (c *Customer) AddAddress(a Address, now time.Time) error {
	if c.forgotten {
		return ErrForgotten
	}
	if len(c.addresses) >= MaxAddresses {
		return ErrAddressBookFull
	}
	c.record(AddressAdded{Customer: c.id, AddressID: a.ID, Address: a, At: now.UTC()})
	return nil
}

// RemoveAddress removes an address. It returns ErrAddressNotFound or
// ErrForgotten.
func (c *Customer) RemoveAddress(id uuid.UUID, now time.Time) error {
	if c.forgotten {
		return ErrForgotten
	}
	if !c.addresses[id] {
		return ErrAddressNotFound
	}
	c.record(AddressRemoved{Address: id, At: now.UTC()})
	return nil
}

// VerifyEmail records the verified e-mail's key; a repeat is a no-op. It
// returns ErrForgotten.
func (c *Customer) VerifyEmail(key uuid.UUID, now time.Time) error {
	if c.forgotten {
		return ErrForgotten
	}
	if c.verified == key {
		return nil
	}
	c.record(EmailVerified{EmailKey: key, At: now.UTC()})
	return nil
}

// PasswordChanged records a new password. It returns ErrForgotten.
func (c *Customer) PasswordChanged(reset bool, now time.Time) error {
	if c.forgotten {
		return ErrForgotten
	}
	c.record(PasswordChanged{Reset: reset, At: now.UTC()})
	return nil
}

// Forget records the erasure of the customer's personal data under keys. A
// repeat is a no-op.
func (c *Customer) Forget(keys []uuid.UUID, now time.Time) {
	if c.forgotten {
		return
	}
	c.record(Forgotten{Keys: keys, At: now.UTC()})
}
