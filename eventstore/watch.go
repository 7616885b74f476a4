package eventstore

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// WatchOptions tune a Watcher.
type WatchOptions struct {
	// MinPoll is the head poll interval right after a change; 0 means 5ms.
	MinPoll time.Duration
	// MaxPoll is the longest head poll interval when nothing changes; 0
	// means 250ms. It bounds how late a consumer in this process learns of
	// a commit made by another process.
	MaxPoll time.Duration
	Logger  *slog.Logger
}

// Watcher tells the feed consumers of a process (projectors, the
// reservation worker, watermill subscribers) when the feed may hold
// something new, so that an idle consumer waits on a channel instead of
// polling the events table. It signals at once after a commit in this
// process (Nudge, wired to Store.OnCommit), and otherwise when one cheap
// query — the feed head and the oldest running transaction id — sees a
// change: an event committed by another process, or an older transaction
// ending, which makes events committed after it readable. Polling that one
// query costs a few index pages, whatever the size of the log; it speeds up
// while changes come and backs off to MaxPoll when none do.
type Watcher struct {
	pool *pgxpool.Pool
	opts WatchOptions

	mu sync.Mutex
	ch chan struct{}
}

// NewWatcher returns a Watcher of pool's events table; Run polls it.
func NewWatcher(pool *pgxpool.Pool, opts WatchOptions) *Watcher {
	if opts.MinPoll <= 0 {
		opts.MinPoll = 5 * time.Millisecond
	}
	if opts.MaxPoll <= 0 {
		opts.MaxPoll = 250 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Watcher{pool: pool, opts: opts, ch: make(chan struct{})}
}

// Changes returns a channel closed at the next change. A consumer takes it
// before it reads the feed and waits on it after an empty read, so a change
// between the two is never missed.
func (w *Watcher) Changes() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ch
}

// Nudge signals a change (a commit in this process).
func (w *Watcher) Nudge() {
	w.mu.Lock()
	close(w.ch)
	w.ch = make(chan struct{})
	w.mu.Unlock()
}

// WatchState is what a Watcher compares between two polls.
type WatchState struct {
	// Head is the global position of the last committed event.
	Head int64
	// Xmin is the oldest transaction id still running.
	Xmin string
}

// ReadWatchState reads the feed head (a backward step on the feed index)
// and the oldest running transaction id, in one statement.
func ReadWatchState(ctx context.Context, q Querier) (WatchState, error) {
	const query = `SELECT coalesce((SELECT e.global_position FROM events e ORDER BY e.tx_id DESC, e.global_position DESC LIMIT 1), 0),
       pg_snapshot_xmin(pg_current_snapshot())::text`
	var st WatchState
	if err := q.QueryRow(ctx, query).Scan(&st.Head, &st.Xmin); err != nil {
		return WatchState{}, fmt.Errorf("watch the feed: %w", err)
	}
	return st, nil
}

// Run polls the feed head until ctx ends and signals every change.
func (w *Watcher) Run(ctx context.Context) error {
	var last WatchState
	first := true
	interval := w.opts.MinPoll
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		st, err := ReadWatchState(ctx, w.pool)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			w.opts.Logger.Warn("feed watcher: head poll failed", "err", err)
			// Wake the consumers anyway: they poll themselves and report.
			w.Nudge()
			interval = w.opts.MaxPoll
		} else if first || st != last {
			if !first {
				w.Nudge()
			}
			first, last = false, st
			interval = w.opts.MinPoll
		} else {
			interval = min(interval*2, w.opts.MaxPoll)
		}
		t.Reset(interval)
	}
}
