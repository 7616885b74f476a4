package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/statement"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/projections"
)

// candidateSlack is how far before the earliest line an order's due date
// may lie and still be a candidate: late transfers are matched too.
const candidateSlack = 90 * 24 * time.Hour

// Candidates reads from order_views the bank-transfer orders that lines
// may pay: placed by the last line's day, due no earlier than 90 days plus
// grace before the first line's day.
func Candidates(ctx context.Context, q eventstore.Querier, t tenant.ID, lines []statement.Line, grace time.Duration) ([]Candidate, error) {
	if len(lines) == 0 {
		return nil, nil
	}
	from, to := lines[0].Date, lines[0].Date
	for _, l := range lines {
		if l.Date.Before(from) {
			from = l.Date
		}
		if l.Date.After(to) {
			to = l.Date
		}
	}
	return candidatesBetween(ctx, q, t, from.Add(-candidateSlack-grace), to.Add(48*time.Hour), nil)
}

func candidatesBetween(ctx context.Context, q eventstore.Querier, t tenant.ID, dueFrom, placedTo time.Time, unpaidOnly *bool) ([]Candidate, error) {
	const query = `SELECT o.order_id, p.payment_id, o.number, o.name, o.status, p.status, greatest(p.amount - p.received, 0)::text, p.currency,
  p.reference_code, o.created_at, p.due_at
FROM order_view_payments p JOIN order_views o ON o.tenant_id = p.tenant_id AND o.order_id = p.order_id
WHERE p.tenant_id = $1 AND p.method = 'bank_transfer' AND o.created_at < $3 AND (p.due_at IS NULL OR p.due_at >= $2)
  AND ($4::boolean IS NULL OR p.status <> 'paid')`
	rows, err := q.Query(ctx, query, t, dueFrom, placedTo, unpaidOnly)
	if err != nil {
		return nil, fmt.Errorf("candidates: %w", err)
	}
	defer rows.Close()
	var out []Candidate
	for rows.Next() {
		var c Candidate
		var balance, cur string
		if err := rows.Scan(&c.Order, &c.Payment, &c.Number, &c.Name, &c.Status, &c.PaymentStatus, &balance, &cur, &c.ReferenceCode, &c.PlacedAt, &c.DueAt); err != nil {
			return nil, err
		}
		if c.Balance, err = money.Parse(balance, money.Currency(cur)); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// StatementView is a statement import as GET /bank-statements/{id} shows it.
type StatementView struct {
	ID uuid.UUID `json:"id"`
	// Status is the import's: queued, running, completed or failed.
	Status         string     `json:"status"`
	Format         string     `json:"format"`
	TotalLines     int        `json:"total_lines"`
	ProcessedLines int        `json:"processed_lines"`
	Lines          int        `json:"lines"`
	Duplicates     int        `json:"duplicates"`
	Matched        int        `json:"matched"`
	Unmatched      int        `json:"unmatched"`
	Ignored        int        `json:"ignored"`
	Errors         []RowError `json:"errors"`
	Message        *string    `json:"message"`
	CreatedAt      time.Time  `json:"created_at"`
	FinishedAt     *time.Time `json:"finished_at"`
}

type jobRow struct {
	status     string
	total      int
	processed  int
	unchanged  int
	errs       []byte
	message    *string
	options    []byte
	createdAt  time.Time
	finishedAt *time.Time
}

func (j Jobs) job(ctx context.Context, q eventstore.Querier, t tenant.ID, id uuid.UUID, kind string) (jobRow, error) {
	const query = `SELECT status, total_rows, processed_rows, unchanged, errors, message, options, created_at, finished_at
FROM import_jobs WHERE tenant_id = $1 AND id = $2 AND kind = $3`
	var r jobRow
	err := q.QueryRow(ctx, query, t, id, kind).Scan(&r.status, &r.total, &r.processed, &r.unchanged, &r.errs, &r.message, &r.options, &r.createdAt, &r.finishedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, fmt.Errorf("%s %s: %w", kind, id, eventstore.ErrNotFound)
	}
	return r, err
}

// Statement returns a statement import of tenant t: the job's progress and
// errors, and the counts of its lines by status from the read model. It
// returns eventstore.ErrNotFound.
func (j Jobs) Statement(ctx context.Context, q eventstore.Querier, t tenant.ID, id uuid.UUID) (StatementView, error) {
	r, err := j.job(ctx, q, t, id, KindStatement)
	if err != nil {
		return StatementView{}, err
	}
	v := StatementView{ID: id, Status: r.status, TotalLines: r.total, ProcessedLines: r.processed, Duplicates: r.unchanged,
		Message: r.message, CreatedAt: r.createdAt, FinishedAt: r.finishedAt, Errors: []RowError{}}
	var o Options
	_ = json.Unmarshal(r.options, &o)
	v.Format = o.Format
	if err := json.Unmarshal(r.errs, &v.Errors); err != nil {
		return StatementView{}, err
	}
	const counts = `SELECT count(*), count(*) FILTER (WHERE status = 'matched'), count(*) FILTER (WHERE status = 'unmatched'),
  count(*) FILTER (WHERE status = 'ignored') FROM bank_statement_lines WHERE tenant_id = $1 AND statement_id = $2`
	if err := q.QueryRow(ctx, counts, t, id).Scan(&v.Lines, &v.Matched, &v.Unmatched, &v.Ignored); err != nil {
		return StatementView{}, err
	}
	return v, nil
}

// LineView is a statement line as the exceptions queue shows it.
type LineView struct {
	ID          uuid.UUID              `json:"id"`
	StatementID uuid.UUID              `json:"statement_id"`
	Line        int                    `json:"line"`
	Date        time.Time              `json:"date"`
	Deposit     bool                   `json:"deposit"`
	Amount      money.Money            `json:"amount"`
	PayerName   string                 `json:"payer_name"`
	Reference   string                 `json:"reference"`
	Description string                 `json:"description"`
	Status      string                 `json:"status"`
	How         *string                `json:"how"`
	Allocations []statement.Allocation `json:"allocations"`
	Reason      *string                `json:"reason"`
	DecidedBy   *string                `json:"decided_by"`
	DecidedAt   *time.Time             `json:"decided_at"`
	// Suggestions rank the orders an unmatched deposit may pay.
	Suggestions []Suggestion `json:"suggestions,omitempty"`
}

const lineColumns = `line_id, statement_id, record, date, deposit, amount::text, currency, payer_name, reference, description, status, how,
  allocations, reason, decided_by, decided_at`

func scanLine(row pgx.Row) (LineView, error) {
	var l LineView
	var amount, cur string
	var allocs []byte
	err := row.Scan(&l.ID, &l.StatementID, &l.Line, &l.Date, &l.Deposit, &amount, &cur, &l.PayerName, &l.Reference, &l.Description,
		&l.Status, &l.How, &allocs, &l.Reason, &l.DecidedBy, &l.DecidedAt)
	if err != nil {
		return l, err
	}
	if l.Amount, err = money.Parse(amount, money.Currency(cur)); err != nil {
		return l, err
	}
	l.Allocations = []statement.Allocation{}
	return l, json.Unmarshal(allocs, &l.Allocations)
}

// Lines lists a statement's lines in file order, optionally of one status;
// unmatched deposits carry ranked suggestions. It returns
// eventstore.ErrNotFound for an unknown statement.
func (j Jobs) Lines(ctx context.Context, q eventstore.Querier, t tenant.ID, id uuid.UUID, status string, grace time.Duration, p projections.Page) (projections.List[LineView], error) {
	if _, err := j.job(ctx, q, t, id, KindStatement); err != nil {
		return projections.List[LineView]{}, err
	}
	var after struct{ Line int }
	after.Line = -1
	if _, err := p.DecodeCursor(&after); err != nil {
		return projections.List[LineView]{}, err
	}
	query := `SELECT ` + lineColumns + ` FROM bank_statement_lines
WHERE tenant_id = $1 AND statement_id = $2 AND ($3 = '' OR status = $3) AND record > $4 ORDER BY record LIMIT $5`
	rows, err := q.Query(ctx, query, t, id, status, after.Line, p.Limit+1)
	if err != nil {
		return projections.List[LineView]{}, err
	}
	var out []LineView
	for rows.Next() {
		l, err := scanLine(rows)
		if err != nil {
			rows.Close()
			return projections.List[LineView]{}, err
		}
		out = append(out, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return projections.List[LineView]{}, err
	}
	if err := suggest(ctx, q, t, out, grace); err != nil {
		return projections.List[LineView]{}, err
	}
	return projections.NewList(out, p.Limit, func(l LineView) any { return struct{ Line int }{l.Line} }), nil
}

// suggest fills the suggestions of the unmatched deposits among lines.
func suggest(ctx context.Context, q eventstore.Querier, t tenant.ID, lines []LineView, grace time.Duration) error {
	var open []statement.Line
	for _, l := range lines {
		if l.Deposit && l.Status == statement.StatusUnmatched {
			open = append(open, statement.Line{Date: l.Date, Amount: l.Amount, PayerName: l.PayerName, Deposit: true})
		}
	}
	if len(open) == 0 {
		return nil
	}
	cands, err := Candidates(ctx, q, t, open, grace)
	if err != nil {
		return err
	}
	m := NewMatcher(cands)
	for i := range lines {
		l := &lines[i]
		if l.Deposit && l.Status == statement.StatusUnmatched {
			l.Suggestions = m.Suggest(statement.Line{Date: l.Date, Amount: l.Amount, PayerName: l.PayerName, Deposit: true}, grace)
			if l.Suggestions == nil {
				l.Suggestions = []Suggestion{}
			}
		}
	}
	return nil
}

// Line returns one line with its statement. It returns eventstore.ErrNotFound.
func Line(ctx context.Context, q eventstore.Querier, t tenant.ID, id uuid.UUID) (LineView, error) {
	l, err := scanLine(q.QueryRow(ctx, `SELECT `+lineColumns+` FROM bank_statement_lines WHERE tenant_id = $1 AND line_id = $2`, t, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return l, fmt.Errorf("statement line %s: %w", id, eventstore.ErrNotFound)
	}
	return l, err
}

// ImportFinished reports whether statement id's import is over (completed
// or failed): staff decide its lines only then.
func (j Jobs) ImportFinished(ctx context.Context, q eventstore.Querier, t tenant.ID, id uuid.UUID) (bool, error) {
	r, err := j.job(ctx, q, t, id, KindStatement)
	if err != nil {
		return false, err
	}
	return r.status == "completed" || r.status == "failed", nil
}
