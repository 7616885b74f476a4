// Command honten is Honten's one binary: the server and its operational
// subcommands.
//
//	honten serve [--roles=api,projectors,workers] [--addr=:8080] [--demo]
//	honten migrate
//	honten rebuild <model|all>
//	honten bench <eventstore|idle|catalog|checkout|flashsale|search>
//	honten chaos [-duration=5m] [-kills=20]
//	honten fleet [--apis=2] [--workers=2] [--addr=127.0.0.1:8080] [--replica]
//	honten fleet bench [--duration=20s] [--buyers=8]
//	honten db <start|stop|url|replica-url>
//
// Configuration comes from the environment (see README); flags override it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/demo"
	"github.com/honten/honten/internal/devdb"
	"github.com/honten/honten/internal/progress"
)

const usage = `honten — event-sourced commerce backend

Usage:
  honten serve [--roles=api,projectors,workers] [--addr=:8080] [--no-migrate] [--demo]
  honten migrate
  honten demo                     load the demo store and the demo mall (prints the staff's passwords once)
  honten tenant create --code=C --name=N [--type=single_brand|mall]
  honten staff create --tenant=C --email=E --name=N [--role=owner] [--platform-admin]
  honten import products FILE --tenant=C   CSV import with a progress bar
  honten import statement FILE --tenant=C  bank statement (Zengin or --format=csv --preset=smbc|mufg): import and match
  honten export events --dir=D [--from=TOKEN] [--per-file=N]
                                  the event log as JSON lines, rotated, each file with its SHA-256; resumable
  honten import events DIR        an export into an empty database (resumable), then the read models
  honten rebuild <model|all>
  honten bench <eventstore|idle|catalog|checkout|flashsale|search|statements|export> [flags]
  honten chaos [-duration=5m] [-kills=20] [-pg-restart=immediate|fast|cut|none]
                                  SIGKILL the server under load, then verify the invariants
  honten fleet [--apis=2] [--workers=2] [--addr=127.0.0.1:8080] [--replica]
                                  API processes behind HAProxy + standby worker processes (make fleet)
  honten fleet bench [--duration=20s] [--buyers=8]
                                  checkout throughput of one process beside the fleet, with per-process CPU
  honten db <start|stop|url|replica-url>

Environment: DATABASE_URL (unset: a private cluster under .data/pg), HTTP_ADDR,
REPLICA_URL, LOG_LEVEL, LOG_FORMAT, ROLES, DB_MAX_CONNS, IDLE_IN_TX_TIMEOUT, CONSISTENCY_WAIT, MIGRATE.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "honten:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return errors.New("no command")
	}
	cfg, err := app.ConfigFromEnv()
	if err != nil {
		return err
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, cfg, args)
	case "migrate":
		return migrate(ctx, cfg, args)
	case "rebuild":
		return rebuild(ctx, cfg, args)
	case "bench":
		return runBench(ctx, cfg, args)
	case "db":
		return db(ctx, cfg, args)
	case "demo":
		return runDemo(ctx, cfg, args)
	case "tenant":
		return runTenant(ctx, cfg, args)
	case "staff":
		return runStaff(ctx, cfg, args)
	case "import":
		if len(args) > 0 && args[0] == "events" {
			return runImportEvents(ctx, cfg, args[1:])
		}
		return runImport(ctx, cfg, args)
	case "export":
		return runExport(ctx, cfg, args)
	case "chaos":
		return runChaos(ctx, cfg, args)
	case "fleet":
		return runFleet(ctx, cfg, args)
	case "help", "-h", "--help":
		fmt.Print(usage)
		return nil
	}
	fmt.Fprint(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

func serve(ctx context.Context, cfg app.Config, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	roles := fs.String("roles", cfg.Roles.String(), "comma list of roles: api, projectors, workers")
	addr := fs.String("addr", cfg.HTTPAddr, "HTTP listen address")
	noMigrate := fs.Bool("no-migrate", !cfg.Migrate, "do not apply migrations at start-up")
	withDemo := fs.Bool("demo", false, "load the demo store and the demo mall when the database has no other shop")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	if cfg.Roles, err = app.ParseRoles(*roles); err != nil {
		return err
	}
	cfg.HTTPAddr, cfg.Migrate = *addr, !*noMigrate
	if *withDemo && cfg.StorefrontShop == "" {
		cfg.StorefrontShop = demo.ShopCode // the browser storefront at / shows the demo shop
	}
	m := app.New(cfg)
	defer m.Close()
	if err := m.Open(ctx); err != nil {
		return err
	}
	if *withDemo {
		// Only where the demo shops are all there is: a database with a
		// shop of its own is never given demo data.
		only, err := m.OnlyShops(ctx, demo.ShopCode, demo.MallCode)
		if err != nil {
			return err
		}
		if only {
			if err := loadDemo(ctx, m, true); err != nil {
				return err
			}
		}
	}
	if cfg.Roles.API {
		if err := m.Listen(); err != nil {
			return err
		}
	}
	errc := make(chan error, 1)
	go func() { errc <- m.Run(ctx) }()
	if cfg.Roles.API {
		host := m.Addr()
		if strings.HasPrefix(host, "[::]:") {
			host = "localhost:" + strings.TrimPrefix(host, "[::]:")
		}
		fmt.Fprintf(os.Stderr, "Bringing the read models up to date with the log...\n")
		select {
		case err := <-errc:
			return err
		case <-caughtUp(ctx, m):
		}
		if ctx.Err() != nil {
			return <-errc
		}
		fmt.Fprintf(os.Stderr, "\nHonten is serving on http://%s\n  storefront: http://%s/\n  backoffice: http://%s/admin/\n  health:     http://%s/readyz\n  API doc:    http://%s/openapi.json\n\n", host, host, host, host, host)
	}
	return <-errc
}

// caughtUp is closed when m's read models have applied the log as it stood
// at start-up (or ctx ends).
func caughtUp(ctx context.Context, m *app.Main) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = m.CaughtUp(ctx)
	}()
	return done
}

func migrate(ctx context.Context, cfg app.Config, args []string) error {
	cfg.Migrate = true
	m := app.New(cfg)
	defer m.Close()
	return m.Open(ctx)
}

func rebuild(ctx context.Context, cfg app.Config, args []string) error {
	if len(args) != 1 {
		return errors.New("usage: honten rebuild <model|all>")
	}
	m, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer m.Close()
	models := []string{args[0]}
	if args[0] == "all" {
		models = m.Runner.Models()
	}
	for _, model := range models {
		bar := progress.New("rebuild "+model, "events", m.Log)
		if err := m.Runner.Rebuild(ctx, model, bar); err != nil {
			return fmt.Errorf("rebuild %s: %w", model, err)
		}
	}
	return nil
}

func db(ctx context.Context, cfg app.Config, args []string) error {
	if len(args) != 1 {
		return errors.New("usage: honten db <start|stop|url|replica-url>")
	}
	root, err := devdb.FindRoot()
	if err != nil {
		return err
	}
	switch args[0] {
	case "start", "url":
		url, err := app.DevDatabaseURL(ctx, cfg.Logger())
		if err != nil {
			return err
		}
		if args[0] == "url" {
			fmt.Println(url)
		}
		return nil
	case "replica-url":
		// A streaming replica of the private cluster, made and started on
		// first use: REPLICA_URL="$(honten db replica-url)".
		if _, err := app.DevDatabaseURL(ctx, cfg.Logger()); err != nil {
			return err
		}
		primary, err := devdb.Ensure(ctx, root, cfg.Logger())
		if err != nil {
			return err
		}
		replica, err := devdb.EnsureStandby(ctx, root, primary, devdb.ReplicaName, cfg.Logger())
		if err != nil {
			return err
		}
		if err := devdb.WaitReplayed(ctx, primary.URL("postgres"), replica.URL("postgres")); err != nil {
			return err
		}
		fmt.Println(replica.URL("honten"))
		return nil
	case "stop":
		if err := devdb.StopNamed(ctx, root, devdb.ReplicaName); err != nil {
			return err
		}
		return devdb.Stop(ctx, root)
	}
	return fmt.Errorf("unknown db command %q", args[0])
}
