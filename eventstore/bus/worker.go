package bus

import (
	"context"
	stdsql "database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/database"
	"github.com/honten/honten/internal/metrics"
)

// PoisonTopic is where messages go that a handler failed on after its
// retries; they land in the watermill_poison table for an operator.
const PoisonTopic = "poison"

// Handler reacts to events. Its Name is its consumer group: frozen, since
// renaming it redelivers every event. Handle must be idempotent: after a
// crash a message can be delivered again.
type Handler struct {
	Name   string
	Topics []string
	Handle func(ctx context.Context, env eventstore.Envelope) error
	// FromPostgres keeps the handler on the PostgreSQL feed when
	// Options.Subscribe sends the others elsewhere (the relay that feeds
	// that elsewhere).
	FromPostgres bool
}

// Options tune a Worker.
type Options struct {
	// PollInterval bounds the idle wait between polls; 0 means 50ms, or 5s
	// with ChangesOf.
	PollInterval time.Duration
	// ChangesOf, when set, returns for the stream types of a topic (none:
	// every type) a function returning a channel closed when events of
	// them become readable (eventstore.Watcher.ChangesOf): an idle
	// subscriber waits on it, and its own polling is only a safety net.
	ChangesOf func(streamTypes ...string) func() <-chan struct{}
	// RetryFor is how long a failing message is retried, with exponential
	// backoff, before it goes to the poison queue; 0 means 10 minutes, so a
	// short database outage or restart never loses a reaction.
	RetryFor time.Duration
	// RetryInterval is the first retry delay (doubling); 0 means 100ms.
	RetryInterval time.Duration
	// MaxRetryInterval caps the delay between two retries; 0 means 30s.
	MaxRetryInterval time.Duration
	// LockRetry is how often a standby retries the worker lock; 0 means 1s.
	LockRetry time.Duration
	// BatchSize per subscriber transaction; 0 means 50.
	BatchSize int
	// Gather is how long an idle subscriber woken by a feed change (with
	// ChangesOf) waits before its poll, so that one poll's transaction
	// takes the events committed meanwhile: under load, a poll woken for
	// each order was one of the order's commits. 0 means 50ms; negative,
	// none.
	Gather time.Duration
	Logger *slog.Logger
	// Subscribe, when set, gives each handler (but those FromPostgres) its
	// messages from another transport instead of the PostgreSQL feed: it
	// returns the subscriber of consumer group and topic and the topic to
	// subscribe it to (see eventstore/jetstream).
	Subscribe func(group, topic string) (message.Subscriber, string, error)
}

// Worker runs handlers on a watermill Router. One worker process is active
// cluster-wide (a session advisory lock); others wait as standbys.
type Worker struct {
	pool     *pgxpool.Pool
	handlers []Handler
	opts     Options
	log      *slog.Logger
}

// NewWorker returns a worker running handlers on pool.
func NewWorker(pool *pgxpool.Pool, handlers []Handler, opts Options) *Worker {
	if opts.PollInterval <= 0 {
		opts.PollInterval = 50 * time.Millisecond
		if opts.ChangesOf != nil {
			opts.PollInterval = 5 * time.Second
		}
	}
	if opts.RetryFor <= 0 {
		opts.RetryFor = 10 * time.Minute
	}
	if opts.RetryInterval <= 0 {
		opts.RetryInterval = 100 * time.Millisecond
	}
	if opts.MaxRetryInterval <= 0 {
		opts.MaxRetryInterval = 30 * time.Second
	}
	if opts.LockRetry <= 0 {
		opts.LockRetry = time.Second
	}
	if opts.Gather == 0 {
		opts.Gather = 50 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Worker{pool: pool, handlers: handlers, opts: opts, log: opts.Logger}
}

// workerLock names the advisory lock the active worker holds.
const workerLock = "honten.bus.worker"

// Run runs the handlers until ctx ends, whenever this process holds the worker lock.
func (w *Worker) Run(ctx context.Context) error {
	if len(w.handlers) == 0 {
		<-ctx.Done()
		return nil
	}
	for ctx.Err() == nil {
		err := w.lead(ctx)
		if err != nil && ctx.Err() == nil {
			w.log.Error("bus: worker stopped; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(w.opts.LockRetry):
		}
	}
	return nil
}

func (w *Worker) lead(ctx context.Context) error {
	conn, err := w.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	_, err = database.LeadWithLock(ctx, conn, workerLock, func(rctx context.Context) error {
		router, err := w.Router()
		if err != nil {
			return err
		}
		w.log.Info("bus: worker active", "handlers", len(w.handlers))
		return router.Run(rctx)
	})
	return err
}

// Router builds the watermill router with every handler and the middleware
// chain: correlation id, poison queue, retry with backoff, panic recovery.
func (w *Worker) Router() (*message.Router, error) {
	wlog := quietOnShutdown{watermill.NewSlogLoggerWithLevelMapping(w.log, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})}
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 10 * time.Second}, wlog)
	if err != nil {
		return nil, err
	}
	poisonPub, err := wsql.NewPublisher(wsql.BeginnerFromPgx(w.pool), wsql.PublisherConfig{SchemaAdapter: wsql.DefaultPostgreSQLSchema{}}, wlog)
	if err != nil {
		return nil, err
	}
	poison, err := middleware.PoisonQueue(poisonPub, PoisonTopic)
	if err != nil {
		return nil, err
	}
	router.AddMiddleware(
		middleware.CorrelationID,
		poison,
		poisoned,
		middleware.Retry{MaxRetries: math.MaxInt32, MaxElapsedTime: w.opts.RetryFor, InitialInterval: w.opts.RetryInterval,
			MaxInterval: w.opts.MaxRetryInterval, Multiplier: 2, RandomizationFactor: 0.2, ResetContextOnRetry: true, Logger: wlog}.Middleware,
		middleware.Recoverer,
	)
	for _, h := range w.handlers {
		for _, topic := range h.Topics {
			var sub message.Subscriber
			subTopic := topic
			if w.opts.Subscribe != nil && !h.FromPostgres {
				sub, subTopic, err = w.opts.Subscribe(h.Name, topic)
			} else {
				sub, err = w.subscriber(h.Name, topic, wlog)
			}
			if err != nil {
				return nil, err
			}
			name := h.Name
			if len(h.Topics) > 1 {
				name += "@" + topic
			}
			router.AddConsumerHandler(name, subTopic, sub, w.adapt(h))
		}
	}
	return router, nil
}

// quietOnShutdown logs at debug level the errors watermill reports when its
// context ends (a poll's transaction cut short by a shutdown or by a lost
// lock): they are the shutdown working, not a failure an operator should
// see. Every other error stays an error.
type quietOnShutdown struct{ watermill.LoggerAdapter }

// Error implements watermill.LoggerAdapter.
func (l quietOnShutdown) Error(msg string, err error, fields watermill.LogFields) {
	if err != nil && (errors.Is(err, context.Canceled) || strings.Contains(err.Error(), context.Canceled.Error())) {
		l.LoggerAdapter.Debug(msg, fields.Add(watermill.LogFields{"err": err.Error()}))
		return
	}
	l.LoggerAdapter.Error(msg, err, fields)
}

// With implements watermill.LoggerAdapter.
func (l quietOnShutdown) With(fields watermill.LogFields) watermill.LoggerAdapter {
	return quietOnShutdown{l.LoggerAdapter.With(fields)}
}

// poisoned counts the messages that failed every retry (they go to the
// poison queue next).
func poisoned(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		out, err := h(msg)
		if err != nil {
			metrics.PoisonedMessages.WithLabelValues(message.HandlerNameFromCtx(msg.Context())).Inc()
		}
		return out, err
	}
}

func (w *Worker) subscriber(group, topic string, wlog watermill.LoggerAdapter) (*wsql.Subscriber, error) {
	// A message is acknowledged once handled or poisoned: the deadline
	// outlasts its retries.
	ack := w.opts.RetryFor + time.Minute
	adapter := SchemaAdapter{BatchSize: w.opts.BatchSize}
	cfg := wsql.SubscriberConfig{
		ConsumerGroup:  group,
		SchemaAdapter:  adapter,
		OffsetsAdapter: OffsetsAdapter{},
		PollInterval:   w.opts.PollInterval,
		ResendInterval: w.opts.RetryInterval,
		RetryInterval:  w.opts.PollInterval,
		AckDeadline:    &ack,
	}
	db := wsql.BeginnerFromPgx(w.pool)
	if w.opts.ChangesOf != nil {
		var types []string // TopicAll: every type
		if topic != TopicAll {
			types = []string{topic}
		}
		ib := &idleBeginner{Beginner: db, changes: w.opts.ChangesOf(types...), max: w.opts.PollInterval, gather: w.opts.Gather, batch: adapter.batch()}
		db = ib
		cfg.BackoffManager = idleBackoff{retry: w.opts.RetryInterval}
	}
	return wsql.NewSubscriber(db, cfg, wlog)
}

// idleBeginner makes a watermill subscriber wait for a feed change instead
// of polling on a timer: after a poll that read fewer events than a batch
// holds, none included (countedRows), the next poll's transaction begins
// only when the feed changes, or after max. Such a poll read everything
// readable when it ran; what became readable since changed the feed after
// the poll began, so it wakes the next one. (Idle only after an empty
// poll, every wake under load cost two transactions: the batch, then a
// poll that found nothing.) Woken by a change, it waits gather more
// before it begins, so that a busy feed is read in batches.
type idleBeginner struct {
	wsql.Beginner
	changes func() <-chan struct{}
	max     time.Duration
	gather  time.Duration // the wait after a change before the poll (≤ 0: none)
	batch   int           // events a poll reads at most

	mu      sync.Mutex
	idle    bool
	changed <-chan struct{} // taken when the last poll began
}

// BeginTx implements wsql.Beginner.
func (b *idleBeginner) BeginTx(ctx context.Context, opts *stdsql.TxOptions) (wsql.Tx, error) {
	b.mu.Lock()
	idle, changed := b.idle, b.changed
	b.mu.Unlock()
	if idle && changed != nil {
		t := time.NewTimer(b.max)
		select {
		case <-ctx.Done():
		case <-changed:
			if b.gather > 0 {
				t.Reset(b.gather)
				select {
				case <-ctx.Done():
				case <-t.C:
				}
			}
		case <-t.C:
		}
		t.Stop()
	}
	b.mu.Lock()
	b.idle, b.changed = false, b.changes()
	b.mu.Unlock()
	tx, err := b.Beginner.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &shortBatchTx{Tx: tx, b: b}, nil
}

// shortBatchTx is a poll's transaction: its first query is the poll's
// select, whose rows it counts (countedRows).
type shortBatchTx struct {
	wsql.Tx
	b       *idleBeginner
	queried bool
}

// QueryContext implements wsql.Tx.
func (t *shortBatchTx) QueryContext(ctx context.Context, query string, args ...any) (wsql.Rows, error) {
	rows, err := t.Tx.QueryContext(ctx, query, args...)
	if err != nil || t.queried {
		return rows, err
	}
	t.queried = true
	return &countedRows{Rows: rows, b: t.b}, nil
}

// countedRows marks its subscriber idle when the poll's select ends with
// fewer events than a batch. The subscriber handles and acknowledges them
// all before it polls again (watermill's subscriber resends a message
// until it is acknowledged).
type countedRows struct {
	wsql.Rows
	b    *idleBeginner
	n    int
	done bool
}

// Next implements wsql.Rows.
func (r *countedRows) Next() bool {
	if r.Rows.Next() {
		r.n++
		return true
	}
	if !r.done {
		r.done = true
		if r.n < r.b.batch {
			r.b.setIdle()
		}
	}
	return false
}

func (b *idleBeginner) setIdle() {
	b.mu.Lock()
	b.idle = true
	b.mu.Unlock()
}

// idleBackoff is the subscriber's wsql.BackoffManager with an idleBeginner:
// a failed poll waits retry; any other poll waits no further here (the
// idleBeginner holds the next one while the subscriber is idle).
type idleBackoff struct {
	retry time.Duration
}

// HandleError implements wsql.BackoffManager.
func (m idleBackoff) HandleError(logger watermill.LoggerAdapter, _ bool, err error) time.Duration {
	if err == nil {
		return 0
	}
	if !errors.Is(err, context.Canceled) {
		logger.Error("bus: polling the feed failed", err, watermill.LogFields{"wait_time": m.retry})
	}
	return m.retry
}

func (w *Worker) adapt(h Handler) message.NoPublishHandlerFunc {
	return func(msg *message.Message) error {
		env, err := Envelope(msg)
		if err != nil {
			metrics.HandlerMessages.WithLabelValues(h.Name, "malformed").Inc()
			return err
		}
		// The handler gets its own context: it must not use the subscriber's
		// batch transaction (an SQL error there would poison the batch).
		err = h.Handle(msg.Context(), env)
		outcome := "ok"
		if err != nil {
			outcome = "error"
			w.log.Warn("bus: handler failed", "handler", h.Name, "event_type", env.Type, "position", env.Position.String(), "err", err)
		}
		metrics.HandlerMessages.WithLabelValues(h.Name, outcome).Inc()
		return err
	}
}

// Envelope rebuilds the event envelope from a delivered message.
func Envelope(msg *message.Message) (eventstore.Envelope, error) {
	md := msg.Metadata
	var env eventstore.Envelope
	var err error
	var errs []error
	parse := func(key string, fn func(string) error) {
		if e := fn(md.Get(key)); e != nil {
			errs = append(errs, fmt.Errorf("%s: %w", key, e))
		}
	}
	parse(KeyTenant, func(s string) error { env.Tenant, err = tenant.ParseID(s); return err })
	parse(KeyStreamID, func(s string) error { env.StreamID, err = uuid.Parse(s); return err })
	parse(KeyStreamVersion, func(s string) error { env.Version, err = strconv.ParseInt(s, 10, 64); return err })
	parse(KeyPosition, func(s string) error { env.Position.Pos, err = strconv.ParseInt(s, 10, 64); return err })
	parse(KeyTxID, func(s string) error { env.Position.Tx, err = strconv.ParseUint(s, 10, 64); return err })
	parse(KeySchemaVersion, func(s string) error { env.SchemaVersion, err = strconv.Atoi(s); return err })
	parse(KeyCorrelation, func(s string) error { env.CorrelationID, err = uuid.Parse(s); return err })
	parse(KeyRecordedAt, func(s string) error { env.RecordedAt, err = time.Parse(time.RFC3339Nano, s); return err })
	if c := md.Get(KeyCausation); c != "" {
		parse(KeyCausation, func(s string) error { env.CausationID, err = uuid.Parse(s); return err })
	}
	env.EventID, err = uuid.Parse(msg.UUID)
	if err != nil {
		errs = append(errs, err)
	}
	env.Type = md.Get(KeyEventType)
	env.StreamType = md.Get(KeyStreamType)
	env.Actor = md.Get(KeyActor)
	env.Payload = json.RawMessage(msg.Payload)
	if err := errors.Join(errs...); err != nil {
		return eventstore.Envelope{}, fmt.Errorf("bus: message %s: %w", msg.UUID, err)
	}
	return env, nil
}

func jsonUnmarshal(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("bus: decode metadata: %w", err)
	}
	return nil
}
