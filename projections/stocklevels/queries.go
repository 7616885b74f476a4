package stocklevels

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/projections"
)

// Level is the stock of one variant at one location.
type Level struct {
	VariantID  uuid.UUID  `json:"variant_id"`
	SKU        string     `json:"sku"`
	ProductID  *uuid.UUID `json:"product_id"`
	VendorID   *uuid.UUID `json:"vendor_id"`
	LocationID uuid.UUID  `json:"location_id"`
	OnHand     int64      `json:"on_hand"`
	Reserved   int64      `json:"reserved"`
	Available  int64      `json:"available"`
	// Version is the inventory stream's version when the row last changed.
	Version   int64     `json:"version"`
	UpdatedAt time.Time `json:"updated_at"`
}

const levelCols = `variant_id, sku, product_id, vendor_id, location_id, on_hand, reserved, available, version, updated_at`

func scanLevel(r pgx.CollectableRow) (Level, error) {
	var l Level
	err := r.Scan(&l.VariantID, &l.SKU, &l.ProductID, &l.VendorID, &l.LocationID, &l.OnHand, &l.Reserved, &l.Available, &l.Version, &l.UpdatedAt)
	l.UpdatedAt = l.UpdatedAt.UTC()
	return l, err
}

// Filter narrows List; zero fields do not filter.
type Filter struct {
	// SKU matches case-insensitively, like SKU uniqueness.
	SKU      string
	Location *uuid.UUID
	Variant  *uuid.UUID
	// Vendor limits the list to one vendor's products (vendor staff).
	Vendor *uuid.UUID
}

// cursor is List's sort key.
type cursor struct {
	SKU      string    `json:"s"`
	Variant  uuid.UUID `json:"v"`
	Location uuid.UUID `json:"l"`
}

// List returns tenant t's stock levels matching f, by SKU, then variant,
// then location. It returns projections.ErrBadCursor for a cursor it did
// not issue.
func List(ctx context.Context, q eventstore.Querier, t tenant.ID, f Filter, p projections.Page) (projections.List[Level], error) {
	var after cursor
	hasCursor, err := p.DecodeCursor(&after)
	if err != nil {
		return projections.List[Level]{}, err
	}
	var sku *string
	if f.SKU != "" {
		k := strings.ToUpper(strings.TrimSpace(f.SKU))
		sku = &k
	}
	const query = `SELECT ` + levelCols + ` FROM stock_levels
WHERE tenant_id = $1
  AND ($2::text IS NULL OR upper(sku) = $2)
  AND ($3::uuid IS NULL OR location_id = $3)
  AND ($4::uuid IS NULL OR variant_id = $4)
  AND ($5::uuid IS NULL OR vendor_id = $5)
  AND (NOT $6 OR (sku, variant_id, location_id) > ($7, $8, $9))
ORDER BY sku, variant_id, location_id
LIMIT $10`
	rows, err := q.Query(ctx, query, t, sku, f.Location, f.Variant, f.Vendor, hasCursor, after.SKU, after.Variant, after.Location, p.Limit+1)
	if err != nil {
		return projections.List[Level]{}, fmt.Errorf("list stock levels: %w", err)
	}
	ls, err := pgx.CollectRows(rows, scanLevel)
	if err != nil {
		return projections.List[Level]{}, fmt.Errorf("list stock levels: %w", err)
	}
	return projections.NewList(ls, p.Limit, func(l Level) any { return cursor{l.SKU, l.VariantID, l.LocationID} }), nil
}

// Get returns the stock of variant v at location loc, or eventstore.ErrNotFound.
func Get(ctx context.Context, q eventstore.Querier, t tenant.ID, v, loc uuid.UUID) (Level, error) {
	rows, err := q.Query(ctx, `SELECT `+levelCols+` FROM stock_levels WHERE tenant_id = $1 AND variant_id = $2 AND location_id = $3`, t, v, loc)
	if err != nil {
		return Level{}, fmt.Errorf("stock level: %w", err)
	}
	l, err := pgx.CollectExactlyOneRow(rows, scanLevel)
	if errors.Is(err, pgx.ErrNoRows) {
		return Level{}, fmt.Errorf("stock of %s at %s: %w", v, loc, eventstore.ErrNotFound)
	}
	if err != nil {
		return Level{}, fmt.Errorf("stock level: %w", err)
	}
	return l, nil
}

// Totals is a variant's stock summed over locations.
type Totals struct {
	OnHand    int64 `json:"on_hand"`
	Reserved  int64 `json:"reserved"`
	Available int64 `json:"available"`
}

// ForVariants returns the totals of each of tenant t's variants, summed
// over every location, or over locations only when it is not empty (the
// locations a product sells from). Every variant asked for is in the map;
// one with no stock record has zero totals.
func ForVariants(ctx context.Context, q eventstore.Querier, t tenant.ID, variants []catalog.VariantID, locations []uuid.UUID) (map[catalog.VariantID]Totals, error) {
	out := make(map[catalog.VariantID]Totals, len(variants))
	if len(variants) == 0 {
		return out, nil
	}
	ids := make([]uuid.UUID, len(variants))
	for i, v := range variants {
		ids[i] = v.UUID
		out[v] = Totals{}
	}
	var only []uuid.UUID
	if len(locations) > 0 {
		only = locations
	}
	const query = `SELECT variant_id, sum(on_hand)::bigint, sum(reserved)::bigint, sum(available)::bigint
FROM stock_levels
WHERE tenant_id = $1 AND variant_id = ANY($2) AND ($3::uuid[] IS NULL OR location_id = ANY($3))
GROUP BY variant_id`
	rows, err := q.Query(ctx, query, t, ids, only)
	if err != nil {
		return nil, fmt.Errorf("stock totals: %w", err)
	}
	var id uuid.UUID
	var tot Totals
	if _, err := pgx.ForEachRow(rows, []any{&id, &tot.OnHand, &tot.Reserved, &tot.Available}, func() error {
		out[catalog.VariantID{UUID: id}] = tot
		return nil
	}); err != nil {
		return nil, fmt.Errorf("stock totals: %w", err)
	}
	return out, nil
}

// Low returns tenant t's stock levels with at most threshold units
// available, fewest first (at most limit), limited to vendor when not nil.
func Low(ctx context.Context, q eventstore.Querier, t tenant.ID, threshold int64, vendor *uuid.UUID, limit int) ([]Level, error) {
	const query = `SELECT ` + levelCols + ` FROM stock_levels
WHERE tenant_id = $1 AND available <= $2 AND ($3::uuid IS NULL OR vendor_id = $3)
ORDER BY available, sku, location_id
LIMIT $4`
	rows, err := q.Query(ctx, query, t, threshold, vendor, limit)
	if err != nil {
		return nil, fmt.Errorf("low stock: %w", err)
	}
	ls, err := pgx.CollectRows(rows, scanLevel)
	if err != nil {
		return nil, fmt.Errorf("low stock: %w", err)
	}
	return ls, nil
}
