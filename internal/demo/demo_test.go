package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/apitest"
	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/demo"
	"github.com/honten/honten/internal/pgtest"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/projections/ledger"
	"github.com/honten/honten/projections/orderviews"
)

func TestCatalogIsDeterministicAndLarge(t *testing.T) {
	t.Parallel()
	a, b := demo.Catalog(1), demo.Catalog(1)
	require.Equal(t, a, b)
	require.GreaterOrEqual(t, len(a), 1000)
	handles := map[string]bool{}
	skus := map[string]bool{}
	japanese := 0
	for _, p := range a {
		require.False(t, handles[p.Handle], p.Handle)
		handles[p.Handle] = true
		for _, v := range p.Variants {
			require.False(t, skus[v.SKU], v.SKU)
			skus[v.SKU] = true
			require.Positive(t, v.Price)
			require.Zero(t, v.Price%10, "prices are in tens of yen")
		}
		for _, r := range p.Title {
			if r > 0x3000 {
				japanese++
				break
			}
		}
	}
	require.Greater(t, japanese, len(a)/2)
	require.NotEqual(t, a, demo.Catalog(2))
}

// The demo store loads, the storefront shows it, and rebuilding every read
// model (twice) reproduces identical rows.
func TestDemoLoadAndRebuildAllReproduceReadModels(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apitest.New(t)
	loaded, err := demo.Load(ctx, env.Main.Commands, nil, nil)
	require.NoError(t, err)
	require.Equal(t, demo.ProductCount, loaded.Products)
	require.Equal(t, 10, loaded.Orders)
	_, err = demo.Load(ctx, env.Main.Commands, nil, nil)
	require.ErrorIs(t, err, demo.ErrAlreadyLoaded)

	head, err := eventstore.Head(ctx, env.Main.Pool)
	require.NoError(t, err)
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	require.NoError(t, env.Main.Runner.WaitFor(wctx, head))

	token := env.SignIn(t, demo.ShopCode, demo.OwnerEmail, loaded.OwnerPassword)
	resp := env.Do(t, apitest.Req{Method: "GET", Path: "/api/v1/admin/stores", Token: token})
	require.Equal(t, 200, resp.Status)
	require.Contains(t, string(resp.Body), "大阪倉庫")
	env.Settle(t)
	for _, st := range []string{"pending_payment", "pending_shipment", "shipped", "completed", "cancelled"} {
		resp = env.Do(t, apitest.Req{Method: "GET", Path: "/api/v1/admin/orders?status=" + st, Token: token})
		require.Equal(t, 200, resp.Status)
		var orders struct {
			Items []map[string]any `json:"items"`
		}
		resp.JSON(t, &orders)
		require.Len(t, orders.Items, 2, "two demo orders are %s", st)
	}
	resp = env.Do(t, apitest.Req{Method: "GET", Path: "/api/v1/store/products?limit=200&category=food"})
	require.Equal(t, 200, resp.Status, "the only shop is the storefront's default")
	var list struct {
		Items []map[string]any `json:"items"`
	}
	resp.JSON(t, &list)
	require.Len(t, list.Items, 200)

	dump := func() projections.Dump {
		d, err := env.Main.Runner.DumpModels(ctx)
		require.NoError(t, err)
		return d
	}
	// The sign-in above appended events: let the models apply them first.
	head, err = eventstore.Head(ctx, env.Main.Pool)
	require.NoError(t, err)
	wctx2, cancel2 := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel2()
	require.NoError(t, env.Main.Runner.WaitFor(wctx2, head))
	first := dump()
	require.Greater(t, first.Count(), 1000)
	for round := 0; round < 2; round++ {
		for _, m := range env.Main.Runner.Models() {
			require.NoError(t, env.Main.Runner.Rebuild(ctx, m, nil))
		}
		require.Empty(t, first.Diff(dump(), 20), "rebuild %d", round+1)
	}
}

// A process started on a log its read models have not applied yet (here
// the whole demo store, loaded before the process ran) is not ready until
// they have; the first product created once /readyz says ready is created,
// not a 404 from a read model still catching up.
func TestFirstCreateAfterReadyIsCreated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.NewURL(t)
	cfg, err := app.ConfigFromEnv()
	require.NoError(t, err)
	cfg.DatabaseURL = url
	loader := app.New(cfg)
	require.NoError(t, loader.Open(ctx))
	loaded, err := demo.Load(ctx, loader.Commands, nil, nil)
	loader.Close()
	require.NoError(t, err)

	// The default read-your-writes wait, as `make run` has it.
	env := apitest.NewWith(t, apitest.Options{DatabaseURL: url, ConsistencyWait: 2 * time.Second})
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(3 * time.Minute)
	for env.Do(t, apitest.Req{Method: "GET", Path: "/readyz"}).Status != 200 {
		select {
		case <-deadline:
			t.Fatal("not ready after 3 minutes")
		case <-tick.C:
		}
	}
	token := env.SignIn(t, demo.ShopCode, demo.OwnerEmail, loaded.OwnerPassword)
	resp := env.Do(t, apitest.Req{Method: "POST", Path: "/api/v1/admin/products", Token: token, Body: map[string]any{
		"title": "開店記念トートバッグ", "handle": "opening-tote", "status": "active",
		"variants": []map[string]any{{"sku": "OPEN-TOTE-1", "title": "Natural", "price": map[string]string{"amount": "2200", "currency": "JPY"}}},
	}})
	require.Equal(t, 201, resp.Status, string(resp.Body))
}

// The demo mall loads as on `make run` (before any process serves the
// database): its trial balance sums to zero, each vendor has ledger lines,
// one payout run exists with one payout recorded, and its orders are in
// every state. Loading again adds nothing.
func TestMallDemoLoadsALedgerWithAPayoutRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg, err := app.ConfigFromEnv()
	require.NoError(t, err)
	cfg.DatabaseURL = pgtest.NewURL(t)
	m := app.New(cfg)
	t.Cleanup(m.Close)
	require.NoError(t, m.Open(ctx))
	loaded, err := demo.LoadMall(ctx, m.Commands, m.Runner, nil)
	require.NoError(t, err)
	require.Equal(t, 3, loaded.Vendors)
	require.Equal(t, 9, loaded.Products)
	require.Len(t, loaded.Staff, 4, "the owner and one vendor staff per vendor")
	_, err = demo.LoadMall(ctx, m.Commands, m.Runner, nil)
	require.ErrorIs(t, err, demo.ErrAlreadyLoaded)
	require.NoError(t, m.Runner.CatchUp(ctx, projections.Model(ledger.Name)))
	require.NoError(t, m.Runner.CatchUp(ctx, projections.Model(orderviews.Name)))

	tb, err := ledger.GetTrialBalance(ctx, m.Pool, loaded.Tenant, nil)
	require.NoError(t, err)
	require.Len(t, tb.Totals, 1)
	require.True(t, tb.Totals[0].Debit.Equal(tb.Totals[0].Credit), "debits %s, credits %s", tb.Totals[0].Debit, tb.Totals[0].Credit)
	accounts := map[string]string{}
	for _, a := range tb.Accounts {
		if a.Vendor == nil {
			accounts[a.Account] = a.Balance.AmountString()
		}
	}
	require.Equal(t, "-1000", accounts["refunds:due"], "the overpaid transfer")

	balances, err := ledger.ListVendorBalances(ctx, m.Pool, loaded.Tenant, nil, projections.Page{Limit: 10})
	require.NoError(t, err)
	require.Len(t, balances.Items, 3)
	paid := 0
	for _, b := range balances.Items {
		require.True(t, b.Receivable.IsPositive())
		require.True(t, b.Commission.IsPositive())
		require.True(t, b.Payable.IsPositive() || b.Paid.IsPositive(), "released funds")
		if b.Paid.IsPositive() {
			paid++
		}
		entries, err := ledger.ListEntries(ctx, m.Pool, loaded.Tenant, b.Vendor, projections.Page{Limit: 5})
		require.NoError(t, err)
		require.NotEmpty(t, entries.Items)
	}
	require.Equal(t, 1, paid, "one payout recorded")

	runs, err := ledger.ListRuns(ctx, m.Pool, loaded.Tenant, projections.Page{Limit: 10})
	require.NoError(t, err)
	require.Len(t, runs.Items, 1)
	require.Equal(t, loaded.Run.UUID, runs.Items[0].ID)
	require.Len(t, runs.Items[0].Items, 3, "every vendor has released funds and a payout account")
	recorded := 0
	for _, it := range runs.Items[0].Items {
		if it.Paid {
			recorded++
		}
	}
	require.Equal(t, 1, recorded)

	want := map[string]int{"pending_payment": 2, "pending_shipment": 2, "partially_shipped": 1, "shipped": 1, "completed": 4, "cancelled": 1}
	got := map[string]int{}
	payments := map[string]int{}
	orders, err := orderviews.List(ctx, m.Pool, loaded.Tenant, orderviews.Filter{}, projections.Page{Limit: 50})
	require.NoError(t, err)
	for _, o := range orders.Items {
		got[o.Status]++
		if o.PaymentStatus != nil {
			payments[o.PaymentMethod+":"+*o.PaymentStatus]++
		}
	}
	require.Equal(t, want, got)
	require.Equal(t, 1, payments["bank_transfer:partially_paid"])
}
