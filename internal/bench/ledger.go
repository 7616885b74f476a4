package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/shopspring/decimal"
	"golang.org/x/sync/errgroup"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/catalog"
	domledger "github.com/honten/honten/domain/ledger"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/payment"
	"github.com/honten/honten/domain/payout"
	"github.com/honten/honten/domain/shipment"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/feedcost"
	"github.com/honten/honten/internal/progress"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/projections/ledger"
)

// LedgerOptions tune the payout ledger benchmark.
type LedgerOptions struct {
	Vendors  int           // vendors of the mall; default 2,000
	Entries  int           // ledger entries at least; default 1,000,000
	BigLines int           // statement lines of the big vendor at least; default 100,000
	Duration time.Duration // per phase; default 5s
	Clients  []int         // closed-loop clients per phase; default 1 and 8
}

// ledgerMall is the benchmark mall's code.
const ledgerMall = "bench-mall"

// Ledger measures the payout ledger of a large mall: o.Vendors vendors
// created through the commands, then at least o.Entries ledger entries'
// worth of order, payment, shipment and payout events appended through the
// event store and the ledger rebuilt from them by replay (one "big" vendor
// has o.BigLines statement lines). It then measures, over loopback HTTP as
// the mall's owner, GET /payouts (first page, a cursor page) and a
// vendor's entries (first page, a page from the middle) at each client
// count beside the handlers' own SQL run bare through pgx in the same run;
// and the big vendor's statement (CSV and JSON), whole and a tenth of it,
// with the process's heap while it streams.
func Ledger(ctx context.Context, env *Env, cfg app.Config, o LedgerOptions) ([]Row, error) {
	if o.Vendors <= 1 {
		o.Vendors = 2000
	}
	if o.Entries <= 0 {
		o.Entries = 1_000_000
	}
	if o.BigLines <= 0 {
		o.BigLines = 100_000
	}
	if o.Duration <= 0 {
		o.Duration = 5 * time.Second
	}
	if len(o.Clients) == 0 {
		o.Clients = []int{1, 8}
	}
	var rows []Row

	// 1. The mall, its owner and its vendors, through the commands.
	m, stop, err := startServer(ctx, env, cfg)
	if err != nil {
		return nil, err
	}
	mall, vendors, rates, err := ledgerMallSetup(ctx, env, m, o.Vendors)
	if err != nil {
		stop()
		return nil, err
	}
	if err := m.Runner.WaitFor(ctx, mustHead(ctx, m.Pool)); err != nil {
		stop()
		return nil, err
	}
	stop()

	// 2. The history, through the event store, with no process running.
	store := eventstore.New(env.Pool, app.Registry())
	start := time.Now()
	gen, err := generateLedger(ctx, env, store, mall, vendors, rates, o)
	if err != nil {
		return nil, err
	}
	took := time.Since(start)
	rows = append(rows, Row{Name: "load: events appended through the event store", Value: float64(gen.events) / took.Seconds(), Unit: "events/s",
		Note: fmt.Sprintf("%d events in %.1f s: %d orders, %d payouts, %d vendors", gen.events, took.Seconds(), gen.orders, gen.payouts, len(vendors))})

	// The synthesized orders are decided history: the policies and the
	// reservation lanes are moved past them, and so are the read models
	// other than the ledger (they are not measured here).
	head, err := eventstore.Head(ctx, env.Pool)
	if err != nil {
		return nil, err
	}
	for _, q := range []string{
		`UPDATE worker_checkpoints SET tx_id = $1::text::xid8, position = $2`,
		`UPDATE watermill_offsets_events SET last_processed_transaction_id = $1::text::xid8, offset_acked = $2`,
		`UPDATE projections SET tx_id = $1::text::xid8, position = $2 WHERE state = 'live' AND model <> '` + projections.Model(ledger.Name) + `'`,
	} {
		if _, err := env.Pool.Exec(ctx, q, head.TxText(), head.Pos); err != nil {
			return nil, err
		}
	}

	// 3. The ledger rebuilt by replay.
	var total int64
	if err := env.Pool.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&total); err != nil {
		return nil, err
	}
	rcfg := cfg
	rcfg.DatabaseURL = env.URL
	rcfg.LogLevel = slog.LevelWarn
	rb := app.New(rcfg)
	if err := rb.Open(ctx); err != nil {
		return nil, err
	}
	env.Log.Info("bench: rebuilding the ledger", "events", total)
	start = time.Now()
	err = rb.Runner.Rebuild(ctx, projections.Model(ledger.Name), progress.New("rebuild ledger", "events", env.Log))
	rb.Close()
	if err != nil {
		return nil, err
	}
	took = time.Since(start)
	var entries, bigEntries, bigLines int64
	if err := env.Pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE vendor_id = $2),
  count(*) FILTER (WHERE vendor_id = $2 AND account IN ('vendor:held', 'vendor:payable'))
FROM ledger_entries WHERE tenant_id = $1`, mall, gen.big).Scan(&entries, &bigEntries, &bigLines); err != nil {
		return nil, err
	}
	if entries != gen.entries {
		return nil, fmt.Errorf("bench ledger: the ledger holds %d entries, the generator posted %d", entries, gen.entries)
	}
	rows = append(rows,
		Row{Name: "rebuild of the ledger by replay", Value: float64(total) / took.Seconds(), Unit: "events/s",
			Note: fmt.Sprintf("%d events in %.1f s (index build, analyse and swap included)", total, took.Seconds())},
		Row{Name: "  ledger entries written", Value: float64(entries) / took.Seconds(), Unit: "entries/s",
			Note: fmt.Sprintf("%d entries; the big vendor %d (%d statement lines)", entries, bigEntries, bigLines)})
	var schema string
	if err := env.Pool.QueryRow(ctx, `SELECT schema_name FROM projections WHERE model = $1 AND state = 'live'`, projections.Model(ledger.Name)).Scan(&schema); err != nil {
		return nil, err
	}
	// At rest, autovacuum has visited the tables; the rebuild has only
	// analysed them.
	for _, t := range []string{"ledger_entries", "ledger_balances"} {
		if _, err := env.Pool.Exec(ctx, `VACUUM (ANALYZE) `+pgx.Identifier{schema, t}.Sanitize()); err != nil {
			return nil, err
		}
	}

	// 4. Reads over HTTP beside their bare SQL.
	m, stop, err = startServer(ctx, env, cfg)
	if err != nil {
		return nil, err
	}
	defer stop()
	base := "http://" + m.Addr() + "/api/v1/admin"
	hc := &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}}
	token, err := signIn(ctx, hc, base, ledgerMall, ledgerOwner, ledgerPassword)
	if err != nil {
		return nil, err
	}
	reads, err := ledgerReads(ctx, env, hc, base, token, mall, gen)
	if err != nil {
		return nil, err
	}
	for _, r := range reads {
		for _, generic := range []bool{false, true} {
			p, err := feedcost.Explain(ctx, env.Pool, r.plan, generic)
			if err != nil {
				return nil, err
			}
			mode := "custom"
			if generic {
				mode = "generic"
			}
			var scans []string
			for _, s := range p.Scans {
				scans = append(scans, fmt.Sprintf("%s: %s %s; cond %s; filter %s", s.Relation, s.Node, s.Index, s.Cond, s.Filter))
			}
			rows = append(rows, Row{Name: fmt.Sprintf("plan: %s (%s plan)", r.sqlName, mode), Value: float64(p.Buffers), Unit: "buffers",
				Note: strings.Join(scans, " | ")})
		}
	}
	for _, c := range o.Clients {
		for _, r := range reads {
			env.Log.Info("bench: bare select", "phase", r.name, "clients", c)
			sqlLat, sqlRate, err := measure(ctx, c, o.Duration, func(rng *rand.Rand) error { return r.sql(ctx, rng) })
			if err != nil {
				return nil, fmt.Errorf("%s, bare: %w", r.name, err)
			}
			env.Log.Info("bench: http", "phase", r.name, "clients", c)
			lat, rate, err := measure(ctx, c, o.Duration, func(rng *rand.Rand) error { return r.http(ctx, rng) })
			if err != nil {
				return nil, fmt.Errorf("%s: %w", r.name, err)
			}
			target := ""
			if c == 8 {
				target = "p99 ≤ 50 ms"
			}
			rows = append(rows,
				Row{Name: fmt.Sprintf("bare SELECT: %s, %d client(s)", r.sqlName, c), Value: ms(sqlLat.P(.99)), Unit: "ms p99",
					Note: fmt.Sprintf("p50 %.2f ms, %.0f q/s", ms(sqlLat.P(.5)), sqlRate)},
				Row{Name: fmt.Sprintf("GET %s, %d client(s)", r.name, c), Value: ms(lat.P(.99)), Unit: "ms p99", Baseline: "bare SELECT p99",
					Ratio: ms(lat.P(.99)) / ms(sqlLat.P(.99)), Target: target, Note: fmt.Sprintf("p50 %.2f ms, %.0f req/s", ms(lat.P(.5)), rate)})
		}
	}

	// 5. Statements.
	st, err := ledgerStatements(ctx, env, hc, base, token, mall, gen.big)
	if err != nil {
		return nil, err
	}
	return append(rows, st...), nil
}

const (
	ledgerOwner    = "owner@bench-mall.example.jp"
	ledgerPassword = "correct horse battery"
)

// ledgerMallSetup creates the mall, its owner and n vendors (in parallel)
// through the commands, and returns the vendors and their commission rates.
func ledgerMallSetup(ctx context.Context, env *Env, m *app.Main, n int) (tenant.ID, []uuid.UUID, []decimal.Decimal, error) {
	by := commands.By{Actor: "bench"}
	created, _, err := m.Commands.CreateTenant(ctx, commands.CreateTenant{By: by, Code: ledgerMall, Name: "ベンチモール", Type: "mall"})
	if err != nil {
		return tenant.ID{}, nil, nil, err
	}
	t := created.Tenant
	if _, _, err := m.Commands.InviteStaff(ctx, commands.InviteStaff{Tenant: t, By: by, ByRole: "owner", Email: ledgerOwner, Name: "店主",
		Role: "owner", Password: ledgerPassword}); err != nil {
		return t, nil, nil, err
	}
	env.Log.Info("bench: creating vendors", "vendors", n)
	bar := progress.New("bench: vendors", "vendors", env.Log)
	bar.Total(int64(n))
	vendors := make([]uuid.UUID, n)
	rates := make([]decimal.Decimal, n)
	choices := []decimal.Decimal{decimal.RequireFromString("0.05"), decimal.RequireFromString("0.08"), decimal.RequireFromString("0.1"), decimal.RequireFromString("0.15")}
	var next atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	for range 8 {
		g.Go(func() error {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				rates[i] = choices[i%len(choices)]
				id, _, err := m.Commands.CreateVendor(gctx, commands.CreateVendor{Tenant: t, By: commands.By{Actor: "bench", CommandID: uuid.Must(uuid.NewV7())},
					Name: fmt.Sprintf("出店者 %04d", i), CommissionRate: rates[i]})
				if err != nil {
					return fmt.Errorf("vendor %d: %w", i, err)
				}
				vendors[i] = id.UUID
				bar.Add(1)
			}
			return nil
		})
	}
	err = g.Wait()
	bar.Done()
	return t, vendors, rates, err
}

// ledgerHistory is what generateLedger appended.
type ledgerHistory struct {
	events, entries int64
	orders, payouts int
	big             uuid.UUID // the vendor with the most entries
	bigLines        int64     // its statement lines (held and payable)
}

// ledgerOrder is one generated order: its events by stream, in order, and
// what the ledger will post for it.
type ledgerOrder struct {
	streams []ledgerStream
	entries int64
	lines   map[uuid.UUID]int64       // statement lines per vendor
	nets    map[uuid.UUID]releasedNet // the net released per vendor
	events  int64
}

type releasedNet struct {
	at  time.Time
	net decimal.Decimal
}

type ledgerStream struct {
	s   eventstore.Stream
	evs []eventstore.Event
}

// ledgerGen makes the orders of a mall: every one paid by bank transfer in
// full and settled, each vendor's part shipped and delivered, and released
// once its return window ended before now.
type ledgerGen struct {
	t       tenant.ID
	vendors []uuid.UUID
	rates   []decimal.Decimal
	pBig    float64
	now     time.Time
}

// order makes order number i placed at at, drawing from rng.
func (g ledgerGen) order(rng *rand.Rand, i int, at time.Time) (ledgerOrder, error) {
	k := 1 + rng.IntN(3) // vendors in the order: 1–3
	var picked []int
	if rng.Float64() < g.pBig {
		picked = append(picked, 0)
	}
	for len(picked) < k {
		v := 1 + rng.IntN(len(g.vendors)-1)
		dup := false
		for _, p := range picked {
			dup = dup || p == v
		}
		if !dup {
			picked = append(picked, v)
		}
	}
	oid := order.NewID()
	pid := payment.NewID()
	var lines []order.Line
	var priced []order.Priced
	for _, v := range picked {
		rate := g.rates[v]
		tr := catalog.TaxStandard
		if rng.IntN(5) == 0 {
			tr = catalog.TaxReduced
		}
		l := order.Line{ID: uuid.Must(uuid.NewV7()), Variant: uuid.Must(uuid.NewV7()), Product: uuid.Must(uuid.NewV7()), Vendor: g.vendors[v],
			SKU: fmt.Sprintf("V%04d-%d", v, rng.IntN(50)), Title: "ベンチ商品", Quantity: int64(1 + rng.IntN(3)),
			UnitPrice: money.MustNew(decimal.NewFromInt(int64(500+100*rng.IntN(100))), money.JPY), TaxRate: tr,
			FulfillmentType: catalog.FulfillmentPhysical, Reservation: uuid.Must(uuid.NewV7()), CommissionRate: &rate}
		lines = append(lines, l)
		priced = append(priced, order.Priced{UnitPrice: l.UnitPrice, Quantity: l.Quantity, TaxRate: l.TaxRate})
	}
	shipping := money.MustNew(decimal.NewFromInt(800), money.JPY)
	totals, err := order.ComputeTotals(money.JPY, priced, shipping, money.Zero(money.JPY), true, money.RoundFloor)
	if err != nil {
		return ledgerOrder{}, err
	}
	sale := domledger.Sale{Lines: lines, Totals: totals, Rounding: money.RoundFloor}
	recognised, err := domledger.Recognised(sale)
	if err != nil {
		return ledgerOrder{}, err
	}
	parts, err := sale.Parts()
	if err != nil {
		return ledgerOrder{}, err
	}
	paid := at.Add(time.Duration(1+rng.IntN(48)) * time.Hour)
	out := ledgerOrder{lines: map[uuid.UUID]int64{}, nets: map[uuid.UUID]releasedNet{}}
	out.streams = append(out.streams,
		ledgerStream{eventstore.Stream{Tenant: g.t, Type: order.StreamType, ID: oid.UUID}, []eventstore.Event{order.Placed{ID: oid,
			Number: fmt.Sprintf("B%08d", i), Cart: uuid.Must(uuid.NewV7()), Customer: order.Customer{Email: "buyer@example.jp", Name: "ベンチ 太郎", Phone: "09012345678"},
			ShipTo:        order.Address{PostalCode: "1000001", Prefecture: "東京都", City: "千代田区", Line1: "千代田1-1"},
			PaymentMethod: order.PaymentBankTransfer, Payment: pid.UUID, Lines: lines, Totals: totals, Tax: order.TaxTerms{PricesIncludeTax: true, Rounding: money.RoundFloor},
			Status: order.StatusPendingPayment, At: at}}},
		ledgerStream{eventstore.Stream{Tenant: g.t, Type: payment.StreamType, ID: pid.UUID}, []eventstore.Event{
			payment.Received{Amount: totals.Total, ReceivedAt: paid, Reference: "ベンチ", By: "bench", At: paid},
			payment.Settled{Received: totals.Total, At: paid}}})
	out.entries = 2 // the transfer received
	for _, l := range recognised {
		if !l.Debit.IsZero() || !l.Credit.IsZero() {
			out.entries++
		}
		if l.Account == domledger.VendorHeld {
			out.lines[l.Vendor]++
		}
	}
	for _, p := range parts {
		sid := shipment.IDFor(oid.UUID, p.Vendor)
		delivered := paid.Add(time.Duration(24+rng.IntN(72)) * time.Hour)
		until := delivered.Add(shipment.LegacyHold)
		evs := []eventstore.Event{
			shipment.Created{ID: sid, Order: oid.UUID, Vendor: p.Vendor, Lines: []shipment.Line{}, CODAmount: money.Zero(money.JPY), At: paid},
			shipment.Delivered{HoldUntil: &until, At: delivered},
		}
		if until.Before(g.now) {
			evs = append(evs, shipment.FundsReleased{At: until})
			out.entries += 2
			out.lines[p.Vendor] += 2
			out.nets[p.Vendor] = releasedNet{at: until, net: p.Net.Amount()}
		}
		out.streams = append(out.streams, ledgerStream{eventstore.Stream{Tenant: g.t, Type: shipment.StreamType, ID: sid.UUID}, evs})
	}
	for _, s := range out.streams {
		out.events += int64(len(s.evs))
	}
	return out, nil
}

// generateLedger appends the mall's orders, month by month over the last
// year (four writers, 100 orders per transaction), until the ledger they
// post has o.Entries entries and the big vendor o.BigLines statement
// lines; after each month, each vendor is paid what became payable in it.
func generateLedger(ctx context.Context, env *Env, store *eventstore.Store, t tenant.ID, vendors []uuid.UUID, rates []decimal.Decimal, o LedgerOptions) (ledgerHistory, error) {
	const perEntry = 14 // entries an order posts, on average (1–3 vendors: 4 + 5 per vendor)
	expected := int(float64(o.Entries)/perEntry) + 1
	// The big vendor's part posts 3 statement lines; its monthly payouts one each.
	pBig := min(0.95, float64(o.BigLines)/3/float64(expected))
	now := time.Now().UTC().Truncate(time.Second)
	first := now.AddDate(-1, 0, -20)
	g := ledgerGen{t: t, vendors: vendors, rates: rates, pBig: pBig, now: now}
	h := ledgerHistory{big: vendors[0]}
	md := eventstore.Metadata{Tenant: t, Actor: "bench"}
	rng := rand.New(rand.NewPCG(7, 77))
	step := 365 * 24 * time.Hour / time.Duration(expected)
	owed := map[uuid.UUID]decimal.Decimal{} // released, not paid yet, by vendor
	pending := []releasedNet{}              // released later than the month being paid
	pendingVendor := []uuid.UUID{}
	payoutsOf := map[uuid.UUID]int64{}
	bar := progress.New("bench: ledger history", "entries", env.Log)
	bar.Total(int64(o.Entries))
	defer bar.Done()
	i := 0
	for month := first; ; month = month.AddDate(0, 1, 0) {
		end := month.AddDate(0, 1, 0)
		last := !end.Before(now)
		// This month's orders, in transactions of 100, four at a time.
		var batch [][]ledgerOrder
		for ; ; i++ {
			at := first.Add(time.Duration(i) * step)
			done := h.entries >= int64(o.Entries) && h.bigLines >= int64(o.BigLines)
			if done || (!at.Before(end) && !last) {
				break
			}
			if !at.Before(now.Add(-time.Hour)) {
				at = now.Add(-time.Hour) // more orders than a year holds: the rest arrive last
			}
			if h.entries >= int64(o.Entries) {
				g.pBig = 1
			}
			lo, err := g.order(rng, i, at)
			if err != nil {
				return h, err
			}
			if len(batch) == 0 || len(batch[len(batch)-1]) == 100 {
				batch = append(batch, nil)
			}
			batch[len(batch)-1] = append(batch[len(batch)-1], lo)
			h.orders++
			h.entries += lo.entries
			h.bigLines += lo.lines[h.big]
			h.events += lo.events
			for v, r := range lo.nets {
				pending = append(pending, r)
				pendingVendor = append(pendingVendor, v)
			}
		}
		var next atomic.Int64
		eg, gctx := errgroup.WithContext(ctx)
		for range 4 {
			eg.Go(func() error {
				for b := int(next.Add(1)) - 1; b < len(batch); b = int(next.Add(1)) - 1 {
					_, err := store.Do(gctx, func(ctx context.Context, tx *eventstore.Tx) error {
						for _, lo := range batch[b] {
							for _, s := range lo.streams {
								if _, err := tx.Append(ctx, s.s, 0, s.evs, md); err != nil {
									return err
								}
							}
						}
						return nil
					})
					if err != nil {
						return err
					}
					var n int64
					for _, lo := range batch[b] {
						n += lo.entries
					}
					bar.Add(n)
				}
				return nil
			})
		}
		if err := eg.Wait(); err != nil {
			return h, err
		}
		// Payouts of what became payable this month (paid on the 5th).
		keep := pending[:0]
		keepVendor := pendingVendor[:0]
		for k, r := range pending {
			if r.at.Before(end) {
				owed[pendingVendor[k]] = owed[pendingVendor[k]].Add(r.net)
				continue
			}
			keep, keepVendor = append(keep, r), append(keepVendor, pendingVendor[k])
		}
		pending, pendingVendor = keep, keepVendor
		paidAt := end.AddDate(0, 0, 4)
		if paidAt.Before(now) && len(owed) > 0 {
			_, err := store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
				for _, v := range vendors {
					amount, ok := owed[v]
					if !ok || !amount.IsPositive() {
						continue
					}
					ev := payout.Recorded{ID: payout.ID{UUID: uuid.Must(uuid.NewV7())}, Vendor: v, Amount: money.MustNew(amount, money.JPY),
						PaidAt: paidAt, Reference: "BENCH-" + end.Format("200601"), At: paidAt}
					if _, err := tx.Append(ctx, eventstore.Stream{Tenant: t, Type: payout.StreamType, ID: payout.StreamOf(v)}, payoutsOf[v], []eventstore.Event{ev}, md); err != nil {
						return err
					}
					payoutsOf[v]++
					h.payouts++
					h.events++
					h.entries += 2
					if v == h.big {
						h.bigLines++
					}
					bar.Add(2)
				}
				return nil
			})
			if err != nil {
				return h, err
			}
			clear(owed)
		}
		// The last month's orders run until both counts are reached.
		if h.entries >= int64(o.Entries) && h.bigLines >= int64(o.BigLines) {
			return h, nil
		}
	}
}

// ledgerRead is one measured read: over HTTP and as bare SQL.
type ledgerRead struct {
	name, sqlName string
	plan          feedcost.Query // the bare statement at its costliest arguments
	http          func(ctx context.Context, rng *rand.Rand) error
	sql           func(ctx context.Context, rng *rand.Rand) error
}

// sqlCall is one SQL statement with its arguments.
type sqlCall struct {
	sql  string
	args []any
}

// recorder is an eventstore.Querier that runs every statement on q and
// keeps the last query it ran: the bare baseline runs exactly what the
// read model's function runs.
type recorder struct {
	q    eventstore.Querier
	last sqlCall
}

func (r *recorder) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	r.last = sqlCall{sql, args}
	return r.q.Query(ctx, sql, args...)
}

func (r *recorder) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	r.last = sqlCall{sql, args}
	return r.q.QueryRow(ctx, sql, args...)
}

func (r *recorder) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	r.last = sqlCall{sql, args}
	return r.q.Exec(ctx, sql, args...)
}

// entryCursor is the entries list's sort key, as its cursor carries it.
type entryCursor struct {
	Tx  string `json:"x"`
	Pos int64  `json:"p"`
	Seq int    `json:"s"`
}

// ledgerReads prepares the measured reads: the cursors of the middle of
// the vendor list and of each vendor's entries, and the statements the
// read model runs for each (recorded by calling it once).
func ledgerReads(ctx context.Context, env *Env, hc *http.Client, base, token string, t tenant.ID, h ledgerHistory) ([]ledgerRead, error) {
	first := projections.Page{Limit: projections.DefaultLimit}
	var mid uuid.UUID
	if err := env.Pool.QueryRow(ctx, `SELECT vendor_id FROM ledger_balances WHERE tenant_id = $1 AND vendor_id <> $2
GROUP BY vendor_id ORDER BY vendor_id OFFSET (SELECT count(DISTINCT vendor_id) / 2 FROM ledger_balances WHERE tenant_id = $1) LIMIT 1`, t, uuid.Nil).Scan(&mid); err != nil {
		return nil, fmt.Errorf("middle vendor: %w", err)
	}
	rows, err := env.Pool.Query(ctx, `SELECT vendor_id, tx_id::text, position, seq FROM (
  SELECT vendor_id, tx_id, position, seq, row_number() OVER w AS n, count(*) OVER (PARTITION BY vendor_id) AS total
  FROM ledger_entries WHERE tenant_id = $1 AND vendor_id <> $2
  WINDOW w AS (PARTITION BY vendor_id ORDER BY tx_id, position, seq)) x
WHERE n = greatest(total / 2, 1)`, t, uuid.Nil)
	if err != nil {
		return nil, err
	}
	type middle struct {
		vendor        uuid.UUID
		cursor        string
		first, middle sqlCall
	}
	mids, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (middle, error) {
		var x middle
		var c entryCursor
		err := r.Scan(&x.vendor, &c.Tx, &c.Pos, &c.Seq)
		x.cursor = projections.EncodeCursor(c)
		return x, err
	})
	if err != nil {
		return nil, fmt.Errorf("middle cursors: %w", err)
	}
	if len(mids) == 0 {
		return nil, errors.New("bench ledger: no entries")
	}
	rec := &recorder{q: env.Pool}
	record := func(call func() error) (sqlCall, error) {
		err := call()
		return rec.last, err
	}
	var big middle
	for i, x := range mids {
		if mids[i].first, err = record(func() error {
			_, err := ledger.ListEntries(ctx, rec, t, x.vendor, first)
			return err
		}); err != nil {
			return nil, err
		}
		if mids[i].middle, err = record(func() error {
			_, err := ledger.ListEntries(ctx, rec, t, x.vendor, projections.Page{Limit: first.Limit, Cursor: x.cursor})
			return err
		}); err != nil {
			return nil, err
		}
		if x.vendor == h.big {
			big = mids[i]
		}
	}
	midCursor := projections.EncodeCursor(mid)
	balFirst, err := record(func() error { _, err := ledger.ListVendorBalances(ctx, rec, t, nil, first); return err })
	if err != nil {
		return nil, err
	}
	balMid, err := record(func() error {
		_, err := ledger.ListVendorBalances(ctx, rec, t, nil, projections.Page{Limit: first.Limit, Cursor: midCursor})
		return err
	})
	if err != nil {
		return nil, err
	}
	get := func(ctx context.Context, path string) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := hc.Do(req)
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
	bare := func(ctx context.Context, s sqlCall) error { return drain(env.Pool.Query(ctx, s.sql, s.args...)) }
	plan := func(name string, s sqlCall) feedcost.Query {
		return feedcost.Query{Feed: name, SQL: s.sql, Args: s.args}
	}
	pick := func(rng *rand.Rand) middle { return mids[rng.IntN(len(mids))] }
	esc := url.QueryEscape
	return []ledgerRead{
		{name: "/payouts (first page)", sqlName: "vendor balances, first page", plan: plan("balances", balFirst),
			http: func(ctx context.Context, _ *rand.Rand) error { return get(ctx, "/payouts") },
			sql:  func(ctx context.Context, _ *rand.Rand) error { return bare(ctx, balFirst) }},
		{name: "/payouts?cursor= (page from the middle)", sqlName: "vendor balances after a cursor", plan: plan("balances after", balMid),
			http: func(ctx context.Context, _ *rand.Rand) error { return get(ctx, "/payouts?cursor="+esc(midCursor)) },
			sql:  func(ctx context.Context, _ *rand.Rand) error { return bare(ctx, balMid) }},
		{name: "/payouts/{random vendor}/entries (first page)", sqlName: "entries of a random vendor, first page", plan: plan("entries", big.first),
			http: func(ctx context.Context, rng *rand.Rand) error {
				return get(ctx, "/payouts/"+pick(rng).vendor.String()+"/entries")
			},
			sql: func(ctx context.Context, rng *rand.Rand) error { return bare(ctx, pick(rng).first) }},
		{name: "/payouts/{random vendor}/entries?cursor= (middle)", sqlName: "entries of a random vendor after a cursor", plan: plan("entries after", big.middle),
			http: func(ctx context.Context, rng *rand.Rand) error {
				x := pick(rng)
				return get(ctx, "/payouts/"+x.vendor.String()+"/entries?cursor="+esc(x.cursor))
			},
			sql: func(ctx context.Context, rng *rand.Rand) error { return bare(ctx, pick(rng).middle) }},
		{name: "/payouts/{big vendor}/entries?cursor= (middle)", sqlName: "entries of the big vendor after a cursor", plan: plan("big entries after", big.middle),
			http: func(ctx context.Context, _ *rand.Rand) error {
				return get(ctx, "/payouts/"+big.vendor.String()+"/entries?cursor="+esc(big.cursor))
			},
			sql: func(ctx context.Context, _ *rand.Rand) error { return bare(ctx, big.middle) }},
	}, nil
}

// signIn opens an admin session and returns its bearer token.
func signIn(ctx context.Context, hc *http.Client, base, shop, email, password string) (string, error) {
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/session", strings.NewReader(string(body)))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Tenant", shop)
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		Token string `json:"token"`
	}
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(resp.Body)
		return "", fmt.Errorf("sign in: %d %s", resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", err
	}
	return out.Token, nil
}

// heapWatch samples the process's heap objects every 2 ms until stopped
// (live and garbage not yet swept: the process's footprint) and returns
// their peak above what they were when started, after a collection.
func heapWatch() func() uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	base := read()
	var peak uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			peak = max(peak, read())
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 {
		close(stop)
		wg.Wait()
		if peak < base {
			return 0
		}
		return peak - base
	}
}

// heapAfterGC returns the heap in use after two collections.
func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// ledgerStatements streams the big vendor's statement, CSV and JSON, whole
// and its first tenth, each twice: once for its time, size, rate and heap
// peak; once stopping to read at a tenth and at nine tenths of the body,
// where, with the server blocked on the full socket, what the stream holds
// is the heap after a collection less the heap before the request.
func ledgerStatements(ctx context.Context, env *Env, hc *http.Client, base, token string, t tenant.ID, big uuid.UUID) ([]Row, error) {
	var lines int64
	if err := env.Pool.QueryRow(ctx, `SELECT count(*) FROM ledger_entries WHERE tenant_id = $1 AND vendor_id = $2 AND account IN ('vendor:held', 'vendor:payable')`,
		t, big).Scan(&lines); err != nil {
		return nil, err
	}
	// The tenth: lines before the date of the line at 10 %.
	var tenthAt time.Time
	if err := env.Pool.QueryRow(ctx, `SELECT at FROM ledger_entries WHERE tenant_id = $1 AND vendor_id = $2 AND account IN ('vendor:held', 'vendor:payable')
ORDER BY at OFFSET $3 LIMIT 1`, t, big, lines/10).Scan(&tenthAt); err != nil {
		return nil, err
	}
	var tenth int64
	if err := env.Pool.QueryRow(ctx, `SELECT count(*) FROM ledger_entries WHERE tenant_id = $1 AND vendor_id = $2 AND account IN ('vendor:held', 'vendor:payable') AND at < $3`,
		t, big, tenthAt).Scan(&tenth); err != nil {
		return nil, err
	}
	stream := func(path string) (took, firstByte time.Duration, size int64, heap, alloc uint64, err error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if err != nil {
			return
		}
		req.Header.Set("Authorization", "Bearer "+token)
		done := heapWatch()
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		start := time.Now()
		resp, err := hc.Do(req)
		if err != nil {
			done()
			return
		}
		size, err = io.Copy(io.Discard, firstByteReader{r: resp.Body, start: start, first: &firstByte})
		resp.Body.Close()
		took = time.Since(start)
		heap = done()
		runtime.ReadMemStats(&ms1)
		alloc = ms1.TotalAlloc - ms0.TotalAlloc
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("GET %s: %d", path, resp.StatusCode)
		}
		return
	}
	// held reads the body of path, stopping at a tenth and nine tenths of
	// its size to read the heap the stream holds.
	held := func(path string, size int64) (at10, at90 uint64, err error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if err != nil {
			return 0, 0, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		before := heapAfterGC()
		resp, err := hc.Do(req)
		if err != nil {
			return 0, 0, err
		}
		defer resp.Body.Close()
		at := func(n int64) (uint64, error) {
			if _, err := io.CopyN(io.Discard, resp.Body, n); err != nil {
				return 0, err
			}
			time.Sleep(300 * time.Millisecond) // the socket fills; the server blocks in Write
			h := heapAfterGC()
			if h < before {
				return 0, nil
			}
			return h - before, nil
		}
		if at10, err = at(size / 10); err != nil {
			return 0, 0, err
		}
		if at90, err = at(size*9/10 - size/10); err != nil {
			return 0, 0, err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		return at10, at90, err
	}
	var rows []Row
	var tenthPeak uint64
	for _, format := range []string{"statement.csv", "statement"} {
		for _, whole := range []bool{false, true} {
			path := "/payouts/" + big.String() + "/" + format
			n, label := tenth, "a tenth"
			if whole {
				n, label = lines, "whole"
			} else {
				path += "?to=" + url.QueryEscape(tenthAt.Format(time.RFC3339Nano))
			}
			env.Log.Info("bench: statement", "format", format, "lines", n)
			took, first, size, peak, alloc, err := stream(path)
			if err != nil {
				return nil, err
			}
			at10, at90, err := held(path, size)
			if err != nil {
				return nil, err
			}
			rows = append(rows,
				Row{Name: fmt.Sprintf("GET /payouts/{big}/%s, %s (%d lines)", format, label, n), Value: float64(n) / took.Seconds(), Unit: "lines/s",
					Note: fmt.Sprintf("%.2f s, first byte %.0f ms, %.1f MB; %.2f kB allocated per line", took.Seconds(), ms(first), float64(size)/1e6, float64(alloc)/float64(n)/1e3)},
				Row{Name: "  held by the stream at 10 % / 90 % of the body (after GC)", Value: float64(at90) / 1e6, Unit: "MB", Baseline: "at 10 %",
					Target: "constant memory", Note: fmt.Sprintf("at 10 %%: %.2f MB", float64(at10)/1e6)})
			peakRow := Row{Name: "  heap peak while streaming (objects, collected as the GC goes)", Value: float64(peak) / 1e6, Unit: "MB"}
			if whole {
				peakRow.Baseline, peakRow.Ratio = "a tenth", float64(peak)/float64(max(tenthPeak, 1))
			} else {
				tenthPeak = peak
			}
			rows = append(rows, peakRow)
		}
	}
	return rows, nil
}

// firstByteReader notes when the first byte of a body arrives.
type firstByteReader struct {
	r     io.Reader
	start time.Time
	first *time.Duration
}

func (f firstByteReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if n > 0 && *f.first == 0 {
		*f.first = time.Since(f.start)
	}
	return n, err
}
