package cart

import (
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/aggregate"
	"github.com/honten/honten/domain/errs"
)

// MaxCoupons caps the codes one cart carries.
const MaxCoupons = 5

// CouponApplied puts a coupon code (normalised) on the cart.
type CouponApplied struct {
	Code string    `json:"code"`
	At   time.Time `json:"at"`
}

// CouponRemoved takes a code off the cart.
type CouponRemoved struct {
	Code string    `json:"code"`
	At   time.Time `json:"at"`
}

// EventName implements aggregate.Event.
func (CouponApplied) EventName() string { return "cart.coupon_applied.v1" }

// EventName implements aggregate.Event.
func (CouponRemoved) EventName() string { return "cart.coupon_removed.v1" }

// CouponEvents lists the cart's coupon events for the registry (the cart
// read model does not follow them: carts' codes are priced on reading).
var CouponEvents = []aggregate.Event{CouponApplied{}, CouponRemoved{}}

// Errors of coupons.
var (
	ErrCouponNotInCart = errs.NotFoundf("coupon")
	ErrTooManyCoupons  = errs.Field("code", "a cart carries at most 5 codes")
)

// ApplyCoupon adds code; a code already on the cart is a no-op. It returns
// ErrClosed and ErrTooManyCoupons.
func (x *Cart) ApplyCoupon(code string, now time.Time) error {
	if x.order != uuid.Nil {
		return ErrClosed
	}
	if slices.Contains(x.coupons, code) {
		return nil
	}
	if len(x.coupons) >= MaxCoupons {
		return ErrTooManyCoupons
	}
	x.record(CouponApplied{Code: code, At: now.UTC()})
	return nil
}

// RemoveCoupon removes code. It returns ErrClosed and ErrCouponNotInCart.
func (x *Cart) RemoveCoupon(code string, now time.Time) error {
	if x.order != uuid.Nil {
		return ErrClosed
	}
	if !slices.Contains(x.coupons, code) {
		return ErrCouponNotInCart
	}
	x.record(CouponRemoved{Code: code, At: now.UTC()})
	return nil
}

// Coupons returns the codes on the cart, in the order applied.
func (x *Cart) Coupons() []string { return slices.Clone(x.coupons) }
