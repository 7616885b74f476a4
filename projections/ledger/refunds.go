package ledger

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/projections"
)

// Refund is what an order owes its buyer back: the refund due in total,
// what was paid back, what is outstanding, and the account the buyer gave.
type Refund struct {
	OrderID     uuid.UUID           `json:"order_id"`
	PaymentID   uuid.UUID           `json:"payment_id"`
	Status      string              `json:"status"`
	Due         money.Money         `json:"due"`
	Paid        money.Money         `json:"paid"`
	Outstanding money.Money         `json:"outstanding"`
	Account     *tenant.BankAccount `json:"account"`
	UpdatedAt   time.Time           `json:"updated_at"`
}

// Refund statuses: due while anything is outstanding, paid after.
const (
	RefundStatusDue  = "due"
	RefundStatusPaid = "paid"
)

const refundCols = `order_id, payment_id, currency, due::text, paid::text, account, updated_at`

func scanRefund(r pgx.CollectableRow) (Refund, error) {
	var x Refund
	var cur, due, paid string
	if err := r.Scan(&x.OrderID, &x.PaymentID, &cur, &due, &paid, &x.Account, &x.UpdatedAt); err != nil {
		return x, err
	}
	c := money.Currency(strings.TrimSpace(cur))
	var err error
	if x.Due, x.Paid, err = pair(due, paid, string(c)); err != nil {
		return x, err
	}
	if x.Outstanding, err = x.Due.Sub(x.Paid); err != nil {
		return x, err
	}
	x.Status = RefundStatusPaid
	if x.Outstanding.IsPositive() {
		x.Status = RefundStatusDue
	}
	x.UpdatedAt = x.UpdatedAt.UTC()
	return x, nil
}

// ListRefunds lists tenant t's refunds with the status ("" for both), by
// order id, paged.
func ListRefunds(ctx context.Context, q eventstore.Querier, t tenant.ID, status string, p projections.Page) (projections.List[Refund], error) {
	switch status {
	case "", RefundStatusDue, RefundStatusPaid:
	default:
		return projections.List[Refund]{}, errs.Field("status", "must be one of: due, paid")
	}
	var after uuid.UUID
	hasCursor, err := p.DecodeCursor(&after)
	if err != nil {
		return projections.List[Refund]{}, err
	}
	rows, err := q.Query(ctx, `SELECT `+refundCols+` FROM ledger_refunds
WHERE tenant_id = $1 AND (due > 0 OR paid > 0)
  AND ($2 = '' OR ($2 = 'due') = (due > paid))
  AND (NOT $3 OR order_id > $4)
ORDER BY order_id LIMIT $5`, t, status, hasCursor, after, p.Limit+1)
	if err != nil {
		return projections.List[Refund]{}, fmt.Errorf("refunds: %w", err)
	}
	items, err := pgx.CollectRows(rows, scanRefund)
	if err != nil {
		return projections.List[Refund]{}, fmt.Errorf("refunds: %w", err)
	}
	return projections.NewList(items, p.Limit, func(r Refund) any { return r.OrderID }), nil
}

// GetRefund returns the refund of order o, or eventstore.ErrNotFound when
// nothing was ever owed back on it.
func GetRefund(ctx context.Context, q eventstore.Querier, t tenant.ID, o uuid.UUID) (Refund, error) {
	rows, err := q.Query(ctx, `SELECT `+refundCols+` FROM ledger_refunds WHERE tenant_id = $1 AND order_id = $2`, t, o)
	if err != nil {
		return Refund{}, fmt.Errorf("refund of order %s: %w", o, err)
	}
	x, err := pgx.CollectExactlyOneRow(rows, scanRefund)
	if errors.Is(err, pgx.ErrNoRows) {
		return Refund{}, fmt.Errorf("refund of order %s: %w", o, eventstore.ErrNotFound)
	}
	return x, err
}
