package order

import (
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/money"
)

// LineCancel asks to cancel Quantity units of the order line Line.
type LineCancel struct {
	Line     uuid.UUID
	Quantity int64
}

// CancelledLine is one line's part of a LinesCancelled: the units taken
// off the line and what they cost, gross (tax included when the shop's
// prices include it).
type CancelledLine struct {
	Line            uuid.UUID               `json:"line_id"`
	Variant         uuid.UUID               `json:"variant_id"`
	Vendor          uuid.UUID               `json:"vendor_id"`
	SKU             string                  `json:"sku"`
	FulfillmentType catalog.FulfillmentType `json:"fulfillment_type"`
	// Reservation is the line's inventory allocation (zero for digital goods).
	Reservation uuid.UUID `json:"reservation_id"`
	// Quantity is the units cancelled; Remaining the units left on the line.
	Quantity  int64           `json:"quantity"`
	Remaining int64           `json:"remaining"`
	UnitPrice money.Money     `json:"unit_price"`
	TaxRate   catalog.TaxRate `json:"tax_rate"`
	// Amount is UnitPrice × Quantity: the gross amount cancelled.
	Amount money.Money `json:"amount"`
	// Discount is the part of the line's discount the cancelled units
	// carried, reversed with them; RemainingDiscount is the line's
	// discount on the units left (see ShareDiscount). Both are nil for a
	// line without a discount.
	Discount          *money.Money `json:"discount,omitempty"`
	RemainingDiscount *money.Money `json:"remaining_discount,omitempty"`
}

// Net is the amount cancelled less the discount reversed with it: what
// the cancelled units cost the buyer.
func (c CancelledLine) Net() money.Money {
	if c.Discount == nil {
		return c.Amount
	}
	n, err := c.Amount.Sub(*c.Discount)
	if err != nil {
		return c.Amount
	}
	return n
}

// ShareDiscount splits the discount of a line's quantity units between
// the rest units that stay and the others, cancelled: the units left keep
// discount × rest / quantity, rounded half up to whole units of the
// currency, and the cancelled ones carry the difference. Cancelling a
// line's units one part after another reverses, in all, exactly its
// discount.
func ShareDiscount(discount money.Money, quantity, rest int64) (kept, cancelled money.Money) {
	c := discount.Currency()
	if quantity <= 0 || rest <= 0 {
		return money.Zero(c), discount
	}
	if rest >= quantity {
		return discount, money.Zero(c)
	}
	raw := discount.Amount().Mul(decimal.NewFromInt(rest)).Div(decimal.NewFromInt(quantity))
	kept = money.MustNew(money.RoundDecimal(raw, c.Decimals(), money.RoundHalfUp), c)
	cancelled, _ = discount.Sub(kept)
	return kept, cancelled
}

// RateAmount is an amount of one tax rate.
type RateAmount struct {
	Rate   catalog.TaxRate `json:"rate"`
	Amount money.Money     `json:"amount"`
}

// LinesCancelled records that some units of some lines were cancelled
// while the rest of the order goes on. Totals are the order's new totals,
// recomputed on the remaining lines less the discount they keep, the tax
// once per rate per order after discount with the rounding frozen on the
// order; shipping and the COD fee are unchanged. Cancelling every
// remaining unit cancels the whole order instead (a StatusChanged).
type LinesCancelled struct {
	Lines []CancelledLine `json:"lines"`
	// Cancelled is the amount cancelled per tax rate, net of the discount
	// reversed with it (the lines' Net), highest rate first.
	Cancelled []RateAmount `json:"cancelled"`
	// PreviousTotal is the order total before; Totals.Total the one after.
	PreviousTotal money.Money `json:"previous_total"`
	Totals        Totals      `json:"totals"`
	// Status is the order's status when the lines were cancelled (unchanged by it).
	Status Status    `json:"status"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// EventName implements aggregate.Event.
func (LinesCancelled) EventName() string { return "order.lines_cancelled.v1" }

// ErrLineCancelled refuses to cancel units of a line none of whose units
// are left.
var ErrLineCancelled = errs.Conflict("order_line_cancelled", "the line was already cancelled")

// CancelLines cancels the units cs name. Cancelling every unit left
// cancels the whole order, as Cancel does. Each line may appear once, with
// a quantity between 1 and the units left on it. The caller checks that no
// named line's shipment has left.
//
// It returns ErrCancelled for a cancelled order, ErrFinished for a
// completed one, ErrAlreadyShipped once everything shipped,
// ErrLineCancelled for a line with no units left, and an Invalid error
// (fields lines[i].line_id, lines[i].quantity) for an unknown or repeated
// line or a quantity out of range.
func (o *Order) CancelLines(cs []LineCancel, reason string, now time.Time) error {
	switch o.status {
	case StatusCancelled:
		return ErrCancelled
	case StatusCompleted:
		return ErrFinished
	case StatusShipped:
		return ErrAlreadyShipped
	}
	var v errs.Collector
	if len(cs) == 0 {
		v.Add("lines", "must name at least one line")
	}
	left := map[uuid.UUID]int64{}
	for _, l := range o.lines {
		left[l.ID] = l.Quantity
	}
	placed := map[uuid.UUID]bool{}
	for _, l := range o.placedLines {
		placed[l.ID] = true
	}
	seen := map[uuid.UUID]bool{}
	for i, c := range cs {
		field := fmt.Sprintf("lines[%d]", i)
		switch {
		case !placed[c.Line]:
			v.Add(field+".line_id", "is not a line of this order")
			continue
		case seen[c.Line]:
			v.Add(field+".line_id", "is named twice")
			continue
		case left[c.Line] == 0:
			return ErrLineCancelled
		}
		seen[c.Line] = true
		v.Check(c.Quantity >= 1 && c.Quantity <= left[c.Line], field+".quantity",
			fmt.Sprintf("must be between 1 and %d (the units left)", left[c.Line]))
	}
	if err := v.Err(); err != nil {
		return err
	}
	total := int64(0)
	for _, n := range left {
		total += n
	}
	cancelling := int64(0)
	for _, c := range cs {
		cancelling += c.Quantity
	}
	if cancelling == total {
		return o.Cancel(reason, now)
	}
	e, err := o.linesCancelled(cs)
	if err != nil {
		return err
	}
	e.Reason, e.At = reason, now.UTC()
	o.record(e)
	return nil
}

// linesCancelled computes the event of a valid cancellation of some units.
func (o *Order) linesCancelled(cs []LineCancel) (LinesCancelled, error) {
	cur := o.Currency()
	qty := map[uuid.UUID]int64{}
	for _, c := range cs {
		qty[c.Line] = c.Quantity
	}
	e := LinesCancelled{PreviousTotal: o.totals.Total, Status: o.status}
	byRate := map[catalog.TaxRate]money.Money{}
	var priced []Priced
	for _, l := range o.lines {
		n := qty[l.ID]
		rest := l.Quantity - n
		var kept, off *money.Money
		if l.Discount != nil && !l.Discount.IsZero() {
			k, c := ShareDiscount(*l.Discount, l.Quantity, rest)
			kept, off = &k, &c
		}
		if rest > 0 {
			p := Priced{UnitPrice: l.UnitPrice, Quantity: rest, TaxRate: l.TaxRate}
			if kept != nil {
				p.Discount = *kept
			}
			priced = append(priced, p)
		}
		if n == 0 {
			continue
		}
		cl := CancelledLine{Line: l.ID, Variant: l.Variant, Vendor: l.Vendor, SKU: l.SKU,
			FulfillmentType: l.FulfillmentType, Reservation: l.Reservation, Quantity: n, Remaining: rest,
			UnitPrice: l.UnitPrice, TaxRate: l.TaxRate, Amount: l.UnitPrice.Mul(n), Discount: off, RemainingDiscount: kept}
		e.Lines = append(e.Lines, cl)
		sum, ok := byRate[l.TaxRate]
		if !ok {
			sum = money.Zero(cur)
		}
		sum, err := sum.Add(cl.Net())
		if err != nil {
			return LinesCancelled{}, err
		}
		byRate[l.TaxRate] = sum
	}
	for r, m := range byRate {
		e.Cancelled = append(e.Cancelled, RateAmount{Rate: r, Amount: m})
	}
	slices.SortFunc(e.Cancelled, func(a, b RateAmount) int { return b.Rate.Percent().Cmp(a.Rate.Percent()) })
	t, err := ComputeTotals(cur, priced, o.totals.Shipping, o.totals.CODFee, o.tax.PricesIncludeTax, o.tax.Rounding)
	if err != nil {
		return LinesCancelled{}, err
	}
	e.Totals = t
	return e, nil
}

// Apply returns the line l (the one cancelled from) with the units and
// the discount left on it.
func (c CancelledLine) Apply(l Line) Line {
	l.Quantity = c.Remaining
	if c.RemainingDiscount != nil {
		d := *c.RemainingDiscount
		l.Discount = &d
	}
	return l
}

// IncludesTax reports whether the amounts contain their tax (総額表示):
// the total is then subtotal + shipping + fee − discount, without the tax
// added. Totals carrying no tax read as tax-inclusive, which computes the
// same amounts either way.
func (t Totals) IncludesTax() bool {
	sum, err := money.Sum(t.Total.Currency(), t.Subtotal, t.Shipping, t.CODFee)
	if err != nil {
		return true
	}
	if sum, err = sum.Sub(t.Discount); err != nil {
		return true
	}
	return sum.Equal(t.Total)
}

// applyLinesCancelled takes the cancelled units off the lines; a line with
// none left leaves the order's lines (PlacedLines keeps it).
func (o *Order) applyLinesCancelled(e LinesCancelled) {
	rest := map[uuid.UUID]CancelledLine{}
	for _, c := range e.Lines {
		rest[c.Line] = c
	}
	lines := make([]Line, 0, len(o.lines))
	for _, l := range o.lines {
		if c, ok := rest[l.ID]; ok {
			if c.Remaining == 0 {
				continue
			}
			l = c.Apply(l)
		}
		lines = append(lines, l)
	}
	o.lines, o.totals = lines, e.Totals
}

// PlacedLines returns the lines as placed, before any cancellation.
func (o *Order) PlacedLines() []Line { return o.placedLines }

// Line returns the line id with the units left on it, and whether any are.
func (o *Order) Line(id uuid.UUID) (Line, bool) {
	for _, l := range o.lines {
		if l.ID == id {
			return l, true
		}
	}
	return Line{}, false
}

// PlacedVendors returns the vendors of the physical lines as placed, in
// first-line order: every vendor the order ever had a shipment for.
func (o *Order) PlacedVendors() []uuid.UUID {
	var out []uuid.UUID
	seen := map[uuid.UUID]bool{}
	for _, l := range o.placedLines {
		if l.FulfillmentType == catalog.FulfillmentDigital || seen[l.Vendor] {
			continue
		}
		seen[l.Vendor] = true
		out = append(out, l.Vendor)
	}
	return out
}

// Rounding returns the tax rounding frozen on the order.
func (o *Order) Rounding() money.Rounding { return o.tax.Rounding }
