package eventstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// WatchOptions tune a Watcher.
type WatchOptions struct {
	// MinPoll is the poll interval right after a change, and while
	// committed events wait behind an older running transaction; 0 means
	// 5ms.
	MinPoll time.Duration
	// MaxPoll is the longest poll interval when nothing changes; 0 means
	// 250ms. It bounds how late a consumer in this process learns of a
	// commit made by another process.
	MaxPoll time.Duration
	Logger  *slog.Logger
}

// Watcher tells the feed consumers of a process (projectors, the
// reservation worker, watermill subscribers) when the feed holds something
// new for them, so that an idle consumer waits on a channel instead of
// polling the events table.
//
// It tails the feed itself, reading only the stream types of the events
// that became readable since its last look (a feed consumer reads below
// the oldest running transaction, so an event becomes readable when it and
// every older transaction have ended, in this process or another). A
// consumer of some stream types (ChangesOf) is woken only when events of
// those types became readable: a commit of orders does not wake the
// reservation lanes, and the many commits of a busy shop do not each wake
// every consumer. The watcher looks again at once after a commit in this
// process (Nudge, wired to Store.OnCommit) but never sooner than MinPoll
// after the previous look, every few milliseconds while committed events
// wait behind an older transaction, and otherwise backs off to MaxPoll.
type Watcher struct {
	pool *pgxpool.Pool
	opts WatchOptions
	poke chan struct{}

	mu     sync.Mutex
	groups map[string]*watchGroup
}

// watchGroup is the channel of the consumers of one set of stream types
// (nil types: every type).
type watchGroup struct {
	types []string
	ch    chan struct{}
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
	return &Watcher{pool: pool, opts: opts, poke: make(chan struct{}, 1), groups: map[string]*watchGroup{}}
}

// Changes returns a channel closed when events of any type become
// readable. A consumer takes it before it reads the feed and waits on it
// after an empty read, so a change between the two is never missed.
func (w *Watcher) Changes() <-chan struct{} { return w.group(nil) }

// ChangesOf returns a Changes function for a consumer of the given stream
// types only: its channel is closed when events of one of them become
// readable (or when the watcher cannot tell, after a failed look). No
// types means every type.
func (w *Watcher) ChangesOf(streamTypes ...string) func() <-chan struct{} {
	types := slices.Clone(streamTypes)
	slices.Sort(types)
	types = slices.Compact(types)
	return func() <-chan struct{} { return w.group(types) }
}

func (w *Watcher) group(types []string) <-chan struct{} {
	key := strings.Join(types, "\x00")
	w.mu.Lock()
	defer w.mu.Unlock()
	g, ok := w.groups[key]
	if !ok {
		g = &watchGroup{types: types, ch: make(chan struct{})}
		w.groups[key] = g
	}
	return g.ch
}

// signal wakes the consumers of any of types (nil: every consumer).
func (w *Watcher) signal(types []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, g := range w.groups {
		if types == nil || g.types == nil || slices.ContainsFunc(g.types, func(t string) bool { return slices.Contains(types, t) }) {
			close(g.ch)
			g.ch = make(chan struct{})
		}
	}
}

// Nudge makes the watcher look at the feed now (a commit in this process).
func (w *Watcher) Nudge() {
	select {
	case w.poke <- struct{}{}:
	default:
	}
}

// WatchState is what a Watcher learns in one look at the feed.
type WatchState struct {
	// Cursor is the last readable event the look reached.
	Cursor Position
	// Types are the stream types of the events that became readable after
	// the previous cursor (at most watchLimit events are read).
	Types []string
	// Read is how many events the look read (watchLimit: there may be more).
	Read int
	// Held reports committed events not yet readable: an older
	// transaction is still running.
	Held bool
}

// heldMaxPoll is the longest poll interval while committed events wait
// behind an older transaction.
const heldMaxPoll = 20 * time.Millisecond

// watchLimit bounds the events one look reads.
const watchLimit = 5000

// watchQuery reads the stream types of the events readable after the
// cursor, the last of them, and whether any committed event waits at or
// above the oldest running transaction. Both read the feed index from
// one end: the new events from the cursor, and the held check the last
// committed transaction's id, from the index's top (the newest visible
// entry). The held check was an EXISTS of an event at or above the bound:
// PostgreSQL estimates a third of the log there and, on a young log, took
// a sequential scan for the first such row. A watcher's connection kept
// that plan while the log grew, and each look read the whole log (the
// rows it wants are at its end): a thousand pages a look, 5 ms of
// PostgreSQL's time an order in a fresh checkout benchmark. A max() over
// the index is planned as one probe of its end at any size.
const watchQuery = `WITH n AS MATERIALIZED (
    SELECT e.stream_type, e.tx_id, e.global_position FROM events e
    WHERE (e.tx_id, e.global_position) > ($1::text::xid8, $2::bigint)
      AND e.tx_id < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY e.tx_id, e.global_position
    LIMIT $3),
last AS (SELECT tx_id, global_position FROM n ORDER BY tx_id DESC, global_position DESC LIMIT 1)
SELECT coalesce((SELECT array_agg(DISTINCT stream_type) FROM n), '{}'),
       (SELECT count(*) FROM n),
       coalesce((SELECT tx_id::text FROM last), $1),
       coalesce((SELECT global_position FROM last), $2::bigint),
       coalesce((SELECT max(e.tx_id) FROM events e) >= pg_snapshot_xmin(pg_current_snapshot()), false)`

// readableHeadQuery is the last readable event: where a new watcher starts.
const readableHeadQuery = `SELECT e.tx_id::text, e.global_position FROM events e
WHERE e.tx_id < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY e.tx_id DESC, e.global_position DESC LIMIT 1`

// StartWatch returns the last readable event (zero on an empty log): where
// a watcher starts, since what is readable already is not news to it.
func StartWatch(ctx context.Context, q Querier) (Position, error) {
	var p Position
	var tx string
	err := q.QueryRow(ctx, readableHeadQuery).Scan(&tx, &p.Pos)
	if errors.Is(err, pgx.ErrNoRows) {
		return Position{}, nil
	}
	if err != nil {
		return Position{}, fmt.Errorf("watch the feed: %w", err)
	}
	p.Tx, _ = strconv.ParseUint(tx, 10, 64)
	return p, nil
}

// ReadWatchState looks at the feed after cursor: what became readable, and
// whether committed events wait behind an older transaction.
func ReadWatchState(ctx context.Context, q Querier, cursor Position) (WatchState, error) {
	var st WatchState
	var tx string
	if err := q.QueryRow(ctx, watchQuery, cursor.TxText(), cursor.Pos, watchLimit).Scan(&st.Types, &st.Read, &tx, &st.Cursor.Pos, &st.Held); err != nil {
		return WatchState{}, fmt.Errorf("watch the feed: %w", err)
	}
	st.Cursor.Tx, _ = strconv.ParseUint(tx, 10, 64)
	return st, nil
}

// Run looks at the feed until ctx ends and wakes the consumers of what
// becomes readable.
func (w *Watcher) Run(ctx context.Context) error {
	var cursor Position
	first := true
	interval := w.opts.MinPoll
	t := time.NewTimer(0)
	defer t.Stop()
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-w.poke:
		}
		// Looks are at least MinPoll apart: under load commits come by the
		// thousand a second, and one look serves all of them.
		if d := w.opts.MinPoll - time.Since(last); d > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(d):
			}
		}
		last = time.Now()
		var st WatchState
		var err error
		if first {
			cursor, err = StartWatch(ctx, w.pool)
		}
		if err == nil {
			st, err = ReadWatchState(ctx, w.pool, cursor)
		}
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil
			}
			w.opts.Logger.Warn("feed watcher: look at the feed failed", "err", err)
			// Wake the consumers anyway: they poll themselves and report.
			w.signal(nil)
			interval = w.opts.MaxPoll
		case first:
			// The first look: what was committed before it is not news to
			// it, but may be to a consumer already waiting.
			w.signal(nil)
		case len(st.Types) > 0:
			w.signal(st.Types)
			interval = w.opts.MinPoll
			if st.Read >= watchLimit {
				interval = 0
			}
		case st.Held:
			// Committed events wait behind an older transaction: look again
			// soon, backing off a little while it lasts.
			interval = min(max(interval*2, w.opts.MinPoll), heldMaxPoll, w.opts.MaxPoll)
		default:
			interval = min(interval*2, w.opts.MaxPoll)
		}
		if err == nil {
			cursor, first = st.Cursor, false
		}
		t.Reset(interval)
	}
}
