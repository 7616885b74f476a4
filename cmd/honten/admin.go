package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sync"

	"github.com/google/uuid"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/commands/reconcile"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/database"
	"github.com/honten/honten/internal/demo"
	"github.com/honten/honten/internal/progress"
)

// open opens a Main for a one-shot command.
func open(ctx context.Context, cfg app.Config) (*app.Main, error) {
	m := app.New(cfg)
	if err := m.Open(ctx); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// tenantByCode returns the tenant with a shop code.
// openImport reads the file to import and opens Honten for the shop with
// code; the caller closes the Main.
func openImport(ctx context.Context, cfg app.Config, path, code string) ([]byte, *app.Main, tenant.ID, error) {
	file, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, tenant.ID{}, err
	}
	m, err := open(ctx, cfg)
	if err != nil {
		return nil, nil, tenant.ID{}, err
	}
	t, err := tenantByCode(ctx, m, code)
	if err != nil {
		m.Close()
		return nil, nil, tenant.ID{}, err
	}
	return file, m, t, nil
}

func tenantByCode(ctx context.Context, m *app.Main, code string) (tenant.ID, error) {
	owner, ok, err := eventstore.Owner(ctx, m.Pool, eventstore.PlatformScope, commands.ClaimTenantCode, code)
	if err != nil {
		return tenant.ID{}, err
	}
	if !ok {
		return tenant.ID{}, fmt.Errorf("no tenant with code %q", code)
	}
	return tenant.ID{UUID: owner}, nil
}

// runDemo is `honten demo`: load the demo store and the demo mall and
// print their staff's credentials once.
func runDemo(ctx context.Context, cfg app.Config, args []string) error {
	m, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer m.Close()
	return loadDemo(ctx, m, false)
}

// loadDemo loads the demo store, then the demo mall, each unless it is
// there (quiet: say nothing about those that are).
func loadDemo(ctx context.Context, m *app.Main, quiet bool) error {
	bar := progress.New("demo catalog", "products", m.Log)
	d, err := demo.Load(ctx, m.Commands, m.Log, bar)
	loaded := err == nil
	switch {
	case errors.Is(err, demo.ErrAlreadyLoaded):
		if !quiet {
			fmt.Fprintln(os.Stderr, "The demo shop is already loaded (shop code "+demo.ShopCode+").")
		}
	case err != nil:
		return err
	default:
		fmt.Fprintf(os.Stderr, "\nDemo shop %q loaded with %d products.\n  Owner sign-in (shown once): %s / %s\n  Storefront: send X-Tenant: %s\n",
			d.Code, d.Products, d.OwnerEmail, d.OwnerPassword, d.Code)
	}
	mall, err := demo.LoadMall(ctx, m.Commands, m.Runner, m.Log)
	switch {
	case errors.Is(err, demo.ErrAlreadyLoaded):
		if !quiet {
			fmt.Fprintln(os.Stderr, "The demo mall is already loaded (shop code "+demo.MallCode+").")
		}
	case err != nil:
		return err
	default:
		loaded = true
		fmt.Fprintf(os.Stderr, "\nDemo mall %q loaded: %d vendors, %d products, %d orders, a payout run.\n  Sign-ins (shown once):\n",
			mall.Code, mall.Vendors, mall.Products, mall.Orders)
		for _, s := range mall.Staff {
			who := s.Role
			if s.Vendor != "" {
				who += ", " + s.Vendor
			}
			fmt.Fprintf(os.Stderr, "    %-34s %s  (%s)\n", s.Email, s.Password, who)
		}
		fmt.Fprintf(os.Stderr, "  Storefront: send X-Tenant: %s\n\n", mall.Code)
	}
	if !loaded {
		return nil
	}
	// A bulk load: the store serves from here on with the statistics
	// autovacuum would take within a minute.
	return database.Analyze(ctx, m.Pool)
}

// runTenant is `honten tenant create --code --name --type`.
func runTenant(ctx context.Context, cfg app.Config, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: honten tenant create --code=CODE --name=NAME [--type=single_brand|mall] [--currency=JPY]")
	}
	fs := flag.NewFlagSet("tenant create", flag.ContinueOnError)
	code := fs.String("code", "", "shop code (a slug)")
	name := fs.String("name", "", "display name")
	typ := fs.String("type", "single_brand", "single_brand or mall")
	cur := fs.String("currency", "JPY", "default currency")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	m, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer m.Close()
	c, _, err := m.Commands.CreateTenant(ctx, commands.CreateTenant{By: commands.By{Actor: "cli"}, Code: *code, Name: *name, Type: *typ, DefaultCurrency: *cur})
	if err != nil {
		return err
	}
	fmt.Printf("tenant %s created: id %s\n", *code, c.Tenant)
	return nil
}

// runStaff is `honten staff create --tenant=CODE --email --name --role`: it
// prints the password once when it chose it.
func runStaff(ctx context.Context, cfg app.Config, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: honten staff create --tenant=CODE --email=EMAIL --name=NAME [--role=owner] [--platform-admin] [--password=...]")
	}
	fs := flag.NewFlagSet("staff create", flag.ContinueOnError)
	code := fs.String("tenant", "", "shop code")
	email := fs.String("email", "", "sign-in e-mail")
	name := fs.String("name", "", "display name")
	role := fs.String("role", "owner", "owner, admin, operator, finance, vendor or viewer")
	platform := fs.Bool("platform-admin", false, "may create and manage tenants")
	password := fs.String("password", "", "password (random when empty)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	m, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer m.Close()
	t, err := tenantByCode(ctx, m, *code)
	if err != nil {
		return err
	}
	out, _, err := m.Commands.InviteStaff(ctx, commands.InviteStaff{Tenant: t, By: commands.By{Actor: "cli"}, ByRole: "owner",
		Email: *email, Name: *name, Role: *role, PlatformAdmin: *platform, Password: *password})
	if err != nil {
		return err
	}
	fmt.Printf("staff %s created in %s as %s (id %s)\n", *email, *code, *role, out.Staff)
	if *password == "" {
		fmt.Printf("password (shown once): %s\n", out.Password)
	}
	return nil
}

// runImport is `honten import products FILE --tenant=CODE`: the same job as
// POST /imports/products, run here with a progress bar.
func runImport(ctx context.Context, cfg app.Config, args []string) error {
	if len(args) >= 2 && args[0] == "statement" {
		return runImportStatement(ctx, cfg, args[1], args[2:])
	}
	if len(args) < 2 || args[0] != "products" {
		return errors.New("usage: honten import products FILE --tenant=CODE | honten import statement FILE --tenant=CODE [--format=zengin|csv] [--preset=smbc|mufg]")
	}
	fs := flag.NewFlagSet("import products", flag.ContinueOnError)
	code := fs.String("tenant", "", "shop code")
	if err := fs.Parse(args[2:]); err != nil {
		return err
	}
	file, m, t, err := openImport(ctx, cfg, args[1], *code)
	if err != nil {
		return err
	}
	defer m.Close()
	jobs := m.Imports
	job, err := jobs.Submit(ctx, t, uuid.Must(uuid.NewV7()), "cli", file)
	if err != nil {
		return err
	}
	bar := progress.New("import "+args[1], "rows", m.Log)
	bar.Total(int64(job.TotalRows))
	prev := 0
	var mu sync.Mutex
	jobs.OnProgress = func(rows int) {
		mu.Lock()
		defer mu.Unlock()
		bar.Add(int64(rows - prev))
		prev = rows
	}
	if _, err := jobs.Run(ctx, job.ID); err != nil {
		return err
	}
	bar.Done()
	job, err = jobs.Get(ctx, t, job.ID)
	if err != nil {
		return err
	}
	fmt.Printf("import %s: %d created, %d updated, %d unchanged, %d row errors (%.0f rows/s)\n",
		job.Status, job.Created, job.Updated, job.Unchanged, job.ErrorCount, bar.Rate())
	for i, e := range job.Errors {
		if i == 20 {
			fmt.Printf("  … %d more: GET /api/v1/admin/imports/%s\n", job.ErrorCount-20, job.ID)
			break
		}
		fmt.Printf("  row %d %s: %s\n", e.Row, e.Column, e.Message)
	}
	return nil
}

// runImportStatement imports a bank statement and matches its deposits,
// as POST /admin/bank-statements does, with a progress bar.
func runImportStatement(ctx context.Context, cfg app.Config, path string, args []string) error {
	fs := flag.NewFlagSet("import statement", flag.ContinueOnError)
	code := fs.String("tenant", "", "shop code")
	format := fs.String("format", reconcile.FormatZengin, "zengin or csv")
	preset := fs.String("preset", "", "CSV layout: smbc or mufg")
	if err := fs.Parse(args); err != nil {
		return err
	}
	opts := reconcile.Options{Format: *format, Preset: *preset}
	if err := opts.Check(); err != nil {
		return err
	}
	file, m, t, err := openImport(ctx, cfg, path, *code)
	if err != nil {
		return err
	}
	defer m.Close()
	jobs := m.Reconcile
	id := uuid.Must(uuid.NewV7())
	if err := jobs.Submit(ctx, t, id, reconcile.KindStatement, "cli", file, opts); err != nil {
		return err
	}
	bar := progress.New("import "+path, "lines", m.Log)
	prev := 0
	var mu sync.Mutex
	jobs.OnProgress = func(done, total int) {
		mu.Lock()
		defer mu.Unlock()
		bar.Total(int64(total))
		bar.Add(int64(done - prev))
		prev = done
	}
	_, sum, err := jobs.RunStatement(ctx, id)
	if err != nil {
		return err
	}
	bar.Done()
	v, err := jobs.Statement(ctx, m.Pool, t, id)
	if err != nil {
		return err
	}
	if v.Status == "failed" {
		for _, e := range v.Errors {
			fmt.Printf("  line %d %s: %s\n", e.Line, e.Field, e.Message)
		}
		return fmt.Errorf("statement %s: the file cannot be read; nothing was imported", id)
	}
	fmt.Printf("statement %s: %d lines (%d already imported), %d matched, %d left to staff, %d ignored (not deposits)\n",
		id, sum.Lines, sum.Duplicates, sum.Matched, sum.Unmatched, sum.Ignored)
	fmt.Printf("  exceptions queue: GET /api/v1/admin/bank-statements/%s/lines?status=unmatched\n", id)
	return nil
}
