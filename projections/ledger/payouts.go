package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/ledger"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/payout"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/projections"
)

// Released returns what the ledger has made payable to vendor v in
// currency c in total: its payable balance plus what was paid out.
func Released(ctx context.Context, q eventstore.Querier, t tenant.ID, v uuid.UUID, c money.Currency) (money.Money, error) {
	var s string
	err := q.QueryRow(ctx, `SELECT coalesce(sum(credit - debit), 0)::text FROM ledger_balances
WHERE tenant_id = $1 AND vendor_id = $2 AND currency = $3 AND account = ANY($4)`,
		t, v, string(c), []string{string(ledger.VendorPayable), string(ledger.PaidOut)}).Scan(&s)
	if err != nil {
		return money.Money{}, fmt.Errorf("released to vendor %s: %w", v, err)
	}
	return money.Parse(s, c)
}

// RunCandidates lists the vendors of tenant t a payout run at periodEnd may
// pay in currency c, and how much: what was payable at the period end and
// still is, less what earlier runs' unrecorded transfers already pay.
func RunCandidates(ctx context.Context, q eventstore.Querier, t tenant.ID, periodEnd time.Time, c money.Currency) ([]payout.Candidate, error) {
	const query = `
WITH at_end AS (
  SELECT vendor_id, sum(credit - debit) AS amount FROM ledger_entries
  WHERE tenant_id = $1 AND account = $4 AND currency = $3 AND at <= $2
  GROUP BY vendor_id),
now AS (
  SELECT vendor_id, credit - debit AS amount FROM ledger_balances
  WHERE tenant_id = $1 AND account = $4 AND currency = $3),
reserved AS (
  SELECT (i->>'vendor_id')::uuid AS vendor_id, sum((i->'amount'->>'amount')::numeric) AS amount
  FROM ledger_runs r CROSS JOIN LATERAL jsonb_array_elements(r.items) i
  WHERE r.tenant_id = $1 AND r.currency = $3
    AND NOT EXISTS (SELECT 1 FROM ledger_payouts p
                    WHERE p.tenant_id = r.tenant_id AND p.run_id = r.run_id AND p.vendor_id = (i->>'vendor_id')::uuid)
  GROUP BY 1)
SELECT n.vendor_id, v.name, v.payout_account,
       (least(coalesce(e.amount, 0), n.amount) - coalesce(r.amount, 0))::text
FROM now n
JOIN ledger_vendors v ON v.tenant_id = $1 AND v.vendor_id = n.vendor_id
LEFT JOIN at_end e ON e.vendor_id = n.vendor_id
LEFT JOIN reserved r ON r.vendor_id = n.vendor_id
ORDER BY n.vendor_id`
	rows, err := q.Query(ctx, query, t, periodEnd.UTC(), string(c), string(ledger.VendorPayable))
	if err != nil {
		return nil, fmt.Errorf("payout candidates: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (payout.Candidate, error) {
		var k payout.Candidate
		var amount string
		if err := r.Scan(&k.Vendor, &k.Name, &k.Account, &amount); err != nil {
			return k, err
		}
		var err error
		k.Amount, err = money.Parse(amount, c)
		return k, err
	})
	if err != nil {
		return nil, fmt.Errorf("payout candidates: %w", err)
	}
	return out, nil
}

// RunItem is a run's transfer to one vendor and whether its payout was
// recorded.
type RunItem struct {
	payout.RunItem
	Paid     bool       `json:"paid"`
	PayoutID *uuid.UUID `json:"payout_id"`
}

// Run is a payout run as finance sees it.
type Run struct {
	ID        uuid.UUID        `json:"id"`
	PeriodEnd time.Time        `json:"period_end"`
	MinAmount money.Money      `json:"min_amount"`
	Total     money.Money      `json:"total"`
	Items     []RunItem        `json:"items"`
	Skipped   []payout.RunSkip `json:"skipped"`
	CreatedAt time.Time        `json:"created_at"`
}

const runCols = `r.run_id, r.period_end, r.currency, r.min_amount::text, r.total::text, r.skipped, r.created_at,
  (SELECT coalesce(jsonb_agg(jsonb_build_object('item', i, 'payout_id', p.payout_id) ORDER BY n), '[]')
   FROM jsonb_array_elements(r.items) WITH ORDINALITY AS x(i, n)
   LEFT JOIN ledger_payouts p ON p.tenant_id = r.tenant_id AND p.run_id = r.run_id AND p.vendor_id = (i->>'vendor_id')::uuid)`

func scanRun(r pgx.CollectableRow) (Run, error) {
	var x Run
	var cur, minAmount, total string
	var skipped, items []byte
	if err := r.Scan(&x.ID, &x.PeriodEnd, &cur, &minAmount, &total, &skipped, &x.CreatedAt, &items); err != nil {
		return x, err
	}
	c := money.Currency(strings.TrimSpace(cur))
	var err error
	if x.MinAmount, err = money.Parse(minAmount, c); err != nil {
		return x, err
	}
	if x.Total, err = money.Parse(total, c); err != nil {
		return x, err
	}
	if err := json.Unmarshal(skipped, &x.Skipped); err != nil {
		return x, err
	}
	var raw []struct {
		Item   payout.RunItem `json:"item"`
		Payout *uuid.UUID     `json:"payout_id"`
	}
	if err := json.Unmarshal(items, &raw); err != nil {
		return x, err
	}
	x.Items = make([]RunItem, len(raw))
	for i, it := range raw {
		x.Items[i] = RunItem{RunItem: it.Item, Paid: it.Payout != nil, PayoutID: it.Payout}
	}
	x.PeriodEnd, x.CreatedAt = x.PeriodEnd.UTC(), x.CreatedAt.UTC()
	return x, nil
}

// GetRun returns a payout run, or eventstore.ErrNotFound.
func GetRun(ctx context.Context, q eventstore.Querier, t tenant.ID, id uuid.UUID) (Run, error) {
	rows, err := q.Query(ctx, `SELECT `+runCols+` FROM ledger_runs r WHERE r.tenant_id = $1 AND r.run_id = $2`, t, id)
	if err != nil {
		return Run{}, fmt.Errorf("payout run %s: %w", id, err)
	}
	x, err := pgx.CollectExactlyOneRow(rows, scanRun)
	if errors.Is(err, pgx.ErrNoRows) {
		return Run{}, fmt.Errorf("payout run %s: %w", id, eventstore.ErrNotFound)
	}
	if err != nil {
		return Run{}, fmt.Errorf("payout run %s: %w", id, err)
	}
	return x, nil
}

type runCursor struct {
	At time.Time `json:"t"`
	ID uuid.UUID `json:"i"`
}

// ListRuns lists tenant t's payout runs, newest first, paged.
func ListRuns(ctx context.Context, q eventstore.Querier, t tenant.ID, p projections.Page) (projections.List[Run], error) {
	var after runCursor
	hasCursor, err := p.DecodeCursor(&after)
	if err != nil {
		return projections.List[Run]{}, err
	}
	rows, err := q.Query(ctx, `SELECT `+runCols+` FROM ledger_runs r
WHERE r.tenant_id = $1 AND (NOT $2 OR (r.created_at, r.run_id) < ($3, $4))
ORDER BY r.created_at DESC, r.run_id DESC LIMIT $5`, t, hasCursor, after.At, after.ID, p.Limit+1)
	if err != nil {
		return projections.List[Run]{}, fmt.Errorf("payout runs: %w", err)
	}
	items, err := pgx.CollectRows(rows, scanRun)
	if err != nil {
		return projections.List[Run]{}, fmt.Errorf("payout runs: %w", err)
	}
	return projections.NewList(items, p.Limit, func(r Run) any { return runCursor{r.CreatedAt, r.ID} }), nil
}

// PayoutAccount returns vendor v's payout account, or nil when none is set.
func PayoutAccount(ctx context.Context, q eventstore.Querier, t tenant.ID, v uuid.UUID) (*tenant.BankAccount, error) {
	var a *tenant.BankAccount
	err := q.QueryRow(ctx, `SELECT payout_account FROM ledger_vendors WHERE tenant_id = $1 AND vendor_id = $2`, t, v).Scan(&a)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("payout account of vendor %s: %w", v, err)
	}
	return a, nil
}

// Owed is what the platform owes a vendor at a moment: held, payable, and
// their sum.
type Owed struct {
	Held    money.Money `json:"held"`
	Payable money.Money `json:"payable"`
	Owed    money.Money `json:"owed"`
}

func (o *Owed) add(account string, amount money.Money) error {
	var err error
	switch ledger.Account(account) {
	case ledger.VendorHeld:
		o.Held, err = o.Held.Add(amount)
	case ledger.VendorPayable:
		o.Payable, err = o.Payable.Add(amount)
	}
	if err != nil {
		return err
	}
	o.Owed, err = o.Owed.Add(amount)
	return err
}

// StatementLine is one line of a vendor's statement: an entry on the
// vendor's held or payable account and what is owed after it.
type StatementLine struct {
	Entry
	// Amount is credit − debit: what the line adds to what is owed.
	Amount  money.Money `json:"amount"`
	Balance money.Money `json:"balance"`
}

// Statement writes vendor v's statement for [from, to): it returns what was
// owed at from, then streams each line (fn) in date order from the
// database cursor, and returns what was owed at to. Memory stays constant
// whatever the number of lines.
func Statement(ctx context.Context, q eventstore.Querier, t tenant.ID, v uuid.UUID, c money.Currency, from, to time.Time,
	opening func(Owed) error, fn func(StatementLine) error) (Owed, error) {
	accounts := []string{string(ledger.VendorHeld), string(ledger.VendorPayable)}
	z := money.Zero(c)
	o := Owed{Held: z, Payable: z, Owed: z}
	rows, err := q.Query(ctx, `SELECT account, coalesce(sum(credit - debit), 0)::text FROM ledger_entries
WHERE tenant_id = $1 AND vendor_id = $2 AND currency = $3 AND account = ANY($4) AND at < $5 GROUP BY account`, t, v, string(c), accounts, from.UTC())
	if err != nil {
		return o, fmt.Errorf("statement opening: %w", err)
	}
	type sum struct {
		account, amount string
	}
	sums, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (sum, error) {
		var s sum
		err := r.Scan(&s.account, &s.amount)
		return s, err
	})
	if err != nil {
		return o, fmt.Errorf("statement opening: %w", err)
	}
	for _, s := range sums {
		m, err := money.Parse(s.amount, c)
		if err != nil {
			return o, err
		}
		if err := o.add(s.account, m); err != nil {
			return o, err
		}
	}
	if err := opening(o); err != nil {
		return o, err
	}
	// ORDER BY names the table's columns: the output column tx_id::text
	// would sort as text, and no index gives that order (a sort of every
	// line before the first is sent).
	rows, err = q.Query(ctx, `SELECT entry_id, account, debit::text, credit::text, event_id, tx_id::text AS tx_text, position, order_id, at
FROM ledger_entries e
WHERE tenant_id = $1 AND vendor_id = $2 AND currency = $3 AND account = ANY($4) AND at >= $5 AND at < $6
ORDER BY e.at, e.tx_id, e.position, e.seq`, t, v, string(c), accounts, from.UTC(), to.UTC())
	if err != nil {
		return o, fmt.Errorf("statement: %w", err)
	}
	defer rows.Close()
	vendor := v
	for rows.Next() {
		var l StatementLine
		var d, k, txText string
		var pos int64
		if err := rows.Scan(&l.ID, &l.Account, &d, &k, &l.EventID, &txText, &pos, &l.OrderID, &l.At); err != nil {
			return o, fmt.Errorf("statement: %w", err)
		}
		l.Vendor, l.At = &vendor, l.At.UTC()
		tx, _ := strconv.ParseUint(txText, 10, 64)
		l.Position = eventstore.Position{Tx: tx, Pos: pos}.Token()
		if l.Debit, l.Credit, err = pair(d, k, string(c)); err != nil {
			return o, err
		}
		if l.Amount, err = l.Credit.Sub(l.Debit); err != nil {
			return o, err
		}
		if err := o.add(l.Account, l.Amount); err != nil {
			return o, err
		}
		l.Balance = o.Owed
		if err := fn(l); err != nil {
			return o, err
		}
	}
	if err := rows.Err(); err != nil {
		return o, fmt.Errorf("statement: %w", err)
	}
	return o, nil
}
