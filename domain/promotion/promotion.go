// Package promotion holds the promotion aggregate (a discount, automatic or
// behind coupon codes) and the pure rules that price a basket with
// promotions: which apply, in which order, how much each takes off and how
// the discount is allocated over the matching lines.
//
// It imports only the standard library, uuid, decimal and other domain
// packages.
package promotion

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/honten/honten/domain/aggregate"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/ids"
	"github.com/honten/honten/domain/money"
)

// StreamType is the event stream type of promotions.
const StreamType = "promotion"

type kind struct{}

func (kind) Kind() string { return "promotion" }

// ID identifies a promotion.
type ID = ids.ID[kind]

// ParseID parses a promotion ID.
func ParseID(s string) (ID, error) { return ids.Parse[kind](s) }

// Kind is how a promotion takes money off.
type Kind string

// The kinds.
const (
	KindPercent Kind = "percent" // Value percent of the matching lines
	KindFixed   Kind = "fixed"   // Value yen off the matching lines (at most their amount)
)

// AppliesTo narrows a promotion to lines by SKU, category or vendor; empty
// lists match every line. A line matches when it matches every non-empty list.
type AppliesTo struct {
	SKUs       []string    `json:"skus"`
	Categories []uuid.UUID `json:"categories"`
	Vendors    []uuid.UUID `json:"vendors"`
}

// Spec is what staff set on a promotion.
type Spec struct {
	Title     string          `json:"title"`
	Kind      Kind            `json:"kind"`
	Value     decimal.Decimal `json:"value"`
	AppliesTo AppliesTo       `json:"applies_to"`
	// MinSubtotal is the least merchandise subtotal (before discounts) of the order.
	MinSubtotal *money.Money `json:"min_subtotal,omitempty"`
	StartsAt    *time.Time   `json:"starts_at,omitempty"`
	EndsAt      *time.Time   `json:"ends_at,omitempty"`
	// Combinable promotions stack; an exclusive one applies alone.
	Combinable bool `json:"combinable"`
	// Priority orders promotions: the highest is considered first.
	Priority int `json:"priority"`
	// UsageLimit caps redemptions overall, PerCustomerLimit per buyer.
	UsageLimit       *int64 `json:"usage_limit,omitempty"`
	PerCustomerLimit *int64 `json:"per_customer_limit,omitempty"`
	// Coupon promotions need a code (Codes, shared, or generated unique
	// ones); others apply automatically.
	Coupon bool     `json:"coupon"`
	Codes  []string `json:"codes,omitempty"`
}

// Limits.
const (
	MaxCodes        = 20
	MaxListed       = 1000
	MaxGenerate     = 100_000
	MaxPrefixLength = 12
)

// NormalizeCode returns a code as stored and compared: trimmed, upper case.
func NormalizeCode(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// validCode reports whether s (normalised) is a code: 3–40 of A–Z, 0–9, - and _.
func validCode(s string) bool {
	if len(s) < 3 || len(s) > 40 {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// Validate checks s in currency c and returns it normalised (codes upper
// case, lists de-duplicated). It returns an Invalid error naming the fields.
func (s Spec) Validate(c money.Currency) (Spec, error) {
	var v errs.Collector
	s.Title = strings.TrimSpace(s.Title)
	v.Check(s.Title != "" && utf8.RuneCountInString(s.Title) <= 200, "title", "is required, at most 200 characters")
	switch s.Kind {
	case KindPercent:
		v.Check(s.Value.IsPositive() && s.Value.LessThanOrEqual(decimal.NewFromInt(100)), "value", "a percentage must be above 0 and at most 100")
	case KindFixed:
		v.Check(s.Value.IsPositive() && s.Value.Equal(s.Value.Truncate(c.Decimals())) && s.Value.LessThan(decimal.NewFromInt(1_000_000_000)),
			"value", "a fixed amount must be positive, in whole units of the currency")
	default:
		v.Add("kind", "must be one of: percent, fixed")
	}
	if s.MinSubtotal != nil {
		v.Check(s.MinSubtotal.Currency() == c && !s.MinSubtotal.IsNegative(), "min_subtotal", "must be a non-negative amount in the shop's currency")
	}
	if s.StartsAt != nil && s.EndsAt != nil {
		v.Check(s.EndsAt.After(*s.StartsAt), "ends_at", "must be after starts_at")
	}
	if s.UsageLimit != nil {
		v.Check(*s.UsageLimit >= 1, "usage_limit", "must be at least 1")
	}
	if s.PerCustomerLimit != nil {
		v.Check(*s.PerCustomerLimit >= 1, "per_customer_limit", "must be at least 1")
	}
	v.Check(s.Priority >= -1000 && s.Priority <= 1000, "priority", "must be between -1000 and 1000")
	v.Check(len(s.AppliesTo.SKUs) <= MaxListed && len(s.AppliesTo.Categories) <= MaxListed && len(s.AppliesTo.Vendors) <= MaxListed,
		"applies_to", "at most 1000 of each")
	v.Check(len(s.Codes) <= MaxCodes, "codes", "at most 20 shared codes")
	codes := make([]string, 0, len(s.Codes))
	seen := map[string]bool{}
	for _, code := range s.Codes {
		n := NormalizeCode(code)
		if !validCode(n) {
			v.Add("codes", "a code has 3 to 40 letters, digits, - or _")
			break
		}
		if !seen[n] {
			seen[n] = true
			codes = append(codes, n)
		}
	}
	s.Codes = codes
	if len(codes) > 0 {
		s.Coupon = true
	}
	skus := make([]string, 0, len(s.AppliesTo.SKUs))
	for _, k := range s.AppliesTo.SKUs {
		if k = strings.TrimSpace(k); k != "" {
			skus = append(skus, k)
		}
	}
	s.AppliesTo.SKUs = skus
	if s.AppliesTo.Categories == nil {
		s.AppliesTo.Categories = []uuid.UUID{}
	}
	if s.AppliesTo.Vendors == nil {
		s.AppliesTo.Vendors = []uuid.UUID{}
	}
	if err := v.Err(); err != nil {
		return Spec{}, err
	}
	return s, nil
}

// Created is a promotion's first event.
type Created struct {
	ID   ID        `json:"id"`
	Spec Spec      `json:"spec"`
	At   time.Time `json:"at"`
}

// Updated replaces a promotion's spec.
type Updated struct {
	Spec Spec      `json:"spec"`
	At   time.Time `json:"at"`
}

// Deleted ends a promotion: it applies no more (its history stays).
type Deleted struct {
	At time.Time `json:"at"`
}

// CodesGenerated records a batch of unique single-use codes: they derive
// from Seed (see GenerateCode), so the event names every code without
// listing them.
type CodesGenerated struct {
	Job    uuid.UUID `json:"job_id"`
	Count  int       `json:"count"`
	Prefix string    `json:"prefix"`
	Seed   []byte    `json:"seed"`
	At     time.Time `json:"at"`
}

// EventName implements aggregate.Event.
func (Created) EventName() string { return "promotion.created.v1" }

// EventName implements aggregate.Event.
func (Updated) EventName() string { return "promotion.updated.v1" }

// EventName implements aggregate.Event.
func (Deleted) EventName() string { return "promotion.deleted.v1" }

// EventName implements aggregate.Event.
func (CodesGenerated) EventName() string { return "promotion.codes_generated.v1" }

// Events lists the promotion events for the registry.
var Events = []aggregate.Event{Created{}, Updated{}, Deleted{}, CodesGenerated{}}

// Errors.
var (
	ErrDeleted   = errs.Conflict("promotion_deleted", "the promotion was deleted")
	ErrNotCoupon = errs.Conflict("promotion_not_coupon", "an automatic promotion has no codes: set codes (even []) to make it a coupon promotion")
)

// Promotion is a discount rule.
type Promotion struct {
	aggregate.Base
	id      ID
	spec    Spec
	deleted bool
	batches []CodesGenerated
}

// Create records a new promotion from a validated spec.
func Create(id ID, s Spec, now time.Time) *Promotion {
	p := &Promotion{}
	p.record(Created{ID: id, Spec: s, At: now.UTC()})
	return p
}

// FromHistory rebuilds a promotion from its events.
func FromHistory(history []aggregate.Event) *Promotion {
	p := &Promotion{}
	for _, e := range history {
		p.apply(e)
	}
	p.Replayed(len(history))
	return p
}

// Update replaces the spec (validated by the caller). It returns ErrDeleted.
func (p *Promotion) Update(s Spec, now time.Time) error {
	if p.deleted {
		return ErrDeleted
	}
	p.record(Updated{Spec: s, At: now.UTC()})
	return nil
}

// Delete ends the promotion; a repeat records nothing.
func (p *Promotion) Delete(now time.Time) {
	if !p.deleted {
		p.record(Deleted{At: now.UTC()})
	}
}

// GenerateCodes records a batch of count unique codes. It returns
// ErrDeleted and ErrNotCoupon.
func (p *Promotion) GenerateCodes(job uuid.UUID, count int, prefix string, seed []byte, now time.Time) error {
	if p.deleted {
		return ErrDeleted
	}
	if !p.spec.Coupon {
		return ErrNotCoupon
	}
	p.record(CodesGenerated{Job: job, Count: count, Prefix: prefix, Seed: seed, At: now.UTC()})
	return nil
}

func (p *Promotion) record(e aggregate.Event) { p.apply(e); p.Record(e) }

func (p *Promotion) apply(e aggregate.Event) {
	switch e := e.(type) {
	case Created:
		p.id, p.spec = e.ID, e.Spec
	case Updated:
		p.spec = e.Spec
	case Deleted:
		p.deleted = true
	case CodesGenerated:
		p.batches = append(p.batches, e)
	}
}

// ID returns the promotion's id.
func (p *Promotion) ID() ID { return p.id }

// Spec returns the current spec.
func (p *Promotion) Spec() Spec { return p.spec }

// Deleted reports whether the promotion was deleted.
func (p *Promotion) Deleted() bool { return p.deleted }

// Batch returns the code batch of job.
func (p *Promotion) Batch(job uuid.UUID) (CodesGenerated, bool) {
	for _, b := range p.batches {
		if b.Job == job {
			return b, true
		}
	}
	return CodesGenerated{}, false
}
