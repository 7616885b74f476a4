package searchdocs

import (
	"slices"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/search"
)

// category is one node of a tenant's category tree.
type category struct {
	Name   string
	Parent uuid.UUID // uuid.Nil for a root
}

// buildDocument returns the search document of p, and false when p is not
// searchable (not active). stock gives each variant's available units,
// cats the tenant's category tree, vendorName the vendor's name.
func buildDocument(t tenant.ID, p *product, stock func(uuid.UUID) int64, cats map[uuid.UUID]category, vendorName string) (search.Document, bool) {
	if p.Status != catalog.ProductActive {
		return search.Document{}, false
	}
	d := search.Document{Tenant: t, ID: p.ID, Handle: p.Handle, Title: p.Title, Description: p.Description,
		Vendor: search.Ref{ID: p.Vendor, Name: vendorName}, Categories: []search.Ref{}, AllCategories: []search.Ref{},
		SKUs: []string{}, Variants: []string{}, CreatedAt: p.CreatedAt, Version: p.Version}
	for _, c := range p.Categories {
		d.Categories = append(d.Categories, search.Ref{ID: c, Name: cats[c].Name})
		// The category and its ancestors (bounded: the tree is shallow, and a
		// cycle in bad data must not loop).
		for id, depth := c, 0; id != uuid.Nil && depth < 8; id, depth = cats[id].Parent, depth+1 {
			if !slices.ContainsFunc(d.AllCategories, func(r search.Ref) bool { return r.ID == id }) {
				d.AllCategories = append(d.AllCategories, search.Ref{ID: id, Name: cats[id].Name})
			}
		}
	}
	var lo, hi money.Money
	for _, v := range p.Variants {
		if v.Status != catalog.VariantActive {
			continue
		}
		d.SKUs = append(d.SKUs, v.SKU)
		if v.Title != "" && v.Title != "Default" {
			d.Variants = append(d.Variants, v.Title)
		}
		for _, o := range v.Options {
			if !slices.Contains(d.Variants, o.Value) {
				d.Variants = append(d.Variants, o.Value)
			}
		}
		if v.Fulfillment == catalog.FulfillmentDigital {
			d.InStock = true
		} else if n := stock(v.ID); n > 0 {
			d.Available += n
			d.InStock = true
		}
		if v.Price.Currency() == "" {
			continue
		}
		if lo.Currency() == "" || less(v.Price, lo) {
			lo = v.Price
		}
		if hi.Currency() == "" || less(hi, v.Price) {
			hi = v.Price
		}
	}
	d.PriceMin, d.PriceMax = lo, hi
	return d, true
}

// less compares two prices; prices of another currency never compare less.
func less(a, b money.Money) bool {
	c, err := a.Cmp(b)
	return err == nil && c < 0
}
