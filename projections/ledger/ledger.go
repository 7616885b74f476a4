// Package ledger is the payout ledger read model: double-entry lines
// folded from the order, payment and vendor events through the posting
// rules of domain/ledger, with balances per vendor and account kept in the
// same transaction. Each line names the event (id and position) and the
// order it comes from, so any balance traces back to the log. It must not
// import http or commands.
package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/honten/honten/domain/ledger"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/payment"
	"github.com/honten/honten/domain/payout"
	"github.com/honten/honten/domain/shipment"
	"github.com/honten/honten/domain/statement"
	"github.com/honten/honten/domain/vendor"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/projections"
)

// Name is the projector's frozen name; renaming it rebuilds the model.
const Name = "ledger.v1"

// Projector builds the ledger.
type Projector struct {
	Registry *eventstore.Registry
}

var _ projections.Projector = Projector{}

// Name implements projections.Projector.
func (Projector) Name() string { return Name }

// Schema implements projections.Projector.
func (Projector) Schema() projections.Schema {
	return projections.Schema{
		Tables:       []string{"ledger_orders", "ledger_shipments", "ledger_vendors", "ledger_entries", "ledger_balances", "ledger_payouts", "ledger_runs", "ledger_refunds"},
		Create:       "rm_ledger_v1_create",
		Index:        "rm_ledger_v1_index",
		PayloadTypes: payloadTypes,
	}
}

// payloadTypes are the events the ledger reads; others of the same streams
// arrive without payload and are skipped.
var payloadTypes = projections.EventNames([]eventstore.Event{order.Placed{}, order.StatusChanged{}, order.LinesCancelled{}}, payment.Events, vendor.Events,
	[]eventstore.Event{shipment.Created{}, shipment.Delivered{}, shipment.FundsReleased{}}, payout.Events,
	[]eventstore.Event{statement.CarrierFeeRecorded{}})

// sale is an order as ledger_orders keeps it.
type sale struct {
	Lines    []order.Line   `json:"lines"`
	Totals   order.Totals   `json:"totals"`
	Rounding money.Rounding `json:"rounding,omitempty"`
}

// Apply implements projections.Projector. Events are applied one by one, in
// order: a settlement reads the order and the vendors' rates as the earlier
// events of the batch left them.
func (p Projector) Apply(ctx context.Context, tx pgx.Tx, batch []eventstore.Envelope) error {
	for _, env := range batch {
		switch env.StreamType {
		case order.StreamType, payment.StreamType, vendor.StreamType, shipment.StreamType, payout.StreamType, payout.RunStreamType, statement.RemittanceStreamType:
		default:
			continue
		}
		if !slices.Contains(payloadTypes, env.Type) || !p.Registry.Known(env.Type) {
			continue
		}
		ev, err := p.Registry.Decode(env)
		if err != nil {
			return fmt.Errorf("ledger: %w", err)
		}
		if err := apply(ctx, tx, env, ev); err != nil {
			return fmt.Errorf("ledger: %s at %s: %w", env.Type, env.Position, err)
		}
	}
	return nil
}

func apply(ctx context.Context, tx pgx.Tx, env eventstore.Envelope, ev eventstore.Event) error {
	t := env.Tenant.UUID
	switch e := ev.(type) {
	case order.Placed:
		b, err := json.Marshal(sale{Lines: e.Lines, Totals: e.Totals, Rounding: e.Tax.Rounding})
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO ledger_orders (tenant_id, order_id, payment_id, currency, sale, placed_at)
VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`, t, env.StreamID, e.Payment, string(e.Totals.Total.Currency()), b, e.At.UTC())
		return err
	case vendor.Created:
		rates, err := json.Marshal([]vendor.Rate{{Rate: e.CommissionRate, EffectiveFrom: e.At, SetAt: e.At}})
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO ledger_vendors (tenant_id, vendor_id, name, commission, rates) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT DO NOTHING`, t, env.StreamID, e.Name, e.CommissionRate, rates)
		return err
	case vendor.PayoutAccountSet:
		_, err := tx.Exec(ctx, `UPDATE ledger_vendors SET payout_account = $3 WHERE tenant_id = $1 AND vendor_id = $2`, t, env.StreamID, e.Account)
		return err
	case payout.Recorded:
		_, err := tx.Exec(ctx, `INSERT INTO ledger_payouts (tenant_id, payout_id, vendor_id, run_id, currency, amount, paid_at, reference, event_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`, t, e.ID.UUID, e.Vendor, e.Run, string(e.Amount.Currency()), e.Amount.Amount(), e.PaidAt.UTC(), e.Reference, env.EventID)
		if err != nil {
			return err
		}
		return post(ctx, tx, env, e.PaidAt, uuid.Nil, ledger.Payout(e.Vendor, e.Amount))
	case payout.RunCreated:
		_, err := tx.Exec(ctx, `INSERT INTO ledger_runs (tenant_id, run_id, period_end, currency, min_amount, total, items, skipped, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`, t, e.ID.UUID, e.PeriodEnd.UTC(), string(e.Total.Currency()), e.MinAmount.Amount(),
			e.Total.Amount(), e.Items, e.Skipped, e.At.UTC())
		return err
	case vendor.Updated:
		var latest decimal.Decimal
		var raw []byte
		err := tx.QueryRow(ctx, `SELECT commission, rates FROM ledger_vendors WHERE tenant_id = $1 AND vendor_id = $2`, t, env.StreamID).Scan(&latest, &raw)
		if err != nil {
			return err
		}
		var rates []vendor.Rate
		if err := json.Unmarshal(raw, &rates); err != nil {
			return err
		}
		b, err := json.Marshal(vendor.NextRates(rates, latest, e))
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE ledger_vendors SET name = $5, commission = $3, rates = $4 WHERE tenant_id = $1 AND vendor_id = $2`,
			t, env.StreamID, e.CommissionRate, b, e.Name)
		return err
	case payment.Received:
		return postForPayment(ctx, tx, env, e.At, ledger.Received(ledger.CashBankTransfer, e.Amount))
	case payment.CODCollected:
		return postForPayment(ctx, tx, env, e.At, ledger.Received(ledger.CashCOD, e.Amount))
	case payment.RefundDue:
		if err := refund(ctx, tx, env, e.At, e.Amount.Amount(), decimal.Zero); err != nil {
			return err
		}
		return postForPayment(ctx, tx, env, e.At, ledger.RefundDue(e.Amount))
	case payment.Reinstated:
		if err := refund(ctx, tx, env, e.At, e.Amount.Amount().Neg(), decimal.Zero); err != nil {
			return err
		}
		return postForPayment(ctx, tx, env, e.At, ledger.Reinstated(e.Amount))
	case payment.RefundPaid:
		if err := refund(ctx, tx, env, e.At, decimal.Zero, e.Amount.Amount()); err != nil {
			return err
		}
		return postForPayment(ctx, tx, env, e.PaidAt, ledger.RefundPaid(e.Amount))
	case payment.RefundAccountSet:
		_, err := tx.Exec(ctx, `INSERT INTO ledger_refunds (tenant_id, payment_id, order_id, currency, account, updated_at, tx_id, position)
SELECT $1, $2, order_id, currency, $3, $4, $5::text::xid8, $6 FROM ledger_orders WHERE tenant_id = $1 AND payment_id = $2
ON CONFLICT (tenant_id, payment_id) DO UPDATE SET account = excluded.account, updated_at = excluded.updated_at,
  tx_id = excluded.tx_id, position = excluded.position
WHERE (ledger_refunds.tx_id, ledger_refunds.position) < (excluded.tx_id, excluded.position)`,
			t, env.StreamID, e.Account, e.At.UTC(), env.Position.TxText(), env.Position.Pos)
		return err
	case payment.Settled:
		return recognise(ctx, tx, env, e.At)
	case order.StatusChanged:
		if e.To == order.StatusCancelled {
			return unrecognise(ctx, tx, env, e.At)
		}
		return nil
	case order.LinesCancelled:
		return cancelLines(ctx, tx, env, e)
	case shipment.Created:
		_, err := tx.Exec(ctx, `INSERT INTO ledger_shipments (tenant_id, shipment_id, order_id, vendor_id) VALUES ($1, $2, $3, $4)
ON CONFLICT DO NOTHING`, t, env.StreamID, e.Order, e.Vendor)
		return err
	case shipment.Delivered:
		until := e.At.Add(shipment.LegacyHold)
		if e.HoldUntil != nil {
			until = *e.HoldUntil
		}
		_, err := tx.Exec(ctx, `UPDATE ledger_shipments SET hold_until = $3 WHERE tenant_id = $1 AND shipment_id = $2`, t, env.StreamID, until.UTC())
		return err
	case statement.CarrierFeeRecorded:
		if !e.Fee.IsPositive() {
			return nil
		}
		return post(ctx, tx, env, e.RemittedOn, e.Order, ledger.CarrierFee(e.Fee))
	case shipment.FundsReleased:
		return release(ctx, tx, env, e.At)
	}
	return nil
}

// refund adds to the refund due and paid of a payment's order.
func refund(ctx context.Context, tx pgx.Tx, env eventstore.Envelope, at time.Time, due, paid decimal.Decimal) error {
	_, err := tx.Exec(ctx, `INSERT INTO ledger_refunds (tenant_id, payment_id, order_id, currency, due, paid, updated_at, tx_id, position)
SELECT $1, $2, order_id, currency, $3, $4, $5, $6::text::xid8, $7 FROM ledger_orders WHERE tenant_id = $1 AND payment_id = $2
ON CONFLICT (tenant_id, payment_id) DO UPDATE SET due = ledger_refunds.due + excluded.due, paid = ledger_refunds.paid + excluded.paid,
  updated_at = excluded.updated_at, tx_id = excluded.tx_id, position = excluded.position
WHERE (ledger_refunds.tx_id, ledger_refunds.position) < (excluded.tx_id, excluded.position)`,
		env.Tenant.UUID, env.StreamID, due, paid, at.UTC(), env.Position.TxText(), env.Position.Pos)
	return err
}

// postForPayment posts a payment event's lines against its order.
func postForPayment(ctx context.Context, tx pgx.Tx, env eventstore.Envelope, at time.Time, lines []ledger.Line) error {
	var orderID uuid.UUID
	err := tx.QueryRow(ctx, `SELECT order_id FROM ledger_orders WHERE tenant_id = $1 AND payment_id = $2`, env.Tenant.UUID, env.StreamID).Scan(&orderID)
	if err != nil {
		return fmt.Errorf("order of payment %s: %w", env.StreamID, err)
	}
	return post(ctx, tx, env, at, orderID, lines)
}

// release makes the vendor's net of the shipment's order payable; before
// the order is recognised it only marks the shipment, and the recognition
// posts the vendor's net as payable at once.
func release(ctx context.Context, tx pgx.Tx, env eventstore.Envelope, at time.Time) error {
	t := env.Tenant.UUID
	var orderID, vendorID uuid.UUID
	var nets map[string]string
	var recognised bool
	var currency string
	err := tx.QueryRow(ctx, `UPDATE ledger_shipments s SET released = true FROM ledger_orders o
WHERE s.tenant_id = $1 AND s.shipment_id = $2 AND o.tenant_id = s.tenant_id AND o.order_id = s.order_id
RETURNING s.order_id, s.vendor_id, o.nets, o.recognised, o.currency`, t, env.StreamID).Scan(&orderID, &vendorID, &nets, &recognised, &currency)
	if err != nil {
		return fmt.Errorf("shipment %s: %w", env.StreamID, err)
	}
	if !recognised {
		return nil
	}
	net, err := money.Parse(nets[vendorID.String()], money.Currency(strings.TrimSpace(currency)))
	if err != nil {
		return fmt.Errorf("net of vendor %s: %w", vendorID, err)
	}
	return post(ctx, tx, env, at, orderID, ledger.Released(vendorID, net))
}

// saleOf reads what recognising an order needs: the order (found by its
// payment, or by its id when env is an order event), whether it is
// recognised, and the sale with each line's rate.
func saleOf(ctx context.Context, tx pgx.Tx, env eventstore.Envelope) (uuid.UUID, bool, ledger.Sale, error) {
	t := env.Tenant.UUID
	var raw []byte
	var placed time.Time
	var done bool
	var orderID uuid.UUID
	key := "payment_id"
	if env.StreamType == order.StreamType {
		key = "order_id"
	}
	err := tx.QueryRow(ctx, `SELECT order_id, sale, placed_at, recognised FROM ledger_orders WHERE tenant_id = $1 AND `+key+` = $2`,
		t, env.StreamID).Scan(&orderID, &raw, &placed, &done)
	if err != nil {
		return orderID, false, ledger.Sale{}, fmt.Errorf("order of %s %s: %w", env.StreamType, env.StreamID, err)
	}
	var s sale
	if err := json.Unmarshal(raw, &s); err != nil {
		return orderID, false, ledger.Sale{}, err
	}
	rates := map[uuid.UUID][]vendor.Rate{}
	for _, l := range s.Lines {
		if _, ok := rates[l.Vendor]; ok || l.CommissionRate != nil {
			continue
		}
		var rb []byte
		err := tx.QueryRow(ctx, `SELECT rates FROM ledger_vendors WHERE tenant_id = $1 AND vendor_id = $2`, t, l.Vendor).Scan(&rb)
		if errors.Is(err, pgx.ErrNoRows) {
			rates[l.Vendor] = nil
			continue
		}
		if err != nil {
			return orderID, false, ledger.Sale{}, err
		}
		var rs []vendor.Rate
		if err := json.Unmarshal(rb, &rs); err != nil {
			return orderID, false, ledger.Sale{}, err
		}
		rates[l.Vendor] = rs
	}
	return orderID, done, ledger.Sale{Lines: s.Lines, Totals: s.Totals, Rounding: s.Rounding,
		RateOf: func(l order.Line) decimal.Decimal {
			if rs := rates[l.Vendor]; len(rs) > 0 {
				return vendor.RateIn(rs, placed)
			}
			return decimal.Zero
		}}, nil
}

// recognise posts the sale of the settled payment's order, once.
func recognise(ctx context.Context, tx pgx.Tx, env eventstore.Envelope, at time.Time) error {
	t := env.Tenant.UUID
	orderID, done, sl, err := saleOf(ctx, tx, env)
	if err != nil || done {
		return err
	}
	lines, err := ledger.Recognised(sl)
	if err != nil {
		return err
	}
	parts, err := sl.Parts()
	if err != nil {
		return err
	}
	// Parcels whose return window already ended (COD collected late): their
	// vendors' money is payable at once.
	var released []uuid.UUID
	rows, err := tx.Query(ctx, `SELECT vendor_id FROM ledger_shipments WHERE tenant_id = $1 AND order_id = $2 AND released`, t, orderID)
	if err != nil {
		return err
	}
	if released, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID]); err != nil {
		return err
	}
	nets := map[string]string{}
	for _, p := range parts {
		nets[p.Vendor.String()] = p.Net.AmountString()
		if slices.Contains(released, p.Vendor) {
			lines = append(lines, ledger.Released(p.Vendor, p.Net)...)
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE ledger_orders SET recognised = true, nets = $3 WHERE tenant_id = $1 AND order_id = $2`, t, orderID, nets); err != nil {
		return err
	}
	return post(ctx, tx, env, at, orderID, lines)
}

// unrecognise reverses the recognised sale of a cancelled order (nothing
// had shipped, so every vendor's part is still held): the
// vendors, the commission, its tax, shipping and the fee give back what
// recognition gave them, to deposits, from where the refund due takes it.
func unrecognise(ctx context.Context, tx pgx.Tx, env eventstore.Envelope, at time.Time) error {
	orderID, done, sl, err := saleOf(ctx, tx, env)
	if err != nil || !done {
		return err
	}
	lines, err := ledger.Recognised(sl)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE ledger_orders SET recognised = false, nets = '{}' WHERE tenant_id = $1 AND order_id = $2`,
		env.Tenant.UUID, orderID); err != nil {
		return err
	}
	return post(ctx, tx, env, at, orderID, ledger.Reversed(lines))
}

// cancelLines takes the cancelled units off the order's sale and, when the
// sale was recognised, posts the difference: what the cancelled lines had
// given the vendors, the commission and its tax goes back to deposits,
// from where the refund due takes it. The difference is the recognition of
// the new sale less that of the old, netted per account and vendor, so
// every rounding is the one the remaining lines get.
func cancelLines(ctx context.Context, tx pgx.Tx, env eventstore.Envelope, e order.LinesCancelled) error {
	t := env.Tenant.UUID
	orderID, done, before, err := saleOf(ctx, tx, env)
	if err != nil {
		return err
	}
	left := map[uuid.UUID]order.CancelledLine{}
	for _, c := range e.Lines {
		left[c.Line] = c
	}
	after := before
	after.Lines = nil
	for _, l := range before.Lines {
		if c, ok := left[l.ID]; ok {
			l = c.Apply(l) // the units and the discount left
		}
		if l.Quantity > 0 {
			after.Lines = append(after.Lines, l)
		}
	}
	after.Totals = e.Totals
	b, err := json.Marshal(sale{Lines: after.Lines, Totals: after.Totals, Rounding: after.Rounding})
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE ledger_orders SET sale = $3 WHERE tenant_id = $1 AND order_id = $2`, t, orderID, b); err != nil {
		return err
	}
	if !done {
		return nil
	}
	old, err := ledger.Recognised(before)
	if err != nil {
		return err
	}
	now, err := ledger.Recognised(after)
	if err != nil {
		return err
	}
	parts, err := after.Parts()
	if err != nil {
		return err
	}
	nets := map[string]string{}
	for _, p := range parts {
		nets[p.Vendor.String()] = p.Net.AmountString()
	}
	if _, err := tx.Exec(ctx, `UPDATE ledger_orders SET nets = $3 WHERE tenant_id = $1 AND order_id = $2`, t, orderID, nets); err != nil {
		return err
	}
	diff, err := ledger.Net(append(ledger.Reversed(old), now...))
	if err != nil {
		return err
	}
	return post(ctx, tx, env, e.At, orderID, diff)
}

// postLine inserts one line and, when it is new, adds it to its balance:
// a line applied twice moves nothing twice.
const postLine = `
WITH e AS (
  INSERT INTO ledger_entries (tenant_id, entry_id, event_id, seq, tx_id, position, order_id, vendor_id, account, currency, debit, credit, at)
  SELECT $1, $2, $3, $4, $5::text::xid8, $6, $7, $8, $9, $10, $11, $12, $13
  ON CONFLICT DO NOTHING
  RETURNING tenant_id, vendor_id, account, currency, debit, credit)
INSERT INTO ledger_balances (tenant_id, vendor_id, account, currency, debit, credit)
SELECT tenant_id, vendor_id, account, currency, debit, credit FROM e
ON CONFLICT (tenant_id, vendor_id, account, currency)
DO UPDATE SET debit = ledger_balances.debit + excluded.debit, credit = ledger_balances.credit + excluded.credit`

// post writes an event's entry for an order (uuid.Nil: none), dated at (the event's business
// time): its lines and the balances they move. An entry that does not balance is refused (the batch fails loudly
// rather than the ledger drifting).
func post(ctx context.Context, tx pgx.Tx, env eventstore.Envelope, at time.Time, orderID uuid.UUID, lines []ledger.Line) error {
	if err := ledger.Balanced(lines); err != nil {
		return err
	}
	b := &pgx.Batch{}
	t := env.Tenant.UUID
	var ord *uuid.UUID
	if orderID != uuid.Nil {
		ord = &orderID
	}
	for i, l := range lines {
		if l.Debit.IsZero() && l.Credit.IsZero() {
			continue
		}
		id := EntryID(env.EventID, i)
		b.Queue(postLine, t, id, env.EventID, i, env.Position.TxText(), env.Position.Pos, ord,
			l.Vendor, string(l.Account), string(l.Debit.Currency()), l.Debit.Amount(), l.Credit.Amount(), at.UTC())
	}
	return tx.SendBatch(ctx, b).Close()
}

// EntryID is the id of the i-th line an event posted.
func EntryID(event uuid.UUID, i int) uuid.UUID {
	return uuid.NewSHA1(event, []byte("ledger:"+strconv.Itoa(i)))
}
