package commands

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/promotion"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

// CodeJobKind is the import_jobs kind of a bulk code generation.
const CodeJobKind = "promotion_codes"

// codeBatch is how many codes one transaction inserts.
const codeBatch = 5000

// GenerateCodes starts a bulk generation of unique single-use codes.
type GenerateCodes struct {
	Tenant    tenant.ID
	By        By
	Promotion promotion.ID
	Count     int
	Prefix    string
}

// GenerateCodes records the batch on the promotion (its seed names every
// code) and queues its job; RunCodeJob then writes the codes. The job id
// derives from the command id, so a retry queues nothing new. It returns
// Invalid errors, ErrPromotionNotFound, promotion.ErrDeleted and
// promotion.ErrNotCoupon.
func (s *Service) GenerateCodes(ctx context.Context, c GenerateCodes) (uuid.UUID, Result, error) {
	job := c.By.DerivedID(0)
	prefix := promotion.NormalizeCode(c.Prefix)
	var v errs.Collector
	v.Check(c.Count >= 1 && c.Count <= promotion.MaxGenerate, "count", fmt.Sprintf("must be from 1 to %d", promotion.MaxGenerate))
	v.Check(len(prefix) <= promotion.MaxPrefixLength && !strings.ContainsFunc(prefix, func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	}), "prefix", "at most 12 letters, digits, - or _")
	if err := v.Err(); err != nil {
		return uuid.Nil, Result{}, err
	}
	seed := make([]byte, 16)
	_, _ = io.ReadFull(rand.Reader, seed)
	now := s.Now()
	_, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (struct{}, error) {
		p, err := loadPromotion(ctx, tx, c.Tenant, c.Promotion)
		if err != nil {
			return struct{}{}, err
		}
		if err := p.GenerateCodes(job, c.Count, prefix, seed, now); err != nil {
			return struct{}{}, err
		}
		if _, err := promotions.Save(ctx, tx, c.Tenant, c.Promotion.UUID, p, nil, c.By.metadata(c.Tenant)); err != nil {
			return struct{}{}, err
		}
		const q = `INSERT INTO import_jobs (id, tenant_id, kind, status, file, total_rows, created_by, options)
VALUES ($1, $2, $3, 'queued', '', $4, $5, jsonb_build_object('promotion_id', $6::uuid))`
		_, err = tx.Exec(ctx, q, job, c.Tenant, CodeJobKind, c.Count, c.By.Actor, c.Promotion.UUID)
		return struct{}{}, err
	})
	return job, Result{Result: res, ID: job}, err
}

// CodeJob is a code generation's progress.
type CodeJob struct {
	ID         uuid.UUID  `json:"id"`
	Promotion  uuid.UUID  `json:"promotion_id"`
	Status     string     `json:"status"`
	Count      int        `json:"count"`
	Generated  int        `json:"generated"`
	Message    *string    `json:"message"`
	CreatedAt  time.Time  `json:"created_at"`
	FinishedAt *time.Time `json:"finished_at"`
}

// CodeJobOf reads a code generation job of promotion p. It returns
// eventstore.ErrNotFound.
func CodeJobOf(ctx context.Context, q eventstore.Querier, t tenant.ID, p, job uuid.UUID) (CodeJob, error) {
	const sel = `SELECT j.id, j.status, j.total_rows, j.processed_rows, j.message, j.created_at, j.finished_at FROM import_jobs j
WHERE j.tenant_id = $1 AND j.id = $2 AND j.kind = $3
  AND EXISTS (SELECT 1 FROM events e WHERE e.tenant_id = $1 AND e.stream_id = $4 AND e.event_type = 'promotion.codes_generated.v1' AND e.payload->>'job_id' = $2::text)`
	j := CodeJob{Promotion: p}
	err := q.QueryRow(ctx, sel, t, job, CodeJobKind, p).Scan(&j.ID, &j.Status, &j.Count, &j.Generated, &j.Message, &j.CreatedAt, &j.FinishedAt)
	if err == pgx.ErrNoRows {
		return j, fmt.Errorf("code job %s: %w", job, eventstore.ErrNotFound)
	}
	return j, err
}

// CodeJobStale is how long a running code job's heartbeat may be silent
// before another process takes the job over (its runner is gone).
const CodeJobStale = time.Minute

// RunCodeJob claims and runs a code generation job (CodeJobs.Run).
func (s *Service) RunCodeJob(ctx context.Context, t tenant.ID, p promotion.ID, job uuid.UUID) error {
	_, err := CodeJobs{Commands: s}.Run(ctx, t, p, job)
	return err
}

// CodeJobs runs bulk code generation jobs: the one just queued, and at
// start-up (Resume) every job a stopped process left queued or running.
type CodeJobs struct {
	Commands *Service
	Log      *slog.Logger
	// OnProgress, when set, is called after each batch commits with the
	// job's codes so far.
	OnProgress func(job uuid.UUID, done int)
}

// Run claims job — queued, or running with a heartbeat silent for
// CodeJobStale (a stopped process) — and writes its codes in batches of
// 5,000, each in its own short transaction that holds the job row's lock,
// reads the progress, inserts the next batch and records the progress
// (codes so far, the next index, the heartbeat) with it. A code already
// taken (by any promotion) is skipped and the job goes on to the next
// index, so it ends with exactly its count of new codes; the codes derive
// from the batch's seed and index, so a job resumed after a crash, or even
// run by two processes at once, writes each code once and no more than
// its count. It returns false when the job was not claimable (finished,
// failed, or alive elsewhere). When ctx ends, the job stays running for
// Resume to take over; another error fails it.
func (j CodeJobs) Run(ctx context.Context, t tenant.ID, p promotion.ID, job uuid.UUID) (bool, error) {
	s := j.Commands
	pool := s.store.PoolFor(ctx)
	const claim = `UPDATE import_jobs SET status = 'running', started_at = coalesce(started_at, now()), heartbeat_at = now(),
  options = coalesce(options, '{}'::jsonb) || jsonb_build_object('promotion_id', $3::uuid)
WHERE id = $1 AND tenant_id = $2 AND kind = $4
  AND (status = 'queued' OR (status = 'running' AND heartbeat_at < now() - make_interval(secs => $5)))`
	tag, err := pool.Exec(ctx, claim, job, t, p.UUID, CodeJobKind, CodeJobStale.Seconds())
	if err != nil {
		return false, err
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	fail := func(err error) (bool, error) {
		if ctx.Err() != nil {
			return true, err // stopped: left running, resumed later
		}
		_, _ = pool.Exec(context.WithoutCancel(ctx), `UPDATE import_jobs SET status = 'failed', message = 'internal error', finished_at = now() WHERE id = $1`, job)
		return true, err
	}
	var b promotion.CodesGenerated
	_, err = s.store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		pr, err := loadPromotion(ctx, tx, t, p)
		if err != nil {
			return err
		}
		var ok bool
		if b, ok = pr.Batch(job); !ok {
			return fmt.Errorf("code job %s: %w", job, eventstore.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return fail(err)
	}
	for {
		finished, done, err := j.batch(ctx, pool, t, p, job, b)
		if err != nil {
			return fail(err)
		}
		if finished {
			return true, nil
		}
		if j.OnProgress != nil {
			j.OnProgress(job, done)
		}
	}
}

// batch writes the job's next batch of codes, or completes the job when it
// has its count, in one transaction under the job row's lock. It reports
// whether the job is finished (by this call, or not running any more) and
// the codes it has.
func (j CodeJobs) batch(ctx context.Context, pool *pgxpool.Pool, t tenant.ID, p promotion.ID, job uuid.UUID, b promotion.CodesGenerated) (bool, int, error) {
	var finished bool
	var done int
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var status string
		var next *int
		err := tx.QueryRow(ctx, `SELECT status, processed_rows, (options->>'next_seq')::int FROM import_jobs WHERE id = $1 AND tenant_id = $2 FOR UPDATE`, job, t).
			Scan(&status, &done, &next)
		if err != nil {
			return err
		}
		if status != "running" {
			finished = true
			return nil
		}
		if next == nil {
			// No batch recorded its next index with its codes yet (or a job
			// from before they were): count the codes themselves.
			var last int
			if err := tx.QueryRow(ctx, `SELECT count(*), coalesce(max(seq) + 1, 0) FROM promotion_codes WHERE tenant_id = $1 AND promotion_id = $2 AND job_id = $3`,
				t, p.UUID, job).Scan(&done, &last); err != nil {
				return err
			}
			next = &last
		}
		if done >= b.Count {
			finished = true
			_, err := tx.Exec(ctx, `UPDATE import_jobs SET status = 'completed', processed_rows = $2, finished_at = now(), heartbeat_at = now() WHERE id = $1`, job, done)
			return err
		}
		n := min(codeBatch, b.Count-done)
		codes := make([]string, n)
		seqs := make([]int32, n)
		for i := range n {
			codes[i] = promotion.GenerateCode(b.Seed, b.Prefix, *next+i)
			seqs[i] = int32(*next + i)
		}
		const q = `INSERT INTO promotion_codes (tenant_id, code, promotion_id, job_id, seq)
SELECT $1, c, $2, $3, s FROM unnest($4::text[], $5::int[]) AS u(c, s) ON CONFLICT (tenant_id, code) DO NOTHING`
		tag, err := tx.Exec(ctx, q, t, p.UUID, job, codes, seqs)
		if err != nil {
			return err
		}
		done += int(tag.RowsAffected())
		_, err = tx.Exec(ctx, `UPDATE import_jobs SET processed_rows = $2, heartbeat_at = now(),
  options = coalesce(options, '{}'::jsonb) || jsonb_build_object('next_seq', $3::int) WHERE id = $1`, job, done, *next+n)
		return err
	})
	return finished, done, err
}

// Resume runs, one after another, every code job a stopped process left
// queued or running (a restart). A running job whose heartbeat is still
// fresh may be alive in another process: Resume waits until it is stale
// (CodeJobStale) and claims it then, unless it finished meanwhile. It
// returns when no unfinished job is left, or when ctx ends.
func (j CodeJobs) Resume(ctx context.Context) error {
	type pending struct {
		ID        uuid.UUID
		Tenant    uuid.UUID
		Promotion *uuid.UUID
		Wait      float64 // seconds until claimable
	}
	const q = `SELECT j.id, j.tenant_id,
  coalesce((j.options->>'promotion_id')::uuid, (SELECT e.stream_id FROM events e WHERE e.tenant_id = j.tenant_id AND e.stream_type = 'promotion'
    AND e.event_type = 'promotion.codes_generated.v1' AND e.payload->>'job_id' = j.id::text LIMIT 1)),
  CASE WHEN j.status = 'queued' THEN 0
       ELSE greatest(0, extract(epoch FROM j.heartbeat_at + make_interval(secs => $2) - now()))::float8 END
FROM import_jobs j WHERE j.kind = $1 AND j.status IN ('queued', 'running') ORDER BY j.created_at`
	pool := j.Commands.store.PoolFor(ctx)
	for {
		rows, err := pool.Query(ctx, q, CodeJobKind, CodeJobStale.Seconds())
		if err != nil {
			return err
		}
		jobs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[pending])
		if err != nil {
			return err
		}
		wait := -1.0
		for _, jb := range jobs {
			if jb.Wait > 0 {
				if wait < 0 || jb.Wait < wait {
					wait = jb.Wait
				}
				continue
			}
			if jb.Promotion == nil {
				_, _ = pool.Exec(ctx, `UPDATE import_jobs SET status = 'failed', message = 'internal error', finished_at = now() WHERE id = $1`, jb.ID)
				j.logError("code job without its promotion", jb.ID, nil)
				continue
			}
			claimed, err := j.Run(ctx, tenant.ID{UUID: jb.Tenant}, promotion.ID{UUID: *jb.Promotion}, jb.ID)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil && !claimed {
				return fmt.Errorf("claim code job %s: %w", jb.ID, err)
			}
			if err != nil {
				j.logError("code generation failed", jb.ID, err)
			} else if claimed && j.Log != nil {
				j.Log.Info("code job resumed and completed", "job", jb.ID)
			}
		}
		if wait < 0 {
			if len(jobs) == 0 {
				return nil
			}
			continue // claimable ones ran (or went elsewhere): look again
		}
		timer := time.NewTimer(time.Duration(wait*float64(time.Second)) + 100*time.Millisecond)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
	}
}

func (j CodeJobs) logError(msg string, job uuid.UUID, err error) {
	if j.Log != nil {
		j.Log.Error(msg, "job", job, "err", err)
	}
}

// ExportCodes writes every unique code of promotion p to w as CSV rows
// "code,job_id,redeemed_order_id", in generation order, streamed from the
// database.
func ExportCodes(ctx context.Context, q eventstore.Querier, t tenant.ID, p uuid.UUID, w func(code string, job uuid.UUID, order *uuid.UUID) error) error {
	rows, err := q.Query(ctx, `SELECT code, job_id, order_id FROM promotion_codes WHERE tenant_id = $1 AND promotion_id = $2 AND job_id IS NOT NULL ORDER BY job_id, seq`, t, p)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var code string
		var job uuid.UUID
		var o *uuid.UUID
		if err := rows.Scan(&code, &job, &o); err != nil {
			return err
		}
		if err := w(code, job, o); err != nil {
			return err
		}
	}
	return rows.Err()
}
