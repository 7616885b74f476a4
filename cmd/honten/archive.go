package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/eventstore/archive"
	"github.com/honten/honten/eventstore/bus"
	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/progress"
)

// runExport is honten export events: the log to an export directory.
func runExport(ctx context.Context, cfg app.Config, args []string) error {
	if len(args) == 0 || args[0] != "events" {
		return errors.New("usage: honten export events --dir=D [--from=TOKEN] [--per-file=N]")
	}
	fs := flag.NewFlagSet("export events", flag.ContinueOnError)
	dir := fs.String("dir", "", "export directory (a manifest there: continue after its last file)")
	from := fs.String("from", "", "position token: export the events after it")
	perFile := fs.Int("per-file", 100_000, "events per file")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("export events: --dir is required")
	}
	o := archive.ExportOptions{Dir: *dir, PerFile: *perFile}
	if *from != "" {
		p, err := eventstore.ParseToken(*from)
		if err != nil {
			return fmt.Errorf("export events: --from: %w", err)
		}
		o.From = &p
	}
	m, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer m.Close()
	o.Progress = progress.New("export events", "events", m.Log)
	res, err := archive.Export(ctx, m.Pool, o)
	if err != nil {
		return err
	}
	fmt.Printf("export events: %d events in %d new files to %s; last position %s (continue with the same --dir)\n",
		res.Events, len(res.Files), *dir, res.Last.Token())
	return nil
}

// runImportEvents is honten import events DIR: an export into an empty
// database, then every read model built from it.
func runImportEvents(ctx context.Context, cfg app.Config, args []string) error {
	if len(args) != 1 {
		return errors.New("usage: honten import events DIR")
	}
	m, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer m.Close()
	bar := progress.New("import events", "events", m.Log)
	res, err := archive.Import(ctx, m.Pool, archive.ImportOptions{Dir: args[0], Progress: bar})
	if err != nil {
		return err
	}
	head, err := eventstore.Head(ctx, m.Pool)
	if err != nil {
		return err
	}
	// The log holds the source's reactions already.
	if err := bus.MarkHandled(ctx, m.Pool, m.Handlers(), head); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "import events: %d events written (%d were there) in %d transactions; %d command-state rows\n",
		res.Events, res.Skipped, res.Transactions, res.State)
	for _, model := range m.Runner.Models() {
		if err := m.Runner.CatchUp(ctx, model); err != nil {
			return fmt.Errorf("import events: read model %s: %w", model, err)
		}
	}
	fmt.Fprintln(os.Stderr, "import events: read models up to date")
	return nil
}
