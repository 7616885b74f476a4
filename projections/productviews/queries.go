package productviews

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/projections"
)

// Filter narrows a product list.
type Filter struct {
	// Category is a category id or handle; products in it or any of its
	// descendants match.
	Category string
	// Vendor limits the list to one vendor's products.
	Vendor *uuid.UUID
	// Status limits an admin list ("draft", "active", "archived"); the
	// storefront always lists active products only.
	Status string
	// IDs limits the list to these products (search results).
	IDs []uuid.UUID
}

// ErrUnknownCategory means a category filter names no category.
var ErrUnknownCategory = fmt.Errorf("category: %w", eventstore.ErrNotFound)

// categoryIDs expands a category reference to it and its descendants.
func categoryIDs(ctx context.Context, q eventstore.Querier, t tenant.ID, ref string) ([]uuid.UUID, error) {
	const query = `
WITH RECURSIVE tree AS (
    SELECT id FROM categories WHERE tenant_id = $1 AND (handle = $2 OR id::text = $2)
    UNION
    SELECT c.id FROM categories c JOIN tree ON c.parent_id = tree.id WHERE c.tenant_id = $1
)
SELECT id FROM tree`
	rows, err := q.Query(ctx, query, t, ref)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, ErrUnknownCategory
	}
	return ids, nil
}

// docSQL is the document of the products row p as a query returns it: the
// stored document with the stock figures joined in from variant_stock (the
// product's available units and in-stock flag, each variant's). The back
// office reads it so (storefront false). With storefront true it is the
// storefront's view, without the back-office fields (store, stock
// locations, the hot-lane flag) and the variants not on sale: the
// storefront reads its rendered form instead (storefrontSQL), and this one
// only while a deploy rebuilds the model into a generation that has it.
//
// Each variant's units are one primary-key lookup (the scalar subquery,
// kept from being flattened by OFFSET 0): joined instead, the planner,
// which guesses 100 elements for jsonb_array_elements, hashed the whole
// tenant's variant_stock for every product of a page (3,300 rows per
// product on the demo shop: 45,000 buffers and 22–50 ms for a page of 20,
// against a few hundred buffers now).
func docSQL(storefront bool) string {
	sf := "false"
	if storefront {
		sf = "true"
	}
	return `((p.doc - CASE WHEN ` + sf + ` THEN ARRAY['store_id', 'location_ids'] ELSE '{}'::text[] END) || (
  SELECT jsonb_build_object(
    'available', coalesce(sum(greatest(coalesce(s.available, 0), 0))
                   FILTER (WHERE v->>'status' = 'active' AND v->>'fulfillment_type' = 'physical'), 0),
    'in_stock', coalesce(bool_or(v->>'status' = 'active' AND (v->>'fulfillment_type' = 'digital' OR coalesce(s.available, 0) > 0)), false),
    'variants', coalesce(jsonb_agg((v || jsonb_build_object(
        'available', CASE WHEN v->>'fulfillment_type' = 'digital' THEN NULL ELSE greatest(coalesce(s.available, 0), 0) END,
        'in_stock', v->>'status' = 'active' AND (v->>'fulfillment_type' = 'digital' OR coalesce(s.available, 0) > 0)))
        - CASE WHEN ` + sf + ` THEN 'is_hot' ELSE '' END ORDER BY n)
      FILTER (WHERE NOT ` + sf + ` OR v->>'status' = 'active'), '[]'::jsonb))
  FROM jsonb_array_elements(p.doc->'variants') WITH ORDINALITY AS x(v, n)
  CROSS JOIN LATERAL (SELECT (SELECT vs.available FROM variant_stock vs
      WHERE vs.tenant_id = p.tenant_id AND vs.variant_id = (x.v->>'id')::uuid) AS available OFFSET 0) s))`
}

// storefrontSQL is the columns of the products row p that a storefront
// read fills (fillStorefront): the rendered document, whether it sells a
// digital variant, and the units of its stocked variants in document
// order, each one primary-key lookup of variant_stock (a scalar subquery,
// which the planner cannot turn into a join).
const storefrontSQL = `p.storefront, p.storefront_digital,
  ARRAY(SELECT (SELECT vs.available FROM variant_stock vs WHERE vs.tenant_id = p.tenant_id AND vs.variant_id = u.id)
        FROM unnest(p.storefront_stock) WITH ORDINALITY AS u(id, n) ORDER BY u.n)`

// listWhere is List's filter: $1 tenant, $2 the cursor (ids below it), $3
// status (empty for any), $4 vendor, $5 categories, $6 ids, $7 limit.
const listWhere = ` FROM products p
WHERE tenant_id = $1 AND id < $2
  AND ($3 = '' OR status = $3)
  AND ($4::uuid IS NULL OR vendor_id = $4)
  AND ($5::uuid[] IS NULL OR categories && $5)
  AND ($6::uuid[] IS NULL OR id = ANY($6))
ORDER BY id DESC
LIMIT $7`

// listSQL is List's statement for the back office, storefrontListSQL the
// storefront's, and builtStorefrontListSQL the storefront's while the live
// generation predates the rendered document.
var (
	listSQL                = `SELECT p.id, ` + docSQL(false) + listWhere
	storefrontListSQL      = `SELECT p.id, ` + storefrontSQL + listWhere
	builtStorefrontListSQL = `SELECT p.id, ` + docSQL(true) + listWhere
)

// unrendered reports the error of a storefront read from a generation of
// the model that predates the rendered document (product_views.v3, live
// while a deploy rebuilds v4): the read is then answered by docSQL(true).
func unrendered(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "42703" // undefined_column
}

// List returns a page of product documents, newest first. storefront
// limits it to products on sale, in their storefront form.
func List(ctx context.Context, q eventstore.Querier, t tenant.ID, f Filter, p projections.Page, storefront bool) (projections.List[json.RawMessage], error) {
	var after uuid.UUID
	if ok, err := p.DecodeCursor(&after); err != nil {
		return projections.List[json.RawMessage]{}, err
	} else if !ok {
		after = uuid.Max
	}
	var cats []uuid.UUID
	if f.Category != "" {
		var err error
		if cats, err = categoryIDs(ctx, q, t, f.Category); err != nil {
			return projections.List[json.RawMessage]{}, err
		}
	}
	status := f.Status
	if storefront {
		status = "active"
	}
	var ids []uuid.UUID
	if f.IDs != nil {
		ids = f.IDs
	}
	type row struct {
		id  uuid.UUID
		doc json.RawMessage
	}
	read := func(query string, rendered bool) ([]row, error) {
		rows, err := q.Query(ctx, query, t, after, status, f.Vendor, nilIfEmpty(cats), ids, p.Limit+1)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var x row
			if !rendered {
				return x, r.Scan(&x.id, &x.doc)
			}
			var sf filled
			if err := r.Scan(&x.id, &sf.template, &sf.digital, &sf.units); err != nil {
				return x, err
			}
			x.doc, err = sf.fill(x.id)
			return x, err
		})
	}
	var rs []row
	var err error
	if !storefront {
		rs, err = read(listSQL, false)
	} else if rs, err = read(storefrontListSQL, true); unrendered(err) {
		rs, err = read(builtStorefrontListSQL, false)
	}
	if err != nil {
		return projections.List[json.RawMessage]{}, fmt.Errorf("list products: %w", err)
	}
	l := projections.NewList(rs, p.Limit, func(x row) any { return x.id })
	out := projections.List[json.RawMessage]{Items: make([]json.RawMessage, len(l.Items)), NextCursor: l.NextCursor}
	for i, x := range l.Items {
		out.Items[i] = x.doc
	}
	return out, nil
}

// filled is a storefront row as storefrontSQL reads it.
type filled struct {
	template *string
	digital  bool
	units    []*int64
}

// fill returns the storefront document of product id.
func (f filled) fill(id uuid.UUID) (json.RawMessage, error) {
	if f.template == nil {
		return nil, fmt.Errorf("product %s: no storefront document", id)
	}
	doc, err := fillStorefront(make([]byte, 0, len(*f.template)+32), *f.template, f.digital, f.units)
	if err != nil {
		return nil, fmt.Errorf("product %s: %w", id, err)
	}
	return doc, nil
}

func nilIfEmpty(u []uuid.UUID) []uuid.UUID {
	if len(u) == 0 {
		return nil
	}
	return u
}

// Product is one product's document with its version (the ETag) and owner.
type Product struct {
	ID      uuid.UUID
	Vendor  uuid.UUID
	Status  string
	Version int64
	Doc     json.RawMessage
}

// getWhere is Get's filter: $1 tenant, $2 id or handle, $3 on sale only.
const getWhere = ` FROM products p
WHERE tenant_id = $1 AND (id::text = $2 OR handle = $2) AND (NOT $3 OR status = 'active')
ORDER BY (id::text = $2) DESC LIMIT 1`

// Get's statements, as List's.
var (
	getSQL                = `SELECT p.id, p.vendor_id, p.status, p.version, ` + docSQL(false) + getWhere
	storefrontGetSQL      = `SELECT p.id, p.vendor_id, p.status, p.version, ` + storefrontSQL + getWhere
	builtStorefrontGetSQL = `SELECT p.id, p.vendor_id, p.status, p.version, ` + docSQL(true) + getWhere
)

// Get returns one product by id or handle. storefront hides products not
// on sale and returns the storefront form. It returns
// eventstore.ErrNotFound.
func Get(ctx context.Context, q eventstore.Querier, t tenant.ID, idOrHandle string, storefront bool) (Product, error) {
	get := func(query string, rendered bool) (Product, error) {
		var p Product
		row := q.QueryRow(ctx, query, t, idOrHandle, storefront)
		if !rendered {
			return p, row.Scan(&p.ID, &p.Vendor, &p.Status, &p.Version, &p.Doc)
		}
		var sf filled
		if err := row.Scan(&p.ID, &p.Vendor, &p.Status, &p.Version, &sf.template, &sf.digital, &sf.units); err != nil {
			return p, err
		}
		var err error
		p.Doc, err = sf.fill(p.ID)
		return p, err
	}
	var p Product
	var err error
	if !storefront {
		p, err = get(getSQL, false)
	} else if p, err = get(storefrontGetSQL, true); unrendered(err) {
		p, err = get(builtStorefrontGetSQL, false)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return Product{}, fmt.Errorf("product %q: %w", idOrHandle, eventstore.ErrNotFound)
	}
	if err != nil {
		return Product{}, fmt.Errorf("get product: %w", err)
	}
	return p, nil
}

// Category is a node of the category tree.
type Category struct {
	ID        uuid.UUID   `json:"id"`
	Name      string      `json:"name"`
	Handle    string      `json:"handle"`
	ParentID  *uuid.UUID  `json:"parent_id"`
	Position  int         `json:"position"`
	Products  int         `json:"product_count"`
	Children  []*Category `json:"children"`
	Version   int64       `json:"-"`
	UpdatedAt time.Time   `json:"-"`
}

// Categories returns the category tree (roots with nested children), each
// with the number of products on sale directly in it.
func Categories(ctx context.Context, q eventstore.Querier, t tenant.ID) ([]*Category, error) {
	const query = `SELECT c.id, c.name, c.handle, c.parent_id, c.position, c.version, c.updated_at,
  (SELECT count(*) FROM products p WHERE p.tenant_id = c.tenant_id AND p.status = 'active' AND c.id = ANY(p.categories))
FROM categories c WHERE c.tenant_id = $1 ORDER BY c.position, c.name, c.id`
	rows, err := q.Query(ctx, query, t)
	if err != nil {
		return nil, fmt.Errorf("categories: %w", err)
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Category, error) {
		c := &Category{Children: []*Category{}}
		return c, r.Scan(&c.ID, &c.Name, &c.Handle, &c.ParentID, &c.Position, &c.Version, &c.UpdatedAt, &c.Products)
	})
	if err != nil {
		return nil, err
	}
	byID := map[uuid.UUID]*Category{}
	for _, c := range all {
		byID[c.ID] = c
	}
	roots := []*Category{}
	for _, c := range all {
		if c.ParentID != nil && byID[*c.ParentID] != nil {
			parent := byID[*c.ParentID]
			parent.Children = append(parent.Children, c)
			continue
		}
		roots = append(roots, c)
	}
	return roots, nil
}

// GetCategory returns one category, or eventstore.ErrNotFound.
func GetCategory(ctx context.Context, q eventstore.Querier, t tenant.ID, id uuid.UUID) (Category, error) {
	var c Category
	err := q.QueryRow(ctx, `SELECT id, name, handle, parent_id, position, version, updated_at FROM categories WHERE tenant_id = $1 AND id = $2`, t, id).
		Scan(&c.ID, &c.Name, &c.Handle, &c.ParentID, &c.Position, &c.Version, &c.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Category{}, fmt.Errorf("category %s: %w", id, eventstore.ErrNotFound)
	}
	c.Children = []*Category{}
	return c, err
}
