package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/chaos"
	"github.com/honten/honten/internal/database"
	"github.com/honten/honten/internal/devdb"
	"github.com/honten/honten/internal/fleet"
)

// runFleet is `honten fleet`: API processes behind HAProxy plus standby
// worker processes on one database, until interrupted; `honten fleet
// bench` measures it beside one process.
func runFleet(ctx context.Context, cfg app.Config, args []string) error {
	benchMode := len(args) > 0 && args[0] == "bench"
	if benchMode {
		args = args[1:]
	}
	fs := flag.NewFlagSet("fleet", flag.ContinueOnError)
	apis := fs.Int("apis", 2, "API processes (serve --roles=api)")
	workers := fs.Int("workers", 2, "processes running projectors and workers (one active, the others standing by)")
	addr := fs.String("addr", "127.0.0.1:8080", "the balancer's address")
	replica := fs.Bool("replica", false, "start the private cluster's streaming replica and give it to the API processes (REPLICA_URL)")
	duration := fs.Duration("duration", 20*time.Second, "measured phase of each setup (bench)")
	buyers := fs.Int("buyers", 8, "concurrent buyers (bench)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := cfg.Logger()
	root, err := devdb.FindRoot()
	if err != nil {
		return err
	}
	dir := filepath.Join(root, ".data", "fleet")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	bin, err := os.Executable()
	if err != nil {
		return err
	}
	// Migrate once, as the owner, before any process starts.
	url, owner := cfg.DatabaseURL, cfg.MigrateDatabaseURL
	dev := url == ""
	if dev {
		if owner, err = app.DevDatabaseURL(ctx, log); err != nil {
			return err
		}
		if url, err = database.WithUser(owner, app.WorkerRole); err != nil {
			return err
		}
	}
	if owner == "" {
		owner = url
	}
	if err := app.Migrate(ctx, owner, log); err != nil {
		return err
	}
	if dev {
		if err := devdb.EnableLogins(ctx, owner); err != nil {
			return err
		}
	}
	replicaURL := cfg.ReplicaURL
	if *replica {
		if !dev {
			return errors.New("fleet: --replica makes a replica of the private cluster; with DATABASE_URL set, set REPLICA_URL instead")
		}
		primary, err := devdb.Ensure(ctx, root, log)
		if err != nil {
			return err
		}
		rc, err := devdb.EnsureStandby(ctx, root, primary, devdb.ReplicaName, log)
		if err != nil {
			return err
		}
		if err := devdb.WaitReplayed(ctx, primary.URL("postgres"), rc.URL("postgres")); err != nil {
			return err
		}
		if replicaURL, err = database.WithUser(rc.URL("honten"), app.WorkerRole); err != nil {
			return err
		}
	}
	if benchMode {
		m := app.New(cfg)
		m.Config.DatabaseURL, m.Config.Migrate = url, false
		if err := m.Open(ctx); err != nil {
			return err
		}
		defer m.Close()
		rs, err := fleet.Bench(ctx, fleet.BenchOptions{Binary: bin, DatabaseURL: url, StatsURL: owner, Dir: dir, Commands: m.Commands,
			Duration: *duration, Buyers: *buyers, Log: log,
			Settle: func(ctx context.Context, shop chaos.Shop) error {
				return chaos.Settle(ctx, m.Pool, m.Runner, m.Handlers(), shop)
			}})
		if err != nil {
			return err
		}
		fmt.Printf("honten fleet bench (%s per setup, %d buyers)\n", *duration, *buyers)
		fleet.PrintBench(os.Stdout, rs)
		return nil
	}
	f, err := fleet.Start(ctx, fleet.Options{Binary: bin, DatabaseURL: url, ReplicaURL: replicaURL, Listen: *addr,
		APIs: *apis, Workers: *workers, Dir: dir, Log: log})
	if err != nil {
		return err
	}
	fmt.Printf("honten fleet: %d API processes behind HAProxy at http://%s, %d worker processes; logs in %s. Ctrl-C stops it.\n",
		*apis, *addr, *workers, dir)
	for _, p := range append(f.APIs, f.Workers...) {
		fmt.Printf("  %-8s pid %d %s\n", p.Name, p.Pid(), p.Addr)
	}
	<-ctx.Done()
	f.Stop()
	return nil
}
