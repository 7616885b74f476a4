package commands

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/payment"
	"github.com/honten/honten/domain/statement"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

var (
	statementsRepo  = repo(statement.StreamType, statement.FromHistory)
	remittancesRepo = repo(statement.RemittanceStreamType, statement.RemittanceFromHistory)
)

// Claim kinds of statement and remittance lines: a line of a bank or
// carrier file is imported once per tenant.
const (
	ClaimStatementLine  = "bank_statement_line"
	ClaimRemittanceLine = "cod_remittance_line"
)

// ErrStatementImporting refuses a staff decision on a line while its
// statement's import is still matching lines.
var ErrStatementImporting = errs.Conflict("statement_importing", "the statement is still being imported; try again when its import has finished")

// ImportStatement records a bank statement's lines.
type ImportStatement struct {
	Tenant    tenant.ID
	By        By
	Statement statement.ID
	Format    string
	// Lines carry their Key (the bank file's stable identity); their IDs
	// are derived from it.
	Lines []statement.Line
}

// ImportStatement appends bank_statement.imported with the lines no
// earlier statement of the tenant holds (each line's key is claimed), so
// importing a file again adds nothing. Running it again for a statement
// that exists appends nothing. It returns statement.ErrNoLines.
func (s *Service) ImportStatement(ctx context.Context, c ImportStatement) (Result, error) {
	now := s.Now()
	_, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (struct{}, error) {
		if _, err := statementsRepo.Load(ctx, tx, c.Tenant, c.Statement.UUID); err == nil {
			return struct{}{}, nil
		} else if !errors.Is(err, eventstore.ErrNotFound) {
			return struct{}{}, err
		}
		fresh, err := unclaimed(ctx, tx, c.Tenant, ClaimStatementLine, c.Lines, statementLineKey, c.Statement.UUID)
		if err != nil {
			return struct{}{}, err
		}
		for i := range fresh {
			fresh[i].ID = statement.LineIDOf(c.Tenant.UUID, fresh[i].Key)
		}
		st, err := statement.Import(c.Statement, c.Format, fresh, len(c.Lines)-len(fresh), c.By.Actor, now)
		if err != nil {
			return struct{}{}, err
		}
		if _, err := statementsRepo.Save(ctx, tx, c.Tenant, c.Statement.UUID, st, nil, c.By.metadata(c.Tenant)); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, claimAll(ctx, tx, c.Tenant, ClaimStatementLine, fresh, statementLineKey, c.Statement.UUID)
	})
	if err != nil {
		return Result{}, fmt.Errorf("import statement %s: %w", c.Statement, err)
	}
	return Result{Result: res, ID: c.Statement.UUID, Version: res.Version(c.Statement.UUID)}, nil
}

// unclaimed returns the items whose key no other owner than owner holds
// (lines an earlier import recorded are left out).
func unclaimed[T any](ctx context.Context, tx *eventstore.Tx, t tenant.ID, kind string, items []T, key func(T) string, owner uuid.UUID) ([]T, error) {
	keys := make([]string, len(items))
	for i, it := range items {
		keys[i] = key(it)
	}
	held, err := eventstore.ClaimedByOthers(ctx, tx, t.UUID, kind, keys, owner)
	if err != nil {
		return nil, err
	}
	fresh := make([]T, 0, len(items))
	for _, it := range items {
		if !held[key(it)] {
			fresh = append(fresh, it)
		}
	}
	return fresh, nil
}

func statementLineKey(l statement.Line) string            { return l.Key }
func remittanceLineKey(l statement.RemittanceLine) string { return l.Key }

// claimAll claims the items' keys for owner after the append; a key taken
// meanwhile by a concurrent import reruns the command, which then leaves
// that line out.
func claimAll[T any](ctx context.Context, tx *eventstore.Tx, t tenant.ID, kind string, items []T, key func(T) string, owner uuid.UUID) error {
	if len(items) == 0 {
		return nil
	}
	keys := make([]string, len(items))
	for i, it := range items {
		keys[i] = key(it)
	}
	taken, err := tx.ClaimAll(ctx, t.UUID, kind, keys, owner)
	if err != nil {
		return err
	}
	if len(taken) > 0 {
		return eventstore.Retry(fmt.Errorf("%d %s claimed concurrently: %w", len(taken), kind, eventstore.ErrVersionConflict))
	}
	return nil
}

// lineReference is the receipt reference a statement line's allocation
// records on a payment: the same line never pays an order twice.
func lineReference(l statement.Line, i int) string {
	ref := "bank:" + l.Key
	if i > 0 {
		ref += "#" + strconv.Itoa(i)
	}
	return ref
}

// LineMatch is a statement line and the orders it paid.
type LineMatch struct {
	Line        statement.LineID
	Allocations []statement.Allocation
}

// RecordMatches records the importer's matches of a statement's lines.
type RecordMatches struct {
	Tenant    tenant.ID
	By        By
	Statement statement.ID
	Matches   []LineMatch
}

// RecordMatches appends bank_statement.line_matched (how: auto) for every
// match whose payments ReceiveStatementLines recorded; a line already
// matched to the same orders records nothing, and one staff decided
// meanwhile is left as they decided it. It returns eventstore.ErrNotFound
// for an unknown statement.
func (s *Service) RecordMatches(ctx context.Context, c RecordMatches) (Result, error) {
	now := s.Now()
	_, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (struct{}, error) {
		st, err := statementsRepo.Load(ctx, tx, c.Tenant, c.Statement.UUID)
		if err != nil {
			return struct{}{}, err
		}
		for _, m := range c.Matches {
			err := st.Match(m.Line, m.Allocations, statement.Auto, c.By.Actor, now)
			if err != nil && !errors.Is(err, statement.ErrLineDecided) {
				return struct{}{}, err
			}
		}
		_, err = statementsRepo.Save(ctx, tx, c.Tenant, c.Statement.UUID, st, nil, c.By.metadata(c.Tenant))
		return struct{}{}, err
	})
	if err != nil {
		return Result{}, fmt.Errorf("record matches of statement %s: %w", c.Statement, err)
	}
	return Result{Result: res, ID: c.Statement.UUID, Version: res.Version(c.Statement.UUID)}, nil
}

// MatchStatementLine is staff matching a deposit line to an order.
type MatchStatementLine struct {
	Tenant    tenant.ID
	By        By
	Statement statement.ID
	Line      statement.LineID
	Order     order.ID
}

// MatchStatementLine confirms the order's payment with the line's whole
// amount (partial and over-payments follow the payment's rules; a
// cancelled order's payment records it as a refund due) and records the
// line matched by staff, in one transaction. Matching it again to the same
// order records nothing. It returns eventstore.ErrNotFound for an unknown
// statement, line or order, statement.ErrNotDeposit,
// statement.ErrLineDecided, payment.ErrNotBankTransfer and
// payment.ErrReferenceReused.
func (s *Service) MatchStatementLine(ctx context.Context, c MatchStatementLine) (Result, error) {
	now := s.Now()
	_, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (struct{}, error) {
		st, err := statementsRepo.Load(ctx, tx, c.Tenant, c.Statement.UUID)
		if err != nil {
			return struct{}{}, err
		}
		l, status, ok := st.Line(c.Line)
		if !ok {
			return struct{}{}, fmt.Errorf("line %s: %w", c.Line, eventstore.ErrNotFound)
		}
		if !l.Deposit {
			return struct{}{}, statement.ErrNotDeposit
		}
		if status != statement.StatusUnmatched {
			// Matched to this order before: nothing to do; else decided.
			return struct{}{}, st.Match(c.Line, []statement.Allocation{{Order: c.Order.UUID, Amount: l.Amount}}, statement.Staff, c.By.Actor, now)
		}
		cp := ConfirmPayment{Tenant: c.Tenant, By: c.By, Order: c.Order, Amount: l.Amount, ReceivedAt: l.Date, Reference: lineReference(l, 0)}
		pid, err := receiveTransfer(ctx, tx, cp, l.Date.UTC(), cp.Reference, now)
		if err != nil {
			return struct{}{}, err
		}
		if err := st.Match(c.Line, []statement.Allocation{{Order: c.Order.UUID, Payment: pid.UUID, Amount: l.Amount}}, statement.Staff, c.By.Actor, now); err != nil {
			return struct{}{}, err
		}
		_, err = statementsRepo.Save(ctx, tx, c.Tenant, c.Statement.UUID, st, nil, c.By.metadata(c.Tenant))
		return struct{}{}, err
	})
	if err != nil {
		return Result{}, fmt.Errorf("match statement line %s: %w", c.Line, err)
	}
	return Result{Result: res, ID: c.Line.UUID, Version: res.Version(c.Statement.UUID)}, nil
}

// IgnoreStatementLine is staff setting a line aside.
type IgnoreStatementLine struct {
	Tenant    tenant.ID
	By        By
	Statement statement.ID
	Line      statement.LineID
	Reason    string
}

// IgnoreStatementLine appends bank_statement.line_ignored. It returns
// eventstore.ErrNotFound for an unknown statement or line, an Invalid
// error without a reason, and statement.ErrLineDecided for a matched line.
func (s *Service) IgnoreStatementLine(ctx context.Context, c IgnoreStatementLine) (Result, error) {
	now := s.Now()
	var v errs.Collector
	reason := checkNote(&v, "reason", c.Reason, MaxOrderNoteLen)
	v.Check(reason != "", "reason", "is required")
	if err := v.Err(); err != nil {
		return Result{}, err
	}
	_, res, err := statementsRepo.Update(ctx, s.store, c.Tenant, c.Statement.UUID, nil, c.By.metadata(c.Tenant), func(st *statement.Statement) error {
		err := st.Ignore(c.Line, reason, c.By.Actor, now)
		if errors.Is(err, statement.ErrLineNotFound) {
			return fmt.Errorf("line %s: %w", c.Line, eventstore.ErrNotFound)
		}
		return err
	})
	if err != nil {
		return Result{}, fmt.Errorf("ignore statement line %s: %w", c.Line, err)
	}
	return Result{Result: res, ID: c.Line.UUID, Version: res.Version(c.Statement.UUID)}, nil
}

// ImportRemittance records a carrier's COD remittance whose lines the
// importer resolved (collections recorded through CollectCOD first).
type ImportRemittance struct {
	Tenant     tenant.ID
	By         By
	Remittance statement.RemittanceID
	Lines      []statement.RemittanceLine
}

// ImportRemittance appends cod_remittance.imported with the lines no
// earlier remittance of the tenant holds, and a carrier fee event per line
// matched to a shipment. Running it again for a remittance that exists
// appends nothing. It returns statement.ErrNoLines.
func (s *Service) ImportRemittance(ctx context.Context, c ImportRemittance) (Result, error) {
	now := s.Now()
	_, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (struct{}, error) {
		if _, err := remittancesRepo.Load(ctx, tx, c.Tenant, c.Remittance.UUID); err == nil {
			return struct{}{}, nil
		} else if !errors.Is(err, eventstore.ErrNotFound) {
			return struct{}{}, err
		}
		fresh, err := unclaimed(ctx, tx, c.Tenant, ClaimRemittanceLine, c.Lines, remittanceLineKey, c.Remittance.UUID)
		if err != nil {
			return struct{}{}, err
		}
		r, err := statement.ImportRemittance(c.Remittance, fresh, len(c.Lines)-len(fresh), c.By.Actor, now)
		if err != nil {
			return struct{}{}, err
		}
		if _, err := remittancesRepo.Save(ctx, tx, c.Tenant, c.Remittance.UUID, r, nil, c.By.metadata(c.Tenant)); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, claimAll(ctx, tx, c.Tenant, ClaimRemittanceLine, fresh, remittanceLineKey, c.Remittance.UUID)
	})
	if err != nil {
		return Result{}, fmt.Errorf("import remittance %s: %w", c.Remittance, err)
	}
	return Result{Result: res, ID: c.Remittance.UUID, Version: res.Version(c.Remittance.UUID)}, nil
}

// RemittanceLineKeyHeld reports whether an earlier remittance holds the line key.
func RemittanceLineKeyHeld(ctx context.Context, q eventstore.Querier, t tenant.ID, key string, self uuid.UUID) (bool, error) {
	owner, ok, err := eventstore.Owner(ctx, q, t.UUID, ClaimRemittanceLine, key)
	return ok && owner != self, err
}

// LoadStatement returns a bank statement as its events have it. It returns
// eventstore.ErrNotFound.
func (s *Service) LoadStatement(ctx context.Context, t tenant.ID, id statement.ID) (*statement.Statement, error) {
	var out *statement.Statement
	_, err := s.store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		var err error
		out, err = statementsRepo.Load(ctx, tx, t, id.UUID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("load statement %s: %w", id, err)
	}
	return out, nil
}

// LineReceipt is one allocation of a statement line, to record on its
// order's payment: ConfirmPayment with the line's date and a reference
// derived from the line, so a re-import or a retry never records twice.
type LineReceipt struct {
	Line  statement.Line
	Index int
	Alloc statement.Allocation
}

// ReceiveStatementLines records many receipts, as ConfirmPayment does, in
// one transaction: the orders are locked with one statement (in id order,
// so concurrent batches never deadlock), their payments read with one
// query and the receipts appended in one round trip. A receipt the
// payment refuses (a client-side error) is left out and returned by its
// index with the error; the others are recorded. It returns other errors
// as they come.
func (s *Service) ReceiveStatementLines(ctx context.Context, t tenant.ID, by By, rs []LineReceipt) (map[int]error, error) {
	var refused map[int]error
	_, _, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (struct{}, error) {
		now := s.Now()
		refused = map[int]error{}
		orders := make([]uuid.UUID, 0, len(rs))
		pids := make([]uuid.UUID, 0, len(rs))
		for _, r := range rs {
			orders = append(orders, r.Alloc.Order)
			pids = append(pids, r.Alloc.Payment)
		}
		if err := lockOrders(ctx, tx, orders); err != nil {
			return struct{}{}, err
		}
		ps, err := payments.LoadAll(ctx, tx, t, pids)
		if err != nil {
			return struct{}{}, err
		}
		for i, r := range rs {
			cp := ConfirmPayment{Tenant: t, By: by, Order: orderID(r.Alloc.Order), Amount: r.Alloc.Amount, ReceivedAt: r.Line.Date,
				Reference: lineReference(r.Line, r.Index)}
			var err error
			switch {
			case cp.ReceivedAt.After(now.Add(time.Hour)):
				err = errs.Field("received_at", "must not be in the future")
			default:
				err = receiveOn(ps[r.Alloc.Payment], r.Alloc.Payment, cp, now)
			}
			if err != nil {
				if k := errs.KindOf(err); k == errs.KindInternal || k == errs.KindVersionConflict {
					return struct{}{}, err
				}
				refused[i] = err
			}
		}
		return struct{}{}, payments.SaveAll(ctx, tx, t, ps, by.metadata(t))
	})
	if err != nil {
		return nil, fmt.Errorf("receive statement lines: %w", err)
	}
	return refused, nil
}

// lockOrders takes the locks of lockOrder on every one of ids with one
// statement, in id order.
func lockOrders(ctx context.Context, tx *eventstore.Tx, ids []uuid.UUID) error {
	const q = `SELECT count(pg_advisory_xact_lock(hashtextextended('honten.order:' || id::text, 0)))
FROM (SELECT DISTINCT id FROM unnest($1::uuid[]) AS id ORDER BY id) AS o`
	if _, err := tx.Exec(ctx, q, ids); err != nil {
		return fmt.Errorf("lock %d orders: %w", len(ids), err)
	}
	return nil
}

func orderID(u uuid.UUID) order.ID { return order.ID{UUID: u} }

// receiveOn records a receipt on p, the payment the matcher read with
// the order (loaded again under the order's lock): a receipt alone changes
// only the payment (the order moves on through the
// order_on_payment_settled policy). A payment that is missing or not the
// order's is ErrNotFound.
func receiveOn(p *payment.Payment, pid uuid.UUID, c ConfirmPayment, now time.Time) error {
	if p == nil || p.Order() != c.Order.UUID {
		return fmt.Errorf("payment %s of order %s: %w", pid, c.Order, eventstore.ErrNotFound)
	}
	if c.Amount.Currency() != p.Due().Currency() {
		return errs.Field("amount", "must be in "+string(p.Due().Currency()))
	}
	return p.Receive(c.Amount, c.ReceivedAt.UTC(), c.Reference, false, c.By.Actor, now)
}
