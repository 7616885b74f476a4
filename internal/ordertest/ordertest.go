// Package ordertest places orders the way checkout does — order.placed,
// payment.created and the committed stock holds of every physical line, in
// one transaction — through the real domain aggregates and the event store,
// for tests of what happens after checkout. It reserves the stock first
// (inventory.Item.Reserve), as the reservation worker would for a cart.
package ordertest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/aggregate"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/checkout"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/inventory"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/payment"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

// Line is one line to order.
type Line struct {
	Variant catalog.VariantID
	Vendor  uuid.UUID
	SKU     string
	// Quantity defaults to 1, Price (yen, tax included) to 1,000, TaxRate to 10%.
	Quantity int64
	Price    int64
	TaxRate  catalog.TaxRate
	// Digital lines take no stock and need no shipment.
	Digital bool
}

// Order is what to place.
type Order struct {
	Tenant tenant.ID
	Method order.PaymentMethod
	Lines  []Line
	// Email and Name default to a test buyer.
	Email, Name string
	// Number, when set, is the order's sequence number (its number and
	// reference code); otherwise the tenant's orders are counted, which
	// is not safe for orders placed concurrently.
	Number int64
}

// Placed is a placed order.
type Placed struct {
	Order   order.ID
	Payment payment.ID
	Number  string
	// Token is the buyer's access token (order.placed holds its hash).
	Token string
	Total money.Money
	DueAt *time.Time
	// Reference is a bank transfer's reference code, as checkout makes it.
	Reference string
	Lines     []order.Line
	Events    []eventstore.Envelope
}

// TestAccount is the account a bank-transfer order of a shop that has
// none set up is paid to.
var TestAccount = tenant.BankAccount{BankName: "テスト銀行", BankCode: "9999", BranchName: "本店", BranchCode: "001",
	AccountType: "ordinary", AccountNumber: "1234567", AccountHolder: "テスト"}

// ErrOutOfStock means a line could not be reserved.
var ErrOutOfStock = errs.Conflict("out_of_stock", "not enough stock for a line")

// Place places o at the service's clock, its totals, number and transfer
// terms decided by checkout.Decide as checkout decides them. It returns
// ErrOutOfStock when a physical line's variant has not enough stock
// available, and Decide's refusals.
func Place(ctx context.Context, s *commands.Service, o Order) (Placed, error) {
	tn, err := s.LoadTenant(ctx, o.Tenant)
	if err != nil {
		return Placed{}, err
	}
	set := tn.Settings()
	if set.BankAccount == nil && o.Method == order.PaymentBankTransfer {
		// Checkout refuses a bank transfer in a shop without an account;
		// tests of what follows a checkout get TestAccount in the order.
		acct := TestAccount
		set.BankAccount = &acct
	}
	cur := tn.Currency()
	now := s.Now()
	amount := func(n int64) money.Money { return money.MustNew(decimal.NewFromInt(n), cur) }
	out := Placed{Order: order.NewID(), Payment: payment.NewID()}
	tok := make([]byte, 24)
	_, _ = rand.Read(tok)
	out.Token = hex.EncodeToString(tok)
	hash := sha256.Sum256([]byte(out.Token))

	var priced []checkout.Line
	for _, l := range o.Lines {
		if l.Quantity == 0 {
			l.Quantity = 1
		}
		if l.Price == 0 {
			l.Price = 1000
		}
		if l.TaxRate == "" {
			l.TaxRate = catalog.TaxStandard
		}
		ft := catalog.FulfillmentPhysical
		if l.Digital {
			ft = catalog.FulfillmentDigital
		}
		ol := order.Line{ID: uuid.Must(uuid.NewV7()), Variant: l.Variant.UUID, Vendor: l.Vendor, SKU: l.SKU, Title: "Item " + l.SKU,
			Quantity: l.Quantity, UnitPrice: amount(l.Price), TaxRate: l.TaxRate, FulfillmentType: ft}
		if !l.Digital {
			ol.Reservation = inventory.NewReservationID().UUID
		}
		out.Lines = append(out.Lines, ol)
		priced = append(priced, checkout.Line{Priced: order.Priced{UnitPrice: ol.UnitPrice, Quantity: ol.Quantity, TaxRate: ol.TaxRate}, Fulfillment: ft})
	}
	email, name := o.Email, o.Name
	if email == "" {
		email = "buyer@example.jp"
	}
	if name == "" {
		name = "山田 太郎"
	}
	res, err := s.Store().Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		n := int(o.Number) - 1
		if o.Number == 0 {
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM events WHERE tenant_id = $1 AND stream_type = 'order' AND stream_version = 1`, o.Tenant).Scan(&n); err != nil {
				return err
			}
		}
		// Decided as checkout decides: totals, number, transfer terms.
		decided, err := checkout.Decide(checkout.Input{Settings: set, Currency: cur, Method: o.Method, Lines: priced, Number: int64(n + 1), Now: now})
		if err != nil {
			return err
		}
		totals := decided.Totals
		out.Number, out.Total = decided.Number, totals.Total
		md := eventstore.Metadata{Tenant: o.Tenant, Actor: "customer:test"}
		placed := order.Place(order.Placed{ID: out.Order, Number: out.Number, Cart: uuid.Must(uuid.NewV7()),
			Customer:      order.Customer{Email: email, Name: name, Phone: "09012345678"},
			ShipTo:        order.Address{PostalCode: "1000001", Prefecture: "東京都", City: "千代田区", Line1: "千代田1-1"},
			PaymentMethod: o.Method, Payment: out.Payment.UUID, Lines: out.Lines, Totals: totals,
			Tax: order.TaxTerms{PricesIncludeTax: set.Tax.PricesIncludeTax, Rounding: set.Tax.Rounding}, AccessToken: hex.EncodeToString(hash[:])}, now)
		if _, err := tx.Append(ctx, eventstore.Stream{Tenant: o.Tenant, Type: order.StreamType, ID: out.Order.UUID}, 0, placed.Pending(), md); err != nil {
			return err
		}
		pc := payment.Created{ID: out.Payment, Order: out.Order.UUID, Method: o.Method, Amount: totals.Total,
			ReferenceCode: decided.ReferenceCode, DueAt: decided.DueAt, Account: decided.Account}
		out.DueAt, out.Reference = decided.DueAt, decided.ReferenceCode
		p := payment.Create(pc, now)
		if _, err := tx.Append(ctx, eventstore.Stream{Tenant: o.Tenant, Type: payment.StreamType, ID: out.Payment.UUID}, 0, p.Pending(), md); err != nil {
			return err
		}
		for _, l := range out.Lines {
			if l.Reservation == uuid.Nil {
				continue
			}
			envs, err := tx.Load(ctx, o.Tenant, l.Variant)
			if err != nil {
				return err
			}
			it := inventory.FromHistory(data(envs))
			r := inventory.ReservationID{UUID: l.Reservation}
			it.Reserve(inventory.Requested{Reservation: r, Variant: l.Variant, Cart: uuid.Nil, Line: l.ID, Quantity: l.Quantity}, it.Locations(), 15*time.Minute, now)
			if _, ok := it.Hold(r); !ok {
				return fmt.Errorf("%s: %w", l.SKU, ErrOutOfStock)
			}
			if err := it.Commit(r, out.Order.UUID, now); err != nil {
				return err
			}
			if _, err := tx.Append(ctx, eventstore.Stream{Tenant: o.Tenant, Type: inventory.StreamType, ID: l.Variant}, it.LoadedVersion(), it.Pending(), md); err != nil {
				if errors.Is(err, eventstore.ErrVersionConflict) {
					return eventstore.Retry(err)
				}
				return err
			}
		}
		return nil
	})
	out.Events = res.Events
	return out, err
}

func data(envs []eventstore.Envelope) []aggregate.Event {
	out := make([]aggregate.Event, len(envs))
	for i, e := range envs {
		out[i] = e.Data
	}
	return out
}
