package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/cart"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

// Errors of a checkout whose cart no longer matches the catalog.
var (
	ErrPriceChanged       = errs.Conflict("price_changed", "some prices changed since they were added to the cart; the cart shows the new prices: review it and check out again")
	ErrProductUnavailable = errs.Conflict("product_unavailable", "some items in the cart are no longer for sale: remove them and check out again")
)

// StaleLines is the 409 of a checkout whose cart lines do not match the
// current catalog: a price changed (the cart now shows the new one), or an
// item is no longer for sale. It unwraps to ErrProductUnavailable when any
// line is unavailable, else to ErrPriceChanged.
type StaleLines struct {
	Lines []StaleLine
}

// StaleLine is one line a checkout refused.
type StaleLine struct {
	Line uuid.UUID `json:"line_id"`
	SKU  string    `json:"sku"`
	// Status is price_changed or unavailable.
	Status string `json:"status"`
	// UnitPrice is the current price (price_changed only).
	UnitPrice *money.Money `json:"unit_price,omitempty"`
	// Previous is the price the line had.
	Previous money.Money `json:"previous_unit_price"`
}

func (e *StaleLines) Error() string { return e.Unwrap().Error() }

// Unwrap makes the error match its code and kind.
func (e *StaleLines) Unwrap() error {
	for _, l := range e.Lines {
		if l.Status == "unavailable" {
			return ErrProductUnavailable
		}
	}
	return ErrPriceChanged
}

// ProblemExtra adds the lines to the problem document.
func (e *StaleLines) ProblemExtra() map[string]any { return map[string]any{"lines": e.Lines} }

// offer is what the catalog sells a variant at now; ok is false when it is
// not for sale (product not active, variant inactive or gone).
type offer struct {
	price money.Money
	ok    bool
}

// offersAhead names the streams currentOffers will read for cart id, as
// far as the cart this process keeps tells: its lines' products and the
// shop. loadCart checks them in the cart's round trip; currentOffers then
// checks only what the cart's newer events added.
func offersAhead(tx *eventstore.Tx, t tenant.ID, id cart.ID) []eventstore.ReadKey {
	x, ok := carts.Kept(tx, t, id.UUID)
	if !ok {
		return nil
	}
	return offerKeys(t, x.Lines())
}

// checkoutAhead is offersAhead with the vendors of the cart's lines, whose
// commission rates the checkout reads (commissionRates).
func checkoutAhead(tx *eventstore.Tx, t tenant.ID, id cart.ID) []eventstore.ReadKey {
	x, ok := carts.Kept(tx, t, id.UUID)
	if !ok {
		return nil
	}
	keys := offerKeys(t, x.Lines())
	seen := map[uuid.UUID]bool{}
	for _, l := range x.Lines() {
		if !seen[l.Vendor] {
			seen[l.Vendor] = true
			keys = append(keys, vendors.Key(t, l.Vendor))
		}
	}
	return keys
}

// offerKeys are the streams currentOffers reads for lines: their products
// and the shop, which checkout reads next.
func offerKeys(t tenant.ID, lines []cart.Line) []eventstore.ReadKey {
	keys := make([]eventstore.ReadKey, 0, len(lines)+1)
	for _, l := range lines {
		keys = append(keys, products.Key(t, l.Product))
	}
	return append(keys, tenants.Key(t, t.UUID))
}

// currentOffers reads the current catalog offer of every line's variant,
// one product load per product. The products and the shop are checked for
// newer events in one statement (none when loadCart checked them already).
func currentOffers(ctx context.Context, tx *eventstore.Tx, t tenant.ID, lines []cart.Line) (map[uuid.UUID]offer, error) {
	if err := tx.ReadAhead(ctx, offerKeys(t, lines)...); err != nil {
		return nil, err
	}
	loaded := map[uuid.UUID]*catalog.Product{}
	out := make(map[uuid.UUID]offer, len(lines))
	for _, l := range lines {
		p, ok := loaded[l.Product]
		if !ok {
			var err error
			p, err = products.Read(ctx, tx, t, l.Product)
			if errors.Is(err, eventstore.ErrNotFound) {
				out[l.Variant] = offer{}
				continue
			}
			if err != nil {
				return nil, err
			}
			loaded[l.Product] = p
		}
		v, found := p.Variant(catalog.VariantID{UUID: l.Variant})
		out[l.Variant] = offer{price: v.Price, ok: found && p.Status() == catalog.ProductActive && v.Status == catalog.VariantActive}
	}
	return out, nil
}

// staleLines compares lines with the offers; nil when every line matches.
func staleLines(lines []cart.Line, offers map[uuid.UUID]offer) *StaleLines {
	var out []StaleLine
	for _, l := range lines {
		o := offers[l.Variant]
		switch {
		case !o.ok:
			out = append(out, StaleLine{Line: l.ID, SKU: l.SKU, Status: "unavailable", Previous: l.UnitPrice})
		case !o.price.Equal(l.UnitPrice):
			p := o.price
			out = append(out, StaleLine{Line: l.ID, SKU: l.SKU, Status: "price_changed", UnitPrice: &p, Previous: l.UnitPrice})
		}
	}
	if len(out) == 0 {
		return nil
	}
	return &StaleLines{Lines: out}
}

// prepareCheckout refuses a checkout that would fail (precheck: unknown
// cart or token, closed or empty cart, a line not held), then brings the
// cart's prices to the current catalog, in one transaction of its own (a
// reprice is committed even though the checkout then fails, so the cart
// shows the new prices). It returns a *StaleLines when any line changed or
// is no longer for sale. Otherwise its last statement takes the order
// number, which it returns: the counter row is held only until that
// commit, never across the checkout's own transaction, and the number
// costs no transaction of its own.
func (s *Service) prepareCheckout(ctx context.Context, c Checkout) (int64, error) {
	now := s.Now()
	var stale *StaleLines
	var number int64
	_, err := s.store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		stale = nil
		x, err := loadCart(ctx, tx, c.Tenant, c.Cart, c.Token, offersAhead(tx, c.Tenant, c.Cart)...)
		if err != nil {
			return err
		}
		if err := precheck(ctx, tx, x, now); err != nil {
			return err
		}
		offers, err := currentOffers(ctx, tx, c.Tenant, x.Lines())
		if err != nil {
			return err
		}
		stale = staleLines(x.Lines(), offers)
		if stale == nil {
			takeOrderNumber(tx, c.Tenant, &number)
			return nil
		}
		for _, l := range stale.Lines {
			if l.UnitPrice != nil {
				if err := x.Reprice(l.Line, *l.UnitPrice, now); err != nil {
					return err
				}
			}
		}
		if len(x.Pending()) == 0 {
			return nil
		}
		// Its own command id (per cart version): the checkout's command id
		// names the checkout's events.
		md := c.By.metadata(c.Tenant)
		if md.CommandID != uuid.Nil {
			md.CommandID = uuid.NewSHA1(md.CommandID, fmt.Appendf(nil, "reprice:%d", x.LoadedVersion()))
		}
		_, err = carts.Save(ctx, tx, c.Tenant, c.Cart.UUID, x, nil, md)
		return err
	})
	if err != nil {
		return 0, err
	}
	if stale != nil {
		return 0, stale
	}
	return number, nil
}
