package productviews

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/projections"
)

// GetAsOf returns the product as it stood at u (same shape as Get with
// storefront false) built by this projector from the events of the
// product's stream, its variants' stock streams and the shop's categories
// up to u, and the position of the last of them. A product whose stream
// had no event by u is eventstore.ErrNotFound, like a missing one.
func GetAsOf(ctx context.Context, pool *pgxpool.Pool, reg *eventstore.Registry, t tenant.ID, id uuid.UUID, u eventstore.Until) (Product, eventstore.Position, error) {
	const related = `SELECT id FROM product_variants WHERE tenant_id = $1 AND product_id = $2
UNION ALL SELECT id FROM categories WHERE tenant_id = $1`
	rows, err := pool.Query(ctx, related, t, id)
	if err != nil {
		return Product{}, eventstore.Position{}, fmt.Errorf("product %s as of: %w", id, err)
	}
	streams, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return Product{}, eventstore.Position{}, fmt.Errorf("product %s as of: %w", id, err)
	}
	envs, err := eventstore.ReadStreamsUntil(ctx, pool, t, append(streams, id), u)
	if err != nil {
		return Product{}, eventstore.Position{}, err
	}
	var last eventstore.Position
	found := false
	for _, e := range envs {
		found = found || e.StreamID == id
		last = e.Position
	}
	if !found {
		return Product{}, eventstore.Position{}, fmt.Errorf("product %s as of: %w", id, eventstore.ErrNotFound)
	}
	var p Product
	err = projections.AsOf(ctx, pool, Projector{Registry: reg}, envs, func(ctx context.Context, q eventstore.Querier) error {
		var err error
		p, err = Get(ctx, q, t, id.String(), false)
		return err
	})
	return p, last, err
}
