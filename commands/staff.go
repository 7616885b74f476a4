package commands

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/honten/honten/domain/contact"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/staff"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/domain/vendor"
	"github.com/honten/honten/eventstore"
)

var staffRepo = repo(staff.StreamType, staff.FromHistory)

// SessionTTL is how long a staff session lasts.
const SessionTTL = 12 * time.Hour

// Errors of staff commands.
var (
	ErrEmailTaken       = errs.InvalidFields(errs.FieldError{Field: "email", Message: "is already used by another staff member"})
	ErrLastOwner        = errs.Conflict("last_owner", "a shop must keep at least one active owner")
	ErrBadCredentials   = errs.Unauthenticatedf("wrong e-mail or password")
	ErrSessionInvalid   = errs.Unauthenticatedf("the session is missing, expired or revoked")
	ErrVendorRoleInMall = errs.InvalidFields(errs.FieldError{Field: "role", Message: "role vendor exists only in malls"})
)

// Principal is an authenticated staff member.
type Principal struct {
	Staff         staff.ID
	Tenant        tenant.ID
	Email         string
	Role          staff.Role
	Vendor        uuid.UUID
	PlatformAdmin bool
}

// InviteStaff creates a staff account.
type InviteStaff struct {
	Tenant tenant.ID
	By     By
	// ByRole is the inviter's role (owners may grant anything, admins all but owner).
	ByRole        staff.Role
	Email         string
	Name          string
	Role          string
	Vendor        *vendor.ID
	PlatformAdmin bool
	// Password is set when given; otherwise a random one is generated and returned once.
	Password string
}

// StaffInvited is the result of InviteStaff.
type StaffInvited struct {
	Staff    staff.ID
	Password string // the initial password, shown once
}

// InviteStaff creates the account. It returns Invalid errors (bad fields, a
// taken e-mail), staff.ErrCannotGrant, or ErrNotFound for an unknown vendor.
func (s *Service) InviteStaff(ctx context.Context, c InviteStaff) (StaffInvited, Result, error) {
	var v errs.Collector
	email, err := contact.ParseEmail(c.Email)
	v.Merge("", err)
	role, err := staff.ParseRole(c.Role)
	v.Merge("", err)
	pw := c.Password
	if pw == "" {
		pw = NewPassword()
	} else {
		v.Merge("", ValidatePassword("password", pw))
	}
	if err := v.Err(); err != nil {
		return StaffInvited{}, Result{}, err
	}
	if !staff.CanGrant(c.ByRole, role) {
		return StaffInvited{}, Result{}, staff.ErrCannotGrant
	}
	hash, err := s.hashPassword(ctx, pw)
	if err != nil {
		return StaffInvited{}, Result{}, err
	}
	id := staff.ID{UUID: c.By.DerivedID(0)}
	var vid uuid.UUID
	if c.Vendor != nil {
		vid = c.Vendor.UUID
	}
	now := s.Now()
	out := StaffInvited{Staff: id, Password: pw}
	_, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (StaffInvited, error) {
		if err := s.checkVendorRole(ctx, tx, c.Tenant, role, vid); err != nil {
			return out, err
		}
		m, err := staff.Invite(id, c.Tenant, email, c.Name, role, vid, c.PlatformAdmin, c.By.Staff, now)
		if err != nil {
			return out, err
		}
		if _, err := staffRepo.Save(ctx, tx, c.Tenant, id.UUID, m, nil, c.By.metadata(c.Tenant)); err != nil {
			return out, err
		}
		const q = `INSERT INTO staff_accounts (id, tenant_id, email, role, vendor_id, status, platform_admin, password_hash, password_changed_at)
VALUES ($1, $2, $3, $4, $5, 'active', $6, $7, $8)`
		if _, err := tx.Exec(ctx, q, id, c.Tenant, email.String(), role, nullUUID(vid), c.PlatformAdmin, hash, now); err != nil {
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.ConstraintName == "staff_accounts_email_uq" {
				return out, ErrEmailTaken
			}
			return out, err
		}
		return out, nil
	})
	return out, Result{Result: res, ID: id.UUID, Version: 1}, err
}

func (s *Service) checkVendorRole(ctx context.Context, tx *eventstore.Tx, t tenant.ID, role staff.Role, vid uuid.UUID) error {
	if role != staff.Vendor {
		return nil
	}
	tn, err := tenants.Read(ctx, tx, t, t.UUID)
	if err != nil {
		return err
	}
	if tn.Type() != tenant.Mall {
		return ErrVendorRoleInMall
	}
	if vid == uuid.Nil {
		return staff.ErrVendorRequired
	}
	if _, err := vendors.Load(ctx, tx, t, vid); err != nil {
		if errors.Is(err, eventstore.ErrNotFound) {
			return errs.InvalidFields(errs.FieldError{Field: "vendor_id", Message: "is not a vendor of this shop"})
		}
		return err
	}
	return nil
}

// UpdateStaff changes a staff account; nil fields stay.
type UpdateStaff struct {
	Tenant tenant.ID
	By     By
	ByRole staff.Role
	// ByPlatformAdmin: only platform administrators change platform
	// administrators; to anyone else they do not exist.
	ByPlatformAdmin bool
	// Session is the caller's own session token: when callers change their
	// own password, every other session of theirs ends and this one stays.
	Session   string
	Staff     staff.ID
	IfVersion *int64
	Name      *string
	Role      *string
	Vendor    *vendor.ID
	Status    *string
	Password  *string
}

// UpdateStaff applies c. Owners change anyone, admins anyone but owners;
// nobody changes their own role or status; the last active owner stays;
// platform administrators are changed only by platform administrators.
// It returns ErrNotFound (also for a platform administrator when the caller
// is not one), staff.ErrCannotGrant, staff.ErrSelf, ErrLastOwner,
// Invalid errors or ErrVersionConflict.
func (s *Service) UpdateStaff(ctx context.Context, c UpdateStaff) (Result, error) {
	var v errs.Collector
	var role *staff.Role
	if c.Role != nil {
		r, err := staff.ParseRole(*c.Role)
		v.Merge("", err)
		role = &r
	}
	var active *bool
	if c.Status != nil {
		st, err := staff.ParseStatus(*c.Status)
		if err == nil {
			a := st == staff.StatusActive
			active = &a
		}
		v.Merge("", err)
	}
	var hash string
	if c.Password != nil {
		v.Merge("", ValidatePassword("password", *c.Password))
	}
	if err := v.Err(); err != nil {
		return Result{}, err
	}
	if c.Password != nil {
		var err error
		if hash, err = s.hashPassword(ctx, *c.Password); err != nil {
			return Result{}, err
		}
	}
	now := s.Now()
	version, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (int64, error) {
		m, err := staffRepo.Load(ctx, tx, c.Tenant, c.Staff.UUID)
		if err != nil {
			return 0, err
		}
		if m.PlatformAdmin() && !c.ByPlatformAdmin {
			return 0, fmt.Errorf("staff %s: %w", c.Staff, eventstore.ErrNotFound)
		}
		self := c.By.Staff == c.Staff.UUID
		if !staff.CanGrant(c.ByRole, m.Role()) && !(self && role == nil && active == nil) {
			return 0, staff.ErrCannotGrant
		}
		if self && (role != nil && *role != m.Role() || active != nil && !*active) {
			return 0, staff.ErrSelf
		}
		if c.Name != nil {
			if err := m.Rename(*c.Name, now); err != nil {
				return 0, err
			}
		}
		wasOwner := m.Role() == staff.Owner && m.Status() == staff.StatusActive
		if role != nil || c.Vendor != nil {
			r := m.Role()
			if role != nil {
				r = *role
			}
			if !staff.CanGrant(c.ByRole, r) {
				return 0, staff.ErrCannotGrant
			}
			vid := m.Vendor()
			if c.Vendor != nil {
				vid = c.Vendor.UUID
			}
			if r != staff.Vendor {
				vid = uuid.Nil
			}
			if err := s.checkVendorRole(ctx, tx, c.Tenant, r, vid); err != nil {
				return 0, err
			}
			if err := m.ChangeRole(r, vid, now); err != nil {
				return 0, err
			}
		}
		if active != nil {
			m.SetActive(*active, now)
		}
		if c.Password != nil {
			m.PasswordSet(now)
		}
		stillOwner := m.Role() == staff.Owner && m.Status() == staff.StatusActive
		if _, err := staffRepo.Save(ctx, tx, c.Tenant, c.Staff.UUID, m, c.IfVersion, c.By.metadata(c.Tenant)); err != nil {
			return 0, err
		}
		if wasOwner && !stillOwner {
			// Lock the other owners' rows so two demotions cannot race past the check.
			var others int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM staff_accounts
				WHERE tenant_id = $1 AND role = 'owner' AND status = 'active' AND id <> $2 FOR UPDATE) o`, c.Tenant, c.Staff).Scan(&others); err != nil {
				return 0, err
			}
			if others == 0 {
				return 0, ErrLastOwner
			}
		}
		status := m.Status()
		const q = `UPDATE staff_accounts SET role = $3, vendor_id = $4, status = $5,
	password_hash = coalesce(nullif($6, ''), password_hash),
	password_changed_at = CASE WHEN $6 <> '' THEN $7 ELSE password_changed_at END
WHERE tenant_id = $1 AND id = $2`
		if _, err := tx.Exec(ctx, q, c.Tenant, c.Staff, m.Role(), nullUUID(m.Vendor()), status, hash, now); err != nil {
			return 0, err
		}
		if status == staff.StatusDisabled || c.Password != nil {
			// A disabled account, or one whose password changed, is signed
			// out everywhere but in the session that changed its own password.
			keep := []byte{}
			if self && status != staff.StatusDisabled && c.Session != "" {
				keep = tokenHash(c.Session)
			}
			if _, err := tx.Exec(ctx, `DELETE FROM staff_sessions WHERE staff_id = $1 AND token_hash <> $2`, c.Staff, keep); err != nil {
				return 0, err
			}
		}
		return m.Version(), nil
	})
	return Result{Result: res, ID: c.Staff.UUID, Version: version}, err
}

func newToken() (string, []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	token := "hst_" + base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(token))
	return token, sum[:]
}

func tokenHash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// Authenticate returns the principal of a live session token. It returns
// ErrSessionInvalid for unknown, expired or revoked tokens and disabled accounts.
func (s *Service) Authenticate(ctx context.Context, token string) (Principal, error) {
	if !strings.HasPrefix(token, "hst_") || len(token) > 100 {
		return Principal{}, ErrSessionInvalid
	}
	const q = `SELECT a.id, a.tenant_id, a.email, a.role, a.vendor_id, a.platform_admin
FROM staff_sessions s JOIN staff_accounts a ON a.id = s.staff_id
WHERE s.token_hash = $1 AND s.expires_at > $2 AND a.status = 'active'`
	var p Principal
	var vid *uuid.UUID
	err := s.store.PoolFor(ctx).QueryRow(ctx, q, tokenHash(token), s.Now()).Scan(&p.Staff, &p.Tenant, &p.Email, &p.Role, &vid, &p.PlatformAdmin)
	if errors.Is(err, pgx.ErrNoRows) {
		return Principal{}, ErrSessionInvalid
	}
	if err != nil {
		return Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	if vid != nil {
		p.Vendor = *vid
	}
	return p, nil
}

// SignOut ends the session of token.
func (s *Service) SignOut(ctx context.Context, token string) error {
	p, err := s.Authenticate(ctx, token)
	if err != nil {
		return err
	}
	now := s.Now()
	_, err = s.store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		m, err := staffRepo.Load(ctx, tx, p.Tenant, p.Staff.UUID)
		if err != nil {
			return err
		}
		m.SignOut(now)
		if _, err := staffRepo.Save(ctx, tx, p.Tenant, p.Staff.UUID, m, nil, eventstore.Metadata{Tenant: p.Tenant, Actor: "staff:" + p.Staff.String()}); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM staff_sessions WHERE token_hash = $1`, tokenHash(token))
		return err
	})
	return err
}

func nullUUID(u uuid.UUID) *uuid.UUID {
	if u == uuid.Nil {
		return nil
	}
	return &u
}
