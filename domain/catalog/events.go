package catalog

import (
	"time"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/aggregate"
	"github.com/honten/honten/domain/money"
)

// Option is one option of a variant ("サイズ": "M").
type Option struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Digital overrides the store's download settings for a digital product.
type Digital struct {
	URLTTLHours  int `json:"url_ttl_hours,omitempty"`
	MaxDownloads int `json:"max_downloads,omitempty"`
	// File is the product's download: a path relative to the downloads
	// directory (DOWNLOADS_DIR), e.g. "ebooks/tea-guide.pdf".
	File string `json:"file,omitempty"`
}

// ProductCreated is a product's first event. Products start as drafts.
type ProductCreated struct {
	ID          ProductID     `json:"id"`
	Vendor      uuid.UUID     `json:"vendor_id"`
	Store       uuid.UUID     `json:"store_id"`
	Title       string        `json:"title"`
	Handle      string        `json:"handle"`
	Description string        `json:"description"`
	Categories  []CategoryID  `json:"categories"`
	Locations   []uuid.UUID   `json:"location_ids"`
	Digital     *Digital      `json:"digital,omitempty"`
	Status      ProductStatus `json:"status"`
	At          time.Time     `json:"at"`
}

// ProductUpdated changes descriptive fields; only the changed ones are set.
type ProductUpdated struct {
	Title       *string       `json:"title,omitempty"`
	Handle      *string       `json:"handle,omitempty"`
	Description *string       `json:"description,omitempty"`
	Categories  *[]CategoryID `json:"categories,omitempty"`
	Locations   *[]uuid.UUID  `json:"location_ids,omitempty"`
	Digital     *Digital      `json:"digital,omitempty"`
	At          time.Time     `json:"at"`
}

// Published puts a product on sale (status active).
type Published struct {
	At time.Time `json:"at"`
}

// Unpublished takes a product back to draft.
type Unpublished struct {
	At time.Time `json:"at"`
}

// Archived withdraws a product (kept for past orders and history).
type Archived struct {
	At time.Time `json:"at"`
}

// VariantAdded adds a variant to a product.
type VariantAdded struct {
	Variant         VariantID       `json:"variant_id"`
	SKU             SKU             `json:"sku"`
	Title           string          `json:"title"`
	Options         []Option        `json:"options"`
	FulfillmentType FulfillmentType `json:"fulfillment_type"`
	Price           money.Money     `json:"price"`
	CompareAtPrice  *money.Money    `json:"compare_at_price"`
	TaxRate         TaxRate         `json:"tax_rate"`
	Status          VariantStatus   `json:"status"`
	IsHot           bool            `json:"is_hot"`
	At              time.Time       `json:"at"`
}

// VariantUpdated changes a variant; only the changed fields are set.
type VariantUpdated struct {
	Variant         VariantID        `json:"variant_id"`
	SKU             *SKU             `json:"sku,omitempty"`
	Title           *string          `json:"title,omitempty"`
	Options         *[]Option        `json:"options,omitempty"`
	FulfillmentType *FulfillmentType `json:"fulfillment_type,omitempty"`
	TaxRate         *TaxRate         `json:"tax_rate,omitempty"`
	Status          *VariantStatus   `json:"status,omitempty"`
	IsHot           *bool            `json:"is_hot,omitempty"`
	At              time.Time        `json:"at"`
}

// PriceUpdated changes a variant's price and compare-at price.
type PriceUpdated struct {
	Variant        VariantID    `json:"variant_id"`
	Price          money.Money  `json:"price"`
	CompareAtPrice *money.Money `json:"compare_at_price"`
	At             time.Time    `json:"at"`
}

// CategoryCreated creates a category.
type CategoryCreated struct {
	ID       CategoryID  `json:"id"`
	Name     string      `json:"name"`
	Handle   string      `json:"handle"`
	Parent   *CategoryID `json:"parent_id"`
	Position int         `json:"position"`
	At       time.Time   `json:"at"`
}

// CategoryUpdated changes a category (all fields as they are now).
type CategoryUpdated struct {
	Name     string      `json:"name"`
	Handle   string      `json:"handle"`
	Parent   *CategoryID `json:"parent_id"`
	Position int         `json:"position"`
	At       time.Time   `json:"at"`
}

// EventName implements aggregate.Event.
func (ProductCreated) EventName() string { return "product.created.v1" }

// EventName implements aggregate.Event.
func (ProductUpdated) EventName() string { return "product.updated.v1" }

// EventName implements aggregate.Event.
func (Published) EventName() string { return "product.published.v1" }

// EventName implements aggregate.Event.
func (Unpublished) EventName() string { return "product.unpublished.v1" }

// EventName implements aggregate.Event.
func (Archived) EventName() string { return "product.archived.v1" }

// EventName implements aggregate.Event.
func (VariantAdded) EventName() string { return "variant.added.v1" }

// EventName implements aggregate.Event.
func (VariantUpdated) EventName() string { return "variant.updated.v1" }

// EventName implements aggregate.Event.
func (PriceUpdated) EventName() string { return "price.updated.v1" }

// EventName implements aggregate.Event.
func (CategoryCreated) EventName() string { return "category.created.v1" }

// EventName implements aggregate.Event.
func (CategoryUpdated) EventName() string { return "category.updated.v1" }

// Events lists the catalog events for the registry.
var Events = []aggregate.Event{ProductCreated{}, ProductUpdated{}, Published{}, Unpublished{}, Archived{},
	VariantAdded{}, VariantUpdated{}, PriceUpdated{}, CategoryCreated{}, CategoryUpdated{}}
