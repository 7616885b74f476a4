package projections

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/database"
	"github.com/honten/honten/internal/progress"
)

// ErrUnknownModel means no projector builds the named read model.
var ErrUnknownModel = errs.NotFoundf("projection")

// ErrRebuildRunning means a rebuild of the model is already under way.
var ErrRebuildRunning = errs.Conflict("rebuild_running", "a rebuild of this read model is already running")

// Models returns the read model names, in registration order.
func (r *Runner) Models() []string {
	out := make([]string, len(r.projectors))
	for i, p := range r.projectors {
		out[i] = Model(p.Name())
	}
	return out
}

// Rebuild replays the whole log into a new generation of model: tables
// without secondary indexes, large batches, then the indexes, a catch-up to
// the head of the feed, and an atomic swap of the public views. Readers keep
// reading the old generation until the swap. The old generation is dropped
// afterwards. rep may be nil.
//
// It returns ErrUnknownModel, ErrRebuildRunning, or the failure that stopped
// it (the half-built generation is then dropped).
func (r *Runner) Rebuild(ctx context.Context, model string, rep progress.Reporter) error {
	job, err := r.startRebuild(ctx, model)
	if err != nil {
		return err
	}
	return job.run(ctx, rep)
}

// RebuildAsync starts a rebuild of model in the background and returns once
// it holds the model's rebuild lock: ErrUnknownModel and ErrRebuildRunning
// are reported at once, later failures are logged.
//
// The rebuild runs under the context Run was given, so it stops (and its
// half-built generation is dropped) when the process shuts down.
func (r *Runner) RebuildAsync(ctx context.Context, model string) error {
	job, err := r.startRebuild(ctx, model)
	if err != nil {
		return err
	}
	r.mu.Lock()
	base := r.base
	r.jobs.Add(1)
	r.mu.Unlock()
	if base == nil {
		base = context.Background()
	}
	go func() {
		defer r.jobs.Done()
		if err := job.run(base, nil); err != nil && base.Err() == nil {
			r.log.Error("rebuild failed", "projection", model, "err", err)
		}
	}()
	return nil
}

type rebuildJob struct {
	r     *Runner
	p     Projector
	model string
	conn  *pgxpool.Conn
}

func (r *Runner) startRebuild(ctx context.Context, model string) (*rebuildJob, error) {
	p, ok := r.byModel[model]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownModel, model)
	}
	// A rebuild replays every tenant: the worker's role, even when a
	// request started it.
	conn, err := r.pool.Acquire(database.WithoutTenant(ctx))
	if err != nil {
		return nil, err
	}
	var locked bool
	if err := conn.QueryRow(ctx, lockSQL, model+":rebuild").Scan(&locked); err != nil {
		conn.Release()
		return nil, err
	}
	if !locked {
		conn.Release()
		return nil, ErrRebuildRunning
	}
	return &rebuildJob{r: r, p: p, model: model, conn: conn}, nil
}

func (j *rebuildJob) run(ctx context.Context, rep progress.Reporter) error {
	r, p, model, conn := j.r, j.p, j.model, j.conn
	defer conn.Release()
	defer conn.Exec(context.WithoutCancel(ctx), unlockSQL, model+":rebuild") //nolint:errcheck
	if rep == nil {
		rep = (*progress.Bar)(nil)
	}
	var err error

	started := time.Now()
	if err := r.dropGenerations(ctx, model, "building"); err != nil {
		return err
	}
	var g generation
	err = pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		if err := lockDDL(ctx, tx, model); err != nil {
			return err
		}
		g, err = createGeneration(ctx, tx, p, "building")
		return err
	})
	if err != nil {
		return err
	}
	log := r.log.With("projection", p.Name(), "generation", g.Generation)
	log.Info("rebuild started", "schema", g.Schema)

	built := false
	defer func() {
		if !built {
			if err := r.dropGeneration(context.WithoutCancel(ctx), g); err != nil {
				log.Error("rebuild: dropping the half-built generation failed", "err", err)
			}
		}
	}()

	name := lockName(g.Model, g.Generation)
	var locked bool
	if err := conn.QueryRow(ctx, lockSQL, name).Scan(&locked); err != nil {
		return fmt.Errorf("projections: lock new generation %s: %w", g.Schema, err)
	}
	if !locked {
		return fmt.Errorf("projections: lock new generation %s: %w", g.Schema, errNotLeader)
	}
	defer conn.Exec(context.WithoutCancel(ctx), unlockSQL, name) //nolint:errcheck

	var total int64
	if err := r.pool.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&total); err != nil {
		return err
	}
	rep.Total(total)
	replay := func(size int) error {
		for ctx.Err() == nil {
			n, err := r.batch(ctx, conn, p, g, size)
			if err != nil {
				return err
			}
			rep.Add(int64(n))
			if n == 0 {
				return nil
			}
		}
		return ctx.Err()
	}
	if err := replay(r.opts.RebuildBatchSize); err != nil {
		return err
	}
	if s := p.Schema(); s.Index != "" {
		if _, err := conn.Exec(ctx, `SELECT `+quote(s.Index)+`($1)`, g.Schema); err != nil {
			return fmt.Errorf("projections: index %s: %w", g.Schema, err)
		}
	}
	for _, t := range p.Schema().Tables {
		if _, err := conn.Exec(ctx, `ANALYZE `+quote(g.Schema)+`.`+quote(t)); err != nil {
			return err
		}
	}
	// Follow the live feed until caught up, then swap.
	if err := replay(r.opts.BatchSize); err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		if err := lockDDL(ctx, tx, model); err != nil {
			return err
		}
		if err := swapViews(ctx, tx, p, g.Schema); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE projections SET state = 'retired', updated_at = now() WHERE model = $1 AND state = 'live'`, model); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE projections SET state = 'live', updated_at = now() WHERE model = $1 AND generation = $2`, model, g.Generation)
		return err
	})
	if err != nil {
		return fmt.Errorf("projections: swap %s: %w", g.Schema, err)
	}
	built = true
	rep.Done()
	log.Info("rebuild swapped in", "took", time.Since(started).Round(time.Millisecond).String())
	r.Nudge()
	return r.dropGenerations(ctx, model, "retired")
}

// dropGenerations drops every generation of model in state.
func (r *Runner) dropGenerations(ctx context.Context, model, state string) error {
	rows, err := r.pool.Query(ctx, `SELECT generation, schema_name FROM projections WHERE model = $1 AND state = $2`, model, state)
	if err != nil {
		return err
	}
	gens, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (generation, error) {
		g := generation{Model: model, State: state}
		return g, row.Scan(&g.Generation, &g.Schema)
	})
	if err != nil {
		return err
	}
	for _, g := range gens {
		if err := r.dropGeneration(ctx, g); err != nil {
			return err
		}
	}
	return nil
}

func (r *Runner) dropGeneration(ctx context.Context, g generation) error {
	return pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM projections WHERE model = $1 AND generation = $2 AND state <> 'live'`, g.Model, g.Generation); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DROP SCHEMA IF EXISTS `+quote(g.Schema)+` CASCADE`)
		return err
	})
}

// Status is the state of one generation of a read model.
type Status struct {
	Name          string     `json:"name"`
	Model         string     `json:"model"`
	Generation    int        `json:"generation"`
	State         string     `json:"state"`
	Position      string     `json:"position"`
	EventsApplied int64      `json:"events_applied"`
	LagEvents     int        `json:"lag_events"`
	LagSeconds    float64    `json:"lag_seconds"`
	LastEventAt   *time.Time `json:"last_event_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	LastError     *string    `json:"last_error"`
	// Active reports that this process runs the live tail of the model.
	Active bool `json:"active_here"`
}

// Liveness is Status without the lag counts, for readiness probes: every
// generation's state and its lag in seconds (the age of the oldest event it
// has not applied, one index seek each); LagEvents is left zero.
func (r *Runner) Liveness(ctx context.Context) ([]Status, error) {
	rows, err := r.pool.Query(ctx, `SELECT model, generation, version, state, tx_id::text, position FROM projections ORDER BY model, generation`)
	if err != nil {
		return nil, err
	}
	var out []Status
	var cps []eventstore.Position
	for rows.Next() {
		var s Status
		var txText string
		var cp eventstore.Position
		if err := rows.Scan(&s.Model, &s.Generation, &s.Name, &s.State, &txText, &cp.Pos); err != nil {
			rows.Close()
			return nil, err
		}
		fmt.Sscan(txText, &cp.Tx) //nolint:errcheck // xid8 text is a number
		s.Position = cp.Token()
		out = append(out, s)
		cps = append(cps, cp)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].State != "live" {
			continue
		}
		age, err := eventstore.LagAge(ctx, r.pool, cps[i])
		if err != nil {
			return nil, err
		}
		out[i].LagSeconds = age.Seconds()
	}
	return out, nil
}

// lagCap bounds the lag count so a status read stays cheap.
const lagCap = 1_000_000

// Status returns every generation of every read model with its checkpoint
// and lag (in events, capped at a million, and in seconds).
func (r *Runner) Status(ctx context.Context) ([]Status, error) {
	const q = `SELECT model, generation, version, state, tx_id::text, position, events_applied,
       last_event_at, updated_at, last_error
FROM projections ORDER BY model, generation`
	rows, err := r.pool.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	var out []Status
	var cps []eventstore.Position
	for rows.Next() {
		var s Status
		var txText string
		var cp eventstore.Position
		if err := rows.Scan(&s.Model, &s.Generation, &s.Name, &s.State, &txText, &cp.Pos, &s.EventsApplied,
			&s.LastEventAt, &s.UpdatedAt, &s.LastError); err != nil {
			rows.Close()
			return nil, err
		}
		fmt.Sscan(txText, &cp.Tx) //nolint:errcheck // xid8 text is a number
		s.Position = cp.Token()
		out = append(out, s)
		cps = append(cps, cp)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	r.mu.Lock()
	for i := range out {
		out[i].Active = out[i].State == "live" && r.running[out[i].Model]
	}
	r.mu.Unlock()
	for i := range out {
		n, age, err := eventstore.Lag(ctx, r.pool, cps[i], lagCap)
		if err != nil {
			return nil, err
		}
		out[i].LagEvents, out[i].LagSeconds = n, age.Seconds()
	}
	return out, nil
}

// ErrNotCaughtUp means a read-your-writes wait ran out of time.
var ErrNotCaughtUp = errs.New(errs.KindUnavailable, "not_caught_up", "the read models have not caught up with the requested position yet; retry shortly")

// WaitFor waits until the live generation of every named model (when none
// are named: every model but the external ones) has applied the event at
// pos, or ctx ends (then it returns ErrNotCaughtUp).
func (r *Runner) WaitFor(ctx context.Context, pos eventstore.Position, models ...string) error {
	if len(models) == 0 {
		models = r.internal
	}
	// The hand-over serves only models whose projector runs here; another
	// process's commits are seen by polling.
	r.mu.Lock()
	local := true
	for _, m := range models {
		local = local && r.running[m]
	}
	r.mu.Unlock()
	if !local {
		return WaitFor(ctx, r.pool, nil, pos, models...)
	}
	// A waiter keeps the projectors from lingering between batches.
	r.waiters.Add(1)
	defer r.waiters.Add(-1)
	r.hurryAll()
	return WaitFor(ctx, r.pool, r.appliedCh, pos, models...)
}

// CaughtUp reports whether the live generation of every model kept in
// PostgreSQL has applied the event at pos, with one look at the
// checkpoints (it does not wait).
func (r *Runner) CaughtUp(ctx context.Context, pos eventstore.Position) (bool, error) {
	const q = `SELECT count(*) FROM projections
WHERE state = 'live' AND model = ANY($1) AND (tx_id, position) < ($2::text::xid8, $3::bigint)`
	var behind int
	if err := r.pool.QueryRow(ctx, q, r.internal, pos.TxText(), pos.Pos).Scan(&behind); err != nil {
		return false, fmt.Errorf("projections caught up: %w", err)
	}
	return behind == 0, nil
}

// InternalModels returns the models kept in PostgreSQL (not External).
func (r *Runner) InternalModels() []string { return slices.Clone(r.internal) }

// WaitFor is Runner.WaitFor for processes that do not run the projectors
// (API-only): it polls the checkpoints. applied, when not nil, returns a
// channel closed at the next local batch commit.
func WaitFor(ctx context.Context, pool *pgxpool.Pool, applied func() <-chan struct{}, pos eventstore.Position, models ...string) error {
	const q = `SELECT count(*) FROM projections
WHERE state = 'live' AND (cardinality($1::text[]) = 0 OR model = ANY($1))
  AND (tx_id, position) < ($2::text::xid8, $3::bigint)`
	if models == nil {
		models = []string{}
	}
	// With the projectors in this process, a batch commit hands the wait
	// over at once (applied); the timer is only a safety net. Without them,
	// the checkpoints are polled, backing off to 100ms.
	delay, maxDelay := 2*time.Millisecond, 100*time.Millisecond
	if applied != nil {
		delay, maxDelay = 250*time.Millisecond, 500*time.Millisecond
	}
	for {
		var ch <-chan struct{}
		if applied != nil {
			ch = applied()
		}
		var behind int
		if err := pool.QueryRow(ctx, q, models, pos.TxText(), pos.Pos).Scan(&behind); err != nil {
			if ctx.Err() != nil {
				return ErrNotCaughtUp
			}
			return err
		}
		if behind == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ErrNotCaughtUp
		case <-ch:
		case <-time.After(delay):
			delay = min(delay*2, maxDelay)
		}
	}
}

// CatchUp returns once model's live generation has applied the log as it
// stands when CatchUp is called. Where no runner leads the model (a loader
// working before Run starts, such as the demo's), it applies the events
// itself, in this goroutine, under the model's leader lock; where a runner
// leads it, it waits for that runner. It returns ErrUnknownModel, or
// ErrNotCaughtUp when ctx ends first.
func (r *Runner) CatchUp(ctx context.Context, model string) error {
	p, ok := r.byModel[model]
	if !ok {
		return ErrUnknownModel
	}
	head, err := eventstore.Head(ctx, r.pool)
	if err != nil {
		return fmt.Errorf("catch up %s: %w", model, err)
	}
	if err := r.ensure(ctx, p); err != nil {
		return fmt.Errorf("catch up %s: %w", model, err)
	}
	for {
		g, err := liveGeneration(ctx, r.pool, model)
		if err != nil {
			return fmt.Errorf("catch up %s: %w", model, err)
		}
		if g.Version != p.Name() {
			// The code's projector differs from the live generation's: as
			// a live tail would, rebuild (the rebuild replays up to now).
			if err := r.Rebuild(ctx, model, nil); err != nil && !errors.Is(err, ErrRebuildRunning) {
				return fmt.Errorf("catch up %s: %w", model, err)
			}
			return r.WaitFor(ctx, head, model)
		}
		err = r.lead(ctx, p, g, func(conn *pgxpool.Conn) error {
			for {
				n, err := r.batch(ctx, conn, p, g, r.opts.BatchSize)
				if err != nil || n == 0 {
					return err
				}
			}
		})
		switch {
		case errors.Is(err, errNotLeader):
			return r.WaitFor(ctx, head, model)
		case errors.Is(err, errRetired):
			continue
		case err != nil:
			return fmt.Errorf("catch up %s: %w", model, err)
		}
		// The feed stops below the oldest open transaction: if one held
		// it back, read again shortly.
		const q = `SELECT count(*) FROM projections
WHERE state = 'live' AND model = $1 AND (tx_id, position) < ($2::text::xid8, $3::bigint)`
		var behind int
		if err := r.pool.QueryRow(ctx, q, model, head.TxText(), head.Pos).Scan(&behind); err != nil {
			return fmt.Errorf("catch up %s: %w", model, err)
		}
		if behind == 0 {
			return nil
		}
		sleep(ctx, r.opts.MinPoll)
		if ctx.Err() != nil {
			return ErrNotCaughtUp
		}
	}
}
