package catalog

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/honten/honten/domain/aggregate"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/slug"
)

// Limits of a product.
const (
	MaxTitleLen       = 255
	MaxDescriptionLen = 20000
	MaxHandleLen      = 100
	MaxVariants       = 100
	MaxOptions        = 3
	MaxCategories     = 20
	// MaxPrice is the largest price in major units (¥10,000,000).
	MaxPrice = 10_000_000
)

// Errors of the product aggregate.
var (
	ErrArchived        = errs.Conflict("product_archived", "the product is archived; restore it to a draft first")
	ErrNothingToSell   = errs.Conflict("no_active_variant", "a product needs an active variant with a price to be published")
	ErrVariantNotFound = errs.NotFoundf("variant")
	ErrDuplicateSKU    = errs.InvalidFields(errs.FieldError{Field: "sku", Message: "is already used by another variant"})
	ErrTooManyVariants = errs.Field("variants", fmt.Sprintf("a product has at most %d variants", MaxVariants))
)

// Variant is one purchasable version of a product.
type Variant struct {
	ID              VariantID
	SKU             SKU
	Title           string
	Options         []Option
	FulfillmentType FulfillmentType
	Price           money.Money
	CompareAtPrice  *money.Money
	TaxRate         TaxRate
	Status          VariantStatus
	IsHot           bool
}

// Product is a product with its variants.
type Product struct {
	aggregate.Base
	id          ProductID
	vendor      uuid.UUID
	store       uuid.UUID
	title       string
	handle      string
	description string
	categories  []CategoryID
	locations   []uuid.UUID
	digital     *Digital
	status      ProductStatus
	variants    []Variant
	createdAt   time.Time
}

// ProductSpec is what a new product is made of.
type ProductSpec struct {
	Vendor      uuid.UUID
	Store       uuid.UUID
	Title       string
	Handle      string // derived from the title when empty and the title is ASCII
	Description string
	Categories  []CategoryID
	Locations   []uuid.UUID
	Digital     *Digital
}

// ValidateTitle checks a product or variant title.
func ValidateTitle(field, s string) error {
	if s == "" || utf8.RuneCountInString(s) > MaxTitleLen || !utf8.ValidString(s) {
		return errs.Field(field, fmt.Sprintf("is required, at most %d characters", MaxTitleLen))
	}
	return nil
}

func validateHandle(h string) error {
	_, err := slug.ParseField("handle", h, 1, MaxHandleLen)
	return err
}

// ValidFilePath reports whether p names a file inside a directory: relative,
// clean, without "..", at most 500 bytes.
func ValidFilePath(p string) bool {
	return p != "" && len(p) <= 500 && filepath.IsLocal(p) && filepath.Clean(p) == p && !strings.ContainsAny(p, "\\\x00")
}

func validateDigital(d *Digital) error {
	if d == nil {
		return nil
	}
	var v errs.Collector
	v.Check(d.URLTTLHours >= 0 && d.URLTTLHours <= 24*90, "digital.url_ttl_hours", "must be between 1 and 2160 (0 = store default)")
	v.Check(d.MaxDownloads >= 0 && d.MaxDownloads <= 100, "digital.max_downloads", "must be between 1 and 100 (0 = store default)")
	v.Check(d.File == "" || ValidFilePath(d.File), "digital.file", "must be a relative path inside the downloads directory (no .., at most 500 characters)")
	return v.Err()
}

func validateLists(categories []CategoryID, locations []uuid.UUID) error {
	var v errs.Collector
	v.Check(len(categories) <= MaxCategories, "categories", fmt.Sprintf("at most %d categories", MaxCategories))
	v.Check(len(locations) <= 200, "location_ids", "at most 200 locations")
	return v.Err()
}

// NewProduct creates a draft product with id. It returns Invalid errors
// naming every bad field.
func NewProduct(id ProductID, spec ProductSpec, now time.Time) (*Product, error) {
	var v errs.Collector
	v.Merge("", ValidateTitle("title", spec.Title))
	if spec.Handle == "" {
		spec.Handle = slug.Slugify(spec.Title)
		if spec.Handle == "" || len(spec.Handle) > MaxHandleLen {
			// Japanese titles have no ASCII slug: the id is a stable handle.
			spec.Handle = "p-" + id.String()[:8] + id.String()[9:13] + id.String()[14:18]
		}
	}
	v.Merge("", validateHandle(spec.Handle))
	v.Check(utf8.RuneCountInString(spec.Description) <= MaxDescriptionLen, "description", fmt.Sprintf("at most %d characters", MaxDescriptionLen))
	v.Merge("", validateDigital(spec.Digital))
	v.Merge("", validateLists(spec.Categories, spec.Locations))
	if err := v.Err(); err != nil {
		return nil, err
	}
	p := &Product{}
	p.record(ProductCreated{ID: id, Vendor: spec.Vendor, Store: spec.Store, Title: spec.Title, Handle: spec.Handle,
		Description: spec.Description, Categories: nonNil(spec.Categories), Locations: nonNil(spec.Locations),
		Digital: spec.Digital, Status: ProductDraft, At: now.UTC()})
	return p, nil
}

// FromHistory rebuilds a product from its events, without validation.
func FromHistory(history []aggregate.Event) *Product {
	p := &Product{}
	for _, e := range history {
		p.apply(e)
	}
	p.Replayed(len(history))
	return p
}

// ProductChanges are the descriptive fields to change (nil keeps one).
type ProductChanges struct {
	Title       *string
	Handle      *string
	Description *string
	Categories  *[]CategoryID
	Locations   *[]uuid.UUID
	Digital     *Digital
}

// Update changes descriptive fields; only real changes are recorded. It
// returns ErrArchived for an archived product and Invalid errors.
func (p *Product) Update(c ProductChanges, now time.Time) error {
	var v errs.Collector
	e := ProductUpdated{At: now.UTC()}
	changed := false
	if c.Title != nil && *c.Title != p.title {
		v.Merge("", ValidateTitle("title", *c.Title))
		e.Title, changed = c.Title, true
	}
	if c.Handle != nil && *c.Handle != p.handle {
		v.Merge("", validateHandle(*c.Handle))
		e.Handle, changed = c.Handle, true
	}
	if c.Description != nil && *c.Description != p.description {
		v.Check(utf8.RuneCountInString(*c.Description) <= MaxDescriptionLen, "description", fmt.Sprintf("at most %d characters", MaxDescriptionLen))
		e.Description, changed = c.Description, true
	}
	if c.Categories != nil && !slices.Equal(*c.Categories, p.categories) {
		cats := nonNil(*c.Categories)
		v.Merge("", validateLists(cats, nil))
		e.Categories, changed = &cats, true
	}
	if c.Locations != nil && !slices.Equal(*c.Locations, p.locations) {
		locs := nonNil(*c.Locations)
		v.Merge("", validateLists(nil, locs))
		e.Locations, changed = &locs, true
	}
	if c.Digital != nil && (p.digital == nil || *c.Digital != *p.digital) {
		v.Merge("", validateDigital(c.Digital))
		e.Digital, changed = c.Digital, true
	}
	if err := v.Err(); err != nil {
		return err
	}
	if changed && p.status == ProductArchived {
		return ErrArchived
	}
	if changed {
		p.record(e)
	}
	return nil
}

// SetStatus moves the product to status: publishing needs an active
// variant; archived products go back to draft before anything else.
func (p *Product) SetStatus(s ProductStatus, now time.Time) error {
	if s == p.status {
		return nil
	}
	switch s {
	case ProductActive:
		if p.status == ProductArchived {
			return ErrArchived
		}
		if !p.hasActiveVariant() {
			return ErrNothingToSell
		}
		p.record(Published{At: now.UTC()})
	case ProductDraft:
		p.record(Unpublished{At: now.UTC()})
	case ProductArchived:
		p.record(Archived{At: now.UTC()})
	}
	return nil
}

// VariantSpec is what a new variant is made of.
type VariantSpec struct {
	SKU             SKU
	Title           string
	Options         []Option
	FulfillmentType FulfillmentType
	Price           money.Money
	CompareAtPrice  *money.Money
	TaxRate         TaxRate
	Status          VariantStatus
	IsHot           bool
}

var maxPrice = decimal.NewFromInt(MaxPrice)

// ValidatePrice checks a price: not negative, at most MaxPrice.
func ValidatePrice(field string, m money.Money) error {
	if m.Currency() == "" {
		return errs.Field(field, "is required")
	}
	if m.IsNegative() || m.Amount().GreaterThan(maxPrice) {
		return errs.Field(field, fmt.Sprintf("must be between 0 and %d", MaxPrice))
	}
	return nil
}

func validatePrices(price money.Money, compareAt *money.Money) error {
	var v errs.Collector
	v.Merge("", ValidatePrice("price", price))
	if compareAt != nil {
		v.Merge("", ValidatePrice("compare_at_price", *compareAt))
		if price.Currency() != "" && compareAt.Currency() != price.Currency() {
			v.Add("compare_at_price", "must be in the price's currency")
		} else if c, err := compareAt.Cmp(price); err == nil && c < 0 {
			v.Add("compare_at_price", "must not be below the price")
		}
	}
	return v.Err()
}

func validateOptions(opts []Option) error {
	var v errs.Collector
	v.Check(len(opts) <= MaxOptions, "options", fmt.Sprintf("at most %d options", MaxOptions))
	seen := map[string]bool{}
	for i, o := range opts {
		f := fmt.Sprintf("options[%d]", i)
		v.Check(o.Name != "" && utf8.RuneCountInString(o.Name) <= 50, f+".name", "is required, at most 50 characters")
		v.Check(o.Value != "" && utf8.RuneCountInString(o.Value) <= 100, f+".value", "is required, at most 100 characters")
		v.Check(!seen[o.Name], f+".name", "is repeated")
		seen[o.Name] = true
	}
	return v.Err()
}

// AddVariant adds a variant with id. It returns ErrArchived,
// ErrTooManyVariants, ErrDuplicateSKU (within the product) and Invalid errors.
func (p *Product) AddVariant(id VariantID, s VariantSpec, now time.Time) error {
	if p.status == ProductArchived {
		return ErrArchived
	}
	if len(p.variants) >= MaxVariants {
		return ErrTooManyVariants
	}
	var v errs.Collector
	if s.Title == "" {
		s.Title = "Default"
	}
	v.Merge("", ValidateTitle("title", s.Title))
	v.Merge("", validatePrices(s.Price, s.CompareAtPrice))
	v.Merge("", validateOptions(s.Options))
	if s.FulfillmentType == "" {
		s.FulfillmentType = FulfillmentPhysical
	}
	if s.TaxRate == "" {
		s.TaxRate = TaxStandard
	}
	if s.Status == "" {
		s.Status = VariantActive
	}
	if err := v.Err(); err != nil {
		return err
	}
	if _, ok := p.variantBySKU(s.SKU); ok {
		return ErrDuplicateSKU
	}
	p.record(VariantAdded{Variant: id, SKU: s.SKU, Title: s.Title, Options: nonNil(s.Options), FulfillmentType: s.FulfillmentType,
		Price: s.Price, CompareAtPrice: s.CompareAtPrice, TaxRate: s.TaxRate, Status: s.Status, IsHot: s.IsHot, At: now.UTC()})
	return nil
}

// VariantChanges are the variant fields to change (nil keeps one).
type VariantChanges struct {
	SKU             *SKU
	Title           *string
	Options         *[]Option
	FulfillmentType *FulfillmentType
	TaxRate         *TaxRate
	Status          *VariantStatus
	IsHot           *bool
	Price           *money.Money
	CompareAtPrice  **money.Money // set to a nil pointer to clear it
}

// UpdateVariant changes a variant; a price change is its own event
// (price.updated). It returns ErrVariantNotFound, ErrArchived,
// ErrDuplicateSKU and Invalid errors.
func (p *Product) UpdateVariant(id VariantID, c VariantChanges, now time.Time) error {
	if p.status == ProductArchived {
		return ErrArchived
	}
	cur, ok := p.Variant(id)
	if !ok {
		return ErrVariantNotFound
	}
	var v errs.Collector
	e := VariantUpdated{Variant: id, At: now.UTC()}
	changed := false
	if c.SKU != nil && *c.SKU != cur.SKU {
		if other, ok := p.variantBySKU(*c.SKU); ok && other.ID != id {
			return ErrDuplicateSKU
		}
		e.SKU, changed = c.SKU, true
	}
	if c.Title != nil && *c.Title != cur.Title {
		v.Merge("", ValidateTitle("title", *c.Title))
		e.Title, changed = c.Title, true
	}
	if c.Options != nil && !slices.Equal(*c.Options, cur.Options) {
		v.Merge("", validateOptions(*c.Options))
		o := nonNil(*c.Options)
		e.Options, changed = &o, true
	}
	if c.FulfillmentType != nil && *c.FulfillmentType != cur.FulfillmentType {
		e.FulfillmentType, changed = c.FulfillmentType, true
	}
	if c.TaxRate != nil && *c.TaxRate != cur.TaxRate {
		e.TaxRate, changed = c.TaxRate, true
	}
	if c.Status != nil && *c.Status != cur.Status {
		e.Status, changed = c.Status, true
	}
	if c.IsHot != nil && *c.IsHot != cur.IsHot {
		e.IsHot, changed = c.IsHot, true
	}
	price, compareAt := cur.Price, cur.CompareAtPrice
	if c.Price != nil {
		price = *c.Price
	}
	if c.CompareAtPrice != nil {
		compareAt = *c.CompareAtPrice
	}
	priceChanged := !price.Equal(cur.Price) || !equalMoney(compareAt, cur.CompareAtPrice)
	if priceChanged {
		v.Merge("", validatePrices(price, compareAt))
	}
	if err := v.Err(); err != nil {
		return err
	}
	if changed {
		p.record(e)
	}
	if priceChanged {
		p.record(PriceUpdated{Variant: id, Price: price, CompareAtPrice: compareAt, At: now.UTC()})
	}
	if p.status == ProductActive && !p.hasActiveVariant() {
		return ErrNothingToSell
	}
	return nil
}

func equalMoney(a, b *money.Money) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func (p *Product) record(e aggregate.Event) { p.apply(e); p.Record(e) }

func (p *Product) apply(e aggregate.Event) {
	switch e := e.(type) {
	case ProductCreated:
		p.id, p.vendor, p.store, p.title, p.handle = e.ID, e.Vendor, e.Store, e.Title, e.Handle
		p.description, p.categories, p.locations, p.digital, p.status, p.createdAt = e.Description, e.Categories, e.Locations, e.Digital, e.Status, e.At
	case ProductUpdated:
		if e.Title != nil {
			p.title = *e.Title
		}
		if e.Handle != nil {
			p.handle = *e.Handle
		}
		if e.Description != nil {
			p.description = *e.Description
		}
		if e.Categories != nil {
			p.categories = *e.Categories
		}
		if e.Locations != nil {
			p.locations = *e.Locations
		}
		if e.Digital != nil {
			d := *e.Digital
			p.digital = &d
		}
	case Published:
		p.status = ProductActive
	case Unpublished:
		p.status = ProductDraft
	case Archived:
		p.status = ProductArchived
	case VariantAdded:
		p.variants = append(p.variants, Variant{ID: e.Variant, SKU: e.SKU, Title: e.Title, Options: e.Options, FulfillmentType: e.FulfillmentType,
			Price: e.Price, CompareAtPrice: e.CompareAtPrice, TaxRate: e.TaxRate, Status: e.Status, IsHot: e.IsHot})
	case VariantUpdated:
		for i := range p.variants {
			v := &p.variants[i]
			if v.ID != e.Variant {
				continue
			}
			if e.SKU != nil {
				v.SKU = *e.SKU
			}
			if e.Title != nil {
				v.Title = *e.Title
			}
			if e.Options != nil {
				v.Options = *e.Options
			}
			if e.FulfillmentType != nil {
				v.FulfillmentType = *e.FulfillmentType
			}
			if e.TaxRate != nil {
				v.TaxRate = *e.TaxRate
			}
			if e.Status != nil {
				v.Status = *e.Status
			}
			if e.IsHot != nil {
				v.IsHot = *e.IsHot
			}
		}
	case PriceUpdated:
		for i := range p.variants {
			if p.variants[i].ID == e.Variant {
				p.variants[i].Price, p.variants[i].CompareAtPrice = e.Price, e.CompareAtPrice
			}
		}
	}
}

// ID returns the product's id.
func (p *Product) ID() ProductID { return p.id }

// Vendor returns the vendor that sells the product.
func (p *Product) Vendor() uuid.UUID { return p.vendor }

// Store returns the store the product belongs to.
func (p *Product) Store() uuid.UUID { return p.store }

// Title returns the title.
func (p *Product) Title() string { return p.title }

// Handle returns the URL handle.
func (p *Product) Handle() string { return p.handle }

// Description returns the description.
func (p *Product) Description() string { return p.description }

// Categories returns the category ids.
func (p *Product) Categories() []CategoryID { return p.categories }

// Locations returns the ids of the locations the product is sold from.
func (p *Product) Locations() []uuid.UUID { return p.locations }

// Digital returns the download overrides, if any.
func (p *Product) Digital() *Digital { return p.digital }

// Status returns draft, active or archived.
func (p *Product) Status() ProductStatus { return p.status }

// Variants returns the variants in the order they were added.
func (p *Product) Variants() []Variant { return slices.Clone(p.variants) }

// Variant returns one variant.
func (p *Product) Variant(id VariantID) (Variant, bool) {
	for _, v := range p.variants {
		if v.ID == id {
			return v, true
		}
	}
	return Variant{}, false
}

// hasActiveVariant reports whether a variant can be bought.
func (p *Product) hasActiveVariant() bool {
	return slices.ContainsFunc(p.variants, func(v Variant) bool { return v.Status == VariantActive })
}

func (p *Product) variantBySKU(s SKU) (Variant, bool) {
	for _, v := range p.variants {
		if v.SKU.Key() == s.Key() {
			return v, true
		}
	}
	return Variant{}, false
}

// nonNil returns s, or an empty slice for nil (events store [] rather than null).
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
