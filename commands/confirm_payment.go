package commands

import (
	"context"
	"fmt"
	"time"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/payment"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

// ConfirmPayment records a bank transfer received for an order, as staff
// read it on the bank statement.
type ConfirmPayment struct {
	Tenant tenant.ID
	By     By
	Order  order.ID
	// Amount is what arrived, in the order's currency.
	Amount money.Money
	// ReceivedAt is when it arrived; zero means now.
	ReceivedAt time.Time
	// Reference is the bank's reference of the credit (照会番号); optional.
	// A receipt with a reference is recorded once.
	Reference string
	// Distinct asserts that a receipt without a reference is a transfer of
	// its own even when one of the same amount was credited the same day
	// (the request carried its own Idempotency-Key); otherwise such a
	// receipt is the earlier one confirmed again and records nothing.
	Distinct bool
}

// ConfirmPayment records the receipt on the order's payment: less than due
// leaves the payment partially paid with a balance due, exactly enough
// settles it, more settles it with a refund due. Settling moves the order
// on through the order_on_payment_settled policy. A receipt whose reference
// was recorded before with the same amount appends nothing, and so does one
// without a reference matching an earlier unreferenced receipt's amount and
// bank day (unless Distinct). A transfer for a cancelled order is recorded
// all the same, with its whole amount as a refund due: money is never
// dropped.
//
// It returns eventstore.ErrNotFound for an unknown order, Invalid errors for
// a missing or non-positive amount (or one in another currency), a future
// received_at or a bad reference, payment.ErrNotBankTransfer for a COD
// order (409 not_bank_transfer) and payment.ErrReferenceReused.
func (s *Service) ConfirmPayment(ctx context.Context, c ConfirmPayment) (Result, error) {
	now := s.Now()
	var v errs.Collector
	v.Check(c.Amount.Currency() != "" && c.Amount.IsPositive(), "amount", "must be a positive amount")
	ref := checkNote(&v, "reference", c.Reference, MaxOrderNoteLen)
	at := c.ReceivedAt.UTC()
	if at.IsZero() {
		at = now
	}
	v.Check(!at.After(now.Add(time.Hour)), "received_at", "must not be in the future")
	if err := v.Err(); err != nil {
		return Result{}, err
	}
	_, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (struct{}, error) {
		_, err := receiveTransfer(ctx, tx, c, at, ref, now)
		return struct{}{}, err
	})
	if err != nil {
		return Result{}, fmt.Errorf("confirm payment of order %s: %w", c.Order, err)
	}
	return orderResult(res, c.Order.UUID), nil
}

// receiveTransfer records a checked ConfirmPayment in tx: the receipt on
// the order's payment, saved with the order. It returns the order's payment
// id.
func receiveTransfer(ctx context.Context, tx *eventstore.Tx, c ConfirmPayment, at time.Time, ref string, now time.Time) (payment.ID, error) {
	st, err := loadOrder(ctx, tx, c.Tenant, c.Order.UUID, nil)
	if err != nil {
		return payment.ID{}, err
	}
	if st.order.PaymentMethod() != order.PaymentBankTransfer || st.payment == nil {
		return payment.ID{}, payment.ErrNotBankTransfer
	}
	if c.Amount.Currency() != st.payment.Due().Currency() {
		return payment.ID{}, errs.Field("amount", "must be in "+string(st.payment.Due().Currency()))
	}
	if err := st.payment.Receive(c.Amount, at, ref, c.Distinct, c.By.Actor, now); err != nil {
		return payment.ID{}, err
	}
	return st.payment.ID(), st.save(ctx, tx, c.Tenant, c.By.metadata(c.Tenant))
}
