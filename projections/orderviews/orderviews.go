// Package orderviews is the order_views read model: orders after checkout
// as the backoffice lists and opens them (customer, lines, totals, status,
// payments with their receipts, shipments, status history) and as the buyer
// follows their order with its access token. The payment-deadline sweep
// finds unpaid bank transfers through it.
//
// It folds the order, payment and shipment events. Every row carries its
// stream's version and an event applies only above it, so replaying a
// batch — or the whole log — changes nothing. It must not import http or
// commands.
package orderviews

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/customer"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/payment"
	"github.com/honten/honten/domain/personal"
	"github.com/honten/honten/domain/shipment"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/projections"
)

// Name is the projector's frozen name; renaming it rebuilds the model.
const Name = "order_views.v2"

// Projector builds order_views.
type Projector struct {
	Registry *eventstore.Registry
}

var _ projections.Projector = Projector{}

// Name implements projections.Projector.
func (Projector) Name() string { return Name }

// Schema implements projections.Projector.
func (Projector) Schema() projections.Schema {
	return projections.Schema{
		Tables:       []string{"order_views", "order_view_history", "order_view_payments", "order_view_shipments", "order_view_key_owners"},
		Create:       "rm_order_views_v2_create",
		Index:        "rm_order_views_v2_index",
		PayloadTypes: projections.EventNames(order.Events, payment.Events, shipment.Events, []eventstore.Event{customer.EmailVerified{}}, personal.Events),
	}
}

const (
	insertOrder = `
INSERT INTO order_views (tenant_id, order_id, number, status, payment_method, payment_id, cart_id, email, name, phone,
    shipping_address, note, lines, totals, total, currency, vendor_ids, access_token_hash, created_at, updated_at, version,
    customer_id, pii_key)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19, $20,
    coalesce($21, (SELECT customer_id FROM order_view_key_owners WHERE tenant_id = $1 AND pii_key = $22)), $22)
ON CONFLICT (tenant_id, order_id) DO NOTHING`
	// emailVerified makes the guest orders sealed under an e-mail's key,
	// and those to come, the verifying customer's.
	keyOwner = `
INSERT INTO order_view_key_owners (tenant_id, pii_key, customer_id) VALUES ($1, $2, $3)
ON CONFLICT (tenant_id, pii_key) DO UPDATE SET customer_id = EXCLUDED.customer_id`
	linkOrders = `
UPDATE order_views SET customer_id = $3 WHERE tenant_id = $1 AND pii_key = $2 AND customer_id IS NULL`
	// keyErased replaces the buyer's data copied from events sealed under
	// the destroyed key with the marker.
	keyErased = `
UPDATE order_views SET email = $3, name = $3, phone = $3,
    shipping_address = jsonb_build_object('postal_code', $3::text, 'prefecture', $3::text, 'city', $3::text, 'line1', $3::text, 'line2', $3::text),
    note = CASE WHEN note = '' THEN '' ELSE $3 END
WHERE tenant_id = $1 AND pii_key = $2`
	updateOrderStatus = `
UPDATE order_views SET status = $3, updated_at = $4, version = $5
WHERE tenant_id = $1 AND order_id = $2 AND version < $5`
	// orderLinesCancelled sets each cancelled line's quantity to the units
	// left, its discount to the discount they keep, and adds the units
	// cancelled to its cancelled_quantity.
	orderLinesCancelled = `
UPDATE order_views o SET lines = (
    SELECT jsonb_agg(CASE WHEN c.line_id IS NULL THEN x.l
        ELSE x.l || jsonb_build_object('quantity', c.remaining,
            'cancelled_quantity', coalesce((x.l->>'cancelled_quantity')::bigint, 0) + c.quantity)
          || CASE WHEN c.remaining_discount IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('discount', c.remaining_discount) END
        END ORDER BY x.n)
    FROM jsonb_array_elements(o.lines) WITH ORDINALITY AS x(l, n)
    LEFT JOIN jsonb_to_recordset($3::jsonb) AS c(line_id uuid, quantity bigint, remaining bigint, remaining_discount jsonb)
      ON c.line_id = (x.l->>'id')::uuid),
    totals = $4, total = $5, updated_at = $6, version = $7
WHERE tenant_id = $1 AND order_id = $2 AND version < $7`
	insertHistory = `
INSERT INTO order_view_history (tenant_id, order_id, version, from_status, to_status, reason, actor, at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (tenant_id, order_id, version) DO NOTHING`
	insertPayment = `
INSERT INTO order_view_payments (tenant_id, payment_id, order_id, method, status, currency, amount, reference_code, due_at,
    bank_account, created_at, updated_at, version)
VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8, $9, $10, $10, $11)
ON CONFLICT (tenant_id, payment_id) DO NOTHING`
	paymentReceived = `
UPDATE order_view_payments SET received = received + $3, receipts = receipts || $4::jsonb,
    status = CASE WHEN status = 'pending' THEN 'partially_paid' ELSE status END, updated_at = $5, version = $6
WHERE tenant_id = $1 AND payment_id = $2 AND version < $6`
	paymentStatus = `
UPDATE order_view_payments SET status = $3, updated_at = $4, version = $5
WHERE tenant_id = $1 AND payment_id = $2 AND version < $5`
	paymentRefundDue = `
UPDATE order_view_payments SET refund_due = refund_due + $3, updated_at = $4, version = $5
WHERE tenant_id = $1 AND payment_id = $2 AND version < $5`
	paymentAmount = `
UPDATE order_view_payments SET amount = $3, updated_at = $4, version = $5
WHERE tenant_id = $1 AND payment_id = $2 AND version < $5`
	paymentReinstated = `
UPDATE order_view_payments SET refund_due = refund_due - $3, status = 'partially_paid', updated_at = $4, version = $5
WHERE tenant_id = $1 AND payment_id = $2 AND version < $5`
	insertShipment = `
INSERT INTO order_view_shipments (tenant_id, shipment_id, order_id, vendor_id, status, lines, currency, cod_amount, created_at, updated_at, version)
VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8, $8, $9)
ON CONFLICT (tenant_id, shipment_id) DO NOTHING`
	shipmentShipped = `
UPDATE order_view_shipments SET status = 'shipped', carrier = $3, tracking_no = $4, shipped_at = $5, updated_at = $5, version = $6
WHERE tenant_id = $1 AND shipment_id = $2 AND version < $6`
	shipmentDelivered = `
UPDATE order_view_shipments SET status = 'delivered', delivered_at = $3, updated_at = $3, version = $4
WHERE tenant_id = $1 AND shipment_id = $2 AND version < $4`
	// shipmentLinesCancelled takes the units out of each line and drops the
	// lines with none left.
	shipmentLinesCancelled = `
UPDATE order_view_shipments s SET lines = coalesce((
    SELECT jsonb_agg(x.l || jsonb_build_object('quantity', (x.l->>'quantity')::bigint - coalesce(c.quantity, 0)) ORDER BY x.n)
    FROM jsonb_array_elements(s.lines) WITH ORDINALITY AS x(l, n)
    LEFT JOIN (SELECT line_id, sum(quantity) AS quantity FROM jsonb_to_recordset($3::jsonb) AS r(line_id uuid, quantity bigint) GROUP BY line_id) c
        ON c.line_id = (x.l->>'line_id')::uuid
    WHERE (x.l->>'quantity')::bigint - coalesce(c.quantity, 0) > 0), '[]'),
    updated_at = $4, version = $5
WHERE tenant_id = $1 AND shipment_id = $2 AND version < $5`
	shipmentCOD = `
UPDATE order_view_shipments SET cod_amount = $3, updated_at = $4, version = $5
WHERE tenant_id = $1 AND shipment_id = $2 AND version < $5`
	shipmentCancelled = `
UPDATE order_view_shipments SET status = 'cancelled', cancelled_at = $3, updated_at = $3, version = $4
WHERE tenant_id = $1 AND shipment_id = $2 AND version < $4`
)

// storedReceipt is a receipt as order_view_payments.receipts keeps it:
// the amount as a decimal string in the payment's currency.
type storedReceipt struct {
	Kind       string     `json:"kind"`
	Amount     string     `json:"amount"`
	ReceivedAt time.Time  `json:"received_at"`
	Reference  string     `json:"reference,omitempty"`
	Shipment   *uuid.UUID `json:"shipment_id,omitempty"`
	By         string     `json:"by,omitempty"`
}

// Apply implements projections.Projector: one guarded statement per event,
// sent as one batch.
func (p Projector) Apply(ctx context.Context, tx pgx.Tx, batch []eventstore.Envelope) error {
	b := &pgx.Batch{}
	for _, env := range batch {
		switch env.StreamType {
		case order.StreamType, payment.StreamType, shipment.StreamType, customer.StreamType, personal.KeyStreamType:
		default:
			continue
		}
		if env.Payload == nil || !p.Registry.Known(env.Type) {
			continue
		}
		ev, err := p.Registry.Decode(env)
		if err != nil {
			return fmt.Errorf("order_views: %w", err)
		}
		if err := queue(b, env, ev); err != nil {
			return fmt.Errorf("order_views: %s at %s: %w", env.Type, env.Position, err)
		}
	}
	if b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, b).Close()
}

func queue(b *pgx.Batch, env eventstore.Envelope, ev eventstore.Event) error {
	t, id, v := env.Tenant.UUID, env.StreamID, env.Version
	switch e := ev.(type) {
	case order.Placed:
		addr, err := json.Marshal(e.ShipTo)
		if err != nil {
			return err
		}
		lines, err := json.Marshal(e.Lines)
		if err != nil {
			return err
		}
		totals, err := json.Marshal(e.Totals)
		if err != nil {
			return err
		}
		vendors := []uuid.UUID{}
		seen := map[uuid.UUID]bool{}
		for _, l := range e.Lines {
			if !seen[l.Vendor] {
				seen[l.Vendor] = true
				vendors = append(vendors, l.Vendor)
			}
		}
		b.Queue(insertOrder, t, id, e.Number, string(e.Status), string(e.PaymentMethod), nullID(e.Payment), nullID(e.Cart),
			e.Customer.Email, e.Customer.Name, e.Customer.Phone, addr, e.Note, lines, totals,
			e.Totals.Total.Amount(), string(e.Totals.Total.Currency()), vendors, e.AccessToken, e.At.UTC(), v,
			nullID(e.CustomerID), nullID(env.PersonalKey))
		b.Queue(insertHistory, t, id, v, nil, string(e.Status), "placed", env.Actor, e.At.UTC())
	case order.StatusChanged:
		b.Queue(updateOrderStatus, t, id, string(e.To), e.At.UTC(), v)
		b.Queue(insertHistory, t, id, v, string(e.From), string(e.To), e.Reason, env.Actor, e.At.UTC())
	case order.LinesCancelled:
		lines, err := json.Marshal(e.Lines)
		if err != nil {
			return err
		}
		totals, err := json.Marshal(e.Totals)
		if err != nil {
			return err
		}
		b.Queue(orderLinesCancelled, t, id, lines, totals, e.Totals.Total.Amount(), e.At.UTC(), v)
		b.Queue(insertHistory, t, id, v, string(e.Status), string(e.Status), "lines cancelled: "+e.Reason, env.Actor, e.At.UTC())
	case payment.Created:
		var account []byte
		if e.Account != nil {
			var err error
			if account, err = json.Marshal(e.Account); err != nil {
				return err
			}
		}
		b.Queue(insertPayment, t, id, e.Order, string(e.Method), string(e.Amount.Currency()), e.Amount.Amount(),
			e.ReferenceCode, utcPtr(e.DueAt), account, e.At.UTC(), v)
	case payment.Received:
		r, err := json.Marshal([]storedReceipt{{Kind: "bank_transfer", Amount: e.Amount.AmountString(), ReceivedAt: e.ReceivedAt.UTC(), Reference: e.Reference, By: e.By}})
		if err != nil {
			return err
		}
		b.Queue(paymentReceived, t, id, e.Amount.Amount(), r, e.At.UTC(), v)
	case payment.CODCollected:
		sh := e.Shipment
		r, err := json.Marshal([]storedReceipt{{Kind: "cod", Amount: e.Amount.AmountString(), ReceivedAt: e.At.UTC(), Shipment: &sh, By: env.Actor}})
		if err != nil {
			return err
		}
		b.Queue(paymentReceived, t, id, e.Amount.Amount(), r, e.At.UTC(), v)
	case payment.Settled:
		b.Queue(paymentStatus, t, id, string(payment.StatusPaid), e.At.UTC(), v)
	case payment.Cancelled:
		b.Queue(paymentStatus, t, id, string(payment.StatusCancelled), e.At.UTC(), v)
	case payment.RefundDue:
		b.Queue(paymentRefundDue, t, id, e.Amount.Amount(), e.At.UTC(), v)
	case payment.AmountChanged:
		b.Queue(paymentAmount, t, id, e.To.Amount(), e.At.UTC(), v)
	case payment.Reinstated:
		b.Queue(paymentReinstated, t, id, e.Amount.Amount(), e.At.UTC(), v)
	case shipment.Created:
		lines, err := json.Marshal(e.Lines)
		if err != nil {
			return err
		}
		cur := e.CODAmount.Currency()
		b.Queue(insertShipment, t, id, e.Order, e.Vendor, lines, string(cur), e.CODAmount.Amount(), e.At.UTC(), v)
	case shipment.Shipped:
		b.Queue(shipmentShipped, t, id, e.Carrier, e.TrackingNo, e.At.UTC(), v)
	case shipment.Delivered:
		b.Queue(shipmentDelivered, t, id, e.At.UTC(), v)
	case shipment.LinesCancelled:
		lines, err := json.Marshal(e.Lines)
		if err != nil {
			return err
		}
		b.Queue(shipmentLinesCancelled, t, id, lines, e.At.UTC(), v)
	case shipment.CODAmountChanged:
		b.Queue(shipmentCOD, t, id, e.To.Amount(), e.At.UTC(), v)
	case shipment.Cancelled:
		b.Queue(shipmentCancelled, t, id, e.At.UTC(), v)
	case customer.EmailVerified:
		b.Queue(keyOwner, t, e.EmailKey, id)
		b.Queue(linkOrders, t, e.EmailKey, id)
	case personal.KeyErased:
		b.Queue(keyErased, t, e.Key, personal.Erased)
	}
	return nil
}

func nullID(u uuid.UUID) *uuid.UUID {
	if u == uuid.Nil {
		return nil
	}
	return &u
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
