package http_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/apitest"
)

// stockLevel is a row of GET /inventory and the answer to an adjustment.
type stockLevel struct {
	VariantID  string `json:"variant_id"`
	SKU        string `json:"sku"`
	ProductID  string `json:"product_id"`
	VendorID   string `json:"vendor_id"`
	LocationID string `json:"location_id"`
	OnHand     int64  `json:"on_hand"`
	Reserved   int64  `json:"reserved"`
	Available  int64  `json:"available"`
}

type stockList struct {
	Items      []stockLevel `json:"items"`
	NextCursor *string      `json:"next_cursor"`
}

// createProduct creates a product with the given SKUs through the command
// layer (vendor nil: the shop's own) and returns its variant ids by SKU.
func createProduct(t *testing.T, env *apitest.Env, tn tenant.ID, vendor *uuid.UUID, skus ...string) map[string]string {
	t.Helper()
	ctx := context.Background()
	var in []commands.VariantInput
	for _, s := range skus {
		in = append(in, commands.VariantInput{SKU: s, Price: money.MustNew(decimal.NewFromInt(1500), money.JPY)})
	}
	_, _, err := env.Main.Commands.CreateProduct(ctx, commands.CreateProduct{Tenant: tn, By: commands.By{Actor: "test"}, Vendor: vendor, Title: "Product " + skus[0], Variants: in})
	require.NoError(t, err)
	out := map[string]string{}
	for _, s := range skus {
		v, err := commands.VariantBySKU(ctx, env.Main.Pool, tn, s)
		require.NoError(t, err)
		out[s] = v.String()
	}
	return out
}

// inventoryEvents counts the events of a variant's inventory stream.
func inventoryEvents(t *testing.T, env *apitest.Env, tn tenant.ID, variant string) int {
	t.Helper()
	envs, err := env.Main.Store.Load(context.Background(), env.Main.Pool, tn, uuid.MustParse(variant))
	require.NoError(t, err)
	return len(envs)
}

func adjust(t *testing.T, env *apitest.Env, token string, body any, header ...string) apitest.Response {
	t.Helper()
	h := map[string]string{}
	for i := 0; i+1 < len(header); i += 2 {
		h[header[i]] = header[i+1]
	}
	return env.Do(t, req{Method: "POST", Path: "/api/v1/admin/inventory/adjustments", Token: token, Body: body, Header: h})
}

func listStock(t *testing.T, env *apitest.Env, token, query string) stockList {
	t.Helper()
	resp := env.Do(t, req{Method: "GET", Path: "/api/v1/admin/inventory" + query, Token: token})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	var l stockList
	resp.JSON(t, &l)
	return l
}

func TestInventoryAdjustments(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	shop := env.Shop(t, "uji-tea", "single_brand", false)
	vs := createProduct(t, env, shop.Tenant, nil, "TEA-1", "TEA-2")
	loc := shop.Created.Location.String()

	// By SKU and delta, at the default location.
	resp := adjust(t, env, shop.Token, map[string]any{"sku": "tea-1", "delta": 10, "reason": "delivery"})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	require.NotEmpty(t, resp.Header.Get("X-Event-Position"))
	require.Equal(t, `"1"`, resp.Header.Get("ETag"))
	var got stockLevel
	resp.JSON(t, &got)
	require.Equal(t, stockLevel{VariantID: vs["TEA-1"], SKU: "TEA-1", ProductID: got.ProductID, VendorID: shop.Created.Vendor.String(),
		LocationID: loc, OnHand: 10, Reserved: 0, Available: 10}, got)

	// By variant id and set, at a named location.
	resp = adjust(t, env, shop.Token, map[string]any{"variant_id": vs["TEA-1"], "location_id": loc, "set": 4, "reason": "stocktake"})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	resp.JSON(t, &got)
	require.Equal(t, []int64{4, 0, 4}, []int64{got.OnHand, got.Reserved, got.Available})
	require.Equal(t, `"2"`, resp.Header.Get("ETag"))

	// Setting the same count again changes nothing.
	resp = adjust(t, env, shop.Token, map[string]any{"sku": "TEA-1", "set": 4, "reason": "recount"})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	require.Empty(t, resp.Header.Get("X-Event-Position"))
	require.Equal(t, 2, inventoryEvents(t, env, shop.Tenant, vs["TEA-1"]))

	// Never below zero: a 409 problem that says why.
	resp = adjust(t, env, shop.Token, map[string]any{"sku": "TEA-1", "delta": -5, "reason": "damaged"})
	require.Equal(t, http.StatusConflict, resp.Status, string(resp.Body))
	require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	p := resp.Map(t)
	require.Equal(t, "stock_below_reserved", p["code"])
	require.Contains(t, p["detail"], "4 on hand and 0 reserved")
	require.Equal(t, float64(4), p["on_hand"])
	require.Equal(t, float64(0), p["reserved"])
	require.Equal(t, loc, p["location_id"])
	require.Equal(t, 2, inventoryEvents(t, env, shop.Tenant, vs["TEA-1"]))

	resp = adjust(t, env, shop.Token, map[string]any{"sku": "TEA-2", "set": 0, "reason": "listed"})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))

	// The list, its filters and pages.
	all := listStock(t, env, shop.Token, "")
	require.Len(t, all.Items, 2)
	require.Equal(t, []string{"TEA-1", "TEA-2"}, []string{all.Items[0].SKU, all.Items[1].SKU})
	require.Equal(t, int64(4), all.Items[0].OnHand)
	page1 := listStock(t, env, shop.Token, "?limit=1")
	require.Len(t, page1.Items, 1)
	require.NotNil(t, page1.NextCursor)
	page2 := listStock(t, env, shop.Token, "?limit=1&cursor="+*page1.NextCursor)
	require.Equal(t, all.Items, append(page1.Items, page2.Items...))
	require.Nil(t, page2.NextCursor)
	require.Len(t, listStock(t, env, shop.Token, "?sku=tea-2").Items, 1)
	require.Len(t, listStock(t, env, shop.Token, "?variant_id="+vs["TEA-1"]+"&location_id="+loc).Items, 1)
	require.Empty(t, listStock(t, env, shop.Token, "?location_id="+uuid.Must(uuid.NewV7()).String()).Items)
	for _, q := range []string{"?location_id=x", "?variant_id=1", "?sku=no%20pe", "?limit=0", "?limit=201", "?vendor_id=nope"} {
		resp := env.Do(t, req{Method: "GET", Path: "/api/v1/admin/inventory" + q, Token: shop.Token})
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s: %s", q, resp.Body)
	}
	resp = env.Do(t, req{Method: "GET", Path: "/api/v1/admin/inventory?cursor=garbage!", Token: shop.Token})
	require.Equal(t, http.StatusBadRequest, resp.Status)

	// Bad requests are 4xx problems naming the field; nothing is written.
	unknownLoc := uuid.Must(uuid.NewV7()).String()
	for _, c := range []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"float delta", `{"sku":"TEA-1","delta":1.5,"reason":"x"}`, 400, "delta"},
		{"float-looking integer", `{"sku":"TEA-1","delta":2.0,"reason":"x"}`, 400, "delta"},
		{"exponent", `{"sku":"TEA-1","delta":1e3,"reason":"x"}`, 400, "delta"},
		{"string delta", `{"sku":"TEA-1","delta":"3","reason":"x"}`, 400, "delta"},
		{"string set", `{"sku":"TEA-1","set":"3","reason":"x"}`, 400, "set"},
		{"beyond int64", `{"sku":"TEA-1","delta":99999999999999999999,"reason":"x"}`, 400, "delta"},
		{"beyond the maximum", `{"sku":"TEA-1","delta":9007199254740993,"reason":"x"}`, 422, "delta"},
		{"set beyond the maximum", `{"sku":"TEA-1","set":1000000001,"reason":"x"}`, 422, "set"},
		{"negative set", `{"sku":"TEA-1","set":-1,"reason":"x"}`, 422, "set"},
		{"zero delta", `{"sku":"TEA-1","delta":0,"reason":"x"}`, 422, "delta"},
		{"both delta and set", `{"sku":"TEA-1","delta":1,"set":1,"reason":"x"}`, 422, "delta"},
		{"neither delta nor set", `{"sku":"TEA-1","reason":"x"}`, 422, "delta"},
		{"both sku and variant", map[string]any{"sku": "TEA-1", "variant_id": vs["TEA-1"], "delta": 1, "reason": "x"}, 422, "sku"},
		{"neither sku nor variant", `{"delta":1,"reason":"x"}`, 422, "sku"},
		{"empty sku", `{"sku":"","delta":1,"reason":"x"}`, 422, "sku"},
		{"unknown sku", `{"sku":"NOPE-9","delta":1,"reason":"x"}`, 422, "sku"},
		{"malformed variant id", `{"variant_id":"42","delta":1,"reason":"x"}`, 422, "variant_id"},
		{"unknown variant id", map[string]any{"variant_id": uuid.Must(uuid.NewV7()).String(), "delta": 1, "reason": "x"}, 404, ""},
		{"malformed location", `{"sku":"TEA-1","location_id":"main","delta":1,"reason":"x"}`, 422, "location_id"},
		{"unknown location", map[string]any{"sku": "TEA-1", "location_id": unknownLoc, "delta": 1, "reason": "x"}, 422, "location_id"},
		{"no reason", `{"sku":"TEA-1","delta":1}`, 422, "reason"},
		{"unknown field", `{"sku":"TEA-1","delta":1,"reason":"x","quantity":1}`, 400, "quantity"},
		{"not an object", `[1]`, 400, ""},
		{"null body", `null`, 422, "sku"},
	} {
		resp := adjust(t, env, shop.Token, c.body)
		require.Equal(t, c.status, resp.Status, "%s: %s", c.name, resp.Body)
		require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"), c.name)
		if c.field != "" {
			var prob struct {
				Errors []struct {
					Field string `json:"field"`
				} `json:"errors"`
			}
			resp.JSON(t, &prob)
			require.NotEmpty(t, prob.Errors, c.name)
			require.Equal(t, c.field, prob.Errors[0].Field, "%s: %s", c.name, resp.Body)
		}
	}
	require.Equal(t, 2, inventoryEvents(t, env, shop.Tenant, vs["TEA-1"]))

	// Idempotency-Key: a retry replays the first answer and applies once.
	body := map[string]any{"sku": "TEA-1", "delta": 3, "reason": "delivery"}
	first := adjust(t, env, shop.Token, body, "Idempotency-Key", "delivery-0042")
	require.Equal(t, http.StatusCreated, first.Status, string(first.Body))
	again := adjust(t, env, shop.Token, body, "Idempotency-Key", "delivery-0042")
	require.Equal(t, http.StatusCreated, again.Status)
	require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	require.JSONEq(t, string(first.Body), string(again.Body))
	require.Equal(t, first.Header.Get("X-Event-Position"), again.Header.Get("X-Event-Position"))
	other := adjust(t, env, shop.Token, map[string]any{"sku": "TEA-1", "delta": 4, "reason": "delivery"}, "Idempotency-Key", "delivery-0042")
	require.Equal(t, http.StatusUnprocessableEntity, other.Status)
	require.Equal(t, 3, inventoryEvents(t, env, shop.Tenant, vs["TEA-1"]))
	require.Equal(t, int64(7), listStock(t, env, shop.Token, "?sku=TEA-1").Items[0].OnHand)

	// Viewers read stock but do not change it.
	inv := env.Do(t, req{Method: "POST", Path: "/api/v1/admin/staff", Token: shop.Token,
		Body: map[string]any{"email": "viewer@uji-tea.example.jp", "name": "閲覧", "role": "viewer", "password": "a long viewer password"}})
	require.Equal(t, http.StatusCreated, inv.Status, string(inv.Body))
	viewer := env.SignIn(t, "uji-tea", "viewer@uji-tea.example.jp", "a long viewer password")
	require.Len(t, listStock(t, env, viewer, "").Items, 2)
	resp = adjust(t, env, viewer, map[string]any{"sku": "TEA-1", "delta": 1, "reason": "x"})
	require.Equal(t, http.StatusForbidden, resp.Status)
}

// 32 concurrent adjustments of one variant all land, and the read model
// they leave is exactly what a replay of the log builds.
func TestInventoryConcurrentAdjustmentsMatchReplay(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	shop := env.Shop(t, "otaru", "single_brand", false)
	vs := createProduct(t, env, shop.Tenant, nil, "GLASS-1", "GLASS-2")
	// Setting stock with the same command id twice (a retried import or demo load) appends once.
	by := commands.By{Actor: "system:demo", CommandID: uuid.Must(uuid.NewV7())}
	glass2 := uuid.MustParse(vs["GLASS-2"])
	pid, err := commands.VariantProduct(context.Background(), env.Main.Pool, shop.Tenant, catalog.VariantID{UUID: glass2})
	require.NoError(t, err)
	for range 2 {
		_, err := env.Main.Commands.SetStock(context.Background(), commands.SetStock{Tenant: shop.Tenant, By: by, Product: pid, Reason: "count",
			Levels: []commands.StockSet{{Variant: catalog.VariantID{UUID: glass2}, Location: shop.Created.Location, OnHand: 9}}})
		if err != nil {
			require.ErrorIs(t, err, eventstore.ErrDuplicate)
		}
	}
	require.Equal(t, 1, inventoryEvents(t, env, shop.Tenant, vs["GLASS-2"]))

	const writers = 32
	start := make(chan struct{})
	var wg sync.WaitGroup
	statuses := make([]int, writers)
	onHands := make([]int64, writers)
	var want int64
	for i := range writers {
		want += int64(i + 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := adjust(t, env, shop.Token, map[string]any{"variant_id": vs["GLASS-1"], "delta": i + 1, "reason": fmt.Sprintf("writer %d", i)})
			statuses[i] = r.Status
			var l stockLevel
			if r.Status == http.StatusCreated {
				r.JSON(t, &l)
			}
			onHands[i] = l.OnHand
		}()
	}
	close(start)
	wg.Wait()
	seen := map[int64]bool{}
	for i := range writers {
		require.Equal(t, http.StatusCreated, statuses[i])
		require.False(t, seen[onHands[i]], "each adjustment saw its own result")
		seen[onHands[i]] = true
	}
	require.True(t, seen[want])
	require.Equal(t, writers, inventoryEvents(t, env, shop.Tenant, vs["GLASS-1"]))
	l := listStock(t, env, shop.Token, "?sku=GLASS-1")
	require.Len(t, l.Items, 1)
	require.Equal(t, want, l.Items[0].OnHand)

	ctx := context.Background()
	rows := func() string {
		var s string
		require.NoError(t, env.Main.Pool.QueryRow(ctx, `SELECT string_agg(x::text, E'\n' ORDER BY x::text) FROM stock_levels x`).Scan(&s))
		return s
	}
	live := rows()
	require.NoError(t, env.Main.Runner.Rebuild(ctx, "stock_levels", nil))
	require.Equal(t, live, rows())
	require.Len(t, listStock(t, env, shop.Token, "").Items, 2)
}

func TestInventoryVendorScoping(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	mall := env.Shop(t, "ginza-mall", "mall", false)
	vendorID := func(name string) uuid.UUID {
		resp := env.Do(t, req{Method: "POST", Path: "/api/v1/admin/vendors", Token: mall.Token, Body: map[string]any{"name": name, "commission_rate": "0.1"}})
		require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
		return uuid.MustParse(resp.Map(t)["id"].(string))
	}
	tanaka, suzuki := vendorID("田中商店"), vendorID("鈴木屋")
	mine := createProduct(t, env, mall.Tenant, &tanaka, "TANAKA-1")
	theirs := createProduct(t, env, mall.Tenant, &suzuki, "SUZUKI-1")
	for _, sku := range []string{"TANAKA-1", "SUZUKI-1"} {
		resp := adjust(t, env, mall.Token, map[string]any{"sku": sku, "set": 5, "reason": "opening stock"})
		require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	}

	resp := env.Do(t, req{Method: "POST", Path: "/api/v1/admin/staff", Token: mall.Token,
		Body: map[string]any{"email": "staff@tanaka.example.jp", "name": "田中", "role": "vendor", "vendor_id": tanaka, "password": "tanaka's own password"}})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	vendorTok := env.SignIn(t, "ginza-mall", "staff@tanaka.example.jp", "tanaka's own password")

	// Vendor staff see their vendor's stock only.
	l := listStock(t, env, vendorTok, "")
	require.Len(t, l.Items, 1)
	require.Equal(t, "TANAKA-1", l.Items[0].SKU)
	require.Equal(t, tanaka.String(), l.Items[0].VendorID)
	require.Empty(t, listStock(t, env, vendorTok, "?vendor_id="+suzuki.String()).Items)
	require.Empty(t, listStock(t, env, vendorTok, "?variant_id="+theirs["SUZUKI-1"]).Items)
	require.Len(t, listStock(t, env, mall.Token, "").Items, 2)
	require.Len(t, listStock(t, env, mall.Token, "?vendor_id="+suzuki.String()).Items, 1)

	// They adjust their own; another vendor's variant does not exist for them.
	resp = adjust(t, env, vendorTok, map[string]any{"variant_id": mine["TANAKA-1"], "delta": 2, "reason": "delivery"})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	resp = adjust(t, env, vendorTok, map[string]any{"variant_id": theirs["SUZUKI-1"], "delta": 2, "reason": "x"})
	require.Equal(t, http.StatusNotFound, resp.Status, string(resp.Body))
	resp = adjust(t, env, vendorTok, map[string]any{"sku": "SUZUKI-1", "delta": 2, "reason": "x"})
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status, string(resp.Body))
	require.Equal(t, 1, inventoryEvents(t, env, mall.Tenant, theirs["SUZUKI-1"]))
	require.Equal(t, int64(5), listStock(t, env, mall.Token, "?sku=SUZUKI-1").Items[0].OnHand)
}

func TestInventoryTenantIsolation(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	a := env.Shop(t, "shop-a", "single_brand", false)
	b := env.Shop(t, "shop-b", "single_brand", false)
	va := createProduct(t, env, a.Tenant, nil, "SHARED-1", "ONLY-A")
	vb := createProduct(t, env, b.Tenant, nil, "SHARED-1")
	resp := adjust(t, env, a.Token, map[string]any{"sku": "SHARED-1", "set": 8, "reason": "count"})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))

	// B's token with A's ids: not found, never written.
	for _, c := range []struct {
		body   map[string]any
		status int
	}{
		{map[string]any{"variant_id": va["SHARED-1"], "delta": 1, "reason": "x"}, http.StatusNotFound},
		{map[string]any{"variant_id": va["ONLY-A"], "set": 3, "reason": "x"}, http.StatusNotFound},
		{map[string]any{"sku": "ONLY-A", "delta": 1, "reason": "x"}, http.StatusUnprocessableEntity},
		{map[string]any{"variant_id": vb["SHARED-1"], "location_id": a.Created.Location.String(), "delta": 1, "reason": "x"}, http.StatusUnprocessableEntity},
	} {
		resp := adjust(t, env, b.Token, c.body)
		require.Equal(t, c.status, resp.Status, "%v: %s", c.body, resp.Body)
	}
	require.Equal(t, 1, inventoryEvents(t, env, a.Tenant, va["SHARED-1"]))
	require.Equal(t, 0, inventoryEvents(t, env, a.Tenant, va["ONLY-A"]))
	require.Equal(t, 0, inventoryEvents(t, env, b.Tenant, vb["SHARED-1"]))
	require.Equal(t, 0, inventoryEvents(t, env, b.Tenant, va["SHARED-1"]))

	// Same SKU, two shops: each sees its own.
	resp = adjust(t, env, b.Token, map[string]any{"sku": "shared-1", "delta": 2, "reason": "count"})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	la, lb := listStock(t, env, a.Token, ""), listStock(t, env, b.Token, "")
	require.Len(t, la.Items, 1)
	require.Len(t, lb.Items, 1)
	require.Equal(t, []int64{8, 2}, []int64{la.Items[0].OnHand, lb.Items[0].OnHand})
	require.Empty(t, listStock(t, env, b.Token, "?variant_id="+va["SHARED-1"]).Items)
	require.Equal(t, va["SHARED-1"], la.Items[0].VariantID)
}
