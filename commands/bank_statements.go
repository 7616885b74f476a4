package commands

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/order"
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
		keys := make([]string, 0, len(c.Lines))
		for _, l := range c.Lines {
			keys = append(keys, l.Key)
		}
		held, err := heldByOthers(ctx, tx, c.Tenant, ClaimStatementLine, keys, c.Statement.UUID)
		if err != nil {
			return struct{}{}, err
		}
		fresh := make([]statement.Line, 0, len(c.Lines))
		for _, l := range c.Lines {
			if !held[l.Key] {
				l.ID = statement.LineIDOf(c.Tenant.UUID, l.Key)
				fresh = append(fresh, l)
			}
		}
		st, err := statement.Import(c.Statement, c.Format, fresh, len(c.Lines)-len(fresh), c.By.Actor, now)
		if err != nil {
			return struct{}{}, err
		}
		if _, err := statementsRepo.Save(ctx, tx, c.Tenant, c.Statement.UUID, st, nil, c.By.metadata(c.Tenant)); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, claimAll(ctx, tx, c.Tenant, ClaimStatementLine, fresh, func(l statement.Line) string { return l.Key }, c.Statement.UUID)
	})
	if err != nil {
		return Result{}, fmt.Errorf("import statement %s: %w", c.Statement, err)
	}
	return Result{Result: res, ID: c.Statement.UUID, Version: res.Version(c.Statement.UUID)}, nil
}

// heldByOthers returns the keys of kind that another owner than owner holds.
func heldByOthers(ctx context.Context, tx *eventstore.Tx, t tenant.ID, kind string, keys []string, owner uuid.UUID) (map[string]bool, error) {
	const q = `SELECT value FROM unique_claims WHERE scope = $1 AND kind = $2 AND value = ANY($3) AND owner <> $4`
	rows, err := tx.Query(ctx, q, t.UUID, kind, keys, owner)
	if err != nil {
		return nil, fmt.Errorf("claims %s: %w", kind, err)
	}
	defer rows.Close()
	held := map[string]bool{}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		held[v] = true
	}
	return held, rows.Err()
}

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
		keys := make([]string, 0, len(c.Lines))
		for _, l := range c.Lines {
			keys = append(keys, l.Key)
		}
		held, err := heldByOthers(ctx, tx, c.Tenant, ClaimRemittanceLine, keys, c.Remittance.UUID)
		if err != nil {
			return struct{}{}, err
		}
		fresh := make([]statement.RemittanceLine, 0, len(c.Lines))
		for _, l := range c.Lines {
			if !held[l.Key] {
				fresh = append(fresh, l)
			}
		}
		r, err := statement.ImportRemittance(c.Remittance, fresh, len(c.Lines)-len(fresh), c.By.Actor, now)
		if err != nil {
			return struct{}{}, err
		}
		if _, err := remittancesRepo.Save(ctx, tx, c.Tenant, c.Remittance.UUID, r, nil, c.By.metadata(c.Tenant)); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, claimAll(ctx, tx, c.Tenant, ClaimRemittanceLine, fresh, func(l statement.RemittanceLine) string { return l.Key }, c.Remittance.UUID)
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
// one transaction (orders locked in id order, so concurrent batches
// never deadlock). A receipt the payment refuses (a client-side error) is
// left out and returned by its index with the error; the others are
// recorded. It returns other errors as they come.
func (s *Service) ReceiveStatementLines(ctx context.Context, t tenant.ID, by By, rs []LineReceipt) (map[int]error, error) {
	order := make([]int, len(rs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return bytes.Compare(rs[a].Alloc.Order[:], rs[b].Alloc.Order[:]) })
	refused := map[int]error{}
	for {
		bad := -1
		var badErr error
		_, _, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (struct{}, error) {
			now := s.Now()
			bad = -1
			for _, i := range order {
				if refused[i] != nil {
					continue
				}
				r := rs[i]
				cp := ConfirmPayment{Tenant: t, By: by, Order: orderID(r.Alloc.Order), Amount: r.Alloc.Amount, ReceivedAt: r.Line.Date,
					Reference: lineReference(r.Line, r.Index)}
				var err error
				if cp.ReceivedAt.After(now.Add(time.Hour)) {
					err = errs.Field("received_at", "must not be in the future")
				} else {
					err = receiveOnPayment(ctx, tx, cp, r.Alloc.Payment, now)
				}
				if err != nil {
					if k := errs.KindOf(err); k != errs.KindInternal && k != errs.KindVersionConflict {
						bad, badErr = i, err
					}
					return struct{}{}, err
				}
			}
			return struct{}{}, nil
		})
		switch {
		case err == nil:
			return refused, nil
		case bad >= 0 && errors.Is(err, badErr):
			refused[bad] = badErr
		default:
			return nil, fmt.Errorf("receive statement lines: %w", err)
		}
	}
}

func orderID(u uuid.UUID) order.ID { return order.ID{UUID: u} }

// receiveOnPayment is receiveTransfer when the payment is known (the
// matcher read it with the order): under the order's lock it loads only
// the payment, which a receipt alone changes (the order moves on through
// the order_on_payment_settled policy). A payment that is not the order's
// is ErrNotFound.
func receiveOnPayment(ctx context.Context, tx *eventstore.Tx, c ConfirmPayment, pid uuid.UUID, now time.Time) error {
	if pid == uuid.Nil {
		_, err := receiveTransfer(ctx, tx, c, c.ReceivedAt.UTC(), c.Reference, now)
		return err
	}
	if err := lockOrder(ctx, tx, c.Order.UUID); err != nil {
		return err
	}
	p, err := payments.Load(ctx, tx, c.Tenant, pid)
	if err != nil {
		return err
	}
	if p.Order() != c.Order.UUID {
		return fmt.Errorf("payment %s of order %s: %w", pid, c.Order, eventstore.ErrNotFound)
	}
	if c.Amount.Currency() != p.Due().Currency() {
		return errs.Field("amount", "must be in "+string(p.Due().Currency()))
	}
	if err := p.Receive(c.Amount, c.ReceivedAt.UTC(), c.Reference, false, c.By.Actor, now); err != nil {
		return err
	}
	_, err = payments.Save(ctx, tx, c.Tenant, pid, p, nil, c.By.metadata(c.Tenant))
	return err
}
