package importer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

// MaxStoredErrors bounds the row errors kept on a job (the count is exact).
const MaxStoredErrors = 1000

// Jobs runs import jobs and reports on them.
type Jobs struct {
	Importer Importer
	Log      *slog.Logger
	// Currency returns a tenant's currency (prices in the file are in it).
	Currency func(ctx context.Context, t tenant.ID) (money.Currency, error)
	// OnProgress, when set, hears every product applied (rows done so far).
	OnProgress func(rows int)
	// MaxActive bounds the jobs a tenant may have queued or running at
	// once; 0 means 2. One more is refused with ErrTooManyImports.
	MaxActive int
}

// ErrTooManyImports refuses an import while the shop has MaxActive jobs
// queued or running.
var ErrTooManyImports = errs.WithRetryAfter(errs.New(errs.KindRateLimited, "too_many_imports",
	"this shop has as many imports queued or running as allowed; wait for one to finish"), 10*time.Second)

// Job is an import job as the API shows it.
type Job struct {
	ID            uuid.UUID  `json:"id"`
	Kind          string     `json:"kind"`
	Status        string     `json:"status"`
	TotalRows     int        `json:"total_rows"`
	ProcessedRows int        `json:"processed_rows"`
	Created       int        `json:"created"`
	Updated       int        `json:"updated"`
	Unchanged     int        `json:"unchanged"`
	ErrorCount    int        `json:"error_count"`
	Errors        []RowError `json:"errors"`
	Message       *string    `json:"message"`
	CreatedAt     time.Time  `json:"created_at"`
	StartedAt     *time.Time `json:"started_at"`
	FinishedAt    *time.Time `json:"finished_at"`
	// Position is, once the job has completed, a consistency token at or
	// after every event it appended (send it as X-Min-Position to read
	// the import's changes); null before.
	Position *string `json:"position"`
}

func (j Jobs) pool() eventstore.Querier { return j.Importer.Commands.Store().Pool() }

// Submit checks the file (encoding, header, size) and queues a job. File
// problems are Invalid errors; row problems are reported on the job.
func (j Jobs) Submit(ctx context.Context, t tenant.ID, id uuid.UUID, actor string, file []byte) (Job, error) {
	cur, err := j.Currency(ctx, t)
	if err != nil {
		return Job{}, err
	}
	_, _, rows, err := Parse(file, cur)
	if err != nil {
		return Job{}, err
	}
	maxActive := j.MaxActive
	if maxActive <= 0 {
		maxActive = 2
	}
	const q = `INSERT INTO import_jobs (id, tenant_id, kind, status, file, total_rows, created_by) VALUES ($1, $2, 'products', 'queued', $3, $4, $5)
ON CONFLICT (id) DO NOTHING`
	err = pgx.BeginFunc(ctx, j.Importer.Commands.Store().Pool(), func(tx pgx.Tx) error {
		// One submitter per tenant at a time, so the count below holds.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('import_jobs:' || $1::text, 0))`, t); err != nil {
			return err
		}
		var active int
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status IN ('queued', 'running')), coalesce(bool_or(id = $2), false)
FROM import_jobs WHERE tenant_id = $1 AND (status IN ('queued', 'running') OR id = $2)`, t, id).Scan(&active, &exists); err != nil {
			return err
		}
		if exists {
			return nil // a retry of a submitted job
		}
		if active >= maxActive {
			return ErrTooManyImports
		}
		_, err := tx.Exec(ctx, q, id, t, file, rows, actor)
		return err
	})
	if err != nil {
		return Job{}, fmt.Errorf("queue import: %w", err)
	}
	return j.Get(ctx, t, id)
}

// Get returns a job of tenant t, or eventstore.ErrNotFound.
func (j Jobs) Get(ctx context.Context, t tenant.ID, id uuid.UUID) (Job, error) {
	const q = `SELECT id, kind, status, total_rows, processed_rows, created, updated, unchanged, error_count, errors, message, created_at, started_at, finished_at, position
FROM import_jobs WHERE tenant_id = $1 AND id = $2 AND kind = 'products'`
	var job Job
	var errsJSON []byte
	err := j.pool().QueryRow(ctx, q, t, id).Scan(&job.ID, &job.Kind, &job.Status, &job.TotalRows, &job.ProcessedRows, &job.Created, &job.Updated,
		&job.Unchanged, &job.ErrorCount, &errsJSON, &job.Message, &job.CreatedAt, &job.StartedAt, &job.FinishedAt, &job.Position)
	if errors.Is(err, pgx.ErrNoRows) {
		return Job{}, fmt.Errorf("import %s: %w", id, eventstore.ErrNotFound)
	}
	if err != nil {
		return Job{}, err
	}
	return job, json.Unmarshal(errsJSON, &job.Errors)
}

// Run claims and runs a job: queued ones, and running ones whose worker
// stopped sending heartbeats (a crashed process). It returns false when
// there was nothing to claim.
func (j Jobs) Run(ctx context.Context, id uuid.UUID) (bool, error) {
	const claim = `UPDATE import_jobs SET status = 'running', started_at = coalesce(started_at, now()), heartbeat_at = now()
WHERE id = $1 AND kind = 'products' AND (status = 'queued' OR (status = 'running' AND heartbeat_at < now() - interval '1 minute'))
RETURNING tenant_id, created_by, file`
	var t tenant.ID
	var actor string
	var file []byte
	err := j.pool().QueryRow(ctx, claim, id).Scan(&t, &actor, &file)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	fail := func(err error) (bool, error) {
		_, _ = j.pool().Exec(context.WithoutCancel(ctx), `UPDATE import_jobs SET status = 'failed', message = $2, finished_at = now() WHERE id = $1`, id, errMessage(err))
		return true, err
	}
	cur, err := j.Currency(ctx, t)
	if err != nil {
		return fail(err)
	}
	products, rowErrs, _, err := Parse(file, cur)
	if err != nil {
		return fail(err)
	}
	last := time.Now()
	var mu sync.Mutex
	sum, applyErrs, err := j.Importer.Apply(ctx, t, id, actor, products, func(s Summary) {
		if j.OnProgress != nil {
			j.OnProgress(s.Rows)
		}
		mu.Lock()
		defer mu.Unlock()
		if time.Since(last) < 500*time.Millisecond {
			return
		}
		last = time.Now()
		_, _ = j.pool().Exec(ctx, `UPDATE import_jobs SET processed_rows = $2, created = $3, updated = $4, unchanged = $5, heartbeat_at = now() WHERE id = $1`,
			id, s.Rows, s.Created, s.Updated, s.Unchanged)
	})
	rowErrs = append(rowErrs, applyErrs...)
	if err != nil {
		return fail(err)
	}
	stored := rowErrs
	if len(stored) > MaxStoredErrors {
		stored = stored[:MaxStoredErrors]
	}
	if stored == nil {
		stored = []RowError{}
	}
	errsJSON, _ := json.Marshal(stored)
	// Every event the job appended has committed: the head of the log is
	// at or after each of them.
	head, err := eventstore.Head(context.WithoutCancel(ctx), j.pool())
	if err != nil {
		return true, err
	}
	const done = `UPDATE import_jobs SET status = 'completed', processed_rows = total_rows, created = $2, updated = $3, unchanged = $4,
  error_count = $5, errors = $6, position = $7, finished_at = now(), heartbeat_at = now() WHERE id = $1`
	if _, err := j.pool().Exec(context.WithoutCancel(ctx), done, id, sum.Created, sum.Updated, sum.Unchanged, len(rowErrs), errsJSON, head.Token()); err != nil {
		return true, err
	}
	if j.Log != nil {
		j.Log.Info("import finished", "job", id, "created", sum.Created, "updated", sum.Updated, "unchanged", sum.Unchanged, "errors", len(rowErrs))
	}
	return true, nil
}

// Resume runs every job left queued or abandoned running (after a restart).
func (j Jobs) Resume(ctx context.Context) error {
	rows, err := j.pool().Query(ctx, `SELECT id FROM import_jobs WHERE kind = 'products' AND status IN ('queued', 'running') ORDER BY created_at`)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := j.Run(ctx, id); err != nil && j.Log != nil {
			j.Log.Error("import failed", "job", id, "err", err)
		}
	}
	return nil
}
