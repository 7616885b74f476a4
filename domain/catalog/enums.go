package catalog

import (
	"strings"

	"github.com/shopspring/decimal"

	"github.com/honten/honten/domain/errs"
)

// ProductStatus is where a product is in its life: drafted, on sale, or
// withdrawn.
type ProductStatus string

// The product statuses.
const (
	ProductDraft    ProductStatus = "draft"    // being prepared, not visible to buyers
	ProductActive   ProductStatus = "active"   // on sale
	ProductArchived ProductStatus = "archived" // withdrawn; kept for past orders
)

var productStatuses = []ProductStatus{ProductDraft, ProductActive, ProductArchived}

// ParseProductStatus parses "draft", "active" or "archived". It returns an
// Invalid *errs.Error for the field "status" otherwise.
func ParseProductStatus(s string) (ProductStatus, error) {
	return errs.OneOf("status", s, productStatuses)
}

// String returns the status name.
func (s ProductStatus) String() string { return string(s) }

// MarshalText returns the status name. It does not validate s.
func (s ProductStatus) MarshalText() ([]byte, error) { return []byte(s), nil }

// UnmarshalText parses the status with ParseProductStatus and returns its
// error.
func (s *ProductStatus) UnmarshalText(b []byte) error {
	return unmarshalEnum(s, b, ParseProductStatus)
}

// VariantStatus says whether a variant can be bought.
type VariantStatus string

// The variant statuses.
const (
	VariantActive   VariantStatus = "active"   // can be bought
	VariantInactive VariantStatus = "inactive" // shown, or hidden, but not for sale
)

var variantStatuses = []VariantStatus{VariantActive, VariantInactive}

// ParseVariantStatus parses "active" or "inactive". It returns an Invalid
// *errs.Error for the field "status" otherwise.
func ParseVariantStatus(s string) (VariantStatus, error) {
	return errs.OneOf("status", s, variantStatuses)
}

// String returns the status name.
func (s VariantStatus) String() string { return string(s) }

// MarshalText returns the status name. It does not validate s.
func (s VariantStatus) MarshalText() ([]byte, error) { return []byte(s), nil }

// UnmarshalText parses the status with ParseVariantStatus and returns its
// error.
func (s *VariantStatus) UnmarshalText(b []byte) error {
	return unmarshalEnum(s, b, ParseVariantStatus)
}

// FulfillmentType says how a variant reaches the buyer.
type FulfillmentType string

// The fulfillment types.
const (
	FulfillmentPhysical FulfillmentType = "physical" // shipped; takes stock and a shipment
	FulfillmentDigital  FulfillmentType = "digital"  // delivered online; no shipment
)

var fulfillmentTypes = []FulfillmentType{FulfillmentPhysical, FulfillmentDigital}

// ParseFulfillmentType parses "physical" or "digital". It returns an Invalid
// *errs.Error for the field "fulfillment_type" otherwise.
func ParseFulfillmentType(s string) (FulfillmentType, error) {
	return errs.OneOf("fulfillment_type", s, fulfillmentTypes)
}

// String returns the type name.
func (f FulfillmentType) String() string { return string(f) }

// MarshalText returns the type name. It does not validate f.
func (f FulfillmentType) MarshalText() ([]byte, error) { return []byte(f), nil }

// UnmarshalText parses the type with ParseFulfillmentType and returns its
// error.
func (f *FulfillmentType) UnmarshalText(b []byte) error {
	return unmarshalEnum(f, b, ParseFulfillmentType)
}

// TaxRate is a Japanese consumption tax rate in percent: "10" (standard) or
// "8" (reduced, for food and drink other than alcohol and eating in, and
// newspaper subscriptions).
type TaxRate string

// The consumption tax rates.
const (
	TaxStandard TaxRate = "10" // 標準税率 10%
	TaxReduced  TaxRate = "8"  // 軽減税率 8%
)

var taxRates = []TaxRate{TaxStandard, TaxReduced}

// ParseTaxRate parses "10", "8", "10%" or "8%". It returns an Invalid
// *errs.Error for the field "tax_rate" otherwise.
func ParseTaxRate(s string) (TaxRate, error) {
	return errs.OneOf("tax_rate", strings.TrimSuffix(s, "%"), taxRates)
}

// String returns the rate in percent without the sign: "10" or "8".
func (r TaxRate) String() string { return string(r) }

// Percent returns the rate in percent: 10 or 8. It returns zero for a rate
// that is not one of the constants.
func (r TaxRate) Percent() decimal.Decimal {
	switch r {
	case TaxStandard:
		return decimal.NewFromInt(10)
	case TaxReduced:
		return decimal.NewFromInt(8)
	}
	return decimal.Zero
}

// MarshalText returns the rate without the percent sign. It does not
// validate r.
func (r TaxRate) MarshalText() ([]byte, error) { return []byte(r), nil }

// UnmarshalText parses the rate with ParseTaxRate and returns its error.
func (r *TaxRate) UnmarshalText(b []byte) error {
	return unmarshalEnum(r, b, ParseTaxRate)
}

// unmarshalEnum parses b with parse into *dst, leaving it unchanged on error.
func unmarshalEnum[T ~string](dst *T, b []byte, parse func(string) (T, error)) error {
	v, err := parse(string(b))
	if err != nil {
		return err
	}
	*dst = v
	return nil
}
