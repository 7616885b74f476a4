package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"golang.org/x/sync/errgroup"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/staff"
	"github.com/honten/honten/domain/store"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/demo"
	"github.com/honten/honten/internal/ordertest"
)

// TenantsOptions tune the tenants benchmark.
type TenantsOptions struct {
	Tenants     int           // tenants of the crowded database; default 2,000
	Staff       int           // staff accounts of the measured tenant; default 500
	Sample      int           // timed requests per measure at least; default 200
	Duration    time.Duration // per measure at least; default 10s
	Concurrency int           // clients per read measure; default 8
	// LoadWorkers load that many tenants at once; default 16.
	LoadWorkers int
	// The shape of a tenant: products and orders of each small tenant
	// (default 3 and 2) and of the measured one (default 60 and 60).
	SmallProducts, SmallOrders, MeasuredProducts, MeasuredOrders int
}

// Every tenant has a small catalog and a few orders; the measured tenant
// (the same in both databases) has a larger one.
const (
	tenantsPassword = "bench-tenants-password"
	measuredCode    = "bench-measured"
	lagWriters      = 4
	lagInterval     = 100 * time.Millisecond // per writer: about 40 writes/s in all
)

// Summary is the distribution of one measure.
type Summary struct {
	N             int
	Failed        int // answers that were not a success (e.g. 429 sign-in busy)
	P50, P95, P99 time.Duration
}

func summarize(l *Latencies, failed int) Summary {
	return Summary{N: l.Len(), Failed: failed, P50: l.P(.5), P95: l.P(.95), P99: l.P(.99)}
}

// TenantMeasure is one measure on the measured tenant alone (Base, a fresh
// database holding only it) and among the other tenants (Many).
type TenantMeasure struct {
	Name       string
	Note       string
	Base, Many Summary
}

// Ratio is Many / Base of the q-quantile (.5, .95 or .99).
func (m TenantMeasure) Ratio(q float64) float64 {
	pick := func(s Summary) time.Duration {
		switch q {
		case .5:
			return s.P50
		case .95:
			return s.P95
		}
		return s.P99
	}
	if pick(m.Base) <= 0 {
		return 0
	}
	return float64(pick(m.Many)) / float64(pick(m.Base))
}

// TenantsReport is the result of the tenants benchmark.
type TenantsReport struct {
	Options  TenantsOptions
	Load     []Row // how the two databases were loaded and how large they are
	Measures []TenantMeasure
}

// seededTenant is what the loader keeps of a tenant to read and write it.
type seededTenant struct {
	id       tenant.ID
	code     string
	location store.LocationID
	products []seededProduct
	staff    []string // e-mails
}

type seededProduct struct {
	id       catalog.ProductID
	variants []catalog.VariantID
	title    string
}

// Tenants measures staff sign-in, admin lists, storefront reads and the
// projection lag on one tenant with o.Staff staff accounts, first alone in
// a fresh database (the baseline), then among o.Tenants−1 other tenants in
// env's database, in the same run. The measured tenant and one small
// tenant are loaded through the commands (tenant, staff, products with
// stock; orders placed as checkout places them, ordertest); the other
// small tenants are copies of that one through the event store, with its
// claims and staff accounts, and every read model applies them as it
// applies any event — so every row is what the application makes.
func Tenants(ctx context.Context, env *Env, cfg app.Config, o TenantsOptions) (TenantsReport, error) {
	if o.Tenants <= 0 {
		o.Tenants = 2000
	}
	if o.Staff <= 0 {
		o.Staff = 500
	}
	if o.Sample <= 0 {
		o.Sample = 200
	}
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.LoadWorkers <= 0 {
		o.LoadWorkers = 16
	}
	for _, f := range []struct {
		v   *int
		def int
	}{{&o.SmallProducts, 3}, {&o.SmallOrders, 2}, {&o.MeasuredProducts, 60}, {&o.MeasuredOrders, 60}} {
		if *f.v <= 0 {
			*f.v = f.def
		}
	}
	rep := TenantsReport{Options: o}
	cat := demo.Catalog(1)

	base, dropBase, err := NewEnv(ctx, env.URL, 40, env.Log, env.Out)
	if err != nil {
		return rep, err
	}
	defer dropBase()
	// The two databases load at once: nothing is measured while loading.
	env.Log.Info("bench tenants: loading the measured tenant alone and among the others", "tenants", o.Tenants)
	// The processes started live past the group: its plain Group keeps
	// them on ctx.
	var alone, many *tenantsDB
	var g errgroup.Group
	g.Go(func() (err error) {
		if alone, err = tenantsRun(ctx, base, cfg, o, cat, 1); err != nil {
			return fmt.Errorf("baseline: %w", err)
		}
		return nil
	})
	g.Go(func() (err error) {
		if many, err = tenantsRun(ctx, env, cfg, o, cat, o.Tenants); err != nil {
			return fmt.Errorf("%d tenants: %w", o.Tenants, err)
		}
		return nil
	})
	err = g.Wait()
	for _, db := range []*tenantsDB{alone, many} {
		if db != nil {
			defer db.stop()
		}
	}
	if err != nil {
		return rep, err
	}
	rep.Load = append(alone.load, many.load...)
	// Both processes run from here on; each measure runs on one, then at
	// once on the other (which goes first alternates), so a change of the
	// machine's load during the run weighs on both sides alike.
	for i := range alone.calls {
		a, b := alone.calls[i], many.calls[i]
		env.Log.Info("bench tenants: measure", "name", a.name)
		var sa, sb Summary
		for k := 0; k < 2; k++ {
			c, dst := a, &sa
			if (i+k)%2 == 1 {
				c, dst = b, &sb
			}
			lat, failed, err := sampled(ctx, c.conc, o.Duration, o.Sample, c.call)
			if err != nil {
				return rep, fmt.Errorf("%s: %w", c.name, err)
			}
			*dst = summarize(lat, failed)
		}
		rep.Measures = append(rep.Measures, TenantMeasure{Name: a.name, Note: a.note, Base: sa, Many: sb})
	}
	return rep, nil
}

// tenantsDB is a loaded database with a process running on it.
type tenantsDB struct {
	load  []Row
	calls []tenantCall
	stop  func()
}

// tenantCall is one measure's call on one database.
type tenantCall struct {
	name, note string
	conc       int
	call       timedCall
}

// tenantsRun loads n tenants (the measured one among them) into env's
// database, starts a process on it, waits for its read models and returns
// the measures' calls on the measured tenant, the process running.
func tenantsRun(ctx context.Context, env *Env, cfg app.Config, o TenantsOptions, cat []demo.Product, n int) (_ *tenantsDB, err error) {
	label := "baseline (1 tenant)"
	if n > 1 {
		label = fmt.Sprintf("%d tenants", n)
	}
	start := time.Now()
	all, target, note, err := loadTenants(ctx, env, cfg, o, cat, n)
	if err != nil {
		return nil, err
	}
	loaded := time.Since(start)
	m, stop, err := startServer(ctx, env, cfg)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			stop()
		}
	}()
	head, err := eventstore.Head(ctx, m.Pool)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	err = m.Runner.WaitFor(wctx, head)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("read models catching up: %w", err)
	}
	caught := time.Since(start)
	var events, staffRows, orderRows, productRows int64
	var dbSize string
	if err := m.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM staff_accounts),
  (SELECT count(*) FROM order_views), (SELECT count(*) FROM products), pg_size_pretty(pg_database_size(current_database()))`).
		Scan(&events, &staffRows, &orderRows, &productRows, &dbSize); err != nil {
		return nil, err
	}
	load := []Row{{Name: "load: " + label, Value: float64(n) / caught.Seconds(), Unit: "tenants/s",
		Note: fmt.Sprintf("%s in %.1f s, every read model caught up at %.1f s; %d events, %d staff, %d products, %d orders, database %s",
			note, loaded.Seconds(), caught.Seconds(), events, staffRows, productRows, orderRows, dbSize)}}

	calls, err := tenantCalls(ctx, m, cfg, o, all, target)
	if err != nil {
		return nil, err
	}
	return &tenantsDB{load: load, calls: calls, stop: stop}, nil
}

// loadTenants loads n tenants and stops: the measured tenant (o.Staff staff,
// the larger catalog) through the commands; with n > 1, beside it a small
// tenant (one owner) through the commands, then n−2 copies of that one
// through the event store (copyTenants).
func loadTenants(ctx context.Context, env *Env, cfg app.Config, o TenantsOptions, cat []demo.Product, n int) ([]*seededTenant, *seededTenant, string, error) {
	m, stopServer, err := startServer(ctx, env, cfg)
	if err != nil {
		return nil, nil, "", err
	}
	var once sync.Once
	stop := func() { once.Do(stopServer) }
	defer stop()
	var target, tmpl *seededTenant
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		target, err = seedTenant(gctx, m, measuredCode, o.Staff, o.MeasuredProducts, o.MeasuredOrders, cat, 0, o.LoadWorkers)
		return err
	})
	if n > 1 {
		g.Go(func() (err error) {
			tmpl, err = seedTenant(gctx, m, "bench-t", 1, o.SmallProducts, o.SmallOrders, cat, o.MeasuredProducts, 1)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, "", err
	}
	if n == 1 {
		return []*seededTenant{target}, target, "the measured tenant through the commands", nil
	}
	// The reactions to the small tenant's events (shipments, e-mails) are
	// done before it is copied: its log is at rest once the read models
	// have applied it and nothing was appended for a second.
	if err := m.CaughtUp(ctx); err != nil {
		return nil, nil, "", err
	}
	if err := settleLog(ctx, m, time.Second); err != nil {
		return nil, nil, "", err
	}
	stop()
	copies, err := copyTenants(ctx, env, tmpl, n-2, o.LoadWorkers)
	if err != nil {
		return nil, nil, "", err
	}
	all := append([]*seededTenant{target, tmpl}, copies...)
	return all, target, fmt.Sprintf("the measured and a small tenant through the commands, %d copies of the small one through the event store", n-2), nil
}

// settleLog waits until nothing was appended to m's log for quiet.
func settleLog(ctx context.Context, m *app.Main, quiet time.Duration) error {
	last, err := eventstore.Head(ctx, m.Pool)
	if err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(quiet):
		}
		head, err := eventstore.Head(ctx, m.Pool)
		if err != nil {
			return err
		}
		if head == last {
			return nil
		}
		last = head
	}
}

// copyTenants appends n copies of tmpl's log (while no process runs), each
// a tenant of its own: every UUID remapped and its code suffixed (as
// Prefill's copies), with the rows its commands wrote beside the events —
// its unique claims and its staff accounts (same password) — remapped the
// same way. The reservation worker's and the reactions' cursors are then
// moved past the copies, as they stand on a database at rest; the read
// models apply the copies when the next process starts.
func copyTenants(ctx context.Context, env *Env, tmpl *seededTenant, n, workers int) ([]*seededTenant, error) {
	if n <= 0 {
		return nil, nil
	}
	reg := app.Registry()
	es := eventstore.New(env.Pool, reg)
	seed, err := eventstore.ReadFeed(ctx, env.Pool, eventstore.Position{}, 10_000_000, eventstore.FeedFilter{Tenant: tmpl.id})
	if err != nil {
		return nil, err
	}
	var txs [][]eventstore.Envelope
	for i, e := range seed {
		if i == 0 || e.Position.Tx != seed[i-1].Position.Tx {
			txs = append(txs, nil)
		}
		txs[len(txs)-1] = append(txs[len(txs)-1], e)
	}
	type claim struct {
		scope, owner uuid.UUID
		kind, value  string
	}
	rows, err := env.Pool.Query(ctx, `SELECT scope, kind, value, owner FROM unique_claims WHERE scope = $1 OR owner = $1`, tmpl.id)
	if err != nil {
		return nil, err
	}
	var claims []claim
	for rows.Next() {
		var c claim
		if err := rows.Scan(&c.scope, &c.kind, &c.value, &c.owner); err != nil {
			rows.Close()
			return nil, err
		}
		claims = append(claims, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = env.Pool.Query(ctx, `SELECT to_jsonb(s) FROM staff_accounts s WHERE tenant_id = $1`, tmpl.id)
	if err != nil {
		return nil, err
	}
	var accounts []map[string]any
	for rows.Next() {
		var a map[string]any
		if err := rows.Scan(&a); err != nil {
			rows.Close()
			return nil, err
		}
		accounts = append(accounts, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]*seededTenant, n)
	var done atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for c := 1; c <= n; c++ {
		g.Go(func() error {
			remap := newIDMap()
			re := func(u uuid.UUID) uuid.UUID {
				if u == uuid.Nil {
					return u
				}
				return uuid.MustParse(remap(u.String()))
			}
			code := fmt.Sprintf("%s-%d", tmpl.code, c)
			for _, tx := range txs {
				if _, err := es.Do(gctx, func(ctx context.Context, etx *eventstore.Tx) error {
					for i := 0; i < len(tx); {
						j := i + 1
						for j < len(tx) && tx[j].StreamID == tx[i].StreamID && tx[j].Version == tx[j-1].Version+1 {
							j++
						}
						evs := make([]eventstore.Event, 0, j-i)
						for _, e := range tx[i:j] {
							// The staff's e-mails name their shop (staffN@<code>.example.jp).
							e.Payload = bytes.ReplaceAll(e.Payload, []byte("@"+tmpl.code+"."), []byte("@"+code+"."))
							ev, err := copyEvent(reg, e, c, remap)
							if err != nil {
								return err
							}
							evs = append(evs, ev)
						}
						e := tx[i]
						t := tenant.ID{UUID: re(e.Tenant.UUID)}
						if _, err := etx.Append(ctx, eventstore.Stream{Tenant: t, Type: e.StreamType, ID: re(e.StreamID)}, e.Version-1,
							evs, eventstore.Metadata{Tenant: t, Actor: e.Actor}); err != nil {
							return err
						}
						i = j
					}
					return nil
				}); err != nil {
					return fmt.Errorf("copy %d: %w", c, err)
				}
			}
			t := &seededTenant{id: tenant.ID{UUID: re(tmpl.id.UUID)}, code: code, location: store.LocationID{UUID: re(tmpl.location.UUID)}}
			for _, e := range tmpl.staff {
				t.staff = append(t.staff, strings.Replace(e, "@"+tmpl.code+".", "@"+code+".", 1))
			}
			for _, p := range tmpl.products {
				q := seededProduct{id: catalog.ProductID{UUID: re(p.id.UUID)}, title: p.title}
				for _, v := range p.variants {
					q.variants = append(q.variants, catalog.VariantID{UUID: re(v.UUID)})
				}
				t.products = append(t.products, q)
			}
			tx, err := env.Pool.Begin(gctx)
			if err != nil {
				return err
			}
			defer tx.Rollback(context.WithoutCancel(gctx)) //nolint:errcheck // after Commit, a no-op
			for _, cl := range claims {
				value := cl.value
				switch {
				case cl.kind == commands.ClaimTenantCode:
					value = t.code
				case isUUID(value):
					value = remap(value)
				case strings.Contains(value, "/") && isUUID(value[:strings.Index(value, "/")]):
					k := strings.Index(value, "/")
					value = remap(value[:k]) + value[k:]
				}
				if _, err := tx.Exec(gctx, `INSERT INTO unique_claims (scope, kind, value, owner) VALUES ($1, $2, $3, $4)`, re(cl.scope), cl.kind, value, re(cl.owner)); err != nil {
					return fmt.Errorf("copy %d claim %s: %w", c, cl.kind, err)
				}
			}
			for _, a := range accounts {
				row := map[string]any{}
				for k, v := range a {
					if s, ok := v.(string); ok && isUUID(s) {
						v = remap(s)
					} else if k == "email" && ok {
						v = strings.Replace(s, "@"+tmpl.code+".", "@"+code+".", 1)
					}
					row[k] = v
				}
				if _, err := tx.Exec(gctx, `INSERT INTO staff_accounts SELECT * FROM jsonb_populate_record(NULL::staff_accounts, $1)`, row); err != nil {
					return fmt.Errorf("copy %d staff: %w", c, err)
				}
			}
			if err := tx.Commit(gctx); err != nil {
				return err
			}
			out[c-1] = t
			if d := done.Add(1); d%250 == 0 {
				env.Log.Info("bench tenants: copying", "tenants", d, "of", n)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	head, err := eventstore.Head(ctx, env.Pool)
	if err != nil {
		return nil, err
	}
	if _, err := env.Pool.Exec(ctx, `UPDATE worker_checkpoints SET tx_id = $1::text::xid8, position = $2`, head.TxText(), head.Pos); err != nil {
		return nil, err
	}
	if _, err := env.Pool.Exec(ctx, `UPDATE watermill_offsets_events SET last_processed_transaction_id = $1::text::xid8, offset_acked = $2`, head.TxText(), head.Pos); err != nil {
		return nil, err
	}
	return out, nil
}

func isUUID(s string) bool {
	if len(s) != 36 || strings.Count(s, "-") != 4 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// seedTenant creates a shop through the commands: the tenant, staffN staff
// accounts (the first the owner), products (the demo catalog's from
// offset, at most two physical variants each) with stock, and orders
// placed as checkout places them. Staff are invited by workers at once.
func seedTenant(ctx context.Context, m *app.Main, code string, staffN, products, orders int, cat []demo.Product, offset, workers int) (*seededTenant, error) {
	bench := commands.By{Actor: "bench"}
	created, _, err := m.Commands.CreateTenant(ctx, commands.CreateTenant{By: bench, Code: code, Name: code, Type: "single_brand"})
	if err != nil {
		return nil, err
	}
	t := &seededTenant{id: created.Tenant, code: code, location: created.Location}
	t.staff = make([]string, staffN)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for k := 0; k < staffN; k++ {
		t.staff[k] = fmt.Sprintf("staff%d@%s.example.jp", k, code)
		g.Go(func() error {
			role := "operator"
			if k == 0 {
				role = "owner"
			}
			c := commands.InviteStaff{Tenant: created.Tenant, By: commands.By{Actor: "bench", CommandID: uuid.Must(uuid.NewV7())},
				ByRole: staff.Owner, Email: t.staff[k], Name: fmt.Sprintf("スタッフ %d", k), Role: role, Password: tenantsPassword}
			for {
				// The hashing slots are shared with the other loaders: a
				// busy answer is retried, as a client would.
				_, _, err := m.Commands.InviteStaff(gctx, c)
				if !errors.Is(err, commands.ErrSignInBusy) {
					return err
				}
			}
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("staff: %w", err)
	}
	type line struct {
		variant catalog.VariantID
		sku     string
		price   int64
		tax     catalog.TaxRate
	}
	lines := make([][]line, products)
	t.products = make([]seededProduct, products)
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for p := 0; p < products; p++ {
		g.Go(func() error {
			d := cat[(offset+p)%len(cat)]
			by := commands.By{Actor: "bench", CommandID: uuid.Must(uuid.NewV7())}
			cmd := commands.CreateProduct{Tenant: created.Tenant, By: by, Title: d.Title, Handle: fmt.Sprintf("%s-%d", d.Handle, p), Description: d.Description, Status: "active"}
			for _, v := range d.Variants {
				if v.Digital || len(cmd.Variants) == 2 {
					continue
				}
				cmd.Variants = append(cmd.Variants, commands.VariantInput{SKU: v.SKU, Title: v.Title, Price: money.MustNew(decimal.NewFromInt(v.Price), money.JPY), TaxRate: v.TaxRate})
			}
			if len(cmd.Variants) == 0 {
				cmd.Variants = []commands.VariantInput{{SKU: fmt.Sprintf("BT-%d", p), Price: money.MustNew(decimal.NewFromInt(1000), money.JPY), TaxRate: "10"}}
			}
			if _, _, err := m.Commands.CreateProduct(gctx, cmd); err != nil {
				return fmt.Errorf("product %s: %w", d.Handle, err)
			}
			sp := seededProduct{id: catalog.ProductID{UUID: by.DerivedID(0)}, title: d.Title}
			set := commands.SetStock{Tenant: created.Tenant, By: commands.By{Actor: "bench"}, Product: sp.id, Reason: "bench"}
			for k, v := range cmd.Variants {
				vid := catalog.VariantID{UUID: by.DerivedID(100 + k)}
				sp.variants = append(sp.variants, vid)
				set.Levels = append(set.Levels, commands.StockSet{Variant: vid, Location: created.Location, OnHand: 100_000})
				lines[p] = append(lines[p], line{variant: vid, sku: v.SKU, price: v.Price.Amount().IntPart(), tax: catalog.TaxRate(v.TaxRate)})
			}
			if _, err := m.Commands.SetStock(gctx, set); err != nil {
				return fmt.Errorf("stock of %s: %w", d.Handle, err)
			}
			t.products[p] = sp
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var flat []line
	for _, ls := range lines {
		flat = append(flat, ls...)
	}
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for i := 0; i < orders; i++ {
		g.Go(func() error {
			var ls []ordertest.Line
			for k := 0; k < 1+i%3; k++ {
				l := flat[(i*3+k)%len(flat)]
				ls = append(ls, ordertest.Line{Variant: l.variant, Vendor: created.Vendor.UUID, SKU: l.sku, Quantity: int64(1 + k), Price: l.price, TaxRate: l.tax})
			}
			if _, err := ordertest.Place(gctx, m.Commands, ordertest.Order{Tenant: created.Tenant, Method: order.PaymentCOD, Lines: ls,
				Email: fmt.Sprintf("buyer%d@example.jp", i), Number: int64(i + 1)}); err != nil {
				return fmt.Errorf("order %d: %w", i, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return t, nil
}

// tenantCalls are the measures' calls on target (m's database); writes of
// the lag measure go to every tenant of all.
func tenantCalls(ctx context.Context, m *app.Main, cfg app.Config, o TenantsOptions, all []*seededTenant, target *seededTenant) ([]tenantCall, error) {
	base := "http://" + m.Addr() + "/api/v1"
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: o.Concurrency * 2, MaxConnsPerHost: o.Concurrency * 2}}
	token, err := signIn(ctx, hc, base+"/admin", target.code, target.staff[0], tenantsPassword)
	if err != nil {
		return nil, err
	}
	get := func(ctx context.Context, path string, admin bool) (int, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if err != nil {
			return 0, err
		}
		if admin {
			req.Header.Set("Authorization", "Bearer "+token)
		} else {
			req.Header.Set("X-Tenant", target.code)
			req.Header.Set("Cache-Control", "no-cache")
			req.Header.Set("X-Forwarded-For", randomClient())
		}
		resp, err := hc.Do(req)
		if err != nil {
			return 0, err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return resp.StatusCode, fmt.Errorf("GET %s: %d", path, resp.StatusCode)
		}
		return resp.StatusCode, err
	}
	// Search words: the first word of each of the measured tenant's titles.
	var words []string
	for _, p := range target.products {
		if f := strings.Fields(p.title); len(f) > 0 {
			words = append(words, f[0])
		}
	}
	signInConc := min(o.Concurrency, max(cfg.SignInConcurrency, 1))
	timed := func(f func(ctx context.Context, rng *rand.Rand) (bool, error)) timedCall {
		return func(ctx context.Context, rng *rand.Rand) (bool, time.Duration, error) {
			ok, err := f(ctx, rng)
			return ok, 0, err
		}
	}
	return []tenantCall{
		{"staff sign-in (argon2id)", fmt.Sprintf("POST /admin/session as a random one of %d accounts, concurrency %d (the hashing slots)", len(target.staff), signInConc), signInConc,
			timed(func(ctx context.Context, rng *rand.Rand) (bool, error) {
				return signInOnce(ctx, hc, base+"/admin/session", target.code, target.staff[rng.IntN(len(target.staff))])
			})},
		{"admin orders list", "GET /admin/orders?limit=20", o.Concurrency, timed(func(ctx context.Context, _ *rand.Rand) (bool, error) {
			_, err := get(ctx, "/admin/orders?limit=20", true)
			return err == nil, err
		})},
		{"admin products list", "GET /admin/products?limit=20", o.Concurrency, timed(func(ctx context.Context, _ *rand.Rand) (bool, error) {
			_, err := get(ctx, "/admin/products?limit=20", true)
			return err == nil, err
		})},
		{"admin staff list", "GET /admin/staff?limit=20", o.Concurrency, timed(func(ctx context.Context, _ *rand.Rand) (bool, error) {
			_, err := get(ctx, "/admin/staff?limit=20", true)
			return err == nil, err
		})},
		{"storefront product list", "GET /store/products?limit=20, no-cache", o.Concurrency, timed(func(ctx context.Context, _ *rand.Rand) (bool, error) {
			_, err := get(ctx, "/store/products?limit=20", false)
			return err == nil, err
		})},
		{"storefront search", "GET /store/search?q=<a title's first word>, no-cache", o.Concurrency, timed(func(ctx context.Context, rng *rand.Rand) (bool, error) {
			_, err := get(ctx, "/store/search?q="+url.QueryEscape(words[rng.IntN(len(words))]), false)
			return err == nil, err
		})},
		{"projection lag under writes", fmt.Sprintf("set stock → every read model applied it; %d writers, one write per %s each, half to the measured tenant, half to any", lagWriters, lagInterval),
			lagWriters, lagCall(m, all, target)},
	}, nil
}

// timedCall is one call of a measure: ok is false for a refusal (not an
// error); took, when not zero, is the latency to record instead of the
// call's own duration.
type timedCall func(ctx context.Context, rng *rand.Rand) (ok bool, took time.Duration, err error)

// sampled runs call from n workers for at least d and until it has at least
// min successful calls; it returns their latencies and how many calls were
// refused.
func sampled(ctx context.Context, n int, d time.Duration, min int, call timedCall) (*Latencies, int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	deadline := time.Now().Add(d)
	var count, failed atomic.Int64
	lats := make([]*Latencies, n)
	g, gctx := errgroup.WithContext(ctx)
	for w := 0; w < n; w++ {
		lats[w] = &Latencies{}
		rng := rand.New(rand.NewPCG(uint64(w), 11))
		g.Go(func() error {
			for gctx.Err() == nil && (time.Now().Before(deadline) || count.Load() < int64(min)) {
				t0 := time.Now()
				ok, took, err := call(gctx, rng)
				if err != nil {
					return err
				}
				if !ok {
					failed.Add(1)
					continue
				}
				if took == 0 {
					took = time.Since(t0)
				}
				lats[w].Add(took)
				count.Add(1)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, 0, err
	}
	all := &Latencies{}
	for _, l := range lats {
		all.Merge(l)
	}
	return all, int(failed.Load()), nil
}

// signInOnce signs in as email; a refusal for load (429) is not an error.
func signInOnce(ctx context.Context, hc *http.Client, endpoint, shop, email string) (bool, error) {
	body, _ := json.Marshal(map[string]string{"email": email, "password": tenantsPassword})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(string(body)))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Tenant", shop)
	req.Header.Set("X-Forwarded-For", randomClient())
	resp, err := hc.Do(req)
	if err != nil {
		return false, err
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusCreated:
		var out struct {
			Token string `json:"token"`
		}
		if err := json.Unmarshal(raw, &out); err != nil || out.Token == "" {
			return false, fmt.Errorf("sign in: no token in %s", raw)
		}
		return true, nil
	case http.StatusTooManyRequests:
		return false, nil
	}
	return false, fmt.Errorf("sign in: %d %s", resp.StatusCode, raw)
}

// randomClient is a shopper's or a staff member's address behind the
// trusted proxy, so per-client limits see many clients.
func randomClient() string {
	return fmt.Sprintf("10.%d.%d.%d", rand.IntN(256), rand.IntN(256), 1+rand.IntN(254))
}

// lagCall is one write of the lag measure: it sets the stock of a random
// product — of target or, half the time, of any tenant of all — and times
// from the command's commit to every read model having applied its event;
// then it waits out lagInterval, so each writer makes a write per interval.
func lagCall(m *app.Main, all []*seededTenant, target *seededTenant) timedCall {
	return func(ctx context.Context, rng *rand.Rand) (bool, time.Duration, error) {
		next := time.Now().Add(lagInterval)
		t := target
		if rng.IntN(2) == 0 {
			t = all[rng.IntN(len(all))]
		}
		p := t.products[rng.IntN(len(t.products))]
		set := commands.SetStock{Tenant: t.id, By: commands.By{Actor: "bench"}, Product: p.id, Reason: "bench lag"}
		for _, v := range p.variants {
			set.Levels = append(set.Levels, commands.StockSet{Variant: v, Location: t.location, OnHand: 50_000 + rng.Int64N(50_000)})
		}
		res, err := m.Commands.SetStock(ctx, set)
		if err != nil {
			return false, 0, err
		}
		t0 := time.Now()
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		err = m.Runner.WaitFor(wctx, res.Last)
		cancel()
		if err != nil {
			return false, 0, err
		}
		lag := time.Since(t0)
		if d := time.Until(next); d > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(d):
			}
		}
		return true, lag, nil
	}
}

// PrintTenants writes the report: how the databases were loaded, then per
// measure its p50/p95/p99 alone and among the others, and their ratios.
func PrintTenants(w io.Writer, rep TenantsReport) {
	o := rep.Options
	Print(w, fmt.Sprintf("honten bench tenants: loading (%d tenants, the measured one with %d staff)", o.Tenants, o.Staff), rep.Load)
	title := fmt.Sprintf("The measured tenant alone (baseline) and among %d tenants, same run (≥ %s and ≥ %d samples per measure)", o.Tenants, o.Duration, o.Sample)
	fmt.Fprintf(w, "\n%s\n%s\n", title, strings.Repeat("=", len(title)))
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "measure\tbaseline p50 / p95 / p99\tamong N p50 / p95 / p99\tratio p50 / p95 / p99\tsamples\tnote")
	f := func(s Summary) string {
		return fmt.Sprintf("%.2f / %.2f / %.2f ms", ms(s.P50), ms(s.P95), ms(s.P99))
	}
	for _, m := range rep.Measures {
		n := fmt.Sprintf("%d / %d", m.Base.N, m.Many.N)
		if m.Base.Failed+m.Many.Failed > 0 {
			n += fmt.Sprintf(" (refused %d / %d)", m.Base.Failed, m.Many.Failed)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f / %.2f / %.2f\t%s\t%s\n", m.Name, f(m.Base), f(m.Many), m.Ratio(.5), m.Ratio(.95), m.Ratio(.99), n, m.Note)
	}
	tw.Flush()
}
