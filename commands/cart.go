package commands

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"

	"github.com/google/uuid"

	"github.com/honten/honten/commands/reservations"
	"github.com/honten/honten/domain/cart"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/inventory"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

var carts = eventstore.Repo[*cart.Cart]{StreamType: cart.StreamType, FromHistory: cart.FromHistory,
	Continue: func(x *cart.Cart, more []eventstore.Event) *cart.Cart { return x.Continue(more) }}

// Errors of the cart commands.
var (
	ErrCartNotFound      = errs.NotFoundf("cart")
	ErrVariantNotForSale = errs.InvalidFields(errs.FieldError{Field: "sku", Message: "is not for sale"})
)

// NewToken returns a random bearer token and its hex SHA-256.
func NewToken(prefix string) (token, hash string) {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	token = prefix + base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken returns the hex SHA-256 of a token.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// CreateCart opens a cart.
type CreateCart struct {
	Tenant tenant.ID
	By     By
}

// CartCreated is a new cart and its token (shown once).
type CartCreated struct {
	Cart  cart.ID
	Token string
	// Currency and Settings are the shop's as the command read them, for
	// the new cart's totals (no second read of the tenant).
	Currency money.Currency
	Settings tenant.Settings
}

// CreateCart opens a cart in the tenant's currency. Its id derives from the
// command id; the token is random and only its hash is stored.
func (s *Service) CreateCart(ctx context.Context, c CreateCart) (CartCreated, Result, error) {
	id := cart.ID{UUID: c.By.DerivedID(0)}
	token, hash := NewToken("hct_")
	now := s.Now()
	out, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (CartCreated, error) {
		t, err := tenants.Read(ctx, tx, c.Tenant, c.Tenant.UUID)
		if err != nil {
			return CartCreated{}, err
		}
		x := cart.New(id, hash, t.Currency(), now)
		tx.SaveAtCommit(nil, carts.Saving(c.Tenant, id.UUID, x, c.By.metadata(c.Tenant)))
		return CartCreated{Cart: id, Token: token, Currency: t.Currency(), Settings: t.Settings()}, nil
	})
	return out, Result{Result: res, ID: id.UUID, Version: 1}, err
}

// loadCart loads a cart and checks its token; a wrong token reads as a
// missing cart (ErrNotFound), so a cart's existence is never revealed.
func loadCart(ctx context.Context, tx *eventstore.Tx, t tenant.ID, id cart.ID, token string, ahead ...eventstore.ReadKey) (*cart.Cart, error) {
	x, err := carts.LoadAhead(ctx, tx, t, id.UUID, ahead...)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(HashToken(token)), []byte(x.TokenHash())) != 1 {
		return nil, fmt.Errorf("cart %s: %w", id, eventstore.ErrNotFound)
	}
	return x, nil
}

// AddToCart adds a variant to a cart (or more of it).
type AddToCart struct {
	Tenant   tenant.ID
	By       By
	Cart     cart.ID
	Token    string
	Variant  *catalog.VariantID // or SKU
	SKU      string
	Quantity int64
	// Hot routes the request to the hot lane (besides a variant marked hot).
	Hot bool
}

// CartChange is what a cart command did to one line.
type CartChange struct {
	Line        uuid.UUID
	Reservation inventory.ReservationID // zero when nothing was requested
	Variant     uuid.UUID
	Hot         bool
	// Now is the line as it is after the command (zero when removed).
	Now cart.Line
}

// AddToCart adds the line and records its reservation request; a variant
// already in the cart gets the sum, at the current price. It returns
// ErrNotFound (cart or token), Invalid errors (unknown SKU, a variant not
// for sale, a bad quantity, one above the shop's cap for the SKU) and cart
// errors (closed, too many lines).
func (s *Service) AddToCart(ctx context.Context, c AddToCart) (CartChange, Result, error) {
	now := s.Now()
	lineID := c.By.DerivedID(0)
	resID := inventory.ReservationID{UUID: c.By.DerivedID(1)}
	key := reservations.SKUKey(c.Tenant, c.SKU)
	if c.Variant != nil {
		key = reservations.VariantKey(c.Tenant, c.Variant.UUID)
	}
	done, err := s.hot.Admit(ctx, key, now)
	if err != nil {
		return CartChange{}, Result{}, err
	}
	defer done()
	out, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (CartChange, error) {
		x, err := loadCart(ctx, tx, c.Tenant, c.Cart, c.Token, s.cartAhead(tx, c)...)
		if err != nil {
			return CartChange{}, err
		}
		vid, pid, p, err := s.cartVariant(ctx, tx, c)
		if err != nil {
			return CartChange{}, err
		}
		v, _ := p.Variant(vid)
		if p.Status() != catalog.ProductActive || v.Status != catalog.VariantActive {
			return CartChange{}, ErrVariantNotForSale
		}
		hot := v.IsHot || c.Hot || s.hot.Observe(vid.UUID, now)
		t, err := tenants.Read(ctx, tx, c.Tenant, c.Tenant.UUID)
		if err != nil {
			return CartChange{}, err
		}
		limit := t.Settings().QuantityCap(string(v.SKU), hot)
		line := cart.Line{ID: lineID, Variant: vid.UUID, Product: pid.UUID, Vendor: p.Vendor(), SKU: string(v.SKU),
			Title: lineTitle(p.Title(), v.Title), Quantity: c.Quantity, UnitPrice: v.Price, TaxRate: v.TaxRate,
			FulfillmentType: v.FulfillmentType, Hot: hot}
		id, err := x.Add(line, resID, limit, now)
		if err != nil {
			return CartChange{}, err
		}
		// With the COMMIT: the command's last write.
		tx.SaveAtCommit(nil, carts.Saving(c.Tenant, c.Cart.UUID, x, c.By.metadata(c.Tenant)))
		if hot {
			s.hot.Remember(now, reservations.VariantKey(c.Tenant, vid.UUID), reservations.SKUKey(c.Tenant, string(v.SKU)))
		}
		l, _ := x.Line(id)
		return CartChange{Line: id, Reservation: l.Reservation, Variant: vid.UUID, Hot: hot, Now: l}, nil
	})
	return out, Result{Result: res, ID: out.Line}, err
}

// cartAhead names the streams cartVariant reads after the cart, when the
// process knows them already: the product of the variant (named by id, or
// by a SKU resolved before) and the shop. loadCart checks them in the
// cart's round trip; cartVariant still resolves and checks what it reads.
func (s *Service) cartAhead(tx *eventstore.Tx, c AddToCart) []eventstore.ReadKey {
	vid := c.Variant
	if vid == nil {
		parsed, err := catalog.ParseSKU(c.SKU)
		if err != nil {
			return nil
		}
		v, ok := s.skus.get(c.Tenant, parsed.Key())
		if !ok {
			return nil
		}
		vid = &v
	}
	pid, ok := tx.KeptOwner(c.Tenant.UUID, ClaimVariant, vid.String())
	if !ok {
		return nil
	}
	return []eventstore.ReadKey{products.Key(c.Tenant, pid), tenants.Key(c.Tenant, c.Tenant.UUID)}
}

// cartVariant resolves the variant an AddToCart names (by id, or by SKU)
// and reads its product as committed. A SKU the service resolved before is
// taken from its memory (s.skus) and checked against the product, which
// Read checks is current: the variant holding the SKU there holds its claim
// (a SKU's claim moves with the SKU, in the same transaction). A SKU that
// moved since is asked of the claims again.
func (s *Service) cartVariant(ctx context.Context, tx *eventstore.Tx, c AddToCart) (catalog.VariantID, catalog.ProductID, *catalog.Product, error) {
	if c.Variant != nil {
		pid, p, err := variantProduct(ctx, tx, c.Tenant, *c.Variant)
		return *c.Variant, pid, p, err
	}
	var sku string
	if parsed, err := catalog.ParseSKU(c.SKU); err == nil {
		sku = parsed.Key()
		if vid, ok := s.skus.get(c.Tenant, sku); ok {
			pid, p, err := variantProduct(ctx, tx, c.Tenant, vid)
			if err == nil {
				if v, ok := p.Variant(vid); ok && v.SKU.Key() == sku {
					return vid, pid, p, nil
				}
			} else if !errors.Is(err, errNotAVariant) {
				return vid, pid, nil, err
			}
			s.skus.forget(c.Tenant, sku)
		}
	}
	vid, err := VariantBySKU(ctx, tx, c.Tenant, c.SKU)
	if errors.Is(err, eventstore.ErrNotFound) {
		return vid, catalog.ProductID{}, nil, ErrUnknownSKU
	}
	if err != nil {
		return vid, catalog.ProductID{}, nil, err
	}
	s.skus.put(c.Tenant, sku, vid)
	pid, p, err := variantProduct(ctx, tx, c.Tenant, vid)
	return vid, pid, p, err
}

// errNotAVariant is a variant id that no product of the shop holds.
var errNotAVariant = errs.InvalidFields(errs.FieldError{Field: "variant_id", Message: "is not a variant of this shop"})

// variantProduct reads the product of variant vid as committed, checking
// it and the shop (which AddToCart reads next) in one statement.
func variantProduct(ctx context.Context, tx *eventstore.Tx, t tenant.ID, vid catalog.VariantID) (catalog.ProductID, *catalog.Product, error) {
	pid, err := VariantProduct(ctx, tx, t, vid)
	if errors.Is(err, eventstore.ErrNotFound) {
		return pid, nil, errNotAVariant
	}
	if err != nil {
		return pid, nil, err
	}
	if err := tx.ReadAhead(ctx, products.Key(t, pid.UUID), tenants.Key(t, t.UUID)); err != nil {
		return pid, nil, err
	}
	p, err := products.Read(ctx, tx, t, pid.UUID)
	return pid, p, err
}

// skuMemory keeps the variants SKUs were last resolved to, per tenant. An
// entry is a guess that AddToCart checks against the product it reads.
type skuMemory struct {
	mu sync.Mutex
	m  map[skuKey]catalog.VariantID
}

type skuKey struct {
	tenant uuid.UUID
	sku    string
}

// skuMemorySize bounds the SKUs remembered (past it, memory starts over).
const skuMemorySize = 100_000

func (m *skuMemory) get(t tenant.ID, sku string) (catalog.VariantID, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[skuKey{t.UUID, sku}]
	return v, ok
}

func (m *skuMemory) put(t tenant.ID, sku string, v catalog.VariantID) {
	if sku == "" {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil || len(m.m) >= skuMemorySize {
		m.m = map[skuKey]catalog.VariantID{}
	}
	m.m[skuKey{t.UUID, sku}] = v
}

func (m *skuMemory) forget(t tenant.ID, sku string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, skuKey{t.UUID, sku})
}

func lineTitle(product, variant string) string {
	if variant == "" || variant == "Default" {
		return product
	}
	return product + " / " + variant
}

// ChangeCartLine sets a line's quantity (0 removes it).
type ChangeCartLine struct {
	Tenant   tenant.ID
	By       By
	Cart     cart.ID
	Token    string
	Line     uuid.UUID
	Quantity int64
}

// ChangeCartLine applies c, at the item's current price. It returns
// ErrNotFound (cart, token or line), an Invalid error for a quantity above
// the shop's cap for the SKU, and cart errors.
func (s *Service) ChangeCartLine(ctx context.Context, c ChangeCartLine) (CartChange, Result, error) {
	now := s.Now()
	resID := inventory.ReservationID{UUID: c.By.DerivedID(1)}
	out, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (CartChange, error) {
		x, err := loadCart(ctx, tx, c.Tenant, c.Cart, c.Token)
		if err != nil {
			return CartChange{}, err
		}
		var limit int64
		if l, ok := x.Line(c.Line); ok && c.Quantity > 0 {
			t, err := tenants.Read(ctx, tx, c.Tenant, c.Tenant.UUID)
			if err != nil {
				return CartChange{}, err
			}
			limit = t.Settings().QuantityCap(l.SKU, l.Hot)
			// A new quantity is priced from the catalog as it is now.
			offers, err := currentOffers(ctx, tx, c.Tenant, []cart.Line{l})
			if err != nil {
				return CartChange{}, err
			}
			if o := offers[l.Variant]; o.ok && l.Quantity != c.Quantity {
				if err := x.Reprice(c.Line, o.price, now); err != nil {
					return CartChange{}, err
				}
			}
		}
		if err := x.SetQuantity(c.Line, c.Quantity, resID, limit, now); err != nil {
			return CartChange{}, err
		}
		if _, err := carts.Save(ctx, tx, c.Tenant, c.Cart.UUID, x, nil, c.By.metadata(c.Tenant)); err != nil {
			return CartChange{}, err
		}
		l, ok := x.Line(c.Line)
		if !ok {
			return CartChange{Line: c.Line}, nil
		}
		return CartChange{Line: c.Line, Reservation: l.Reservation, Variant: l.Variant, Hot: l.Hot, Now: l}, nil
	})
	return out, Result{Result: res, ID: c.Line}, err
}
