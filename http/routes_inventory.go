package http

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/store"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/projections/stocklevels"
)

func (s *Server) inventoryRoutes() []adminRoute {
	return []adminRoute{
		{"GET", "/inventory", permInventoryRead, s.listInventory},
		{"POST", "/inventory/adjustments", permInventoryWrite, s.adjustInventory},
	}
}

// listInventory is GET /inventory?sku=&location_id=&variant_id=&vendor_id=:
// stock levels per variant × location. Vendor staff see their vendor's only.
func (s *Server) listInventory(w http.ResponseWriter, r *http.Request) {
	serveList(w, r, func(ctx context.Context, c *caller, p projections.Page) (projections.List[stocklevels.Level], error) {
		f, err := inventoryFilter(r, c.vendorScope())
		if err != nil {
			return projections.List[stocklevels.Level]{}, err
		}
		return stocklevels.List(ctx, s.readDB(r.Context()), c.Acting, f, p)
	})
}

// inventoryFilter reads the list's query parameters; a malformed value is
// a 422 naming the parameter.
func inventoryFilter(r *http.Request, scope *uuid.UUID) (stocklevels.Filter, error) {
	query := r.URL.Query()
	var f stocklevels.Filter
	var v errs.Collector
	if sku := query.Get("sku"); sku != "" {
		parsed, err := catalog.ParseSKU(sku)
		v.Merge("", err)
		f.SKU = parsed.Key()
	}
	if s := query.Get("location_id"); s != "" {
		id, err := store.ParseLocationID(s)
		v.Check(err == nil, "location_id", "must be a location id")
		f.Location = &id.UUID
	}
	if s := query.Get("variant_id"); s != "" {
		id, err := catalog.ParseVariantID(s)
		v.Check(err == nil, "variant_id", "must be a variant id")
		f.Variant = &id.UUID
	}
	if s := query.Get("vendor_id"); s != "" {
		id, err := uuid.Parse(s)
		v.Check(err == nil && len(s) == 36, "vendor_id", "must be a vendor id")
		f.Vendor = &id
	}
	if err := v.Err(); err != nil {
		return f, err
	}
	f.Vendor = scopeVendor(f.Vendor, scope)
	return f, nil
}

// adjustmentRequest is the body of POST /inventory/adjustments. Quantities
// are JSON integers: a float, a string or a number beyond int64 is a 400.
type adjustmentRequest struct {
	SKU        *string `json:"sku"`
	VariantID  *string `json:"variant_id"`
	LocationID *string `json:"location_id"`
	Delta      *int64  `json:"delta"`
	Set        *int64  `json:"set"`
	Reason     string  `json:"reason"`
}

// toCommand validates the ids and the either-or fields of the request.
func (in adjustmentRequest) toCommand(c *caller, by commands.By) (commands.AdjustInventory, error) {
	cmd := commands.AdjustInventory{Tenant: c.Acting, By: by, VendorScope: c.vendorScope(), Delta: in.Delta, Set: in.Set, Reason: in.Reason}
	var v errs.Collector
	switch {
	case in.SKU != nil && in.VariantID != nil:
		v.Add("sku", "give either sku or variant_id, not both")
	case in.VariantID != nil:
		id, err := catalog.ParseVariantID(*in.VariantID)
		v.Check(err == nil && !id.IsZero(), "variant_id", "must be a variant id")
		cmd.Variant = &id
	case in.SKU != nil:
		cmd.SKU = *in.SKU
		v.Check(*in.SKU != "", "sku", "must not be empty")
	}
	if in.LocationID != nil {
		id, err := store.ParseLocationID(*in.LocationID)
		v.Check(err == nil && !id.IsZero(), "location_id", "must be a location id")
		cmd.Location = id
	}
	if in.Delta != nil && in.Set != nil {
		v.Add("delta", "give either delta or set, not both")
	}
	return cmd, v.Err()
}

// adjustInventory is POST /inventory/adjustments: 201 with the stock level
// of the variant at the location afterwards.
func (s *Server) adjustInventory(w http.ResponseWriter, r *http.Request) {
	var in adjustmentRequest
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	c := callerFrom(r.Context())
	cmd, err := in.toCommand(c, c.by(r))
	if err != nil {
		writeError(w, r, err)
		return
	}
	var done *commands.StockLevel
	s.execute(w, r, http.StatusCreated, func(ctx context.Context) (commands.Result, error) {
		lvl, res, err := s.Commands.AdjustInventory(ctx, cmd)
		if err == nil {
			done = &lvl
		}
		return res, err
	}, func(ctx context.Context) (view, error) {
		return s.stockLevelView(ctx, cmd, done)
	})
}

// stockLevelView is the stock level an adjustment left: the command's own
// result (exact as of its commit, whatever the read model's lag), with the
// row's last change time when the adjustment changed nothing. A replayed
// request whose twin's response was lost (done is nil) is answered from the
// read model.
func (s *Server) stockLevelView(ctx context.Context, cmd commands.AdjustInventory, done *commands.StockLevel) (view, error) {
	if done != nil {
		l := levelFromCommand(*done)
		if done.At.IsZero() {
			if row, err := stocklevels.Get(ctx, s.Pool, cmd.Tenant, done.Variant.UUID, done.Location.UUID); err == nil {
				l.UpdatedAt, l.Version = row.UpdatedAt, row.Version
			}
		}
		return view{body: l, version: done.Version}, nil
	}
	variant, loc, err := s.Commands.StockTarget(ctx, cmd)
	if err != nil {
		return view{}, err
	}
	l, err := stocklevels.Get(ctx, s.Pool, cmd.Tenant, variant.UUID, loc.UUID)
	if err != nil {
		return view{}, err
	}
	return view{body: l, version: 0}, nil
}

func levelFromCommand(d commands.StockLevel) stocklevels.Level {
	product, vendor := d.Product.UUID, d.Vendor
	return stocklevels.Level{VariantID: d.Variant.UUID, SKU: d.SKU.String(), ProductID: &product, VendorID: &vendor,
		LocationID: d.Location.UUID, OnHand: d.OnHand, Reserved: d.Reserved, Available: d.Available, Version: d.Version, UpdatedAt: d.At}
}
