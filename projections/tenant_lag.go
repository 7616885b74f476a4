package projections

import (
	"context"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

// TenantLag is how far one read model is behind on one tenant's events.
// It holds nothing about other tenants: no global position, count or error.
type TenantLag struct {
	Model string `json:"model"`
	// LagEvents counts the tenant's events the live generation has not
	// applied yet (at most TenantLagCap).
	LagEvents int `json:"lag_events"`
	// LagSeconds is the age of the oldest of them (0 when none).
	LagSeconds float64 `json:"lag_seconds"`
}

// TenantLagCap bounds TenantLag's count so a read stays cheap.
const TenantLagCap = 10_000

// TenantLag returns, for every model with a live generation, how many of
// tenant t's events it has yet to apply and how old the oldest is.
func (r *Runner) TenantLag(ctx context.Context, t tenant.ID) ([]TenantLag, error) {
	const q = `SELECT model, tx_id::text, position FROM projections WHERE state = 'live' ORDER BY model`
	rows, err := r.pool.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	type live struct {
		model string
		cp    eventstore.Position
	}
	lives, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (live, error) {
		var l live
		var txText string
		if err := row.Scan(&l.model, &txText, &l.cp.Pos); err != nil {
			return l, err
		}
		l.cp.Tx, err = strconv.ParseUint(txText, 10, 64)
		return l, err
	})
	if err != nil {
		return nil, err
	}
	out := make([]TenantLag, 0, len(lives))
	for _, l := range lives {
		n, age, err := eventstore.TenantLag(ctx, r.pool, t.UUID, l.cp, TenantLagCap)
		if err != nil {
			return nil, err
		}
		out = append(out, TenantLag{Model: l.model, LagEvents: n, LagSeconds: age.Seconds()})
	}
	return out, nil
}
