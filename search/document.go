package search

import (
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/search/reading"
	"github.com/honten/honten/search/textnorm"
)

// Document is one published product as every backend indexes it. The
// search_documents projection builds it from events only, so a replay
// builds the same documents.
type Document struct {
	Tenant      tenant.ID `json:"tenant_id"`
	ID          uuid.UUID `json:"id"`
	Handle      string    `json:"handle"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Vendor      Ref       `json:"vendor"`
	// Categories are the product's own categories, for display.
	Categories []Ref `json:"categories"`
	// AllCategories are the product's categories and all their ancestors,
	// for filtering and facets: a product under 腕時計 is found under 時計 too.
	AllCategories []Ref    `json:"all_categories"`
	SKUs          []string `json:"skus"`
	// Variants holds variant titles and option values ("M", "ブラック").
	Variants  []string    `json:"variants"`
	PriceMin  money.Money `json:"price_min"`
	PriceMax  money.Money `json:"price_max"`
	Available int64       `json:"available"`
	InStock   bool        `json:"in_stock"`
	CreatedAt time.Time   `json:"created_at"`
	// Version is the product stream's version the document reflects.
	Version int64 `json:"stream_version"`
	// Reading is the folded reading of the title and the category names
	// (search/reading), fields separated by " | ": what a query in kana
	// matches besides the surface text. Empty when readings are off.
	Reading string `json:"reading"`
	// ReadingWords are the whole words of the title, surfaces and
	// readings, folded: a query equal to one of them names the product
	// rather than part of a longer word or its category.
	ReadingWords []string `json:"reading_words"`
}

// AddReadings sets Reading and ReadingWords from the title and category
// names. It loads the shared analyzer on first use (search/reading).
func (d *Document) AddReadings() {
	parts := []string{d.Title}
	for _, c := range d.Categories {
		parts = append(parts, c.Name)
	}
	rs := make([]string, len(parts))
	for i, p := range parts {
		r := reading.Of(p)
		rs[i] = r.Reading
		if i == 0 {
			d.ReadingWords = slices.Clone(r.Words)
		}
	}
	d.Reading = strings.Join(rs, " | ")
	if d.ReadingWords == nil {
		d.ReadingWords = []string{}
	}
}

// Hit returns the document as a search result.
func (d Document) Hit() Hit {
	cats := d.Categories
	if cats == nil {
		cats = []Ref{}
	}
	skus := d.SKUs
	if skus == nil {
		skus = []string{}
	}
	return Hit{ID: d.ID, Handle: d.Handle, Title: d.Title, Vendor: d.Vendor, Categories: cats, SKUs: skus,
		PriceMin: d.PriceMin, PriceMax: d.PriceMax, Available: d.Available, InStock: d.InStock, CreatedAt: d.CreatedAt}
}

// TitleText is the normalised title.
func (d Document) TitleText() string { return textnorm.Normalize(d.Title) }

// CategoryIDs returns the ids of AllCategories.
func (d Document) CategoryIDs() []uuid.UUID {
	out := make([]uuid.UUID, len(d.AllCategories))
	for i, c := range d.AllCategories {
		out[i] = c.ID
	}
	return out
}

// MatchText is the normalised text that queries match, field by field
// (title, vendor, category names, variant titles and options, SKUs),
// separated so that no token spans two fields. The description is left
// out: it is matched by words only (DescriptionText).
func (d Document) MatchText() string {
	parts := []string{d.Title, d.Vendor.Name}
	for _, c := range d.Categories {
		parts = append(parts, c.Name)
	}
	parts = append(parts, d.Variants...)
	parts = append(parts, d.SKUs...)
	return textnorm.Normalize(strings.Join(parts, " | "))
}

// DescriptionText is the normalised description.
func (d Document) DescriptionText() string { return textnorm.Normalize(d.Description) }

// QueryTokens returns the words of normalised query text that a search
// matches: its tokens (textnorm.Tokens), the first MaxQueryTokens of them.
func QueryTokens(norm string) []string {
	toks := textnorm.Tokens(norm)
	if len(toks) > MaxQueryTokens {
		toks = toks[:MaxQueryTokens]
	}
	return toks
}

// Words returns the distinct non-CJK words of s (normalised text), the
// vocabulary of word search and typo correction.
func Words(s string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range textnorm.Tokens(s) {
		if textnorm.IsCJK(t) || seen[t] {
			continue
		}
		seen[t] = true
		out = append(out, t)
	}
	return out
}
