package projections

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/honten/honten/eventstore"
)

// AsOf shows a read model as it stood in the past: in a transaction that
// is always rolled back, it creates empty temporary copies of p's tables
// (its Create function in schema pg_temp, which unqualified names resolve
// to first), applies envs with p's own Apply — the same code that builds
// the live model — and calls read with that transaction, so the model's
// usual queries read the past. envs are the events of the entities asked
// for, up to the moment asked for, in global order.
func AsOf(ctx context.Context, pool *pgxpool.Pool, p Projector, envs []eventstore.Envelope, read func(ctx context.Context, q eventstore.Querier) error) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("as of: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	fn := p.Schema().Create
	if !nameRe.MatchString(fn + ".v1") {
		return fmt.Errorf("as of: bad create function %q", fn)
	}
	if _, err := tx.Exec(ctx, `SELECT `+pgx.Identifier{fn}.Sanitize()+`('pg_temp')`); err != nil {
		return fmt.Errorf("as of %s: %w", p.Name(), err)
	}
	if len(envs) > 0 {
		if err := p.Apply(ctx, tx, envs); err != nil {
			return fmt.Errorf("as of %s: %w", p.Name(), err)
		}
	}
	return read(ctx, tx)
}
