// Package vendor holds the vendor aggregate: a seller in a mall, or — in a
// single-brand tenant — the one implicit vendor that owns every product and
// that no single-brand flow ever asks about. It imports only the standard
// library, uuid and decimal.
package vendor

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/honten/honten/domain/aggregate"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/ids"
	"github.com/honten/honten/domain/tenant"
)

// StreamType is the event stream type of vendors.
const StreamType = "vendor"

type kind struct{}

func (kind) Kind() string { return "vendor" }

// ID identifies a vendor.
type ID = ids.ID[kind]

// NewID returns a fresh vendor ID.
func NewID() ID { return ids.New[kind]() }

// ParseID parses a vendor ID.
func ParseID(s string) (ID, error) { return ids.Parse[kind](s) }

// Status of a vendor.
type Status string

// Vendor statuses. A suspended vendor's products are not sold.
const (
	Active    Status = "active"
	Suspended Status = "suspended"
)

// ParseStatus parses a vendor status.
func ParseStatus(s string) (Status, error) {
	return errs.OneOf("status", s, []Status{Active, Suspended})
}

// Created is a vendor's first event.
type Created struct {
	ID             ID              `json:"id"`
	Tenant         tenant.ID       `json:"tenant_id"`
	Name           string          `json:"name"`
	CommissionRate decimal.Decimal `json:"commission_rate"`
	Status         Status          `json:"status"`
	Implicit       bool            `json:"implicit"`
	At             time.Time       `json:"at"`
}

// Updated changes a vendor's name, commission rate or status. A commission
// rate applies from EffectiveFrom; events without it (or without a rate
// change) apply from At, as they did before rates had dates.
type Updated struct {
	Name           string          `json:"name"`
	CommissionRate decimal.Decimal `json:"commission_rate"`
	EffectiveFrom  *time.Time      `json:"effective_from,omitempty"`
	Status         Status          `json:"status"`
	At             time.Time       `json:"at"`
}

// PayoutAccountSet is the bank account a vendor's payouts go to.
type PayoutAccountSet struct {
	Account tenant.BankAccount `json:"account"`
	At      time.Time          `json:"at"`
}

// Rate is one step of a vendor's commission history: Rate applies to orders
// placed from EffectiveFrom until the next step.
type Rate struct {
	Rate          decimal.Decimal `json:"commission_rate"`
	EffectiveFrom time.Time       `json:"effective_from"`
	SetAt         time.Time       `json:"set_at"`
}

// ErrEffectiveInPast means a commission rate was dated before the change:
// orders already placed have frozen their rate, so history is not rewritten.
var ErrEffectiveInPast = errs.Field("effective_from", "must not be in the past: placed orders keep the rate they froze")

// ErrEffectiveWithoutRate means effective_from came without a commission_rate.
var ErrEffectiveWithoutRate = errs.Field("effective_from", "needs a commission_rate")

// EventName implements aggregate.Event.
func (Created) EventName() string { return "vendor.created.v1" }

// EventName implements aggregate.Event.
func (Updated) EventName() string { return "vendor.updated.v1" }

// EventName implements aggregate.Event.
func (PayoutAccountSet) EventName() string { return "vendor.payout_account_set.v1" }

// Events lists the vendor events for the registry.
var Events = []aggregate.Event{Created{}, Updated{}, PayoutAccountSet{}}

// ErrImplicitVendor means an operation does not apply to a single-brand
// shop's own vendor (its commission is always zero, it cannot be suspended).
var ErrImplicitVendor = errs.Conflict("implicit_vendor", "the shop's own vendor cannot be changed this way")

// Vendor is a seller.
type Vendor struct {
	aggregate.Base
	id         ID
	tenant     tenant.ID
	name       string
	commission decimal.Decimal
	rates      []Rate // by EffectiveFrom, ascending
	status     Status
	implicit   bool
	account    *tenant.BankAccount
}

var one = decimal.NewFromInt(1)

// ValidateCommission checks a commission rate: a fraction from 0 to 1 with
// at most 4 decimals ("0.15" is 15 %).
func ValidateCommission(r decimal.Decimal) error {
	if r.IsNegative() || r.GreaterThan(one) || r.Exponent() < -4 && !r.Truncate(4).Equal(r) {
		return errs.Field("commission_rate", "must be a fraction from 0 to 1 with at most 4 decimals (0.15 = 15%)")
	}
	return nil
}

// New creates a vendor.
func New(id ID, t tenant.ID, name string, commission decimal.Decimal, status Status, implicit bool, now time.Time) (*Vendor, error) {
	var v errs.Collector
	v.Merge("", tenant.ValidateName("name", name))
	v.Merge("", ValidateCommission(commission))
	if err := v.Err(); err != nil {
		return nil, err
	}
	x := &Vendor{}
	x.record(Created{ID: id, Tenant: t, Name: name, CommissionRate: commission, Status: status, Implicit: implicit, At: now.UTC()})
	return x, nil
}

// FromHistory rebuilds a vendor from its events, without validation.
func FromHistory(history []aggregate.Event) *Vendor {
	x := &Vendor{}
	for _, e := range history {
		x.apply(e)
	}
	x.Replayed(len(history))
	return x
}

// Update changes the given fields (nil leaves one as it is). A commission
// rate applies from effectiveFrom (nil: from now), which must not be before
// now; a later-dated step already scheduled from that date on is replaced.
// The implicit vendor keeps a zero commission and stays active: it returns
// ErrImplicitVendor for such a change.
func (x *Vendor) Update(name *string, commission *decimal.Decimal, effectiveFrom *time.Time, status *Status, now time.Time) error {
	n, c, s := x.name, x.commission, x.status
	var v errs.Collector
	if name != nil {
		v.Merge("", tenant.ValidateName("name", *name))
		n = *name
	}
	var eff *time.Time
	if commission != nil {
		v.Merge("", ValidateCommission(*commission))
		c = *commission
		if effectiveFrom != nil {
			if effectiveFrom.Before(now) {
				v.Merge("", ErrEffectiveInPast)
			}
			e := effectiveFrom.UTC()
			eff = &e
		}
	} else if effectiveFrom != nil {
		v.Merge("", ErrEffectiveWithoutRate)
	}
	if status != nil {
		s = *status
	}
	if err := v.Err(); err != nil {
		return err
	}
	if x.implicit && (!c.IsZero() || s != Active) {
		return ErrImplicitVendor
	}
	if n == x.name && c.Equal(x.commission) && s == x.status && eff == nil {
		return nil
	}
	x.record(Updated{Name: n, CommissionRate: c, EffectiveFrom: eff, Status: s, At: now.UTC()})
	return nil
}

// SetPayoutAccount sets the account the vendor's payouts go to; setting
// the same account again records nothing.
func (x *Vendor) SetPayoutAccount(a tenant.BankAccount, now time.Time) error {
	if err := a.Validate(""); err != nil {
		return err
	}
	if x.account != nil && *x.account == a {
		return nil
	}
	x.record(PayoutAccountSet{Account: a, At: now.UTC()})
	return nil
}

// PayoutAccount returns the account the vendor's payouts go to, or nil.
func (x *Vendor) PayoutAccount() *tenant.BankAccount { return x.account }

func (x *Vendor) record(e aggregate.Event) { x.apply(e); x.Record(e) }

func (x *Vendor) apply(e aggregate.Event) {
	switch e := e.(type) {
	case Created:
		x.id, x.tenant, x.name, x.commission, x.status, x.implicit = e.ID, e.Tenant, e.Name, e.CommissionRate, e.Status, e.Implicit
		x.rates = []Rate{{Rate: e.CommissionRate, EffectiveFrom: e.At, SetAt: e.At}}
	case Updated:
		x.rates = NextRates(x.rates, x.commission, e)
		x.name, x.commission, x.status = e.Name, e.CommissionRate, e.Status
	case PayoutAccountSet:
		a := e.Account
		x.account = &a
	}
}

// NextRates returns the rate history after e, given the history and the
// latest rate set before it: a read model keeps a vendor's rates with it.
func NextRates(rates []Rate, latest decimal.Decimal, e Updated) []Rate {
	if e.EffectiveFrom == nil && e.CommissionRate.Equal(latest) {
		return rates
	}
	from := e.At
	if e.EffectiveFrom != nil {
		from = *e.EffectiveFrom
	}
	return addRate(rates, Rate{Rate: e.CommissionRate, EffectiveFrom: from, SetAt: e.At})
}

// addRate appends r, dropping the steps it supersedes (those dated at or
// after it): the latest decision holds from its date on.
func addRate(rates []Rate, r Rate) []Rate {
	out := rates[:0:0]
	for _, x := range rates {
		if x.EffectiveFrom.Before(r.EffectiveFrom) {
			out = append(out, x)
		}
	}
	return append(out, r)
}

// Rates returns the commission history, oldest step first.
func (x *Vendor) Rates() []Rate { return append([]Rate(nil), x.rates...) }

// RateAt returns the commission rate in force at t: the last step dated at
// or before t (the first step for an earlier t, which only an order placed
// while the vendor was being created can ask for).
func (x *Vendor) RateAt(t time.Time) decimal.Decimal {
	if len(x.rates) == 0 {
		return x.commission
	}
	return RateIn(x.rates, t)
}

// RateIn returns the rate of history rates (oldest step first, not empty)
// in force at t, as Vendor.RateAt.
func RateIn(rates []Rate, t time.Time) decimal.Decimal {
	r := rates[0].Rate
	for _, s := range rates {
		if s.EffectiveFrom.After(t) {
			break
		}
		r = s.Rate
	}
	return r
}

// ID returns the vendor's id.
func (x *Vendor) ID() ID { return x.id }

// Name returns the vendor's name.
func (x *Vendor) Name() string { return x.name }

// CommissionRate returns the latest commission rate set (which may apply
// from a later date; see RateAt).
func (x *Vendor) CommissionRate() decimal.Decimal { return x.commission }

// Status returns active or suspended.
func (x *Vendor) Status() Status { return x.status }

// Implicit reports whether this is the vendor created with the tenant.
func (x *Vendor) Implicit() bool { return x.implicit }
