// Package chaos proves crash safety: it runs `honten serve` as a child
// process, drives a mixed shop load at it over HTTP (carts, add-to-cart,
// checkouts retried with their Idempotency-Key, bank transfers confirmed,
// parcels shipped and delivered, cash on delivery, price changes, stock
// adjustments), kills the process with SIGKILL at random moments and starts
// it again, restarts PostgreSQL once, and then verifies on the settled
// database what a crash must never break (see Verify).
//
// `honten chaos` and the package's tests share this code. It imports the
// application's wiring (internal/app) for the set-up and the checks; the
// load itself only speaks HTTP.
package chaos

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/app"
)

// Options tune a run.
type Options struct {
	// Duration of the load; default 60s.
	Duration time.Duration
	// Kills is how many times the server is SIGKILLed, at random moments
	// spread over the load; default 5.
	Kills int
	// RestartDB, when set, restarts PostgreSQL once, midway.
	RestartDB func(ctx context.Context) error
	// RestartDBName names what RestartDB does, for the report.
	RestartDBName string
	// Buyers is the number of concurrent buyers; default 6.
	Buyers int
	// Binary is the honten binary; empty means build one from Root.
	Binary string
	// Root is the module root (for the build).
	Root string
	// DatabaseURL names the database to run on (created empty or migrated).
	DatabaseURL string
	// Dir holds the binary and the server log; empty means a temporary directory.
	Dir string
	// Seed makes the load's choices repeatable (the timing is not).
	Seed uint64
	// Products × Variants SKUs of Stock units each; defaults 20 × 2 × 30.
	Products, Variants int
	Stock              int64
	Log                *slog.Logger
}

func (o *Options) defaults() {
	if o.Duration <= 0 {
		o.Duration = time.Minute
	}
	if o.Kills <= 0 {
		o.Kills = 5
	}
	if o.Buyers <= 0 {
		o.Buyers = 6
	}
	if o.Products <= 0 {
		o.Products = 20
	}
	if o.Variants <= 0 {
		o.Variants = 2
	}
	if o.Stock <= 0 {
		o.Stock = 30
	}
	if o.Seed == 0 {
		o.Seed = uint64(time.Now().UnixNano())
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
}

// Report is what a run did and found.
type Report struct {
	Duration                  time.Duration
	Requests, Retries, GaveUp int64
	Acks, Positions           int64
	Kills, Starts, Crashes    int
	DBRestarts                int
	DBRestartName             string
	Carts, Lines, Reserved    int64
	Rejected                  int64
	Orders, Replays, Refused  int64
	StuckKeys                 int64
	Payments, Shipped         int64
	Delivered, CODPaid        int64
	PriceEdits, StockEdits    int64
	Unexpected                int64
	Failures                  []string
	SettleTime, VerifyTime    time.Duration
	Checks                    []Check
	ServerLog                 string
}

// Passed reports whether every check passed.
func (r Report) Passed() bool {
	if len(r.Checks) == 0 {
		return false
	}
	for _, c := range r.Checks {
		if !c.OK {
			return false
		}
	}
	return true
}

// Print writes the report as text.
func (r Report) Print(w io.Writer) {
	fmt.Fprintf(w, "chaos run: %s of load, %d SIGKILLs (%d starts, %d exits on its own), PostgreSQL restarts: %d (%s)\n",
		r.Duration.Round(time.Second), r.Kills, r.Starts, r.Crashes, r.DBRestarts, r.DBRestartName)
	fmt.Fprintf(w, "  requests %d (retries %d, gave up %d), writes acknowledged %d (%d with a position)\n", r.Requests, r.Retries, r.GaveUp, r.Acks, r.Positions)
	fmt.Fprintf(w, "  carts %d, lines %d (reserved %d, refused %d), orders %d (+%d deliberate replays, %d checkouts refused, %d stuck keys)\n",
		r.Carts, r.Lines, r.Reserved, r.Rejected, r.Orders, r.Replays, r.Refused, r.StuckKeys)
	fmt.Fprintf(w, "  payments confirmed %d, shipped %d, delivered %d, COD collected %d, price edits %d, stock adjustments %d\n",
		r.Payments, r.Shipped, r.Delivered, r.CODPaid, r.PriceEdits, r.StockEdits)
	fmt.Fprintf(w, "  unexpected answers %d; settled in %s, verified in %s\n", r.Unexpected, r.SettleTime.Round(time.Millisecond), r.VerifyTime.Round(time.Millisecond))
	for _, f := range r.Failures {
		fmt.Fprintf(w, "    ! %s\n", f)
	}
	passed := 0
	for _, c := range r.Checks {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
		} else {
			passed++
		}
		fmt.Fprintf(w, "  [%s] %s — %s\n", mark, c.Name, c.Detail)
	}
	fmt.Fprintf(w, "  checks passed: %d/%d\n", passed, len(r.Checks))
}

// Run runs the load with kills and restarts, settles, and verifies. An
// error means the run could not be carried out; broken invariants are
// failed Checks in the report.
func Run(ctx context.Context, o Options) (Report, error) {
	o.defaults()
	log := o.Log
	rep := Report{DBRestartName: o.RestartDBName}
	if o.Dir == "" {
		dir, err := os.MkdirTemp("", "honten-chaos-")
		if err != nil {
			return rep, err
		}
		defer os.RemoveAll(dir)
		o.Dir = dir
	}
	if o.Binary == "" {
		log.Info("chaos: building honten")
		bin, err := Build(ctx, o.Root, o.Dir)
		if err != nil {
			return rep, err
		}
		o.Binary = bin
	}

	// The shop, and a connection for the checks, in this process.
	cfg, err := app.ConfigFromEnv()
	if err != nil {
		return rep, err
	}
	cfg.DatabaseURL, cfg.Migrate, cfg.LogLevel, cfg.DBMaxConns = o.DatabaseURL, true, slog.LevelWarn, 10
	m := app.New(cfg)
	defer m.Close()
	if err := m.Open(ctx); err != nil {
		return rep, err
	}
	shop, err := SetupShop(ctx, m.Commands, fmt.Sprintf("chaos-%d", o.Seed%100000), o.Products, o.Variants, o.Stock)
	if err != nil {
		return rep, fmt.Errorf("chaos: shop: %w", err)
	}

	addr, err := FreeAddr()
	if err != nil {
		return rep, err
	}
	srv := &Process{Name: "honten", Binary: o.Binary, Roles: "api,projectors,workers", Addr: addr, DatabaseURL: o.DatabaseURL,
		LogPath: filepath.Join(o.Dir, "server.log"), Log: log}
	rep.ServerLog = srv.LogPath
	if err := srv.Start(); err != nil {
		return rep, err
	}
	defer srv.Stop(15 * time.Second)
	// The server is ready and has applied the shop.
	head, err := eventstore.Head(ctx, m.Pool)
	if err != nil {
		return rep, err
	}
	rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	err = srv.WaitReady(rctx)
	if err == nil {
		err = m.Runner.WaitFor(rctx, head)
	}
	cancel()
	if err != nil {
		return rep, err
	}

	load := &Load{Client: NewClient("http://"+addr, shop.Code), Shop: shop, Log: log}
	lctx, stopLoad := context.WithTimeout(ctx, o.Duration)
	defer stopLoad()
	start := time.Now()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); load.Run(lctx, o.Buyers, o.Seed) }()

	// Kills: one at a random moment in each of Kills equal slots of the
	// first 90% of the run; PostgreSQL restarts once, in the middle slot.
	rng := rand.New(rand.NewPCG(o.Seed, 7))
	slot := o.Duration * 9 / 10 / time.Duration(o.Kills)
	var chaosErr error
	for i := 0; i < o.Kills && lctx.Err() == nil; i++ {
		at := o.Duration/20 + time.Duration(i)*slot + time.Duration(rng.Int64N(int64(slot*8/10)))
		if err := waitUntil(lctx, start.Add(at)); err != nil {
			break
		}
		// Each kill hits a server that came up since the previous one, or
		// one still starting when the machine is slow.
		readyWithin(ctx, srv, 5*time.Second)
		if srv.Kill() {
			rep.Kills++
		}
		log.Info("chaos: killed the server", "kill", rep.Kills, "at", time.Since(start).Round(time.Millisecond).String())
		if err := srv.Start(); err != nil {
			chaosErr = err
			break
		}
		if o.RestartDB != nil && rep.DBRestarts == 0 && i == o.Kills/2 {
			// PostgreSQL goes away under a server that is up and busy.
			readyWithin(ctx, srv, 10*time.Second)
			if err := waitUntil(lctx, time.Now().Add(slot/10)); err != nil {
				break
			}
			log.Info("chaos: restarting PostgreSQL", "how", o.RestartDBName)
			if err := o.RestartDB(ctx); err != nil {
				chaosErr = fmt.Errorf("chaos: restart PostgreSQL: %w", err)
				break
			}
			rep.DBRestarts++
		}
	}
	<-lctx.Done()
	wg.Wait()
	rep.Duration = time.Since(start)
	rep.Starts, _, rep.Crashes = srv.Counts()
	fill(&rep, load)
	if chaosErr != nil {
		return rep, chaosErr
	}

	// Settle with the server up, then verify.
	if err := srv.Start(); err != nil {
		return rep, err
	}
	t0 := time.Now()
	sctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	if err := srv.WaitReady(sctx); err != nil {
		return rep, err
	}
	if err := Settle(sctx, m.Pool, m.Runner, m.Handlers(), shop); err != nil {
		return rep, err
	}
	rep.SettleTime = time.Since(t0)
	t1 := time.Now()
	rep.Checks = Verify(ctx, m.Pool, m.Runner, shop, load)
	rep.VerifyTime = time.Since(t1)
	rep.Starts, _, rep.Crashes = srv.Counts()
	return rep, nil
}

func fill(rep *Report, l *Load) {
	c, s := l.Client, &l.Stats
	rep.Requests, rep.Retries, rep.GaveUp, rep.Acks = c.Requests.Load(), c.Retries.Load(), c.GaveUp.Load(), c.Acks.Load()
	rep.Positions, rep.StuckKeys = int64(len(c.Positions())), c.Stuck.Load()
	rep.Carts, rep.Lines, rep.Reserved, rep.Rejected = s.Carts.Load(), s.Lines.Load(), s.Reserved.Load(), s.Rejected.Load()
	rep.Orders, rep.Replays, rep.Refused = s.Checkouts.Load(), s.Replays.Load(), s.CheckoutsRefused.Load()
	rep.Payments, rep.Shipped, rep.Delivered, rep.CODPaid = s.Payments.Load(), s.Shipped.Load(), s.Delivered.Load(), s.CODPaid.Load()
	rep.PriceEdits, rep.StockEdits, rep.Unexpected = s.PriceEdits.Load(), s.StockEdits.Load(), s.Errors.Load()
	rep.Failures = l.Failures()
}

// readyWithin waits up to d for srv to be ready.
func readyWithin(ctx context.Context, srv *Process, d time.Duration) {
	rctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	_ = srv.WaitReady(rctx)
}

// waitUntil waits until t or ctx ends.
func waitUntil(ctx context.Context, t time.Time) error {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
