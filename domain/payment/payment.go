// Package payment holds the payment of an order: a bank transfer with a
// reference code and a due date, or cash on delivery collected by the
// carrier. Receipts may be partial or exceed what is due; the payment is
// settled once what was received covers the amount due, and an excess is
// recorded as a refund due. It imports only the standard library, uuid,
// decimal and other domain packages.
package payment

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/aggregate"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/ids"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/tenant"
)

// StreamType is the event stream type of payments.
const StreamType = "payment"

type kind struct{}

func (kind) Kind() string { return "payment" }

// ID identifies a payment.
type ID = ids.ID[kind]

// NewID returns a fresh payment ID.
func NewID() ID { return ids.New[kind]() }

// ParseID parses a payment ID.
func ParseID(s string) (ID, error) { return ids.Parse[kind](s) }

// Status of a payment.
type Status string

// Payment statuses.
const (
	StatusPending       Status = "pending"        // nothing received yet
	StatusPartiallyPaid Status = "partially_paid" // received less than due
	StatusPaid          Status = "paid"           // received covers due (an excess is a refund due)
	StatusCancelled     Status = "cancelled"      // the order was cancelled before payment
)

// Created is a payment's first event, written with its order.
type Created struct {
	ID     ID                  `json:"id"`
	Order  uuid.UUID           `json:"order_id"`
	Method order.PaymentMethod `json:"method"`
	Amount money.Money         `json:"amount"`
	// ReferenceCode is what a bank-transfer buyer writes before their name
	// (digits only, as banks keep them); empty for COD.
	ReferenceCode string `json:"reference_code,omitempty"`
	// DueAt is the transfer deadline; nil for COD.
	DueAt *time.Time `json:"due_at,omitempty"`
	// Account is the account to transfer to, as it was when ordering.
	Account *tenant.BankAccount `json:"bank_account,omitempty"`
	At      time.Time           `json:"at"`
}

// Received records money received by bank transfer.
type Received struct {
	Amount     money.Money `json:"amount"`
	ReceivedAt time.Time   `json:"received_at"`
	Reference  string      `json:"reference"`
	By         string      `json:"by"`
	At         time.Time   `json:"at"`
}

// CODCollected records cash on delivery collected by the carrier for a shipment.
type CODCollected struct {
	Shipment uuid.UUID   `json:"shipment_id"`
	Amount   money.Money `json:"amount"`
	At       time.Time   `json:"at"`
}

// Settled records that what was received covers what is due.
type Settled struct {
	Received money.Money `json:"received"`
	At       time.Time   `json:"at"`
}

// RefundDue records an overpayment to give back.
type RefundDue struct {
	Amount money.Money `json:"amount"`
	At     time.Time   `json:"at"`
}

// RefundPaid records money owed back paid to the buyer (a transfer to the
// account they gave).
type RefundPaid struct {
	Amount    money.Money `json:"amount"`
	PaidAt    time.Time   `json:"paid_at"`
	Reference string      `json:"reference"`
	At        time.Time   `json:"at"`
}

// RefundAccountSet records the account the buyer asked to be refunded to.
type RefundAccountSet struct {
	Account tenant.BankAccount `json:"account"`
	At      time.Time          `json:"at"`
}

// Reinstated takes Amount (the amount due) out of the refund due of a
// cancelled payment whose money arrived late: staff reinstated its order.
type Reinstated struct {
	Amount money.Money `json:"amount"`
	Reason string      `json:"reason"`
	At     time.Time   `json:"at"`
}

// AmountChanged records a new amount due: some lines of the order were
// cancelled and its total shrank. What was received beyond To becomes a
// refund due (a RefundDue follows), and a receipt covering To settles the
// payment (a Settled follows).
type AmountChanged struct {
	From   money.Money `json:"from"`
	To     money.Money `json:"to"`
	Reason string      `json:"reason"`
	At     time.Time   `json:"at"`
}

// Cancelled records that the payment will not be made (the order was cancelled).
type Cancelled struct {
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// EventName implements aggregate.Event.
func (Created) EventName() string { return "payment.created.v1" }

// EventName implements aggregate.Event.
func (Received) EventName() string { return "payment.received.v1" }

// EventName implements aggregate.Event.
func (CODCollected) EventName() string { return "payment.cod_collected.v1" }

// EventName implements aggregate.Event.
func (Settled) EventName() string { return "payment.settled.v1" }

// EventName implements aggregate.Event.
func (RefundDue) EventName() string { return "payment.refund_due.v1" }

// EventName implements aggregate.Event.
func (Cancelled) EventName() string { return "payment.cancelled.v1" }

// EventName implements aggregate.Event.
func (Reinstated) EventName() string { return "payment.reinstated.v1" }

// EventName implements aggregate.Event.
func (RefundPaid) EventName() string { return "payment.refund_paid.v1" }

// EventName implements aggregate.Event.
func (RefundAccountSet) EventName() string { return "payment.refund_account_set.v1" }

// EventName implements aggregate.Event.
func (AmountChanged) EventName() string { return "payment.amount_changed.v1" }

// Events lists the payment events for the registry.
var Events = []aggregate.Event{Created{}, Received{}, CODCollected{}, Settled{}, RefundDue{}, Cancelled{}, Reinstated{}, AmountChanged{},
	RefundPaid{}, RefundAccountSet{}}

// Errors.
var (
	ErrNotBankTransfer = errs.Conflict("not_bank_transfer", "this order is not paid by bank transfer")
	ErrNotCOD          = errs.Conflict("not_cod", "this order is not paid cash on delivery")
	ErrCancelled       = errs.Conflict("payment_cancelled", "the payment was cancelled with its order")
	ErrAmount          = errs.Field("amount", "must be a positive amount in the order's currency")
	// ErrReferenceReused means a receipt with the same bank reference was
	// recorded before with another amount.
	ErrReferenceReused = errs.Conflict("receipt_reference_reused", "a receipt with this reference was already recorded with another amount")
	// ErrAlreadyCollected means the shipment's collection was recorded
	// before with another amount.
	ErrAlreadyCollected = errs.Conflict("cod_already_collected", "the collection of this shipment was already recorded with another amount")
	// ErrNotReinstatable refuses to reinstate a payment that is not a
	// cancelled bank transfer whose money received covers what is due.
	// ErrRefundExceedsDue: more would be refunded than is owed back.
	ErrRefundExceedsDue = errs.Conflict("refund_exceeds_due", "the amount is more than the refund still due on this order")
	// ErrRefundReference: the reference was used by another refund of the payment.
	ErrRefundReference = errs.Conflict("refund_reference_used", "a refund with this reference is already recorded for this order")
	ErrNotReinstatable = errs.Conflict("order_not_reinstatable", "only a cancelled bank-transfer order whose money arrived (in full) can be reinstated")
)

// Payment is an order's payment.
type Payment struct {
	aggregate.Base
	id       ID
	order    uuid.UUID
	method   order.PaymentMethod
	due      money.Money
	received money.Money
	status   Status
	dueAt    *time.Time
	refund   money.Money
	// receipts are the bank references recorded, with their amounts.
	receipts map[string]money.Money
	// unreferenced are the receipts recorded without a bank reference.
	unreferenced []Received
	// collected are the shipments whose COD collection is recorded.
	collected map[uuid.UUID]money.Money
	// refundPaid is what was paid back of the refund due, refundRefs the
	// references of those transfers, refundAccount where the buyer wants it.
	refundPaid    money.Money
	refundRefs    map[string]bool
	refundAccount *tenant.BankAccount
}

// Create records a new payment of amount for an order.
func Create(c Created, now time.Time) *Payment {
	c.At = now.UTC()
	p := &Payment{}
	p.record(c)
	return p
}

// FromHistory rebuilds a payment from its events, without validation: it is
// the only path that skips it.
func FromHistory(history []aggregate.Event) *Payment {
	p := &Payment{}
	for _, e := range history {
		p.apply(e)
	}
	p.Replayed(len(history))
	return p
}

func (p *Payment) checkAmount(m money.Money) error {
	if m.Currency() != p.due.Currency() || !m.IsPositive() {
		return ErrAmount
	}
	return nil
}

// bankDay is the day a transfer was credited, in Japan: bank statements
// list credits by day, so that is what identifies a receipt without a
// reference.
func bankDay(t time.Time) string {
	return t.In(time.FixedZone("JST", 9*60*60)).Format(time.DateOnly)
}

// Receive records a bank transfer received: partial leaves it partially
// paid, enough settles it, more records the excess as a refund due. A
// receipt whose non-empty reference was recorded before with the same
// amount records nothing (a repeated confirmation). Without a reference, a
// receipt of the same amount credited the same (Japanese) day as an earlier
// unreferenced one is that receipt confirmed again and records nothing,
// unless distinct says the caller asserts a separate transfer (a request
// with its own Idempotency-Key). A transfer received for a cancelled
// payment is recorded with a refund due of the whole amount. It returns
// ErrNotBankTransfer, ErrAmount or ErrReferenceReused.
func (p *Payment) Receive(amount money.Money, receivedAt time.Time, reference string, distinct bool, by string, now time.Time) error {
	if p.method != order.PaymentBankTransfer {
		return ErrNotBankTransfer
	}
	if err := p.checkAmount(amount); err != nil {
		return err
	}
	if prev, ok := p.receipts[reference]; ok && reference != "" {
		if prev.Equal(amount) {
			return nil
		}
		return ErrReferenceReused
	}
	if reference == "" && !distinct {
		for _, r := range p.unreferenced {
			if r.Amount.Equal(amount) && bankDay(r.ReceivedAt) == bankDay(receivedAt) {
				return nil
			}
		}
	}
	// A cancelled order's payment owes back everything it received (a paid
	// one keeps its status, with the whole receipt as a refund due).
	refundAll := p.status == StatusCancelled || p.received.IsPositive() && p.refund.Equal(p.received)
	p.record(Received{Amount: amount, ReceivedAt: receivedAt.UTC(), Reference: reference, By: by, At: now.UTC()})
	if refundAll {
		// Money that arrives for a cancelled order is recorded and due back:
		// it is never dropped.
		p.record(RefundDue{Amount: amount, At: now.UTC()})
		return nil
	}
	return p.settle(now)
}

// CollectCOD records cash collected by the carrier for a shipment. A
// shipment is collected once: recording it again with the same amount
// records nothing. It returns ErrNotCOD, ErrCancelled, ErrAmount or
// ErrAlreadyCollected.
func (p *Payment) CollectCOD(shipment uuid.UUID, amount money.Money, now time.Time) error {
	if p.method != order.PaymentCOD {
		return ErrNotCOD
	}
	if err := p.checkAmount(amount); err != nil {
		return err
	}
	if prev, ok := p.collected[shipment]; ok {
		if prev.Equal(amount) {
			return nil
		}
		return ErrAlreadyCollected
	}
	if p.status == StatusCancelled {
		return ErrCancelled
	}
	p.record(CODCollected{Shipment: shipment, Amount: amount, At: now.UTC()})
	return p.settle(now)
}

func (p *Payment) settle(now time.Time) error {
	if p.status == StatusPaid {
		// Already settled: anything more is an overpayment to refund.
		over, err := p.received.Sub(p.due)
		if err != nil {
			return err
		}
		if c, _ := over.Cmp(p.refund); c > 0 {
			extra, err := over.Sub(p.refund)
			if err != nil {
				return err
			}
			p.record(RefundDue{Amount: extra, At: now.UTC()})
		}
		return nil
	}
	if c, err := p.received.Cmp(p.due); err != nil || c < 0 {
		return err
	}
	p.record(Settled{Received: p.received, At: now.UTC()})
	// The overpayment not owed back yet (a reinstated payment already owes
	// back what it received beyond the amount due).
	if over, err := p.received.Sub(p.due); err == nil {
		if extra, err := over.Sub(p.refund); err == nil && extra.IsPositive() {
			p.record(RefundDue{Amount: extra, At: now.UTC()})
		}
	}
	return nil
}

// Reinstate revives a cancelled bank-transfer payment whose money arrived
// after the cancellation (all of it a refund due): the amount due leaves
// the refund due and the payment settles; what was received beyond it
// stays due back. It returns ErrNotBankTransfer and ErrNotReinstatable (not
// cancelled, or the refund due does not cover the amount due).
func (p *Payment) Reinstate(reason string, now time.Time) error {
	if p.method != order.PaymentBankTransfer {
		return ErrNotBankTransfer
	}
	if p.status != StatusCancelled {
		return ErrNotReinstatable
	}
	if c, err := p.RefundOutstanding().Cmp(p.due); err != nil || c < 0 {
		return ErrNotReinstatable
	}
	p.record(Reinstated{Amount: p.due, Reason: reason, At: now.UTC()})
	return p.settle(now)
}

// Cancel cancels an unpaid payment (its order was cancelled). A paid payment
// stays paid; what was received is then a refund due.
func (p *Payment) Cancel(reason string, now time.Time) {
	switch p.status {
	case StatusCancelled:
		return
	case StatusPaid:
		if p.received.IsPositive() {
			if extra, err := p.received.Sub(p.refund); err == nil && extra.IsPositive() {
				p.record(RefundDue{Amount: extra, At: now.UTC()})
			}
		}
		return
	}
	p.record(Cancelled{Reason: reason, At: now.UTC()})
	if p.received.IsPositive() {
		p.record(RefundDue{Amount: p.received, At: now.UTC()})
	}
}

// ChangeAmount makes to the amount due (its order's new total after a
// partial cancellation). What was received beyond it becomes a refund due;
// an unpaid payment whose receipts now cover it settles. The same amount
// records nothing. It returns ErrCancelled for a cancelled payment and
// ErrAmount for a negative amount or one in another currency.
func (p *Payment) ChangeAmount(to money.Money, reason string, now time.Time) error {
	if to.Currency() != p.due.Currency() || to.IsNegative() {
		return ErrAmount
	}
	if p.status == StatusCancelled {
		return ErrCancelled
	}
	if to.Equal(p.due) {
		return nil
	}
	p.record(AmountChanged{From: p.due, To: to, Reason: reason, At: now.UTC()})
	return p.settle(now)
}

// PayRefund records amount of the refund due paid back on paidAt with the
// bank's reference. It returns ErrAmount, an Invalid error for a missing
// reference or a future date, ErrRefundExceedsDue and ErrRefundReference.
func (p *Payment) PayRefund(amount money.Money, paidAt time.Time, reference string, now time.Time) error {
	if amount.Currency() != p.due.Currency() || !amount.IsPositive() {
		return ErrAmount
	}
	reference = strings.TrimSpace(reference)
	var v errs.Collector
	v.Check(reference != "" && utf8.RuneCountInString(reference) <= 64, "reference", "is required: the bank's reference of the transfer (≤ 64 characters)")
	v.Check(!paidAt.IsZero() && !paidAt.After(now), "paid_at", "is required and must not be in the future")
	if err := v.Err(); err != nil {
		return err
	}
	if p.refundRefs[reference] {
		return ErrRefundReference
	}
	if c, err := amount.Cmp(p.RefundOutstanding()); err != nil || c > 0 {
		return ErrRefundExceedsDue
	}
	p.record(RefundPaid{Amount: amount, PaidAt: paidAt.UTC(), Reference: reference, At: now.UTC()})
	return nil
}

// SetRefundAccount records the account the buyer is to be refunded to.
func (p *Payment) SetRefundAccount(a tenant.BankAccount, now time.Time) error {
	if err := a.Validate(""); err != nil {
		return err
	}
	if p.refundAccount != nil && *p.refundAccount == a {
		return nil
	}
	p.record(RefundAccountSet{Account: a, At: now.UTC()})
	return nil
}

// RefundOutstanding returns the refund due not paid back yet.
func (p *Payment) RefundOutstanding() money.Money {
	out, err := p.refund.Sub(p.refundPaid)
	if err != nil {
		return p.refund
	}
	return out
}

// RefundAccount returns the account the buyer is to be refunded to, or nil.
func (p *Payment) RefundAccount() *tenant.BankAccount { return p.refundAccount }

func (p *Payment) record(e aggregate.Event) { p.apply(e); p.Record(e) }

func (p *Payment) apply(e aggregate.Event) {
	switch e := e.(type) {
	case Created:
		p.id, p.order, p.method, p.due, p.dueAt = e.ID, e.Order, e.Method, e.Amount, e.DueAt
		p.received, p.refund, p.refundPaid, p.status = money.Zero(e.Amount.Currency()), money.Zero(e.Amount.Currency()), money.Zero(e.Amount.Currency()), StatusPending
		p.receipts, p.collected, p.refundRefs = map[string]money.Money{}, map[uuid.UUID]money.Money{}, map[string]bool{}
	case Received:
		p.receipts[e.Reference] = e.Amount
		if e.Reference == "" {
			p.unreferenced = append(p.unreferenced, e)
		}
		p.received, _ = p.received.Add(e.Amount)
		if p.status == StatusPending {
			p.status = StatusPartiallyPaid
		}
	case CODCollected:
		p.collected[e.Shipment] = e.Amount
		p.received, _ = p.received.Add(e.Amount)
		if p.status == StatusPending {
			p.status = StatusPartiallyPaid
		}
	case Settled:
		p.status = StatusPaid
	case RefundDue:
		p.refund, _ = p.refund.Add(e.Amount)
	case Cancelled:
		p.status = StatusCancelled
	case AmountChanged:
		p.due = e.To
	case Reinstated:
		p.refund, _ = p.refund.Sub(e.Amount)
		p.status = StatusPartiallyPaid
	case RefundPaid:
		p.refundPaid, _ = p.refundPaid.Add(e.Amount)
		p.refundRefs[e.Reference] = true
	case RefundAccountSet:
		a := e.Account
		p.refundAccount = &a
	}
}

// ID returns the payment's id.
func (p *Payment) ID() ID { return p.id }

// Order returns the order paid for.
func (p *Payment) Order() uuid.UUID { return p.order }

// Method returns bank_transfer or cod.
func (p *Payment) Method() order.PaymentMethod { return p.method }

// Due returns the amount due.
func (p *Payment) Due() money.Money { return p.due }

// Received returns what was received so far.
func (p *Payment) Received() money.Money { return p.received }

// Balance returns what is still due (zero when settled).
func (p *Payment) Balance() money.Money {
	b, err := p.due.Sub(p.received)
	if err != nil || b.IsNegative() {
		return money.Zero(p.due.Currency())
	}
	return b
}

// RefundDue returns the overpayment to give back.
func (p *Payment) RefundDue() money.Money { return p.refund }

// Status returns the payment's status.
func (p *Payment) Status() Status { return p.status }

// IsSettled reports whether what was received covers what is due.
func (p *Payment) IsSettled() bool { return p.status == StatusPaid }

// DueAt returns the bank-transfer deadline (nil for COD).
func (p *Payment) DueAt() *time.Time { return p.dueAt }
