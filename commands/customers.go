package commands

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/contact"
	"github.com/honten/honten/domain/customer"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/personal"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	mails "github.com/honten/honten/integrations/email"
)

var customers = repo(customer.StreamType, customer.FromHistory)

// Customer session and token lifetimes.
const (
	CustomerSessionTTL = 30 * 24 * time.Hour
	resetTokenTTL      = time.Hour
	verifyTokenTTL     = 7 * 24 * time.Hour
)

// Errors of customer commands.
var (
	ErrCustomerEmailTaken = errs.Conflict("email_taken", "an account with this e-mail already exists: sign in or reset the password")
	ErrCustomerSession    = errs.Unauthenticatedf("sign in as a customer: the session is missing, unknown or expired")
	ErrCustomerToken      = errs.Field("token", "is invalid, used or expired")
)

// resetLimit bounds password-reset requests per client (and per e-mail):
// each sends a message.
var resetLimit = throttleRule{prefix: "reset:", max: 5, step: 15 * time.Minute, cap: 15 * time.Minute}

// throttleEmail is how a customer's e-mail appears in login_throttle: a
// hash, so the table holds no address.
func throttleEmail(t tenant.ID, email string) string {
	sum := sha256.Sum256([]byte(t.String() + "|" + strings.ToLower(email)))
	return "customer:" + hex.EncodeToString(sum[:16])
}

func newCustomerToken(prefix string) (string, []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	token := prefix + base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(token))
	return token, sum[:]
}

// issueToken stores a one-time token of purpose ("password_reset" or
// "verify_email") for customer id and writes the e-mail that carries it
// through the shop's e-mail templates (integrations/email: built-in
// Japanese or the shop's override, sent by the outbox's sender like the
// order e-mails). name is the customer's name when known.
func issueToken(ctx context.Context, tx *eventstore.Tx, t tenant.ID, id uuid.UUID, to, name, purpose string, now time.Time) error {
	prefix, ttl, template := "hcr_", resetTokenTTL, mails.TemplatePasswordReset
	if purpose == "verify_email" {
		prefix, ttl, template = "hcv_", verifyTokenTTL, mails.TemplateVerifyEmail
	}
	token, hash := newCustomerToken(prefix)
	if _, err := tx.Exec(ctx, `INSERT INTO customer_tokens (token_hash, tenant_id, customer_id, purpose, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		hash, t, id, purpose, now, now.Add(ttl)); err != nil {
		return fmt.Errorf("issue %s token: %w", purpose, err)
	}
	shop, err := tenants.Read(ctx, tx, t, t.UUID)
	if err != nil {
		return fmt.Errorf("issue %s token: %w", purpose, err)
	}
	_, err = mails.WriteCustomerCode(ctx, tx, shop, mails.CustomerCode{Template: template, DedupKey: purpose + ":" + hex.EncodeToString(hash[:12]),
		Customer: id, To: to, Name: name, Code: token, ExpiresAt: now.Add(ttl)})
	return err
}

// holdCustomer checks, in tx, that the signed-in customer of a command
// still has an account and holds it until tx ends, so a concurrent forget
// (which deletes the account) waits for the command's events and cannot
// be followed by data sealed under a new key. It returns ErrCustomerSession.
func holdCustomer(ctx context.Context, tx *eventstore.Tx, t tenant.ID, id uuid.UUID) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM customer_accounts WHERE tenant_id = $1 AND id = $2 FOR SHARE`, t, id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrCustomerSession
	}
	return err
}

// RegisterCustomer opens a customer account.
type RegisterCustomer struct {
	Tenant   tenant.ID
	By       By
	Email    string
	Password string
	Name     string
}

// CustomerRegistered is the opened account.
type CustomerRegistered struct {
	ID    customer.ID
	Email string
	Name  string
}

// RegisterCustomer opens the account and e-mails (through the outbox) a
// token that verifies the address. It returns Invalid errors (email, name,
// password), ErrCustomerEmailTaken and ErrSignInBusy.
func (s *Service) RegisterCustomer(ctx context.Context, c RegisterCustomer) (CustomerRegistered, Result, error) {
	var v errs.Collector
	email, err := contact.ParseEmail(c.Email)
	v.Merge("", err)
	name, err := contact.ParseName(c.Name)
	v.Merge("", err)
	v.Merge("", ValidatePassword("password", c.Password))
	if err := v.Err(); err != nil {
		return CustomerRegistered{}, Result{}, err
	}
	var hash string
	if err := s.hashing.do(ctx, func() { hash, err = HashPassword(c.Password) }); err != nil {
		return CustomerRegistered{}, Result{}, err
	}
	if err != nil {
		return CustomerRegistered{}, Result{}, err
	}
	id := customer.ID{UUID: c.By.DerivedID(0)}
	now := s.Now()
	out, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (CustomerRegistered, error) {
		x := customer.Register(id, email.String(), name.String(), now)
		md := c.By.metadata(c.Tenant)
		md.Actor = "customer:" + id.String()
		if _, err := customers.Save(ctx, tx, c.Tenant, id.UUID, x, nil, md); err != nil {
			return CustomerRegistered{}, err
		}
		_, err := tx.Exec(ctx, `INSERT INTO customer_accounts (id, tenant_id, email, password_hash, created_at, password_changed_at) VALUES ($1, $2, $3, $4, $5, $5)`,
			id, c.Tenant, email.String(), hash, now)
		if uniqueViolated(err) {
			return CustomerRegistered{}, ErrCustomerEmailTaken
		}
		if err != nil {
			return CustomerRegistered{}, err
		}
		if err := issueToken(ctx, tx, c.Tenant, id.UUID, email.String(), name.String(), "verify_email", now); err != nil {
			return CustomerRegistered{}, err
		}
		return CustomerRegistered{ID: id, Email: email.String(), Name: name.String()}, nil
	})
	return out, Result{Result: res, ID: id.UUID, Version: 1}, err
}

func uniqueViolated(err error) bool {
	var pe interface{ SQLState() string }
	return err != nil && errors.As(err, &pe) && pe.SQLState() == "23505"
}

// CustomerSignIn authenticates a customer by e-mail and password in one shop.
type CustomerSignIn struct {
	Tenant   tenant.ID
	Email    string
	Password string
	// Client identifies the caller for throttling (its IP address).
	Client string
}

// CustomerSession is an issued customer bearer token.
type CustomerSession struct {
	Token     string
	ExpiresAt time.Time
	Customer  customer.ID
}

// SignInCustomer checks the credentials, throttled like staff sign-in
// (docs/adr/0004), and opens a session. It returns ErrBadCredentials (also
// for unknown e-mails), ErrTooManyAttempts or ErrSignInBusy.
func (s *Service) SignInCustomer(ctx context.Context, c CustomerSignIn) (CustomerSession, error) {
	email := strings.ToLower(strings.TrimSpace(c.Email))
	pool := s.store.PoolFor(ctx)
	now := s.Now()
	at := newAttempt(throttleEmail(c.Tenant, email), c.Client)
	if err := at.take(ctx, pool, now); err != nil {
		if at.taken > 0 {
			if gerr := at.giveBack(ctx, pool); gerr != nil {
				return CustomerSession{}, gerr
			}
		}
		return CustomerSession{}, err
	}
	var id uuid.UUID
	hash := dummyHash
	err := pool.QueryRow(ctx, `SELECT id, password_hash FROM customer_accounts WHERE tenant_id = $1 AND lower(email) = $2`, c.Tenant, email).Scan(&id, &hash)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return CustomerSession{}, err
	}
	ok := false
	if err := s.hashing.do(ctx, func() { ok = CheckPassword(hash, c.Password) }); err != nil {
		if gerr := at.giveBack(ctx, pool); gerr != nil {
			return CustomerSession{}, gerr
		}
		return CustomerSession{}, err
	}
	if !ok || id == uuid.Nil {
		return CustomerSession{}, ErrBadCredentials
	}
	if err := at.succeeded(ctx, pool); err != nil {
		return CustomerSession{}, err
	}
	token, th := newCustomerToken("hcs_")
	sess := CustomerSession{Token: token, ExpiresAt: now.Add(CustomerSessionTTL), Customer: customer.ID{UUID: id}}
	_, err = pool.Exec(ctx, `INSERT INTO customer_sessions (token_hash, customer_id, tenant_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		th, id, c.Tenant, now, sess.ExpiresAt)
	return sess, err
}

// SignOutCustomer ends the session of token (a no-op when unknown).
func (s *Service) SignOutCustomer(ctx context.Context, t tenant.ID, token string) error {
	_, err := s.store.PoolFor(ctx).Exec(ctx, `DELETE FROM customer_sessions WHERE tenant_id = $1 AND token_hash = $2`, t, tokenHash(token))
	return err
}

// AuthenticateCustomer returns the customer of a live session token in
// shop t. It returns ErrCustomerSession.
func (s *Service) AuthenticateCustomer(ctx context.Context, t tenant.ID, token string) (customer.ID, error) {
	var id uuid.UUID
	err := s.store.PoolFor(ctx).QueryRow(ctx, `SELECT customer_id FROM customer_sessions WHERE tenant_id = $1 AND token_hash = $2 AND expires_at > $3`,
		t, tokenHash(token), s.Now()).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return customer.ID{}, ErrCustomerSession
	}
	return customer.ID{UUID: id}, err
}

// UpdateCustomerProfile changes a customer's name and phone (nil: unchanged).
type UpdateCustomerProfile struct {
	Tenant   tenant.ID
	By       By
	Customer customer.ID
	Name     *string
	Phone    *string
}

// UpdateCustomerProfile validates and records the profile. It returns
// Invalid errors (name, phone), customer.ErrNotFound and customer.ErrForgotten.
func (s *Service) UpdateCustomerProfile(ctx context.Context, c UpdateCustomerProfile) (Result, error) {
	now := s.Now()
	var v errs.Collector
	var name, phone string
	if c.Name != nil {
		n, err := contact.ParseName(*c.Name)
		v.Merge("", err)
		name = n.String()
	}
	if c.Phone != nil && strings.TrimSpace(*c.Phone) != "" {
		p, err := contact.ParsePhone(*c.Phone)
		v.Merge("", err)
		phone = p.String()
	}
	if err := v.Err(); err != nil {
		return Result{}, err
	}
	x, res, err := s.updateCustomer(ctx, c.Tenant, c.Customer, c.By, func(ctx context.Context, tx *eventstore.Tx, x *customer.Customer, cur currentProfile) error {
		if c.Name == nil {
			name = cur.name
		}
		if c.Phone == nil {
			phone = cur.phone
		}
		return x.ChangeProfile(name, phone, now)
	})
	return Result{Result: res, ID: c.Customer.UUID, Version: version(x)}, err
}

func version(x *customer.Customer) int64 {
	if x == nil {
		return 0
	}
	return x.Version()
}

// currentProfile is the customer's name and phone as last recorded.
type currentProfile struct{ name, phone string }

// updateCustomer loads the customer in a transaction, runs fn and saves.
func (s *Service) updateCustomer(ctx context.Context, t tenant.ID, id customer.ID, by By,
	fn func(ctx context.Context, tx *eventstore.Tx, x *customer.Customer, cur currentProfile) error,
) (*customer.Customer, eventstore.Result, error) {
	return run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (*customer.Customer, error) {
		envs, err := tx.Load(ctx, t, id.UUID)
		if err != nil {
			return nil, err
		}
		if len(envs) == 0 || envs[0].StreamType != customer.StreamType {
			return nil, customer.ErrNotFound
		}
		var cur currentProfile
		history := make([]eventstore.Event, len(envs))
		for i, e := range envs {
			history[i] = e.Data
			switch d := e.Data.(type) {
			case customer.Registered:
				cur.name = d.Name
			case customer.ProfileChanged:
				cur.name, cur.phone = d.Name, d.Phone
			}
		}
		x := customer.FromHistory(history)
		if x.Forgotten() {
			return nil, customer.ErrNotFound
		}
		if err := fn(ctx, tx, x, cur); err != nil {
			return nil, err
		}
		md := by.metadata(t)
		if _, err := customers.Save(ctx, tx, t, id.UUID, x, nil, md); err != nil {
			return nil, err
		}
		return x, nil
	})
}

// AddCustomerAddress adds an address to a customer's address book.
type AddCustomerAddress struct {
	Tenant   tenant.ID
	By       By
	Customer customer.ID
	Name     string
	Phone    string
	Address  contactAddress
}

// contactAddress is an address as entered.
type contactAddress = struct {
	PostalCode, Prefecture, City, Line1, Line2 string
}

// AddCustomerAddress validates the address like checkout's buyer fields and
// records it. It returns the new address, Invalid errors (name, phone,
// address.*), customer.ErrAddressBookFull and customer.ErrNotFound.
func (s *Service) AddCustomerAddress(ctx context.Context, c AddCustomerAddress) (customer.Address, Result, error) {
	var v errs.Collector
	name, err := contact.ParseName(c.Name)
	v.Merge("", err)
	phone, err := contact.ParsePhone(c.Phone)
	v.Merge("", err)
	a, err := contact.NewAddress(c.Address.PostalCode, c.Address.Prefecture, c.Address.City, c.Address.Line1, c.Address.Line2)
	v.Merge("address", err)
	if err := v.Err(); err != nil {
		return customer.Address{}, Result{}, err
	}
	addr := customer.Address{ID: c.By.DerivedID(0), Name: name.String(), Phone: phone.String(), PostalCode: a.PostalCode.String(),
		Prefecture: a.Prefecture.String(), City: a.City, Line1: a.Line1, Line2: a.Line2}
	now := s.Now()
	x, res, err := s.updateCustomer(ctx, c.Tenant, c.Customer, c.By, func(_ context.Context, _ *eventstore.Tx, x *customer.Customer, _ currentProfile) error {
		return x.AddAddress(addr, now)
	})
	return addr, Result{Result: res, ID: addr.ID, Version: version(x)}, err
}

// RemoveCustomerAddress removes an address from the address book. It
// returns customer.ErrAddressNotFound and customer.ErrNotFound.
func (s *Service) RemoveCustomerAddress(ctx context.Context, t tenant.ID, by By, id customer.ID, address uuid.UUID) (Result, error) {
	now := s.Now()
	x, res, err := s.updateCustomer(ctx, t, id, by, func(_ context.Context, _ *eventstore.Tx, x *customer.Customer, _ currentProfile) error {
		return x.RemoveAddress(address, now)
	})
	return Result{Result: res, ID: id.UUID, Version: version(x)}, err
}

// RequestPasswordReset e-mails a reset token (through the outbox, in the
// same transaction) when the e-mail has an account in the shop, and does
// nothing otherwise: the caller cannot tell which. It returns only
// ErrTooManyAttempts (per client and per e-mail) or an internal error.
func (s *Service) RequestPasswordReset(ctx context.Context, t tenant.ID, email, client string) error {
	email = strings.ToLower(strings.TrimSpace(email))
	now := s.Now()
	pool := s.store.PoolFor(ctx)
	for _, key := range []string{"client:" + client, throttleEmail(t, email)} {
		ok, wait, err := resetLimit.take(ctx, pool, now, key)
		if err != nil {
			return err
		}
		if !ok {
			return errs.WithRetryAfter(ErrTooManyAttempts, wait)
		}
	}
	_, err := s.store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		var id uuid.UUID
		var to string
		err := tx.QueryRow(ctx, `SELECT id, email FROM customer_accounts WHERE tenant_id = $1 AND lower(email) = $2`, t, email).Scan(&id, &to)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		return issueToken(ctx, tx, t, id, to, "", "password_reset", now)
	})
	return err
}

// useToken marks a live token of purpose used and returns its customer. It
// returns ErrCustomerToken.
func useToken(ctx context.Context, tx *eventstore.Tx, t tenant.ID, token, purpose string, now time.Time) (customer.ID, string, error) {
	var id uuid.UUID
	var email string
	err := tx.QueryRow(ctx, `UPDATE customer_tokens k SET used_at = $4
FROM customer_accounts a
WHERE k.tenant_id = $1 AND k.token_hash = $2 AND k.purpose = $3 AND k.used_at IS NULL AND k.expires_at > $4 AND a.id = k.customer_id
RETURNING k.customer_id, a.email`, t, tokenHash(token), purpose, now).Scan(&id, &email)
	if errors.Is(err, pgx.ErrNoRows) {
		return customer.ID{}, "", ErrCustomerToken
	}
	return customer.ID{UUID: id}, email, err
}

// ConfirmPasswordReset sets a new password with an e-mailed reset token and
// ends every session of the account. It returns Invalid errors (password,
// token: ErrCustomerToken).
func (s *Service) ConfirmPasswordReset(ctx context.Context, t tenant.ID, by By, token, password string) (Result, error) {
	if err := ValidatePassword("password", password); err != nil {
		return Result{}, err
	}
	if len(token) > 200 {
		return Result{}, ErrCustomerToken
	}
	var hash string
	var herr error
	if err := s.hashing.do(ctx, func() { hash, herr = HashPassword(password) }); err != nil {
		return Result{}, err
	}
	if herr != nil {
		return Result{}, herr
	}
	now := s.Now()
	var id customer.ID
	x, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (*customer.Customer, error) {
		var err error
		if id, _, err = useToken(ctx, tx, t, token, "password_reset", now); err != nil {
			return nil, err
		}
		x, err := customers.Load(ctx, tx, t, id.UUID)
		if err != nil {
			return nil, err
		}
		if err := x.PasswordChanged(true, now); err != nil {
			return nil, err
		}
		if _, err := customers.Save(ctx, tx, t, id.UUID, x, nil, by.metadata(t)); err != nil {
			return nil, err
		}
		if _, err := tx.Exec(ctx, `UPDATE customer_accounts SET password_hash = $3, password_changed_at = $4 WHERE tenant_id = $1 AND id = $2`, t, id, hash, now); err != nil {
			return nil, err
		}
		_, err = tx.Exec(ctx, `DELETE FROM customer_sessions WHERE tenant_id = $1 AND customer_id = $2`, t, id)
		return x, err
	})
	return Result{Result: res, ID: id.UUID, Version: version(x)}, err
}

// VerifyCustomerEmail confirms the account's e-mail with the e-mailed token:
// the guest orders placed with that e-mail (sealed under its key) are the
// customer's from now on, in every read model and every replay. It returns
// ErrCustomerToken.
func (s *Service) VerifyCustomerEmail(ctx context.Context, t tenant.ID, by By, token string) (Result, error) {
	if len(token) > 200 {
		return Result{}, ErrCustomerToken
	}
	now := s.Now()
	var id customer.ID
	x, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (*customer.Customer, error) {
		var email string
		var err error
		if id, email, err = useToken(ctx, tx, t, token, "verify_email", now); err != nil {
			return nil, err
		}
		x, err := customers.Load(ctx, tx, t, id.UUID)
		if err != nil {
			return nil, err
		}
		// The e-mail's key: the one sealing its guest orders, or a new one
		// that will seal those to come.
		key, err := tx.PersonalKey(ctx, t, personal.Subject{Email: email})
		if err != nil {
			return nil, err
		}
		if err := x.VerifyEmail(key, now); err != nil {
			return nil, err
		}
		if _, err := customers.Save(ctx, tx, t, id.UUID, x, nil, by.metadata(t)); err != nil {
			return nil, err
		}
		_, err = tx.Exec(ctx, `UPDATE customer_accounts SET email_verified_at = $3 WHERE tenant_id = $1 AND id = $2`, t, id, now)
		return x, err
	})
	return Result{Result: res, ID: id.UUID, Version: version(x)}, err
}

// Forgotten is what a forget erased.
type Forgotten struct {
	// Keys is how many keys were destroyed.
	Keys int
	// Emails is how many outbox messages were erased.
	Emails int64
}

// ForgetCustomer erases a customer's personal data without rewriting
// history: it destroys the customer's key and the key of their e-mail (their
// guest orders), appends personal_data.erased.v1 for each (read models
// replace what they copied with the marker) and customer.forgotten.v1,
// deletes the credentials, sessions and tokens, and erases the customer's
// outbox messages. A repeat erases nothing more. It returns
// customer.ErrNotFound.
func (s *Service) ForgetCustomer(ctx context.Context, t tenant.ID, by By, id customer.ID) (Forgotten, Result, error) {
	now := s.Now()
	out, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (Forgotten, error) {
		x, err := customers.Load(ctx, tx, t, id.UUID)
		if errors.Is(err, eventstore.ErrNotFound) {
			return Forgotten{}, customer.ErrNotFound
		}
		if err != nil {
			return Forgotten{}, err
		}
		if x.Forgotten() {
			return Forgotten{}, nil
		}
		var email string
		if err := tx.QueryRow(ctx, `SELECT email FROM customer_accounts WHERE tenant_id = $1 AND id = $2`, t, id).Scan(&email); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return Forgotten{}, err
		}
		subjects := []personal.Subject{{Customer: id.UUID}}
		if email != "" {
			subjects = append(subjects, personal.Subject{Email: email})
		}
		keys, err := tx.LivePersonalKeys(ctx, t, subjects...)
		if err != nil {
			return Forgotten{}, err
		}
		x.Forget(keys, now)
		if _, err := customers.Save(ctx, tx, t, id.UUID, x, nil, by.metadata(t)); err != nil {
			return Forgotten{}, err
		}
		f, err := eraseKeys(ctx, tx, t, by, keys, now)
		if err != nil {
			return Forgotten{}, err
		}
		if f.Emails, err = eraseEmails(ctx, tx, t, id.UUID, email); err != nil {
			return Forgotten{}, err
		}
		_, err = tx.Exec(ctx, `DELETE FROM customer_accounts WHERE tenant_id = $1 AND id = $2`, t, id)
		return f, err
	})
	return out, Result{Result: res, ID: id.UUID, Version: res.Version(id.UUID)}, err
}

// ForgetGuest erases the personal data of a guest buyer, by the e-mail they
// ordered with: the key of that e-mail is destroyed and their outbox
// messages erased. It returns Invalid (email) and, when the e-mail has no
// live key, Forgotten{} (nothing to erase).
func (s *Service) ForgetGuest(ctx context.Context, t tenant.ID, by By, email string) (Forgotten, Result, error) {
	addr, err := contact.ParseEmail(email)
	if err != nil {
		return Forgotten{}, Result{}, err
	}
	now := s.Now()
	out, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (Forgotten, error) {
		keys, err := tx.LivePersonalKeys(ctx, t, personal.Subject{Email: addr.String()})
		if err != nil {
			return Forgotten{}, err
		}
		f, err := eraseKeys(ctx, tx, t, by, keys, now)
		if err != nil {
			return Forgotten{}, err
		}
		f.Emails, err = eraseEmails(ctx, tx, t, uuid.Nil, addr.String())
		return f, err
	})
	return out, Result{Result: res}, err
}

// eraseKeys appends personal_data.erased.v1 to each key's stream and
// destroys the keys.
func eraseKeys(ctx context.Context, tx *eventstore.Tx, t tenant.ID, by By, keys []uuid.UUID, now time.Time) (Forgotten, error) {
	md := by.metadata(t)
	md.CommandID = uuid.Nil
	for _, k := range keys {
		if _, err := tx.Append(ctx, eventstore.Stream{Tenant: t, Type: personal.KeyStreamType, ID: k}, 0,
			[]eventstore.Event{personal.KeyErased{Key: k, At: now.UTC()}}, md); err != nil {
			return Forgotten{}, err
		}
	}
	if _, err := tx.ErasePersonalKeys(ctx, t, keys); err != nil {
		return Forgotten{}, err
	}
	return Forgotten{Keys: len(keys)}, nil
}

// eraseEmails erases the outbox messages about customer id or sent to
// email: address, subject and bodies become the marker.
func eraseEmails(ctx context.Context, tx *eventstore.Tx, t tenant.ID, id uuid.UUID, email string) (int64, error) {
	tag, err := tx.Exec(ctx, `UPDATE email_outbox SET to_address = $4, subject = $4, text_body = $4, html_body = '', status = 'erased', last_error = NULL
WHERE tenant_id = $1 AND status <> 'erased' AND ((customer_id = $2 AND $2 <> '00000000-0000-0000-0000-000000000000'::uuid) OR ($3 <> '' AND lower(to_address) = lower($3)))`,
		t, id, email, personal.Erased)
	if err != nil {
		return 0, fmt.Errorf("erase e-mails: %w", err)
	}
	return tag.RowsAffected(), nil
}
