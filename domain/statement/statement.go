// Package statement holds the bank statements a shop imports to reconcile
// bank transfers with orders, and the carriers' cash-on-delivery
// remittances. A statement is imported once with its lines; then each
// deposit line is matched to one or more orders' payments (automatically
// or by staff) or ignored. Withdrawals are never matched. It imports only
// the standard library, uuid, decimal and other domain packages.
package statement

import (
	"time"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/aggregate"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/ids"
	"github.com/honten/honten/domain/money"
)

// StreamType is the event stream type of bank statements.
const StreamType = "bank_statement"

type kind struct{}

func (kind) Kind() string { return "bank_statement" }

// ID identifies a bank statement (the import that brought it).
type ID = ids.ID[kind]

// ParseID parses a statement ID.
func ParseID(s string) (ID, error) { return ids.Parse[kind](s) }

type lineKind struct{}

func (lineKind) Kind() string { return "bank_statement_line" }

// LineID identifies a statement line.
type LineID = ids.ID[lineKind]

// ParseLineID parses a statement line ID.
func ParseLineID(s string) (LineID, error) { return ids.Parse[lineKind](s) }

// LineIDOf is the id of the line with the bank file's stable identity key
// within a tenant: the same line imported again has the same id.
func LineIDOf(tenant uuid.UUID, key string) LineID {
	return ids.From[lineKind](uuid.NewSHA1(tenant, []byte("bank_statement_line:"+key)))
}

// How says who matched a line.
type How string

// How a line was matched.
const (
	Auto  How = "auto"  // the importer found one order by its reference code
	Staff How = "staff" // staff chose the order
)

// Line statuses.
const (
	StatusUnmatched = "unmatched"
	StatusMatched   = "matched"
	StatusIgnored   = "ignored"
)

// ReasonWithdrawal is the ignore reason of a withdrawal: only deposits pay orders.
const ReasonWithdrawal = "not_a_deposit"

// Line is one line of an imported statement.
type Line struct {
	ID LineID `json:"id"`
	// Key is the line's stable identity in the bank file (zengin Line.ID).
	Key string `json:"key"`
	// Record is the line number in the file.
	Record    int         `json:"record"`
	Date      time.Time   `json:"date"`
	Deposit   bool        `json:"deposit"`
	Amount    money.Money `json:"amount"`
	PayerName string      `json:"payer_name"`
	// Reference is the bank's 照会番号 (or a CSV reference column).
	Reference   string `json:"reference,omitempty"`
	Description string `json:"description,omitempty"`
}

// Allocation is the part of a line's amount that pays one order.
type Allocation struct {
	Order   uuid.UUID   `json:"order_id"`
	Payment uuid.UUID   `json:"payment_id"`
	Amount  money.Money `json:"amount"`
}

// Imported is a statement's first event: the lines of the file not
// imported before (Duplicates counts the others).
type Imported struct {
	ID         ID        `json:"id"`
	Format     string    `json:"format"`
	Lines      []Line    `json:"lines"`
	Duplicates int       `json:"duplicates"`
	By         string    `json:"by"`
	At         time.Time `json:"at"`
}

// LineMatched records that a deposit line paid orders.
type LineMatched struct {
	Line        LineID       `json:"line_id"`
	Allocations []Allocation `json:"allocations"`
	How         How          `json:"how"`
	By          string       `json:"by"`
	At          time.Time    `json:"at"`
}

// LineIgnored records that staff set a line aside.
type LineIgnored struct {
	Line   LineID    `json:"line_id"`
	Reason string    `json:"reason"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// EventName implements aggregate.Event.
func (Imported) EventName() string { return "bank_statement.imported.v1" }

// EventName implements aggregate.Event.
func (LineMatched) EventName() string { return "bank_statement.line_matched.v1" }

// EventName implements aggregate.Event.
func (LineIgnored) EventName() string { return "bank_statement.line_ignored.v1" }

// Errors.
var (
	ErrLineNotFound = errs.New(errs.KindNotFound, "not_found", "statement line not found")
	// ErrNotDeposit refuses to match a withdrawal.
	ErrNotDeposit = errs.Conflict("not_a_deposit", "only deposits can be matched to orders")
	// ErrLineDecided refuses to match or ignore a line already matched
	// (to other orders) or to match an ignored one.
	ErrLineDecided = errs.Conflict("line_already_decided", "this line was already matched or ignored")
	// ErrAllocation refuses allocations that do not add up to the line's amount.
	ErrAllocation = errs.Field("order_id", "the orders' amounts must add up to the line's amount")
	// ErrNoLines refuses an import without lines.
	ErrNoLines = errs.Field("file", "has no statement lines")
)

type lineState struct {
	line   Line
	status string
	alloc  []Allocation
	reason string
}

// Statement is an imported bank statement and the decisions on its lines.
type Statement struct {
	aggregate.Base
	id    ID
	lines map[LineID]*lineState
	order []LineID
}

// Import records a statement of the lines not imported before. It returns
// ErrNoLines when lines and duplicates are both empty.
func Import(id ID, format string, lines []Line, duplicates int, by string, now time.Time) (*Statement, error) {
	if len(lines) == 0 && duplicates == 0 {
		return nil, ErrNoLines
	}
	if lines == nil {
		lines = []Line{}
	}
	s := &Statement{}
	s.record(Imported{ID: id, Format: format, Lines: lines, Duplicates: duplicates, By: by, At: now.UTC()})
	return s, nil
}

// FromHistory rebuilds a statement from its events, without validation: it
// is the only path that skips it.
func FromHistory(history []aggregate.Event) *Statement {
	s := &Statement{}
	for _, e := range history {
		s.apply(e)
	}
	s.Replayed(len(history))
	return s
}

// Match records that a deposit line paid the allocations' orders; their
// amounts must add up to the line's. Matching a line again to the same
// orders records nothing. It returns ErrLineNotFound, ErrNotDeposit,
// ErrLineDecided and ErrAllocation.
func (s *Statement) Match(line LineID, allocs []Allocation, how How, by string, now time.Time) error {
	l, ok := s.lines[line]
	if !ok {
		return ErrLineNotFound
	}
	if !l.line.Deposit {
		return ErrNotDeposit
	}
	if l.status == StatusMatched {
		if sameOrders(l.alloc, allocs) {
			return nil
		}
		return ErrLineDecided
	}
	if len(allocs) == 0 {
		return ErrAllocation
	}
	sum := money.Zero(l.line.Amount.Currency())
	for _, a := range allocs {
		var err error
		if sum, err = sum.Add(a.Amount); err != nil || !a.Amount.IsPositive() {
			return ErrAllocation
		}
	}
	if !sum.Equal(l.line.Amount) {
		return ErrAllocation
	}
	s.record(LineMatched{Line: line, Allocations: allocs, How: how, By: by, At: now.UTC()})
	return nil
}

func sameOrders(a, b []Allocation) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Order != b[i].Order {
			return false
		}
	}
	return true
}

// Ignore sets an unmatched line aside; ignoring an ignored line again
// records nothing. It returns ErrLineNotFound and ErrLineDecided for a
// matched line.
func (s *Statement) Ignore(line LineID, reason, by string, now time.Time) error {
	l, ok := s.lines[line]
	if !ok {
		return ErrLineNotFound
	}
	switch l.status {
	case StatusIgnored:
		return nil
	case StatusMatched:
		return ErrLineDecided
	}
	s.record(LineIgnored{Line: line, Reason: reason, By: by, At: now.UTC()})
	return nil
}

func (s *Statement) record(e aggregate.Event) { s.apply(e); s.Record(e) }

func (s *Statement) apply(e aggregate.Event) {
	switch e := e.(type) {
	case Imported:
		s.id = e.ID
		s.lines = make(map[LineID]*lineState, len(e.Lines))
		for _, l := range e.Lines {
			st := &lineState{line: l, status: StatusUnmatched}
			if !l.Deposit {
				st.status, st.reason = StatusIgnored, ReasonWithdrawal
			}
			s.lines[l.ID] = st
			s.order = append(s.order, l.ID)
		}
	case LineMatched:
		if l := s.lines[e.Line]; l != nil {
			l.status, l.alloc = StatusMatched, e.Allocations
		}
	case LineIgnored:
		if l := s.lines[e.Line]; l != nil {
			l.status, l.reason = StatusIgnored, e.Reason
		}
	}
}

// ID returns the statement's id.
func (s *Statement) ID() ID { return s.id }

// Line returns a line and its status, or false.
func (s *Statement) Line(id LineID) (Line, string, bool) {
	l, ok := s.lines[id]
	if !ok {
		return Line{}, "", false
	}
	return l.line, l.status, true
}

// Lines returns the statement's lines in file order.
func (s *Statement) Lines() []Line {
	out := make([]Line, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, s.lines[id].line)
	}
	return out
}

// Status returns a line's status ("" for an unknown line).
func (s *Statement) Status(id LineID) string {
	if l, ok := s.lines[id]; ok {
		return l.status
	}
	return ""
}

// Allocations returns the orders a matched line paid (nil otherwise).
func (s *Statement) Allocations(id LineID) []Allocation {
	if l, ok := s.lines[id]; ok && l.status == StatusMatched {
		return l.alloc
	}
	return nil
}
