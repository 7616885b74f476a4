package app

import (
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	honthttp "github.com/honten/honten/http"
	"github.com/honten/honten/integrations/files"
)

// Config is read from the environment; command-line flags override it.
type Config struct {
	// DatabaseURL is DATABASE_URL, the role the process logs in as; empty
	// means the private dev cluster under .data/pg, as honten_worker.
	DatabaseURL string
	// MigrateDatabaseURL is MIGRATE_DATABASE_URL, the owner of the tables,
	// which applies the migrations; empty means DatabaseURL (on the private
	// cluster: its superuser).
	MigrateDatabaseURL string
	// ReplicaURL is REPLICA_URL, a streaming read replica of DatabaseURL's
	// database (same role): GET requests read the read models there;
	// empty means every query goes to the primary.
	ReplicaURL string
	// DBAppName is DB_APPLICATION_NAME, the application_name of this
	// process's connections in pg_stat_activity (default honten): tells
	// the processes of a fleet apart.
	DBAppName string
	// APIRole is DB_API_ROLE, the role requests step down to (default
	// honten_app; "-" keeps them on the login role, without row-level
	// security, for benchmarks only).
	APIRole string
	// HTTPAddr is HTTP_ADDR (default ":8080").
	HTTPAddr string
	// LogLevel is LOG_LEVEL: debug, info, warn, error (default info).
	LogLevel slog.Level
	// LogFormat is LOG_FORMAT: json or text (default json).
	LogFormat string
	// Roles is ROLES: a comma list of api, projectors, workers (default all).
	Roles Roles
	// DBMaxConns is DB_MAX_CONNS (default 60): the requests' pool.
	DBMaxConns int32
	// DBWorkerConns is DB_WORKER_CONNS (default 30; 0 means the default):
	// the pool of the projectors, reactions and workers (each projector a
	// process leads holds one connection while it leads).
	DBWorkerConns int32
	// IdleInTxTimeout is IDLE_IN_TX_TIMEOUT (default 30s).
	IdleInTxTimeout time.Duration
	// ConsistencyWait is CONSISTENCY_WAIT: how long X-Min-Position waits (default 2s).
	ConsistencyWait time.Duration
	// ProjectionLinger is PROJECTION_LINGER: how long a busy, caught-up
	// projector lets commits gather before its next batch
	// (projections.Options.Linger; default 20ms). A read that waits for
	// the read models (X-Min-Position, read-your-writes) cuts it short.
	ProjectionLinger time.Duration
	// Migrate runs migrations at start-up (MIGRATE, default true).
	Migrate bool
	// HotThreshold is HOT_THRESHOLD: add-to-cart requests per second (per
	// process) that make a variant hot without staff flagging it (default
	// 50; 0 turns the detection off).
	HotThreshold int
	// HotConcurrency is HOT_CONCURRENCY: how many add-to-cart commands for
	// hot variants run at once per process; the rest wait in memory
	// (default 8; 0 means no limit).
	HotConcurrency int
	// SweepEvery is SWEEP_EVERY: how often the workers role cancels orders
	// unpaid at their due date (default 1m).
	SweepEvery time.Duration
	// IdempotencyRetention is IDEMPOTENCY_RETENTION: how long Idempotency-Keys
	// and their stored responses are kept before the workers role purges
	// them (default and minimum 24h).
	IdempotencyRetention time.Duration
	// ReactionRetryFor is REACTION_RETRY_FOR: how long a policy retries an
	// event that fails (exponential backoff, at most ReactionRetryMaxDelay
	// apart) before it lands in the poison queue (default 10m).
	ReactionRetryFor time.Duration
	// ReactionRetryMaxDelay is REACTION_RETRY_MAX_DELAY: the longest pause
	// between two retries of a failing event (default 30s).
	ReactionRetryMaxDelay time.Duration
	// SearchBackend is SEARCH_BACKEND: "postgres" (default) or "meilisearch".
	SearchBackend string
	// NatsURL is NATS_URL, a NATS server with JetStream: when set, the
	// workers role relays the committed feed there (eventstore/jetstream).
	NatsURL string
	// ReactionsFrom is REACTIONS_FROM: "postgres" (default) or "jetstream"
	// (needs NATS_URL): the feed the policies read.
	ReactionsFrom string
	// MeiliURL is MEILI_URL, the Meilisearch server (needed for "meilisearch").
	MeiliURL string
	// MeiliAPIKey is MEILI_API_KEY.
	MeiliAPIKey string
	// MeiliIndex is MEILI_INDEX, the prefix of the index names (default "honten_products").
	MeiliIndex string

	// TrustedProxies is TRUSTED_PROXIES: comma-separated CIDRs (or
	// addresses) of the proxies whose X-Forwarded-For is believed; from
	// anyone else the peer address is the client (default none).
	TrustedProxies []netip.Prefix
	// SignInConcurrency is SIGNIN_CONCURRENCY: how many password hashes
	// (19 MiB each) run at once per process (default 4).
	SignInConcurrency int
	// SignInQueueWait is SIGNIN_QUEUE_WAIT: how long a sign-in waits for a
	// hashing slot before a 429 (default 2s).
	SignInQueueWait time.Duration
	// HTTPReadHeaderTimeout, HTTPReadTimeout, HTTPWriteTimeout and
	// HTTPIdleTimeout are HTTP_READ_HEADER_TIMEOUT (default 10s),
	// HTTP_READ_TIMEOUT (60s: the whole request, body included),
	// HTTP_WRITE_TIMEOUT (60s: the response; streamed exports extend it
	// per chunk) and HTTP_IDLE_TIMEOUT (120s: a kept-alive connection).
	HTTPReadHeaderTimeout, HTTPReadTimeout, HTTPWriteTimeout, HTTPIdleTimeout time.Duration
	// OpsAddr is OPS_ADDR: a second listener serving /metrics, /healthz and
	// /readyz without authentication, for the private network (default off).
	OpsAddr string
	// MetricsToken is METRICS_TOKEN: when set, /metrics on the main
	// listener answers to "Authorization: Bearer <token>"; when unset it is
	// not served there (404).
	MetricsToken string
	// StorefrontShop is STOREFRONT_SHOP: the shop code the browser
	// storefront at / shows when a request names none (empty: the only
	// shop, or the one mapped to the host).
	StorefrontShop string
	// CartCreateRate and CartAddRate are CART_CREATE_RATE (default 20) and
	// CART_ADD_RATE (default 120): carts created and add-to-cart requests
	// per minute per client address and shop, per API process (0: no limit).
	CartCreateRate, CartAddRate int
	// ImportMaxBytes is IMPORT_MAX_BYTES: the largest CSV import (default 64 MiB).
	ImportMaxBytes int64
	// ImportMaxActive is IMPORT_MAX_ACTIVE: import jobs a shop may have
	// queued or running at once (default 2).
	ImportMaxActive int
	// DownloadsDir is DOWNLOADS_DIR: where digital goods' files live
	// (default .data/downloads).
	DownloadsDir string
	// DownloadsS3, when set (DOWNLOADS_S3_BUCKET), keeps those files in an
	// S3-compatible bucket instead: DOWNLOADS_S3_ENDPOINT (default
	// https://s3.<region>.amazonaws.com), DOWNLOADS_S3_REGION (us-east-1),
	// DOWNLOADS_S3_PREFIX, DOWNLOADS_S3_VIRTUAL_HOSTED=true, and the
	// credentials of AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
	// AWS_SESSION_TOKEN.
	DownloadsS3 *files.S3Config
	// PurgeEvery is PURGE_EVERY: how often the workers role deletes expired
	// sessions and stale sign-in throttle rows (default 10m).
	PurgeEvery time.Duration
	// Integrations are the webhook and e-mail settings (config_integrations.go).
	Integrations
}

// Roles selects what a process runs.
type Roles struct {
	API, Projectors, Workers bool
}

// ParseRoles parses "api,projectors,workers" (any subset, "all" for every role).
func ParseRoles(s string) (Roles, error) {
	var r Roles
	for _, part := range strings.Split(s, ",") {
		switch strings.TrimSpace(part) {
		case "api":
			r.API = true
		case "projectors":
			r.Projectors = true
		case "workers":
			r.Workers = true
		case "all", "":
			r = Roles{true, true, true}
		default:
			return Roles{}, fmt.Errorf("unknown role %q (want api, projectors, workers)", part)
		}
	}
	return r, nil
}

func (r Roles) String() string {
	var out []string
	if r.API {
		out = append(out, "api")
	}
	if r.Projectors {
		out = append(out, "projectors")
	}
	if r.Workers {
		out = append(out, "workers")
	}
	return strings.Join(out, ",")
}

// defaultWorkerConns is DB_WORKER_CONNS unset: room for every projector's
// leader connection, the reservation lanes, the reactions and the sweeps.
const defaultWorkerConns = 30

// ConfigFromEnv reads the configuration from environment variables.
func ConfigFromEnv() (Config, error) {
	c := Config{
		DatabaseURL:        os.Getenv("DATABASE_URL"),
		MigrateDatabaseURL: os.Getenv("MIGRATE_DATABASE_URL"),
		ReplicaURL:         os.Getenv("REPLICA_URL"),
		DBAppName:          os.Getenv("DB_APPLICATION_NAME"),
		APIRole:            envOr("DB_API_ROLE", "honten_app"),
		HTTPAddr:           envOr("HTTP_ADDR", ":8080"),
		LogFormat:          envOr("LOG_FORMAT", "json"),
		DownloadsDir:       envOr("DOWNLOADS_DIR", filepath.Join(".data", "downloads")),
		DBMaxConns:         60,
		DBWorkerConns:      defaultWorkerConns,
		IdleInTxTimeout:    30 * time.Second,
		ConsistencyWait:    2 * time.Second,
		ProjectionLinger:   20 * time.Millisecond,
		Migrate:            true,
		SweepEvery:         time.Minute,

		SignInConcurrency:     4,
		SignInQueueWait:       2 * time.Second,
		HTTPReadHeaderTimeout: 10 * time.Second,
		HTTPReadTimeout:       60 * time.Second,
		HTTPWriteTimeout:      60 * time.Second,
		HTTPIdleTimeout:       120 * time.Second,
		OpsAddr:               os.Getenv("OPS_ADDR"),
		MetricsToken:          os.Getenv("METRICS_TOKEN"),
		StorefrontShop:        os.Getenv("STOREFRONT_SHOP"),
		CartCreateRate:        20,
		CartAddRate:           120,
		ImportMaxBytes:        64 << 20,
		ImportMaxActive:       2,
		PurgeEvery:            10 * time.Minute,
		IdempotencyRetention:  24 * time.Hour,
		ReactionRetryFor:      10 * time.Minute,
		ReactionRetryMaxDelay: 30 * time.Second,
	}
	var err error
	if c.Roles, err = ParseRoles(envOr("ROLES", "all")); err != nil {
		return c, err
	}
	if err := c.LogLevel.UnmarshalText([]byte(envOr("LOG_LEVEL", "info"))); err != nil {
		return c, fmt.Errorf("LOG_LEVEL: %w", err)
	}
	if v := os.Getenv("DB_MAX_CONNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2 {
			return c, fmt.Errorf("DB_MAX_CONNS: want an integer ≥ 2, got %q", v)
		}
		c.DBMaxConns = int32(n)
	}
	if v := os.Getenv("DB_WORKER_CONNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 4 {
			return c, fmt.Errorf("DB_WORKER_CONNS: want an integer ≥ 4, got %q", v)
		}
		c.DBWorkerConns = int32(n)
	}
	for name, dst := range map[string]*time.Duration{"IDLE_IN_TX_TIMEOUT": &c.IdleInTxTimeout, "CONSISTENCY_WAIT": &c.ConsistencyWait, "PROJECTION_LINGER": &c.ProjectionLinger, "SWEEP_EVERY": &c.SweepEvery,
		"SIGNIN_QUEUE_WAIT": &c.SignInQueueWait, "HTTP_READ_HEADER_TIMEOUT": &c.HTTPReadHeaderTimeout, "HTTP_READ_TIMEOUT": &c.HTTPReadTimeout,
		"HTTP_WRITE_TIMEOUT": &c.HTTPWriteTimeout, "HTTP_IDLE_TIMEOUT": &c.HTTPIdleTimeout, "PURGE_EVERY": &c.PurgeEvery,
		"IDEMPOTENCY_RETENTION": &c.IdempotencyRetention, "REACTION_RETRY_FOR": &c.ReactionRetryFor, "REACTION_RETRY_MAX_DELAY": &c.ReactionRetryMaxDelay} {
		if v := os.Getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return c, fmt.Errorf("%s: want a duration like 30s, got %q", name, v)
			}
			*dst = d
		}
	}
	if c.IdempotencyRetention < 24*time.Hour {
		return c, fmt.Errorf("IDEMPOTENCY_RETENTION: keys are kept at least 24h, got %s", c.IdempotencyRetention)
	}
	if bucket := os.Getenv("DOWNLOADS_S3_BUCKET"); bucket != "" {
		region := envOr("DOWNLOADS_S3_REGION", "us-east-1")
		c.DownloadsS3 = &files.S3Config{Endpoint: envOr("DOWNLOADS_S3_ENDPOINT", "https://s3."+region+".amazonaws.com"),
			Bucket: bucket, Region: region, Prefix: os.Getenv("DOWNLOADS_S3_PREFIX"),
			VirtualHosted:   os.Getenv("DOWNLOADS_S3_VIRTUAL_HOSTED") == "true",
			AccessKeyID:     os.Getenv("AWS_ACCESS_KEY_ID"),
			SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"), SessionToken: os.Getenv("AWS_SESSION_TOKEN")}
		if _, err := files.NewS3(*c.DownloadsS3); err != nil {
			return c, fmt.Errorf("DOWNLOADS_S3_BUCKET: %w", err)
		}
	}
	c.SearchBackend = envOr("SEARCH_BACKEND", "postgres")
	c.MeiliURL, c.MeiliAPIKey = os.Getenv("MEILI_URL"), os.Getenv("MEILI_API_KEY")
	c.NatsURL, c.ReactionsFrom = os.Getenv("NATS_URL"), envOr("REACTIONS_FROM", "postgres")
	switch {
	case c.ReactionsFrom != "postgres" && c.ReactionsFrom != "jetstream":
		return c, fmt.Errorf("REACTIONS_FROM: %q is neither postgres nor jetstream", c.ReactionsFrom)
	case c.ReactionsFrom == "jetstream" && c.NatsURL == "":
		return c, fmt.Errorf("REACTIONS_FROM=jetstream needs NATS_URL")
	}
	c.MeiliIndex = envOr("MEILI_INDEX", "honten_products")
	switch c.SearchBackend {
	case "postgres":
	case "meilisearch":
		if c.MeiliURL == "" {
			return c, fmt.Errorf("SEARCH_BACKEND=meilisearch needs MEILI_URL")
		}
	default:
		return c, fmt.Errorf("SEARCH_BACKEND: want postgres or meilisearch, got %q", c.SearchBackend)
	}
	c.HotThreshold = 50
	if v := os.Getenv("HOT_THRESHOLD"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return c, fmt.Errorf("HOT_THRESHOLD: want a whole number ≥ 0, got %q", v)
		}
		c.HotThreshold = n
	}
	c.HotConcurrency = 8
	if v := os.Getenv("HOT_CONCURRENCY"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return c, fmt.Errorf("HOT_CONCURRENCY: want a whole number ≥ 0, got %q", v)
		}
		c.HotConcurrency = n
	}
	for name, dst := range map[string]*int{"SIGNIN_CONCURRENCY": &c.SignInConcurrency, "IMPORT_MAX_ACTIVE": &c.ImportMaxActive} {
		if v := os.Getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return c, fmt.Errorf("%s: want a whole number ≥ 1, got %q", name, v)
			}
			*dst = n
		}
	}
	for name, dst := range map[string]*int{"CART_CREATE_RATE": &c.CartCreateRate, "CART_ADD_RATE": &c.CartAddRate} {
		if v := os.Getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return c, fmt.Errorf("%s: want a whole number ≥ 0 (0: no limit), got %q", name, v)
			}
			*dst = n
		}
	}
	if v := os.Getenv("IMPORT_MAX_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return c, fmt.Errorf("IMPORT_MAX_BYTES: want a byte count ≥ 1, got %q", v)
		}
		c.ImportMaxBytes = n
	}
	if c.TrustedProxies, err = honthttp.ParseTrustedProxies(os.Getenv("TRUSTED_PROXIES")); err != nil {
		return c, fmt.Errorf("TRUSTED_PROXIES: %w", err)
	}
	if v := os.Getenv("MIGRATE"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Errorf("MIGRATE: %w", err)
		}
		c.Migrate = b
	}
	if err := c.Integrations.fromEnv(); err != nil {
		return c, err
	}
	return c, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Logger builds the process logger.
func (c Config) Logger() *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}
