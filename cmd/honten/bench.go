package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"time"

	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/bench"
)

func runBench(ctx context.Context, cfg app.Config, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: honten bench <eventstore|idle|catalog|checkout|flashsale|search|ledger|statements|export|webhooks|tenants> [flags]")
	}
	name, args := args[0], args[1:]
	fs := flag.NewFlagSet("bench "+name, flag.ContinueOnError)
	duration := fs.Duration("duration", 10*time.Second, "length of each timed phase")
	writers := fs.Int("writers", 16, "concurrent writers")
	rate := fs.Int("live-rate", 2000, "events/s during the live-lag phase")
	concurrency := fs.Int("concurrency", 32, "concurrent clients (catalog; checkout: only this level)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	products := fs.Int("products", 100_000, "generated products (search)")
	explain := fs.Bool("explain", false, "print query plans (search)")
	events := fs.Int("events", 1_000_000, "size of the large log (idle)")
	vendors := fs.Int("vendors", 2000, "vendors of the mall (ledger)")
	entries := fs.Int("entries", 1_000_000, "ledger entries at least (ledger)")
	bigLines := fs.Int("big", 100_000, "statement lines of the big vendor at least (ledger)")
	prefill := fs.Int("prefill", 1_000_000, "events of shop history in the log before the benchmark runs (eventstore, catalog, checkout, flashsale); 0 for a fresh database")
	lines := fs.Int("lines", 10_000, "statement lines (statements)")
	deliveries := fs.Int("deliveries", 20_000, "events delivered to each endpoint (webhooks)")
	tenants := fs.Int("tenants", 2000, "tenants of the crowded database (tenants)")
	staffN := fs.Int("staff", 500, "staff accounts of the measured tenant (tenants)")
	sample := fs.Int("sample", 200, "timed requests per measure at least; a measure runs past -duration until it has them (tenants)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	log := cfg.Logger()
	server := cfg.DatabaseURL
	if server == "" {
		var err error
		if server, err = app.DevDatabaseURL(ctx, log); err != nil {
			return err
		}
	}
	env, cleanup, err := bench.NewEnv(ctx, server, int32(*writers*2+20), log, os.Stdout)
	if err != nil {
		return err
	}
	defer cleanup()
	if *prefill > 0 && name != "idle" && name != "search" && name != "ledger" && name != "statements" && name != "export" && name != "webhooks" && name != "tenants" {
		pre, err := bench.Prefill(ctx, env, cfg, *prefill)
		if err != nil {
			return err
		}
		bench.Print(os.Stdout, fmt.Sprintf("shop history in the log: %d events", pre.Events), pre.Rows)
	}
	switch name {
	case "eventstore":
		rows, err := bench.Eventstore(ctx, env, bench.EventstoreOptions{Duration: *duration, Writers: *writers, LiveRate: *rate})
		if err != nil {
			return err
		}
		bench.Print(os.Stdout, fmt.Sprintf("honten bench eventstore (%s per phase)", *duration), rows)
		return nil
	case "checkout":
		o := bench.CheckoutOptions{Duration: *duration}
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "concurrency" {
				o.Concurrency = []int{*concurrency} // else 1, 8 and 32
			}
		})
		rows, err := bench.Checkout(ctx, env, cfg, o)
		if err != nil {
			return err
		}
		bench.Print(os.Stdout, fmt.Sprintf("honten bench checkout (%s per concurrency)", *duration), rows)
		return nil
	case "flashsale":
		rows, err := bench.Flashsale(ctx, env, cfg, bench.FlashOptions{})
		if err != nil {
			return err
		}
		bench.Print(os.Stdout, "honten bench flashsale", rows)
		return nil
	case "idle":
		o := bench.IdleOptions{Events: *events, LiveRate: *rate}
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "duration" {
				o.Duration = *duration // else 30s of idling
			}
		})
		rows, err := bench.Idle(ctx, env, cfg, o)
		if err != nil {
			return err
		}
		bench.Print(os.Stdout, "Idle cost and feed polls on a large log", rows)
		return nil
	case "catalog":
		rows, err := bench.Catalog(ctx, env, cfg, bench.CatalogOptions{Duration: *duration, Concurrency: *concurrency})
		if err != nil {
			return err
		}
		bench.Print(os.Stdout, fmt.Sprintf("honten bench catalog (%s per phase, concurrency %d)", *duration, *concurrency), rows)
		return nil
	case "ledger":
		o := bench.LedgerOptions{Vendors: *vendors, Entries: *entries, BigLines: *bigLines}
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "duration" {
				o.Duration = *duration // else 5s per phase
			}
		})
		rows, err := bench.Ledger(ctx, env, cfg, o)
		if err != nil {
			return err
		}
		bench.Print(os.Stdout, "honten bench ledger", rows)
		return nil
	case "statements":
		rows, err := bench.Statements(ctx, env, cfg, bench.StatementsOptions{Lines: *lines})
		if err != nil {
			return err
		}
		bench.Print(os.Stdout, fmt.Sprintf("honten bench statements (%d lines)", *lines), rows)
		return nil
	case "export":
		n := 1_000_000
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "events" {
				n = *events
			}
		})
		rows, err := bench.Archive(ctx, env, bench.ArchiveOptions{Events: n, Server: server})
		if err != nil {
			return err
		}
		bench.Print(os.Stdout, fmt.Sprintf("honten bench export (%d events round-tripped)", n), rows)
	case "webhooks":
		o := bench.WebhooksOptions{Events: *deliveries}
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "duration" {
				o.Duration = *duration // else 5s per bare loop
			}
		})
		rows, err := bench.Webhooks(ctx, env, o)
		if err != nil {
			return err
		}
		bench.Print(os.Stdout, fmt.Sprintf("honten bench webhooks (%d events per endpoint)", *deliveries), rows)
		return nil
	case "tenants":
		o := bench.TenantsOptions{Tenants: *tenants, Staff: *staffN, Sample: *sample, Duration: *duration}
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "concurrency" {
				o.Concurrency = *concurrency // else 8
			}
		})
		rep, err := bench.Tenants(ctx, env, cfg, o)
		if err != nil {
			return err
		}
		bench.PrintTenants(os.Stdout, rep)
		return nil
	case "search":
		rep, err := bench.Search(ctx, env, bench.SearchOptions{Products: *products, Duration: *duration, Explain: *explain})
		if err != nil {
			return err
		}
		bench.PrintSearch(os.Stdout, rep)
		return nil
	}
	return fmt.Errorf("unknown benchmark %q", name)
}
