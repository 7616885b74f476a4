package app

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is read from the environment; command-line flags override it.
type Config struct {
	// DatabaseURL is DATABASE_URL; empty means the private dev cluster under .data/pg.
	DatabaseURL string
	// HTTPAddr is HTTP_ADDR (default ":8080").
	HTTPAddr string
	// LogLevel is LOG_LEVEL: debug, info, warn, error (default info).
	LogLevel slog.Level
	// LogFormat is LOG_FORMAT: json or text (default json).
	LogFormat string
	// Roles is ROLES: a comma list of api, projectors, workers (default all).
	Roles Roles
	// DBMaxConns is DB_MAX_CONNS (default 60).
	DBMaxConns int32
	// IdleInTxTimeout is IDLE_IN_TX_TIMEOUT (default 30s).
	IdleInTxTimeout time.Duration
	// ConsistencyWait is CONSISTENCY_WAIT: how long X-Min-Position waits (default 2s).
	ConsistencyWait time.Duration
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
	// MeiliURL is MEILI_URL, the Meilisearch server (needed for "meilisearch").
	MeiliURL string
	// MeiliAPIKey is MEILI_API_KEY.
	MeiliAPIKey string
	// MeiliIndex is MEILI_INDEX, the prefix of the index names (default "honten_products").
	MeiliIndex string
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

// ConfigFromEnv reads the configuration from environment variables.
func ConfigFromEnv() (Config, error) {
	c := Config{
		DatabaseURL:     os.Getenv("DATABASE_URL"),
		HTTPAddr:        envOr("HTTP_ADDR", ":8080"),
		LogFormat:       envOr("LOG_FORMAT", "json"),
		DBMaxConns:      60,
		IdleInTxTimeout: 30 * time.Second,
		ConsistencyWait: 2 * time.Second,
		Migrate:         true,
		SweepEvery:      time.Minute,

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
	for name, dst := range map[string]*time.Duration{"IDLE_IN_TX_TIMEOUT": &c.IdleInTxTimeout, "CONSISTENCY_WAIT": &c.ConsistencyWait, "SWEEP_EVERY": &c.SweepEvery,
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
	c.SearchBackend = envOr("SEARCH_BACKEND", "postgres")
	c.MeiliURL, c.MeiliAPIKey = os.Getenv("MEILI_URL"), os.Getenv("MEILI_API_KEY")
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
	if v := os.Getenv("MIGRATE"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Errorf("MIGRATE: %w", err)
		}
		c.Migrate = b
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
