// Package cartviews is the cart_views read model: carts and their lines,
// each with the reservation that holds its stock. It follows the cart
// events alone: a line's reservation status (pending until the reservation
// worker decides; reserved with its expiry, rejected, expired, released,
// committed at checkout) is read from reservation_index, which the
// transaction deciding it writes, when a cart is queried (Get). It must not
// import http or commands.
package cartviews

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/cart"
	"github.com/honten/honten/domain/inventory"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/projections"
)

// Name is the projector's frozen name.
const Name = "cart_views.v3"

// Projector builds cart_views.
type Projector struct {
	Registry *eventstore.Registry
}

var _ projections.Projector = Projector{}

// Name implements projections.Projector.
func (Projector) Name() string { return Name }

// Schema implements projections.Projector.
func (Projector) Schema() projections.Schema {
	return projections.Schema{Tables: []string{"carts", "cart_lines"}, Create: "rm_cart_views_v3_create", PayloadTypes: projections.EventNames(cart.Events)}
}

// Apply implements projections.Projector.
func (p Projector) Apply(ctx context.Context, tx pgx.Tx, batch []eventstore.Envelope) error {
	b := &pgx.Batch{}
	for _, env := range batch {
		if env.StreamType != cart.StreamType {
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
		// A line carries when it last changed (Get reads the cart's
		// updated_at from its lines too); the header row is written for
		// what no line can carry.
		touch := func() {
			b.Queue(`UPDATE carts SET version = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2 AND version < $3`, t, id, v, at)
		}
		switch e := ev.(type) {
		case cart.Created:
			b.Queue(`INSERT INTO carts (tenant_id, id, token_hash, currency, status, version, created_at, updated_at) VALUES ($1, $2, $3, $4, 'open', $5, $6, $6)
ON CONFLICT (tenant_id, id) DO NOTHING`, t, id, e.Token, e.Currency, v, at)
		case cart.ItemAdded:
			// A line's position is the version of the event that added
			// it: lines read in the order they were added, as the cart
			// holds them, with nothing to count (a count of the cart's
			// lines, in a statement planned while the table was small,
			// scanned the whole table for each line added).
			l := e.Line
			b.Queue(`INSERT INTO cart_lines (tenant_id, cart_id, line_id, position, variant_id, product_id, sku, title, quantity, unit_price, currency,
  tax_rate, fulfillment_type, reservation_id, changed_at)
VALUES ($1, $2, $3, $15, $4, $5, $6, $7, $8, $9::numeric, $10, $11, $12, $13, $14)
ON CONFLICT (tenant_id, cart_id, line_id) DO NOTHING`,
				t, id, l.ID, l.Variant, l.Product, l.SKU, l.Title, l.Quantity, l.UnitPrice.AmountString(), l.UnitPrice.Currency(),
				l.TaxRate, l.FulfillmentType, reservationOf(l.Reservation), at, v)
		case cart.QuantityChanged:
			b.Queue(`UPDATE cart_lines SET quantity = $4, reservation_id = $5, changed_at = $6 WHERE tenant_id = $1 AND cart_id = $2 AND line_id = $3`,
				t, id, e.Line, e.Quantity, reservationOf(e.Reservation), at)
		case cart.ItemRepriced:
			b.Queue(`UPDATE cart_lines SET unit_price = $4::numeric, currency = $5, changed_at = $6 WHERE tenant_id = $1 AND cart_id = $2 AND line_id = $3`,
				t, id, e.Line, e.UnitPrice.AmountString(), e.UnitPrice.Currency(), at)
		case cart.ItemRemoved:
			b.Queue(`DELETE FROM cart_lines WHERE tenant_id = $1 AND cart_id = $2 AND line_id = $3`, t, id, e.Line)
			touch()
		case cart.CheckedOut:
			b.Queue(`UPDATE carts SET status = 'checked_out', order_id = $3, version = $4, updated_at = $5 WHERE tenant_id = $1 AND id = $2 AND version < $4`,
				t, id, e.Order, v, at)
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

// reservationOf is a line's reservation id for its row: none (NULL) for a
// line that needs no stock (digital goods).
func reservationOf(r inventory.ReservationID) *uuid.UUID {
	if r.IsZero() {
		return nil
	}
	return &r.UUID
}
