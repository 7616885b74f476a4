package cartviews

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

// Cart is a cart as the storefront shows it.
type Cart struct {
	ID        uuid.UUID  `json:"id"`
	Status    string     `json:"status"`
	OrderID   *uuid.UUID `json:"order_id"`
	Currency  string     `json:"-"`
	TokenHash string     `json:"-"`
	Lines     []Line     `json:"lines"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// Line is one cart line.
type Line struct {
	ID              uuid.UUID       `json:"id"`
	VariantID       uuid.UUID       `json:"variant_id"`
	ProductID       uuid.UUID       `json:"product_id"`
	SKU             string          `json:"sku"`
	Title           string          `json:"title"`
	Quantity        int64           `json:"quantity"`
	UnitPrice       decimal.Decimal `json:"-"`
	Currency        string          `json:"-"`
	TaxRate         string          `json:"tax_rate"`
	FulfillmentType string          `json:"fulfillment_type"`
	Reservation     Reservation     `json:"reservation"`
}

// Reservation is a line's stock hold.
type Reservation struct {
	ID        *uuid.UUID `json:"id"`
	Status    string     `json:"status"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// Decisions returns the reservation decisions of ids (reservations.Statuses
// in the process: the reservation index, written in the transaction that
// decides): each one's status ("pending" while undecided) and, for a live
// hold, its expiry.
type Decisions func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]Reservation, error)

// Get returns a cart with its lines, or eventstore.ErrNotFound. A line's
// reservation status comes from decisions ("not_required" for a line that
// needs no stock): the read model keeps which reservation holds each line,
// not its status, so a decision shows as soon as it is committed.
func Get(ctx context.Context, q eventstore.Querier, t tenant.ID, id uuid.UUID, decisions Decisions) (Cart, error) {
	var c Cart
	// The cart changed last when its header or one of its lines did.
	err := q.QueryRow(ctx, `SELECT id, status, order_id, currency, token_hash, created_at,
  greatest(updated_at, (SELECT max(changed_at) FROM cart_lines l WHERE l.tenant_id = c.tenant_id AND l.cart_id = c.id))
FROM carts c WHERE tenant_id = $1 AND id = $2`, t, id).
		Scan(&c.ID, &c.Status, &c.OrderID, &c.Currency, &c.TokenHash, &c.CreatedAt, &c.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Cart{}, fmt.Errorf("cart %s: %w", id, eventstore.ErrNotFound)
	}
	if err != nil {
		return Cart{}, err
	}
	rows, err := q.Query(ctx, `SELECT line_id, variant_id, product_id, sku, title, quantity, unit_price, currency, tax_rate, fulfillment_type, reservation_id
FROM cart_lines WHERE tenant_id = $1 AND cart_id = $2 ORDER BY position, line_id`, t, id)
	if err != nil {
		return Cart{}, err
	}
	c.Lines, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Line, error) {
		var l Line
		err := r.Scan(&l.ID, &l.VariantID, &l.ProductID, &l.SKU, &l.Title, &l.Quantity, &l.UnitPrice, &l.Currency, &l.TaxRate,
			&l.FulfillmentType, &l.Reservation.ID)
		return l, err
	})
	if err != nil {
		return Cart{}, err
	}
	var held []uuid.UUID
	for _, l := range c.Lines {
		if l.Reservation.ID != nil {
			held = append(held, *l.Reservation.ID)
		}
	}
	var decided map[uuid.UUID]Reservation
	if len(held) > 0 {
		if decided, err = decisions(ctx, held); err != nil {
			return Cart{}, fmt.Errorf("cart %s: %w", id, err)
		}
	}
	for i, l := range c.Lines {
		r := &c.Lines[i].Reservation
		if l.Reservation.ID == nil {
			r.Status = "not_required"
			continue
		}
		d := decided[*l.Reservation.ID]
		r.Status, r.ExpiresAt = cmp.Or(d.Status, "pending"), nil
		if r.Status == "reserved" {
			r.ExpiresAt = d.ExpiresAt
		}
	}
	if c.Lines == nil {
		c.Lines = []Line{}
	}
	return c, nil
}
