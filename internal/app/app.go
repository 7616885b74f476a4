// Package app wires Honten together: configuration, the database (the
// private dev cluster when DATABASE_URL is unset), migrations, the event
// store and its registry, the read models, the workers and the HTTP server.
// cmd/honten and the end-to-end tests use the same Main.
package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"github.com/honten/honten/projections/ledger"
	"github.com/honten/honten/search/reading"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/commands/importer"
	"github.com/honten/honten/commands/reconcile"
	"github.com/honten/honten/commands/reservations"
	"github.com/honten/honten/domain/cart"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/customer"
	"github.com/honten/honten/domain/delivery"
	"github.com/honten/honten/domain/inventory"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/payment"
	"github.com/honten/honten/domain/payout"
	"github.com/honten/honten/domain/personal"
	"github.com/honten/honten/domain/promotion"
	"github.com/honten/honten/domain/shipment"
	"github.com/honten/honten/domain/staff"
	"github.com/honten/honten/domain/statement"
	"github.com/honten/honten/domain/store"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/domain/vendor"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/eventstore/bus"
	"github.com/honten/honten/eventstore/jetstream"
	honthttp "github.com/honten/honten/http"
	"github.com/honten/honten/integrations/email"
	"github.com/honten/honten/integrations/files"
	"github.com/honten/honten/integrations/webhook"
	"github.com/honten/honten/internal/database"
	"github.com/honten/honten/internal/devdb"
	"github.com/honten/honten/migrations"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/projections/bankstatements"
	"github.com/honten/honten/projections/cartviews"
	"github.com/honten/honten/projections/customerviews"
	"github.com/honten/honten/projections/orderviews"
	"github.com/honten/honten/projections/productviews"
	"github.com/honten/honten/projections/searchdocs"
	"github.com/honten/honten/projections/stocklevels"
	"github.com/honten/honten/projections/tenancy"
	"github.com/honten/honten/search"
)

// Main is one Honten process.
type Main struct {
	Config Config
	Log    *slog.Logger
	Now    func() time.Time

	// Pool is the workers' pool: projectors, reactions, the reservation
	// lanes, sweeps, every context not scoped to a tenant.
	Pool *pgxpool.Pool
	// Requests is the pool of the work requests do for a tenant (the HTTP
	// server's pool, and the store's for contexts made by
	// database.WithTenant; eventstore.Store.ServeRequestsFrom).
	Requests *pgxpool.Pool
	// Replica is the pool on the read replica (Config.ReplicaURL), or nil.
	Replica *pgxpool.Pool
	// RLS turns the requests' API role (row-level security) off and on at
	// run time; benchmarks use it to measure what the wall costs.
	RLS      *database.RLSSwitch
	Registry *eventstore.Registry
	Store    *eventstore.Store
	Commands *commands.Service
	Runner   *projections.Runner
	// Feed tells this process's feed consumers when the feed changes, so
	// that idle ones wait instead of polling the events table.
	Feed    *eventstore.Watcher
	Imports importer.Jobs
	// Reconcile runs bank statement and COD remittance imports.
	Reconcile reconcile.Jobs
	// Reservations decides stock reservations (workers role).
	Reservations *reservations.Worker
	Worker       *bus.Worker
	// Sweeper cancels orders unpaid at their due date (workers role).
	Sweeper *commands.Sweeper
	// Purger deletes expired sessions and stale throttle rows (workers role).
	Purger *commands.SessionPurger
	// Webhooks delivers events to the shops' webhook endpoints (workers role).
	Webhooks *webhook.Dispatcher
	// Mail writes buyers' e-mails from events (a reaction) and sends them
	// (MailSender, workers role).
	Mail       *email.Reaction
	MailSender *email.Sender
	Server     *honthttp.Server
	// Search is the storefront search backend (SEARCH_BACKEND).
	Search search.Index

	httpServer *http.Server
	listener   net.Listener
	// started is closed when Run has recorded the feed head it started at
	// (head); see CaughtUp.
	started chan struct{}
	head    eventstore.Position
	// opsServer and opsListener serve OpsHandler on OPS_ADDR.
	opsServer   *http.Server
	opsListener net.Listener
	// base is cancelled when Run ends; background work (imports) uses it.
	base       context.Context
	cancelBase context.CancelFunc
}

// New returns a Main for cfg; Open connects it.
func New(cfg Config) *Main {
	base, cancel := context.WithCancel(context.Background())
	return &Main{Config: cfg, Log: cfg.Logger(), Now: time.Now, base: base, cancelBase: cancel, started: make(chan struct{})}
}

// Registry returns the registry of every event type Honten stores.
func Registry() *eventstore.Registry {
	reg := eventstore.NewRegistry()
	for _, evs := range [][]eventstore.Event{tenant.Events, vendor.Events, store.Events, staff.Events, catalog.Events, inventory.Events, order.Events, payment.Events, shipment.Events, cart.Events, payout.Events, statement.Events, customer.Events, personal.Events, cart.CouponEvents, promotion.Events, delivery.Events} {
		reg.Register(evs...)
	}
	reg.Upcast(order.Placed{}.EventName(), 1, order.UpcastPlacedV1)
	return reg
}

// Projectors returns every read model's projector.
func Projectors(reg *eventstore.Registry) []projections.Projector {
	return []projections.Projector{
		tenancy.Projector{Registry: reg},
		productviews.Projector{Registry: reg},
		cartviews.Projector{Registry: reg},
		stocklevels.Projector{Registry: reg},
		orderviews.Projector{Registry: reg},
		customerviews.Projector{Registry: reg},
		ledger.Projector{Registry: reg},
		bankstatements.Projector{Registry: reg},
		searchdocs.Projector{Registry: reg},
	}
}

// Handlers returns every event handler (policies, workers) of the workers
// role: the order policies (commands.Service.Policies) and the e-mail
// reaction.
func (m *Main) Handlers() []bus.Handler {
	return append(m.Commands.Policies(), m.Mail.Handler())
}

// newMail builds the e-mail reaction and sender (SMTP_URL, MAIL_FROM).
func (m *Main) newMail() error {
	m.Mail = &email.Reaction{Pool: m.Pool, Store: m.Store, LoadTenantFunc: m.Commands.LoadTenant}
	m.MailSender = &email.Sender{Pool: m.Pool, From: m.Config.MailFrom, Log: m.Log, Now: m.Now,
		RemindersFunc: func(ctx context.Context, now time.Time) error {
			_, err := m.Mail.Reminders(ctx, now, 500)
			return err
		}}
	m.Mail.WrittenFunc = m.MailSender.Nudge
	if m.Config.SMTPURL != "" {
		cfg, err := email.ParseSMTPURL(m.Config.SMTPURL)
		if err != nil {
			return fmt.Errorf("SMTP_URL: %w", err)
		}
		m.MailSender.SMTP = &cfg
	}
	return nil
}

// jetStream makes the JetStream stream, returns the relay handler that
// feeds it and, with REACTIONS_FROM=jetstream, points the policies at it.
func (m *Main) jetStream(o *bus.Options) (bus.Handler, error) {
	const duplicates = 10 * time.Minute // the relay's redelivery after a crash is seconds
	if err := jetstream.Ensure(m.Config.NatsURL, duplicates); err != nil {
		return bus.Handler{}, err
	}
	wlog := watermill.NewSlogLoggerWithLevelMapping(m.Log, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})
	relay, closeRelay, err := jetstream.Relay(m.Config.NatsURL, wlog)
	if err != nil {
		return bus.Handler{}, err
	}
	context.AfterFunc(m.base, func() { closeRelay() }) //nolint:errcheck
	if m.Config.ReactionsFrom == "jetstream" {
		o.Subscribe = jetstream.Subscribe(m.Config.NatsURL, o.RetryFor+time.Minute, wlog)
	}
	return relay, nil
}

// PurgeIdempotencyKeys deletes the Idempotency-Keys (and their stored
// responses) older than the retention (IDEMPOTENCY_RETENTION) and returns
// how many it deleted.
func (m *Main) PurgeIdempotencyKeys(ctx context.Context) (int64, error) {
	return eventstore.PurgeIdempotency(ctx, m.Pool, max(m.Config.IdempotencyRetention, 24*time.Hour))
}

// purgeIdempotencyKeys purges expired keys every sweep period (SWEEP_EVERY)
// until ctx ends; it is part of the workers role.
func (m *Main) purgeIdempotencyKeys(ctx context.Context) {
	every := m.Config.SweepEvery
	if every <= 0 {
		every = time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := m.PurgeIdempotencyKeys(ctx); err != nil && ctx.Err() == nil {
			m.Log.Error("purge idempotency keys", "err", err)
		} else if n > 0 {
			m.Log.Info("purged expired idempotency keys", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// NewSweeper returns the time sweeper of the workers role: at the Commands
// clock (Main.Now) it cancels bank-transfer orders unpaid at their due date
// (found through order_views) and releases vendors' funds past their
// return window (found through the ledger).
func (m *Main) NewSweeper() *commands.Sweeper {
	return &commands.Sweeper{Commands: m.Commands, Log: m.Log, Every: m.Config.SweepEvery,
		FindFunc: func(ctx context.Context, now time.Time, limit int) ([]commands.Overdue, error) {
			due, err := orderviews.OverdueOrders(ctx, m.Pool, now, limit)
			out := make([]commands.Overdue, len(due))
			for i, d := range due {
				out[i] = commands.Overdue{Tenant: d.Tenant, Order: order.ID{UUID: d.Order}}
			}
			return out, err
		},
		ReleasableFunc: func(ctx context.Context, now time.Time, limit int) ([]commands.Releasable, error) {
			due, err := ledger.ReleasableShipments(ctx, m.Pool, now, limit)
			out := make([]commands.Releasable, len(due))
			for i, d := range due {
				out[i] = commands.Releasable{Tenant: d.Tenant, Shipment: shipment.ID{UUID: d.Shipment}}
			}
			return out, err
		}}
}

// Open connects to the database (starting the private cluster when no URL
// is configured), migrates when configured to, and builds the components.
//
// Migrations run as the owner (MigrateDatabaseURL); the pool logs in as
// DatabaseURL's role and runs each request's queries as the API role
// (Config.APIRole) with the request's tenant set (internal/database).
func (m *Main) Open(ctx context.Context) error {
	url, ownerURL := m.Config.DatabaseURL, m.Config.MigrateDatabaseURL
	dev := url == ""
	if dev {
		var err error
		if ownerURL, err = DevDatabaseURL(ctx, m.Log); err != nil {
			return err
		}
		if url, err = database.WithUser(ownerURL, WorkerRole); err != nil {
			return err
		}
	}
	if ownerURL == "" {
		ownerURL = url
	}
	if m.Config.Migrate {
		if err := Migrate(ctx, ownerURL, m.Log); err != nil {
			return err
		}
	}
	if dev {
		if err := devdb.EnableLogins(ctx, ownerURL); err != nil {
			return err
		}
	}
	m.RLS = &database.RLSSwitch{}
	pool, err := database.Open(ctx, url, database.Options{MaxConns: cmp.Or(m.Config.DBWorkerConns, defaultWorkerConns), IdleInTxTimeout: m.Config.IdleInTxTimeout,
		APIRole: m.Config.APIRole, RLS: m.RLS, AppName: m.Config.DBAppName})
	if err != nil {
		return err
	}
	m.Pool = pool
	// Requests get a pool of their own: a session then keeps the API role
	// and tenant of the requests it serves instead of switching to the
	// workers' login role and back (a round trip and a commit each time).
	m.Requests, err = database.Open(ctx, url, database.Options{MaxConns: m.Config.DBMaxConns, IdleInTxTimeout: m.Config.IdleInTxTimeout,
		APIRole: m.Config.APIRole, RLS: m.RLS, AppName: cmp.Or(m.Config.DBAppName, "honten") + "-requests"})
	if err != nil {
		return err
	}
	if m.Config.ReplicaURL != "" && m.Config.Roles.API {
		m.Replica, err = database.Open(ctx, m.Config.ReplicaURL, database.Options{MaxConns: m.Config.DBMaxConns, IdleInTxTimeout: m.Config.IdleInTxTimeout,
			APIRole: m.Config.APIRole, RLS: m.RLS, AppName: cmp.Or(m.Config.DBAppName, "honten") + "-replica-reads"})
		if err != nil {
			return fmt.Errorf("read replica (REPLICA_URL): %w", err)
		}
	}
	m.Registry = Registry()
	m.Store = eventstore.New(pool, m.Registry)
	m.Store.ServeRequestsFrom(m.Requests)
	m.Commands = commands.New(m.Store, m.Now)
	m.Commands.SetHotThreshold(m.Config.HotThreshold)
	m.Commands.SetHotConcurrency(m.Config.HotConcurrency)
	m.Commands.SetHashConcurrency(m.Config.SignInConcurrency, m.Config.SignInQueueWait)
	projectors := Projectors(m.Registry)
	var extra []projections.Projector
	m.Search, extra, err = m.searchBackend(ctx)
	if err != nil {
		return err
	}
	m.Feed = eventstore.NewWatcher(pool, eventstore.WatchOptions{Logger: m.Log})
	m.Store.OnCommit(func(eventstore.Position) { m.Feed.Nudge() })
	m.Runner, err = projections.NewRunner(pool, append(projectors, extra...), projections.Options{Logger: m.Log, Changes: m.Feed.Changes, Registry: m.Registry,
		Linger: m.Config.ProjectionLinger})
	if err != nil {
		return err
	}
	if m.Config.Roles.Projectors {
		m.Store.OnCommit(func(eventstore.Position) { m.Runner.Nudge() })
	}
	if err := m.Runner.Ensure(ctx); err != nil {
		return fmt.Errorf("read models: %w", err)
	}
	if err := m.newMail(); err != nil {
		return err
	}
	busOpts := bus.Options{Logger: m.Log, ChangesOf: m.Feed.ChangesOf,
		RetryFor: m.Config.ReactionRetryFor, MaxRetryInterval: m.Config.ReactionRetryMaxDelay}
	handlers := m.Handlers()
	if m.Config.NatsURL != "" && m.Config.Roles.Workers {
		relay, err := m.jetStream(&busOpts)
		if err != nil {
			return err
		}
		handlers = append([]bus.Handler{relay}, handlers...)
	}
	m.Worker = bus.NewWorker(pool, handlers, busOpts)
	m.Sweeper = m.NewSweeper()
	m.Purger = &commands.SessionPurger{Commands: m.Commands, Log: m.Log, Every: m.Config.PurgeEvery}
	m.Webhooks = webhook.NewDispatcher(pool, webhook.Options{AllowPrivate: m.Config.WebhookAllowPrivate, Timeout: m.Config.WebhookTimeout,
		RetryFor: m.Config.WebhookRetryFor, Changes: m.Feed.Changes, Now: m.Now, Logger: m.Log, Registry: m.Store.Registry()})
	m.Imports = importer.Jobs{Importer: importer.Importer{Commands: m.Commands}, Log: m.Log, MaxActive: m.Config.ImportMaxActive,
		Currency: func(ctx context.Context, t tenant.ID) (money.Currency, error) {
			tn, err := m.Commands.LoadTenant(ctx, t)
			if err != nil {
				return "", err
			}
			return tn.Currency(), nil
		}}
	m.Reconcile = reconcile.Jobs{Commands: m.Commands, Log: m.Log}
	// The feed watcher runs in a process with projectors or workers (Run):
	// then the lanes, and add-to-cart waits for decisions made in another
	// process, wake on its changes; elsewhere waits poll the index.
	ro := reservations.Options{Logger: m.Log}
	if m.Config.Roles.Projectors || m.Config.Roles.Workers {
		// Lanes wake when requests (recorded in carts) become readable,
		// waiters when decisions (recorded in inventory) do.
		ro.Changes = m.Feed.ChangesOf(cart.StreamType)
		ro.DecisionChanges = m.Feed.ChangesOf(inventory.StreamType)
	}
	m.Reservations = m.Commands.NewReservationWorker(ro)
	var downloads files.Store = files.Dir(m.Config.DownloadsDir)
	if m.Config.DownloadsS3 != nil {
		s3, err := files.NewS3(*m.Config.DownloadsS3)
		if err != nil {
			return fmt.Errorf("downloads: %w", err)
		}
		downloads = s3
	}
	m.Server = honthttp.NewServer(honthttp.Deps{Imports: m.Imports, Reconcile: m.Reconcile, BaseContext: m.base, Reservations: m.Reservations,
		Pool: m.Requests, Replica: m.Replica, Store: m.Store, Commands: m.Commands, Projections: m.Runner, ProjectionsLocal: m.Config.Roles.Projectors,
		Handlers: m.Handlers(),
		Search:   m.Search,
		Logger:   m.Log, Now: m.Now,
		Config: honthttp.Config{ConsistencyWait: m.Config.ConsistencyWait, TrustedProxies: m.Config.TrustedProxies,
			CartCreateRate: m.Config.CartCreateRate, CartAddRate: m.Config.CartAddRate, MetricsToken: m.Config.MetricsToken,
			WriteTimeout: m.Config.HTTPWriteTimeout, MaxUploadBytes: m.Config.ImportMaxBytes,
			Files:               downloads,
			WebhookAllowPrivate: m.Config.WebhookAllowPrivate, WebhookSecretOverlap: m.Config.WebhookSecretOverlap,
			StorefrontShop: m.Config.StorefrontShop},
	})
	return nil
}

// DevDatabaseURL starts (or finds) the private cluster of the repository,
// makes sure its "honten" database exists, and returns its URL.
func DevDatabaseURL(ctx context.Context, log *slog.Logger) (string, error) {
	root, err := devdb.FindRoot()
	if err != nil {
		return "", fmt.Errorf("DATABASE_URL is unset and %w", err)
	}
	c, err := devdb.Ensure(ctx, root, log)
	if err != nil {
		return "", err
	}
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'honten')`).Scan(&exists); err != nil {
		return "", err
	}
	if !exists {
		if _, err := conn.Exec(ctx, `CREATE DATABASE honten TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'`); err != nil {
			return "", fmt.Errorf("create database honten: %w", err)
		}
	}
	log.Info("using the private PostgreSQL cluster", "dir", c.DataDir, "socket", c.SocketDir, "port", c.Port)
	return c.URL("honten"), nil
}

// Migrate applies pending migrations on a connection of its own to url,
// which must be the owner of the tables.
func Migrate(ctx context.Context, url string, log *slog.Logger) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("migrate: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	n, err := migrations.Up(ctx, conn)
	if err != nil {
		return err
	}
	if n > 0 {
		log.Info("migrations applied", "count", n)
	}
	return nil
}

// WorkerRole is the role a process running projectors or workers logs in
// as on the private cluster; requests step down to the API role.
const WorkerRole = "honten_worker"

// Listen binds the HTTP address and, when configured, the ops address
// (":0" picks a free port; see Addr and OpsAddr).
func (m *Main) Listen() error {
	l, err := net.Listen("tcp", m.Config.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", m.Config.HTTPAddr, err)
	}
	m.listener = l
	if m.Config.OpsAddr != "" && m.Config.Roles.API {
		ol, err := net.Listen("tcp", m.Config.OpsAddr)
		if err != nil {
			l.Close()
			return fmt.Errorf("listen %s (OPS_ADDR): %w", m.Config.OpsAddr, err)
		}
		m.opsListener = ol
	}
	return nil
}

// Addr is the bound HTTP address, after Listen.
func (m *Main) Addr() string { return m.listener.Addr().String() }

// OpsAddr is the bound ops address (OPS_ADDR), after Listen; "" without one.
func (m *Main) OpsAddr() string {
	if m.opsListener == nil {
		return ""
	}
	return m.opsListener.Addr().String()
}

// serve runs srv on l until ctx ends, then shuts it down gracefully.
func (m *Main) serve(ctx context.Context, wg *sync.WaitGroup, errc chan<- error, srv *http.Server, l net.Listener) {
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()
	go func() {
		defer wg.Done()
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			m.Log.Warn("http shutdown", "err", err)
		}
	}()
}

// Run runs the configured roles until ctx ends, then shuts down gracefully:
// HTTP drains in-flight requests, projectors finish their batch, the worker
// router closes.
func (m *Main) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, m.cancelBase)
	defer stop()
	if m.Config.Roles.Workers {
		go func() {
			if err := m.Imports.Resume(ctx); err != nil && ctx.Err() == nil {
				m.Log.Error("resume imports", "err", err)
			}
			if err := m.Reconcile.Resume(ctx); err != nil && ctx.Err() == nil {
				m.Log.Error("resume statement imports", "err", err)
			}
		}()
		// Coupon code jobs a stopped process left half done (it may wait
		// for a job's heartbeat to go stale, so on its own).
		go func() {
			if err := (commands.CodeJobs{Commands: m.Commands, Log: m.Log}).Resume(ctx); err != nil && ctx.Err() == nil {
				m.Log.Error("resume code jobs", "err", err)
			}
		}()
	}
	// The Japanese reading analyzer (search documents, search queries)
	// loads once per process; loading it now keeps its second or so out of
	// the first request and out of a standby's takeover.
	if m.Config.Roles.API || m.Config.Roles.Projectors {
		st, err := reading.Load()
		if err != nil {
			return err
		}
		m.Log.Debug("reading analyzer loaded", "took", st.Duration, "heap_bytes", st.HeapBytes)
	}
	// Readiness waits for the read models to apply what is in the log now
	// (start-up's migrations and demo load, or a backlog from the last run).
	head, err := eventstore.Head(ctx, m.Pool)
	if err != nil {
		return fmt.Errorf("feed head: %w", err)
	}
	m.head = head
	m.Server.SetStarted(head)
	close(m.started)
	var wg sync.WaitGroup
	errc := make(chan error, 9)
	if m.Config.Roles.Projectors || m.Config.Roles.Workers {
		wg.Add(1)
		go func() { defer wg.Done(); errc <- m.Feed.Run(ctx) }()
	}
	if m.Config.Roles.Projectors {
		wg.Add(1)
		go func() { defer wg.Done(); errc <- m.Runner.Run(ctx) }()
	}
	if m.Config.Roles.Workers {
		wg.Add(2)
		go func() { defer wg.Done(); errc <- m.Worker.Run(ctx) }()
		go func() { defer wg.Done(); errc <- m.Reservations.Run(ctx) }()
		wg.Add(2)
		go func() { defer wg.Done(); m.Sweeper.Run(ctx) }()
		go func() { defer wg.Done(); m.Purger.Run(ctx) }()
		wg.Add(1)
		go func() { defer wg.Done(); m.purgeIdempotencyKeys(ctx) }()
		wg.Add(1)
		go func() { defer wg.Done(); errc <- m.Webhooks.Run(ctx) }()
		wg.Add(1)
		go func() { defer wg.Done(); errc <- m.MailSender.Run(ctx) }()
	}
	if m.Config.Roles.API && m.Replica != nil {
		wg.Add(1)
		go func() { defer wg.Done(); m.Server.SampleReplicaLag(ctx, 5*time.Second) }()
	}
	if m.Config.Roles.API {
		if m.listener == nil {
			if err := m.Listen(); err != nil {
				return err
			}
		}
		m.httpServer = &http.Server{Handler: m.Server, ReadHeaderTimeout: m.Config.HTTPReadHeaderTimeout, ReadTimeout: m.Config.HTTPReadTimeout,
			WriteTimeout: m.Config.HTTPWriteTimeout, IdleTimeout: m.Config.HTTPIdleTimeout}
		m.serve(ctx, &wg, errc, m.httpServer, m.listener)
		if m.opsListener != nil {
			m.opsServer = &http.Server{Handler: m.Server.OpsHandler(), ReadHeaderTimeout: m.Config.HTTPReadHeaderTimeout, ReadTimeout: m.Config.HTTPReadTimeout,
				WriteTimeout: m.Config.HTTPWriteTimeout, IdleTimeout: m.Config.HTTPIdleTimeout}
			m.serve(ctx, &wg, errc, m.opsServer, m.opsListener)
		}
	}
	m.Log.Info("honten running", "roles", m.Config.Roles.String())
	var first error
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for {
		select {
		case err := <-errc:
			if err != nil && errors.Is(err, context.Canceled) && ctx.Err() != nil {
				err = nil // a component stopping because we are shutting down
			}
			if err != nil && first == nil {
				first = err
				m.Log.Error("component failed; shutting down", "err", err)
				cancel()
			}
		case <-done:
			return first
		}
	}
}

// Start opens m, binds the HTTP address and runs m in the background, for
// processes that embed Honten (end-to-end tests, benchmarks). stop ends
// Run, waits for it, closes m and returns Run's error. On an error Start
// closes m itself.
func (m *Main) Start(ctx context.Context) (stop func() error, err error) {
	if err := m.Open(ctx); err != nil {
		m.Close()
		return nil, err
	}
	if err := m.Listen(); err != nil {
		m.Close()
		return nil, err
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- m.Run(rctx) }()
	return func() error {
		cancel()
		err := <-done
		m.Close()
		return err
	}, nil
}

// CaughtUp waits until Run has started and the read models have applied
// every event in the log when it started: from then on /readyz can say
// ready. It returns ctx's error when ctx ends first.
func (m *Main) CaughtUp(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-m.started:
	}
	if err := m.Runner.WaitFor(ctx, m.head); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	return nil
}

// Close releases the database pools.
func (m *Main) Close() {
	m.cancelBase()
	if m.opsListener != nil && m.opsServer == nil {
		m.opsListener.Close() // bound by Listen, never served
	}
	if m.Pool != nil {
		m.Pool.Close()
	}
	if m.Requests != nil {
		m.Requests.Close()
	}
	if m.Replica != nil {
		m.Replica.Close()
	}
}

// OnlyShops reports whether every shop in the database has one of codes
// (true when it holds no shop).
func (m *Main) OnlyShops(ctx context.Context, codes ...string) (bool, error) {
	var n int
	err := m.Pool.QueryRow(ctx, `SELECT count(*) FROM unique_claims WHERE scope = $1 AND kind = $2 AND NOT (value = ANY($3))`,
		eventstore.PlatformScope, commands.ClaimTenantCode, codes).Scan(&n)
	return n == 0, err
}
