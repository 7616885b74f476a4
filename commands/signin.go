package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

// Errors of sign-in.
var (
	ErrTenantAmbiguous = errs.InvalidFields(errs.FieldError{Field: "tenant", Message: "these credentials fit several shops: name one with the X-Tenant header"})
	ErrTooManyAttempts = errs.New(errs.KindRateLimited, "too_many_attempts", "too many sign-in attempts; try again later")
	ErrSignInBusy      = errs.New(errs.KindRateLimited, "sign_in_busy", "too many sign-ins at once; try again in a moment")
)

// SignIn authenticates a staff member by e-mail and password.
type SignIn struct {
	// Tenant is the shop signed in to; zero when the client did not name
	// one (then the e-mail and password must fit exactly one shop).
	Tenant   tenant.ID
	Email    string
	Password string
	// Client identifies the caller for throttling (its IP address).
	Client string
}

// Session is an issued bearer token.
type Session struct {
	Token     string
	ExpiresAt time.Time
	Principal Principal
}

// Sign-in throttling (docs/adr/0004-sign-in-throttling.md). Every attempt
// is counted before its password is hashed, atomically in the database, so
// parallel guesses cannot overtake the count:
//   - per account and client: 5 attempts in 15 minutes, then that client is
//     locked out of that account for 15 minutes;
//   - per client: 50 attempts in 15 minutes across accounts, then 15 minutes;
//   - per account, from every client together: 10 attempts in 15 minutes,
//     then each further attempt waits for the one before it — 1 s, 2 s, 4 s,
//     … up to a minute. The right password from another client is never
//     denied for longer than that minute.
//
// A successful sign-in gives its attempt back.
var (
	pairLimit    = throttleRule{prefix: "pair:", max: 5, step: 15 * time.Minute, cap: 15 * time.Minute}
	clientLimit  = throttleRule{prefix: "client:", max: 50, step: 15 * time.Minute, cap: 15 * time.Minute}
	accountLimit = throttleRule{prefix: "acct:", max: 10, step: time.Second, cap: time.Minute}
)

// throttleWindow is the window attempts are counted in.
const throttleWindow = 15 * time.Minute

// throttleRule limits attempts on one kind of key: max attempts per window;
// the max-th and every later one lock the key for step·2^(n−max), at most cap.
type throttleRule struct {
	prefix    string
	max       int
	step, cap time.Duration
}

// take counts an attempt on key under rule, or refuses it (with the time
// left) while the key is locked. The check and the count are one statement.
func (rule throttleRule) take(ctx context.Context, q eventstore.Querier, now time.Time, key string) (bool, time.Duration, error) {
	const upsert = `
INSERT INTO login_throttle AS t (key, failures, window_start, locked_until)
VALUES ($1, 1, $2::timestamptz, CASE WHEN 1 >= $4::int THEN $2::timestamptz + $5::interval END)
ON CONFLICT (key) DO UPDATE SET
  failures     = CASE WHEN t.window_start < $2::timestamptz - $3::interval THEN 1 ELSE t.failures + 1 END,
  window_start = CASE WHEN t.window_start < $2::timestamptz - $3::interval THEN $2::timestamptz ELSE t.window_start END,
  locked_until = CASE WHEN t.window_start >= $2::timestamptz - $3::interval AND t.failures + 1 >= $4::int
                      THEN $2::timestamptz + least($5::interval * power(2, t.failures + 1 - $4), $6::interval) END
WHERE t.locked_until IS NULL OR t.locked_until <= $2::timestamptz
RETURNING failures`
	var n int
	err := q.QueryRow(ctx, upsert, rule.prefix+key, now, throttleWindow.String(), rule.max, rule.step.String(), rule.cap.String()).Scan(&n)
	if err == nil {
		return true, 0, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return false, 0, fmt.Errorf("count sign-in attempt: %w", err)
	}
	var until time.Time
	if err := q.QueryRow(ctx, `SELECT coalesce(locked_until, $2) FROM login_throttle WHERE key = $1`, rule.prefix+key, now).Scan(&until); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return false, 0, fmt.Errorf("read sign-in lock: %w", err)
	}
	return false, max(until.Sub(now), time.Second), nil
}

// giveBack returns an attempt that turned out not to be a guess (a
// successful sign-in, or one refused before its password was checked) and
// lifts the lock it may have set.
func (rule throttleRule) giveBack(ctx context.Context, q eventstore.Querier, key string) error {
	_, err := q.Exec(ctx, `UPDATE login_throttle SET failures = greatest(failures - 1, 0), locked_until = NULL WHERE key = $1`, rule.prefix+key)
	return err
}

// attempt is one sign-in's throttle keys.
type attempt struct {
	rules []throttleRule
	keys  []string
	taken int
}

func newAttempt(email, client string) *attempt {
	return &attempt{rules: []throttleRule{pairLimit, clientLimit, accountLimit},
		keys: []string{email + "|" + client, client, email}}
}

// take counts the attempt on every key, in order; it stops at the first
// locked one and returns ErrTooManyAttempts with the time to wait.
func (a *attempt) take(ctx context.Context, q eventstore.Querier, now time.Time) error {
	for i, rule := range a.rules {
		ok, wait, err := rule.take(ctx, q, now, a.keys[i])
		if err != nil {
			return err
		}
		if !ok {
			return errs.WithRetryAfter(ErrTooManyAttempts, wait)
		}
		a.taken = i + 1
	}
	return nil
}

// giveBack returns the counted attempt on every key taken.
func (a *attempt) giveBack(ctx context.Context, q eventstore.Querier) error {
	for i := 0; i < a.taken; i++ {
		if err := a.rules[i].giveBack(ctx, q, a.keys[i]); err != nil {
			return fmt.Errorf("give back sign-in attempt: %w", err)
		}
	}
	return nil
}

// succeeded gives the attempt back and forgets this client's earlier
// attempts on the account.
func (a *attempt) succeeded(ctx context.Context, q eventstore.Querier) error {
	if err := a.giveBack(ctx, q); err != nil {
		return err
	}
	if _, err := q.Exec(ctx, `DELETE FROM login_throttle WHERE key = $1`, a.rules[0].prefix+a.keys[0]); err != nil {
		return fmt.Errorf("reset sign-in attempts: %w", err)
	}
	return nil
}

// signInCandidates is how many accounts a sign-in without a shop checks;
// it always checks this many passwords (padding with a dummy hash), so its
// answer and its time do not tell which e-mails exist, or in how many shops.
const signInCandidates = 2

// SignIn checks the credentials and opens a session. It returns
// ErrBadCredentials (also for unknown e-mails and disabled accounts),
// ErrTooManyAttempts or ErrSignInBusy (both with a Retry-After), or
// ErrTenantAmbiguous when no shop is named and the password fits accounts
// in several shops.
func (s *Service) SignIn(ctx context.Context, c SignIn) (Session, error) {
	email := strings.ToLower(strings.TrimSpace(c.Email))
	pool := s.store.PoolFor(ctx)
	now := s.Now()
	at := newAttempt(email, c.Client)
	if err := at.take(ctx, pool, now); err != nil {
		if at.taken > 0 {
			if gerr := at.giveBack(ctx, pool); gerr != nil {
				return Session{}, gerr
			}
		}
		return Session{}, err
	}
	type account struct {
		id, tenant uuid.UUID
		hash       string
	}
	q := `SELECT id, tenant_id, password_hash FROM staff_accounts WHERE lower(email) = $1 AND status = 'active'`
	args := []any{email}
	if !c.Tenant.IsZero() {
		q += ` AND tenant_id = $2`
		args = append(args, c.Tenant)
	}
	rows, err := pool.Query(ctx, q+` ORDER BY tenant_id LIMIT 3`, args...)
	if err != nil {
		return Session{}, err
	}
	accts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (account, error) {
		var a account
		return a, r.Scan(&a.id, &a.tenant, &a.hash)
	})
	if err != nil {
		return Session{}, err
	}
	checks := 1
	if c.Tenant.IsZero() {
		checks = signInCandidates
	}
	var matched []account
	err = s.hashing.do(ctx, func() {
		for i := 0; i < checks; i++ {
			if i < len(accts) {
				if CheckPassword(accts[i].hash, c.Password) {
					matched = append(matched, accts[i])
				}
			} else {
				CheckPassword(dummyHash, c.Password)
			}
		}
	})
	if err != nil {
		if gerr := at.giveBack(ctx, pool); gerr != nil {
			return Session{}, gerr
		}
		return Session{}, err
	}
	switch {
	case len(matched) == 0:
		return Session{}, ErrBadCredentials
	case len(matched) > 1 || len(accts) > checks:
		// The caller knows a password of this e-mail: naming the shop is
		// all that is left to ask.
		return Session{}, ErrTenantAmbiguous
	}
	if err := at.succeeded(ctx, pool); err != nil {
		return Session{}, err
	}
	a := matched[0]
	t := tenant.ID{UUID: a.tenant}
	token, hash := newToken()
	sess := Session{Token: token, ExpiresAt: now.Add(SessionTTL)}
	_, err = s.store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		m, err := staffRepo.Load(ctx, tx, t, a.id)
		if err != nil {
			return err
		}
		m.SignIn(now)
		if _, err := staffRepo.Save(ctx, tx, t, a.id, m, nil, eventstore.Metadata{Tenant: t, Actor: "staff:" + a.id.String()}); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO staff_sessions (token_hash, staff_id, tenant_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
			hash, a.id, t, now, sess.ExpiresAt)
		return err
	})
	if err != nil {
		return Session{}, err
	}
	sess.Principal, err = s.Authenticate(ctx, token)
	return sess, err
}

// PurgeSessions deletes expired sessions and throttle rows whose window and
// lock are over; it returns how many rows of each it deleted.
func (s *Service) PurgeSessions(ctx context.Context) (sessions, throttles int64, err error) {
	now := s.Now()
	tag, err := s.store.PoolFor(ctx).Exec(ctx, `DELETE FROM staff_sessions WHERE expires_at < $1`, now)
	if err != nil {
		return 0, 0, fmt.Errorf("purge sessions: %w", err)
	}
	sessions = tag.RowsAffected()
	tag, err = s.store.PoolFor(ctx).Exec(ctx, `DELETE FROM login_throttle WHERE window_start < $1 AND (locked_until IS NULL OR locked_until < $2)`, now.Add(-throttleWindow), now)
	if err != nil {
		return sessions, 0, fmt.Errorf("purge sign-in throttle: %w", err)
	}
	return sessions, tag.RowsAffected(), nil
}
