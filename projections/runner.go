package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/metrics"
)

// Options tune a Runner. The zero value gives the defaults.
type Options struct {
	// BatchSize is the live batch size; 0 means 1000.
	BatchSize int
	// RebuildBatchSize is the replay batch size; 0 means 5000.
	RebuildBatchSize int
	// MinPoll and MaxPoll bound the idle polling backoff; 0 means 5ms and
	// 100ms, or 5ms and 5s with Changes.
	MinPoll, MaxPoll time.Duration
	// Changes, when set, returns a channel closed when the feed may hold
	// something new (eventstore.Watcher.Changes): an idle projector waits
	// on it, and its own polling is only a safety net.
	Changes func() <-chan struct{}
	// LockRetry is how often a standby instance retries the leader lock; 0 means 1s.
	LockRetry time.Duration
	// Grace bounds the batch in flight when Run's context ends; 0 means 10s.
	Grace time.Duration
	// Coalesce is how long a projector woken by a commit waits for more
	// commits before reading, so a busy store's events are applied in
	// batches rather than one commit each; 0 means 5ms, negative none.
	Coalesce time.Duration
	// Linger is how long a projector that just applied a partial batch
	// (busy, but caught up) lets further commits gather before it reads
	// again, so that under a steady stream of commits each batch, and its
	// one checkpoint row, carries several commits' events rather than one.
	// It is skipped while a caller waits in WaitFor (read-your-writes) and
	// after a full batch (behind: the next batch is read at once). 0 means
	// 20ms, negative none.
	Linger time.Duration
	// Gather is how long the first live tail asking for a batch waits for
	// the other tails of this runner to ask too, so that their batches
	// are applied in one transaction (see liveBatch); it stops waiting
	// once every running tail has asked. 0 means 2ms, negative: every
	// projector commits its own batches.
	Gather time.Duration
	// Logger receives the runner's logs; nil discards them.
	Logger *slog.Logger
	// Registry, when set, unseals the personal data of every batch before
	// the projector applies it (Registry.Unseal); without it, sealed fields
	// read as erased.
	Registry *eventstore.Registry
}

func (o *Options) defaults() {
	if o.BatchSize <= 0 {
		o.BatchSize = 1000
	}
	if o.RebuildBatchSize <= 0 {
		o.RebuildBatchSize = 5000
	}
	if o.MinPoll <= 0 {
		o.MinPoll = 5 * time.Millisecond
	}
	if o.MaxPoll <= 0 {
		o.MaxPoll = 100 * time.Millisecond
		if o.Changes != nil {
			o.MaxPoll = 5 * time.Second
		}
	}
	if o.LockRetry <= 0 {
		o.LockRetry = time.Second
	}
	if o.Grace <= 0 {
		o.Grace = 10 * time.Second
	}
	if o.Coalesce == 0 {
		o.Coalesce = 5 * time.Millisecond
	}
	if o.Linger == 0 {
		o.Linger = 20 * time.Millisecond
	}
	if o.Gather == 0 {
		o.Gather = 2 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Runner runs projectors: live tails, rebuilds, status and read-your-writes waits.
type Runner struct {
	pool       *pgxpool.Pool
	projectors []Projector
	byModel    map[string]Projector
	feeds      map[string]eventstore.FeedFilter // by model: the payloads its batches read
	payloads   map[string]map[string]bool       // by model: its PayloadTypes as a set
	external   map[string]bool                  // the models kept outside PostgreSQL
	internal   []string                         // the models kept in PostgreSQL
	opts       Options
	log        *slog.Logger

	mu      sync.Mutex
	base    context.Context // Run's context, for background rebuilds
	jobs    sync.WaitGroup
	wake    map[string]chan struct{}
	applied chan struct{} // closed and replaced after every committed batch
	running map[string]bool
	waiters atomic.Int64             // callers in WaitFor on this process's projectors
	hurry   map[string]chan struct{} // by model: a caller began to wait; stop lingering
	// held is how many projectors this runner leads (or is about to);
	// instances is how many runners of this database are live (see share).
	held, instances int

	// Group batches (liveBatch): the queued requests, whether a leader
	// is gathering or applying them, and a poke for the gathering leader.
	gmu      sync.Mutex
	gqueue   []*batchReq
	gbusy    bool
	garrived chan struct{}
}

// NewRunner returns a runner for projectors on pool. It returns an error for
// a malformed projector or two projectors of one model.
func NewRunner(pool *pgxpool.Pool, projectors []Projector, opts Options) (*Runner, error) {
	opts.defaults()
	r := &Runner{pool: pool, opts: opts, log: opts.Logger, byModel: map[string]Projector{}, feeds: map[string]eventstore.FeedFilter{},
		payloads: map[string]map[string]bool{}, external: map[string]bool{},
		wake: map[string]chan struct{}{}, applied: make(chan struct{}), running: map[string]bool{}, hurry: map[string]chan struct{}{},
		garrived: make(chan struct{}, 1)}
	for _, p := range projectors {
		if err := validate(p); err != nil {
			return nil, err
		}
		m := Model(p.Name())
		if _, dup := r.byModel[m]; dup {
			return nil, fmt.Errorf("projections: two projectors for model %s", m)
		}
		r.byModel[m] = p
		s := p.Schema()
		r.feeds[m] = eventstore.FeedFilter{PayloadTypes: s.PayloadTypes, NoPayload: s.NoPayloads}
		r.payloads[m] = map[string]bool{}
		for _, t := range s.PayloadTypes {
			r.payloads[m][t] = true
		}
		if s.External {
			r.external[m] = true
		} else {
			r.internal = append(r.internal, m)
		}
		r.projectors = append(r.projectors, p)
		r.wake[m] = make(chan struct{}, 1)
		r.hurry[m] = make(chan struct{}, 1)
	}
	return r, nil
}

// Projectors returns the runner's projectors.
func (r *Runner) Projectors() []Projector { return r.projectors }

// Nudge wakes every idle projector now (the event store calls it after a
// commit in this process), instead of at its next poll.
func (r *Runner) Nudge() {
	for _, ch := range r.wake {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// generation is one row of the projections registry.
type generation struct {
	Model      string
	Generation int
	Version    string
	Schema     string
	State      string
	Checkpoint eventstore.Position
}

const lockSQL = `SELECT pg_try_advisory_lock(hashtextextended('honten.projection:' || $1, 0))`
const unlockSQL = `SELECT pg_advisory_unlock(hashtextextended('honten.projection:' || $1, 0))`

func lockName(model string, gen int) string { return model + ":" + strconv.Itoa(gen) }

// lockDDL serialises, until tx ends, the changes to model's generations
// (creating one, swapping the views).
func lockDDL(ctx context.Context, tx pgx.Tx, model string) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('honten.projection.ddl:' || $1, 0))`, model)
	return err
}

// Ensure gives every projector a live generation, creating generation 1
// (empty, at checkpoint zero) for models that have none. The live tail then
// catches it up. Concurrent callers are serialised.
func (r *Runner) Ensure(ctx context.Context) error {
	for _, p := range r.projectors {
		if err := r.ensure(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

func (r *Runner) ensure(ctx context.Context, p Projector) error {
	model := Model(p.Name())
	return pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		if err := lockDDL(ctx, tx, model); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM projections WHERE model = $1 AND state = 'live'`, model).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		g, err := createGeneration(ctx, tx, p, "live")
		if err != nil {
			return err
		}
		if s := p.Schema(); s.Index != "" {
			if _, err := tx.Exec(ctx, `SELECT `+quote(s.Index)+`($1)`, g.Schema); err != nil {
				return fmt.Errorf("projections: index %s: %w", g.Schema, err)
			}
		}
		r.log.Info("created read model", "projection", p.Name(), "schema", g.Schema)
		return swapViews(ctx, tx, p, g.Schema)
	})
}

func createGeneration(ctx context.Context, tx pgx.Tx, p Projector, state string) (generation, error) {
	model := Model(p.Name())
	var gen int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(generation), 0) + 1 FROM projections WHERE model = $1`, model).Scan(&gen); err != nil {
		return generation{}, err
	}
	g := generation{Model: model, Generation: gen, Version: p.Name(), Schema: schemaName(model, gen), State: state}
	if _, err := tx.Exec(ctx, `DROP SCHEMA IF EXISTS `+quote(g.Schema)+` CASCADE`); err != nil {
		return generation{}, err
	}
	if _, err := tx.Exec(ctx, `CREATE SCHEMA `+quote(g.Schema)); err != nil {
		return generation{}, fmt.Errorf("projections: create schema %s: %w", g.Schema, err)
	}
	if _, err := tx.Exec(ctx, `SELECT `+quote(p.Schema().Create)+`($1)`, g.Schema); err != nil {
		return generation{}, fmt.Errorf("projections: create tables of %s: %w", g.Schema, err)
	}
	// Grants and row-level security for the new tables (migration 0060).
	if _, err := tx.Exec(ctx, `SELECT rls_secure_schema($1)`, g.Schema); err != nil {
		return generation{}, fmt.Errorf("projections: secure %s: %w", g.Schema, err)
	}
	const ins = `INSERT INTO projections (model, generation, version, schema_name, state) VALUES ($1, $2, $3, $4, $5)`
	if _, err := tx.Exec(ctx, ins, g.Model, g.Generation, g.Version, g.Schema, g.State); err != nil {
		return generation{}, err
	}
	return g, nil
}

// swapViews points the public views of p's tables at schema. The views read
// with the rights of whoever queries them (security_invoker), so the
// row-level security of the generation's tables applies through them.
func swapViews(ctx context.Context, tx pgx.Tx, p Projector, schema string) error {
	for _, t := range p.Schema().Tables {
		const opts = ` WITH (security_invoker = true) AS SELECT * FROM `
		view := `CREATE OR REPLACE VIEW public.` + quote(t) + opts + quote(schema) + `.` + quote(t)
		if _, err := tx.Exec(ctx, `SAVEPOINT swap`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, view); err != nil {
			// The columns changed (a new projector version): replace the view.
			if _, err := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT swap`); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `DROP VIEW IF EXISTS public.`+quote(t)); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `CREATE VIEW public.`+quote(t)+opts+quote(schema)+`.`+quote(t)); err != nil {
				return fmt.Errorf("projections: view %s: %w", t, err)
			}
		}
		if _, err := tx.Exec(ctx, `GRANT SELECT ON public.`+quote(t)+` TO honten_app`); err != nil {
			return fmt.Errorf("projections: grant view %s: %w", t, err)
		}
		if _, err := tx.Exec(ctx, `RELEASE SAVEPOINT swap`); err != nil {
			return err
		}
	}
	return nil
}

func liveGeneration(ctx context.Context, q eventstore.Querier, model string) (generation, error) {
	const query = `SELECT generation, version, schema_name, state, tx_id::text, position
FROM projections WHERE model = $1 AND state = 'live'`
	g := generation{Model: model}
	var txText string
	err := q.QueryRow(ctx, query, model).Scan(&g.Generation, &g.Version, &g.Schema, &g.State, &txText, &g.Checkpoint.Pos)
	if err != nil {
		return generation{}, err
	}
	g.Checkpoint.Tx, _ = strconv.ParseUint(txText, 10, 64)
	return g, nil
}

// Run tails the feed for every projector until ctx ends, then lets the batch
// in flight finish (bounded by Options.Grace). Each projector runs only
// where it holds its model's leader lock; elsewhere it waits as a standby.
func (r *Runner) Run(ctx context.Context) error {
	if err := r.Ensure(ctx); err != nil {
		return err
	}
	r.mu.Lock()
	r.base = ctx
	r.mu.Unlock()
	defer r.jobs.Wait()
	var wg sync.WaitGroup
	if slot := r.join(ctx); slot != nil {
		defer r.leave(ctx, slot)
		r.countInstances(ctx)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				sleep(ctx, r.opts.LockRetry)
				if ctx.Err() != nil {
					return
				}
				r.countInstances(ctx)
			}
		}()
	}
	for _, p := range r.projectors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.runProjector(ctx, p)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.reportLag(ctx)
	}()
	wg.Wait()
	return nil
}

var errRetired = errors.New("projections: generation retired")

func (r *Runner) runProjector(ctx context.Context, p Projector) {
	model := Model(p.Name())
	log := r.log.With("projection", p.Name())
	backoff := r.opts.MinPoll
	for ctx.Err() == nil {
		g, err := liveGeneration(ctx, r.pool, model)
		if err != nil {
			if ctx.Err() == nil {
				log.Error("projection: no live generation", "err", err)
			}
			sleep(ctx, r.opts.LockRetry)
			continue
		}
		if g.Version != p.Name() {
			log.Info("projection: code version differs from the live generation; rebuilding", "live", g.Version)
			if err := r.Rebuild(ctx, model, nil); err != nil && ctx.Err() == nil {
				log.Error("projection: rebuild failed", "err", err)
				sleep(ctx, r.opts.LockRetry)
			}
			continue
		}
		if !r.reserve() {
			sleep(ctx, r.opts.LockRetry) // this runner leads its share: another one takes this projector
			continue
		}
		yielded := false
		err = r.lead(ctx, p, g, func(conn *pgxpool.Conn) error {
			r.setRunning(model, true)
			defer r.setRunning(model, false)
			for ctx.Err() == nil {
				if r.yield() {
					yielded = true
					return errYield
				}
				// Taken before the read: a change while it runs is not missed.
				var changed <-chan struct{}
				if r.opts.Changes != nil {
					changed = r.opts.Changes()
				}
				n, err := r.liveBatch(ctx, conn, p, g, r.opts.BatchSize)
				if err != nil {
					return err
				}
				if n > 0 {
					backoff = r.opts.MinPoll
					if n < r.opts.BatchSize && r.opts.Linger > 0 && r.waiters.Load() == 0 {
						r.linger(ctx, model)
					}
					continue
				}
				select {
				case <-ctx.Done():
				case <-changed:
					backoff = r.opts.MinPoll
					if r.opts.Coalesce > 0 {
						sleep(ctx, r.opts.Coalesce)
					}
				case <-r.wake[model]:
					backoff = r.opts.MinPoll
					if r.opts.Coalesce > 0 {
						sleep(ctx, r.opts.Coalesce)
					}
				case <-time.After(backoff):
					backoff = min(backoff*2, r.opts.MaxPoll)
				}
			}
			return nil
		})
		if !yielded {
			r.unreserve()
		}
		switch {
		case err == nil, ctx.Err() != nil:
		case errors.Is(err, errYield):
			log.Info("projection: leading more than this runner's share; handing it over")
			sleep(ctx, 2*r.opts.LockRetry)
		case errors.Is(err, errRetired):
			log.Info("projection: generation retired; following the new one", "generation", g.Generation)
		case errors.Is(err, errNotLeader):
			sleep(ctx, r.opts.LockRetry)
		default:
			log.Error("projection: batch failed; retrying", "err", err)
			r.recordError(model, g.Generation, err)
			sleep(ctx, r.opts.LockRetry)
		}
	}
}

var errNotLeader = errors.New("projections: another instance holds the lock")

var errYield = errors.New("projections: handed over to a runner below its share")

// Leadership is spread over the runners of a database: every runner holds
// one of instanceSlots presence locks while it runs and counts the held
// ones (every LockRetry), and leads at most its share of the projectors —
// ceil(projectors / runners). A runner below its share takes a free
// projector's leader lock; one above it (a second runner started, so the
// share fell) hands projectors over between batches, one at a time, and
// waits before it competes again. When a runner dies its presence lock
// goes with its session: the count falls, the share rises and the others
// take its projectors. One runner alone leads them all.
const instanceSlots = 64

const instanceLockSQL = `SELECT pg_try_advisory_lock(hashtextextended('honten.projection.instance:' || $1::int::text, 0))`

const instanceUnlockSQL = `SELECT pg_advisory_unlock(hashtextextended('honten.projection.instance:' || $1::int::text, 0))`

// instancesSQL counts the presence locks held in this database (a bigint
// advisory key shows in pg_locks as classid, its high half, and objid).
const instancesSQL = `SELECT count(*) FROM pg_locks l
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND ((l.classid::bigint << 32) | l.objid::bigint) IN
      (SELECT hashtextextended('honten.projection.instance:' || g::text, 0) FROM generate_series(0, $1 - 1) g)`

// presence is the connection holding a runner's presence lock.
type presence struct {
	conn *pgxpool.Conn
	slot int
}

// join takes a free presence slot; nil when none is free or the database
// does not answer (the runner then counts as alone: it may lead all).
func (r *Runner) join(ctx context.Context) *presence {
	conn, err := r.pool.Acquire(ctx)
	if err != nil {
		return nil
	}
	for slot := range instanceSlots {
		var ok bool
		if err := conn.QueryRow(ctx, instanceLockSQL, slot).Scan(&ok); err != nil {
			break
		}
		if ok {
			return &presence{conn: conn, slot: slot}
		}
	}
	conn.Release()
	r.log.Warn("projection: no presence slot; this runner may lead every projector")
	return nil
}

// leave gives the presence slot back.
func (r *Runner) leave(ctx context.Context, p *presence) {
	if _, err := p.conn.Exec(context.WithoutCancel(ctx), instanceUnlockSQL, p.slot); err != nil {
		p.conn.Conn().Close(context.Background()) //nolint:errcheck // closing frees the lock
	}
	p.conn.Release()
}

// countInstances refreshes the number of live runners; a failed count
// keeps the last one.
func (r *Runner) countInstances(ctx context.Context) {
	var n int
	if err := r.pool.QueryRow(ctx, instancesSQL, instanceSlots).Scan(&n); err != nil {
		return
	}
	r.mu.Lock()
	r.instances = n
	r.mu.Unlock()
}

// shareLocked is how many projectors this runner may lead; r.mu held.
func (r *Runner) shareLocked() int {
	n := max(r.instances, 1)
	return (len(r.projectors) + n - 1) / n
}

// reserve counts one more projector led here unless the runner leads its
// share already.
func (r *Runner) reserve() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.held >= r.shareLocked() {
		return false
	}
	r.held++
	return true
}

// unreserve counts one projector less.
func (r *Runner) unreserve() {
	r.mu.Lock()
	r.held--
	r.mu.Unlock()
}

// yield reports that the runner leads more than its share, and counts the
// projector asking as handed over.
func (r *Runner) yield() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.held > r.shareLocked() {
		r.held--
		return true
	}
	return false
}

// lead acquires a connection holding the leader lock of g and runs fn on it.
func (r *Runner) lead(ctx context.Context, p Projector, g generation, fn func(*pgxpool.Conn) error) error {
	conn, err := r.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	name := lockName(g.Model, g.Generation)
	var ok bool
	if err := conn.QueryRow(ctx, lockSQL, name).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return errNotLeader
	}
	defer func() {
		if !conn.Conn().IsClosed() {
			if _, err := conn.Exec(context.WithoutCancel(ctx), unlockSQL, name); err != nil {
				conn.Conn().Close(context.Background()) //nolint:errcheck // closing frees the lock
			}
		}
	}()
	return fn(conn)
}

// graceful returns a context that outlives ctx by grace: work started
// under it finishes however long it takes while ctx is live (a slow batch
// on a loaded machine is not cut short), and within grace once ctx ends.
func graceful(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	gctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(grace, cancel)
		context.AfterFunc(gctx, func() { t.Stop() })
	})
	return gctx, func() { stop(); cancel() }
}

// batchIdleLimit bounds a projector batch's idle time inside its
// transaction: a batch's pauses between statements are the projector
// computing its rows (thousands of events on a rebuild, slow under load),
// not a forgotten transaction, so the session's short idle-in-transaction
// limit is raised for that transaction only.
const batchIdleLimit = 10 * time.Minute

// batch applies up to limit events after g's checkpoint in one transaction
// and returns how many it applied: a group batch of one (groupBatch). The
// checkpoint update is guarded by the old checkpoint, so two writers of one
// generation can never both commit.
func (r *Runner) batch(ctx context.Context, conn *pgxpool.Conn, p Projector, g generation, limit int) (int, error) {
	ns, err := r.groupBatch(ctx, conn, []*batchReq{{p: p, g: g, limit: limit}})
	if err != nil {
		return 0, err
	}
	return ns[0], nil
}

// linger waits Options.Linger, or less if a caller begins to wait for the
// read models (WaitFor) meanwhile.
func (r *Runner) linger(ctx context.Context, model string) {
	t := time.NewTimer(r.opts.Linger)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-r.hurry[model]:
	}
}

// hurryAll ends every projector's linger now.
func (r *Runner) hurryAll() {
	for _, ch := range r.hurry {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func (r *Runner) signalApplied() {
	r.mu.Lock()
	close(r.applied)
	r.applied = make(chan struct{})
	r.mu.Unlock()
}

func (r *Runner) appliedCh() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.applied
}

func (r *Runner) setRunning(model string, on bool) {
	r.mu.Lock()
	r.running[model] = on
	r.mu.Unlock()
	r.poke() // a gathering group leader counts the running tails again
}

func (r *Runner) recordError(model string, gen int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	msg := err.Error()
	if len(msg) > 2000 {
		msg = msg[:2000]
	}
	_, _ = r.pool.Exec(ctx, `UPDATE projections SET last_error = $3, updated_at = now() WHERE model = $1 AND generation = $2`, model, gen, msg)
}

func (r *Runner) reportLag(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		sts, err := r.Status(ctx)
		if err != nil {
			continue
		}
		for _, s := range sts {
			if s.State == "live" {
				metrics.ProjectorLagEvents.WithLabelValues(s.Name).Set(float64(s.LagEvents))
				metrics.ProjectorLagSeconds.WithLabelValues(s.Name).Set(s.LagSeconds)
			}
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
