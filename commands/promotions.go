package commands

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/cart"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/promotion"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

var promotions = repo(promotion.StreamType, promotion.FromHistory)

// Errors of the promotion commands.
var (
	ErrPromotionNotFound = errs.NotFoundf("promotion")
	ErrCodeTaken         = errs.Conflict("coupon_code_taken", "a code is already used by another promotion")
)

// CouponNotApplicable is the 422 of a coupon code that does not apply:
// Reason says why (unknown_code, code_used, usage_limit_reached,
// per_customer_limit_reached, or a promotion.Reason*).
type CouponNotApplicable struct {
	Code   string
	Reason string
}

var errCouponNotApplicable = errs.New(errs.KindInvalid, "coupon_not_applicable", "the coupon code does not apply")

func (e *CouponNotApplicable) Error() string {
	return fmt.Sprintf("coupon %s does not apply: %s", e.Code, e.Reason)
}

// Unwrap gives the error its kind and code.
func (e *CouponNotApplicable) Unwrap() error { return errCouponNotApplicable }

// ProblemExtra adds the code and the reason to the problem document.
func (e *CouponNotApplicable) ProblemExtra() map[string]any {
	return map[string]any{"coupon_code": e.Code, "reason": e.Reason}
}

// BuyerKey is the key of a buyer's per-customer usage: the customer when
// signed in (customer may be uuid.Nil: a guest), else the hex SHA-256 of
// the normalised e-mail, so no address is kept in clear.
func BuyerKey(email string, customer uuid.UUID) string {
	if customer != uuid.Nil {
		return "customer:" + customer.String()
	}
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	return "email:" + hex.EncodeToString(sum[:])
}

// CreatePromotion creates a promotion.
type CreatePromotion struct {
	Tenant tenant.ID
	By     By
	Spec   promotion.Spec
}

// CreatePromotion applies c. It returns an Invalid error for a bad spec and
// ErrCodeTaken when a shared code belongs to another promotion.
func (s *Service) CreatePromotion(ctx context.Context, c CreatePromotion) (promotion.ID, Result, error) {
	id := promotion.ID{UUID: c.By.DerivedID(0)}
	now := s.Now()
	_, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (struct{}, error) {
		t, err := tenants.Read(ctx, tx, c.Tenant, c.Tenant.UUID)
		if err != nil {
			return struct{}{}, err
		}
		spec, err := c.Spec.Validate(t.Currency())
		if err != nil {
			return struct{}{}, err
		}
		p := promotion.Create(id, spec, now)
		if _, err := promotions.Save(ctx, tx, c.Tenant, id.UUID, p, nil, c.By.metadata(c.Tenant)); err != nil {
			return struct{}{}, err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO promotion_usage (tenant_id, promotion_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, c.Tenant, id.UUID); err != nil {
			return struct{}{}, err
		}
		if err := syncSharedCodes(ctx, tx, c.Tenant, id.UUID, spec.Codes); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, indexPromotion(ctx, tx, c.Tenant, p, now)
	})
	return id, Result{Result: res, ID: id.UUID, Version: 1}, err
}

// UpdatePromotion replaces a promotion's spec (the caller merges a patch
// onto the current spec).
type UpdatePromotion struct {
	Tenant    tenant.ID
	By        By
	Promotion promotion.ID
	IfVersion *int64
	// Change edits a copy of the current spec.
	Change func(*promotion.Spec)
}

// UpdatePromotion applies c. It returns ErrPromotionNotFound,
// eventstore.ErrVersionConflict, promotion.ErrDeleted, Invalid errors and
// ErrCodeTaken.
func (s *Service) UpdatePromotion(ctx context.Context, c UpdatePromotion) (Result, error) {
	now := s.Now()
	var version int64
	_, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (struct{}, error) {
		p, err := loadPromotion(ctx, tx, c.Tenant, c.Promotion)
		if err != nil {
			return struct{}{}, err
		}
		t, err := tenants.Read(ctx, tx, c.Tenant, c.Tenant.UUID)
		if err != nil {
			return struct{}{}, err
		}
		spec := p.Spec()
		spec.Codes = append([]string(nil), spec.Codes...)
		c.Change(&spec)
		if spec, err = spec.Validate(t.Currency()); err != nil {
			return struct{}{}, err
		}
		if err := p.Update(spec, now); err != nil {
			return struct{}{}, err
		}
		if _, err := promotions.Save(ctx, tx, c.Tenant, c.Promotion.UUID, p, c.IfVersion, c.By.metadata(c.Tenant)); err != nil {
			return struct{}{}, err
		}
		if err := syncSharedCodes(ctx, tx, c.Tenant, c.Promotion.UUID, spec.Codes); err != nil {
			return struct{}{}, err
		}
		version = p.Version()
		return struct{}{}, indexPromotion(ctx, tx, c.Tenant, p, now)
	})
	return Result{Result: res, ID: c.Promotion.UUID, Version: version}, err
}

// DeletePromotion ends a promotion.
type DeletePromotion struct {
	Tenant    tenant.ID
	By        By
	Promotion promotion.ID
	IfVersion *int64
}

// DeletePromotion applies c; a deleted promotion stays deleted. It returns
// ErrPromotionNotFound and eventstore.ErrVersionConflict.
func (s *Service) DeletePromotion(ctx context.Context, c DeletePromotion) (Result, error) {
	now := s.Now()
	_, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (struct{}, error) {
		p, err := loadPromotion(ctx, tx, c.Tenant, c.Promotion)
		if err != nil {
			return struct{}{}, err
		}
		p.Delete(now)
		if len(p.Pending()) == 0 {
			return struct{}{}, nil
		}
		if _, err := promotions.Save(ctx, tx, c.Tenant, c.Promotion.UUID, p, c.IfVersion, c.By.metadata(c.Tenant)); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, indexPromotion(ctx, tx, c.Tenant, p, now)
	})
	return Result{Result: res, ID: c.Promotion.UUID}, err
}

func loadPromotion(ctx context.Context, tx *eventstore.Tx, t tenant.ID, id promotion.ID) (*promotion.Promotion, error) {
	p, err := promotions.Load(ctx, tx, t, id.UUID)
	if errors.Is(err, eventstore.ErrNotFound) {
		return nil, ErrPromotionNotFound
	}
	return p, err
}

// syncSharedCodes makes the promotion's shared codes exactly codes.
func syncSharedCodes(ctx context.Context, tx *eventstore.Tx, t tenant.ID, id uuid.UUID, codes []string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM promotion_codes WHERE tenant_id = $1 AND promotion_id = $2 AND job_id IS NULL AND NOT code = ANY($3)`, t, id, codes); err != nil {
		return err
	}
	if len(codes) == 0 {
		return nil
	}
	const q = `INSERT INTO promotion_codes (tenant_id, code, promotion_id) SELECT $1, unnest($3::text[]), $2
ON CONFLICT (tenant_id, code) DO NOTHING`
	if _, err := tx.Exec(ctx, q, t, id, codes); err != nil {
		return err
	}
	var others int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM promotion_codes WHERE tenant_id = $1 AND code = ANY($2) AND promotion_id <> $3`, t, codes, id).Scan(&others); err != nil {
		return err
	}
	if others > 0 {
		return ErrCodeTaken
	}
	return nil
}

// indexPromotion writes the promotion's row of promotion_index.
func indexPromotion(ctx context.Context, tx *eventstore.Tx, t tenant.ID, p *promotion.Promotion, now time.Time) error {
	spec := p.Spec()
	b, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	const q = `INSERT INTO promotion_index (tenant_id, id, version, title, spec, automatic, deleted, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
ON CONFLICT (tenant_id, id) DO UPDATE SET version = EXCLUDED.version, title = EXCLUDED.title, spec = EXCLUDED.spec,
  automatic = EXCLUDED.automatic, deleted = EXCLUDED.deleted, updated_at = EXCLUDED.updated_at`
	_, err = tx.Exec(ctx, q, t, p.ID().UUID, p.Version(), spec.Title, b, !spec.Coupon, p.Deleted(), now)
	return err
}

// PromotionRow is one promotion as the index holds it.
type PromotionRow struct {
	ID        uuid.UUID
	Version   int64
	Spec      promotion.Spec
	Automatic bool
	Deleted   bool
	Used      int64
	Codes     int64 // generated unique codes
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Promotions lists a tenant's promotions (deleted ones too when all), newest
// first, after cursor (an id) up to limit.
func Promotions(ctx context.Context, q eventstore.Querier, t tenant.ID, id *uuid.UUID, after *uuid.UUID, limit int) ([]PromotionRow, error) {
	const sel = `SELECT p.id, p.version, p.spec, p.automatic, p.deleted, coalesce(u.used, 0),
  (SELECT count(*) FROM promotion_codes c WHERE c.tenant_id = p.tenant_id AND c.promotion_id = p.id AND c.job_id IS NOT NULL),
  p.created_at, p.updated_at
FROM promotion_index p LEFT JOIN promotion_usage u ON u.tenant_id = p.tenant_id AND u.promotion_id = p.id
WHERE p.tenant_id = $1 AND ($2::uuid IS NULL OR p.id = $2) AND ($3::uuid IS NULL OR p.id < $3) AND ($2::uuid IS NOT NULL OR NOT p.deleted)
ORDER BY p.id DESC LIMIT $4`
	rows, err := q.Query(ctx, sel, t, id, after, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (PromotionRow, error) {
		var p PromotionRow
		var spec []byte
		if err := r.Scan(&p.ID, &p.Version, &spec, &p.Automatic, &p.Deleted, &p.Used, &p.Codes, &p.CreatedAt, &p.UpdatedAt); err != nil {
			return p, err
		}
		return p, json.Unmarshal(spec, &p.Spec)
	})
}

// ApplyCoupon puts a coupon code on a cart.
type ApplyCoupon struct {
	Tenant tenant.ID
	By     By
	Cart   cart.ID
	Token  string
	Code   string
}

// ApplyCoupon applies c when the code applies to the cart as it is now. It
// returns ErrNotFound (cart or token), cart.ErrClosed and a
// *CouponNotApplicable saying why not.
func (s *Service) ApplyCoupon(ctx context.Context, c ApplyCoupon) (Result, error) {
	now := s.Now()
	code := promotion.NormalizeCode(c.Code)
	_, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (struct{}, error) {
		x, err := loadCart(ctx, tx, c.Tenant, c.Cart, c.Token)
		if err != nil {
			return struct{}{}, err
		}
		if x.Order() != uuid.Nil {
			return struct{}{}, cart.ErrClosed
		}
		ev, err := evaluateCart(ctx, tx, c.Tenant, x.Currency(), x.Lines(), append(x.Coupons(), code), now)
		if err != nil {
			return struct{}{}, err
		}
		if err := ev.refusal(code); err != nil {
			return struct{}{}, err
		}
		if err := x.ApplyCoupon(code, now); err != nil {
			return struct{}{}, err
		}
		if len(x.Pending()) == 0 {
			return struct{}{}, nil
		}
		if _, err := carts.Save(ctx, tx, c.Tenant, c.Cart.UUID, x, nil, c.By.metadata(c.Tenant)); err != nil {
			return struct{}{}, err
		}
		_, err = tx.Exec(ctx, `INSERT INTO cart_coupons (tenant_id, cart_id, code, applied_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, c.Tenant, c.Cart.UUID, code, now)
		return struct{}{}, err
	})
	return Result{Result: res, ID: c.Cart.UUID}, err
}

// RemoveCoupon takes a code off a cart.
type RemoveCoupon = ApplyCoupon

// RemoveCoupon applies c. It returns ErrNotFound (cart, token, or a code
// the cart does not carry) and cart.ErrClosed.
func (s *Service) RemoveCoupon(ctx context.Context, c RemoveCoupon) (Result, error) {
	now := s.Now()
	code := promotion.NormalizeCode(c.Code)
	_, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (struct{}, error) {
		x, err := loadCart(ctx, tx, c.Tenant, c.Cart, c.Token)
		if err != nil {
			return struct{}{}, err
		}
		if err := x.RemoveCoupon(code, now); err != nil {
			return struct{}{}, err
		}
		if _, err := carts.Save(ctx, tx, c.Tenant, c.Cart.UUID, x, nil, c.By.metadata(c.Tenant)); err != nil {
			return struct{}{}, err
		}
		_, err = tx.Exec(ctx, `DELETE FROM cart_coupons WHERE tenant_id = $1 AND cart_id = $2 AND code = $3`, c.Tenant, c.Cart.UUID, code)
		return struct{}{}, err
	})
	return Result{Result: res, ID: c.Cart.UUID}, err
}

// CartPricing is a cart priced with its promotions.
type CartPricing struct {
	Outcome promotion.Outcome
	// Refused are the cart's codes that do not apply now, with why.
	Refused []CouponNotApplicable
}

// PriceCart prices the cart's lines with the automatic promotions and its
// codes, as checkout would now. It returns ErrNotFound (cart or token).
func (s *Service) PriceCart(ctx context.Context, t tenant.ID, id cart.ID, token string) (CartPricing, error) {
	var out CartPricing
	_, err := s.store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		x, err := loadCart(ctx, tx, t, id, token)
		if err != nil {
			return err
		}
		ev, err := evaluateCart(ctx, tx, t, x.Currency(), x.Lines(), x.Coupons(), s.Now())
		if err != nil {
			return err
		}
		out = CartPricing{Outcome: ev.outcome, Refused: ev.refused}
		return nil
	})
	return out, err
}

// evaluation is a basket priced with promotions, and the codes refused.
type evaluation struct {
	outcome promotion.Outcome
	refused []CouponNotApplicable
	// codes maps each applied code to whether it is single-use (generated).
	unique map[string]bool
}

// refusal returns the *CouponNotApplicable of code, or nil when it applies.
func (e evaluation) refusal(code string) error {
	for _, r := range e.refused {
		if r.Code == code {
			return &r
		}
	}
	return nil
}

// evaluateCart prices lines with the tenant's automatic promotions and the
// promotions of codes at now. Codes that are unknown, used up, or whose
// promotion does not apply are refused with the reason.
func evaluateCart(ctx context.Context, tx *eventstore.Tx, t tenant.ID, cur money.Currency, lines []cart.Line, codes []string, now time.Time) (evaluation, error) {
	ev := evaluation{unique: map[string]bool{}}
	items, err := promotionItems(ctx, tx, t, lines)
	if err != nil {
		return ev, err
	}
	const q = `SELECT p.id, p.spec, c.code, c.job_id IS NOT NULL, c.order_id IS NOT NULL,
  (p.spec->>'usage_limit')::bigint IS NOT NULL AND coalesce(u.used, 0) >= (p.spec->>'usage_limit')::bigint
FROM promotion_index p
LEFT JOIN promotion_usage u ON u.tenant_id = p.tenant_id AND u.promotion_id = p.id
LEFT JOIN promotion_codes c ON c.tenant_id = p.tenant_id AND c.promotion_id = p.id AND c.code = ANY($2)
WHERE p.tenant_id = $1 AND NOT p.deleted AND (p.automatic OR c.code IS NOT NULL)`
	rows, err := tx.Query(ctx, q, t, codes)
	if err != nil {
		return ev, err
	}
	defer rows.Close()
	var cands []promotion.Candidate
	found := map[string]bool{}
	byPromo := map[uuid.UUID]bool{}
	for rows.Next() {
		var id uuid.UUID
		var spec []byte
		var code *string
		var unique, used, full bool
		if err := rows.Scan(&id, &spec, &code, &unique, &used, &full); err != nil {
			return ev, err
		}
		var s promotion.Spec
		if err := json.Unmarshal(spec, &s); err != nil {
			return ev, err
		}
		c := ""
		if code != nil {
			c = *code
			found[c] = true
			switch {
			case used:
				ev.refused = append(ev.refused, CouponNotApplicable{Code: c, Reason: "code_used"})
				continue
			case full:
				ev.refused = append(ev.refused, CouponNotApplicable{Code: c, Reason: "usage_limit_reached"})
				continue
			case byPromo[id]:
				ev.refused = append(ev.refused, CouponNotApplicable{Code: c, Reason: "promotion_already_applied"})
				continue
			}
			ev.unique[c] = unique
		} else if full {
			continue // an automatic promotion used up applies no more
		}
		byPromo[id] = true
		cands = append(cands, promotion.Candidate{ID: id, Spec: s, Code: c})
	}
	if err := rows.Err(); err != nil {
		return ev, err
	}
	for _, c := range codes {
		if !found[c] {
			ev.refused = append(ev.refused, CouponNotApplicable{Code: c, Reason: "unknown_code"})
		}
	}
	ev.outcome = promotion.Evaluate(cur, items, cands, now)
	for _, r := range ev.outcome.Rejected {
		if r.Code != "" {
			ev.refused = append(ev.refused, CouponNotApplicable{Code: r.Code, Reason: r.Reason})
		}
	}
	return ev, nil
}

// promotionItems describes lines for the rules, with their products'
// categories read from the catalog's event streams.
func promotionItems(ctx context.Context, tx *eventstore.Tx, t tenant.ID, lines []cart.Line) ([]promotion.Item, error) {
	cats := map[uuid.UUID][]uuid.UUID{}
	items := make([]promotion.Item, 0, len(lines))
	for _, l := range lines {
		cs, ok := cats[l.Product]
		if !ok {
			p, err := products.Read(ctx, tx, t, l.Product)
			if err != nil && !errors.Is(err, eventstore.ErrNotFound) {
				return nil, err
			}
			cs = []uuid.UUID{}
			if err == nil {
				for _, c := range p.Categories() {
					cs = append(cs, c.UUID)
				}
			}
			cats[l.Product] = cs
		}
		items = append(items, promotion.Item{Line: l.ID, SKU: l.SKU, Vendor: l.Vendor, Categories: cs, Amount: l.UnitPrice.Mul(l.Quantity)})
	}
	return items, nil
}

// redeem records the order's redemptions in its transaction, last (the
// counter rows' locks are held until commit): each promotion's use is
// counted under its usage limit, each buyer's under the per-customer
// limit, each single-use code is taken. It returns a *CouponNotApplicable
// (usage_limit_reached, per_customer_limit_reached, code_used) when one
// is used up, or a Conflict for an automatic promotion used up meanwhile.
func redeem(ctx context.Context, tx *eventstore.Tx, t tenant.ID, orderID uuid.UUID, buyer string, ev evaluation, now time.Time) error {
	for _, a := range ev.outcome.Applied {
		refuse := func(reason string) error {
			if a.Code == "" {
				return ErrPromotionChanged
			}
			return &CouponNotApplicable{Code: a.Code, Reason: reason}
		}
		var spec []byte
		if err := tx.QueryRow(ctx, `SELECT spec FROM promotion_index WHERE tenant_id = $1 AND id = $2`, t, a.Promotion).Scan(&spec); err != nil {
			return err
		}
		var s promotion.Spec
		if err := json.Unmarshal(spec, &s); err != nil {
			return err
		}
		if a.Code != "" && ev.unique[a.Code] {
			tag, err := tx.Exec(ctx, `UPDATE promotion_codes SET order_id = $3 WHERE tenant_id = $1 AND code = $2 AND order_id IS NULL`, t, a.Code, orderID)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return refuse("code_used")
			}
		}
		if s.PerCustomerLimit != nil {
			const q = `INSERT INTO promotion_buyer_usage AS b (tenant_id, promotion_id, buyer, used) VALUES ($1, $2, $3, 1)
ON CONFLICT (tenant_id, promotion_id, buyer) DO UPDATE SET used = b.used + 1 WHERE b.used < $4 RETURNING used`
			var n int64
			err := tx.QueryRow(ctx, q, t, a.Promotion, buyer, *s.PerCustomerLimit).Scan(&n)
			if errors.Is(err, pgx.ErrNoRows) {
				return refuse("per_customer_limit_reached")
			}
			if err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO promotion_redemptions (tenant_id, order_id, promotion_id, code, buyer, redeemed_at) VALUES ($1, $2, $3, nullif($4, ''), $5, $6)`,
			t, orderID, a.Promotion, a.Code, buyer, now); err != nil {
			return err
		}
	}
	// The overall counters last: their row locks are the hot ones.
	for _, a := range ev.outcome.Applied {
		const q = `UPDATE promotion_usage u SET used = used + 1 FROM promotion_index p
WHERE u.tenant_id = $1 AND u.promotion_id = $2 AND p.tenant_id = u.tenant_id AND p.id = u.promotion_id
  AND ((p.spec->>'usage_limit') IS NULL OR u.used < (p.spec->>'usage_limit')::bigint)`
		tag, err := tx.Exec(ctx, q, t, a.Promotion)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			if a.Code == "" {
				return ErrPromotionChanged
			}
			return &CouponNotApplicable{Code: a.Code, Reason: "usage_limit_reached"}
		}
	}
	return nil
}

// ErrPromotionChanged refuses a checkout whose automatic promotion ended or
// was used up while it was being placed: the cart shows the new total.
var ErrPromotionChanged = errs.Conflict("promotion_changed", "a promotion in the cart has ended or is used up: review the cart and check out again")

// releaseRedemptions gives back the uses an order redeemed (its
// cancellation): the counters go down and single-use codes are free again.
// A second call gives nothing back.
func releaseRedemptions(ctx context.Context, tx *eventstore.Tx, t tenant.ID, orderID uuid.UUID, now time.Time) error {
	const q = `WITH r AS (
  UPDATE promotion_redemptions SET released_at = $3 WHERE tenant_id = $1 AND order_id = $2 AND released_at IS NULL
  RETURNING promotion_id, code, buyer),
u AS (UPDATE promotion_usage x SET used = x.used - 1 FROM r WHERE x.tenant_id = $1 AND x.promotion_id = r.promotion_id AND x.used > 0),
b AS (UPDATE promotion_buyer_usage y SET used = y.used - 1 FROM r WHERE y.tenant_id = $1 AND y.promotion_id = r.promotion_id AND y.buyer = r.buyer AND y.used > 0)
UPDATE promotion_codes c SET order_id = NULL FROM r WHERE c.tenant_id = $1 AND c.code = r.code AND c.order_id = $2`
	_, err := tx.Exec(ctx, q, t, orderID, now)
	return err
}

// PromotionLimitReached is the 409 promotion_limit_reached of an order
// that cannot take back a promotion use it gave back when it was
// cancelled (its reinstatement): meanwhile the promotion's usage limit or
// the buyer's was reached, or another order took its single-use code.
// Reason is usage_limit_reached, per_customer_limit_reached or code_used.
type PromotionLimitReached struct {
	Promotion uuid.UUID
	Code      string
	Reason    string
}

var errPromotionLimitReached = errs.Conflict("promotion_limit_reached",
	"a promotion the order used has no use left for it: the order cannot be reinstated (the transfer stays a refund due)")

func (e *PromotionLimitReached) Error() string {
	return fmt.Sprintf("promotion %s: %s", e.Promotion, e.Reason)
}

// Unwrap gives the error its kind and code.
func (e *PromotionLimitReached) Unwrap() error { return errPromotionLimitReached }

// ProblemExtra adds the promotion, its code and the reason to the problem document.
func (e *PromotionLimitReached) ProblemExtra() map[string]any {
	m := map[string]any{"promotion_id": e.Promotion.String(), "reason": e.Reason}
	if e.Code != "" {
		m["coupon_code"] = e.Code
	}
	return m
}

// retakeRedemptions takes back the uses a cancelled order gave back
// (releaseRedemptions), for its reinstatement, under the same limits and
// in the same lock order as a checkout's redeem: each single-use code is
// taken again unless another order has it, each buyer's use counted under
// the per-customer limit, then the overall counters under the usage
// limits. It returns a *PromotionLimitReached when any is used up; the
// caller's transaction then writes nothing. An order that redeemed nothing
// (or holds its uses) takes nothing.
func retakeRedemptions(ctx context.Context, tx *eventstore.Tx, t tenant.ID, orderID uuid.UUID) error {
	const sel = `SELECT r.promotion_id, coalesce(r.code, ''), r.buyer, p.spec,
  EXISTS (SELECT 1 FROM promotion_codes c WHERE c.tenant_id = r.tenant_id AND c.code = r.code AND c.job_id IS NOT NULL)
FROM promotion_redemptions r JOIN promotion_index p ON p.tenant_id = r.tenant_id AND p.id = r.promotion_id
WHERE r.tenant_id = $1 AND r.order_id = $2 AND r.released_at IS NOT NULL ORDER BY r.promotion_id`
	rows, err := tx.Query(ctx, sel, t, orderID)
	if err != nil {
		return err
	}
	type use struct {
		promotion uuid.UUID
		code      string
		buyer     string
		spec      promotion.Spec
		unique    bool
	}
	uses, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (use, error) {
		var u use
		var spec []byte
		if err := r.Scan(&u.promotion, &u.code, &u.buyer, &spec, &u.unique); err != nil {
			return u, err
		}
		return u, json.Unmarshal(spec, &u.spec)
	})
	if err != nil {
		return err
	}
	for _, u := range uses {
		refuse := func(reason string) error {
			return &PromotionLimitReached{Promotion: u.promotion, Code: u.code, Reason: reason}
		}
		if u.unique {
			tag, err := tx.Exec(ctx, `UPDATE promotion_codes SET order_id = $3 WHERE tenant_id = $1 AND code = $2 AND job_id IS NOT NULL AND order_id IS NULL`,
				t, u.code, orderID)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return refuse("code_used")
			}
		}
		if u.spec.PerCustomerLimit != nil {
			const q = `INSERT INTO promotion_buyer_usage AS b (tenant_id, promotion_id, buyer, used) VALUES ($1, $2, $3, 1)
ON CONFLICT (tenant_id, promotion_id, buyer) DO UPDATE SET used = b.used + 1 WHERE b.used < $4 RETURNING used`
			var n int64
			err := tx.QueryRow(ctx, q, t, u.promotion, u.buyer, *u.spec.PerCustomerLimit).Scan(&n)
			if errors.Is(err, pgx.ErrNoRows) {
				return refuse("per_customer_limit_reached")
			}
			if err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE promotion_redemptions SET released_at = NULL WHERE tenant_id = $1 AND order_id = $2 AND promotion_id = $3`,
			t, orderID, u.promotion); err != nil {
			return err
		}
	}
	// The overall counters last, as in redeem: their row locks are the hot ones.
	for _, u := range uses {
		const q = `UPDATE promotion_usage u SET used = used + 1 FROM promotion_index p
WHERE u.tenant_id = $1 AND u.promotion_id = $2 AND p.tenant_id = u.tenant_id AND p.id = u.promotion_id
  AND ((p.spec->>'usage_limit') IS NULL OR u.used < (p.spec->>'usage_limit')::bigint)`
		tag, err := tx.Exec(ctx, q, t, u.promotion)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return &PromotionLimitReached{Promotion: u.promotion, Code: u.code, Reason: "usage_limit_reached"}
		}
	}
	return nil
}

// orderPromotions is the order's record of the applied promotions and
// each line's discount.
func orderPromotions(ev evaluation) ([]order.Promotion, map[uuid.UUID]money.Money) {
	var out []order.Promotion
	for _, a := range ev.outcome.Applied {
		out = append(out, order.Promotion{ID: a.Promotion, Title: a.Title, Code: a.Code, Discount: a.Discount})
	}
	return out, ev.outcome.LineDiscounts
}

// checkoutPromotions prices the cart's promotions for its checkout: the
// cart's codes and extra (the checkout's coupon_code), refused when any
// does not apply.
func checkoutPromotions(ctx context.Context, tx *eventstore.Tx, t tenant.ID, x *cart.Cart, extra string, now time.Time) (evaluation, error) {
	codes := x.Coupons()
	if code := promotion.NormalizeCode(extra); code != "" && !slices.Contains(codes, code) {
		codes = append(codes, code)
	}
	ev, err := evaluateCart(ctx, tx, t, x.Currency(), x.Lines(), codes, now)
	if err != nil {
		return evaluation{}, err
	}
	if len(ev.refused) > 0 {
		r := ev.refused[0]
		return evaluation{}, &r
	}
	return ev, nil
}
