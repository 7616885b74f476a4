package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/commands/reservations"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/database"
	"github.com/honten/honten/internal/procstat"
)

// client is a storefront buyer's HTTP client.
type client struct {
	base, shop string
	http       *http.Client
}

func newClient(base, shop string, conns int) *client {
	return &client{base: base, shop: shop, http: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}}
}

func (c *client) do(ctx context.Context, method, path, token string, body any, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+"/api/v1/store"+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("X-Tenant", c.shop)
	// The virtual buyers are many shoppers behind one proxy (the server
	// trusts the loopback, startServer): each request comes from its own
	// address, so per-client limits see shoppers, not one client.
	req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", rand.IntN(256), rand.IntN(256), 1+rand.IntN(254)))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("X-Cart-Token", token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, err
		}
	}
	if resp.StatusCode >= 500 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, nil
}

// benchShop creates a shop with a bank account and products with ample stock.
func benchShop(ctx context.Context, m *app.Main, code string, products, variants int, stock func(p int) int64, hotFirst bool) (tenant.ID, []string, error) {
	created, _, err := m.Commands.CreateTenant(ctx, commands.CreateTenant{By: commands.By{Actor: "bench"}, Code: code, Name: code, Type: "single_brand"})
	if err != nil {
		return tenant.ID{}, nil, err
	}
	_, err = m.Commands.UpdateSettings(ctx, commands.UpdateSettings{Tenant: created.Tenant, By: commands.By{Actor: "bench"},
		Change: func(s tenant.Settings) (tenant.Settings, error) {
			s.BankAccount = &tenant.BankAccount{BankName: "ベンチ銀行", BankCode: "9999", BranchName: "本店", BranchCode: "001",
				AccountType: "ordinary", AccountNumber: "7654321", AccountHolder: "ﾍﾞﾝﾁ"}
			return s, nil
		}})
	if err != nil {
		return tenant.ID{}, nil, err
	}
	var skus []string
	for p := 0; p < products; p++ {
		by := commands.By{Actor: "bench", CommandID: uuid.Must(uuid.NewV7())}
		var vs []commands.VariantInput
		for v := 0; v < variants; v++ {
			sku := fmt.Sprintf("B%04d-%d", p, v)
			skus = append(skus, sku)
			vs = append(vs, commands.VariantInput{SKU: sku, Price: money.MustNew(decimal.NewFromInt(int64(500+100*((p+v)%40))), money.JPY),
				TaxRate: []string{"10", "8"}[p%2], IsHot: hotFirst && p == 0})
		}
		pid, _, err := m.Commands.CreateProduct(ctx, commands.CreateProduct{Tenant: created.Tenant, By: by, Title: fmt.Sprintf("ベンチ商品 %d", p), Status: "active", Variants: vs})
		if err != nil {
			return tenant.ID{}, nil, err
		}
		set := commands.SetStock{Tenant: created.Tenant, By: commands.By{Actor: "bench"}, Product: pid, Reason: "bench"}
		for v := range vs {
			set.Levels = append(set.Levels, commands.StockSet{Variant: catalog.VariantID{UUID: by.DerivedID(100 + v)}, Location: created.Location, OnHand: stock(p)})
		}
		if _, err := m.Commands.SetStock(ctx, set); err != nil {
			return tenant.ID{}, nil, err
		}
	}
	// Measured as a shop runs: with the statistics autovacuum keeps.
	if err := database.Analyze(ctx, m.Pool); err != nil {
		return tenant.ID{}, nil, err
	}
	return created.Tenant, skus, nil
}

var buyer = map[string]any{"email": "bench@example.jp", "name": "ベンチ 太郎", "phone": "09012345678",
	"shipping_address": map[string]any{"postal_code": "1000001", "prefecture": "東京都", "city": "千代田区", "line1": "千代田1-1"}}

func checkoutBody(method string) map[string]any {
	b := map[string]any{"payment_method": method}
	for k, v := range buyer {
		b[k] = v
	}
	return b
}

type stepLat struct{ cart, add, checkout Latencies }

// buyOnce is one closed-loop buyer: create a cart, add three lines waiting
// for each decision, check out.
func buyOnce(ctx context.Context, c *client, rng *rand.Rand, skus []string, lat *stepLat) (bool, error) {
	t0 := time.Now()
	var cart struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	if _, err := c.do(ctx, "POST", "/carts", "", nil, &cart); err != nil {
		return false, err
	}
	lat.cart.Add(time.Since(t0))
	for i := 0; i < 3; i++ {
		t1 := time.Now()
		var line struct {
			Reservation struct {
				Status string `json:"status"`
			} `json:"reservation"`
		}
		code, err := c.do(ctx, "POST", "/carts/"+cart.ID+"/items?wait=5000", cart.Token, map[string]any{"sku": skus[rng.IntN(len(skus))], "quantity": 1}, &line)
		if err != nil {
			return false, err
		}
		lat.add.Add(time.Since(t1))
		if code != http.StatusOK || line.Reservation.Status != "reserved" {
			return false, nil
		}
	}
	t2 := time.Now()
	method := "cod"
	if rng.IntN(2) == 0 {
		method = "bank_transfer"
	}
	code, err := c.do(ctx, "POST", "/carts/"+cart.ID+"/checkout", cart.Token, checkoutBody(method), nil)
	if err != nil {
		return false, err
	}
	lat.checkout.Add(time.Since(t2))
	return code == http.StatusCreated, nil
}

// cpuSample is the CPU time (user+system, clock ticks) of this process and
// of each local postgres process.
type cpuSample struct {
	app int64
	pg  map[string]int64
}

// procTicks is the CPU time of process pid in clock ticks (10 ms).
func procTicks(pid string) int64 { return int64(procstat.CPU(pid) / (10 * time.Millisecond)) }

func sampleCPU() cpuSample {
	out := cpuSample{app: procTicks("self"), pg: map[string]int64{}}
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		if _, err := strconv.Atoi(d.Name()); err != nil {
			continue
		}
		if comm, err := os.ReadFile("/proc/" + d.Name() + "/comm"); err == nil && strings.TrimSpace(string(comm)) == "postgres" {
			out.pg[d.Name()] = procTicks(d.Name())
		}
	}
	return out
}

// since returns the ticks this process and postgres used between s0 and s
// (a postgres process born in between counts from zero).
func (s cpuSample) since(s0 cpuSample) (app, pg int64) {
	for pid, t := range s.pg {
		pg += t - s0.pg[pid]
	}
	return s.app - s0.app, pg
}

// lagSampler samples the largest projection lag (seconds) while running.
func lagSampler(ctx context.Context, m *app.Main) func() *Latencies {
	lat := &Latencies{}
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			rows, err := m.Pool.Query(ctx, `SELECT tx_id::text, position FROM projections WHERE state = 'live'`)
			if err != nil {
				continue
			}
			var cps []eventstore.Position
			for rows.Next() {
				var tx string
				var p eventstore.Position
				if rows.Scan(&tx, &p.Pos) == nil {
					p.Tx, _ = strconv.ParseUint(tx, 10, 64)
					cps = append(cps, p)
				}
			}
			rows.Close()
			var worst time.Duration
			for _, cp := range cps {
				if _, age, err := eventstore.Lag(ctx, m.Pool, cp, 10_000); err == nil && age > worst {
					worst = age
				}
			}
			mu.Lock()
			lat.Add(worst)
			mu.Unlock()
		}
	}()
	return func() *Latencies { <-done; mu.Lock(); defer mu.Unlock(); return lat }
}

// pgbenchTPS runs pgbench's TPC-B for d at clients connections on a fresh
// database of the same server: the raw transaction rate of this machine.
func pgbenchTPS(ctx context.Context, env *Env, clients int, d time.Duration) (float64, error) {
	cfg, err := pgx.ParseConfig(env.URL)
	if err != nil {
		return 0, err
	}
	bin, err := pgTool("pgbench")
	if err != nil {
		return 0, err
	}
	db := "pgbench_" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	admin, err := pgx.Connect(ctx, env.URL)
	if err != nil {
		return 0, err
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+db); err != nil {
		return 0, err
	}
	defer admin.Exec(context.WithoutCancel(ctx), `DROP DATABASE IF EXISTS `+db+` WITH (FORCE)`) //nolint:errcheck
	args := []string{"-h", cfg.Host, "-p", strconv.Itoa(int(cfg.Port)), "-U", cfg.User}
	if out, err := exec.CommandContext(ctx, bin, append(args, "-i", "-q", "-s", "10", db)...).CombinedOutput(); err != nil {
		return 0, fmt.Errorf("pgbench -i: %w: %s", err, out)
	}
	out, err := exec.CommandContext(ctx, bin, append(args, "-c", strconv.Itoa(clients), "-j", "2", "-T", strconv.Itoa(int(d.Seconds())), db)...).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pgbench: %w: %s", err, out)
	}
	m := regexp.MustCompile(`tps = ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("pgbench: no tps in %s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

// CheckoutOptions tune the checkout benchmark.
type CheckoutOptions struct {
	Duration     time.Duration // per concurrency level; default 60s
	Concurrency  []int         // default 1, 8, 32
	PgbenchLimit time.Duration // pgbench run length; default 15s
}

// Checkout runs closed-loop buyers (create cart → add 3 lines with wait →
// check out) at each concurrency, beside pgbench TPC-B on the same server.
func Checkout(ctx context.Context, env *Env, cfg app.Config, o CheckoutOptions) ([]Row, error) {
	if o.Duration <= 0 {
		o.Duration = 60 * time.Second
	}
	if len(o.Concurrency) == 0 {
		o.Concurrency = []int{1, 8, 32}
	}
	if o.PgbenchLimit <= 0 {
		o.PgbenchLimit = 15 * time.Second
	}
	m, stop, err := startServer(ctx, env, cfg)
	if err != nil {
		return nil, err
	}
	defer stop()
	env.Log.Info("bench: creating the checkout shop")
	if _, _, err := benchShop(ctx, m, "bench-checkout", 100, 3, func(int) int64 { return 10_000_000 }, false); err != nil {
		return nil, err
	}
	var rows []Row
	tps, err := pgbenchTPS(ctx, env, 32, o.PgbenchLimit)
	if err != nil {
		return nil, err
	}
	rows = append(rows, Row{Name: "pgbench TPC-B, 32 clients", Value: tps, Unit: "tps", Note: "same server, same run (ceiling of write transactions)"})
	skus := []string{}
	for p := 0; p < 100; p++ {
		for v := 0; v < 3; v++ {
			skus = append(skus, fmt.Sprintf("B%04d-%d", p, v))
		}
	}
	c := newClient("http://"+m.Addr(), "bench-checkout", 64)
	prev, err := sampleDB(ctx, env.Pool, statsSettle)
	if err != nil {
		return nil, err
	}
	for li, conc := range o.Concurrency {
		var onRate, onP50, offRate, offP50 float64
		// Each level twice in a row: requests as the API role (row-level
		// security, the default) and on the login role, to measure the
		// cost; which goes first alternates, so warm-up favours neither.
		order := []bool{true, false}
		if li%2 == 1 {
			order = []bool{false, true}
		}
		for _, rls := range order {
			label := ""
			if !rls {
				label = ", row-level security off"
			}
			env.Log.Info("bench: checkout", "concurrency", conc, "rls", rls)
			m.RLS.Set(rls)
			rctx, cancel := context.WithTimeout(ctx, o.Duration)
			lags := lagSampler(rctx, m)
			cpu0 := sampleCPU()
			start := time.Now()
			var orders atomic.Int64
			var failed atomic.Int64
			lats := make([]*stepLat, conc)
			var wg sync.WaitGroup
			var firstErr atomic.Value
			for i := 0; i < conc; i++ {
				lats[i] = &stepLat{}
				wg.Add(1)
				go func() {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(i), uint64(conc)))
					for rctx.Err() == nil {
						ok, err := buyOnce(rctx, c, rng, skus, lats[i])
						if err != nil {
							if rctx.Err() == nil {
								firstErr.CompareAndSwap(nil, err)
							}
							return
						}
						if ok {
							orders.Add(1)
						} else {
							failed.Add(1)
						}
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			cancel()
			m.RLS.Set(true)
			lag := lags()
			appTicks, pgTicks := sampleCPU().since(cpu0)
			if v := firstErr.Load(); v != nil {
				return nil, v.(error)
			}
			// The counters after the read models caught up: their writes
			// for these orders count here.
			cur, err := sampleDB(ctx, env.Pool, statsSettle)
			if err != nil {
				return nil, err
			}
			cost := cur.since(prev, orders.Load())
			walKinds := walByKind(ctx, env.Pool, prev.lsn, cur.lsn, orders.Load())
			prev = cur
			all := &stepLat{}
			for _, l := range lats {
				all.cart.Merge(&l.cart)
				all.add.Merge(&l.add)
				all.checkout.Merge(&l.checkout)
			}
			rate := float64(orders.Load()) / elapsed.Seconds()
			ticks := float64(appTicks + pgTicks)
			share := func(x int64) string {
				if ticks == 0 {
					return "-"
				}
				return fmt.Sprintf("%.0f%%", 100*float64(x)/ticks)
			}
			if !rls {
				offRate, offP50 = rate, ms(all.checkout.P(.5))
				rows = append(rows, Row{Name: fmt.Sprintf("checkout flow, concurrency %d%s", conc, label), Value: rate, Unit: "orders/s", Baseline: "pgbench TPC-B", Ratio: rate / tps,
					Note: fmt.Sprintf("%d orders, %d flows refused", orders.Load(), failed.Load())})
				continue
			}
			onRate, onP50 = rate, ms(all.checkout.P(.5))
			rows = append(rows,
				Row{Name: fmt.Sprintf("checkout flow, concurrency %d%s", conc, label), Value: rate, Unit: "orders/s", Baseline: "pgbench TPC-B", Ratio: rate / tps,
					Target: "≥ 500 orders/s", Note: fmt.Sprintf("%d orders, %d flows refused; CPU app %s / postgres %s", orders.Load(), failed.Load(), share(appTicks), share(pgTicks))},
				Row{Name: "  create cart p50/p95/p99", Value: ms(all.cart.P(.99)), Unit: "ms", Note: fmt.Sprintf("%.2f / %.2f / %.2f ms", ms(all.cart.P(.5)), ms(all.cart.P(.95)), ms(all.cart.P(.99)))},
				Row{Name: "  add line (wait) p50/p95/p99", Value: ms(all.add.P(.99)), Unit: "ms", Note: fmt.Sprintf("%.2f / %.2f / %.2f ms", ms(all.add.P(.5)), ms(all.add.P(.95)), ms(all.add.P(.99)))},
				Row{Name: "  checkout p50/p95/p99", Value: ms(all.checkout.P(.99)), Unit: "ms", Note: fmt.Sprintf("%.2f / %.2f / %.2f ms", ms(all.checkout.P(.5)), ms(all.checkout.P(.95)), ms(all.checkout.P(.99)))},
				Row{Name: "  projection lag p99 (worst model)", Value: ms(lag.P(.99)), Unit: "ms", Note: fmt.Sprintf("%d samples", lag.Len())},
				Row{Name: "  committed transactions per order", Value: cost.commits, Unit: "commits", Target: "≤ 12", Note: "pg_stat_database.xact_commit of the database (reads included)"},
				Row{Name: "  write transactions per order", Value: cost.writeTxs, Unit: "txs", Target: "≤ 12", Note: "transaction ids assigned on the server (pg_current_snapshot's xmax): transactions that wrote, the reads left out"},
				Row{Name: "  row writes per order", Value: cost.writes, Unit: "rows", Target: "≤ 40", Note: cost.top},
				Row{Name: "  WAL per order", Value: cost.walBytes / 1024, Unit: "KB", Target: "≤ 15 KB",
					Note: fmt.Sprintf("the server's WAL position (other databases' and autovacuum's writes included); %.1f full-page images", cost.fpi)},
				Row{Name: "  WAL per order by kind", Value: cost.walBytes / 1024, Unit: "KB", Note: walKinds},
				Row{Name: "  CPU per order, app / postgres", Value: 10 * float64(appTicks+pgTicks) / float64(max(orders.Load(), 1)), Unit: "ms",
					Note: fmt.Sprintf("%.2f / %.2f ms (during the run)", 10*float64(appTicks)/float64(max(orders.Load(), 1)), 10*float64(pgTicks)/float64(max(orders.Load(), 1)))},
			)
		}
		rows = append(rows, Row{Name: fmt.Sprintf("  row-level security on / off, concurrency %d", conc), Value: onRate / offRate, Unit: "× orders/s",
			Baseline: "RLS off, same run", Ratio: onRate / offRate, Note: fmt.Sprintf("checkout p50 %.2f / %.2f ms", onP50, offP50)})
	}
	return rows, nil
}

// FlashOptions tune the flash-sale benchmark.
type FlashOptions struct {
	Buyers      int // default 10,000
	Stock       int64
	Concurrency int           // default 200
	ColdClients int           // default 4
	ColdIdle    time.Duration // default 10s
}

// Flashsale sends Buyers buyers (Concurrency at a time) at one hot SKU with
// Stock units, each adding one and checking out when reserved, while a few
// clients keep adding other SKUs to carts; it checks that exactly the stock
// sold and compares the cold decisions' p99 with the same cold load alone.
func Flashsale(ctx context.Context, env *Env, cfg app.Config, o FlashOptions) ([]Row, error) {
	if o.Buyers <= 0 {
		o.Buyers = 10_000
	}
	if o.Stock <= 0 {
		o.Stock = 1000
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 200
	}
	if o.ColdClients <= 0 {
		o.ColdClients = 4
	}
	if o.ColdIdle <= 0 {
		o.ColdIdle = 10 * time.Second
	}
	m, stopServer, err := startServer(ctx, env, cfg)
	if err != nil {
		return nil, err
	}
	var stopOnce sync.Once
	stop := func() { stopOnce.Do(stopServer) }
	defer stop()
	env.Log.Info("bench: creating the flash-sale shop")
	t, skus, err := benchShop(ctx, m, "bench-flash", 51, 1, func(p int) int64 {
		if p == 0 {
			return o.Stock
		}
		return 10_000_000
	}, true)
	if err != nil {
		return nil, err
	}
	hotSKU, cold := skus[0], skus[1:]
	c := newClient("http://"+m.Addr(), "bench-flash", o.Concurrency+o.ColdClients*2)
	tps, err := pgbenchTPS(ctx, env, 32, 15*time.Second)
	if err != nil {
		return nil, err
	}
	coldLoad := func(ctx context.Context) (*Latencies, error) {
		lat := &Latencies{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		var firstErr atomic.Value
		for i := 0; i < o.ColdClients; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(i), 3))
				for ctx.Err() == nil {
					var cart struct{ ID, Token string }
					if _, err := c.do(ctx, "POST", "/carts", "", nil, &cart); err != nil {
						if ctx.Err() == nil {
							firstErr.CompareAndSwap(nil, err)
						}
						return
					}
					t0 := time.Now()
					if _, err := c.do(ctx, "POST", "/carts/"+cart.ID+"/items?wait=5000", cart.Token, map[string]any{"sku": cold[rng.IntN(len(cold))], "quantity": 1}, nil); err != nil {
						if ctx.Err() == nil {
							firstErr.CompareAndSwap(nil, err)
						}
						return
					}
					mu.Lock()
					lat.Add(time.Since(t0))
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if v := firstErr.Load(); v != nil {
			return nil, v.(error)
		}
		return lat, nil
	}
	env.Log.Info("bench: cold traffic alone")
	ictx, cancel := context.WithTimeout(ctx, o.ColdIdle)
	idle, err := coldLoad(ictx)
	cancel()
	if err != nil {
		return nil, err
	}
	env.Log.Info("bench: flash sale", "buyers", o.Buyers, "stock", o.Stock)
	cctx, cancelCold := context.WithCancel(ctx)
	coldDone := make(chan struct{})
	var busy *Latencies
	var coldErr error
	go func() { defer close(coldDone); busy, coldErr = coldLoad(cctx) }()
	var next, sold, reserved, rejected atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	start := time.Now()
	for i := 0; i < o.Concurrency; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(o.Buyers) {
				var cart struct{ ID, Token string }
				if _, err := c.do(ctx, "POST", "/carts", "", nil, &cart); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				var line struct {
					Reservation struct{ Status string } `json:"reservation"`
				}
				if _, err := c.do(ctx, "POST", "/carts/"+cart.ID+"/items?wait=5000", cart.Token, map[string]any{"sku": hotSKU, "quantity": 1}, &line); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				switch line.Reservation.Status {
				case "reserved":
					reserved.Add(1)
					code, err := c.do(ctx, "POST", "/carts/"+cart.ID+"/checkout", cart.Token, checkoutBody("cod"), nil)
					if err != nil {
						firstErr.CompareAndSwap(nil, err)
						return
					}
					if code == http.StatusCreated {
						sold.Add(1)
					}
				case "rejected":
					rejected.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cancelCold()
	<-coldDone
	if v := firstErr.Load(); v != nil {
		return nil, v.(error)
	}
	if coldErr != nil {
		return nil, coldErr
	}
	hot, err := reservations.SummarizeHot(ctx, m.Pool, t)
	if err != nil {
		return nil, err
	}
	decided, first, last, committed := hot.Decided, hot.First, hot.Last, hot.Committed
	window := last.Sub(first).Seconds()
	if window <= 0 {
		window = elapsed.Seconds()
	}
	decRate := float64(decided) / window
	over := committed - o.Stock
	if over < 0 {
		over = 0
	}
	stop()
	env.Log.Info("bench: hot lane drain", "requests", o.Buyers)
	drained, drainTime, err := hotDrain(ctx, env, cfg, o.Buyers, o.Stock)
	if err != nil {
		return nil, err
	}
	drainRate := float64(drained) / drainTime.Seconds()
	return []Row{
		{Name: "pgbench TPC-B, 32 clients", Value: tps, Unit: "tps", Note: "same server, same run"},
		{Name: fmt.Sprintf("flash sale: %d buyers, stock %d, concurrency %d", o.Buyers, o.Stock, o.Concurrency), Value: float64(sold.Load()), Unit: "sold",
			Target: fmt.Sprintf("= %d", o.Stock), Note: fmt.Sprintf("%d reserved, %d rejected, %.1f s", reserved.Load(), rejected.Load(), elapsed.Seconds())},
		{Name: "  oversold units", Value: float64(over), Unit: "units", Target: "0", Note: fmt.Sprintf("%d units committed to orders", committed)},
		{Name: "  hot reservation decisions", Value: decRate, Unit: "decisions/s", Baseline: "pgbench TPC-B", Ratio: decRate / tps, Target: "≥ 5,000/s",
			Note: fmt.Sprintf("%d decisions in %.2f s", decided, window)},
		{Name: "  hot lane drain (requests queued first)", Value: drainRate, Unit: "decisions/s", Baseline: "pgbench TPC-B", Ratio: drainRate / tps,
			Target: "≥ 5,000/s", Note: fmt.Sprintf("%d decisions in %.2f s", drained, drainTime.Seconds())},
		{Name: "cold add-to-cart p99, idle", Value: ms(idle.P(.99)), Unit: "ms", Note: fmt.Sprintf("p50 %.2f ms, %d requests", ms(idle.P(.5)), idle.Len())},
		{Name: "cold add-to-cart p99, during the sale", Value: ms(busy.P(.99)), Unit: "ms", Baseline: "idle p99", Ratio: ms(busy.P(.99)) / ms(idle.P(.99)),
			Target: "≤ 2×", Note: fmt.Sprintf("p50 %.2f ms, %d requests", ms(busy.P(.5)), busy.Len())},
	}, nil
}

// hotDrain measures the hot lane alone: n buyers' add-to-cart requests on
// one hot SKU are recorded while no worker runs, then a worker starts and
// decides the backlog; it returns how many it decided and how long it took.
func hotDrain(ctx context.Context, env *Env, cfg app.Config, n int, stock int64) (int64, time.Duration, error) {
	cfg.Roles = app.Roles{API: true}
	m, stop, err := startServer(ctx, env, cfg)
	if err != nil {
		return 0, 0, err
	}
	defer stop()
	t, skus, err := benchShop(ctx, m, "bench-drain", 1, 1, func(int) int64 { return stock }, true)
	if err != nil {
		return 0, 0, err
	}
	var next atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) && ctx.Err() == nil {
				by := commands.By{Actor: "bench", CommandID: uuid.Must(uuid.NewV7())}
				c, _, err := m.Commands.CreateCart(ctx, commands.CreateCart{Tenant: t, By: by})
				if err == nil {
					by.CommandID = uuid.Must(uuid.NewV7())
					_, _, err = m.Commands.AddToCart(ctx, commands.AddToCart{Tenant: t, By: by, Cart: c.Cart, Token: c.Token, SKU: skus[0], Quantity: 1})
				}
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if v := firstErr.Load(); v != nil {
		return 0, 0, v.(error)
	}
	w := m.Commands.NewReservationWorker(reservations.Options{Logger: env.Log})
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	go w.Run(wctx) //nolint:errcheck // ends with wctx
	for {
		next := w.Decided()
		decided, err := reservations.CountHotDecided(ctx, m.Pool, t)
		if err != nil {
			return 0, 0, err
		}
		if decided >= int64(n) {
			return decided, time.Since(start), nil
		}
		select {
		case <-ctx.Done():
			return 0, 0, ctx.Err()
		case <-next:
		case <-time.After(time.Second): // a lane still waiting for its lock
		}
	}
}
