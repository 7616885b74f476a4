package commands

import (
	"context"
	"fmt"
	"time"

	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/payment"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

// PayRefund records money owed back on an order paid back to the buyer.
type PayRefund struct {
	Tenant    tenant.ID
	By        By
	Order     order.ID
	Amount    money.Money
	PaidAt    time.Time
	Reference string
}

// PayRefund appends payment.refund_paid. It returns eventstore.ErrNotFound,
// payment.ErrAmount and Invalid errors, payment.ErrRefundExceedsDue and
// payment.ErrRefundReference.
func (s *Service) PayRefund(ctx context.Context, c PayRefund) (Result, error) {
	now := s.Now()
	res, err := s.onPayment(ctx, c.Tenant, c.By, c.Order, func(p *payment.Payment) error {
		return p.PayRefund(c.Amount, c.PaidAt, c.Reference, now)
	})
	if err != nil {
		return Result{}, fmt.Errorf("pay refund of order %s: %w", c.Order, err)
	}
	return res, nil
}

// SetRefundAccount records the account a buyer is to be refunded to.
type SetRefundAccount struct {
	Tenant  tenant.ID
	By      By
	Order   order.ID
	Account tenant.BankAccount
}

// SetRefundAccount appends payment.refund_account_set. It returns
// eventstore.ErrNotFound and Invalid errors.
func (s *Service) SetRefundAccount(ctx context.Context, c SetRefundAccount) (Result, error) {
	now := s.Now()
	res, err := s.onPayment(ctx, c.Tenant, c.By, c.Order, func(p *payment.Payment) error {
		return p.SetRefundAccount(c.Account, now)
	})
	if err != nil {
		return Result{}, fmt.Errorf("set refund account of order %s: %w", c.Order, err)
	}
	return res, nil
}

// onPayment runs decide on the payment of order o under the order's lock
// and saves what it recorded.
func (s *Service) onPayment(ctx context.Context, t tenant.ID, by By, o order.ID, decide func(*payment.Payment) error) (Result, error) {
	_, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (struct{}, error) {
		st, err := loadOrder(ctx, tx, t, o.UUID, nil)
		if err != nil {
			return struct{}{}, err
		}
		if st.payment == nil {
			return struct{}{}, fmt.Errorf("payment of order %s: %w", o, eventstore.ErrNotFound)
		}
		if err := decide(st.payment); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, st.save(ctx, tx, t, by.metadata(t))
	})
	if err != nil {
		return Result{}, err
	}
	return orderResult(res, o.UUID), nil
}
