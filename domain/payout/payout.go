// Package payout holds what a mall pays its vendors: each vendor's payouts
// (one stream per vendor, so two payouts recorded at once are decided one
// after the other) and payout runs, the batches finance pays by one bank
// transfer file. It decides against the amount the ledger says was
// released to the vendor; the ledger read model posts what it records.
package payout

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/aggregate"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/ids"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/tenant"
)

// StreamType is the stream type of a vendor's payouts (StreamOf).
const StreamType = "vendor_payouts"

// StreamOf returns the id of vendor v's payouts stream, derived from the
// vendor's id (stream ids are unique across types).
func StreamOf(v uuid.UUID) uuid.UUID { return uuid.NewSHA1(v, []byte("payouts")) }

// RunStreamType is the stream type of payout runs.
const RunStreamType = "payout_run"

type kind struct{}

func (kind) Kind() string { return "payout" }

type runKind struct{}

func (runKind) Kind() string { return "payout_run" }

// ID identifies a payout.
type ID = ids.ID[kind]

// RunID identifies a payout run.
type RunID = ids.ID[runKind]

// ParseRunID parses a payout run ID.
func ParseRunID(s string) (RunID, error) { return ids.Parse[runKind](s) }

// MaxReferenceLen bounds a payout's reference, in characters.
const MaxReferenceLen = 64

// Recorded is a payout paid to a vendor: money left the platform's
// account. Run names the payout run it paid, if any.
type Recorded struct {
	ID        ID          `json:"id"`
	Vendor    uuid.UUID   `json:"vendor_id"`
	Amount    money.Money `json:"amount"`
	PaidAt    time.Time   `json:"paid_at"`
	Reference string      `json:"reference"`
	Run       *uuid.UUID  `json:"run_id,omitempty"`
	At        time.Time   `json:"at"`
}

// EventName implements aggregate.Event.
func (Recorded) EventName() string { return "payout.recorded.v1" }

// RunItem is one vendor's transfer in a run, with the account it goes to
// as it was when the run was made.
type RunItem struct {
	Vendor  uuid.UUID          `json:"vendor_id"`
	Name    string             `json:"name"`
	Amount  money.Money        `json:"amount"`
	Account tenant.BankAccount `json:"account"`
}

// RunSkip is a vendor owed at least the minimum that a run could not pay,
// and why (no payout account on file).
type RunSkip struct {
	Vendor uuid.UUID   `json:"vendor_id"`
	Amount money.Money `json:"amount"`
	Reason string      `json:"reason"`
}

// RunCreated is a payout run: every vendor whose payable at PeriodEnd
// reached MinAmount, and the amount to transfer to each.
type RunCreated struct {
	ID        RunID       `json:"id"`
	Tenant    tenant.ID   `json:"tenant_id"`
	PeriodEnd time.Time   `json:"period_end"`
	MinAmount money.Money `json:"min_amount"`
	Items     []RunItem   `json:"items"`
	Skipped   []RunSkip   `json:"skipped"`
	Total     money.Money `json:"total"`
	At        time.Time   `json:"at"`
}

// EventName implements aggregate.Event.
func (RunCreated) EventName() string { return "payout_run.created.v1" }

// Events lists the payout events for the registry.
var Events = []aggregate.Event{Recorded{}, RunCreated{}}

// Errors a payout can meet.
var (
	// ErrExceedsPayable: more than the vendor's payable would be paid.
	ErrExceedsPayable = errs.Conflict("exceeds_payable", "the amount is more than the vendor's payable balance")
	// ErrReferenceUsed: the vendor already has a payout with this reference.
	ErrReferenceUsed = errs.Conflict("payout_reference_used", "a payout with this reference is already recorded for the vendor")
	// ErrRunItemPaid: the run's transfer to the vendor is already recorded.
	ErrRunItemPaid = errs.Conflict("payout_run_item_paid", "the run's payout to this vendor is already recorded")
	// ErrNothingToPay: no vendor's payable reached the run's minimum.
	ErrNothingToPay = errs.Conflict("nothing_to_pay", "no vendor's payable reaches the minimum amount at the period end")
)

// Payouts are one vendor's payouts.
type Payouts struct {
	aggregate.Base
	paid map[money.Currency]money.Money
	refs map[string]bool
	runs map[uuid.UUID]bool
}

// FromHistory rebuilds a vendor's payouts from their events.
func FromHistory(history []aggregate.Event) *Payouts {
	p := &Payouts{}
	for _, e := range history {
		p.apply(e)
	}
	p.Replayed(len(history))
	return p
}

// Paid returns the total paid to the vendor in currency c.
func (p *Payouts) Paid(c money.Currency) money.Money {
	if m, ok := p.paid[c]; ok {
		return m
	}
	return money.Zero(c)
}

// Payout is what Pay needs to record a payout.
type Payout struct {
	ID        ID
	Vendor    uuid.UUID
	Amount    money.Money
	PaidAt    time.Time
	Reference string
	// Run is the payout run paid, and RunAmount its amount for the vendor.
	Run       *uuid.UUID
	RunAmount money.Money
}

// Pay records x paid, given what the ledger released to the vendor in
// total (payable and paid): the payouts may never exceed it. The
// reference is unique per vendor, and a run pays each vendor once.
func (p *Payouts) Pay(x Payout, released money.Money, now time.Time) error {
	var v errs.Collector
	x.Reference = strings.TrimSpace(x.Reference)
	v.Check(x.Reference != "" && utf8.RuneCountInString(x.Reference) <= MaxReferenceLen, "reference",
		"is required: the bank's reference of the transfer (≤ 64 characters)")
	switch {
	case x.Amount.Currency() != released.Currency():
		v.Add("amount", "must be in "+string(released.Currency()))
	case !x.Amount.IsPositive():
		v.Add("amount", "must be more than zero")
	case x.Run != nil && !x.Amount.Equal(x.RunAmount):
		v.Add("amount", "must be the run's amount for this vendor ("+x.RunAmount.AmountString()+")")
	}
	v.Check(!x.PaidAt.IsZero() && !x.PaidAt.After(now), "paid_at", "is required and must not be in the future")
	if err := v.Err(); err != nil {
		return err
	}
	if p.refs[x.Reference] {
		return ErrReferenceUsed
	}
	if x.Run != nil && p.runs[*x.Run] {
		return ErrRunItemPaid
	}
	after, err := p.Paid(x.Amount.Currency()).Add(x.Amount)
	if err != nil {
		return err
	}
	if c, err := after.Cmp(released); err != nil || c > 0 {
		return ErrExceedsPayable
	}
	p.record(Recorded{ID: x.ID, Vendor: x.Vendor, Amount: x.Amount, PaidAt: x.PaidAt.UTC(), Reference: x.Reference, Run: x.Run, At: now.UTC()})
	return nil
}

func (p *Payouts) record(e aggregate.Event) { p.apply(e); p.Base.Record(e) }

func (p *Payouts) apply(e aggregate.Event) {
	r, ok := e.(Recorded)
	if !ok {
		return
	}
	if p.paid == nil {
		p.paid, p.refs, p.runs = map[money.Currency]money.Money{}, map[string]bool{}, map[uuid.UUID]bool{}
	}
	if sum, err := p.Paid(r.Amount.Currency()).Add(r.Amount); err == nil {
		p.paid[r.Amount.Currency()] = sum
	}
	p.refs[r.Reference] = true
	if r.Run != nil {
		p.runs[*r.Run] = true
	}
}

// Run is a payout run.
type Run struct {
	aggregate.Base
	created RunCreated
}

// RunFromHistory rebuilds a run from its events.
func RunFromHistory(history []aggregate.Event) *Run {
	r := &Run{}
	for _, e := range history {
		if c, ok := e.(RunCreated); ok {
			r.created = c
		}
	}
	r.Replayed(len(history))
	return r
}

// Created returns the run as it was made.
func (r *Run) Created() RunCreated { return r.created }

// Item returns the run's transfer to vendor v.
func (r *Run) Item(v uuid.UUID) (RunItem, bool) {
	for _, it := range r.created.Items {
		if it.Vendor == v {
			return it, true
		}
	}
	return RunItem{}, false
}

// Candidate is a vendor whose payable a run may pay.
type Candidate struct {
	Vendor uuid.UUID
	Name   string
	// Amount is what the run would pay: the payable at the period end that
	// is still payable and not in an earlier run's unpaid transfers.
	Amount  money.Money
	Account *tenant.BankAccount
}

// NewRun makes a run of the candidates whose amount reaches minAmount
// (and is more than zero); those without a payout account are listed as
// skipped. The period end must not be in the future. It returns
// ErrNothingToPay when no candidate can be paid.
func NewRun(id RunID, t tenant.ID, periodEnd time.Time, minAmount money.Money, candidates []Candidate, now time.Time) (*Run, error) {
	var v errs.Collector
	v.Check(!periodEnd.IsZero() && !periodEnd.After(now), "period_end", "is required and must not be in the future")
	v.Check(!minAmount.IsNegative(), "min_amount", "must not be negative")
	if err := v.Err(); err != nil {
		return nil, err
	}
	c := minAmount.Currency()
	ev := RunCreated{ID: id, Tenant: t, PeriodEnd: periodEnd.UTC(), MinAmount: minAmount, Items: []RunItem{}, Skipped: []RunSkip{}, Total: money.Zero(c), At: now.UTC()}
	for _, k := range candidates {
		if k.Amount.Currency() != c {
			continue
		}
		if cmp, err := k.Amount.Cmp(minAmount); err != nil || cmp < 0 || !k.Amount.IsPositive() {
			continue
		}
		if k.Account == nil {
			ev.Skipped = append(ev.Skipped, RunSkip{Vendor: k.Vendor, Amount: k.Amount, Reason: "no_payout_account"})
			continue
		}
		ev.Items = append(ev.Items, RunItem{Vendor: k.Vendor, Name: k.Name, Amount: k.Amount, Account: *k.Account})
		var err error
		if ev.Total, err = ev.Total.Add(k.Amount); err != nil {
			return nil, err
		}
	}
	if len(ev.Items) == 0 {
		return nil, ErrNothingToPay
	}
	r := &Run{created: ev}
	r.Record(ev)
	return r, nil
}
