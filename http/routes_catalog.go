package http

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/google/uuid"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/projections/productviews"
)

func (s *Server) catalogRoutes() []adminRoute {
	return []adminRoute{
		{"GET", "/products", permCatalogRead, s.adminListProducts},
		{"POST", "/products", permCatalogWrite, s.createProduct},
		{"GET", "/products/{id}", permCatalogRead, s.adminGetProduct},
		{"PATCH", "/products/{id}", permCatalogWrite, s.patchProduct},
		{"DELETE", "/products/{id}", permCatalogWrite, s.archiveProduct},
		{"POST", "/products/{id}/variants", permCatalogWrite, s.addVariant},
		{"GET", "/variants/{id}", permCatalogRead, s.getVariant},
		{"PATCH", "/variants/{id}", permCatalogWrite, s.patchVariant},
		{"GET", "/categories", permCatalogRead, s.adminCategories},
		{"POST", "/categories", permCategoriesWrite, s.createCategory},
		{"PATCH", "/categories/{id}", permCategoriesWrite, s.patchCategory},
	}
}

func (s *Server) storefrontCatalogRoutes() []storeRoute {
	return []storeRoute{
		{"GET", "/products", s.storeListProducts, true},
		{"GET", "/products/{id}", s.storeGetProduct, true},
		{"GET", "/categories", s.storeCategories, true},
	}
}

// --- DTOs

type variantRequest struct {
	SKU             *string           `json:"sku"`
	Title           *string           `json:"title"`
	Options         *[]catalog.Option `json:"options"`
	FulfillmentType *string           `json:"fulfillment_type"`
	Price           *money.Money      `json:"price"`
	CompareAtPrice  json.RawMessage   `json:"compare_at_price"`
	TaxRate         *string           `json:"tax_rate"`
	Status          *string           `json:"status"`
	IsHot           *bool             `json:"is_hot"`
}

// nullable reads a member a change may clear: absent → nil, null → a nil
// pointer (clear), else the value.
func nullable[T any](raw json.RawMessage) (**T, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var p *T
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// compareAt reads compare_at_price: absent → nil, null → a nil pointer (clear).
func (v variantRequest) compareAt() (**money.Money, error) {
	m, err := nullable[money.Money](v.CompareAtPrice)
	if err != nil {
		var c errs.Collector
		c.Merge("compare_at_price", err)
		return nil, c.Err()
	}
	return m, nil
}

func (v variantRequest) input() (commands.VariantInput, error) {
	in := commands.VariantInput{}
	if v.SKU != nil {
		in.SKU = *v.SKU
	}
	if v.Title != nil {
		in.Title = *v.Title
	}
	if v.Options != nil {
		in.Options = *v.Options
	}
	if v.FulfillmentType != nil {
		in.FulfillmentType = *v.FulfillmentType
	}
	if v.Price != nil {
		in.Price = *v.Price
	}
	if v.TaxRate != nil {
		in.TaxRate = *v.TaxRate
	}
	if v.Status != nil {
		in.Status = *v.Status
	}
	if v.IsHot != nil {
		in.IsHot = *v.IsHot
	}
	ca, err := v.compareAt()
	if err != nil {
		return in, err
	}
	if ca != nil {
		in.CompareAtPrice = *ca
	}
	return in, nil
}

type productRequest struct {
	Title       *string          `json:"title"`
	Handle      *string          `json:"handle"`
	Description *string          `json:"description"`
	Status      *string          `json:"status"`
	VendorID    *uuid.UUID       `json:"vendor_id"`
	StoreID     *uuid.UUID       `json:"store_id"`
	Categories  *[]string        `json:"categories"`
	LocationIDs *[]uuid.UUID     `json:"location_ids"`
	Digital     *catalog.Digital `json:"digital"`
	Variants    []variantRequest `json:"variants"`
}

// --- admin products

func (s *Server) adminListProducts(w http.ResponseWriter, r *http.Request) {
	serveList(w, r, func(ctx context.Context, c *caller, p projections.Page) (projections.List[json.RawMessage], error) {
		f, err := productFilter(r, c.vendorScope())
		if err != nil {
			return projections.List[json.RawMessage]{}, err
		}
		l, err := productviews.List(ctx, s.readDB(r.Context()), c.Acting, f, p, false)
		if errors.Is(err, productviews.ErrUnknownCategory) {
			err = errs.Field("category", "is not a category of this shop")
		}
		return l, err
	})
}

// productFilter reads the admin list's query parameters; vendor staff see
// their vendor's products whatever vendor_id asks for.
func productFilter(r *http.Request, scope *uuid.UUID) (productviews.Filter, error) {
	q := r.URL.Query()
	f := productviews.Filter{Category: q.Get("category"), Status: q.Get("status"), Vendor: scope}
	if f.Status != "" {
		if _, err := catalog.ParseProductStatus(f.Status); err != nil {
			return f, err
		}
	}
	if v := q.Get("vendor_id"); v != "" && f.Vendor == nil {
		id, err := uuid.Parse(v)
		if err != nil {
			return f, errs.Field("vendor_id", "must be a UUID")
		}
		f.Vendor = &id
	}
	return f, nil
}

// adminProduct reads a product as the caller may see it (another vendor's
// product is a 404 for vendor staff).
func (s *Server) adminProduct(ctx context.Context, c *caller, id uuid.UUID) (productviews.Product, error) {
	p, err := productviews.Get(ctx, s.readDB(ctx), c.Acting, id.String(), false)
	if err != nil {
		return p, err
	}
	if vs := c.vendorScope(); vs != nil && p.Vendor != *vs {
		return productviews.Product{}, errs.NotFoundf("product")
	}
	return p, nil
}

func (s *Server) adminGetProduct(w http.ResponseWriter, r *http.Request) {
	if u, ok, err := asOf(r); ok || err != nil {
		if err != nil {
			writeError(w, r, err)
			return
		}
		s.getProductAsOf(w, r, u)
		return
	}
	serveOne(w, r, catalog.ParseProductID, func(ctx context.Context, c *caller, id catalog.ProductID) (json.RawMessage, int64, error) {
		p, err := s.adminProduct(ctx, c, id.UUID)
		return p.Doc, p.Version, err
	})
}

func (s *Server) createProduct(w http.ResponseWriter, r *http.Request) {
	var in productRequest
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	c := callerFrom(r.Context())
	by := c.by(r)
	cmd := commands.CreateProduct{Tenant: c.Acting, By: by, VendorScope: c.vendorScope(), Vendor: in.VendorID, Store: in.StoreID, Digital: in.Digital}
	if in.Title != nil {
		cmd.Title = *in.Title
	}
	if in.Handle != nil {
		cmd.Handle = *in.Handle
	}
	if in.Description != nil {
		cmd.Description = *in.Description
	}
	if in.Status != nil {
		cmd.Status = *in.Status
	}
	if in.Categories != nil {
		cmd.Categories = *in.Categories
	}
	if in.LocationIDs != nil {
		cmd.Locations = *in.LocationIDs
	}
	var v errs.Collector
	for i, vr := range in.Variants {
		vi, err := vr.input()
		v.Merge("variants["+strconv.Itoa(i)+"]", err)
		cmd.Variants = append(cmd.Variants, vi)
	}
	if err := v.Err(); err != nil {
		writeError(w, r, err)
		return
	}
	id := by.DerivedID(0)
	s.execute(w, r, http.StatusCreated, func(ctx context.Context) (commands.Result, error) {
		_, res, err := s.Commands.CreateProduct(ctx, cmd)
		return res, err
	}, func(ctx context.Context) (view, error) {
		p, err := productviews.Get(ctx, s.Pool, c.Acting, id.String(), false)
		return view{body: p.Doc, version: p.Version}, err
	})
}

func (s *Server) patchProduct(w http.ResponseWriter, r *http.Request) {
	var in productRequest
	id, ok := decodeAt(w, r, catalog.ParseProductID, &in)
	if !ok {
		return
	}
	if in.Variants != nil || in.VendorID != nil || in.StoreID != nil {
		writeError(w, r, errs.InvalidFields(errs.FieldError{Field: "variants", Message: "change variants with PATCH /variants/{id}; vendor and store are fixed"}))
		return
	}
	s.updateProduct(w, r, id, commands.UpdateProduct{Title: in.Title, Handle: in.Handle, Description: in.Description,
		Status: in.Status, Categories: in.Categories, Locations: in.LocationIDs, Digital: in.Digital})
}

// archiveProduct is DELETE /products/{id}: products are archived, never
// deleted (past orders and history refer to them).
func (s *Server) archiveProduct(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", catalog.ParseProductID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	archived := string(catalog.ProductArchived)
	s.updateProduct(w, r, id, commands.UpdateProduct{Status: &archived})
}

func (s *Server) updateProduct(w http.ResponseWriter, r *http.Request, id catalog.ProductID, cmd commands.UpdateProduct) {
	ifv, err := ifMatch(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	c := callerFrom(r.Context())
	cmd.Tenant, cmd.By, cmd.Product, cmd.IfVersion, cmd.VendorScope = c.Acting, c.by(r), id, ifv, c.vendorScope()
	s.execute(w, r, http.StatusOK, func(ctx context.Context) (commands.Result, error) {
		return s.Commands.UpdateProduct(ctx, cmd)
	}, func(ctx context.Context) (view, error) {
		p, err := s.adminProduct(ctx, c, id.UUID)
		return view{body: p.Doc, version: p.Version}, err
	})
}

// --- variants

// variantView finds one variant in its product's document.
func (s *Server) variantView(ctx context.Context, c *caller, variant uuid.UUID) (view, error) {
	pid, err := commands.VariantProduct(ctx, s.readDB(ctx), c.Acting, catalog.VariantID{UUID: variant})
	if err != nil {
		return view{}, err
	}
	p, err := s.adminProduct(ctx, c, pid.UUID)
	if err != nil {
		return view{}, err
	}
	var doc struct {
		Variants []map[string]any `json:"variants"`
	}
	if err := json.Unmarshal(p.Doc, &doc); err != nil {
		return view{}, err
	}
	for _, v := range doc.Variants {
		if v["id"] == variant.String() {
			v["product_id"] = pid.String()
			return view{body: v, version: p.Version}, nil
		}
	}
	return view{}, errs.NotFoundf("variant")
}

func (s *Server) getVariant(w http.ResponseWriter, r *http.Request) {
	serveOne(w, r, catalog.ParseVariantID, func(ctx context.Context, c *caller, id catalog.VariantID) (any, int64, error) {
		v, err := s.variantView(ctx, c, id.UUID)
		return v.body, v.version, err
	})
}

func (s *Server) addVariant(w http.ResponseWriter, r *http.Request) {
	var in variantRequest
	pid, ok := decodeAt(w, r, catalog.ParseProductID, &in)
	if !ok {
		return
	}
	vi, err := in.input()
	if err != nil {
		writeError(w, r, err)
		return
	}
	c := callerFrom(r.Context())
	by := c.by(r)
	id := by.DerivedID(0)
	s.execute(w, r, http.StatusCreated, func(ctx context.Context) (commands.Result, error) {
		_, res, err := s.Commands.AddVariant(ctx, commands.AddVariant{Tenant: c.Acting, By: by, Product: pid, VendorScope: c.vendorScope(), Variant: vi})
		return res, err
	}, func(ctx context.Context) (view, error) { return s.variantView(ctx, c, id) })
}

func (s *Server) patchVariant(w http.ResponseWriter, r *http.Request) {
	var in variantRequest
	id, ifv, ok := decodeChange(w, r, catalog.ParseVariantID, &in)
	if !ok {
		return
	}
	ca, err := in.compareAt()
	if err != nil {
		writeError(w, r, err)
		return
	}
	c := callerFrom(r.Context())
	s.execute(w, r, http.StatusOK, func(ctx context.Context) (commands.Result, error) {
		_, res, err := s.Commands.UpdateVariant(ctx, commands.UpdateVariant{Tenant: c.Acting, By: c.by(r), Variant: id, IfVersion: ifv,
			VendorScope: c.vendorScope(), SKU: in.SKU, Title: in.Title, Options: in.Options, FulfillmentType: in.FulfillmentType,
			Price: in.Price, CompareAtPrice: ca, TaxRate: in.TaxRate, Status: in.Status, IsHot: in.IsHot})
		return res, err
	}, func(ctx context.Context) (view, error) { return s.variantView(ctx, c, id.UUID) })
}

// --- categories

type categoryRequest struct {
	Name     *string         `json:"name"`
	Handle   *string         `json:"handle"`
	ParentID json.RawMessage `json:"parent_id"`
	Position *int            `json:"position"`
}

// parent reads parent_id: absent → nil, null → a nil pointer (a root category).
func (in categoryRequest) parent() (**catalog.CategoryID, error) {
	p, err := nullable[catalog.CategoryID](in.ParentID)
	if err != nil {
		return nil, errs.Field("parent_id", "must be a category id")
	}
	return p, nil
}

func (s *Server) adminCategories(w http.ResponseWriter, r *http.Request) {
	tree, err := productviews.Categories(r.Context(), s.readDB(r.Context()), callerFrom(r.Context()).Acting)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": tree, "next_cursor": nil})
}

func (s *Server) createCategory(w http.ResponseWriter, r *http.Request) {
	var in categoryRequest
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	parent, err := in.parent()
	if err != nil {
		writeError(w, r, err)
		return
	}
	c := callerFrom(r.Context())
	by := c.by(r)
	cmd := commands.CreateCategory{Tenant: c.Acting, By: by}
	if in.Name != nil {
		cmd.Name = *in.Name
	}
	if in.Handle != nil {
		cmd.Handle = *in.Handle
	}
	if parent != nil {
		cmd.Parent = *parent
	}
	if in.Position != nil {
		cmd.Position = *in.Position
	}
	id := by.DerivedID(0)
	s.execute(w, r, http.StatusCreated, func(ctx context.Context) (commands.Result, error) {
		_, res, err := s.Commands.CreateCategory(ctx, cmd)
		return res, err
	}, func(ctx context.Context) (view, error) {
		cat, err := productviews.GetCategory(ctx, s.Pool, c.Acting, id)
		return view{body: cat, version: cat.Version}, err
	})
}

func (s *Server) patchCategory(w http.ResponseWriter, r *http.Request) {
	var in categoryRequest
	id, ifv, ok := decodeChange(w, r, catalog.ParseCategoryID, &in)
	if !ok {
		return
	}
	parent, err := in.parent()
	if err != nil {
		writeError(w, r, err)
		return
	}
	c := callerFrom(r.Context())
	s.execute(w, r, http.StatusOK, func(ctx context.Context) (commands.Result, error) {
		return s.Commands.UpdateCategory(ctx, commands.UpdateCategory{Tenant: c.Acting, By: c.by(r), Category: id, IfVersion: ifv,
			Name: in.Name, Handle: in.Handle, Parent: parent, Position: in.Position})
	}, func(ctx context.Context) (view, error) {
		cat, err := productviews.GetCategory(ctx, s.Pool, c.Acting, id.UUID)
		return view{body: cat, version: cat.Version}, err
	})
}

// --- storefront

func (s *Server) storeListProducts(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("q") != "" {
		s.storeSearchList(w, r)
		return
	}
	p, err := page(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	f := productviews.Filter{Category: q.Get("category")}
	if v := q.Get("vendor"); v != "" {
		id, err := uuid.Parse(v)
		if err != nil {
			writeError(w, r, errs.Field("vendor", "must be a vendor id"))
			return
		}
		f.Vendor = &id
	}
	l, err := productviews.List(r.Context(), s.readDB(r.Context()), tenantFrom(r.Context()), f, p, true)
	if errors.Is(err, productviews.ErrUnknownCategory) {
		err = errs.New(errs.KindNotFound, "category_not_found", "no such category")
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=5")
	writeRawList(w, l.Items, l.NextCursor)
}

// writeRawList writes {"items": [...], "next_cursor": ...} from documents
// that are already JSON, without re-encoding them.
func writeRawList(w http.ResponseWriter, items []json.RawMessage, next *string) {
	n := 64
	for _, it := range items {
		n += len(it) + 1
	}
	buf := make([]byte, 0, n)
	buf = append(buf, `{"items":[`...)
	for i, it := range items {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, it...)
	}
	buf = append(buf, `],"next_cursor":`...)
	if next == nil {
		buf = append(buf, "null"...)
	} else {
		c, _ := json.Marshal(*next)
		buf = append(buf, c...)
	}
	buf = append(buf, "}\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf)
}

func (s *Server) storeGetProduct(w http.ResponseWriter, r *http.Request) {
	ref := chiParam(r, "id")
	if len(ref) > 120 {
		writeError(w, r, errs.NotFoundf("product"))
		return
	}
	p, err := productviews.Get(r.Context(), s.readDB(r.Context()), tenantFrom(r.Context()), ref, true)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=5")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append(p.Doc, '\n'))
}

func (s *Server) storeCategories(w http.ResponseWriter, r *http.Request) {
	tree, err := productviews.Categories(r.Context(), s.readDB(r.Context()), tenantFrom(r.Context()))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": tree})
}
