package searchdocs

import (
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/eventstore"
)

// product is the folded state of one product stream: what its documents
// are built from. It is stored as JSON in search_products.
type product struct {
	ID          uuid.UUID             `json:"id"`
	Vendor      uuid.UUID             `json:"vendor_id"`
	Title       string                `json:"title"`
	Handle      string                `json:"handle"`
	Description string                `json:"description"`
	Categories  []uuid.UUID           `json:"categories"`
	Status      catalog.ProductStatus `json:"status"`
	CreatedAt   time.Time             `json:"created_at"`
	Variants    []variant             `json:"variants"`
	Version     int64                 `json:"version"`
}

type variant struct {
	ID          uuid.UUID               `json:"id"`
	SKU         string                  `json:"sku"`
	Title       string                  `json:"title"`
	Options     []catalog.Option        `json:"options"`
	Fulfillment catalog.FulfillmentType `json:"fulfillment_type"`
	Price       money.Money             `json:"price"`
	Status      catalog.VariantStatus   `json:"status"`
}

// foldProduct applies one product event to p. It never fails: unknown
// events and variants are ignored.
func foldProduct(p *product, env eventstore.Envelope, ev eventstore.Event) {
	p.ID = env.StreamID
	if env.Version > p.Version {
		p.Version = env.Version
	}
	switch e := ev.(type) {
	case catalog.ProductCreated:
		p.Vendor, p.Title, p.Handle, p.Description = e.Vendor, e.Title, e.Handle, e.Description
		p.Categories = categoryIDs(e.Categories)
		p.Status, p.CreatedAt = e.Status, e.At.UTC()
	case catalog.ProductUpdated:
		if e.Title != nil {
			p.Title = *e.Title
		}
		if e.Handle != nil {
			p.Handle = *e.Handle
		}
		if e.Description != nil {
			p.Description = *e.Description
		}
		if e.Categories != nil {
			p.Categories = categoryIDs(*e.Categories)
		}
	case catalog.Published:
		p.Status = catalog.ProductActive
	case catalog.Unpublished:
		p.Status = catalog.ProductDraft
	case catalog.Archived:
		p.Status = catalog.ProductArchived
	case catalog.VariantAdded:
		if p.variant(e.Variant.UUID) == nil {
			p.Variants = append(p.Variants, variant{ID: e.Variant.UUID, SKU: string(e.SKU), Title: e.Title,
				Options: e.Options, Fulfillment: e.FulfillmentType, Price: e.Price, Status: e.Status})
		}
	case catalog.VariantUpdated:
		v := p.variant(e.Variant.UUID)
		if v == nil {
			return
		}
		if e.SKU != nil {
			v.SKU = string(*e.SKU)
		}
		if e.Title != nil {
			v.Title = *e.Title
		}
		if e.Options != nil {
			v.Options = *e.Options
		}
		if e.FulfillmentType != nil {
			v.Fulfillment = *e.FulfillmentType
		}
		if e.Status != nil {
			v.Status = *e.Status
		}
	case catalog.PriceUpdated:
		if v := p.variant(e.Variant.UUID); v != nil {
			v.Price = e.Price
		}
	}
}

func (p *product) variant(id uuid.UUID) *variant {
	i := slices.IndexFunc(p.Variants, func(v variant) bool { return v.ID == id })
	if i < 0 {
		return nil
	}
	return &p.Variants[i]
}

func categoryIDs(cs []catalog.CategoryID) []uuid.UUID {
	out := make([]uuid.UUID, 0, len(cs))
	for _, c := range cs {
		if !slices.Contains(out, c.UUID) {
			out = append(out, c.UUID)
		}
	}
	return out
}
