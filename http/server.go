package http

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/commands/importer"
	"github.com/honten/honten/commands/reconcile"
	"github.com/honten/honten/commands/reservations"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/eventstore/bus"
	"github.com/honten/honten/integrations/files"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/search"
)

// Config tunes the HTTP layer. The zero value gives the defaults.
type Config struct {
	// MaxBodyBytes caps JSON request bodies; 0 means 1 MiB.
	MaxBodyBytes int64
	// MaxUploadBytes caps uploads (CSV imports); 0 means 64 MiB.
	MaxUploadBytes int64
	// ConsistencyWait bounds how long a GET with X-Min-Position waits; 0 means 2s.
	ConsistencyWait time.Duration
	// ReadyMaxLag is the projection lag above which /readyz fails; 0 means 5 minutes.
	ReadyMaxLag time.Duration
	// StorefrontCacheTTL keeps storefront catalog GET responses this long
	// (X-Min-Position bypasses it); 0 means 1s, negative disables it.
	StorefrontCacheTTL time.Duration
	// TrustedProxies are the proxies whose X-Forwarded-For is believed
	// (TRUSTED_PROXIES); from anyone else the peer address is the client.
	TrustedProxies []netip.Prefix
	// CartCreateRate and CartAddRate limit carts created and add-to-cart
	// requests per minute per client address and shop; 0 means no limit.
	CartCreateRate, CartAddRate int
	// MetricsToken, when set, lets /metrics answer on this handler to
	// "Authorization: Bearer <token>"; unset, /metrics is served only by
	// OpsHandler.
	MetricsToken string
	// Files holds digital goods' files (DOWNLOADS_DIR or an S3 bucket);
	// a product's digital.file names one in it. Nil: no file is served.
	Files files.Store
	// StorefrontShop is the shop code the browser storefront at / shows
	// when the request names none (?shop=, the Host); empty: the API's
	// default (the only shop).
	StorefrontShop string
	// WriteTimeout is the server's write timeout; a streamed export
	// extends its deadline by this much after each chunk. 0: no extension.
	WriteTimeout time.Duration
	// WebhookAllowPrivate lets webhook URLs name private and loopback
	// addresses (WEBHOOK_ALLOW_PRIVATE; development and tests only).
	WebhookAllowPrivate bool
	// WebhookSecretOverlap is how long a rotated-out webhook secret still
	// signs deliveries (WEBHOOK_SECRET_OVERLAP); 0 means 24h.
	WebhookSecretOverlap time.Duration
}

func (c *Config) defaults() {
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 1 << 20
	}
	if c.MaxUploadBytes <= 0 {
		c.MaxUploadBytes = 64 << 20
	}
	if c.ConsistencyWait <= 0 {
		c.ConsistencyWait = 2 * time.Second
	}
	if c.ReadyMaxLag <= 0 {
		c.ReadyMaxLag = 5 * time.Minute
	}
	if c.StorefrontCacheTTL == 0 {
		c.StorefrontCacheTTL = time.Second
	}
}

// Deps are the server's collaborators.
type Deps struct {
	Pool *pgxpool.Pool
	// Replica, when set, is a pool on a streaming read replica of Pool's
	// database: GET and HEAD requests read the read models there (replica.go).
	Replica  *pgxpool.Pool
	Store    *eventstore.Store
	Commands *commands.Service
	// Projections runs (or, in an API-only process, describes) the read models.
	Projections *projections.Runner
	// ProjectionsLocal reports that Projections runs in this process.
	ProjectionsLocal bool
	// Imports runs CSV import jobs.
	Imports importer.Jobs
	// Reconcile runs bank statement and COD remittance imports.
	Reconcile reconcile.Jobs
	// Reservations tells add-to-cart waits (?wait=) the reservation
	// decisions, whichever process makes them.
	Reservations *reservations.Worker
	// BaseContext bounds background work the server starts (import jobs).
	BaseContext context.Context
	Logger      *slog.Logger
	Now         func() time.Time
	Config      Config

	// Handlers are the workers role's event handlers, for retrying
	// poisoned messages (POST /admin/poison/{id}/retry).
	Handlers []bus.Handler

	// Search answers storefront searches (GET /store/search); nil turns them into 503s.
	Search search.Index
}

// Server is Honten's HTTP handler.
type Server struct {
	Deps
	// started is the feed head when this process started serving; /readyz
	// answers ready once the read models have applied it (caughtUp).
	started  atomic.Pointer[eventstore.Position]
	caughtUp atomic.Bool
	router   chi.Router
	// ui serves the browser UIs (/admin/ and the storefront at /).
	ui      *ui
	tenants *tenantResolver
	// clientIPs finds a request's client address (clientip.go).
	clientIPs clientIPs
	// cartCreateLimit and cartAddLimit are the storefront cart rate limits.
	cartCreateLimit, cartAddLimit *rateLimiter
	// perms maps "METHOD /api/v1/admin/..." to the permission it requires.
	perms map[string]perm
}

// adminRoute is one backoffice route and the permission it needs.
type adminRoute struct {
	method, pattern string
	perm            perm
	handler         http.HandlerFunc
}

// storeRoute is one storefront route.
type storeRoute struct {
	method, pattern string
	handler         http.HandlerFunc
	// cached: a public catalog read, served from the storefront micro-cache.
	cached bool
}

// NewServer builds the routes.
func NewServer(d Deps) *Server {
	d.Config.defaults()
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Reservations == nil && d.Commands != nil {
		// Waits for decisions then poll the reservation index.
		d.Reservations = d.Commands.NewReservationWorker(reservations.Options{Logger: d.Logger})
	}
	s := &Server{Deps: d, router: chi.NewRouter(), perms: map[string]perm{},
		tenants:         &tenantResolver{pool: d.Pool, ttl: 30 * time.Second, cache: map[string]cached{}},
		clientIPs:       clientIPs{trusted: d.Config.TrustedProxies},
		cartCreateLimit: newRateLimiter(d.Config.CartCreateRate, time.Now),
		cartAddLimit:    newRateLimiter(d.Config.CartAddRate, time.Now)}
	r := s.router
	r.Use(withRequestID, withReferrerPolicy, withLogging(d.Logger), withRecover)
	r.NotFound(notFound)
	r.MethodNotAllowed(methodNotAllowed)
	s.registerOpsRoutes(r)
	r.Route("/api/v1", func(r chi.Router) {
		r.Use(withBodyLimit(d.Config.MaxBodyBytes, d.Config.MaxUploadBytes))
		// X-Min-Position is honoured only once the shop (storefront) or the
		// caller (admin) is known: an anonymous or unknown-shop request is
		// answered at once, never held.
		r.Route("/store", func(r chi.Router) {
			r.Use(s.withShop, s.withCartLimits, s.withConsistency, s.withIdempotency)
			cache := newMicroCache(d.Config.StorefrontCacheTTL, 64<<20)
			for _, rt := range s.storefrontRoutes() {
				h := http.Handler(rt.handler)
				if rt.cached {
					h = cache.middleware(h)
				}
				r.Method(rt.method, rt.pattern, h)
			}
		})
		r.Route("/admin", func(r chi.Router) {
			r.Post("/session", s.signIn)
			r.Group(func(r chi.Router) {
				r.Use(s.withAuth, s.withConsistency)
				for _, rt := range s.adminRoutes() {
					s.perms[rt.method+" /api/v1/admin"+rt.pattern] = rt.perm
					// The permission is checked before an idempotent replay.
					r.With(requirePerm(rt.perm), s.withIdempotency).Method(rt.method, rt.pattern, rt.handler)
				}
			})
		})
	})
	s.ui = newUI(s)
	return s
}

// ServeHTTP implements http.Handler: the browser UIs' pages (isUIPath)
// go to their own router, everything else to the API's.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if isUIPath(r.URL.Path) {
		s.ui.router.ServeHTTP(w, r)
		return
	}
	s.router.ServeHTTP(w, r)
}

// Routes exposes the router for documentation checks.
func (s *Server) Routes() chi.Routes { return s.router }

// waitFor blocks until the read models (all when none are named) have
// applied pos, bounded by ctx.
func (s *Server) waitFor(ctx context.Context, pos eventstore.Position, models ...string) error {
	if db := s.readDB(ctx); db != s.Pool {
		// A replica read: the replica must have replayed the checkpoints
		// that cover pos (which implies the primary's read models have).
		if len(models) == 0 && s.Projections != nil {
			models = s.Projections.InternalModels()
		}
		return projections.WaitFor(ctx, db, nil, pos, models...)
	}
	if s.ProjectionsLocal && s.Projections != nil {
		return s.Projections.WaitFor(ctx, pos, models...)
	}
	if len(models) == 0 && s.Projections != nil {
		models = s.Projections.InternalModels()
	}
	return projections.WaitFor(ctx, s.Pool, nil, pos, models...)
}

// adminRoutes lists every backoffice route but sign-in.
func (s *Server) adminRoutes() []adminRoute {
	var out []adminRoute
	for _, area := range [][]adminRoute{
		s.tenancyRoutes(),
		s.catalogRoutes(),
		s.importRoutes(),
		s.auditRoutes(),
		s.projectionRoutes(),
		s.inventoryRoutes(),
		s.orderRoutes(),
		s.ledgerRoutes(),
		s.statementRoutes(),
		s.poisonRoutes(),
		s.customerRoutes(),
		s.promotionRoutes(),
		s.webhookRoutes(),
	} {
		out = append(out, area...)
	}
	return out
}

// storefrontRoutes lists every storefront route.
func (s *Server) storefrontRoutes() []storeRoute {
	var out []storeRoute
	for _, area := range [][]storeRoute{
		s.storefrontCatalogRoutes(),
		s.cartRoutes(),
		s.storefrontOrderRoutes(),
		s.searchRoutes(),
		s.storefrontCustomerRoutes(),
		s.promotionStoreRoutes(),
	} {
		out = append(out, area...)
	}
	return out
}

func chiParam(r *http.Request, name string) string { return chi.URLParam(r, name) }

// catchUp waits (bounded by the consistency wait) until the named read
// models have applied every event committed so far; reads that must see
// state created outside this request (an account made on the command line)
// use it. A timeout is not an error: the read then shows what there is.
func (s *Server) catchUp(ctx context.Context, models ...string) {
	head, err := eventstore.Head(ctx, s.Pool)
	if err != nil || head.IsZero() {
		return
	}
	wctx, cancel := context.WithTimeout(ctx, s.Config.ConsistencyWait)
	defer cancel()
	_ = s.waitFor(wctx, head, models...)
}

// SetStarted records the feed head at start-up: /readyz says ready only
// after the read models have applied it, so a client that waits for
// readiness never sees a read model behind what start-up appended (a
// migration, the demo load, a backlog left by the last run).
func (s *Server) SetStarted(head eventstore.Position) {
	s.started.Store(&head)
	s.caughtUp.Store(head.IsZero())
}
