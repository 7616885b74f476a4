package searchdocs

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/inventory"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/domain/vendor"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/search"
)

// payloadTypes are the events whose payloads the fold reads.
func payloadTypes() []string {
	return projections.EventNames(catalog.Events, inventory.Events, vendor.Events)
}

// key names a tenant's entity (product, variant, vendor).
type key struct {
	T  uuid.UUID
	ID uuid.UUID
}

// change is a product whose document must be rewritten: Doc when Active,
// else removed.
type change struct {
	Key    key
	Doc    search.Document
	Active bool
	// StockOnly means that the batch moved only the stock of the product's
	// variants: the document differs from the stored one at most in
	// Available and InStock.
	StockOnly bool
}

// docWriter stores the changed documents: rows (search_documents) or a
// Meilisearch push. It runs inside the batch's transaction.
type docWriter interface {
	write(ctx context.Context, tx pgx.Tx, changes []change) error
}

// decoded is one event of the batch the fold cares about.
type decoded struct {
	env eventstore.Envelope
	ev  eventstore.Event
}

// state is the part of the folded catalog a batch touches.
type state struct {
	products   map[key]*product
	owner      map[key]uuid.UUID // variant → product
	stock      map[key]int64     // variant → available
	categories map[uuid.UUID]map[uuid.UUID]category
	vendors    map[key]string

	savedProducts map[key]bool // product rows to write back
	newVariants   map[key]uuid.UUID
	savedStock    map[key]bool
	savedCats     map[key]bool
	savedVendors  map[key]bool
	dirty         map[key]bool // products whose document must be rebuilt
	full          map[key]bool // dirty products changed by more than stock
}

// applyBatch folds a batch into the state tables and hands the changed
// documents to w, with their readings unless readings is false.
func applyBatch(ctx context.Context, tx pgx.Tx, reg *eventstore.Registry, batch []eventstore.Envelope, w docWriter, readings bool) error {
	var evs []decoded
	for _, env := range batch {
		switch env.StreamType {
		case catalog.ProductStream, catalog.CategoryStream, inventory.StreamType, vendor.StreamType:
		default:
			continue
		}
		if !reg.Known(env.Type) {
			continue
		}
		ev, err := reg.Decode(env)
		if err != nil {
			return fmt.Errorf("search documents: %w", err)
		}
		evs = append(evs, decoded{env, ev})
	}
	if len(evs) == 0 {
		return nil
	}
	s := &state{products: map[key]*product{}, owner: map[key]uuid.UUID{}, stock: map[key]int64{},
		categories: map[uuid.UUID]map[uuid.UUID]category{}, vendors: map[key]string{},
		savedProducts: map[key]bool{}, newVariants: map[key]uuid.UUID{}, savedStock: map[key]bool{},
		savedCats: map[key]bool{}, savedVendors: map[key]bool{}, dirty: map[key]bool{}, full: map[key]bool{}}

	// Load what the events touch.
	var productKeys, variantKeys []key
	tenants := map[uuid.UUID]bool{}
	for _, d := range evs {
		k := key{d.env.Tenant.UUID, d.env.StreamID}
		switch d.env.StreamType {
		case catalog.ProductStream:
			productKeys = append(productKeys, k)
			tenants[k.T] = true
		case inventory.StreamType:
			variantKeys = append(variantKeys, k)
		case catalog.CategoryStream:
			tenants[k.T] = true
		}
	}
	if err := s.loadOwners(ctx, tx, variantKeys); err != nil {
		return err
	}
	for _, vk := range variantKeys {
		if p, ok := s.owner[vk]; ok {
			productKeys = append(productKeys, key{vk.T, p})
			tenants[vk.T] = true
		}
	}
	if err := s.loadProducts(ctx, tx, productKeys); err != nil {
		return err
	}
	if err := s.loadCategories(ctx, tx, tenants); err != nil {
		return err
	}

	// Fold, in global order.
	changedCats := map[uuid.UUID][]uuid.UUID{} // tenant → categories changed
	var changedVendors []key
	for _, d := range evs {
		t, id := d.env.Tenant.UUID, d.env.StreamID
		k := key{t, id}
		switch e := d.ev.(type) {
		case catalog.CategoryCreated:
			s.categories[t][id] = category{Name: e.Name, Parent: parentID(e.Parent)}
			s.savedCats[k] = true
			changedCats[t] = append(changedCats[t], id)
		case catalog.CategoryUpdated:
			s.categories[t][id] = category{Name: e.Name, Parent: parentID(e.Parent)}
			s.savedCats[k] = true
			changedCats[t] = append(changedCats[t], id)
		case vendor.Created:
			s.vendors[k] = e.Name
			s.savedVendors[k] = true
			changedVendors = append(changedVendors, k)
		case vendor.Updated:
			s.vendors[k] = e.Name
			s.savedVendors[k] = true
			changedVendors = append(changedVendors, k)
		default:
			switch d.env.StreamType {
			case catalog.ProductStream:
				p := s.products[k]
				if p == nil {
					p = &product{ID: id}
					s.products[k] = p
				}
				foldProduct(p, d.env, d.ev)
				if va, ok := d.ev.(catalog.VariantAdded); ok {
					vk := key{t, va.Variant.UUID}
					s.owner[vk] = id
					s.newVariants[vk] = id
				}
				s.savedProducts[k] = true
				s.dirty[k] = true
				s.full[k] = true
			case inventory.StreamType:
				if avail, ok := inventory.AvailableAfter(d.ev); ok {
					s.stock[k] = avail
					s.savedStock[k] = true
					if p, ok := s.owner[k]; ok {
						s.dirty[key{t, p}] = true
					}
				}
			}
		}
	}

	// Renamed or moved categories and renamed vendors change the documents
	// of every product under them.
	if err := s.touchReferrers(ctx, tx, changedCats, changedVendors); err != nil {
		return err
	}
	if err := s.loadStockAndVendors(ctx, tx); err != nil {
		return err
	}
	if err := s.save(ctx, tx); err != nil {
		return err
	}

	dirty := make([]key, 0, len(s.dirty))
	for k := range s.dirty {
		dirty = append(dirty, k)
	}
	sortKeys(dirty)
	changes := make([]change, 0, len(dirty))
	for _, k := range dirty {
		p := s.products[k]
		if p == nil {
			continue
		}
		doc, active := buildDocument(tenant.ID{UUID: k.T}, p,
			func(v uuid.UUID) int64 { return s.stock[key{k.T, v}] },
			s.categories[k.T], s.vendors[key{k.T, p.Vendor}])
		if active && readings {
			doc.AddReadings()
		}
		changes = append(changes, change{Key: k, Doc: doc, Active: active, StockOnly: !s.full[k]})
	}
	return w.write(ctx, tx, changes)
}

func parentID(p *catalog.CategoryID) uuid.UUID {
	if p == nil {
		return uuid.Nil
	}
	return p.UUID
}

func sortKeys(ks []key) {
	sort.Slice(ks, func(i, j int) bool {
		if ks[i].T != ks[j].T {
			return ks[i].T.String() < ks[j].T.String()
		}
		return ks[i].ID.String() < ks[j].ID.String()
	})
}

func splitKeys(ks []key) ([]uuid.UUID, []uuid.UUID) {
	ts := make([]uuid.UUID, len(ks))
	ids := make([]uuid.UUID, len(ks))
	for i, k := range ks {
		ts[i], ids[i] = k.T, k.ID
	}
	return ts, ids
}

func (s *state) loadOwners(ctx context.Context, tx pgx.Tx, vks []key) error {
	if len(vks) == 0 {
		return nil
	}
	const q = `SELECT v.tenant_id, v.variant_id, v.product_id FROM search_variants v
JOIN unnest($1::uuid[], $2::uuid[]) AS k(t, id) ON v.tenant_id = k.t AND v.variant_id = k.id`
	ts, ids := splitKeys(vks)
	rows, err := tx.Query(ctx, q, ts, ids)
	if err != nil {
		return fmt.Errorf("search documents: load variants: %w", err)
	}
	var k key
	var p uuid.UUID
	_, err = pgx.ForEachRow(rows, []any{&k.T, &k.ID, &p}, func() error {
		s.owner[k] = p
		return nil
	})
	if err != nil {
		return fmt.Errorf("search documents: load variants: %w", err)
	}
	return nil
}

// loadProducts reads the stored state of the products not in memory yet.
func (s *state) loadProducts(ctx context.Context, tx pgx.Tx, pks []key) error {
	var missing []key
	seen := map[key]bool{}
	for _, k := range pks {
		if _, ok := s.products[k]; !ok && !seen[k] {
			seen[k] = true
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	const q = `SELECT p.tenant_id, p.id, p.state FROM search_products p
JOIN unnest($1::uuid[], $2::uuid[]) AS k(t, id) ON p.tenant_id = k.t AND p.id = k.id`
	ts, ids := splitKeys(missing)
	rows, err := tx.Query(ctx, q, ts, ids)
	if err != nil {
		return fmt.Errorf("search documents: load products: %w", err)
	}
	var k key
	var raw []byte
	_, err = pgx.ForEachRow(rows, []any{&k.T, &k.ID, &raw}, func() error {
		p := &product{}
		if err := json.Unmarshal(raw, p); err != nil {
			return err
		}
		s.products[k] = p
		for _, v := range p.Variants {
			s.owner[key{k.T, v.ID}] = k.ID
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("search documents: load products: %w", err)
	}
	return nil
}

func (s *state) loadCategories(ctx context.Context, tx pgx.Tx, tenants map[uuid.UUID]bool) error {
	var ts []uuid.UUID
	for t := range tenants {
		if _, ok := s.categories[t]; !ok {
			ts = append(ts, t)
			s.categories[t] = map[uuid.UUID]category{}
		}
	}
	if len(ts) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT tenant_id, id, name, parent_id FROM search_categories WHERE tenant_id = ANY($1)`, ts)
	if err != nil {
		return fmt.Errorf("search documents: load categories: %w", err)
	}
	var t, id uuid.UUID
	var name string
	var parent *uuid.UUID
	_, err = pgx.ForEachRow(rows, []any{&t, &id, &name, &parent}, func() error {
		c := category{Name: name}
		if parent != nil {
			c.Parent = *parent
		}
		s.categories[t][id] = c
		return nil
	})
	if err != nil {
		return fmt.Errorf("search documents: load categories: %w", err)
	}
	return nil
}

// touchReferrers marks dirty every product under a changed category (or a
// descendant of one) or of a renamed vendor, loading it when needed.
func (s *state) touchReferrers(ctx context.Context, tx pgx.Tx, cats map[uuid.UUID][]uuid.UUID, vendors []key) error {
	var refs []key
	for t, changed := range cats {
		tree := s.categories[t]
		var affected []uuid.UUID
		for id := range tree {
			for a, depth := id, 0; a != uuid.Nil && depth < 8; a, depth = tree[a].Parent, depth+1 {
				if slices.Contains(changed, a) {
					affected = append(affected, id)
					break
				}
			}
		}
		rows, err := tx.Query(ctx, `SELECT id FROM search_products WHERE tenant_id = $1 AND category_ids && $2`, t, affected)
		if err != nil {
			return fmt.Errorf("search documents: products of categories: %w", err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil {
			return fmt.Errorf("search documents: products of categories: %w", err)
		}
		for _, id := range ids {
			refs = append(refs, key{t, id})
		}
		for k, p := range s.products {
			if k.T == t && slices.ContainsFunc(p.Categories, func(c uuid.UUID) bool { return slices.Contains(affected, c) }) {
				s.dirty[k] = true
				s.full[k] = true
			}
		}
	}
	if len(vendors) > 0 {
		ts, ids := splitKeys(vendors)
		rows, err := tx.Query(ctx, `SELECT p.tenant_id, p.id FROM search_products p
JOIN unnest($1::uuid[], $2::uuid[]) AS k(t, id) ON p.tenant_id = k.t AND p.vendor_id = k.id`, ts, ids)
		if err != nil {
			return fmt.Errorf("search documents: products of vendors: %w", err)
		}
		var k key
		if _, err := pgx.ForEachRow(rows, []any{&k.T, &k.ID}, func() error { refs = append(refs, k); return nil }); err != nil {
			return fmt.Errorf("search documents: products of vendors: %w", err)
		}
		for k, p := range s.products {
			if slices.Contains(vendors, key{k.T, p.Vendor}) {
				s.dirty[k] = true
				s.full[k] = true
			}
		}
	}
	if err := s.loadProducts(ctx, tx, refs); err != nil {
		return err
	}
	for _, k := range refs {
		s.dirty[k] = true
		s.full[k] = true
	}
	return nil
}

// loadStockAndVendors reads the availability of the dirty products'
// variants and their vendors' names, where the batch did not set them.
func (s *state) loadStockAndVendors(ctx context.Context, tx pgx.Tx) error {
	var vks, vendorKeys []key
	seenV := map[key]bool{}
	for k := range s.dirty {
		p := s.products[k]
		if p == nil {
			continue
		}
		for _, v := range p.Variants {
			vk := key{k.T, v.ID}
			if _, ok := s.stock[vk]; !ok {
				vks = append(vks, vk)
			}
		}
		vk := key{k.T, p.Vendor}
		if _, ok := s.vendors[vk]; !ok && !seenV[vk] {
			seenV[vk] = true
			vendorKeys = append(vendorKeys, vk)
		}
	}
	if len(vks) > 0 {
		ts, ids := splitKeys(vks)
		rows, err := tx.Query(ctx, `SELECT s.tenant_id, s.variant_id, s.available FROM search_stock s
JOIN unnest($1::uuid[], $2::uuid[]) AS k(t, id) ON s.tenant_id = k.t AND s.variant_id = k.id`, ts, ids)
		if err != nil {
			return fmt.Errorf("search documents: load stock: %w", err)
		}
		var k key
		var n int64
		if _, err := pgx.ForEachRow(rows, []any{&k.T, &k.ID, &n}, func() error { s.stock[k] = n; return nil }); err != nil {
			return fmt.Errorf("search documents: load stock: %w", err)
		}
	}
	if len(vendorKeys) > 0 {
		ts, ids := splitKeys(vendorKeys)
		rows, err := tx.Query(ctx, `SELECT v.tenant_id, v.id, v.name FROM search_vendors v
JOIN unnest($1::uuid[], $2::uuid[]) AS k(t, id) ON v.tenant_id = k.t AND v.id = k.id`, ts, ids)
		if err != nil {
			return fmt.Errorf("search documents: load vendors: %w", err)
		}
		var k key
		var name string
		if _, err := pgx.ForEachRow(rows, []any{&k.T, &k.ID, &name}, func() error { s.vendors[k] = name; return nil }); err != nil {
			return fmt.Errorf("search documents: load vendors: %w", err)
		}
	}
	return nil
}

// save writes the changed state rows back, one statement per table.
func (s *state) save(ctx context.Context, tx pgx.Tx) error {
	b := &pgx.Batch{}
	if len(s.savedProducts) > 0 {
		ks := keysOf(s.savedProducts)
		ts, ids := splitKeys(ks)
		vendors := make([]uuid.UUID, len(ks))
		cats := make([]string, len(ks))
		states := make([]string, len(ks))
		versions := make([]int64, len(ks))
		for i, k := range ks {
			p := s.products[k]
			raw, err := json.Marshal(p)
			if err != nil {
				return err
			}
			vendors[i], cats[i], states[i], versions[i] = p.Vendor, uuidList(p.Categories), string(raw), p.Version
		}
		b.Queue(`INSERT INTO search_products (tenant_id, id, vendor_id, category_ids, state, version)
SELECT t, id, v, string_to_array(c, ',')::uuid[], s, ver
FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::jsonb[], $6::bigint[]) AS u(t, id, v, c, s, ver)
ON CONFLICT (tenant_id, id) DO UPDATE SET vendor_id = EXCLUDED.vendor_id, category_ids = EXCLUDED.category_ids,
    state = EXCLUDED.state, version = EXCLUDED.version`, ts, ids, vendors, cats, states, versions)
	}
	if len(s.newVariants) > 0 {
		ks := make([]key, 0, len(s.newVariants))
		for k := range s.newVariants {
			ks = append(ks, k)
		}
		sortKeys(ks)
		ts, ids := splitKeys(ks)
		ps := make([]uuid.UUID, len(ks))
		for i, k := range ks {
			ps[i] = s.newVariants[k]
		}
		b.Queue(`INSERT INTO search_variants (tenant_id, variant_id, product_id)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[]) ON CONFLICT (tenant_id, variant_id) DO NOTHING`, ts, ids, ps)
	}
	if len(s.savedStock) > 0 {
		ks := keysOf(s.savedStock)
		ts, ids := splitKeys(ks)
		ns := make([]int64, len(ks))
		for i, k := range ks {
			ns[i] = s.stock[k]
		}
		b.Queue(`INSERT INTO search_stock (tenant_id, variant_id, available)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bigint[])
ON CONFLICT (tenant_id, variant_id) DO UPDATE SET available = EXCLUDED.available
WHERE search_stock.available IS DISTINCT FROM EXCLUDED.available`, ts, ids, ns)
	}
	if len(s.savedCats) > 0 {
		ks := keysOf(s.savedCats)
		ts, ids := splitKeys(ks)
		names := make([]string, len(ks))
		parents := make([]*uuid.UUID, len(ks))
		for i, k := range ks {
			c := s.categories[k.T][k.ID]
			names[i] = c.Name
			if c.Parent != uuid.Nil {
				p := c.Parent
				parents[i] = &p
			}
		}
		b.Queue(`INSERT INTO search_categories (tenant_id, id, name, parent_id)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[])
ON CONFLICT (tenant_id, id) DO UPDATE SET name = EXCLUDED.name, parent_id = EXCLUDED.parent_id`, ts, ids, names, parents)
	}
	if len(s.savedVendors) > 0 {
		ks := keysOf(s.savedVendors)
		ts, ids := splitKeys(ks)
		names := make([]string, len(ks))
		for i, k := range ks {
			names[i] = s.vendors[k]
		}
		b.Queue(`INSERT INTO search_vendors (tenant_id, id, name)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[])
ON CONFLICT (tenant_id, id) DO UPDATE SET name = EXCLUDED.name`, ts, ids, names)
	}
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("search documents: save state: %w", err)
	}
	return nil
}

func keysOf(m map[key]bool) []key {
	out := make([]key, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sortKeys(out)
	return out
}

func uuidList(ids []uuid.UUID) string {
	b := make([]byte, 0, len(ids)*37)
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, id.String()...)
	}
	return string(b)
}
