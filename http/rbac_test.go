package http_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/delivery"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/shipment"
	"github.com/honten/honten/domain/staff"
	honthttp "github.com/honten/honten/http"
	"github.com/honten/honten/internal/apitest"
	"github.com/honten/honten/internal/ordertest"
)

// rbacFixture is a mall with one staff member per role and resources for
// every route to act on; the vendor-role member is bound to vendor A, and
// the resources belong to vendor A, so that every allowed call can succeed.
type rbacFixture struct {
	env    *apitest.Env
	shop   apitest.Shop
	tokens map[string]string
	ids    map[string]string
	// poison is the id of a poisoned message of the shop (an integer, so
	// not among ids, which lists must never show to another shop).
	poison   string
	sequence atomic.Int64
	// reinstatable are cancelled orders paid late, one for each role that
	// may reinstate an order (reinstated counts those taken).
	reinstatable []string
	reinstated   atomic.Int64
}

func newRBACFixture(t *testing.T) *rbacFixture {
	env := apitest.New(t)
	shop := env.Shop(t, "rbac-mall", "mall", false)
	f := &rbacFixture{env: env, shop: shop, tokens: map[string]string{"owner": shop.Token}, ids: map[string]string{}}
	do := func(method, path string, body any) map[string]any {
		resp := env.Do(t, req{Method: method, Path: path, Token: shop.Token, Body: body})
		require.Less(t, resp.Status, 300, "%s %s: %s", method, path, resp.Body)
		return resp.Map(t)
	}
	f.ids["vendor"] = do("POST", "/api/v1/admin/vendors", map[string]any{"name": "Vendor A", "commission_rate": "0.1"})["id"].(string)
	f.ids["store"] = f.shop.Created.Store.String()
	f.ids["category"] = do("POST", "/api/v1/admin/categories", map[string]any{"name": "Cat", "handle": "cat"})["id"].(string)
	p := do("POST", "/api/v1/admin/products", map[string]any{"title": "Product A", "vendor_id": f.ids["vendor"], "status": "active",
		"variants": []map[string]any{{"sku": "RBAC-A-1", "price": yen("1000")}}})
	f.ids["product"] = p["id"].(string)
	f.ids["variant"] = p["variants"].([]any)[0].(map[string]any)["id"].(string)
	imp := env.Do(t, req{Method: "POST", Path: "/api/v1/admin/imports/products", Token: shop.Token,
		Body: "handle,title,sku,price\nrbac-import,x,RBAC-IMPORT-1,100\n", Header: map[string]string{"Content-Type": "text/csv"}})
	require.Equal(t, http.StatusAccepted, imp.Status, string(imp.Body))
	f.ids["import"] = imp.Map(t)["id"].(string)
	f.ids["archivable"] = do("POST", "/api/v1/admin/products", map[string]any{"title": "Product B", "vendor_id": f.ids["vendor"]})["id"].(string)
	for _, role := range []string{"admin", "operator", "finance", "vendor", "viewer"} {
		body := map[string]any{"email": role + "@rbac.example.jp", "name": role, "role": role, "password": "password for " + role}
		if role == "vendor" {
			body["vendor_id"] = f.ids["vendor"]
		}
		do("POST", "/api/v1/admin/staff", body)
		f.tokens[role] = env.SignIn(t, "rbac-mall", role+"@rbac.example.jp", "password for "+role)
	}
	f.ids["staff"] = do("POST", "/api/v1/admin/staff", map[string]any{"email": "target@rbac.example.jp", "name": "target", "role": "viewer"})["id"].(string)
	f.placeOrders(t)
	f.money(t)
	f.statements(t)
	reg, _, err := f.env.Main.Commands.RegisterCustomer(context.Background(), commands.RegisterCustomer{Tenant: f.shop.Tenant,
		By: commands.By{Actor: "test"}, Email: "rbac-customer@example.jp", Password: "correct horse battery", Name: "顧客 太郎"})
	require.NoError(t, err)
	f.ids["customer"] = reg.ID.String()
	f.env.Settle(t)
	f.promotions(t)
	f.webhooks(t)
	return f
}

// promotions gives the promotion and delivery routes something to act on:
// a coupon promotion with a code job, one to delete, and a paid order of a
// digital line of vendor A, whose delivery is issued.
func (f *rbacFixture) promotions(t *testing.T) {
	t.Helper()
	do := func(method, path string, body any) map[string]any {
		resp := f.env.Do(t, req{Method: method, Path: path, Token: f.shop.Token, Body: body})
		require.Less(t, resp.Status, 300, "%s %s: %s", method, path, resp.Body)
		return resp.Map(t)
	}
	f.ids["promotion"] = do("POST", "/api/v1/admin/promotions", map[string]any{"title": "RBAC", "kind": "percent", "value": "5", "codes": []string{}})["id"].(string)
	f.ids["deletable_promotion"] = do("POST", "/api/v1/admin/promotions", map[string]any{"title": "RBAC del", "kind": "fixed", "value": "100"})["id"].(string)
	f.ids["code_job"] = do("POST", "/api/v1/admin/promotions/"+f.ids["promotion"]+"/codes", map[string]any{"count": 3})["id"].(string)
	ctx := context.Background()
	variant, err := catalog.ParseVariantID(f.ids["variant"])
	require.NoError(t, err)
	vendor := uuid.MustParse(f.ids["vendor"])
	p, err := ordertest.Place(ctx, f.env.Main.Commands, ordertest.Order{Tenant: f.shop.Tenant, Method: order.PaymentBankTransfer,
		Lines: []ordertest.Line{{Variant: variant, Vendor: vendor, SKU: "RBAC-A-1", Digital: true}}})
	require.NoError(t, err)
	_, err = f.env.Main.Commands.ConfirmPayment(ctx, commands.ConfirmPayment{Tenant: f.shop.Tenant, By: commands.By{Actor: "test"}, Order: p.Order, Amount: p.Total})
	require.NoError(t, err)
	f.env.Settle(t)
	f.ids["delivery"] = delivery.IDFor(p.Order.UUID, p.Lines[0].ID).String()
}

// rbacAccount is a bank account for the payout and refund routes.
var rbacAccount = map[string]any{"bank_name": "京都銀行", "bank_code": "0158", "branch_name": "本店", "branch_code": "101",
	"account_type": "ordinary", "account_number": "7654321", "account_holder": "ｶ)ﾃｽﾄ"}

// money gives the payout and refund routes something to act on: transfer
// file settings, vendor A's payout account, an order of vendor A paid,
// delivered and released at once (a return window of 0 days), a payout
// run, and an over-paid order owing 1,000 yen back to a known account.
func (f *rbacFixture) money(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	do := func(method, path string, body any) map[string]any {
		resp := f.env.Do(t, req{Method: method, Path: path, Token: f.shop.Token, Body: body})
		require.Less(t, resp.Status, 300, "%s %s: %s", method, path, resp.Body)
		return resp.Map(t)
	}
	do("PATCH", "/api/v1/admin/settings", map[string]any{"payout_hold_days": 0, "transfer_client_code": "1234567890",
		"bank_account": map[string]any{"bank_name": "みずほ銀行", "bank_code": "0001", "branch_name": "本店", "branch_code": "100",
			"account_type": "ordinary", "account_number": "1234567", "account_holder": "ﾓｰﾙ"}})
	do("PUT", "/api/v1/admin/payouts/"+f.ids["vendor"]+"/account", rbacAccount)
	m := f.env.Main
	variant, err := catalog.ParseVariantID(f.ids["variant"])
	require.NoError(t, err)
	vendor := uuid.MustParse(f.ids["vendor"])
	by := commands.By{Actor: "test"}
	place := func(extra int64) ordertest.Placed {
		p, err := ordertest.Place(ctx, m.Commands, ordertest.Order{Tenant: f.shop.Tenant, Method: order.PaymentBankTransfer,
			Lines: []ordertest.Line{{Variant: variant, Vendor: vendor, SKU: "RBAC-A-1"}}})
		require.NoError(t, err)
		amount, err := p.Total.Add(money.MustNew(decimal.NewFromInt(extra), p.Total.Currency()))
		require.NoError(t, err)
		_, err = m.Commands.ConfirmPayment(ctx, commands.ConfirmPayment{Tenant: f.shop.Tenant, By: by, Order: p.Order, Amount: amount})
		require.NoError(t, err)
		return p
	}
	sold := place(0)
	f.env.Settle(t) // the paid order's shipment exists
	sid := shipment.IDFor(sold.Order.UUID, vendor)
	_, err = m.Commands.ShipShipment(ctx, commands.ShipShipment{Tenant: f.shop.Tenant, By: by, Shipment: sid, Carrier: "yamato", TrackingNo: "T-MONEY"})
	require.NoError(t, err)
	_, err = m.Commands.DeliverShipment(ctx, commands.DeliverShipment{Tenant: f.shop.Tenant, By: by, Shipment: sid})
	require.NoError(t, err)
	f.env.Settle(t)
	n, err := m.Sweeper.ReleaseDue(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	f.env.Settle(t)
	f.ids["run"] = do("POST", "/api/v1/admin/payout-runs", map[string]any{"period_end": time.Now().UTC().Format(time.RFC3339Nano), "min_amount": yen("0")})["id"].(string)
	f.ids["refund_order"] = place(1000).Order.String()
	f.env.Settle(t)
	do("PUT", "/api/v1/admin/orders/"+f.ids["refund_order"]+"/refund-account", rbacAccount)
}

// statementCSV is a bank CSV of two deposits that match no order (the
// column map is in statementQuery).
const (
	statementCSV   = "date,amount,payer\n2025-12-01,1,ﾃｽﾄ ﾀﾛｳ\n2025-12-01,2,ﾃｽﾄ ｼﾞﾛｳ\n"
	statementQuery = "?format=csv&date=date&amount=amount&payer=payer&date_layout=2006-01-02"
	remittanceCSV  = "tracking_no,amount,fee,remitted_on\nNO-SUCH-PARCEL,1000,330,2025-12-01\n"
)

// statements imports a bank statement (its two lines: one to match to the
// bank-transfer order, one to ignore) and a COD remittance.
func (f *rbacFixture) statements(t *testing.T) {
	t.Helper()
	imp := f.env.Do(t, req{Method: "POST", Path: "/api/v1/admin/bank-statements" + statementQuery, Token: f.shop.Token,
		Body: statementCSV, Header: map[string]string{"Content-Type": "text/csv"}})
	require.Equal(t, http.StatusAccepted, imp.Status, string(imp.Body))
	f.ids["statement"] = imp.Map(t)["id"].(string)
	var lines []any
	require.Eventually(t, func() bool {
		resp := f.env.Do(t, req{Method: "GET", Path: "/api/v1/admin/bank-statements/" + f.ids["statement"] + "/lines", Token: f.shop.Token})
		st := f.env.Do(t, req{Method: "GET", Path: "/api/v1/admin/bank-statements/" + f.ids["statement"], Token: f.shop.Token})
		lines = resp.Map(t)["items"].([]any)
		return len(lines) == 2 && st.Map(t)["status"] == "completed"
	}, 30*time.Second, 10*time.Millisecond)
	f.ids["line_match"] = lines[0].(map[string]any)["id"].(string)
	f.ids["line_ignore"] = lines[1].(map[string]any)["id"].(string)
	rem := f.env.Do(t, req{Method: "POST", Path: "/api/v1/admin/cod-remittances", Token: f.shop.Token,
		Body: remittanceCSV, Header: map[string]string{"Content-Type": "text/csv"}})
	require.Equal(t, http.StatusAccepted, rem.Status, string(rem.Body))
	f.ids["remittance"] = rem.Map(t)["id"].(string)
}

// placeOrders gives the order and shipment routes something to act on, all
// of vendor A: a bank-transfer order (read, paid in part), a COD order to
// cancel, and three COD orders whose shipments are pending (to ship),
// shipped (to deliver) and shipped (to record the collection).
func (f *rbacFixture) placeOrders(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	m := f.env.Main
	variant, err := catalog.ParseVariantID(f.ids["variant"])
	require.NoError(t, err)
	vendor := uuid.MustParse(f.ids["vendor"])
	_, _, err = m.Commands.AdjustInventory(ctx, commands.AdjustInventory{Tenant: f.shop.Tenant, By: commands.By{Actor: "test"}, Variant: &variant, Delta: ptrInt(100), Reason: "rbac"})
	require.NoError(t, err)
	place := func(method order.PaymentMethod) ordertest.Placed {
		p, err := ordertest.Place(ctx, m.Commands, ordertest.Order{Tenant: f.shop.Tenant, Method: method,
			Lines: []ordertest.Line{{Variant: variant, Vendor: vendor, SKU: "RBAC-A-1"}}})
		require.NoError(t, err)
		return p
	}
	bank := place(order.PaymentBankTransfer)
	f.ids["order"], f.ids["order_token"] = bank.Order.String(), bank.Token
	f.ids["cancellable"] = place(order.PaymentCOD).Order.String()
	by := commands.By{Actor: "test"}
	for range 3 {
		p := place(order.PaymentBankTransfer)
		_, err := m.Commands.CancelOrder(ctx, commands.CancelOrder{Tenant: f.shop.Tenant, By: by, Order: p.Order})
		require.NoError(t, err)
		_, err = m.Commands.ConfirmPayment(ctx, commands.ConfirmPayment{Tenant: f.shop.Tenant, By: by, Order: p.Order, Amount: p.Total})
		require.NoError(t, err)
		f.reinstatable = append(f.reinstatable, p.Order.String())
	}
	for i, name := range []string{"ship", "deliver", "cod"} {
		p := place(order.PaymentCOD)
		_, err := m.Commands.CreateShipments(ctx, commands.CreateShipments{Tenant: f.shop.Tenant, By: by, Order: p.Order})
		require.NoError(t, err)
		sid := shipment.IDFor(p.Order.UUID, vendor)
		f.ids[name] = sid.String()
		f.ids[name+"_total"] = p.Total.AmountString()
		if i > 0 {
			_, err = m.Commands.ShipShipment(ctx, commands.ShipShipment{Tenant: f.shop.Tenant, By: by, Shipment: sid, Carrier: "yamato", TrackingNo: fmt.Sprint("T-", i)})
			require.NoError(t, err)
		}
	}
	f.env.Settle(t) // the policies are done: nothing is written behind the tests' backs
	f.poison = fmt.Sprint(poison(t, f.env, f.ids["cancellable"], "order.placed.v1", "shipments_on_order_placed"))
}

func ptrInt(n int64) *int64 { return &n }

func (f *rbacFixture) next() int64 { return f.sequence.Add(1) }

// call builds the request a role makes on a route: ids filled in, a valid body.
func (f *rbacFixture) call(t *testing.T, route string) (req, bool) {
	method, path, _ := strings.Cut(route, " ")
	n := f.next()
	fill := func(p string) string {
		if method == "DELETE" && strings.Contains(p, "/products/{id}") {
			return strings.Replace(p, "{id}", f.ids["archivable"], 1)
		}
		r := strings.NewReplacer("{kind}/{id}", "product/"+f.ids["product"], "{name}", "bank_statements")
		p = r.Replace(p)
		switch {
		case strings.Contains(p, "/promotions/{id}/code-jobs/{job_id}"):
			return strings.NewReplacer("{id}", f.ids["promotion"], "{job_id}", f.ids["code_job"]).Replace(p)
		case method == "DELETE" && strings.Contains(p, "/promotions/{id}"):
			return strings.Replace(p, "{id}", f.ids["deletable_promotion"], 1)
		case strings.Contains(p, "/promotions/{id}"):
			return strings.Replace(p, "{id}", f.ids["promotion"], 1)
		case strings.Contains(p, "/deliveries/{id}"):
			return strings.Replace(p, "{id}", f.ids["delivery"], 1)
		case strings.Contains(p, "/bank-statements/{id}"):
			return strings.Replace(p, "{id}", f.ids["statement"], 1)
		case strings.Contains(p, "/bank-statement-lines/{id}/match"):
			return strings.Replace(p, "{id}", f.ids["line_match"], 1)
		case strings.Contains(p, "/bank-statement-lines/{id}/ignore"):
			return strings.Replace(p, "{id}", f.ids["line_ignore"], 1)
		case strings.Contains(p, "/cod-remittances/{id}"):
			return strings.Replace(p, "{id}", f.ids["remittance"], 1)
		case strings.Contains(p, "/imports/{id}"):
			return strings.Replace(p, "{id}", f.ids["import"], 1)
		case strings.Contains(p, "/payouts/{vendor_id}"):
			return strings.Replace(p, "{vendor_id}", f.ids["vendor"], 1)
		case strings.Contains(p, "/vendors/{id}"):
			return strings.Replace(p, "{id}", f.ids["vendor"], 1)
		case strings.Contains(p, "/stores/{id}"):
			return strings.Replace(p, "{id}", f.ids["store"], 1)
		case strings.Contains(p, "/staff/{id}"):
			return strings.Replace(p, "{id}", f.ids["staff"], 1)
		case strings.Contains(p, "/products/{id}"):
			return strings.Replace(p, "{id}", f.ids["product"], 1)
		case strings.Contains(p, "/variants/{id}"):
			return strings.Replace(p, "{id}", f.ids["variant"], 1)
		case strings.Contains(p, "/categories/{id}"):
			return strings.Replace(p, "{id}", f.ids["category"], 1)
		case strings.Contains(p, "/customers/{id}"):
			return strings.Replace(p, "{id}", f.ids["customer"], 1)
		case method == "DELETE" && strings.Contains(p, "/webhooks/{id}"):
			return strings.Replace(p, "{id}", f.ids["webhook_delete"], 1)
		case strings.Contains(p, "/webhooks/{id}"):
			return strings.Replace(p, "{id}", f.ids["webhook"], 1)
		case strings.Contains(p, "/webhook-deliveries/{id}"):
			return strings.Replace(p, "{id}", f.ids["webhook_delivery"], 1)
		case strings.Contains(p, "/poison/{id}"):
			return strings.Replace(p, "{id}", f.poison, 1)
		case strings.Contains(p, "/payout-runs/{id}"):
			return strings.Replace(p, "{id}", f.ids["run"], 1)
		case strings.HasSuffix(p, "/refunds.zengin"):
			return p + "?ids=" + f.ids["refund_order"]
		case strings.Contains(p, "/orders/{id}/refund"):
			return strings.Replace(p, "{id}", f.ids["refund_order"], 1)
		case strings.Contains(p, "/orders/{id}/reinstate"):
			i := int(f.reinstated.Add(1)-1) % len(f.reinstatable)
			return strings.Replace(p, "{id}", f.reinstatable[i], 1)
		case strings.Contains(p, "/orders/{id}/cancel"):
			return strings.Replace(p, "{id}", f.ids["cancellable"], 1)
		case strings.Contains(p, "/orders/{id}"):
			return strings.Replace(p, "{id}", f.ids["order"], 1)
		case strings.Contains(p, "/shipments/{id}/ship"):
			return strings.Replace(p, "{id}", f.ids["ship"], 1)
		case strings.Contains(p, "/shipments/{id}/deliver"):
			return strings.Replace(p, "{id}", f.ids["deliver"], 1)
		case strings.Contains(p, "/shipments/{id}/cod-collected"):
			return strings.Replace(p, "{id}", f.ids["cod"], 1)
		}
		return p
	}
	bodies := map[string]any{
		"POST /api/v1/admin/tenants":                          map[string]any{"code": fmt.Sprintf("t-%d", n), "name": "x", "type": "mall"},
		"PATCH /api/v1/admin/settings":                        map[string]any{"reservation_ttl_minutes": 10 + n%50},
		"POST /api/v1/admin/vendors":                          map[string]any{"name": fmt.Sprintf("v%d", n)},
		"PATCH /api/v1/admin/vendors/{id}":                    map[string]any{"name": fmt.Sprintf("Vendor A %d", n)},
		"POST /api/v1/admin/stores":                           map[string]any{"code": fmt.Sprintf("s-%d", n), "name": "x"},
		"POST /api/v1/admin/stores/{id}/locations":            map[string]any{"code": fmt.Sprintf("l-%d", n), "name": "x"},
		"POST /api/v1/admin/staff":                            map[string]any{"email": fmt.Sprintf("s%d@rbac.example.jp", n), "name": "x", "role": "viewer"},
		"PATCH /api/v1/admin/staff/{id}":                      map[string]any{"name": fmt.Sprintf("target %d", n)},
		"POST /api/v1/admin/products":                         map[string]any{"title": fmt.Sprintf("p%d", n)},
		"PATCH /api/v1/admin/products/{id}":                   map[string]any{"title": fmt.Sprintf("Product A %d", n)},
		"POST /api/v1/admin/products/{id}/variants":           map[string]any{"sku": fmt.Sprintf("RBAC-V-%d", n), "price": yen("500")},
		"PATCH /api/v1/admin/variants/{id}":                   map[string]any{"title": fmt.Sprintf("v %d", n)},
		"POST /api/v1/admin/categories":                       map[string]any{"name": fmt.Sprintf("c%d", n), "handle": fmt.Sprintf("c-%d", n)},
		"PATCH /api/v1/admin/categories/{id}":                 map[string]any{"name": fmt.Sprintf("Cat %d", n)},
		"POST /api/v1/admin/projections/{name}/rebuild":       nil,
		"POST /api/v1/admin/inventory/adjustments":            map[string]any{"variant_id": f.ids["variant"], "delta": 1, "reason": "rbac"},
		"DELETE /api/v1/admin/products/{id}":                  nil,
		"POST /api/v1/admin/orders/{id}/payments/confirm":     map[string]any{"amount": yen("1"), "reference": fmt.Sprintf("rbac-%d", n)},
		"POST /api/v1/admin/orders/{id}/cancel":               map[string]any{"reason": "rbac"},
		"POST /api/v1/admin/orders/{id}/reinstate":            map[string]any{"reason": "rbac"},
		"POST /api/v1/admin/shipments/{id}/ship":              map[string]any{"carrier": "yamato", "tracking_no": "RBAC-1"},
		"POST /api/v1/admin/shipments/{id}/deliver":           nil,
		"POST /api/v1/admin/shipments/{id}/cod-collected":     map[string]any{"amount": yen(f.ids["cod_total"])},
		"DELETE /api/v1/admin/session":                        nil,
		"POST /api/v1/admin/poison/{id}/retry":                nil,
		"POST /api/v1/admin/customers/{id}/forget":            nil,
		"POST /api/v1/admin/customers/forget-guest":           map[string]any{"email": fmt.Sprintf("guest%d@rbac.example.jp", n)},
		"POST /api/v1/admin/webhooks":                         map[string]any{"url": fmt.Sprintf("https://hooks.example.com/%d", n), "events": []string{"order.*"}},
		"DELETE /api/v1/admin/webhooks/{id}":                  nil,
		"PATCH /api/v1/admin/webhooks/{id}":                   map[string]any{"events": []string{"order.*", "payment.*"}},
		"POST /api/v1/admin/webhook-deliveries/{id}/retry":    nil,
		"POST /api/v1/admin/bank-statement-lines/{id}/match":  map[string]any{"order_id": f.ids["order"]},
		"POST /api/v1/admin/bank-statement-lines/{id}/ignore": map[string]any{"reason": "rbac"},
		"PUT /api/v1/admin/payouts/{vendor_id}/account":       rbacAccount,
		"POST /api/v1/admin/payouts/{vendor_id}": map[string]any{"amount": yen("1"), "paid_at": time.Now().UTC().Add(-time.Minute).Format(time.RFC3339),
			"reference": fmt.Sprintf("rbac-%d", n)},
		"POST /api/v1/admin/payout-runs":               map[string]any{"period_end": time.Now().UTC().Format(time.RFC3339), "min_amount": yen("0")},
		"PUT /api/v1/admin/orders/{id}/refund-account": rbacAccount,
		"POST /api/v1/admin/promotions":                map[string]any{"title": fmt.Sprintf("p%d", n), "kind": "percent", "value": "5"},
		"PATCH /api/v1/admin/promotions/{id}":          map[string]any{"title": fmt.Sprintf("RBAC %d", n)},
		"DELETE /api/v1/admin/promotions/{id}":         nil,
		"POST /api/v1/admin/promotions/{id}/codes":     map[string]any{"count": 2},
		"POST /api/v1/admin/deliveries/{id}/reissue":   map[string]any{"reason": "rbac"},
		"POST /api/v1/admin/orders/{id}/refunds": map[string]any{"amount": yen("1"), "paid_at": time.Now().UTC().Add(-time.Minute).Format(time.RFC3339),
			"reference": fmt.Sprintf("rbac-%d", n)},
	}
	body, known := bodies[route]
	if route == "POST /api/v1/admin/imports/products" {
		csv := fmt.Sprintf("handle,title,sku,price\nrbac-%d,x,RBAC-CSV-%d,100\n", n, n)
		return req{Method: method, Path: path, Body: csv, Header: map[string]string{"Content-Type": "text/csv"}}, true
	}
	switch route {
	case "POST /api/v1/admin/bank-statements":
		return req{Method: method, Path: path + statementQuery, Body: statementCSV, Header: map[string]string{"Content-Type": "text/csv"}}, true
	case "POST /api/v1/admin/cod-remittances":
		return req{Method: method, Path: path, Body: remittanceCSV, Header: map[string]string{"Content-Type": "text/csv"}}, true
	}
	if !known && method != "GET" {
		return req{}, false
	}
	return req{Method: method, Path: fill(path), Body: body}, true
}

// Every backoffice route × every role: allowed → 2xx, forbidden → 403,
// anonymous → 401.
func TestRouteRoleMatrix(t *testing.T) {
	t.Parallel()
	f := newRBACFixture(t)
	perms := f.env.Main.Server.RoutePermissions()
	routes := make([]string, 0, len(perms))
	for r := range perms {
		routes = append(routes, r)
	}
	sort.Strings(routes)
	// Sign-out ends the caller's session: it runs last.
	routes = append(slices.DeleteFunc(routes, func(r string) bool { return r == "DELETE /api/v1/admin/session" }), "DELETE /api/v1/admin/session")
	gen := 1 // of bank_statements, which the rebuild route rebuilds
	for _, route := range routes {
		allowed := perms[route]
		for _, role := range append([]string{"anonymous"}, rolesOrder...) {
			rq, ok := f.call(t, route)
			require.True(t, ok, "no fixture for %s: add one to rbacFixture.call", route)
			if role != "anonymous" {
				rq.Token = f.tokens[role]
			}
			resp := f.env.Do(t, rq)
			if strings.HasSuffix(route, "/rebuild") && resp.Status == http.StatusConflict {
				// The previous role's rebuild has swapped in (waitRebuilt) but
				// may still hold its lock while it drops the old generation.
				require.Eventually(t, func() bool {
					resp = f.env.Do(t, rq)
					return resp.Status != http.StatusConflict
				}, 30*time.Second, 10*time.Millisecond)
			}
			switch {
			case role == "anonymous":
				require.Equal(t, http.StatusUnauthorized, resp.Status, "%s as %s: %s", route, role, resp.Body)
			case slices.Contains(allowed, role) && route == "POST /api/v1/admin/payout-runs" && resp.Status == http.StatusConflict:
				// The fixture's run took what was payable: allowed, and nothing left to pay.
				require.Equal(t, "nothing_to_pay", resp.Map(t)["code"], "%s as %s", route, role)
			case slices.Contains(allowed, role):
				require.True(t, resp.Status >= 200 && resp.Status < 300, "%s as %s: %d %s", route, role, resp.Status, resp.Body)
			default:
				require.Equal(t, http.StatusForbidden, resp.Status, "%s as %s: %s", route, role, resp.Body)
			}
			if strings.HasSuffix(route, "/rebuild") && resp.Status == http.StatusAccepted {
				gen = waitRebuilt(t, f, gen)
			}
		}
	}
}

var rolesOrder = []string{string(staff.Owner), string(staff.Admin), string(staff.Operator), string(staff.Finance), string(staff.Vendor), string(staff.Viewer)}

// waitRebuilt waits until bank_statements' live generation is past gen.
func waitRebuilt(t *testing.T, f *rbacFixture, gen int) int {
	t.Helper()
	require.Eventually(t, func() bool {
		sts, err := f.env.Main.Runner.Status(t.Context())
		if err != nil {
			return false
		}
		for _, s := range sts {
			if s.Model == "bank_statements" && s.State == "live" && s.Generation > gen {
				gen = s.Generation
				return true
			}
		}
		return false
	}, 60*time.Second, 10*time.Millisecond)
	return gen
}

// docs/rbac.md is the rendered matrix; it must match the code.
func TestRBACDocumentIsCurrent(t *testing.T) {
	t.Parallel()
	s := honthttp.NewServer(honthttp.Deps{})
	perms := s.RoutePermissions()
	routes := make([]string, 0, len(perms))
	for r := range perms {
		routes = append(routes, r)
	}
	sort.Strings(routes)
	var b strings.Builder
	b.WriteString("# Backoffice routes × roles\n\n")
	b.WriteString("Generated from `http/rbac.go` (`UPDATE_RBAC=1 go test ./http -run TestRBACDocumentIsCurrent` rewrites it; a test fails when it is stale).\n")
	b.WriteString("`✓` allowed, `·` forbidden (403). Vendor staff are further limited to their own vendor's data; platform\n")
	b.WriteString("administrators may act on any shop with `X-Tenant`, as its owner. Without a session every route answers 401.\n\n")
	b.WriteString("| route | " + strings.Join(rolesOrder, " | ") + " |\n|---|" + strings.Repeat("---|", len(rolesOrder)) + "\n")
	for _, r := range routes {
		b.WriteString("| `" + r + "` |")
		for _, role := range rolesOrder {
			if slices.Contains(perms[r], role) {
				b.WriteString(" ✓ |")
			} else {
				b.WriteString(" · |")
			}
		}
		if slices.Contains(perms[r], "platform") {
			b.WriteString(" platform administrators only")
		}
		b.WriteString("\n")
	}
	want := b.String()
	const path = "../docs/rbac.md"
	if os.Getenv("UPDATE_RBAC") != "" {
		require.NoError(t, os.WriteFile(path, []byte(want), 0o644))
	}
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, want, string(got), "docs/rbac.md is stale: run UPDATE_RBAC=1 go test ./http -run TestRBACDocumentIsCurrent")
}
