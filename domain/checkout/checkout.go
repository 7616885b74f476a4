// Package checkout is the checkout decision as pure domain code: given a
// cart's priced lines, the shop's settings, the payment method, the order's
// sequence number and the time, it decides the order's totals (merchandise,
// discounts, shipping, the cash-on-delivery fee, tax), its number, and for
// a bank transfer the payment deadline, the reference code and the account
// to pay to — or refuses. It reads no clock and no database: the commands
// package takes the number and the time and records what Decide returns;
// tests that place orders directly (internal/ordertest) decide the same way.
//
// It imports only the standard library and other domain packages.
package checkout

import (
	"fmt"
	"time"

	"github.com/honten/honten/domain/cart"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/tenant"
)

// ErrNoBankAccount refuses a bank transfer in a shop without an account.
var ErrNoBankAccount = errs.Conflict("bank_transfer_unavailable", "this shop has not set up a bank account for transfers yet")

// ErrPaymentMethod refuses a payment method that is neither bank transfer
// nor cash on delivery.
var ErrPaymentMethod = errs.InvalidFields(errs.FieldError{Field: "payment_method", Message: "must be bank_transfer or cod"})

// Line is one cart line as checkout prices it: its price, quantity, tax
// rate and share of the discounts, and whether it ships.
type Line struct {
	order.Priced
	// Fulfillment is physical (zero value) or digital; only physical lines
	// cost shipping.
	Fulfillment catalog.FulfillmentType
}

// Input is everything the checkout decision depends on.
type Input struct {
	// Settings are the shop's: shipping, COD fee tiers, tax terms, bank
	// account, transfer deadline, order number prefix.
	Settings tenant.Settings
	// Currency is the cart's.
	Currency money.Currency
	Method   order.PaymentMethod
	Lines    []Line
	// Number is the order's sequence number in the shop (1, 2, …).
	Number int64
	// Now is when the order is placed.
	Now time.Time
}

// Decision is what a checkout records.
type Decision struct {
	// Number is the human order number: the shop's prefix and Number,
	// zero-padded to 6 digits ("HT-000123").
	Number string
	Totals order.Totals
	// ReferenceCode, DueAt and Account are set for a bank transfer only.
	ReferenceCode string
	DueAt         *time.Time
	Account       *tenant.BankAccount
}

// Decide decides the checkout of in. It refuses an empty cart
// (cart.ErrEmpty), a payment method other than bank transfer or COD
// (ErrPaymentMethod), a COD order above the shop's last fee tier
// (tenant.ErrCODUnavailable), a bank transfer in a shop without an account
// (ErrNoBankAccount), and lines in another currency than the cart's.
func Decide(in Input) (Decision, error) {
	if len(in.Lines) == 0 {
		return Decision{}, cart.ErrEmpty
	}
	if in.Method != order.PaymentBankTransfer && in.Method != order.PaymentCOD {
		return Decision{}, ErrPaymentMethod
	}
	if in.Number <= 0 {
		return Decision{}, fmt.Errorf("checkout: order sequence number %d is not positive", in.Number)
	}
	totals, err := Totals(in.Settings, in.Currency, in.Lines, in.Method)
	if err != nil {
		return Decision{}, err
	}
	d := Decision{Number: OrderNumber(in.Settings.OrderNumberPrefix, in.Number), Totals: totals}
	if in.Method == order.PaymentBankTransfer {
		if in.Settings.BankAccount == nil {
			return Decision{}, ErrNoBankAccount
		}
		due := TransferDue(in.Now, in.Settings.TransferDeadlineDays)
		acct := *in.Settings.BankAccount
		d.ReferenceCode, d.DueAt, d.Account = ReferenceCode(in.Number), &due, &acct
	}
	return d, nil
}

// Totals prices lines as checkout does: shipping by the shop's settings
// (none when no line is physical, free when the merchandise subtotal,
// before discounts, reaches the threshold), and for COD the fee of the
// tier of that subtotal and the shipping together. A method of "" (not chosen yet, as
// in a cart) adds no fee.
func Totals(set tenant.Settings, cur money.Currency, lines []Line, method order.PaymentMethod) (order.Totals, error) {
	priced := make([]order.Priced, len(lines))
	physical := false
	for i, l := range lines {
		priced[i] = l.Priced
		physical = physical || l.Fulfillment != catalog.FulfillmentDigital
	}
	sub, err := order.ComputeTotals(cur, priced, money.Money{}, money.Money{}, set.Tax.PricesIncludeTax, set.Tax.Rounding)
	if err != nil {
		return order.Totals{}, err
	}
	shipping := money.Zero(cur)
	if physical {
		shipping = set.Shipping(sub.Subtotal)
	}
	codFee := money.Zero(cur)
	if method == order.PaymentCOD {
		before, err := sub.Subtotal.Add(shipping)
		if err != nil {
			return order.Totals{}, err
		}
		if codFee, err = set.CODFee(before); err != nil {
			return order.Totals{}, err
		}
	}
	return order.ComputeTotals(cur, priced, shipping, codFee, set.Tax.PricesIncludeTax, set.Tax.Rounding)
}

// OrderNumber is the human order number of sequence number n in a shop
// with prefix ("HT", 123 → "HT-000123").
func OrderNumber(prefix string, n int64) string { return fmt.Sprintf("%s-%06d", prefix, n) }

// jst is Japan Standard Time (no daylight saving).
var jst = time.FixedZone("JST", 9*60*60)

// TransferDue is the bank-transfer deadline: the end of the day, in Japan,
// days-1 days after the order day (the order day counts as day 1).
func TransferDue(now time.Time, days int) time.Time {
	d := now.In(jst)
	end := time.Date(d.Year(), d.Month(), d.Day(), 23, 59, 59, 0, jst).AddDate(0, 0, days-1)
	return end.UTC()
}

// ReferenceCode is the digits a buyer writes before their name on a bank
// transfer: the order number, zero-padded to 7 digits, and a Luhn check digit.
func ReferenceCode(n int64) string {
	digits := fmt.Sprintf("%07d", n)
	sum := 0
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if (len(digits)-1-i)%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return digits + fmt.Sprint((10-sum%10)%10)
}
