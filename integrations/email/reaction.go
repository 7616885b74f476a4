package email

import (
	"context"
	"errors"
	"fmt"
	"github.com/honten/honten/domain/personal"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/payment"
	"github.com/honten/honten/domain/shipment"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/eventstore/bus"
)

// ReactionName is the reaction's consumer group: frozen, since renaming it
// redelivers every event (which the outbox's dedup keys would absorb).
const ReactionName = "email_notifications"

// Reaction writes buyers' e-mails to the outbox from events.
type Reaction struct {
	Pool  *pgxpool.Pool
	Store *eventstore.Store
	// LoadTenantFunc returns a shop (its name, its settings' templates).
	LoadTenantFunc func(ctx context.Context, t tenant.ID) (*tenant.Tenant, error)
	// WrittenFunc, when set, is called after a message is written (the
	// sender's Nudge).
	WrittenFunc func()
}

// Handler is the bus handler of the reaction: an order placed (bank
// transfer or COD), a bank transfer's payment settled, a shipment shipped,
// an order cancelled, a refund paid.
func (r *Reaction) Handler() bus.Handler {
	return bus.Handler{Name: ReactionName, Topics: []string{order.StreamType, payment.StreamType, shipment.StreamType},
		Handle: r.handle}
}

// orderFacts are what the e-mails say about an order, from its stream and
// its payment's.
type orderFacts struct {
	placed  order.Placed
	payment payment.Created
}

func (r *Reaction) load(ctx context.Context, t tenant.ID, id uuid.UUID) ([]eventstore.Envelope, error) {
	envs, err := r.Store.Load(ctx, r.Pool, t, id)
	if err == nil && len(envs) == 0 {
		err = eventstore.ErrNotFound
	}
	return envs, err
}

// facts loads order id and its payment.
func (r *Reaction) facts(ctx context.Context, t tenant.ID, id uuid.UUID) (orderFacts, error) {
	var f orderFacts
	envs, err := r.load(ctx, t, id)
	if err != nil {
		return f, err
	}
	p, ok := envs[0].Data.(order.Placed)
	if !ok {
		return f, fmt.Errorf("order %s: %w", id, eventstore.ErrNotFound)
	}
	return r.factsOf(ctx, t, p)
}

// factsOf is facts of the order p placed, loading its payment.
func (r *Reaction) factsOf(ctx context.Context, t tenant.ID, p order.Placed) (orderFacts, error) {
	f := orderFacts{placed: p}
	penvs, err := r.load(ctx, t, p.Payment)
	if err != nil {
		return f, err
	}
	if c, ok := penvs[0].Data.(payment.Created); ok {
		f.payment = c
	}
	return f, nil
}

// firstOf returns the first event of stream id as a T.
func firstOf[T any](ctx context.Context, r *Reaction, t tenant.ID, id uuid.UUID) (T, error) {
	var zero T
	envs, err := r.load(ctx, t, id)
	if err != nil {
		return zero, err
	}
	v, ok := envs[0].Data.(T)
	if !ok {
		return zero, fmt.Errorf("stream %s: %w", id, eventstore.ErrNotFound)
	}
	return v, nil
}

func (r *Reaction) handle(ctx context.Context, env eventstore.Envelope) error {
	var name string
	var fill func(*Data)
	t := env.Tenant
	var f orderFacts
	var err error
	switch env.Type {
	case order.Placed{}.EventName():
		// The event is the order's first: opened with the buyer's key, it
		// is what loading the order would give.
		opened := []eventstore.Envelope{env}
		if err2 := r.Store.Registry().Unseal(ctx, r.Pool, opened); err2 != nil {
			return err2
		}
		ev, err2 := r.Store.Registry().Decode(opened[0])
		if err2 != nil {
			return err2
		}
		p := ev.(order.Placed)
		if f, err = r.factsOf(ctx, t, p); err != nil {
			break
		}
		name = "order_placed_cod"
		if p.PaymentMethod == order.PaymentBankTransfer {
			name = "order_placed_bank_transfer"
		}
	case order.StatusChanged{}.EventName():
		ev, err2 := r.Store.Registry().Decode(env)
		if err2 != nil {
			return err2
		}
		sc := ev.(order.StatusChanged)
		if sc.To != order.StatusCancelled {
			return nil
		}
		name = "cancelled"
		f, err = r.facts(ctx, t, env.StreamID)
		fill = func(d *Data) { d.Reason = sc.Reason }
	case payment.Settled{}.EventName():
		created, err2 := firstOf[payment.Created](ctx, r, t, env.StreamID)
		if err2 != nil {
			return ignoreMissing(err2)
		}
		if created.Method != order.PaymentBankTransfer {
			return nil // COD is settled by the carrier's collection: the buyer paid in person
		}
		ev, err2 := r.Store.Registry().Decode(env)
		if err2 != nil {
			return err2
		}
		name = "payment_confirmed"
		f, err = r.facts(ctx, t, created.Order)
		fill = func(d *Data) { d.Amount = Yen(ev.(payment.Settled).Received) }
	case payment.RefundPaid{}.EventName():
		created, err2 := firstOf[payment.Created](ctx, r, t, env.StreamID)
		if err2 != nil {
			return ignoreMissing(err2)
		}
		ev, err2 := r.Store.Registry().Decode(env)
		if err2 != nil {
			return err2
		}
		rp := ev.(payment.RefundPaid)
		name = "refund_paid"
		f, err = r.facts(ctx, t, created.Order)
		fill = func(d *Data) { d.Amount, d.PaidAt = Yen(rp.Amount), Date(rp.PaidAt) }
	case shipment.Shipped{}.EventName():
		created, err2 := firstOf[shipment.Created](ctx, r, t, env.StreamID)
		if err2 != nil {
			return ignoreMissing(err2)
		}
		ev, err2 := r.Store.Registry().Decode(env)
		if err2 != nil {
			return err2
		}
		sh := ev.(shipment.Shipped)
		name = "shipped"
		f, err = r.facts(ctx, t, created.Order)
		fill = func(d *Data) {
			d.Carrier, d.TrackingNo = CarrierJa(sh.Carrier), sh.TrackingNo
			if !created.CODAmount.IsZero() {
				d.COD, d.Amount = true, Yen(created.CODAmount)
			}
		}
	default:
		return nil
	}
	if err != nil {
		return ignoreMissing(err)
	}
	return r.write(ctx, t, env.EventID.String()+":"+name, name, f, fill)
}

func ignoreMissing(err error) error {
	if errors.Is(err, eventstore.ErrNotFound) {
		return nil // a stream of another shape: nothing to tell a buyer
	}
	return err
}

// write renders template name for the order of f and writes it to the outbox.
func (r *Reaction) write(ctx context.Context, t tenant.ID, dedup, name string, f orderFacts, fill func(*Data)) error {
	if f.placed.Customer.Email == "" || f.placed.Customer.Email == personal.Erased {
		return nil // no address, or the buyer was forgotten: nothing to send
	}
	tn, err := r.LoadTenantFunc(ctx, t)
	if err != nil {
		return err
	}
	d := dataFor(tn.Name(), f)
	if fill != nil {
		fill(&d)
	}
	rendered, err := RenderFor(tn, name, d)
	if err != nil {
		return err
	}
	wrote, err := Enqueue(ctx, r.Pool, Outgoing{Tenant: t, DedupKey: dedup, Template: name, To: f.placed.Customer.Email, FromName: tn.Name(), Rendered: rendered})
	if wrote && r.WrittenFunc != nil {
		r.WrittenFunc()
	}
	return err
}

// dataFor is the template data of an order.
func dataFor(shop string, f orderFacts) Data {
	p := f.placed
	d := Data{Shop: shop, OrderNumber: p.Number, CustomerName: p.Customer.Name, Total: Yen(p.Totals.Total),
		COD: p.PaymentMethod == order.PaymentCOD, Reference: f.payment.ReferenceCode}
	for _, l := range p.Lines {
		d.Lines = append(d.Lines, Line{Title: l.Title, Quantity: l.Quantity, Amount: Yen(l.UnitPrice.Mul(l.Quantity))})
	}
	if f.payment.Amount.Currency() != "" {
		d.Amount = Yen(f.payment.Amount)
	} else {
		d.Amount = d.Total
	}
	if f.payment.DueAt != nil {
		d.DueAt = Date(*f.payment.DueAt)
	}
	if f.payment.Account != nil {
		d.Bank, d.AccountType = *f.payment.Account, AccountTypeJa(f.payment.Account.AccountType)
	}
	return d
}

// Reminders writes the transfer deadline reminders due at now: one per
// bank-transfer order still awaiting its money whose deadline is within
// the next 24 hours (found through the order read model), at most limit
// per call. It returns how many it wrote.
func (r *Reaction) Reminders(ctx context.Context, now time.Time, limit int) (int, error) {
	const q = `SELECT p.tenant_id, p.order_id, p.payment_id, p.currency, p.amount - p.received
FROM order_view_payments p
JOIN order_views o ON o.tenant_id = p.tenant_id AND o.order_id = p.order_id
WHERE p.due_at IS NOT NULL AND p.status IN ('pending', 'partially_paid') AND p.due_at > $1 AND p.due_at <= $1 + interval '24 hours'
  AND o.status = 'pending_payment'
  AND NOT EXISTS (SELECT 1 FROM email_outbox e WHERE e.tenant_id = p.tenant_id AND e.dedup_key = 'reminder:' || p.payment_id::text)
ORDER BY p.status, p.due_at
LIMIT $2`
	type due struct {
		tenant         tenant.ID
		order, payment uuid.UUID
		currency       string
		left           decimal.Decimal
	}
	rows, err := r.Pool.Query(ctx, q, now, limit)
	if err != nil {
		return 0, fmt.Errorf("transfer reminders: %w", err)
	}
	dues, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (due, error) {
		var d due
		err := row.Scan(&d.tenant, &d.order, &d.payment, &d.currency, &d.left)
		return d, err
	})
	if err != nil {
		return 0, fmt.Errorf("transfer reminders: %w", err)
	}
	n := 0
	for _, d := range dues {
		f, err := r.facts(ctx, d.tenant, d.order)
		if errors.Is(err, eventstore.ErrNotFound) {
			continue
		}
		if err != nil {
			return n, err
		}
		left, err := money.New(d.left, money.Currency(d.currency))
		if err != nil {
			return n, err
		}
		if err := r.write(ctx, d.tenant, "reminder:"+d.payment.String(), "transfer_reminder", f, func(dd *Data) { dd.Amount = Yen(left) }); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
