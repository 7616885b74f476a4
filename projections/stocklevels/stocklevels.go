// Package stocklevels is the stock_levels read model: on hand, reserved and
// available for every variant × location, with the variant's SKU, product
// and vendor. The backoffice's inventory screens, the product views and the
// storefront (availability) read it. It must not import http or commands.
//
// It folds every inventory event — adjustments and the life of each
// reservation — and the catalog events that name a variant (its product,
// vendor and SKU). Releases find their location and quantity in a side
// table of live holds keyed by reservation id.
package stocklevels

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/inventory"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/projections"
)

// Name is the projector's frozen name; renaming it rebuilds the model.
const Name = "stock_levels.v2"

// Projector builds stock_levels.
type Projector struct {
	Registry *eventstore.Registry
}

var _ projections.Projector = Projector{}

// Name implements projections.Projector.
func (Projector) Name() string { return Name }

var catalogTypes = []string{
	catalog.ProductCreated{}.EventName(),
	catalog.VariantAdded{}.EventName(),
	catalog.VariantUpdated{}.EventName(),
}

// Schema implements projections.Projector.
func (Projector) Schema() projections.Schema {
	return projections.Schema{
		Tables:       []string{"stock_levels", "stock_levels_variants", "stock_levels_products", "stock_levels_holds"},
		Create:       "rm_stock_levels_v2_create",
		Index:        "rm_stock_levels_v1_index",
		PayloadTypes: append(slices.Clone(catalogTypes), projections.EventNames(inventory.Events)...),
	}
}

// key names an entity (variant, product, reservation) of a tenant.
type key struct{ tenant, id uuid.UUID }

// levelKey names one row of stock_levels.
type levelKey struct{ tenant, variant, location uuid.UUID }

type level struct {
	product, vendor  *uuid.UUID
	sku              string
	onHand, reserved int64
	version          int64
	updatedAt        time.Time
	dirty            bool
}

type variantRow struct {
	product, vendor *uuid.UUID
	sku             string
	// inventoryVersion is the last inventory event that changed a level of
	// the variant: the guard that makes a replayed event a no-op. It is not
	// stored: load takes the highest version among the variant's level rows
	// (every event that changes anything touches a level; one that changes
	// nothing is a no-op when replayed as well).
	inventoryVersion int64
	dirty            bool // product, vendor or SKU changed
}

type productRow struct {
	vendor  *uuid.UUID
	version int64 // the last product event applied
	dirty   bool
}

type hold struct {
	variant, location uuid.UUID
	quantity          int64
	stored            bool // the row exists in the table
}

// fold is the state a batch reads and changes: the rows of every variant,
// product and hold the batch mentions, loaded once, written back once.
type fold struct {
	levels    map[levelKey]*level
	byVariant map[key][]levelKey
	variants  map[key]*variantRow
	products  map[key]*productRow
	holds     map[key]*hold
	dropped   map[key]bool // stored holds that are gone
}

type decoded struct {
	env eventstore.Envelope
	ev  eventstore.Event
}

// Apply implements projections.Projector. It decodes the batch, loads the
// rows it touches, folds the events in memory in feed order, and writes
// back what changed with one statement per table. Each stream's events
// apply only above the version already applied, so replaying a batch
// changes nothing.
func (p Projector) Apply(ctx context.Context, tx pgx.Tx, batch []eventstore.Envelope) error {
	evs := make([]decoded, 0, len(batch))
	variants, products, reservations := map[key]bool{}, map[key]bool{}, map[key]bool{}
	for _, env := range batch {
		switch {
		case env.StreamType == inventory.StreamType:
		case env.StreamType == catalog.ProductStream && slices.Contains(catalogTypes, env.Type):
		default:
			continue
		}
		ev, err := p.Registry.Decode(env)
		if err != nil {
			return fmt.Errorf("stock_levels: %w", err)
		}
		evs = append(evs, decoded{env, ev})
		t := env.Tenant.UUID
		switch e := ev.(type) {
		case catalog.ProductCreated:
			products[key{t, env.StreamID}] = true
		case catalog.VariantAdded:
			products[key{t, env.StreamID}] = true
			variants[key{t, e.Variant.UUID}] = true
		case catalog.VariantUpdated:
			products[key{t, env.StreamID}] = true
			variants[key{t, e.Variant.UUID}] = true
		default:
			variants[key{t, env.StreamID}] = true
			if r, ok := reservationOf(ev); ok {
				reservations[key{t, r}] = true
			}
		}
	}
	if len(evs) == 0 {
		return nil
	}
	f, err := load(ctx, tx, variants, products, reservations)
	if err != nil {
		return fmt.Errorf("stock_levels: load: %w", err)
	}
	for _, d := range evs {
		f.apply(d.env, d.ev)
	}
	if err := f.save(ctx, tx); err != nil {
		return fmt.Errorf("stock_levels: save: %w", err)
	}
	return nil
}

// reservationOf returns the reservation an event releases or changes.
func reservationOf(ev eventstore.Event) (uuid.UUID, bool) {
	switch e := ev.(type) {
	case inventory.Reserved:
		return e.Reservation.UUID, true
	case inventory.Released:
		return e.Reservation.UUID, true
	case inventory.Expired:
		return e.Reservation.UUID, true
	case inventory.AllocationReleased:
		return e.Reservation.UUID, true
	case inventory.AllocationReduced:
		return e.Reservation.UUID, true
	case inventory.Reallocated:
		return e.Reservation.UUID, true
	case inventory.Fulfilled:
		return e.Reservation.UUID, true
	}
	return uuid.Nil, false
}

func (f *fold) apply(env eventstore.Envelope, ev eventstore.Event) {
	t, id, v := env.Tenant.UUID, env.StreamID, env.Version
	switch e := ev.(type) {
	case catalog.ProductCreated:
		pk := key{t, id}
		if f.products[pk] != nil {
			return
		}
		vendor := e.Vendor
		f.products[pk] = &productRow{vendor: &vendor, version: v, dirty: true}
	case catalog.VariantAdded:
		if pr := f.productAt(key{t, id}, v); pr != nil {
			product := id
			f.name(key{t, e.Variant.UUID}, &product, pr.vendor, e.SKU.String())
		}
	case catalog.VariantUpdated:
		if pr := f.productAt(key{t, id}, v); pr != nil && e.SKU != nil {
			vr := f.variant(key{t, e.Variant.UUID})
			f.name(key{t, e.Variant.UUID}, vr.product, vr.vendor, e.SKU.String())
		}
	default:
		vk := key{t, id}
		vr := f.variant(vk)
		if v <= vr.inventoryVersion {
			return // applied before
		}
		vr.inventoryVersion = v
		f.applyInventory(vk, v, ev)
	}
}

// productAt returns the product row when the product event at version v is
// new, advancing the row's version; nil when it was applied before.
func (f *fold) productAt(pk key, v int64) *productRow {
	pr := f.products[pk]
	if pr == nil {
		pr = &productRow{} // its creation was never seen: vendor unknown
		f.products[pk] = pr
	}
	if v <= pr.version {
		return nil
	}
	pr.version, pr.dirty = v, true
	return pr
}

// name sets a variant's product, vendor and SKU, on its rows too.
func (f *fold) name(vk key, product, vendor *uuid.UUID, sku string) {
	vr := f.variant(vk)
	vr.product, vr.vendor, vr.sku, vr.dirty = product, vendor, sku, true
	for _, lk := range f.byVariant[vk] {
		l := f.levels[lk]
		l.product, l.vendor, l.sku, l.dirty = product, vendor, sku, true
	}
}

func (f *fold) applyInventory(vk key, v int64, ev eventstore.Event) {
	switch e := ev.(type) {
	case inventory.Adjusted:
		l := f.level(vk, e.Location)
		l.onHand = e.OnHand
		l.touch(v, e.At)
	case inventory.Reserved:
		rk := key{vk.tenant, e.Reservation.UUID}
		f.drop(rk, v, e.At) // a hold is never counted twice (its stored row is deleted, then inserted anew)
		f.holds[rk] = &hold{variant: vk.id, location: e.Location, quantity: e.Quantity}
		l := f.level(vk, e.Location)
		l.reserved += e.Quantity
		l.touch(v, e.At)
	case inventory.Reallocated:
		rk := key{vk.tenant, e.Reservation.UUID}
		f.drop(rk, v, e.At)
		f.holds[rk] = &hold{variant: vk.id, location: e.Location, quantity: e.Quantity}
		l := f.level(vk, e.Location)
		l.reserved += e.Quantity
		l.touch(v, e.At)
	case inventory.Released:
		f.drop(key{vk.tenant, e.Reservation.UUID}, v, e.At)
	case inventory.Expired:
		f.drop(key{vk.tenant, e.Reservation.UUID}, v, e.At)
	case inventory.AllocationReleased:
		f.drop(key{vk.tenant, e.Reservation.UUID}, v, e.At)
	case inventory.AllocationReduced:
		f.reduce(key{vk.tenant, e.Reservation.UUID}, e.Remaining, v, e.At)
	case inventory.Fulfilled:
		f.drop(key{vk.tenant, e.Reservation.UUID}, v, e.At)
		l := f.level(vk, e.Location)
		l.onHand = e.OnHand
		l.touch(v, e.At)
	case inventory.Rejected, inventory.Committed:
		// Nothing moves: a rejection holds nothing, an allocation stays reserved.
	}
}

// drop gives a hold's units back at its location.
func (f *fold) drop(rk key, v int64, at time.Time) {
	h := f.holds[rk]
	if h == nil {
		return
	}
	delete(f.holds, rk)
	if h.stored {
		f.dropped[rk] = true
	}
	l := f.level(key{rk.tenant, h.variant}, h.location)
	l.reserved -= h.quantity
	l.touch(v, at)
}

// reduce gives back part of a hold's units: remaining stay held. A stored
// hold's row is written anew (deleted, then inserted with its quantity).
func (f *fold) reduce(rk key, remaining int64, v int64, at time.Time) {
	h := f.holds[rk]
	if h == nil || remaining >= h.quantity {
		return
	}
	l := f.level(key{rk.tenant, h.variant}, h.location)
	l.reserved -= h.quantity - remaining
	l.touch(v, at)
	h.quantity = remaining
	if h.stored {
		f.dropped[rk] = true
		h.stored = false
	}
}

func (l *level) touch(v int64, at time.Time) {
	l.version, l.updatedAt, l.dirty = v, at.UTC(), true
}

func (f *fold) variant(vk key) *variantRow {
	vr := f.variants[vk]
	if vr == nil {
		vr = &variantRow{}
		f.variants[vk] = vr
	}
	return vr
}

func (f *fold) level(vk key, loc uuid.UUID) *level {
	lk := levelKey{vk.tenant, vk.id, loc}
	l := f.levels[lk]
	if l == nil {
		vr := f.variant(vk)
		l = &level{product: vr.product, vendor: vr.vendor, sku: vr.sku}
		f.levels[lk] = l
		f.byVariant[vk] = append(f.byVariant[vk], lk)
	}
	return l
}

// keyList returns the tenants and ids of keys, in a fixed order.
func keyList(keys map[key]bool) (tenants, ids []uuid.UUID) {
	ks := make([]key, 0, len(keys))
	for k := range keys {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, cmpKey)
	for _, k := range ks {
		tenants = append(tenants, k.tenant)
		ids = append(ids, k.id)
	}
	return tenants, ids
}

func cmpKey(a, b key) int {
	return cmp.Or(cmp.Compare(a.tenant.String(), b.tenant.String()), cmp.Compare(a.id.String(), b.id.String()))
}

func load(ctx context.Context, tx pgx.Tx, variants, products, reservations map[key]bool) (*fold, error) {
	f := &fold{levels: map[levelKey]*level{}, byVariant: map[key][]levelKey{}, variants: map[key]*variantRow{},
		products: map[key]*productRow{}, holds: map[key]*hold{}, dropped: map[key]bool{}}
	vt, vi := keyList(variants)
	if len(vi) > 0 {
		const qv = `SELECT v.tenant_id, v.variant_id, v.product_id, v.vendor_id, v.sku
FROM stock_levels_variants v JOIN unnest($1::uuid[], $2::uuid[]) AS k(t, id) ON v.tenant_id = k.t AND v.variant_id = k.id`
		rows, err := tx.Query(ctx, qv, vt, vi)
		if err != nil {
			return nil, err
		}
		var k key
		var vr variantRow
		if _, err := pgx.ForEachRow(rows, []any{&k.tenant, &k.id, &vr.product, &vr.vendor, &vr.sku}, func() error {
			row := vr
			f.variants[k] = &row
			return nil
		}); err != nil {
			return nil, err
		}
		const ql = `SELECT l.tenant_id, l.variant_id, l.location_id, l.product_id, l.vendor_id, l.sku, l.on_hand, l.reserved, l.version, l.updated_at
FROM stock_levels l JOIN unnest($1::uuid[], $2::uuid[]) AS k(t, id) ON l.tenant_id = k.t AND l.variant_id = k.id
ORDER BY l.tenant_id, l.variant_id, l.location_id`
		if rows, err = tx.Query(ctx, ql, vt, vi); err != nil {
			return nil, err
		}
		var lk levelKey
		var l level
		if _, err := pgx.ForEachRow(rows, []any{&lk.tenant, &lk.variant, &lk.location, &l.product, &l.vendor, &l.sku, &l.onHand, &l.reserved, &l.version, &l.updatedAt}, func() error {
			row := l
			f.levels[lk] = &row
			vk := key{lk.tenant, lk.variant}
			f.byVariant[vk] = append(f.byVariant[vk], lk)
			if vr := f.variant(vk); l.version > vr.inventoryVersion {
				vr.inventoryVersion = l.version
			}
			return nil
		}); err != nil {
			return nil, err
		}
	}
	if pt, pi := keyList(products); len(pi) > 0 {
		const qp = `SELECT p.tenant_id, p.product_id, p.vendor_id, p.version
FROM stock_levels_products p JOIN unnest($1::uuid[], $2::uuid[]) AS k(t, id) ON p.tenant_id = k.t AND p.product_id = k.id`
		rows, err := tx.Query(ctx, qp, pt, pi)
		if err != nil {
			return nil, err
		}
		var k key
		var pr productRow
		if _, err := pgx.ForEachRow(rows, []any{&k.tenant, &k.id, &pr.vendor, &pr.version}, func() error {
			row := pr
			f.products[k] = &row
			return nil
		}); err != nil {
			return nil, err
		}
	}
	if rt, ri := keyList(reservations); len(ri) > 0 {
		const qh = `SELECT h.tenant_id, h.reservation_id, h.variant_id, h.location_id, h.quantity
FROM stock_levels_holds h JOIN unnest($1::uuid[], $2::uuid[]) AS k(t, id) ON h.tenant_id = k.t AND h.reservation_id = k.id`
		rows, err := tx.Query(ctx, qh, rt, ri)
		if err != nil {
			return nil, err
		}
		var k key
		var h hold
		if _, err := pgx.ForEachRow(rows, []any{&k.tenant, &k.id, &h.variant, &h.location, &h.quantity}, func() error {
			row := h
			row.stored = true
			f.holds[k] = &row
			return nil
		}); err != nil {
			return nil, err
		}
	}
	return f, nil
}

const (
	upsertLevels = `
INSERT INTO stock_levels (tenant_id, variant_id, location_id, product_id, vendor_id, sku, on_hand, reserved, version, updated_at)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::text[], $7::bigint[], $8::bigint[], $9::bigint[], $10::timestamptz[])
ON CONFLICT (tenant_id, variant_id, location_id) DO UPDATE SET
    product_id = EXCLUDED.product_id, vendor_id = EXCLUDED.vendor_id, sku = EXCLUDED.sku,
    on_hand = EXCLUDED.on_hand, reserved = EXCLUDED.reserved, version = EXCLUDED.version, updated_at = EXCLUDED.updated_at
WHERE stock_levels.version <= EXCLUDED.version`
	upsertVariants = `
INSERT INTO stock_levels_variants (tenant_id, variant_id, product_id, vendor_id, sku)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[])
ON CONFLICT (tenant_id, variant_id) DO UPDATE SET
    product_id = EXCLUDED.product_id, vendor_id = EXCLUDED.vendor_id, sku = EXCLUDED.sku`
	upsertProducts = `
INSERT INTO stock_levels_products (tenant_id, product_id, vendor_id, version)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::bigint[])
ON CONFLICT (tenant_id, product_id) DO UPDATE SET vendor_id = EXCLUDED.vendor_id, version = EXCLUDED.version
WHERE stock_levels_products.version < EXCLUDED.version`
	deleteHolds = `
DELETE FROM stock_levels_holds h USING unnest($1::uuid[], $2::uuid[]) AS k(t, id)
WHERE h.tenant_id = k.t AND h.reservation_id = k.id`
	insertHolds = `
INSERT INTO stock_levels_holds (tenant_id, reservation_id, variant_id, location_id, quantity)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::bigint[])`
)

// save writes back every changed row, in a fixed order.
func (f *fold) save(ctx context.Context, tx pgx.Tx) error {
	b := &pgx.Batch{}
	if lks := sortedLevels(f.levels); len(lks) > 0 {
		var t, v, loc []uuid.UUID
		var product, vendor []*uuid.UUID
		var sku []string
		var onHand, reserved, version []int64
		var at []time.Time
		for _, lk := range lks {
			l := f.levels[lk]
			t, v, loc = append(t, lk.tenant), append(v, lk.variant), append(loc, lk.location)
			product, vendor, sku = append(product, l.product), append(vendor, l.vendor), append(sku, l.sku)
			onHand, reserved, version = append(onHand, l.onHand), append(reserved, l.reserved), append(version, l.version)
			at = append(at, l.updatedAt)
		}
		b.Queue(upsertLevels, t, v, loc, product, vendor, sku, onHand, reserved, version, at)
	}
	if vks := sortedDirty(f.variants, func(r *variantRow) bool { return r.dirty }); len(vks) > 0 {
		var t, v []uuid.UUID
		var product, vendor []*uuid.UUID
		var sku []string
		for _, vk := range vks {
			r := f.variants[vk]
			t, v = append(t, vk.tenant), append(v, vk.id)
			product, vendor, sku = append(product, r.product), append(vendor, r.vendor), append(sku, r.sku)
		}
		b.Queue(upsertVariants, t, v, product, vendor, sku)
	}
	if pks := sortedDirty(f.products, func(r *productRow) bool { return r.dirty }); len(pks) > 0 {
		var t, p []uuid.UUID
		var vendor []*uuid.UUID
		var version []int64
		for _, pk := range pks {
			r := f.products[pk]
			t, p, vendor, version = append(t, pk.tenant), append(p, pk.id), append(vendor, r.vendor), append(version, r.version)
		}
		b.Queue(upsertProducts, t, p, vendor, version)
	}
	if len(f.dropped) > 0 {
		t, r := keyList(f.dropped)
		b.Queue(deleteHolds, t, r)
	}
	if hks := sortedDirty(f.holds, func(h *hold) bool { return !h.stored }); len(hks) > 0 {
		var t, r, v, loc []uuid.UUID
		var qty []int64
		for _, hk := range hks {
			h := f.holds[hk]
			t, r, v, loc, qty = append(t, hk.tenant), append(r, hk.id), append(v, h.variant), append(loc, h.location), append(qty, h.quantity)
		}
		b.Queue(insertHolds, t, r, v, loc, qty)
	}
	if b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, b).Close()
}

func sortedLevels(m map[levelKey]*level) []levelKey {
	var out []levelKey
	for k, l := range m {
		if l.dirty {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(a, b levelKey) int {
		return cmp.Or(cmpKey(key{a.tenant, a.variant}, key{b.tenant, b.variant}), cmp.Compare(a.location.String(), b.location.String()))
	})
	return out
}

func sortedDirty[T any](m map[key]T, dirty func(T) bool) []key {
	var out []key
	for k, v := range m {
		if dirty(v) {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, cmpKey)
	return out
}
