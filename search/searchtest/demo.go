package searchtest

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/inventory"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/demo"
)

// LoadDemo appends the demo catalog (internal/demo, as `honten demo`
// generates it) to the shop as events: the demo category tree, every
// product with its variants, published when active, and each variant's
// stock over both demo locations. It is the fast path for tests; the
// events are those the catalog commands record.
func (s *Shop) LoadDemo(ctx context.Context, products []demo.Product) error {
	vid, err := s.vendor(ctx, demo.ShopName)
	if err != nil {
		return err
	}
	byHandle := map[string]uuid.UUID{}
	for _, c := range demo.Categories {
		id := uuid.Must(uuid.NewV7())
		var parent *catalog.CategoryID
		if c.Parent != "" {
			p := catalog.CategoryID{UUID: byHandle[c.Parent]}
			parent = &p
		}
		byHandle[c.Handle] = id
		s.Categories[c.Handle] = id
		if err := s.Append(ctx, catalog.CategoryStream, id, catalog.CategoryCreated{ID: catalog.CategoryID{UUID: id},
			Name: c.Name, Handle: c.Handle, Parent: parent, At: s.clock}); err != nil {
			return err
		}
	}
	for _, p := range products {
		s.clock = s.clock.Add(time.Minute)
		pid := uuid.Must(uuid.NewV7())
		s.Products[p.Handle] = pid
		cats := make([]catalog.CategoryID, len(p.Categories))
		for i, h := range p.Categories {
			cats[i] = catalog.CategoryID{UUID: byHandle[h]}
		}
		evs := []eventstore.Event{catalog.ProductCreated{ID: catalog.ProductID{UUID: pid}, Vendor: vid, Title: p.Title, Handle: p.Handle,
			Description: p.Description, Categories: cats, Locations: []uuid.UUID{}, Status: catalog.ProductDraft, At: s.clock}}
		var stock []eventstore.Event
		var stockIDs []uuid.UUID
		for _, v := range p.Variants {
			id := uuid.Must(uuid.NewV7())
			s.Variants[v.SKU] = id
			ft := catalog.FulfillmentPhysical
			if v.Digital {
				ft = catalog.FulfillmentDigital
			}
			var opts []catalog.Option
			for _, o := range v.Options {
				opts = append(opts, catalog.Option{Name: o[0], Value: o[1]})
			}
			evs = append(evs, catalog.VariantAdded{Variant: catalog.VariantID{UUID: id}, SKU: catalog.SKU(v.SKU), Title: v.Title,
				Options: opts, FulfillmentType: ft, Price: money.MustNew(decimal.NewFromInt(v.Price), money.JPY),
				TaxRate: catalog.TaxRate(v.TaxRate), Status: catalog.VariantActive, IsHot: v.Hot, At: s.clock})
			if !v.Digital {
				n := v.Stock[0] + v.Stock[1]
				stock = append(stock, inventory.Adjusted{Location: s.location, Delta: n, OnHand: n, Reason: "demo", Available: n, At: s.clock})
				stockIDs = append(stockIDs, id)
			}
		}
		if p.Status == "active" {
			evs = append(evs, catalog.Published{At: s.clock})
		}
		// One transaction per product: the product, then its variants' stock.
		res, err := s.Store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
			md := eventstore.Metadata{Tenant: s.Tenant, Actor: "searchtest"}
			if _, err := tx.Append(ctx, eventstore.Stream{Tenant: s.Tenant, Type: catalog.ProductStream, ID: pid}, 0, evs, md); err != nil {
				return err
			}
			for i, e := range stock {
				if _, err := tx.Append(ctx, eventstore.Stream{Tenant: s.Tenant, Type: inventory.StreamType, ID: stockIDs[i]}, 0, []eventstore.Event{e}, md); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("demo product %s: %w", p.Handle, err)
		}
		s.versions[pid] = int64(len(evs))
		for _, id := range stockIDs {
			s.versions[id] = 1
		}
		s.Last = res.Last
	}
	return nil
}
