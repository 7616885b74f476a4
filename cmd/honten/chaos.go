package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/chaos"
	"github.com/honten/honten/internal/database"
	"github.com/honten/honten/internal/devdb"
)

// runChaos is `honten chaos`: the crash-safety run of package chaos on a
// fresh database of the configured server.
func runChaos(ctx context.Context, cfg app.Config, args []string) error {
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	duration := fs.Duration("duration", 5*time.Minute, "length of the load")
	kills := fs.Int("kills", 20, "SIGKILLs of the server, at random moments")
	buyers := fs.Int("buyers", 6, "concurrent buyers")
	pgRestart := fs.String("pg-restart", "immediate", "restart PostgreSQL once: immediate or fast (pg_ctl restart -m, private cluster only), cut (terminate the database's connections), none")
	binary := fs.String("binary", "", "honten binary to run (default: build this module)")
	keep := fs.Bool("keep", false, "keep the database and the server log afterwards")
	seed := fs.Uint64("seed", 0, "seed of the load's choices (default: the clock)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := cfg.Logger()
	root, err := devdb.FindRoot()
	if err != nil {
		return err
	}
	server := cfg.DatabaseURL
	private := server == ""
	if private {
		if server, err = app.DevDatabaseURL(ctx, log); err != nil {
			return err
		}
	}
	name := fmt.Sprintf("honten_chaos_%d", time.Now().Unix())
	maint, err := database.WithDatabase(server, "postgres")
	if err != nil {
		return err
	}
	url, err := database.WithDatabase(server, name)
	if err != nil {
		return err
	}
	if err := adminExec(ctx, maint, `CREATE DATABASE `+name+` TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'`); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	o := chaos.Options{Duration: *duration, Kills: *kills, Buyers: *buyers, Root: root, Binary: *binary, DatabaseURL: url, Seed: *seed, Log: log}
	switch *pgRestart {
	case "immediate", "fast":
		if !private {
			return errors.New("-pg-restart=" + *pgRestart + " restarts the private cluster only; with DATABASE_URL use cut or none")
		}
		mode := *pgRestart
		o.RestartDB = func(ctx context.Context) error { return devdb.Restart(ctx, root, mode) }
		o.RestartDBName = "pg_ctl restart -m " + mode
	case "cut":
		o.RestartDB = func(ctx context.Context) error {
			return adminExec(ctx, url, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)
		}
		o.RestartDBName = "every connection of the database terminated"
	case "none":
	default:
		return fmt.Errorf("-pg-restart: want immediate, fast, cut or none, got %q", *pgRestart)
	}
	dir, err := os.MkdirTemp("", "honten-chaos-")
	if err != nil {
		return err
	}
	o.Dir = dir
	rep, err := chaos.Run(ctx, o)
	rep.Print(os.Stdout)
	if *keep || err != nil || !rep.Passed() {
		fmt.Printf("database %s kept; server log %s\n", name, rep.ServerLog)
	} else {
		os.RemoveAll(dir) //nolint:errcheck // a temporary directory
		if derr := adminExec(context.WithoutCancel(ctx), maint, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); derr != nil {
			log.Warn("chaos: drop database", "database", name, "err", derr)
		}
	}
	if err != nil {
		return err
	}
	if !rep.Passed() {
		return errors.New("chaos: a check failed")
	}
	return nil
}

func adminExec(ctx context.Context, url, sql string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, sql)
	return err
}
