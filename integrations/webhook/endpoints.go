package webhook

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

// Endpoint is a shop's webhook receiver. Secret is shown only when it was
// just set (create, rotation).
type Endpoint struct {
	ID     uuid.UUID `json:"id"`
	URL    string    `json:"url"`
	Events []string  `json:"events"`
	Active bool      `json:"active"`
	Secret string    `json:"secret,omitempty"`
	// PreviousSecretUntil is when the secret replaced by the last rotation
	// stops being signed with; nil when none is valid.
	PreviousSecretUntil *time.Time `json:"previous_secret_until"`
	CreatedAt           time.Time  `json:"created_at"`
	UpdatedAt           time.Time  `json:"updated_at"`
}

// ErrNotFound is a missing endpoint or delivery (or another shop's).
var (
	ErrEndpointNotFound = errs.NotFoundf("webhook")
	ErrDeliveryNotFound = errs.NotFoundf("webhook_delivery")
	ErrEndpointDeleted  = errs.Conflict("webhook_deleted", "the delivery's webhook was deleted")
)

// MaxEndpoints is how many live endpoints a shop may have.
const MaxEndpoints = 20

var eventPattern = regexp.MustCompile(`^(\*|[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?)$`)

// Matches reports whether an event type is wanted by patterns: "*" (every
// event), an exact type ("order.placed.v1"), a type without its version
// ("order.placed": every version), or a prefix ("order.*").
func Matches(patterns []string, eventType string) bool {
	for _, p := range patterns {
		switch {
		case p == "*", p == eventType:
			return true
		case strings.HasSuffix(p, ".*") && strings.HasPrefix(eventType, strings.TrimSuffix(p, "*")):
			return true
		case strings.HasPrefix(eventType, p+".v"):
			return true
		}
	}
	return false
}

func checkEvents(events []string) error {
	var c errs.Collector
	c.Check(len(events) >= 1 && len(events) <= 100, "events", "must list 1 to 100 event types")
	for i, e := range events {
		c.Check(len(e) <= 200 && eventPattern.MatchString(e), fmt.Sprintf("events[%d]", i),
			`must be an event type ("order.placed.v1"), a type without version ("order.placed"), a prefix ("order.*") or "*"`)
	}
	return c.Err()
}

func checkSecret(s string) error {
	if len(s) < 16 || len(s) > 200 {
		return errs.Field("secret", "must be 16 to 200 characters")
	}
	return nil
}

// NewSecret returns a random secret ("whsec_" and 64 hex digits).
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return "whsec_" + hex.EncodeToString(b)
}

// NewEndpoint is what creating an endpoint takes; an empty Secret is
// generated.
type NewEndpoint struct {
	URL    string
	Events []string
	Secret string
}

// Rules are the checks endpoints are saved under.
type Rules struct {
	// AllowPrivate lets URLs name private and loopback addresses
	// (development and tests only).
	AllowPrivate bool
	// Overlap is how long the previous secret stays valid after a
	// rotation; 0 means 24 hours.
	Overlap time.Duration
}

// Create saves an endpoint of tenant t. Its cursor starts at the feed's
// head: it receives the events appended from now on.
func Create(ctx context.Context, db eventstore.Querier, t tenant.ID, n NewEndpoint, rules Rules, now time.Time) (Endpoint, error) {
	var c errs.Collector
	c.Merge("", CheckURL(n.URL, rules.AllowPrivate))
	c.Merge("", checkEvents(n.Events))
	if n.Secret != "" {
		c.Merge("", checkSecret(n.Secret))
	}
	if err := c.Err(); err != nil {
		return Endpoint{}, err
	}
	if n.Secret == "" {
		n.Secret = NewSecret()
	}
	var live int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM webhook_endpoints WHERE tenant_id = $1 AND deleted_at IS NULL`, t).Scan(&live); err != nil {
		return Endpoint{}, fmt.Errorf("count webhooks: %w", err)
	}
	if live >= MaxEndpoints {
		return Endpoint{}, errs.Conflict("too_many_webhooks", fmt.Sprintf("a shop may have at most %d webhooks", MaxEndpoints))
	}
	head, err := eventstore.Head(ctx, db)
	if err != nil {
		return Endpoint{}, err
	}
	e := Endpoint{ID: uuid.Must(uuid.NewV7()), URL: n.URL, Events: n.Events, Active: true, Secret: n.Secret, CreatedAt: now.UTC(), UpdatedAt: now.UTC()}
	const q = `INSERT INTO webhook_endpoints (id, tenant_id, url, events, secret, cursor_tx, cursor_pos, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6::text::xid8, $7, $8, $8)`
	if _, err := db.Exec(ctx, q, e.ID, t, e.URL, e.Events, e.Secret, head.TxText(), head.Pos, e.CreatedAt); err != nil {
		return Endpoint{}, fmt.Errorf("create webhook: %w", err)
	}
	return e, nil
}

const endpointColumns = `id, url, events, active, previous_secret_until, created_at, updated_at`

func scanEndpoint(row pgx.Row, now time.Time) (Endpoint, error) {
	var e Endpoint
	err := row.Scan(&e.ID, &e.URL, &e.Events, &e.Active, &e.PreviousSecretUntil, &e.CreatedAt, &e.UpdatedAt)
	if e.PreviousSecretUntil != nil && !e.PreviousSecretUntil.After(now) {
		e.PreviousSecretUntil = nil
	}
	return e, err
}

// List returns tenant t's live endpoints after the id after (uuid.Nil: from
// the first), oldest first, at most limit.
func List(ctx context.Context, db eventstore.Querier, t tenant.ID, after uuid.UUID, limit int, now time.Time) ([]Endpoint, error) {
	const q = `SELECT ` + endpointColumns + ` FROM webhook_endpoints
WHERE tenant_id = $1 AND id > $2 AND deleted_at IS NULL ORDER BY tenant_id, id LIMIT $3`
	rows, err := db.Query(ctx, q, t, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	defer rows.Close()
	out := []Endpoint{}
	for rows.Next() {
		e, err := scanEndpoint(rows, now)
		if err != nil {
			return nil, fmt.Errorf("list webhooks: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Get returns tenant t's endpoint id; ErrEndpointNotFound when it does not
// exist, was deleted, or is another shop's.
func Get(ctx context.Context, db eventstore.Querier, t tenant.ID, id uuid.UUID, now time.Time) (Endpoint, error) {
	const q = `SELECT ` + endpointColumns + ` FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL`
	e, err := scanEndpoint(db.QueryRow(ctx, q, t, id), now)
	if errors.Is(err, pgx.ErrNoRows) {
		return Endpoint{}, ErrEndpointNotFound
	}
	if err != nil {
		return Endpoint{}, fmt.Errorf("webhook %s: %w", id, err)
	}
	return e, nil
}

// Patch changes an endpoint; nil fields stay. A new Secret is a rotation:
// deliveries are signed with both it and the old one for Rules.Overlap.
type Patch struct {
	URL    *string
	Events *[]string
	Secret *string
	Active *bool
}

// Update applies p to tenant t's endpoint id and returns it (with the new
// secret when p rotated it).
func Update(ctx context.Context, db eventstore.Querier, t tenant.ID, id uuid.UUID, p Patch, rules Rules, now time.Time) (Endpoint, error) {
	var c errs.Collector
	if p.URL != nil {
		c.Merge("", CheckURL(*p.URL, rules.AllowPrivate))
	}
	if p.Events != nil {
		c.Merge("", checkEvents(*p.Events))
	}
	if p.Secret != nil {
		c.Merge("", checkSecret(*p.Secret))
	}
	if err := c.Err(); err != nil {
		return Endpoint{}, err
	}
	overlap := rules.Overlap
	if overlap <= 0 {
		overlap = 24 * time.Hour
	}
	var events []string
	if p.Events != nil {
		events = *p.Events
	}
	// A rotation to the secret in force changes nothing.
	const q = `UPDATE webhook_endpoints SET
    url = coalesce($3, url),
    events = coalesce($4, events),
    active = coalesce($5, active),
    previous_secret = CASE WHEN $6::text IS NOT NULL AND $6 <> secret THEN secret ELSE previous_secret END,
    previous_secret_until = CASE WHEN $6::text IS NOT NULL AND $6 <> secret THEN $7 ELSE previous_secret_until END,
    secret = coalesce($6, secret),
    updated_at = $8
WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL
RETURNING ` + endpointColumns
	e, err := scanEndpoint(db.QueryRow(ctx, q, t, id, p.URL, events, p.Active, p.Secret, now.Add(overlap).UTC(), now.UTC()), now)
	if errors.Is(err, pgx.ErrNoRows) {
		return Endpoint{}, ErrEndpointNotFound
	}
	if err != nil {
		return Endpoint{}, fmt.Errorf("update webhook %s: %w", id, err)
	}
	if p.Secret != nil {
		e.Secret = *p.Secret
	}
	return e, nil
}

// Delete deletes tenant t's endpoint id: no more deliveries; its log
// stays. Deleting a deleted endpoint of t again succeeds.
func Delete(ctx context.Context, db eventstore.Querier, t tenant.ID, id uuid.UUID, now time.Time) error {
	const q = `UPDATE webhook_endpoints SET deleted_at = coalesce(deleted_at, $3), active = false WHERE tenant_id = $1 AND id = $2`
	tag, err := db.Exec(ctx, q, t, id, now.UTC())
	if err != nil {
		return fmt.Errorf("delete webhook %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrEndpointNotFound
	}
	return nil
}
