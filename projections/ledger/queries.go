package ledger

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/ledger"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/projections"
)

// AccountBalance is one account's totals in the trial balance. Vendor is
// nil for a platform account that concerns no vendor.
type AccountBalance struct {
	Account string      `json:"account"`
	Vendor  *uuid.UUID  `json:"vendor_id"`
	Debit   money.Money `json:"debit"`
	Credit  money.Money `json:"credit"`
	// Balance is debit − credit.
	Balance money.Money `json:"balance"`
}

// TrialBalance lists every account's totals and their sums, per currency.
type TrialBalance struct {
	At       *time.Time       `json:"at"`
	Accounts []AccountBalance `json:"accounts"`
	Totals   []CurrencyTotal  `json:"totals"`
}

// CurrencyTotal is the sum of the debits and of the credits in one
// currency; they are equal.
type CurrencyTotal struct {
	Currency string      `json:"currency"`
	Debit    money.Money `json:"debit"`
	Credit   money.Money `json:"credit"`
}

// GetTrialBalance returns tenant t's trial balance: now from the balances,
// or as it stood at a time from the entries recorded until then.
func GetTrialBalance(ctx context.Context, q eventstore.Querier, t tenant.ID, at *time.Time) (TrialBalance, error) {
	query := `SELECT account, vendor_id, currency, debit::text, credit::text FROM ledger_balances WHERE tenant_id = $1`
	args := []any{t}
	if at != nil {
		query = `SELECT account, vendor_id, currency, sum(debit)::text, sum(credit)::text FROM ledger_entries
WHERE tenant_id = $1 AND at <= $2 GROUP BY account, vendor_id, currency`
		args = append(args, at.UTC())
	}
	rows, err := q.Query(ctx, `SELECT * FROM (`+query+`) b ORDER BY currency, account, vendor_id`, args...)
	if err != nil {
		return TrialBalance{}, fmt.Errorf("trial balance: %w", err)
	}
	out := TrialBalance{At: at, Accounts: []AccountBalance{}, Totals: []CurrencyTotal{}}
	sums := map[string]*CurrencyTotal{}
	var order []string
	accounts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AccountBalance, error) {
		var a AccountBalance
		var v uuid.UUID
		var cur, d, c string
		if err := r.Scan(&a.Account, &v, &cur, &d, &c); err != nil {
			return a, err
		}
		if v != uuid.Nil {
			a.Vendor = &v
		}
		var err error
		if a.Debit, a.Credit, err = pair(d, c, cur); err != nil {
			return a, err
		}
		if a.Balance, err = a.Debit.Sub(a.Credit); err != nil {
			return a, err
		}
		s := sums[cur]
		if s == nil {
			z := money.Zero(money.Currency(cur))
			s = &CurrencyTotal{Currency: cur, Debit: z, Credit: z}
			sums[cur] = s
			order = append(order, cur)
		}
		if s.Debit, err = s.Debit.Add(a.Debit); err != nil {
			return a, err
		}
		s.Credit, err = s.Credit.Add(a.Credit)
		return a, err
	})
	if err != nil {
		return TrialBalance{}, fmt.Errorf("trial balance: %w", err)
	}
	out.Accounts = append(out.Accounts, accounts...)
	for _, c := range order {
		out.Totals = append(out.Totals, *sums[c])
	}
	return out, nil
}

func pair(debit, credit, cur string) (money.Money, money.Money, error) {
	c := money.Currency(strings.TrimSpace(cur))
	d, err := money.Parse(debit, c)
	if err != nil {
		return money.Money{}, money.Money{}, err
	}
	k, err := money.Parse(credit, c)
	return d, k, err
}

// VendorBalance is what the platform owes one vendor, and why: Receivable
// is the vendor's recognised sales (tax included), Commission what the
// platform keeps of them (commission and its tax), Held what is owed but
// not payable yet, Payable what may be paid out, Paid what was paid out.
// Receivable = Commission + Held + Payable + Paid.
type VendorBalance struct {
	Vendor     uuid.UUID   `json:"vendor_id"`
	Currency   string      `json:"currency"`
	Receivable money.Money `json:"receivable"`
	Commission money.Money `json:"commission"`
	Held       money.Money `json:"held"`
	Payable    money.Money `json:"payable"`
	Paid       money.Money `json:"paid"`
}

// balancesQuery sums each vendor's balances by kind, a page of vendors
// after $5; scopedBalancesQuery only vendor $8.
const (
	balancesSelect = `
SELECT vendor_id, currency,
       coalesce(sum(credit - debit) FILTER (WHERE account = ANY($2)), 0)::text,
       coalesce(sum(credit - debit) FILTER (WHERE account = $3), 0)::text,
       coalesce(sum(credit - debit) FILTER (WHERE account = $4), 0)::text,
       coalesce(sum(credit - debit) FILTER (WHERE account = $7), 0)::text
FROM ledger_balances
WHERE tenant_id = $1 AND vendor_id > $5`
	balancesOrder = `
GROUP BY vendor_id, currency
ORDER BY vendor_id, currency
LIMIT $6`
	balancesQuery       = balancesSelect + balancesOrder
	scopedBalancesQuery = balancesSelect + ` AND vendor_id = $8` + balancesOrder
)

// ListVendorBalances returns tenant t's vendors with ledger balances (only
// scope when set), ordered by vendor id, paged.
func ListVendorBalances(ctx context.Context, q eventstore.Querier, t tenant.ID, scope *uuid.UUID, p projections.Page) (projections.List[VendorBalance], error) {
	var after uuid.UUID
	if _, err := p.DecodeCursor(&after); err != nil {
		return projections.List[VendorBalance]{}, err
	}
	commission := []string{string(ledger.CommissionIncome), string(ledger.CommissionTax)}
	// Without a cursor, after is the nil vendor: every vendor sorts after
	// it, so the bound is always an index condition (a generic plan cannot
	// drop an "OR no cursor" branch, and would read every vendor).
	query := balancesQuery
	args := []any{t, commission, string(ledger.VendorHeld), string(ledger.VendorPayable), after, p.Limit + 1, string(ledger.PaidOut)}
	if scope != nil {
		query = scopedBalancesQuery
		args = append(args, *scope)
	}
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return projections.List[VendorBalance]{}, fmt.Errorf("vendor balances: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (VendorBalance, error) {
		var b VendorBalance
		var com, held, payable, paid string
		if err := r.Scan(&b.Vendor, &b.Currency, &com, &held, &payable, &paid); err != nil {
			return b, err
		}
		b.Currency = strings.TrimSpace(b.Currency)
		c := money.Currency(b.Currency)
		var err error
		if b.Commission, err = money.Parse(com, c); err != nil {
			return b, err
		}
		if b.Held, err = money.Parse(held, c); err != nil {
			return b, err
		}
		if b.Payable, err = money.Parse(payable, c); err != nil {
			return b, err
		}
		if b.Paid, err = money.Parse(paid, c); err != nil {
			return b, err
		}
		b.Receivable = b.Commission
		for _, m := range []money.Money{b.Held, b.Payable, b.Paid} {
			if b.Receivable, err = b.Receivable.Add(m); err != nil {
				return b, err
			}
		}
		return b, nil
	})
	if err != nil {
		return projections.List[VendorBalance]{}, fmt.Errorf("vendor balances: %w", err)
	}
	return projections.NewList(items, p.Limit, func(b VendorBalance) any { return b.Vendor }), nil
}

// Entry is one ledger line.
type Entry struct {
	ID       uuid.UUID   `json:"id"`
	Account  string      `json:"account"`
	Vendor   *uuid.UUID  `json:"vendor_id"`
	Debit    money.Money `json:"debit"`
	Credit   money.Money `json:"credit"`
	EventID  uuid.UUID   `json:"event_id"`
	Position string      `json:"position"`
	OrderID  *uuid.UUID  `json:"order_id"`
	At       time.Time   `json:"at"`
}

type entryCursor struct {
	Tx  string `json:"x"`
	Pos int64  `json:"p"`
	Seq int    `json:"s"`
}

// ListEntries returns the lines of vendor v (its own accounts and the
// platform's commission on it), in log order, paged.
func ListEntries(ctx context.Context, q eventstore.Querier, t tenant.ID, v uuid.UUID, p projections.Page) (projections.List[Entry], error) {
	var after entryCursor
	hasCursor, err := p.DecodeCursor(&after)
	if err != nil {
		return projections.List[Entry]{}, err
	}
	if hasCursor {
		if _, err := strconv.ParseUint(after.Tx, 10, 64); err != nil {
			return projections.List[Entry]{}, projections.ErrBadCursor
		}
	} else {
		after = entryCursor{Tx: "0"} // before every entry: positions start at 1
	}
	// The cursor is always the index condition (a generic plan cannot drop
	// an "OR no cursor" branch). ORDER BY names the table's columns: the
	// output column tx_id::text would sort as text (and "10" < "9").
	const query = `
SELECT entry_id, account, vendor_id, currency, debit::text, credit::text, event_id, tx_id::text AS tx_text, position, seq, order_id, at
FROM ledger_entries e
WHERE tenant_id = $1 AND vendor_id = $2 AND (e.tx_id, e.position, e.seq) > ($3::text::xid8, $4, $5)
ORDER BY e.tx_id, e.position, e.seq
LIMIT $6`
	rows, err := q.Query(ctx, query, t, v, after.Tx, after.Pos, after.Seq, p.Limit+1)
	if err != nil {
		return projections.List[Entry]{}, fmt.Errorf("ledger entries: %w", err)
	}
	type row struct {
		Entry
		tx  string
		pos int64
		seq int
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var e row
		var vendor uuid.UUID
		var cur, d, c string
		if err := r.Scan(&e.ID, &e.Account, &vendor, &cur, &d, &c, &e.EventID, &e.tx, &e.pos, &e.seq, &e.OrderID, &e.At); err != nil {
			return e, err
		}
		e.Vendor = &vendor
		e.At = e.At.UTC()
		tx, _ := strconv.ParseUint(e.tx, 10, 64)
		e.Position = eventstore.Position{Tx: tx, Pos: e.pos}.Token()
		var err error
		e.Debit, e.Credit, err = pair(d, c, cur)
		return e, err
	})
	if err != nil {
		return projections.List[Entry]{}, fmt.Errorf("ledger entries: %w", err)
	}
	l := projections.NewList(items, p.Limit, func(e row) any { return entryCursor{e.tx, e.pos, e.seq} })
	out := projections.List[Entry]{Items: make([]Entry, len(l.Items)), NextCursor: l.NextCursor}
	for i, e := range l.Items {
		out.Items[i] = e.Entry
	}
	return out, nil
}

// Releasable is a delivered shipment whose return window has ended with its
// vendor's funds still held.
type Releasable struct {
	Tenant   tenant.ID
	Shipment uuid.UUID
}

// ReleasableShipments lists up to limit shipments, of every tenant, whose
// return window ended by now and whose funds are held, oldest first (the
// release sweep; an index on the window's end answers it).
func ReleasableShipments(ctx context.Context, q eventstore.Querier, now time.Time, limit int) ([]Releasable, error) {
	const query = `SELECT tenant_id, shipment_id FROM ledger_shipments
WHERE NOT released AND hold_until IS NOT NULL AND hold_until <= $1
ORDER BY hold_until, shipment_id
LIMIT $2`
	rows, err := q.Query(ctx, query, now, limit)
	if err != nil {
		return nil, fmt.Errorf("releasable shipments: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Releasable, error) {
		var x Releasable
		err := r.Scan(&x.Tenant, &x.Shipment)
		return x, err
	})
	if err != nil {
		return nil, fmt.Errorf("releasable shipments: %w", err)
	}
	return out, nil
}
