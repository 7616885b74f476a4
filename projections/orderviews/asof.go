package orderviews

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

// GetAsOf returns the order as it stood at u: its detail (same shape as
// Get, vendor scope included) built by this projector from the events of
// the order's stream and its payments' and shipments' streams up to u, and
// the position of the last of them. An order whose stream had no event by
// u is eventstore.ErrNotFound, like a missing one.
func GetAsOf(ctx context.Context, pool *pgxpool.Pool, reg *eventstore.Registry, t tenant.ID, id uuid.UUID, scope *uuid.UUID, u eventstore.Until) (Detail, eventstore.Position, error) {
	const related = `SELECT payment_id FROM order_view_payments WHERE tenant_id = $1 AND order_id = $2
UNION ALL SELECT shipment_id FROM order_view_shipments WHERE tenant_id = $1 AND order_id = $2`
	rows, err := pool.Query(ctx, related, t, id)
	if err != nil {
		return Detail{}, eventstore.Position{}, fmt.Errorf("order %s as of: %w", id, err)
	}
	streams, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return Detail{}, eventstore.Position{}, fmt.Errorf("order %s as of: %w", id, err)
	}
	envs, err := eventstore.ReadStreamsUntil(ctx, pool, t, append(streams, id), u)
	if err != nil {
		return Detail{}, eventstore.Position{}, err
	}
	// The buyer's personal data is sealed in the log (erased when forgotten).
	if err := reg.Unseal(ctx, pool, envs); err != nil {
		return Detail{}, eventstore.Position{}, fmt.Errorf("order %s as of: %w", id, err)
	}
	var last eventstore.Position
	found := false
	for _, e := range envs {
		found = found || e.StreamID == id
		last = e.Position
	}
	if !found {
		return Detail{}, eventstore.Position{}, fmt.Errorf("order %s as of: %w", id, eventstore.ErrNotFound)
	}
	var d Detail
	err = projections.AsOf(ctx, pool, Projector{Registry: reg}, envs, func(ctx context.Context, q eventstore.Querier) error {
		var err error
		d, err = Get(ctx, q, t, id, scope)
		return err
	})
	return d, last, err
}
