// Package reconcile imports bank statements and carriers' COD remittances
// as background jobs (the import_jobs table holds the file and the
// progress), matches deposits to orders by the reference code buyers write
// before their name, and answers the reconciliation reads (statements,
// lines with suggestions, remittances). Decisions are events appended
// through package commands; the read model is projections/bankstatements.
// It must not import http.
package reconcile

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
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/statement"
	"github.com/honten/honten/domain/tenant"
)

// Job kinds in import_jobs.
const (
	KindStatement  = "bank_statement"
	KindRemittance = "cod_remittance"
)

// Jobs runs statement and remittance imports.
type Jobs struct {
	Commands *commands.Service
	Log      *slog.Logger
	// Workers is how many payments are confirmed at once; 0 means 8.
	Workers int
	// OnProgress, when set, hears the lines done so far and the total.
	OnProgress func(done, total int)
}

func (j Jobs) pool() *pgxpool.Pool { return j.Commands.Store().Pool() }

// Submit queues a job of kind for file with its options (Options for a
// statement, RemittanceMap for a remittance). A retry with the same id
// queues nothing.
func (j Jobs) Submit(ctx context.Context, t tenant.ID, id uuid.UUID, kind, actor string, file []byte, options any) error {
	opts, err := json.Marshal(options)
	if err != nil {
		return err
	}
	const q = `INSERT INTO import_jobs (id, tenant_id, kind, status, file, created_by, options) VALUES ($1, $2, $3, 'queued', $4, $5, $6)
ON CONFLICT (id) DO NOTHING`
	if _, err := j.pool().Exec(ctx, q, id, t, kind, file, actor, opts); err != nil {
		return fmt.Errorf("queue %s import: %w", kind, err)
	}
	return nil
}

type claimed struct {
	tenant  tenant.ID
	actor   string
	file    []byte
	options []byte
}

func (j Jobs) claim(ctx context.Context, id uuid.UUID, kind string) (*claimed, error) {
	const q = `UPDATE import_jobs SET status = 'running', started_at = coalesce(started_at, now()), heartbeat_at = now()
WHERE id = $1 AND kind = $2 AND (status = 'queued' OR (status = 'running' AND heartbeat_at < now() - interval '1 minute'))
RETURNING tenant_id, created_by, file, options`
	var c claimed
	err := j.pool().QueryRow(ctx, q, id, kind).Scan(&c.tenant, &c.actor, &c.file, &c.options)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return &c, err
}

// reject finishes a job whose file cannot be read: its row errors, nothing applied.
func (j Jobs) reject(ctx context.Context, id uuid.UUID, rowErrs []RowError) error {
	b, _ := json.Marshal(rowErrs)
	const q = `UPDATE import_jobs SET status = 'failed', message = 'the file cannot be read; nothing was imported', errors = $2,
  error_count = $3, finished_at = now() WHERE id = $1`
	_, err := j.pool().Exec(context.WithoutCancel(ctx), q, id, b, len(rowErrs))
	return err
}

func (j Jobs) fail(ctx context.Context, id uuid.UUID, err error) error {
	msg := "internal error"
	if e, ok := errs.As(err); ok {
		msg = e.Message
	}
	_, _ = j.pool().Exec(context.WithoutCancel(ctx), `UPDATE import_jobs SET status = 'failed', message = $2, finished_at = now() WHERE id = $1`, id, msg)
	return err
}

func (j Jobs) progress(ctx context.Context, id uuid.UUID, done, total int) {
	if j.OnProgress != nil {
		j.OnProgress(done, total)
	}
	_, _ = j.pool().Exec(ctx, `UPDATE import_jobs SET processed_rows = $2, total_rows = $3, heartbeat_at = now() WHERE id = $1`, id, done, total)
}

func (j Jobs) currency(ctx context.Context, t tenant.ID) (money.Currency, time.Duration, error) {
	tn, err := j.Commands.LoadTenant(ctx, t)
	if err != nil {
		return "", 0, err
	}
	return tn.Currency(), tn.Settings().PaymentGrace(), nil
}

// StatementSummary is what a statement import did.
type StatementSummary struct {
	Lines, Duplicates, Matched, Unmatched, Ignored int
}

// RunStatement claims and runs a queued statement import (or one whose
// worker died): it reads the file (a file that cannot be read fails the
// job with the line numbers, and nothing is imported), appends the new
// lines, matches the deposits, confirms each matched payment (idempotent
// per line) and records the matches. It returns false when there was
// nothing to claim.
func (j Jobs) RunStatement(ctx context.Context, id uuid.UUID) (bool, StatementSummary, error) {
	var sum StatementSummary
	c, err := j.claim(ctx, id, KindStatement)
	if err != nil || c == nil {
		return false, sum, err
	}
	var opts Options
	if err := json.Unmarshal(c.options, &opts); err != nil {
		return true, sum, j.fail(ctx, id, err)
	}
	cur, grace, err := j.currency(ctx, c.tenant)
	if err != nil {
		return true, sum, j.fail(ctx, id, err)
	}
	lines, err := ReadStatement(c.file, opts, cur)
	if err != nil {
		return true, sum, j.reject(ctx, id, fileError(err))
	}
	by := commands.By{Actor: c.actor, Correlation: id}
	sid := statement.ID{UUID: id}
	if _, err := j.Commands.ImportStatement(ctx, commands.ImportStatement{Tenant: c.tenant, By: by, Statement: sid, Format: opts.Format, Lines: lines}); err != nil {
		if errs.KindOf(err) == errs.KindInvalid {
			return true, sum, j.reject(ctx, id, []RowError{{Line: 1, Field: "file", Message: "has no statement lines"}})
		}
		return true, sum, j.fail(ctx, id, err)
	}
	st, err := j.Commands.LoadStatement(ctx, c.tenant, sid)
	if err != nil {
		return true, sum, j.fail(ctx, id, err)
	}
	fresh := st.Lines()
	sum.Lines, sum.Duplicates = len(fresh), len(lines)-len(fresh)
	cands, err := Candidates(ctx, j.pool(), c.tenant, fresh, grace)
	if err != nil {
		return true, sum, j.fail(ctx, id, err)
	}
	m := NewMatcher(cands)
	var todo []commands.LineMatch
	lineOf := map[statement.LineID]statement.Line{}
	for _, l := range fresh {
		switch st.Status(l.ID) {
		case statement.StatusIgnored:
			sum.Ignored++
			continue
		case statement.StatusMatched:
			sum.Matched++
			continue
		}
		v := m.Decide(l)
		if v.Allocations == nil {
			sum.Unmatched++
			continue
		}
		lineOf[l.ID] = l
		todo = append(todo, commands.LineMatch{Line: l.ID, Allocations: v.Allocations})
	}
	j.progress(ctx, id, len(fresh)-len(todo), len(fresh))
	done, err := j.confirm(ctx, id, c.tenant, c.actor, todo, lineOf, len(fresh))
	if err != nil {
		return true, sum, j.fail(ctx, id, err)
	}
	sum.Matched += len(done)
	sum.Unmatched += len(todo) - len(done)
	for start := 0; start < len(done); start += 2000 {
		end := min(start+2000, len(done))
		if _, err := j.Commands.RecordMatches(ctx, commands.RecordMatches{Tenant: c.tenant, By: by, Statement: sid, Matches: done[start:end]}); err != nil {
			return true, sum, j.fail(ctx, id, err)
		}
	}
	const q = `UPDATE import_jobs SET status = 'completed', processed_rows = $2, total_rows = $2, created = $3, updated = $4, unchanged = $5,
  finished_at = now(), heartbeat_at = now() WHERE id = $1`
	if _, err := j.pool().Exec(context.WithoutCancel(ctx), q, id, len(fresh), sum.Matched, sum.Unmatched, sum.Duplicates); err != nil {
		return true, sum, err
	}
	if j.Log != nil {
		j.Log.Info("statement imported", "tenant_id", c.tenant, "statement", id, "lines", sum.Lines, "duplicates", sum.Duplicates,
			"matched", sum.Matched, "unmatched", sum.Unmatched)
	}
	return true, sum, nil
}

// batchLines is how many matched lines one transaction records.
const batchLines = 50

// confirm records the payments of the matched lines, batchLines per
// transaction and Workers transactions at once, and returns the matches
// whose payments are recorded. A line the payment refuses (a client-side
// error such as a reference reused) is left to staff; any other error
// stops the job.
func (j Jobs) confirm(ctx context.Context, job uuid.UUID, t tenant.ID, actor string, todo []commands.LineMatch, lineOf map[statement.LineID]statement.Line, total int) ([]commands.LineMatch, error) {
	workers := j.Workers
	if workers <= 0 {
		workers = 8
	}
	ok := make([]bool, len(todo))
	work := make(chan [2]int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var fatal error
	processed := total - len(todo)
	last := time.Now()
	by := commands.By{Actor: actor, Correlation: job}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for span := range work {
				var rs []commands.LineReceipt
				var owner []int
				for i := span[0]; i < span[1]; i++ {
					for k, a := range todo[i].Allocations {
						rs = append(rs, commands.LineReceipt{Line: lineOf[todo[i].Line], Index: k, Alloc: a})
						owner = append(owner, i)
					}
				}
				refused, err := j.Commands.ReceiveStatementLines(ctx, t, by, rs)
				mu.Lock()
				if err != nil && fatal == nil {
					fatal = err
				}
				if err == nil {
					for i := span[0]; i < span[1]; i++ {
						ok[i] = true
					}
					for k, e := range refused {
						ok[owner[k]] = false
						if j.Log != nil {
							j.Log.Warn("statement line left to staff", "tenant_id", t, "statement", job, "line", todo[owner[k]].Line, "err", e)
						}
					}
				}
				processed += span[1] - span[0]
				report := time.Since(last) > 250*time.Millisecond
				if report {
					last = time.Now()
				}
				n := processed
				mu.Unlock()
				if report {
					j.progress(ctx, job, n, total)
				}
			}
		}()
	}
	for start := 0; start < len(todo); start += batchLines {
		mu.Lock()
		stop := fatal != nil
		mu.Unlock()
		if stop || ctx.Err() != nil {
			break
		}
		work <- [2]int{start, min(start+batchLines, len(todo))}
	}
	close(work)
	wg.Wait()
	if fatal == nil {
		fatal = ctx.Err()
	}
	if fatal != nil {
		return nil, fatal
	}
	var done []commands.LineMatch
	for i, m := range todo {
		if ok[i] {
			done = append(done, m)
		}
	}
	return done, nil
}

// Resume runs every statement and remittance job left queued or abandoned
// running (after a restart).
func (j Jobs) Resume(ctx context.Context) error {
	rows, err := j.pool().Query(ctx, `SELECT id, kind FROM import_jobs WHERE kind IN ('bank_statement', 'cod_remittance') AND status IN ('queued', 'running') ORDER BY created_at`)
	if err != nil {
		return err
	}
	type job struct {
		ID   uuid.UUID
		Kind string
	}
	jobs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[job])
	if err != nil {
		return err
	}
	for _, jb := range jobs {
		var err error
		if jb.Kind == KindStatement {
			_, _, err = j.RunStatement(ctx, jb.ID)
		} else {
			_, err = j.RunRemittance(ctx, jb.ID)
		}
		if err != nil && j.Log != nil {
			j.Log.Error("import failed", "job", jb.ID, "err", err)
		}
	}
	return nil
}
