// Package staff holds staff accounts of the backoffice: identity, role,
// status. Passwords and sessions are not events (a hash must be erasable and
// sessions are short-lived); the events record who was invited, given which
// role, disabled, and when they signed in and out. It imports only the
// standard library and uuid.
package staff

import (
	"time"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/aggregate"
	"github.com/honten/honten/domain/contact"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/ids"
	"github.com/honten/honten/domain/tenant"
)

// StreamType is the event stream type of staff accounts.
const StreamType = "staff"

type kind struct{}

func (kind) Kind() string { return "staff" }

// ID identifies a staff account.
type ID = ids.ID[kind]

// NewID returns a fresh staff ID.
func NewID() ID { return ids.New[kind]() }

// ParseID parses a staff ID.
func ParseID(s string) (ID, error) { return ids.Parse[kind](s) }

// Role is what a staff member may do (the route × role matrix is in docs/rbac.md).
type Role string

// Roles, from most to least powerful.
const (
	Owner    Role = "owner"
	Admin    Role = "admin"
	Operator Role = "operator"
	Finance  Role = "finance"
	Vendor   Role = "vendor" // bound to one vendor of a mall
	Viewer   Role = "viewer"
)

// Roles lists every role.
var Roles = []Role{Owner, Admin, Operator, Finance, Vendor, Viewer}

// ParseRole parses a role.
func ParseRole(s string) (Role, error) { return errs.OneOf("role", s, Roles) }

// Status of an account.
type Status string

// Account statuses. A disabled account cannot sign in and its sessions end.
const (
	StatusActive   Status = "active"
	StatusDisabled Status = "disabled"
)

// ParseStatus parses "active" or "disabled". It returns an Invalid
// *errs.Error for the field "status" otherwise.
func ParseStatus(s string) (Status, error) {
	return errs.OneOf("status", s, []Status{StatusActive, StatusDisabled})
}

// Invited creates a staff account.
type Invited struct {
	ID            ID        `json:"id"`
	Tenant        tenant.ID `json:"tenant_id"`
	Email         string    `json:"email"`
	Name          string    `json:"name"`
	Role          Role      `json:"role"`
	Vendor        uuid.UUID `json:"vendor_id"`
	PlatformAdmin bool      `json:"platform_admin"`
	By            uuid.UUID `json:"by"`
	At            time.Time `json:"at"`
}

// RoleChanged gives the account another role (and vendor, for role vendor).
type RoleChanged struct {
	Role   Role      `json:"role"`
	Vendor uuid.UUID `json:"vendor_id"`
	At     time.Time `json:"at"`
}

// Renamed changes the display name.
type Renamed struct {
	Name string    `json:"name"`
	At   time.Time `json:"at"`
}

// Disabled closes the account.
type Disabled struct {
	At time.Time `json:"at"`
}

// Enabled reopens the account.
type Enabled struct {
	At time.Time `json:"at"`
}

// PasswordChanged records that the password was set (the hash is not an event).
type PasswordChanged struct {
	At time.Time `json:"at"`
}

// SignedIn records a successful sign-in.
type SignedIn struct {
	At time.Time `json:"at"`
}

// SignedOut records a sign-out.
type SignedOut struct {
	At time.Time `json:"at"`
}

// EventName implements aggregate.Event.
func (Invited) EventName() string { return "staff.invited.v1" }

// EventName implements aggregate.Event.
func (RoleChanged) EventName() string { return "staff.role_changed.v1" }

// EventName implements aggregate.Event.
func (Renamed) EventName() string { return "staff.renamed.v1" }

// EventName implements aggregate.Event.
func (Disabled) EventName() string { return "staff.disabled.v1" }

// EventName implements aggregate.Event.
func (Enabled) EventName() string { return "staff.enabled.v1" }

// EventName implements aggregate.Event.
func (PasswordChanged) EventName() string { return "staff.password_changed.v1" }

// EventName implements aggregate.Event.
func (SignedIn) EventName() string { return "staff.signed_in.v1" }

// EventName implements aggregate.Event.
func (SignedOut) EventName() string { return "staff.signed_out.v1" }

// Events lists the staff events for the registry.
var Events = []aggregate.Event{Invited{}, RoleChanged{}, Renamed{}, Disabled{}, Enabled{}, PasswordChanged{}, SignedIn{}, SignedOut{}}

// Errors.
var (
	ErrVendorRequired = errs.InvalidFields(errs.FieldError{Field: "vendor_id", Message: "is required for role vendor"})
	ErrVendorOnlyRole = errs.InvalidFields(errs.FieldError{Field: "vendor_id", Message: "is only allowed with role vendor"})
	ErrCannotGrant    = errs.Forbiddenf("your role cannot grant or change this role")
	ErrSelf           = errs.Conflict("cannot_change_self", "you cannot change your own role or disable yourself")
)

// Staff is a backoffice account.
type Staff struct {
	aggregate.Base
	id            ID
	tenant        tenant.ID
	email         string
	name          string
	role          Role
	vendor        uuid.UUID
	status        Status
	platformAdmin bool
}

// CanGrant reports whether a member with role by may give someone role r,
// or change someone who has role r: owners may do anything, admins anything
// but owners, nobody else manages staff.
func CanGrant(by, r Role) bool {
	switch by {
	case Owner:
		return true
	case Admin:
		return r != Owner
	}
	return false
}

func checkVendor(r Role, v uuid.UUID) error {
	if r == Vendor && v == uuid.Nil {
		return ErrVendorRequired
	}
	if r != Vendor && v != uuid.Nil {
		return ErrVendorOnlyRole
	}
	return nil
}

// Invite creates an account. by is the inviter (uuid.Nil for the command line).
func Invite(id ID, t tenant.ID, email contact.Email, name string, role Role, v uuid.UUID, platformAdmin bool, by uuid.UUID, now time.Time) (*Staff, error) {
	var c errs.Collector
	c.Merge("", tenant.ValidateName("name", name))
	c.Merge("", checkVendor(role, v))
	if err := c.Err(); err != nil {
		return nil, err
	}
	s := &Staff{}
	s.record(Invited{ID: id, Tenant: t, Email: email.String(), Name: name, Role: role, Vendor: v, PlatformAdmin: platformAdmin, By: by, At: now.UTC()})
	return s, nil
}

// FromHistory rebuilds an account from its events, without validation.
func FromHistory(history []aggregate.Event) *Staff {
	s := &Staff{}
	for _, e := range history {
		s.apply(e)
	}
	s.Replayed(len(history))
	return s
}

// ChangeRole gives the account role r (with vendor v for role vendor).
func (s *Staff) ChangeRole(r Role, v uuid.UUID, now time.Time) error {
	if err := checkVendor(r, v); err != nil {
		return err
	}
	if r != s.role || v != s.vendor {
		s.record(RoleChanged{Role: r, Vendor: v, At: now.UTC()})
	}
	return nil
}

// Rename changes the display name.
func (s *Staff) Rename(name string, now time.Time) error {
	if err := tenant.ValidateName("name", name); err != nil {
		return err
	}
	if name != s.name {
		s.record(Renamed{Name: name, At: now.UTC()})
	}
	return nil
}

// SetActive enables or disables the account.
func (s *Staff) SetActive(active bool, now time.Time) {
	switch {
	case active && s.status == StatusDisabled:
		s.record(Enabled{At: now.UTC()})
	case !active && s.status == StatusActive:
		s.record(Disabled{At: now.UTC()})
	}
}

// PasswordSet records a password change.
func (s *Staff) PasswordSet(now time.Time) { s.record(PasswordChanged{At: now.UTC()}) }

// SignIn records a sign-in.
func (s *Staff) SignIn(now time.Time) { s.record(SignedIn{At: now.UTC()}) }

// SignOut records a sign-out.
func (s *Staff) SignOut(now time.Time) { s.record(SignedOut{At: now.UTC()}) }

func (s *Staff) record(e aggregate.Event) { s.apply(e); s.Record(e) }

func (s *Staff) apply(e aggregate.Event) {
	switch e := e.(type) {
	case Invited:
		s.id, s.tenant, s.email, s.name, s.role, s.vendor, s.platformAdmin = e.ID, e.Tenant, e.Email, e.Name, e.Role, e.Vendor, e.PlatformAdmin
		s.status = StatusActive
	case RoleChanged:
		s.role, s.vendor = e.Role, e.Vendor
	case Renamed:
		s.name = e.Name
	case Disabled:
		s.status = StatusDisabled
	case Enabled:
		s.status = StatusActive
	}
}

// ID returns the account's id.
func (s *Staff) ID() ID { return s.id }

// Tenant returns the account's tenant.
func (s *Staff) Tenant() tenant.ID { return s.tenant }

// Email returns the sign-in e-mail address.
func (s *Staff) Email() string { return s.email }

// Name returns the display name.
func (s *Staff) Name() string { return s.name }

// Role returns the role.
func (s *Staff) Role() Role { return s.role }

// Vendor returns the vendor a vendor-role account is bound to.
func (s *Staff) Vendor() uuid.UUID { return s.vendor }

// Status returns active or disabled.
func (s *Staff) Status() Status { return s.status }

// PlatformAdmin reports whether the account may manage tenants.
func (s *Staff) PlatformAdmin() bool { return s.platformAdmin }
