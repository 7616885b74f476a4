package bench

import (
	"context"
	"log/slog"
	"net/netip"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/app"
)

// startServer runs a whole Honten (all roles) on the benchmark database and
// a free loopback port. Access logs are off (warn level), as a tuned
// production deployment would ship them asynchronously.
func startServer(ctx context.Context, env *Env, cfg app.Config) (*app.Main, func(), error) {
	cfg.DatabaseURL = env.URL
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.LogLevel = slog.LevelWarn
	// The load generators stand for many shoppers behind a proxy on the
	// loopback (X-Forwarded-For): per-client limits apply per shopper.
	cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	if cfg.DBMaxConns < 100 {
		cfg.DBMaxConns = 100
	}
	m := app.New(cfg)
	stop, err := m.Start(ctx)
	if err != nil {
		return nil, nil, err
	}
	return m, func() { _ = stop() }, nil
}

func mustHead(ctx context.Context, pool *pgxpool.Pool) eventstore.Position {
	p, err := eventstore.Head(ctx, pool)
	if err != nil {
		return eventstore.Position{}
	}
	return p
}
