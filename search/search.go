package search

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/tenant"
)

// Index answers storefront searches over one tenant's published products.
type Index interface {
	// Search runs q over tenant t's documents. It returns ErrUnavailable
	// when the backend cannot be reached and the query's own validation
	// errors (Invalid) for a Query that Validate rejects.
	Search(ctx context.Context, t tenant.ID, q Query) (Result, error)
}

// Sink receives the documents a sync consumer derived from the event log:
// the Meilisearch adapter implements it. Writes are idempotent (upsert by
// document id, delete by id).
type Sink interface {
	// Upsert adds or replaces documents.
	Upsert(ctx context.Context, docs []Document) error
	// Delete removes documents (unknown ids are ignored).
	Delete(ctx context.Context, keys []Key) error
}

// Key names one document: a tenant's product.
type Key struct {
	Tenant tenant.ID
	ID     uuid.UUID
}

// Sort orders the hits.
type Sort string

// The sorts of the storefront API.
const (
	SortRelevance Sort = "relevance" // best match first; newest first without text
	SortPriceAsc  Sort = "price_asc" // lowest "from" price (price_min) first
	SortPriceDesc Sort = "price_desc"
	SortNewest    Sort = "newest" // created_at, newest first
)

// Paging limits: offset paging stops at MaxDepth hits, like Meilisearch's
// maxTotalHits.
const (
	DefaultLimit = 20
	MaxLimit     = 100
	MaxDepth     = 1000
	// MaxQueryRunes bounds the text of a query; MaxQueryTokens words of it are used.
	MaxQueryRunes  = 1000
	MaxQueryTokens = 10
	// MaxFilterValues bounds the values of one filter parameter.
	MaxFilterValues = 50
)

// Query is one storefront search.
type Query struct {
	// Text is what the shopper typed; empty browses.
	Text string
	// Categories keeps products in any of these categories (or their
	// subcategories); empty means all.
	Categories []uuid.UUID
	// Vendors keeps products of any of these vendors; empty means all.
	Vendors []uuid.UUID
	// PriceMin and PriceMax bound the product's "from" price (its lowest
	// variant price), in major units, inclusive; nil means unbounded.
	PriceMin, PriceMax *decimal.Decimal
	// InStock keeps products with an available variant.
	InStock bool
	Sort    Sort
	// Limit and Offset page the hits; Offset+Limit is capped at MaxDepth.
	Limit, Offset int
}

// Result is one page of hits with facet counts.
type Result struct {
	Hits   []Hit  `json:"hits"`
	Facets Facets `json:"facets"`
	// Total counts every match (exact; not capped at MaxDepth).
	Total  int   `json:"total"`
	TookMS int64 `json:"took_ms"`
}

// Hit is a product as search results show it.
type Hit struct {
	ID         uuid.UUID   `json:"id"`
	Handle     string      `json:"handle"`
	Title      string      `json:"title"`
	Vendor     Ref         `json:"vendor"`
	Categories []Ref       `json:"categories"`
	SKUs       []string    `json:"skus"`
	PriceMin   money.Money `json:"price_min"`
	PriceMax   money.Money `json:"price_max"`
	Available  int64       `json:"available"`
	InStock    bool        `json:"in_stock"`
	CreatedAt  time.Time   `json:"created_at"`
}

// Ref names a vendor or category.
type Ref struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
}

// Facets are disjunctive counts: each facet counts the matches under every
// filter but its own, so a storefront can offer the other values of a
// facet the shopper already narrowed.
type Facets struct {
	Category map[string]FacetValue `json:"category"`
	Vendor   map[string]FacetValue `json:"vendor"`
	Price    PriceFacet            `json:"price"`
	InStock  map[string]int        `json:"in_stock"`
}

// FacetValue is one value of a facet: a category or vendor id's name and count.
type FacetValue struct {
	Label string `json:"label"`
	Count int    `json:"count"`
}

// PriceFacet gives the price ranges with counts and the lowest and highest
// "from" price among the matches (without the price filter).
type PriceFacet struct {
	Min    *decimal.Decimal `json:"min"`
	Max    *decimal.Decimal `json:"max"`
	Ranges []PriceRange     `json:"ranges"`
}

// PriceRange is one bucket of the price facet: From ≤ price_min < To.
type PriceRange struct {
	Key   string           `json:"key"`
	From  decimal.Decimal  `json:"from"`
	To    *decimal.Decimal `json:"to"`
	Count int              `json:"count"`
}

// priceBounds are the lower bounds of the price buckets, in major units.
var priceBounds = []int64{0, 1000, 5000, 10000, 30000}

// priceFroms are priceBounds as decimals and priceKeys the buckets' keys,
// made once: every result's facets and every indexed document use them.
// Decimals are immutable, so results can share them.
var priceFroms, priceKeys = func() ([]decimal.Decimal, []string) {
	froms := make([]decimal.Decimal, len(priceBounds))
	for i, b := range priceBounds {
		froms[i] = decimal.NewFromInt(b)
	}
	keys := make([]string, len(froms))
	for i, from := range froms {
		keys[i] = from.String() + "-"
		if i+1 < len(froms) {
			keys[i] += froms[i+1].String()
		}
	}
	return froms, keys
}()

// PriceBuckets returns the bucket keys in order ("0-1000", …, "30000-").
func PriceBuckets() []string { return slices.Clone(priceKeys) }

// PriceBucket returns the key of the bucket an amount falls in.
func PriceBucket(amount decimal.Decimal) string {
	for i := len(priceFroms) - 1; i > 0; i-- {
		if amount.GreaterThanOrEqual(priceFroms[i]) {
			return priceKeys[i]
		}
	}
	return priceKeys[0]
}

// NewFacets returns empty facets with every price range at zero.
func NewFacets() Facets {
	f := Facets{Category: map[string]FacetValue{}, Vendor: map[string]FacetValue{}, InStock: map[string]int{}}
	f.Price.Ranges = make([]PriceRange, len(priceFroms))
	for i, from := range priceFroms {
		f.Price.Ranges[i] = PriceRange{Key: priceKeys[i], From: from}
		if i+1 < len(priceFroms) {
			to := priceFroms[i+1]
			f.Price.Ranges[i].To = &to
		}
	}
	return f
}

// AddPriceCount adds n to the range with key; unknown keys are ignored.
func (f *Facets) AddPriceCount(key string, n int) {
	for i := range f.Price.Ranges {
		if f.Price.Ranges[i].Key == key {
			f.Price.Ranges[i].Count += n
		}
	}
}
