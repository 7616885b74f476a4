package reconcile

import (
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/statement"
	"github.com/honten/honten/internal/zengin"
)

// Candidate is an order paid by bank transfer, as the matcher sees it.
type Candidate struct {
	Order   uuid.UUID `json:"order_id"`
	Payment uuid.UUID `json:"-"`
	Number  string    `json:"order_number"`
	Name    string    `json:"name"`
	// Status is the order's status; PaymentStatus the payment's.
	Status        string      `json:"status"`
	PaymentStatus string      `json:"-"`
	Balance       money.Money `json:"balance"`
	ReferenceCode string      `json:"reference_code"`
	PlacedAt      time.Time   `json:"placed_at"`
	DueAt         *time.Time  `json:"due_at"`
	key           string
}

// Verdict is what the matcher decided for one deposit line.
type Verdict struct {
	// Allocations, when set, are the orders the line pays (one, or several
	// for a combined transfer).
	Allocations []statement.Allocation
	// Reason says why a line is left to staff: no_reference_code,
	// transfer_before_order, order_already_paid, ambiguous_references.
	Reason string
}

// Left-to-staff reasons.
const (
	ReasonNoReference   = "no_reference_code"
	ReasonBeforeOrder   = "transfer_before_order"
	ReasonAlreadyPaid   = "order_already_paid"
	ReasonAmbiguousRefs = "ambiguous_references"
)

// CodeLen is the length of a reference code: 7 digits of the order
// number and a Luhn check digit.
const CodeLen = 8

// Matcher decides statement lines against the candidates.
type Matcher struct {
	byCode map[string]*Candidate
	all    []*Candidate
	// byAmount and byBigram narrow the candidates of a suggestion.
	byAmount map[string][]*Candidate
	byBigram map[string][]*Candidate
}

// NewMatcher indexes the candidates.
func NewMatcher(cands []Candidate) *Matcher {
	m := &Matcher{byCode: map[string]*Candidate{}, byAmount: map[string][]*Candidate{}, byBigram: map[string][]*Candidate{}}
	for i := range cands {
		c := &cands[i]
		c.key = nameKey(c.Name)
		m.all = append(m.all, c)
		if c.ReferenceCode != "" {
			m.byCode[c.ReferenceCode] = c
		}
		if c.Balance.IsPositive() {
			a := c.Balance.AmountString()
			m.byAmount[a] = append(m.byAmount[a], c)
		}
		for _, b := range bigrams(c.key) {
			m.byBigram[b] = append(m.byBigram[b], c)
		}
	}
	return m
}

// nameKey is the payer-name key without digits (reference codes).
func nameKey(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return -1
		}
		return r
	}, zengin.MatchKey(s))
}

// codes returns the candidates whose reference code appears in the
// payer name (after folding: full-width digits, spaces and hyphens between
// them do not matter), each once, in order of appearance.
func (m *Matcher) codes(payer string) []*Candidate {
	var digits []rune
	var out []*Candidate
	seen := map[uuid.UUID]bool{}
	flush := func() {
		for i := 0; i+CodeLen <= len(digits); i++ {
			if c, ok := m.byCode[string(digits[i:i+CodeLen])]; ok && !seen[c.Order] {
				seen[c.Order] = true
				out = append(out, c)
				i += CodeLen - 1
			}
		}
		digits = digits[:0]
	}
	for _, r := range zengin.Fold(payer) {
		switch {
		case r >= '0' && r <= '9':
			digits = append(digits, r)
		case r == ' ' || r == '-' || r == 'ｰ':
			// a code written in groups
		default:
			flush()
		}
	}
	flush()
	return out
}

// jstDay is the JST calendar day of t, as midnight UTC of that date.
func jstDay(t time.Time) time.Time {
	d := t.In(zengin.JST)
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
}

// Decide matches a deposit line: the orders whose reference codes are in
// the payer name, then the amount, then the date. One order whose code is
// there, placed on or before the transfer day and not paid yet, gets the
// whole amount (less or more than due follows the payment's rules; an
// order already cancelled records it as a refund due). Several orders get
// their balances when these add up to the amount exactly (a combined
// transfer). Anything else is left to staff with a reason.
func (m *Matcher) Decide(l statement.Line) Verdict {
	found := m.codes(l.PayerName)
	if len(found) == 0 && l.Description != "" {
		found = m.codes(l.Description)
	}
	day := jstDay(l.Date)
	for _, c := range found {
		if jstDay(c.PlacedAt).After(day) {
			return Verdict{Reason: ReasonBeforeOrder}
		}
	}
	switch len(found) {
	case 0:
		return Verdict{Reason: ReasonNoReference}
	case 1:
		c := found[0]
		if c.PaymentStatus == "paid" {
			return Verdict{Reason: ReasonAlreadyPaid}
		}
		return Verdict{Allocations: []statement.Allocation{{Order: c.Order, Payment: c.Payment, Amount: l.Amount}}}
	}
	sum := money.Zero(l.Amount.Currency())
	allocs := make([]statement.Allocation, 0, len(found))
	for _, c := range found {
		if !c.Balance.IsPositive() || c.Status == "cancelled" {
			return Verdict{Reason: ReasonAmbiguousRefs}
		}
		var err error
		if sum, err = sum.Add(c.Balance); err != nil {
			return Verdict{Reason: ReasonAmbiguousRefs}
		}
		allocs = append(allocs, statement.Allocation{Order: c.Order, Payment: c.Payment, Amount: c.Balance})
	}
	if !sum.Equal(l.Amount) {
		return Verdict{Reason: ReasonAmbiguousRefs}
	}
	return Verdict{Allocations: allocs}
}

// Suggestion is a candidate order for an unmatched line, with its score.
type Suggestion struct {
	Candidate
	// Score ranks suggestions: 2 × name similarity (0–1) + 1 when the
	// balance equals the amount + 0.5 when the transfer falls in the
	// order's payment window.
	Score          float64 `json:"score"`
	NameSimilarity float64 `json:"name_similarity"`
	AmountEqual    bool    `json:"amount_equal"`
	InWindow       bool    `json:"in_window"`
}

// MaxSuggestions is how many suggestions a line gets at most.
const MaxSuggestions = 5

// Suggest ranks the unpaid orders that may be the line's: by name
// similarity (bigrams of the folded names), equal amount and the date
// window (placed on or before the transfer, which is not later than the
// due date plus grace). Orders with a score under 1 are left out.
func (m *Matcher) Suggest(l statement.Line, grace time.Duration) []Suggestion {
	key := nameKey(l.PayerName)
	pool := map[*Candidate]bool{}
	for _, c := range m.byAmount[l.Amount.AmountString()] {
		pool[c] = true
	}
	for _, c := range m.codes(l.PayerName) {
		pool[c] = true
	}
	counts := map[*Candidate]int{}
	for _, b := range bigrams(key) {
		for _, c := range m.byBigram[b] {
			counts[c]++
		}
	}
	for c, n := range counts {
		if n >= 2 {
			pool[c] = true
		}
	}
	day := jstDay(l.Date)
	var out []Suggestion
	for c := range pool {
		if c.PaymentStatus == "paid" {
			continue
		}
		s := Suggestion{Candidate: *c, NameSimilarity: dice(key, c.key), AmountEqual: c.Balance.Equal(l.Amount)}
		s.InWindow = !jstDay(c.PlacedAt).After(day) && (c.DueAt == nil || !day.After(jstDay(c.DueAt.Add(grace))))
		s.Score = 2 * s.NameSimilarity
		if s.AmountEqual {
			s.Score++
		}
		if s.InWindow {
			s.Score += 0.5
		}
		s.Score = float64(int(s.Score*1000+0.5)) / 1000
		s.NameSimilarity = float64(int(s.NameSimilarity*1000+0.5)) / 1000
		if s.Score >= 1 {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		if !out[i].PlacedAt.Equal(out[j].PlacedAt) {
			return out[i].PlacedAt.After(out[j].PlacedAt)
		}
		return out[i].Number < out[j].Number
	})
	if len(out) > MaxSuggestions {
		out = out[:MaxSuggestions]
	}
	return out
}

func bigrams(s string) []string {
	rs := []rune(s)
	if len(rs) < 2 {
		if len(rs) == 1 {
			return []string{s}
		}
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for i := 0; i+1 < len(rs); i++ {
		b := string(rs[i : i+2])
		if !seen[b] {
			seen[b] = true
			out = append(out, b)
		}
	}
	return out
}

// dice is the Sørensen–Dice coefficient of the bigram sets of a and b.
func dice(a, b string) float64 {
	if a == "" || b == "" {
		return 0
	}
	if a == b {
		return 1
	}
	ba, bb := bigrams(a), bigrams(b)
	set := make(map[string]bool, len(ba))
	for _, x := range ba {
		set[x] = true
	}
	n := 0
	for _, x := range bb {
		if set[x] {
			n++
		}
	}
	return 2 * float64(n) / float64(len(ba)+len(bb))
}
