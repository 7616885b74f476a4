package projections

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/metrics"
)

// Group batches: the live tails this runner leads wake on the same commits
// (one feed watcher) and would each commit a transaction of their own per
// wake: nine read models, nine commits and nine feed reads for one order.
// Instead, a tail that wants a batch queues a request; the first one in
// leads: it gathers the requests of the other tails (until every running
// tail has asked, or Options.Gather has passed) and applies them all in
// one transaction on its connection — one checkpoint read, one feed read
// per distinct checkpoint, each projector's Apply under its own
// search_path, one checkpoint update, one commit. Each projector still
// sees exactly the events (and payloads) its own batch would have read,
// and its checkpoint is still guarded by its old value. When the group
// fails — a projector's Apply errs, a generation was retired — it is
// rolled back and every request is applied alone, so each projector gets
// its own error and one broken model never holds back the others.
// External models (a search engine) always run alone: their failures are
// outside PostgreSQL's transaction.

// batchReq is one live tail's request for a batch.
type batchReq struct {
	p     Projector
	g     generation
	limit int
	n     int
	err   error
	done  chan struct{} // closed when n and err are set
	lead  chan struct{} // closed when this request's tail is to lead the next group
}

// liveBatch applies up to limit events after g's checkpoint for p, in a
// group transaction with the other tails asking at the same time when
// grouping is on, and returns how many it applied.
func (r *Runner) liveBatch(ctx context.Context, conn *pgxpool.Conn, p Projector, g generation, limit int) (int, error) {
	if r.opts.Gather < 0 || r.external[g.Model] {
		return r.batch(ctx, conn, p, g, limit)
	}
	req := &batchReq{p: p, g: g, limit: limit, done: make(chan struct{}), lead: make(chan struct{})}
	r.gmu.Lock()
	r.gqueue = append(r.gqueue, req)
	if r.gbusy {
		// A leader is gathering or applying: it takes this request, or
		// hands the next group over to it.
		r.poke()
		r.gmu.Unlock()
		select {
		case <-req.done:
			return req.n, req.err
		case <-req.lead:
		}
	} else {
		r.gbusy = true
		r.gmu.Unlock()
	}
	r.leadGroup(ctx, conn)
	<-req.done
	return req.n, req.err
}

// leadGroup gathers the queued requests (its own among them), applies
// them, and hands the requests queued meanwhile over to the first of them,
// which gathers the next group on its own connection.
func (r *Runner) leadGroup(ctx context.Context, conn *pgxpool.Conn) {
	gather := time.NewTimer(r.opts.Gather)
	defer gather.Stop()
wait:
	for {
		members := r.groupMembers()
		r.gmu.Lock()
		full := len(r.gqueue) >= members
		r.gmu.Unlock()
		if full {
			break
		}
		select {
		case <-r.garrived:
		case <-gather.C:
			break wait
		case <-ctx.Done():
			break wait
		}
	}
	r.gmu.Lock()
	reqs := r.gqueue
	r.gqueue = nil
	r.gmu.Unlock()
	r.applyGroup(ctx, conn, reqs)
	r.gmu.Lock()
	if len(r.gqueue) > 0 {
		close(r.gqueue[0].lead)
	} else {
		r.gbusy = false
	}
	r.gmu.Unlock()
}

// poke tells a gathering leader to count again.
func (r *Runner) poke() {
	select {
	case r.garrived <- struct{}{}:
	default:
	}
}

// groupMembers is how many live tails of this runner take part in groups
// right now (a tail lingering or idle is a member that has not asked yet).
func (r *Runner) groupMembers() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for m, on := range r.running {
		if on && !r.external[m] {
			n++
		}
	}
	return n
}

// applyGroup applies reqs in one transaction, or each alone when that
// fails, and answers them.
func (r *Runner) applyGroup(ctx context.Context, conn *pgxpool.Conn, reqs []*batchReq) {
	defer func() {
		for _, q := range reqs {
			close(q.done)
		}
	}()
	if len(reqs) > 1 {
		ns, err := r.groupBatch(ctx, conn, reqs)
		if err == nil {
			for i, q := range reqs {
				q.n = ns[i]
			}
			return
		}
		if ctx.Err() == nil {
			r.log.Debug("projection: group batch failed; applying each alone", "err", err)
		}
	}
	for _, q := range reqs {
		q.n, q.err = r.batch(ctx, conn, q.p, q.g, q.limit)
	}
}

// groupBatch applies a batch for each of reqs in one transaction (once
// started, it finishes even if ctx ends, within Options.Grace): it returns
// how many events each applied, or an error after which nothing of the
// group is kept.
func (r *Runner) groupBatch(ctx context.Context, conn *pgxpool.Conn, reqs []*batchReq) ([]int, error) {
	bctx, cancel := graceful(ctx, r.opts.Grace)
	defer cancel()
	tx, err := conn.Begin(bctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(context.WithoutCancel(bctx)) //nolint:errcheck // no-op after commit

	models := make([]string, len(reqs))
	gens := make([]int32, len(reqs))
	for i, q := range reqs {
		models[i], gens[i] = q.g.Model, int32(q.g.Generation)
	}
	const cpq = `SELECT p.model, p.state, p.tx_id::text, p.position
FROM public.projections p JOIN unnest($1::text[], $2::int[]) AS k(model, generation) USING (model, generation)`
	rows, err := tx.Query(bctx, cpq, models, gens)
	if err != nil {
		return nil, err
	}
	cps := make(map[string]eventstore.Position, len(reqs))
	for rows.Next() {
		var model, state, txText string
		var cp eventstore.Position
		if err := rows.Scan(&model, &state, &txText, &cp.Pos); err != nil {
			rows.Close()
			return nil, err
		}
		if state == "retired" {
			rows.Close()
			return nil, errRetired
		}
		cp.Tx, _ = strconv.ParseUint(txText, 10, 64)
		cps[model] = cp
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(cps) != len(reqs) {
		return nil, errRetired
	}

	// One feed read per distinct checkpoint (after catching up, there is
	// one), with every payload one of its readers wants.
	reads := map[eventstore.Position][]eventstore.Envelope{}
	shared := map[eventstore.Position]bool{} // read for more than one model
	for _, q := range reqs {
		cp := cps[q.g.Model]
		if _, ok := reads[cp]; ok {
			continue
		}
		var readers []*batchReq
		limit := 0
		for _, o := range reqs {
			if cps[o.g.Model] == cp {
				readers = append(readers, o)
				limit = max(limit, o.limit)
			}
		}
		evs, err := eventstore.ReadFeed(bctx, tx, cp, limit, r.unionFeed(readers))
		if err != nil {
			return nil, err
		}
		if r.opts.Registry != nil && len(evs) > 0 {
			if err := r.opts.Registry.Unseal(bctx, tx, evs); err != nil {
				return nil, err
			}
		}
		reads[cp], shared[cp] = evs, len(readers) > 1
	}

	if _, err := tx.Exec(bctx, `SELECT set_config('idle_in_transaction_session_timeout', $1, true)`,
		strconv.FormatInt(batchIdleLimit.Milliseconds(), 10)); err != nil {
		return nil, err
	}
	ns := make([]int, len(reqs))
	var up checkpointUpdates
	for i, q := range reqs {
		cp := cps[q.g.Model]
		evs := reads[cp]
		if shared[cp] {
			evs = r.feedFor(q.g.Model, evs, q.limit)
		}
		if len(evs) == 0 {
			continue
		}
		if _, err := tx.Exec(bctx, `SELECT set_config('search_path', $1, true)`, quote(q.g.Schema)); err != nil {
			return nil, err
		}
		if err := q.p.Apply(bctx, tx, evs); err != nil {
			return nil, fmt.Errorf("apply %s at %s: %w", q.p.Name(), evs[0].Position, err)
		}
		up.add(q.g, cp, evs)
		ns[i] = len(evs)
	}
	if len(up.models) > 0 {
		tag, err := tx.Exec(bctx, `UPDATE public.projections p
SET tx_id = u.tx_id::xid8, position = u.position, events_applied = p.events_applied + u.n, last_event_at = u.at,
    updated_at = now(), last_error = NULL
FROM unnest($1::text[], $2::int[], $3::text[], $4::bigint[], $5::int[], $6::timestamptz[], $7::text[], $8::bigint[])
     AS u(model, generation, tx_id, position, n, at, old_tx, old_position)
WHERE p.model = u.model AND p.generation = u.generation AND p.tx_id = u.old_tx::xid8 AND p.position = u.old_position
  AND p.state <> 'retired'`, up.models, up.gens, up.txs, up.positions, up.counts, up.ats, up.oldTxs, up.oldPositions)
		if err != nil {
			return nil, err
		}
		if tag.RowsAffected() != int64(len(up.models)) {
			return nil, errRetired
		}
	}
	if err := tx.Commit(bctx); err != nil {
		return nil, err
	}
	for i, q := range reqs {
		if ns[i] > 0 {
			metrics.ProjectorApplied.WithLabelValues(q.p.Name()).Add(float64(ns[i]))
		}
	}
	if len(up.models) > 0 {
		r.signalApplied()
	}
	return ns, nil
}

// unionFeed is the feed filter that reads every payload one of readers
// reads.
func (r *Runner) unionFeed(readers []*batchReq) eventstore.FeedFilter {
	var types []string
	none := true
	for _, q := range readers {
		f := r.feeds[q.g.Model]
		switch {
		case f.NoPayload:
		case len(f.PayloadTypes) == 0:
			return eventstore.FeedFilter{}
		default:
			none = false
			for _, t := range f.PayloadTypes {
				if !slices.Contains(types, t) {
					types = append(types, t)
				}
			}
		}
	}
	if none {
		return eventstore.FeedFilter{NoPayload: true}
	}
	return eventstore.FeedFilter{PayloadTypes: types}
}

// feedFor returns the first limit events of evs as model's own feed read
// would have returned them: without the payloads it does not read.
func (r *Runner) feedFor(model string, evs []eventstore.Envelope, limit int) []eventstore.Envelope {
	evs = evs[:min(len(evs), limit)]
	f := r.feeds[model]
	out := slices.Clone(evs)
	if !f.NoPayload && len(f.PayloadTypes) == 0 {
		return out
	}
	for i := range out {
		if f.NoPayload || !r.payloads[model][out[i].Type] {
			out[i].Payload = nil
		}
	}
	return out
}

// checkpointUpdates collects a group's checkpoint moves as the arrays of
// one UPDATE.
type checkpointUpdates struct {
	models       []string
	gens         []int32
	txs, oldTxs  []string
	positions    []int64
	oldPositions []int64
	counts       []int32
	ats          []time.Time
}

func (u *checkpointUpdates) add(g generation, from eventstore.Position, evs []eventstore.Envelope) {
	last := evs[len(evs)-1]
	u.models = append(u.models, g.Model)
	u.gens = append(u.gens, int32(g.Generation))
	u.txs = append(u.txs, last.Position.TxText())
	u.positions = append(u.positions, last.Position.Pos)
	u.counts = append(u.counts, int32(len(evs)))
	u.ats = append(u.ats, last.RecordedAt)
	u.oldTxs = append(u.oldTxs, from.TxText())
	u.oldPositions = append(u.oldPositions, from.Pos)
}
