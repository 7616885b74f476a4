package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/commands/importer"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/database"
	"github.com/honten/honten/internal/demo"
)

// CatalogOptions tune the catalog benchmark.
type CatalogOptions struct {
	Duration    time.Duration // per phase; default 10s
	Concurrency int           // default 32
}

// Catalog loads the demo store and measures the storefront product list
// (limit 20) and product detail over HTTP, beside a bare SELECT of the same
// rows through pgx in the same run.
func Catalog(ctx context.Context, env *Env, cfg app.Config, o CatalogOptions) ([]Row, error) {
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 32
	}
	m, stop, err := startServer(ctx, env, cfg)
	if err != nil {
		return nil, err
	}
	defer stop()
	env.Log.Info("bench: loading the demo store")
	d, err := demo.Load(ctx, m.Commands, nil, nil)
	if errors.Is(err, demo.ErrAlreadyLoaded) {
		// Loaded by Prefill: the demo shop is the one with its code.
		var owner uuid.UUID
		_, owner, err = demoTenant(ctx, m)
		d.Tenant = tenant.ID{UUID: owner}
	}
	if err != nil {
		return nil, err
	}
	if err := m.Runner.WaitFor(ctx, mustHead(ctx, m.Pool)); err != nil {
		return nil, err
	}
	// Measured as a shop runs: with the statistics autovacuum keeps.
	if err := database.Analyze(ctx, m.Pool); err != nil {
		return nil, err
	}
	base := "http://" + m.Addr() + "/api/v1/store"
	catalog := demo.Catalog(1)
	var handles []string
	for _, p := range catalog {
		if p.Status == "active" {
			handles = append(handles, p.Handle)
		}
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.Concurrency * 2, MaxConnsPerHost: o.Concurrency * 2}}
	get := func(path string, cached bool) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		req.Header.Set("X-Tenant", d.Code)
		if !cached {
			req.Header.Set("Cache-Control", "no-cache")
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %d", path, resp.StatusCode)
		}
		return err
	}
	var rows []Row
	const listQ = `SELECT doc FROM products WHERE tenant_id = $1 AND status = 'active' AND id < $2 ORDER BY id DESC LIMIT 21`
	const getQ = `SELECT doc FROM products WHERE tenant_id = $1 AND (id::text = $2 OR handle = $2) AND status = 'active' LIMIT 1`
	maxID := "ffffffff-ffff-ffff-ffff-ffffffffffff"
	for _, phase := range []struct {
		name string
		http func(rng *rand.Rand, cached bool) error
		sql  func(ctx context.Context, pool *pgxpool.Pool, rng *rand.Rand) error
	}{
		{"product list (limit 20)", func(_ *rand.Rand, cached bool) error { return get("/products?limit=20", cached) },
			func(ctx context.Context, pool *pgxpool.Pool, _ *rand.Rand) error {
				return drain(pool.Query(ctx, listQ, d.Tenant, maxID))
			}},
		{"product detail", func(rng *rand.Rand, cached bool) error {
			return get("/products/"+handles[rng.IntN(len(handles))], cached)
		},
			func(ctx context.Context, pool *pgxpool.Pool, rng *rand.Rand) error {
				return drain(pool.Query(ctx, getQ, d.Tenant, handles[rng.IntN(len(handles))]))
			}},
	} {
		env.Log.Info("bench: bare select", "phase", phase.name)
		sqlLat, sqlRate, err := measure(ctx, o.Concurrency, o.Duration, func(rng *rand.Rand) error { return phase.sql(ctx, m.Pool, rng) })
		if err != nil {
			return nil, err
		}
		rows = append(rows, Row{Name: "bare SELECT: " + phase.name, Value: sqlRate, Unit: "q/s",
			Note: fmt.Sprintf("p50 %.2f ms, p99 %.2f ms (ceiling)", ms(sqlLat.P(.5)), ms(sqlLat.P(.99)))})
		// The same SELECT as a request runs it: the API role, the tenant
		// set, the policies applied (the WHERE tenant_id stays as well).
		env.Log.Info("bench: bare select, API role", "phase", phase.name)
		tctx := database.WithTenant(ctx, d.Tenant.UUID)
		rlsLat, rlsRate, err := measure(ctx, o.Concurrency, o.Duration, func(rng *rand.Rand) error { return phase.sql(tctx, m.Pool, rng) })
		if err != nil {
			return nil, err
		}
		rows = append(rows, Row{Name: "  same SELECT as the API role (row-level security)", Value: rlsRate, Unit: "q/s", Baseline: "bare SELECT", Ratio: rlsRate / sqlRate,
			Note: fmt.Sprintf("p50 %.2f ms, p99 %.2f ms", ms(rlsLat.P(.5)), ms(rlsLat.P(.99)))})
		var onRate float64
		var onLat *Latencies
		for _, mode := range []struct {
			name        string
			cached, rls bool
		}{
			{"1 s micro-cache (default)", true, true},
			{"uncached (Cache-Control: no-cache)", false, true},
			{"uncached, row-level security off", false, false},
		} {
			env.Log.Info("bench: http", "phase", phase.name, "cached", mode.cached, "rls", mode.rls)
			m.RLS.Set(mode.rls)
			lat, rate, err := measure(ctx, o.Concurrency, o.Duration, func(rng *rand.Rand) error { return phase.http(rng, mode.cached) })
			m.RLS.Set(true)
			if err != nil {
				return nil, err
			}
			name := "GET " + phase.name + ", " + mode.name
			rows = append(rows,
				Row{Name: name, Value: rate, Unit: "req/s", Baseline: "bare SELECT", Ratio: rate / sqlRate, Target: "≥ 5,000 req/s", Note: fmt.Sprintf("c=%d", o.Concurrency)},
				Row{Name: "  p50", Value: ms(lat.P(.5)), Unit: "ms", Baseline: "bare SELECT p50", Ratio: ms(lat.P(.5)) / ms(sqlLat.P(.5))},
				Row{Name: "  p99", Value: ms(lat.P(.99)), Unit: "ms", Baseline: "bare SELECT p99", Ratio: ms(lat.P(.99)) / ms(sqlLat.P(.99)), Target: "≤ 10 ms"},
			)
			if !mode.cached && mode.rls {
				onRate, onLat = rate, lat
			}
			if !mode.rls {
				rows = append(rows, Row{Name: "  row-level security on / off (uncached)", Value: onRate / rate, Unit: "× req/s", Baseline: "RLS off, same run",
					Ratio: onRate / rate, Note: fmt.Sprintf("p50 %.2f / %.2f ms, p99 %.2f / %.2f ms", ms(onLat.P(.5)), ms(lat.P(.5)), ms(onLat.P(.99)), ms(lat.P(.99)))})
			}
		}
	}
	importRows, err := benchImport(ctx, env, m)
	if err != nil {
		return nil, err
	}
	return append(rows, importRows...), nil
}

// ImportRows is the size of the import benchmark's file.
const ImportRows = 50_000

// benchImport imports a 50,000-row CSV (12,500 products × 4 variants, stock
// in one location) into a fresh shop and reports rows/s, beside parsing
// alone (the ceiling of the file handling).
func benchImport(ctx context.Context, env *Env, m *app.Main) ([]Row, error) {
	created, _, err := m.Commands.CreateTenant(ctx, commands.CreateTenant{By: commands.By{Actor: "bench"}, Code: "bench-import", Name: "import", Type: "single_brand"})
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString("handle,title,description,status,sku,variant_title,option1_name,option1_value,price,tax_rate,stock:main\n")
	sizes := []string{"S", "M", "L", "XL"}
	for i := 0; i < ImportRows; i++ {
		p := i / 4
		title, desc, status := "", "", ""
		if i%4 == 0 {
			title, desc, status = fmt.Sprintf("綿のTシャツ %d", p), "天竺編みの定番Tシャツ", "active"
		}
		fmt.Fprintf(&b, "tee-%d,%s,%s,%s,TEE-%06d,%s,サイズ,%s,%d,10,%d\n", p, title, desc, status, i, sizes[i%4], sizes[i%4], 2000+p%50*100, i%20)
	}
	file := []byte(b.String())
	t0 := time.Now()
	if _, _, _, err := importer.Parse(file, money.JPY); err != nil {
		return nil, err
	}
	parseRate := float64(ImportRows) / time.Since(t0).Seconds()
	env.Log.Info("bench: csv import", "rows", ImportRows)
	t0 = time.Now()
	job, err := m.Imports.Submit(ctx, created.Tenant, uuid.Must(uuid.NewV7()), "bench", file)
	if err != nil {
		return nil, err
	}
	if _, err := m.Imports.Run(ctx, job.ID); err != nil {
		return nil, err
	}
	took := time.Since(t0)
	job, err = m.Imports.Get(ctx, created.Tenant, job.ID)
	if err != nil {
		return nil, err
	}
	if job.Status != "completed" || job.Created != ImportRows/4 || job.ErrorCount != 0 {
		return nil, fmt.Errorf("bench import: %s, %d created, %d errors", job.Status, job.Created, job.ErrorCount)
	}
	rate := float64(ImportRows) / took.Seconds()
	return []Row{
		{Name: "CSV parse + validate only, 50,000 rows", Value: parseRate, Unit: "rows/s", Note: "ceiling"},
		{Name: "CSV import, 50,000 rows (12,500 products)", Value: rate, Unit: "rows/s", Baseline: "parse only", Ratio: rate / parseRate,
			Note: fmt.Sprintf("%.1f s; a product per transaction, stock set per variant", took.Seconds())},
	}, nil
}

func drain(rows interface {
	Next() bool
	Close()
	Err() error
}, err error) error {
	if err != nil {
		return err
	}
	for rows.Next() {
	}
	rows.Close()
	return rows.Err()
}

// measure runs fn from n workers for d, each worker with its own random
// source, and returns its latencies and rate.
func measure(ctx context.Context, n int, d time.Duration, fn func(rng *rand.Rand) error) (*Latencies, float64, error) {
	rngs := make([]*rand.Rand, n)
	for w := range rngs {
		rngs[w] = rand.New(rand.NewPCG(uint64(w), 7))
	}
	return measureCalls(ctx, n, d, func(_ context.Context, w, _ int) error { return fn(rngs[w]) })
}

// measureCalls runs fn from n workers for d and returns the latencies of
// its successful calls and their rate (calls/s), or the first error. Worker
// w makes calls number w, w+n, w+2n…; fn's context ends after d.
func measureCalls(ctx context.Context, n int, d time.Duration, fn func(ctx context.Context, w, i int) error) (*Latencies, float64, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var wg sync.WaitGroup
	lats := make([]*Latencies, n)
	var firstErr atomic.Pointer[error]
	start := time.Now()
	for w := 0; w < n; w++ {
		lats[w] = &Latencies{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; ctx.Err() == nil; i += n {
				t0 := time.Now()
				if err := fn(ctx, w, i); err != nil {
					if ctx.Err() == nil {
						firstErr.CompareAndSwap(nil, &err)
					}
					return
				}
				lats[w].Add(time.Since(t0))
			}
		}()
	}
	wg.Wait()
	if err := firstErr.Load(); err != nil {
		return nil, 0, *err
	}
	all := &Latencies{}
	for _, l := range lats {
		all.Merge(l)
	}
	return all, float64(all.Len()) / time.Since(start).Seconds(), nil
}

// demoTenant finds the demo shop's tenant by its code's claim.
func demoTenant(ctx context.Context, m *app.Main) (bool, uuid.UUID, error) {
	owner, ok, err := eventstore.Owner(ctx, m.Pool, eventstore.PlatformScope, commands.ClaimTenantCode, demo.ShopCode)
	if err == nil && !ok {
		err = errors.New("bench: no demo shop")
	}
	return ok, owner, err
}
