// Package productviews is the product_views read model: products with their
// variants, price range, availability and categories, as the storefront and
// the backoffice read them, and the category tree. Each product row holds
// its storefront document, rebuilt in the batch that changed the product, so
// listing a page is one indexed read. Availability comes from the inventory
// events, each of which carries the variant's available units: it is kept
// apart, in the narrow variant_stock table, and joined into the document
// when it is read, so a reservation writes one small row and never
// rewrites the product's document. The back office's reads join it in SQL
// (docSQL); the storefront's fill it into the storefront document, which
// the row keeps rendered (storefront.go).
//
// It must not import http or commands.
package productviews

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/inventory"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/projections"
)

// Name is the projector's frozen name; renaming it rebuilds the model.
// (v2: stock figures out of the stored document, joined when read; v3:
// variant_stock without a version, written only when a figure changes; v4:
// the storefront document kept rendered).
const Name = "product_views.v4"

// Projector builds product_views.
type Projector struct {
	Registry *eventstore.Registry
}

var _ projections.Projector = Projector{}

// Name implements projections.Projector.
func (Projector) Name() string { return Name }

// Schema implements projections.Projector.
func (Projector) Schema() projections.Schema {
	return projections.Schema{
		Tables:       []string{"products", "product_variants", "variant_stock", "categories"},
		Create:       "rm_product_views_v4_create",
		Index:        "rm_product_views_v1_index",
		PayloadTypes: projections.EventNames(catalog.Events, inventory.Events),
	}
}

type key struct{ tenant, id uuid.UUID }

// Apply implements projections.Projector.
func (p Projector) Apply(ctx context.Context, tx pgx.Tx, batch []eventstore.Envelope) error {
	b := &pgx.Batch{}
	products := map[key]bool{}
	cats := map[key]bool{}
	// The last stock figure of each variant in the batch: one row write per
	// variant, however many reservations the batch holds.
	stock := map[key]int64{}
	for _, env := range batch {
		switch env.StreamType {
		case catalog.ProductStream, catalog.CategoryStream, inventory.StreamType:
		default:
			continue
		}
		ev, err := p.Registry.Decode(env)
		if err != nil {
			return err
		}
		t, id, v, at := env.Tenant.UUID, env.StreamID, env.Version, env.RecordedAt
		switch e := ev.(type) {
		case catalog.ProductCreated:
			digital, _ := json.Marshal(e.Digital)
			b.Queue(`INSERT INTO products (tenant_id, id, vendor_id, store_id, title, handle, description, status, categories, location_ids, digital, version, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) ON CONFLICT (tenant_id, id) DO NOTHING`,
				t, id, e.Vendor, e.Store, e.Title, e.Handle, e.Description, e.Status, catIDs(e.Categories), e.Locations, nullJSON(digital), v, at)
		case catalog.ProductUpdated:
			digital, _ := json.Marshal(e.Digital)
			var cs *[]uuid.UUID
			if e.Categories != nil {
				ids := catIDs(*e.Categories)
				cs = &ids
			}
			b.Queue(`UPDATE products SET title = coalesce($3, title), handle = coalesce($4, handle), description = coalesce($5, description),
  categories = coalesce($6, categories), location_ids = coalesce($7, location_ids), digital = coalesce($8, digital),
  version = $9, updated_at = $10
WHERE tenant_id = $1 AND id = $2 AND version < $9`, t, id, e.Title, e.Handle, e.Description, cs, e.Locations, nullJSON(digital), v, at)
		case catalog.Published:
			queueStatus(b, t, id, catalog.ProductActive, v, at)
		case catalog.Unpublished:
			queueStatus(b, t, id, catalog.ProductDraft, v, at)
		case catalog.Archived:
			queueStatus(b, t, id, catalog.ProductArchived, v, at)
		case catalog.VariantAdded:
			opts, _ := json.Marshal(e.Options)
			b.Queue(`INSERT INTO product_variants (tenant_id, id, product_id, position, sku, title, options, fulfillment_type, price, compare_at_price, currency, tax_rate, status, is_hot)
VALUES ($1, $2, $3, (SELECT count(*) FROM product_variants WHERE tenant_id = $1 AND product_id = $3), $4, $5, $6, $7, $8::numeric, $9::numeric, $10, $11, $12, $13)
ON CONFLICT (tenant_id, id) DO NOTHING`,
				t, e.Variant, id, e.SKU, e.Title, opts, e.FulfillmentType, e.Price.AmountString(), amount(e.CompareAtPrice), e.Price.Currency(), e.TaxRate, e.Status, e.IsHot)
			queueVersion(b, t, id, v, at)
		case catalog.VariantUpdated:
			var opts []byte
			if e.Options != nil {
				opts, _ = json.Marshal(*e.Options)
			}
			b.Queue(`UPDATE product_variants SET sku = coalesce($3, sku), title = coalesce($4, title), options = coalesce($5, options),
  fulfillment_type = coalesce($6, fulfillment_type), tax_rate = coalesce($7, tax_rate), status = coalesce($8, status), is_hot = coalesce($9, is_hot)
WHERE tenant_id = $1 AND id = $2`, t, e.Variant, e.SKU, e.Title, nullJSON(opts), e.FulfillmentType, e.TaxRate, e.Status, e.IsHot)
			queueVersion(b, t, id, v, at)
		case catalog.PriceUpdated:
			b.Queue(`UPDATE product_variants SET price = $3::numeric, compare_at_price = $4::numeric, currency = $5 WHERE tenant_id = $1 AND id = $2`,
				t, e.Variant, e.Price.AmountString(), amount(e.CompareAtPrice), e.Price.Currency())
			queueVersion(b, t, id, v, at)
		case catalog.CategoryCreated:
			queueCategory(b, t, id, e.Name, e.Handle, e.Parent, e.Position, v, at)
			cats[key{t, id}] = true
			continue
		case catalog.CategoryUpdated:
			queueCategory(b, t, id, e.Name, e.Handle, e.Parent, e.Position, v, at)
			cats[key{t, id}] = true
			continue
		default:
			if avail, ok := inventory.AvailableAfter(ev); ok {
				stock[key{t, id}] = avail // the batch is in log order
			}
			continue
		}
		products[key{t, id}] = true
	}
	queueStock(b, stock)
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("product_views: %w", err)
	}
	if len(products) == 0 && len(cats) == 0 {
		return nil
	}
	return refreshDocs(ctx, tx, products, cats)
}

// queueStock upserts the batch's last stock figure of each variant in one
// statement. A figure that did not change writes no row: a reservation
// committed at checkout moves units from reserved to sold and leaves
// available as it was.
func queueStock(b *pgx.Batch, stock map[key]int64) {
	if len(stock) == 0 {
		return
	}
	ks := make([]key, 0, len(stock))
	for k := range stock {
		ks = append(ks, k)
	}
	// A stable order: concurrent writers of one generation cannot exist
	// (the leader lock), but a fixed order keeps replays identical.
	sort.Slice(ks, func(i, j int) bool {
		if ks[i].tenant != ks[j].tenant {
			return ks[i].tenant.String() < ks[j].tenant.String()
		}
		return ks[i].id.String() < ks[j].id.String()
	})
	ts, ids := make([]uuid.UUID, len(ks)), make([]uuid.UUID, len(ks))
	avail := make([]int64, len(ks))
	for i, k := range ks {
		ts[i], ids[i], avail[i] = k.tenant, k.id, stock[k]
	}
	b.Queue(`INSERT INTO variant_stock (tenant_id, variant_id, available)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bigint[])
ON CONFLICT (tenant_id, variant_id) DO UPDATE SET available = excluded.available
WHERE variant_stock.available IS DISTINCT FROM excluded.available`, ts, ids, avail)
}

func queueStatus(b *pgx.Batch, t, id uuid.UUID, s catalog.ProductStatus, v int64, at any) {
	b.Queue(`UPDATE products SET status = $3, version = $4, updated_at = $5 WHERE tenant_id = $1 AND id = $2 AND version < $4`, t, id, s, v, at)
}

func queueCategory(b *pgx.Batch, t, id uuid.UUID, name, handle string, parent *catalog.CategoryID, pos int, v int64, at any) {
	var par *uuid.UUID
	if parent != nil {
		par = &parent.UUID
	}
	b.Queue(`INSERT INTO categories (tenant_id, id, name, handle, parent_id, position, version, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (tenant_id, id) DO UPDATE SET name = excluded.name, handle = excluded.handle, parent_id = excluded.parent_id,
  position = excluded.position, version = excluded.version, updated_at = excluded.updated_at WHERE categories.version < excluded.version`,
		t, id, name, handle, par, pos, v, at)
}

func queueVersion(b *pgx.Batch, t, id uuid.UUID, v int64, at any) {
	b.Queue(`UPDATE products SET version = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2 AND version < $3`, t, id, v, at)
}

// amount is a price's decimal amount, nil for no price.
func amount(m *money.Money) *string {
	if m == nil {
		return nil
	}
	s := m.AmountString()
	return &s
}

func catIDs(cs []catalog.CategoryID) []uuid.UUID {
	out := make([]uuid.UUID, len(cs))
	for i, c := range cs {
		out[i] = c.UUID
	}
	return out
}

func nullJSON(b []byte) []byte {
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	return b
}

// refreshDocs rebuilds the price range and the stored documents (without
// the stock figures, which are joined in when reading) of every product
// touched directly or through one of its categories: the admin document in
// doc, and the storefront's rendered from it (renderStorefront). The
// documents are built by refreshSQL, rendered here, and written with the
// price range in one statement, so a product's row is written once.
const refreshSQL = `
WITH touched AS (
    SELECT t, i FROM unnest($1::uuid[], $2::uuid[]) AS x(t, i)
    UNION
    SELECT p.tenant_id, p.id FROM products p JOIN unnest($3::uuid[], $4::uuid[]) AS z(t, i) ON p.tenant_id = z.t AND z.i = ANY(p.categories)
),
agg AS (
    SELECT tc.t, tc.i,
           min(v.currency) AS currency,
           min(v.price) FILTER (WHERE v.status = 'active') AS pmin,
           max(v.price) FILTER (WHERE v.status = 'active') AS pmax,
           jsonb_agg(jsonb_build_object(
               'id', v.id, 'sku', v.sku, 'title', v.title, 'options', v.options,
               'fulfillment_type', v.fulfillment_type,
               'price', jsonb_build_object('amount', v.price::text, 'currency', v.currency),
               'compare_at_price', CASE WHEN v.compare_at_price IS NULL THEN NULL
                                        ELSE jsonb_build_object('amount', v.compare_at_price::text, 'currency', v.currency) END,
               'tax_rate', v.tax_rate, 'status', v.status, 'is_hot', v.is_hot
           ) ORDER BY v.position) FILTER (WHERE v.id IS NOT NULL) AS variants
    FROM touched tc
    LEFT JOIN product_variants v ON v.tenant_id = tc.t AND v.product_id = tc.i
    GROUP BY tc.t, tc.i
)
SELECT p.tenant_id, p.id, agg.currency, agg.pmin::text, agg.pmax::text,
    jsonb_build_object(
        'id', p.id, 'title', p.title, 'handle', p.handle, 'description', p.description, 'status', p.status,
        'vendor_id', p.vendor_id, 'store_id', p.store_id,
        'categories', coalesce((SELECT jsonb_agg(jsonb_build_object('id', c.id, 'name', c.name, 'handle', c.handle) ORDER BY c.position, c.name, c.id)
                                FROM categories c WHERE c.tenant_id = p.tenant_id AND c.id = ANY(p.categories)), '[]'::jsonb),
        'location_ids', to_jsonb(p.location_ids),
        'digital', p.digital,
        'price', CASE WHEN agg.pmin IS NULL THEN NULL ELSE jsonb_build_object(
            'min', jsonb_build_object('amount', agg.pmin::text, 'currency', agg.currency),
            'max', jsonb_build_object('amount', agg.pmax::text, 'currency', agg.currency)) END,
        'variants', coalesce(agg.variants, '[]'::jsonb),
        'created_at', p.created_at, 'updated_at', p.updated_at)::text
FROM agg JOIN products p ON p.tenant_id = agg.t AND p.id = agg.i`

// writeDocsSQL writes what refreshSQL built and renderStorefront rendered.
// Each product's stocked variants travel as an array literal, since
// unnest cannot take an array of arrays of different lengths.
const writeDocsSQL = `
UPDATE products p SET currency = x.currency, price_min = x.pmin::numeric, price_max = x.pmax::numeric,
    doc = x.doc::jsonb, storefront = x.storefront, storefront_stock = x.stock::uuid[], storefront_digital = x.digital
FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bool[])
    AS x(t, i, currency, pmin, pmax, doc, storefront, stock, digital)
WHERE p.tenant_id = x.t AND p.id = x.i`

func refreshDocs(ctx context.Context, tx pgx.Tx, products, cats map[key]bool) error {
	split := func(m map[key]bool) ([]uuid.UUID, []uuid.UUID) {
		ts, is := make([]uuid.UUID, 0, len(m)), make([]uuid.UUID, 0, len(m))
		for k := range m {
			ts, is = append(ts, k.tenant), append(is, k.id)
		}
		return ts, is
	}
	pt, pi := split(products)
	ct, ci := split(cats)
	rows, err := tx.Query(ctx, refreshSQL, pt, pi, ct, ci)
	if err != nil {
		return fmt.Errorf("product_views: refresh documents: %w", err)
	}
	var ts, ids []uuid.UUID
	var currency, pmin, pmax []*string
	var docs, sfs, stocks []string
	var digital []bool
	var t, id uuid.UUID
	var cur, lo, hi *string
	var doc string
	_, err = pgx.ForEachRow(rows, []any{&t, &id, &cur, &lo, &hi, &doc}, func() error {
		sf, err := renderStorefront([]byte(doc))
		if err != nil {
			return fmt.Errorf("product %s: %w", id, err)
		}
		ts, ids = append(ts, t), append(ids, id)
		currency, pmin, pmax = append(currency, cur), append(pmin, lo), append(pmax, hi)
		docs, sfs = append(docs, doc), append(sfs, sf.template)
		stocks, digital = append(stocks, uuidArrayLiteral(sf.stock)), append(digital, sf.digital)
		return nil
	})
	if err != nil {
		return fmt.Errorf("product_views: refresh documents: %w", err)
	}
	if len(ids) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, writeDocsSQL, ts, ids, currency, pmin, pmax, docs, sfs, stocks, digital); err != nil {
		return fmt.Errorf("product_views: write documents: %w", err)
	}
	return nil
}

// uuidArrayLiteral is ids as a PostgreSQL array literal: {a,b}.
func uuidArrayLiteral(ids []uuid.UUID) string {
	b := make([]byte, 0, 2+len(ids)*37)
	b = append(b, '{')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, id.String()...)
	}
	return string(append(b, '}'))
}
