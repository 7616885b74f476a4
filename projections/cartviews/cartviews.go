// Package cartviews is the cart_views read model: carts, their lines and
// each line's reservation status (pending until the reservation worker
// decides; reserved with its expiry, rejected, expired, released,
// committed at checkout). It must not import http or commands.
package cartviews

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/cart"
	"github.com/honten/honten/domain/inventory"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/projections"
)

// Name is the projector's frozen name.
const Name = "cart_views.v1"

// Projector builds cart_views.
type Projector struct {
	Registry *eventstore.Registry
}

var _ projections.Projector = Projector{}

// Name implements projections.Projector.
func (Projector) Name() string { return Name }

// Schema implements projections.Projector.
func (Projector) Schema() projections.Schema {
	types := projections.EventNames(cart.Events,
		[]eventstore.Event{inventory.Reserved{}, inventory.Rejected{}, inventory.Released{}, inventory.Expired{}, inventory.Committed{}})
	return projections.Schema{Tables: []string{"carts", "cart_lines"}, Create: "rm_cart_views_v1_create", Index: "rm_cart_views_v1_index", PayloadTypes: types}
}

// Apply implements projections.Projector.
func (p Projector) Apply(ctx context.Context, tx pgx.Tx, batch []eventstore.Envelope) error {
	b := &pgx.Batch{}
	for _, env := range batch {
		if env.StreamType != cart.StreamType && env.StreamType != inventory.StreamType {
			continue
		}
		if env.Payload == nil {
			continue
		}
		ev, err := p.Registry.Decode(env)
		if err != nil {
			return err
		}
		t, id, v, at := env.Tenant, env.StreamID, env.Version, env.RecordedAt
		touch := func() {
			b.Queue(`UPDATE carts SET version = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2 AND version < $3`, t, id, v, at)
		}
		switch e := ev.(type) {
		case cart.Created:
			b.Queue(`INSERT INTO carts (tenant_id, id, token_hash, currency, status, version, created_at, updated_at) VALUES ($1, $2, $3, $4, 'open', $5, $6, $6)
ON CONFLICT (tenant_id, id) DO NOTHING`, t, id, e.Token, e.Currency, v, at)
		case cart.ItemAdded:
			l := e.Line
			status := "pending"
			var res *uuid.UUID
			if l.Reservation.IsZero() {
				status = "not_required"
			} else {
				res = &l.Reservation.UUID
			}
			b.Queue(`INSERT INTO cart_lines (tenant_id, cart_id, line_id, position, variant_id, product_id, sku, title, quantity, unit_price, currency,
  tax_rate, fulfillment_type, reservation_id, reservation_status)
VALUES ($1, $2, $3, (SELECT count(*) FROM cart_lines WHERE tenant_id = $1 AND cart_id = $2), $4, $5, $6, $7, $8, $9::numeric, $10, $11, $12, $13, $14)
ON CONFLICT (tenant_id, cart_id, line_id) DO NOTHING`,
				t, id, l.ID, l.Variant, l.Product, l.SKU, l.Title, l.Quantity, l.UnitPrice.AmountString(), l.UnitPrice.Currency(),
				l.TaxRate, l.FulfillmentType, res, status)
			touch()
		case cart.QuantityChanged:
			status := "pending"
			var res *uuid.UUID
			if e.Reservation.IsZero() {
				status = "not_required"
			} else {
				res = &e.Reservation.UUID
			}
			b.Queue(`UPDATE cart_lines SET quantity = $4, reservation_id = $5, reservation_status = $6, expires_at = NULL
WHERE tenant_id = $1 AND cart_id = $2 AND line_id = $3`, t, id, e.Line, e.Quantity, res, status)
			touch()
		case cart.ItemRepriced:
			b.Queue(`UPDATE cart_lines SET unit_price = $4::numeric, currency = $5 WHERE tenant_id = $1 AND cart_id = $2 AND line_id = $3`,
				t, id, e.Line, e.UnitPrice.AmountString(), e.UnitPrice.Currency())
			touch()
		case cart.ItemRemoved:
			b.Queue(`DELETE FROM cart_lines WHERE tenant_id = $1 AND cart_id = $2 AND line_id = $3`, t, id, e.Line)
			touch()
		case cart.CheckedOut:
			b.Queue(`UPDATE carts SET status = 'checked_out', order_id = $3, version = $4, updated_at = $5 WHERE tenant_id = $1 AND id = $2 AND version < $4`,
				t, id, e.Order, v, at)
		case inventory.Reserved:
			queueStatus(b, t.UUID, e.Reservation.UUID, "reserved", &e.ExpiresAt)
		case inventory.Rejected:
			queueStatus(b, t.UUID, e.Reservation.UUID, "rejected", nil)
		case inventory.Released:
			queueStatus(b, t.UUID, e.Reservation.UUID, "released", nil)
		case inventory.Expired:
			queueStatus(b, t.UUID, e.Reservation.UUID, "expired", nil)
		case inventory.Committed:
			queueStatus(b, t.UUID, e.Reservation.UUID, "committed", nil)
		}
	}
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("cart_views: %w", err)
	}
	return nil
}

func queueStatus(b *pgx.Batch, t, r uuid.UUID, status string, expires *time.Time) {
	b.Queue(`UPDATE cart_lines SET reservation_status = $3, expires_at = $4 WHERE tenant_id = $1 AND reservation_id = $2`, t, r, status, expires)
}
