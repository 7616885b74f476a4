// Package customerviews is the customer_views read model: customer accounts
// (e-mail, name, phone, whether the e-mail is verified, status) and their
// address books, as the backoffice lists and opens them and the customer
// reads their profile. Personal data copied from events sealed under a key
// that was destroyed becomes personal.Erased (on personal_data.erased.v1,
// and in any replay, where the sealed fields read as erased). It must not
// import http or commands.
package customerviews

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/customer"
	"github.com/honten/honten/domain/personal"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/projections"
)

// Name is the projector's frozen name; renaming it rebuilds the model.
const Name = "customer_views.v1"

// Projector builds customer_views.
type Projector struct {
	Registry *eventstore.Registry
}

var _ projections.Projector = Projector{}

// Name implements projections.Projector.
func (Projector) Name() string { return Name }

// Schema implements projections.Projector.
func (Projector) Schema() projections.Schema {
	return projections.Schema{
		Tables:       []string{"customers", "customer_addresses"},
		Create:       "rm_customer_views_v1_create",
		Index:        "rm_customer_views_v1_index",
		PayloadTypes: projections.EventNames(customer.Events, personal.Events),
	}
}

const touch = `UPDATE customers SET updated_at = $3, version = $4 WHERE tenant_id = $1 AND id = $2 AND version < $4`

// Apply implements projections.Projector.
func (p Projector) Apply(ctx context.Context, tx pgx.Tx, batch []eventstore.Envelope) error {
	b := &pgx.Batch{}
	for _, env := range batch {
		if env.StreamType != customer.StreamType && env.StreamType != personal.KeyStreamType {
			continue
		}
		if env.Payload == nil || !p.Registry.Known(env.Type) {
			continue
		}
		ev, err := p.Registry.Decode(env)
		if err != nil {
			return fmt.Errorf("customer_views: %w", err)
		}
		t, id, v, at := env.Tenant.UUID, env.StreamID, env.Version, env.RecordedAt.UTC()
		switch e := ev.(type) {
		case customer.Registered:
			b.Queue(`INSERT INTO customers (tenant_id, id, email, name, status, pii_key, created_at, updated_at, version)
VALUES ($1, $2, $3, $4, 'active', $5, $6, $6, $7) ON CONFLICT (tenant_id, id) DO NOTHING`, t, id, e.Email, e.Name, nullID(env.PersonalKey), e.At.UTC(), v)
		case customer.ProfileChanged:
			b.Queue(`UPDATE customers SET name = $3, phone = $4, updated_at = $5, version = $6 WHERE tenant_id = $1 AND id = $2 AND version < $6`,
				t, id, e.Name, e.Phone, at, v)
		case customer.AddressAdded:
			a, err := json.Marshal(e.Address)
			if err != nil {
				return err
			}
			b.Queue(`INSERT INTO customer_addresses (tenant_id, customer_id, id, address, pii_key, created_at)
SELECT $1, $2, $3, $4::jsonb || jsonb_build_object('id', $3::uuid), $5, $6 WHERE EXISTS (SELECT 1 FROM customers WHERE tenant_id = $1 AND id = $2 AND version < $7)
ON CONFLICT (tenant_id, id) DO NOTHING`, t, id, e.AddressID, a, nullID(env.PersonalKey), e.At.UTC(), v)
			b.Queue(touch, t, id, at, v)
		case customer.AddressRemoved:
			b.Queue(`DELETE FROM customer_addresses WHERE tenant_id = $1 AND customer_id = $2 AND id = $3
AND EXISTS (SELECT 1 FROM customers WHERE tenant_id = $1 AND id = $2 AND version < $4)`, t, id, e.Address, v)
			b.Queue(touch, t, id, at, v)
		case customer.EmailVerified:
			b.Queue(`UPDATE customers SET email_verified = true, updated_at = $3, version = $4 WHERE tenant_id = $1 AND id = $2 AND version < $4`, t, id, at, v)
		case customer.PasswordChanged:
			b.Queue(touch, t, id, at, v)
		case customer.Forgotten:
			b.Queue(`DELETE FROM customer_addresses WHERE tenant_id = $1 AND customer_id = $2
AND EXISTS (SELECT 1 FROM customers WHERE tenant_id = $1 AND id = $2 AND version < $3)`, t, id, v)
			b.Queue(`UPDATE customers SET status = 'forgotten', email = $3, name = $3, phone = CASE WHEN phone = '' THEN '' ELSE $3 END,
    updated_at = $4, version = $5 WHERE tenant_id = $1 AND id = $2 AND version < $5`, t, id, personal.Erased, at, v)
		case personal.KeyErased:
			b.Queue(`UPDATE customers SET email = $3, name = $3, phone = CASE WHEN phone = '' THEN '' ELSE $3 END
WHERE tenant_id = $1 AND pii_key = $2`, t, e.Key, personal.Erased)
			x := personal.Erased
			red, err := json.Marshal(customer.Address{Name: x, Phone: x, PostalCode: x, Prefecture: x, City: x, Line1: x, Line2: x})
			if err != nil {
				return err
			}
			b.Queue(`UPDATE customer_addresses SET address = $3::jsonb || jsonb_build_object('id', id) WHERE tenant_id = $1 AND pii_key = $2`, t, e.Key, red)
		}
	}
	if b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, b).Close()
}

func nullID(u uuid.UUID) *uuid.UUID {
	if u == uuid.Nil {
		return nil
	}
	return &u
}

// Customer is one customer account as the backoffice and the customer see it.
// It is personal data: never log it.
type Customer struct {
	ID            uuid.UUID `json:"id"`
	Email         string    `json:"email"`
	Name          string    `json:"name"`
	Phone         string    `json:"phone"`
	EmailVerified bool      `json:"email_verified"`
	Status        string    `json:"status"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
	Version       int64     `json:"-"`
}

const columns = `id, email, name, phone, email_verified, status, created_at, updated_at, version`

func scan(r pgx.CollectableRow) (Customer, error) {
	var c Customer
	err := r.Scan(&c.ID, &c.Email, &c.Name, &c.Phone, &c.EmailVerified, &c.Status, &c.CreatedAt, &c.UpdatedAt, &c.Version)
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c, err
}

type listCursor struct {
	At time.Time `json:"t"`
	ID uuid.UUID `json:"i"`
}

// List returns tenant t's customers, newest first; q matches the e-mail or
// the name (case-insensitive substring). It returns projections.ErrBadCursor
// for a cursor it did not issue.
func List(ctx context.Context, db eventstore.Querier, t tenant.ID, q string, p projections.Page) (projections.List[Customer], error) {
	var after listCursor
	hasCursor, err := p.DecodeCursor(&after)
	if err != nil {
		return projections.List[Customer]{}, err
	}
	var like *string
	if s := strings.TrimSpace(q); s != "" {
		esc := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s) + "%"
		like = &esc
	}
	rows, err := db.Query(ctx, `SELECT `+columns+` FROM customers
WHERE tenant_id = $1 AND ($2::text IS NULL OR email ILIKE $2 OR name ILIKE $2)
  AND (NOT $3 OR (created_at, id) < ($4, $5))
ORDER BY created_at DESC, id DESC LIMIT $6`, t, like, hasCursor, after.At, after.ID, p.Limit+1)
	if err != nil {
		return projections.List[Customer]{}, fmt.Errorf("list customers: %w", err)
	}
	items, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return projections.List[Customer]{}, fmt.Errorf("list customers: %w", err)
	}
	return projections.NewList(items, p.Limit, func(c Customer) any { return listCursor{c.CreatedAt, c.ID} }), nil
}

// Get returns one of tenant t's customers. It returns customer.ErrNotFound.
func Get(ctx context.Context, db eventstore.Querier, t tenant.ID, id uuid.UUID) (Customer, error) {
	rows, err := db.Query(ctx, `SELECT `+columns+` FROM customers WHERE tenant_id = $1 AND id = $2`, t, id)
	if err != nil {
		return Customer{}, err
	}
	c, err := pgx.CollectExactlyOneRow(rows, scan)
	if errors.Is(err, pgx.ErrNoRows) {
		return Customer{}, customer.ErrNotFound
	}
	return c, err
}

// Addresses returns a customer's address book, oldest first.
func Addresses(ctx context.Context, db eventstore.Querier, t tenant.ID, id uuid.UUID) ([]customer.Address, error) {
	rows, err := db.Query(ctx, `SELECT address FROM customer_addresses WHERE tenant_id = $1 AND customer_id = $2 ORDER BY created_at, id`, t, id)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[customer.Address])
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []customer.Address{}
	}
	return out, nil
}
