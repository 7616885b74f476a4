package commands

import (
	"context"
	"fmt"
	"time"

	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
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
	_, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (struct{}, error) {
		st, err := loadOrder(ctx, tx, c.Tenant, c.Order.UUID, nil)
		if err != nil {
			return struct{}{}, err
		}
		if st.payment == nil {
			return struct{}{}, fmt.Errorf("payment of order %s: %w", c.Order, eventstore.ErrNotFound)
		}
		if err := st.payment.PayRefund(c.Amount, c.PaidAt, c.Reference, now); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, st.save(ctx, tx, c.Tenant, c.By.metadata(c.Tenant))
	})
	if err != nil {
		return Result{}, fmt.Errorf("pay refund of order %s: %w", c.Order, err)
	}
	return orderResult(res, c.Order.UUID), nil
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
	_, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (struct{}, error) {
		st, err := loadOrder(ctx, tx, c.Tenant, c.Order.UUID, nil)
		if err != nil {
			return struct{}{}, err
		}
		if st.payment == nil {
			return struct{}{}, fmt.Errorf("payment of order %s: %w", c.Order, eventstore.ErrNotFound)
		}
		if err := st.payment.SetRefundAccount(c.Account, now); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, st.save(ctx, tx, c.Tenant, c.By.metadata(c.Tenant))
	})
	if err != nil {
		return Result{}, fmt.Errorf("set refund account of order %s: %w", c.Order, err)
	}
	return orderResult(res, c.Order.UUID), nil
}
