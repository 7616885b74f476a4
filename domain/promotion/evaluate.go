package promotion

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/honten/honten/domain/money"
)

// Item is one basket line as the rules see it.
type Item struct {
	Line       uuid.UUID
	SKU        string
	Vendor     uuid.UUID
	Categories []uuid.UUID
	// Amount is quantity × unit price, before any discount.
	Amount money.Money
}

// Candidate is a promotion that may apply: an automatic one, or one whose
// code the buyer entered (Code).
type Candidate struct {
	ID   uuid.UUID
	Spec Spec
	Code string
}

// Applied is a promotion that applies, with its discount allocated over
// the lines it matched (whole units of the currency).
type Applied struct {
	Promotion uuid.UUID
	Title     string
	Code      string
	Discount  money.Money
	Lines     map[uuid.UUID]money.Money
}

// Reasons a promotion does not apply.
const (
	ReasonNotStarted    = "not_started"
	ReasonExpired       = "expired"
	ReasonMinSubtotal   = "min_subtotal_not_met"
	ReasonNoMatch       = "no_matching_items"
	ReasonNotCombinable = "not_combinable"
	ReasonNothingLeft   = "nothing_left_to_discount"
)

// Rejected is a candidate that does not apply, and why.
type Rejected struct {
	Promotion uuid.UUID
	Code      string
	Reason    string
}

// Outcome is the pricing of a basket with promotions.
type Outcome struct {
	Applied  []Applied
	Rejected []Rejected
	// LineDiscounts is each line's total discount over every applied promotion.
	LineDiscounts map[uuid.UUID]money.Money
	Discount      money.Money
}

// matches reports whether it matches a.
func (a AppliesTo) matches(it Item) bool {
	if len(a.SKUs) > 0 && !slices.Contains(a.SKUs, it.SKU) {
		return false
	}
	if len(a.Vendors) > 0 && !slices.Contains(a.Vendors, it.Vendor) {
		return false
	}
	if len(a.Categories) > 0 && !slices.ContainsFunc(it.Categories, func(c uuid.UUID) bool { return slices.Contains(a.Categories, c) }) {
		return false
	}
	return true
}

// Active returns why s does not apply at now ("" when it does).
func (s Spec) Active(now time.Time) string {
	if s.StartsAt != nil && now.Before(*s.StartsAt) {
		return ReasonNotStarted
	}
	if s.EndsAt != nil && !now.Before(*s.EndsAt) {
		return ReasonExpired
	}
	return ""
}

// Evaluate prices items in currency c with the candidates at now:
//
//   - a candidate outside its period, below its minimum subtotal (the
//     merchandise subtotal before discounts) or matching no line is rejected;
//   - the others are taken by priority (highest first; ties by id). When the
//     first taken is exclusive (not combinable) it applies alone; otherwise
//     every combinable one applies in turn and the exclusive ones are
//     rejected as not_combinable;
//   - each takes its discount off what is left of its matching lines after
//     the earlier ones (percent: rounded down to whole units; fixed: at most
//     what is left), so no line goes below zero;
//   - a discount is allocated over its matching lines in proportion to what
//     is left of each, in whole units, by largest remainder (ties to the
//     earlier line).
func Evaluate(c money.Currency, items []Item, cands []Candidate, now time.Time) Outcome {
	out := Outcome{LineDiscounts: map[uuid.UUID]money.Money{}, Discount: money.Zero(c)}
	subtotal := decimal.Zero
	left := make(map[uuid.UUID]decimal.Decimal, len(items))
	for _, it := range items {
		subtotal = subtotal.Add(it.Amount.Amount())
		left[it.Line] = it.Amount.Amount()
	}
	type eligible struct {
		Candidate
		lines []Item
	}
	var ok []eligible
	for _, cd := range cands {
		if r := cd.Spec.Active(now); r != "" {
			out.Rejected = append(out.Rejected, Rejected{cd.ID, cd.Code, r})
			continue
		}
		if cd.Spec.MinSubtotal != nil && subtotal.LessThan(cd.Spec.MinSubtotal.Amount()) {
			out.Rejected = append(out.Rejected, Rejected{cd.ID, cd.Code, ReasonMinSubtotal})
			continue
		}
		var lines []Item
		for _, it := range items {
			if cd.Spec.AppliesTo.matches(it) {
				lines = append(lines, it)
			}
		}
		if len(lines) == 0 {
			out.Rejected = append(out.Rejected, Rejected{cd.ID, cd.Code, ReasonNoMatch})
			continue
		}
		ok = append(ok, eligible{cd, lines})
	}
	slices.SortStableFunc(ok, func(a, b eligible) int {
		if a.Spec.Priority != b.Spec.Priority {
			return b.Spec.Priority - a.Spec.Priority
		}
		return slices.Compare(a.ID[:], b.ID[:])
	})
	exclusive := false
	for i, e := range ok {
		if exclusive || (i > 0 && !e.Spec.Combinable) {
			out.Rejected = append(out.Rejected, Rejected{e.ID, e.Code, ReasonNotCombinable})
			continue
		}
		exclusive = !e.Spec.Combinable
		base := decimal.Zero
		for _, it := range e.lines {
			base = base.Add(left[it.Line])
		}
		var d decimal.Decimal
		switch e.Spec.Kind {
		case KindPercent:
			d = base.Mul(e.Spec.Value).Div(decimal.NewFromInt(100)).RoundFloor(c.Decimals())
		default:
			d = decimal.Min(e.Spec.Value, base)
		}
		if !d.IsPositive() {
			out.Rejected = append(out.Rejected, Rejected{e.ID, e.Code, ReasonNothingLeft})
			continue
		}
		alloc := allocate(d, e.lines, left, c.Decimals())
		a := Applied{Promotion: e.ID, Title: e.Spec.Title, Code: e.Code, Discount: money.MustNew(d, c), Lines: map[uuid.UUID]money.Money{}}
		for _, it := range e.lines {
			share := alloc[it.Line]
			if share.IsZero() {
				continue
			}
			left[it.Line] = left[it.Line].Sub(share)
			a.Lines[it.Line] = money.MustNew(share, c)
			prev, found := out.LineDiscounts[it.Line]
			if !found {
				prev = money.Zero(c)
			}
			out.LineDiscounts[it.Line] = money.MustNew(prev.Amount().Add(share), c)
		}
		out.Discount = money.MustNew(out.Discount.Amount().Add(d), c)
		out.Applied = append(out.Applied, a)
	}
	return out
}

// allocate shares d over lines in proportion to left[line], in units of
// 10^-places, by largest remainder; no line gets more than it has left.
func allocate(d decimal.Decimal, lines []Item, left map[uuid.UUID]decimal.Decimal, places int32) map[uuid.UUID]decimal.Decimal {
	unit := decimal.New(1, -places)
	total := decimal.Zero
	for _, it := range lines {
		total = total.Add(left[it.Line])
	}
	out := make(map[uuid.UUID]decimal.Decimal, len(lines))
	if total.IsZero() {
		return out
	}
	type rem struct {
		line uuid.UUID
		r    decimal.Decimal
		i    int
	}
	var rems []rem
	given := decimal.Zero
	for i, it := range lines {
		exact := d.Mul(left[it.Line]).Div(total)
		whole := exact.RoundFloor(places)
		out[it.Line] = whole
		given = given.Add(whole)
		rems = append(rems, rem{it.Line, exact.Sub(whole), i})
	}
	slices.SortStableFunc(rems, func(a, b rem) int {
		if c := b.r.Cmp(a.r); c != 0 {
			return c
		}
		return a.i - b.i
	})
	for k := 0; given.LessThan(d) && len(rems) > 0; k = (k + 1) % len(rems) {
		l := rems[k].line
		if out[l].Add(unit).GreaterThan(left[l]) {
			continue
		}
		out[l] = out[l].Add(unit)
		given = given.Add(unit)
	}
	return out
}

// codeAlphabet is Crockford's base 32 (no I, L, O, U: nothing to misread).
const codeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// CodeLength is the random part of a generated code (60 bits).
const CodeLength = 12

// GenerateCode returns the i-th code of a batch: prefix followed by
// CodeLength characters of HMAC-SHA256(seed, i) in Crockford base 32. The
// same seed always gives the same codes.
func GenerateCode(seed []byte, prefix string, i int) string {
	m := hmac.New(sha256.New, seed)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(i))
	m.Write(b[:])
	sum := m.Sum(nil)
	n := binary.BigEndian.Uint64(sum[:8])
	out := make([]byte, 0, len(prefix)+CodeLength)
	out = append(out, prefix...)
	for range CodeLength {
		out = append(out, codeAlphabet[n&31])
		n >>= 5
	}
	return string(out)
}
