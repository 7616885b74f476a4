package orderviews

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

// Day is one day's orders: how many were placed (cancelled ones too) and
// the sales of those not cancelled, per currency.
type Day struct {
	Orders int64
	Sales  []money.Money
}

// DaySince counts tenant t's orders placed at or after from (the start of
// the shop's day) and sums the sales of those not cancelled. It reads the
// created_at index, so it stays cheap on a big shop.
func DaySince(ctx context.Context, q eventstore.Querier, t tenant.ID, from time.Time) (Day, error) {
	const query = `SELECT currency, count(*), coalesce(sum(total) FILTER (WHERE status <> 'cancelled'), 0)::text
FROM order_views WHERE tenant_id = $1 AND created_at >= $2 GROUP BY currency ORDER BY currency`
	rows, err := q.Query(ctx, query, t, from)
	if err != nil {
		return Day{}, fmt.Errorf("orders of the day: %w", err)
	}
	var d Day
	defer rows.Close()
	for rows.Next() {
		var cur, sum string
		var n int64
		if err := rows.Scan(&cur, &n, &sum); err != nil {
			return Day{}, fmt.Errorf("orders of the day: %w", err)
		}
		m, err := parseMoney(sum, cur)
		if err != nil {
			return Day{}, err
		}
		d.Orders += n
		d.Sales = append(d.Sales, m)
	}
	return d, rows.Err()
}

// DueTransfer is a bank-transfer order still awaiting its money.
type DueTransfer struct {
	Order      Summary
	BalanceDue money.Money
	DueAt      time.Time
}

// TransfersDue returns tenant t's bank-transfer payments still awaiting
// money whose deadline is before until, soonest first (at most limit).
func TransfersDue(ctx context.Context, q eventstore.Querier, t tenant.ID, until time.Time, limit int) ([]DueTransfer, error) {
	const query = `SELECT o.order_id, o.number, o.status, o.name, o.total::text, o.currency, (p.amount - p.received)::text, p.due_at
FROM order_view_payments p
JOIN order_views o ON o.tenant_id = p.tenant_id AND o.order_id = p.order_id
WHERE p.tenant_id = $1 AND p.method = 'bank_transfer' AND p.status IN ('pending', 'partially_paid')
  AND o.status = 'pending_payment' AND p.due_at < $2
ORDER BY p.due_at, p.payment_id
LIMIT $3`
	rows, err := q.Query(ctx, query, t, until, limit)
	if err != nil {
		return nil, fmt.Errorf("transfers due: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (DueTransfer, error) {
		var d DueTransfer
		var total, cur, due string
		if err := r.Scan(&d.Order.ID, &d.Order.Number, &d.Order.Status, &d.Order.Customer.Name, &total, &cur, &due, &d.DueAt); err != nil {
			return d, err
		}
		var err error
		if d.Order.Total, err = parseMoney(total, cur); err != nil {
			return d, err
		}
		d.BalanceDue, err = parseMoney(due, cur)
		return d, err
	})
}
