// Package ledger holds the posting rules of the payout ledger: which
// double-entry lines each money event of an order makes. It is pure: the
// ledger read model (projections/ledger) folds events through it, so a
// replay years later posts the same lines.
//
// Money received is a deposit until the order's payment settles; then the
// sale is recognised in one entry: each vendor's part, net of the
// platform's commission and the consumption tax on it, is owed to the
// vendor (held until it becomes payable), the commission and its tax are
// the platform's, and shipping and the COD fee are the platform's income.
// Money to give back moves from deposits to refunds due. Reversals are new
// entries, never edits.
package ledger

import (
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
)

// Account names a ledger account. Vendor accounts are kept per vendor;
// platform accounts carry the vendor they concern where there is one (a
// commission) and none otherwise (shipping income).
type Account string

// The accounts. Debit-normal: the cash accounts. Credit-normal: the rest.
const (
	// CashBankTransfer is money received by bank transfer.
	CashBankTransfer Account = "cash:bank_transfer"
	// CashCOD is money collected by the carrier on delivery.
	CashCOD Account = "cash:cod"
	// Deposits is money received for orders whose payment has not settled
	// yet (a partial transfer, COD parcels collected one by one).
	Deposits Account = "clearing:deposits"
	// RefundsDue is money received that is owed back to buyers.
	RefundsDue Account = "refunds:due"
	// CommissionIncome is the platform's commission on a vendor's sales.
	CommissionIncome Account = "income:commission"
	// CommissionTax is the consumption tax on the commission, owed to the
	// tax office: the commission is the platform's own taxable service.
	CommissionTax Account = "tax:commission"
	// ShippingIncome is the shipping charged to buyers.
	ShippingIncome Account = "income:shipping"
	// CODFeeIncome is the cash-on-delivery fee charged to buyers.
	CODFeeIncome Account = "income:cod_fee"
	// VendorHeld is what is owed to a vendor but not payable yet.
	VendorHeld Account = "vendor:held"
	// VendorPayable is what is owed to a vendor and may be paid out.
	VendorPayable Account = "vendor:payable"
	// PaidOut is the money paid out to a vendor (a payout credits it,
	// debiting the vendor's payable).
	PaidOut Account = "cash:paid_out"
	// Refunded is the money paid back to buyers (a refund paid credits it,
	// debiting the refunds due).
	Refunded Account = "cash:refunded"
	// CarrierFees is what carriers kept of the cash they collected on
	// delivery (a debit-normal expense).
	CarrierFees Account = "expense:cod_carrier_fee"
)

// Accounts lists every account, in chart order.
var Accounts = []Account{CashBankTransfer, CashCOD, Deposits, RefundsDue, CommissionIncome, CommissionTax,
	ShippingIncome, CODFeeIncome, VendorHeld, VendorPayable, PaidOut, Refunded, CarrierFees}

// Line is one line of an entry: a debit or a credit (never both) to an
// account, for a vendor or none (uuid.Nil).
type Line struct {
	Account Account
	Vendor  uuid.UUID
	Debit   money.Money
	Credit  money.Money
}

// Debit returns a debit line.
func Debit(a Account, vendor uuid.UUID, m money.Money) Line {
	return Line{Account: a, Vendor: vendor, Debit: m, Credit: money.Zero(m.Currency())}
}

// Credit returns a credit line.
func Credit(a Account, vendor uuid.UUID, m money.Money) Line {
	return Line{Account: a, Vendor: vendor, Debit: money.Zero(m.Currency()), Credit: m}
}

// Balanced reports whether lines' debits equal their credits, in one
// currency, and returns an error naming the difference otherwise.
func Balanced(lines []Line) error {
	if len(lines) == 0 {
		return nil
	}
	c := lines[0].Debit.Currency()
	d, k := money.Zero(c), money.Zero(c)
	for _, l := range lines {
		var err error
		if d, err = d.Add(l.Debit); err != nil {
			return err
		}
		if k, err = k.Add(l.Credit); err != nil {
			return err
		}
	}
	if !d.Equal(k) {
		return fmt.Errorf("ledger: entry does not balance: debits %s, credits %s", d, k)
	}
	return nil
}

// Received posts money arriving for an order (a transfer, a COD
// collection) as a deposit.
func Received(cash Account, amount money.Money) []Line {
	return []Line{Debit(cash, uuid.Nil, amount), Credit(Deposits, uuid.Nil, amount)}
}

// RefundDue posts a deposit becoming owed back to the buyer.
func RefundDue(amount money.Money) []Line {
	return []Line{Debit(Deposits, uuid.Nil, amount), Credit(RefundsDue, uuid.Nil, amount)}
}

// Reinstated posts money owed back becoming the payment of its order
// again (a late-paid order reinstated).
func Reinstated(amount money.Money) []Line {
	return []Line{Debit(RefundsDue, uuid.Nil, amount), Credit(Deposits, uuid.Nil, amount)}
}

// Released posts a vendor's money for an order becoming payable (the
// return window after its delivery has passed).
func Released(vendor uuid.UUID, net money.Money) []Line {
	return []Line{Debit(VendorHeld, vendor, net), Credit(VendorPayable, vendor, net)}
}

// RefundPaid posts money owed back paid to the buyer.
func RefundPaid(amount money.Money) []Line {
	return []Line{Debit(RefundsDue, uuid.Nil, amount), Credit(Refunded, uuid.Nil, amount)}
}

// CarrierFee posts the fee a carrier kept of a COD collection: the cash
// remitted is that much less than collected.
func CarrierFee(fee money.Money) []Line {
	return []Line{Debit(CarrierFees, uuid.Nil, fee), Credit(CashCOD, uuid.Nil, fee)}
}

// Reversed returns lines with debits and credits swapped: the entry that
// undoes them.
func Reversed(lines []Line) []Line {
	out := make([]Line, len(lines))
	for i, l := range lines {
		out[i] = Line{Account: l.Account, Vendor: l.Vendor, Debit: l.Credit, Credit: l.Debit}
	}
	return out
}

// Net sums lines per account and vendor into one line each (a debit or a
// credit), dropping those that cancel out, in order of first appearance.
func Net(lines []Line) ([]Line, error) {
	type key struct {
		a Account
		v uuid.UUID
	}
	sums := map[key]money.Money{}
	var order []key
	for _, l := range lines {
		k := key{l.Account, l.Vendor}
		cur, ok := sums[k]
		if !ok {
			cur = money.Zero(l.Debit.Currency())
			order = append(order, k)
		}
		var err error
		if cur, err = cur.Add(l.Debit); err != nil {
			return nil, err
		}
		if cur, err = cur.Sub(l.Credit); err != nil {
			return nil, err
		}
		sums[k] = cur
	}
	var out []Line
	for _, k := range order {
		switch m := sums[k]; {
		case m.IsPositive():
			out = append(out, Debit(k.a, k.v, m))
		case m.IsNegative():
			out = append(out, Credit(k.a, k.v, m.Neg()))
		}
	}
	return out, nil
}

// Payout posts a payout: the vendor's payable leaves the platform's
// account.
func Payout(vendor uuid.UUID, amount money.Money) []Line {
	return []Line{Debit(VendorPayable, vendor, amount), Credit(PaidOut, vendor, amount)}
}

// Sale is what the ledger needs of an order to recognise it.
type Sale struct {
	Lines    []order.Line
	Totals   order.Totals
	Rounding money.Rounding
	// RateOf gives the commission rate of a line without a frozen one
	// (the vendor's rate when the order was placed).
	RateOf func(order.Line) decimal.Decimal
}

// VendorPart is one vendor's share of a sale.
type VendorPart struct {
	Vendor     uuid.UUID
	Gross      money.Money // the vendor's goods, tax included
	Commission order.Commission
	Net        money.Money // Gross less the commission and its tax
}

// Parts splits a sale by vendor, in order of first line. A vendor's goods
// are its lines net of their discounts (order.Line.Amount). The commission is
// computed per line at its frozen rate and rounded once per line, as the
// order's rounding says. When prices exclude tax, the tax added to the
// order is shared out among the vendors by their taxable amount per rate
// (largest remainder), so the parts and the fees add up to the total.
func (s Sale) Parts() ([]VendorPart, error) {
	c := s.Totals.Total.Currency()
	var parts []VendorPart
	index := map[uuid.UUID]int{}
	taxable := map[uuid.UUID]map[string]decimal.Decimal{}
	for _, l := range s.Lines {
		i, ok := index[l.Vendor]
		if !ok {
			i = len(parts)
			index[l.Vendor] = i
			parts = append(parts, VendorPart{Vendor: l.Vendor, Gross: money.Zero(c),
				Commission: order.Commission{Net: money.Zero(c), Tax: money.Zero(c)}})
			taxable[l.Vendor] = map[string]decimal.Decimal{}
		}
		amt := l.Amount()
		rate := decimal.Zero
		if l.CommissionRate != nil {
			rate = *l.CommissionRate
		} else if s.RateOf != nil {
			rate = s.RateOf(l)
		}
		com, err := order.ComputeCommission(amt, rate, s.Rounding)
		if err != nil {
			return nil, err
		}
		p := &parts[i]
		if p.Gross, err = p.Gross.Add(amt); err != nil {
			return nil, err
		}
		if p.Commission.Net, err = p.Commission.Net.Add(com.Net); err != nil {
			return nil, err
		}
		if p.Commission.Tax, err = p.Commission.Tax.Add(com.Tax); err != nil {
			return nil, err
		}
		r := string(l.TaxRate)
		taxable[l.Vendor][r] = taxable[l.Vendor][r].Add(amt.Amount())
	}
	// Tax added on top of the prices (prices excluding tax) goes with the goods.
	goods := money.Zero(c)
	for _, p := range parts {
		goods, _ = goods.Add(p.Gross)
	}
	fees, err := s.Totals.Shipping.Add(s.Totals.CODFee)
	if err != nil {
		return nil, err
	}
	rest, err := s.Totals.Total.Sub(goods)
	if err == nil {
		rest, err = rest.Sub(fees)
	}
	if err != nil {
		return nil, err
	}
	if rest.IsPositive() && len(parts) > 0 {
		share := addedTax(s.Totals, parts, taxable, rest)
		for i := range parts {
			if parts[i].Gross, err = parts[i].Gross.Add(money.MustNew(share[i], c)); err != nil {
				return nil, err
			}
		}
	}
	for i := range parts {
		if parts[i].Net, err = parts[i].Gross.Sub(parts[i].Commission.Total()); err != nil {
			return nil, err
		}
	}
	return parts, nil
}

// addedTax shares rest (the tax added to the order) among parts: per rate
// in proportion to each vendor's taxable amount, whole units of the
// currency by largest remainder, what no rate explains to the first part.
func addedTax(t order.Totals, parts []VendorPart, taxable map[uuid.UUID]map[string]decimal.Decimal, rest money.Money) []decimal.Decimal {
	out := make([]decimal.Decimal, len(parts))
	left := rest.Amount()
	for _, tl := range t.Tax {
		r := string(tl.Rate)
		total := decimal.Zero
		for _, p := range parts {
			total = total.Add(taxable[p.Vendor][r])
		}
		tax := tl.Tax.Amount()
		if total.IsZero() || tax.GreaterThan(left) {
			continue
		}
		left = left.Sub(tax)
		type rem struct {
			i int
			r decimal.Decimal
		}
		var rems []rem
		given := decimal.Zero
		for i, p := range parts {
			exact := tax.Mul(taxable[p.Vendor][r]).Div(total)
			whole := exact.Floor()
			out[i] = out[i].Add(whole)
			given = given.Add(whole)
			rems = append(rems, rem{i, exact.Sub(whole)})
		}
		slices.SortStableFunc(rems, func(a, b rem) int { return -a.r.Cmp(b.r) })
		for k := 0; given.LessThan(tax) && k < len(rems); k++ {
			out[rems[k].i] = out[rems[k].i].Add(decimal.NewFromInt(1))
			given = given.Add(decimal.NewFromInt(1))
		}
	}
	out[0] = out[0].Add(left)
	return out
}

// Recognised posts a settled order: the deposits that paid it go to each
// vendor (held), to the platform's commission and its tax, and to the
// platform's shipping and COD fee income. The entry balances by
// construction: the parts and the fees add up to the order total.
func Recognised(s Sale) ([]Line, error) {
	parts, err := s.Parts()
	if err != nil {
		return nil, err
	}
	t := s.Totals
	out := []Line{Debit(Deposits, uuid.Nil, t.Total)}
	for _, p := range parts {
		out = append(out, Credit(VendorHeld, p.Vendor, p.Net))
		if !p.Commission.Net.IsZero() {
			out = append(out, Credit(CommissionIncome, p.Vendor, p.Commission.Net))
		}
		if !p.Commission.Tax.IsZero() {
			out = append(out, Credit(CommissionTax, p.Vendor, p.Commission.Tax))
		}
	}
	if t.Shipping.IsPositive() {
		out = append(out, Credit(ShippingIncome, uuid.Nil, t.Shipping))
	}
	if t.CODFee.IsPositive() {
		out = append(out, Credit(CODFeeIncome, uuid.Nil, t.CODFee))
	}
	if err := Balanced(out); err != nil {
		return nil, err
	}
	return out, nil
}
