package http_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/customer"
	honthttp "github.com/honten/honten/http"
)

// idOperation is an operation of the OpenAPI document that names a resource
// by an id in its path.
type idOperation struct {
	Method, Path string
}

// idOperations lists, from the served OpenAPI document, every operation
// with an id among its path parameters: one named id or *_id, or one whose
// schema is a uuid.
func idOperations(t *testing.T) []idOperation {
	t.Helper()
	type param struct {
		Name   string `json:"name"`
		In     string `json:"in"`
		Schema struct {
			Format string `json:"format"`
		} `json:"schema"`
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(honthttp.OpenAPI(), &doc))
	isID := func(ps []param) bool {
		for _, p := range ps {
			if p.In == "path" && (p.Name == "id" || strings.HasSuffix(p.Name, "_id") || p.Schema.Format == "uuid") {
				return true
			}
		}
		return false
	}
	var out []idOperation
	for path, item := range doc.Paths {
		var shared []param
		if raw, ok := item["parameters"]; ok {
			require.NoError(t, json.Unmarshal(raw, &shared))
		}
		for method, raw := range item {
			if method == "parameters" {
				continue
			}
			var op struct {
				Parameters []param `json:"parameters"`
			}
			require.NoError(t, json.Unmarshal(raw, &op))
			if isID(shared) || isID(op.Parameters) {
				out = append(out, idOperation{Method: strings.ToUpper(method), Path: path})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path+out[i].Method < out[j].Path+out[j].Method })
	return out
}

// Every operation of the OpenAPI document that takes an id in its path,
// called by tenant B (its owner in the backoffice, its shop on the
// storefront) with tenant A's ids, answers 404 and writes nothing. The
// operations come from the document, so a new one is covered (or fails
// this test for want of a call) as soon as it is described.
func TestOtherTenantsIDsAre404AndWriteNothing(t *testing.T) {
	t.Parallel()
	f := newRBACFixture(t) // tenant A: a mall with vendors, products, staff, orders
	other := f.env.Shop(t, "tenant-b", "mall", false)
	ctx := context.Background()

	// Tenant A's storefront: a cart with a line, and a buyer's order token.
	aShop := map[string]string{"X-Tenant": "rbac-mall"}
	resp := f.env.Do(t, req{Method: "POST", Path: "/api/v1/store/carts", Header: aShop})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	cart := resp.Map(t)
	cartID, cartToken := cart["id"].(string), cart["token"].(string)
	aShop["X-Cart-Token"] = cartToken
	resp = (&buyer{env: f.env, shop: "rbac-mall", cart: cartID, token: cartToken}).add(t, "RBAC-A-1", 1)
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	lineID := resp.Map(t)["id"].(string)
	f.env.Settle(t)

	// A customer of tenant A with an address; a signed-in customer of tenant B.
	by := commands.By{Actor: "test"}
	aCustomer, err := customer.ParseID(f.ids["customer"])
	require.NoError(t, err)
	aAddress, _, err := f.env.Main.Commands.AddCustomerAddress(ctx, commands.AddCustomerAddress{Tenant: f.shop.Tenant, By: by, Customer: aCustomer,
		Name: "顧客 太郎", Phone: "0312345678", Address: struct{ PostalCode, Prefecture, City, Line1, Line2 string }{"150-0041", "東京都", "渋谷区", "神南1-1", ""}})
	require.NoError(t, err)
	_, _, err = f.env.Main.Commands.RegisterCustomer(ctx, commands.RegisterCustomer{Tenant: other.Tenant, By: by,
		Email: "b-customer@example.jp", Password: "correct horse battery", Name: "顧客 花子"})
	require.NoError(t, err)
	bSession, err := f.env.Main.Commands.SignInCustomer(ctx, commands.CustomerSignIn{Tenant: other.Tenant, Email: "b-customer@example.jp",
		Password: "correct horse battery", Client: "test"})
	require.NoError(t, err)

	// Tenant B's shop, carrying tenant A's secrets as well as its ids.
	bShop := map[string]string{"X-Tenant": "tenant-b", "X-Cart-Token": cartToken}
	storefront := map[string]req{
		"GET /api/v1/store/carts/{id}":                    {Path: "/api/v1/store/carts/" + cartID},
		"POST /api/v1/store/carts/{id}/items":             {Path: "/api/v1/store/carts/" + cartID + "/items", Body: map[string]any{"sku": "RBAC-A-1", "quantity": 1}},
		"PATCH /api/v1/store/carts/{id}/items/{line_id}":  {Path: "/api/v1/store/carts/" + cartID + "/items/" + lineID, Body: map[string]any{"quantity": 2}},
		"DELETE /api/v1/store/carts/{id}/items/{line_id}": {Path: "/api/v1/store/carts/" + cartID + "/items/" + lineID},
		"POST /api/v1/store/carts/{id}/checkout": {Path: "/api/v1/store/carts/" + cartID + "/checkout", Body: map[string]any{
			"email": "b@example.jp", "name": "B", "phone": "0312345678", "payment_method": "bank_transfer",
			"shipping_address": map[string]any{"postal_code": "150-0041", "prefecture": "東京都", "city": "渋谷区", "line1": "1-1"}}},
		"POST /api/v1/store/carts/{id}/coupons":          {Path: "/api/v1/store/carts/" + cartID + "/coupons", Body: map[string]any{"code": "RBAC"}},
		"DELETE /api/v1/store/carts/{id}/coupons/{code}": {Path: "/api/v1/store/carts/" + cartID + "/coupons/RBAC"},
		"GET /api/v1/store/orders/{id}":                  {Path: "/api/v1/store/orders/" + f.ids["order"] + "?token=" + f.ids["order_token"]},
		"GET /api/v1/store/products/{id}":                {Path: "/api/v1/store/products/" + f.ids["product"]},
		"DELETE /api/v1/store/customers/me/addresses/{id}": {Path: "/api/v1/store/customers/me/addresses/" + aAddress.ID.String(),
			Token: bSession.Token},
	}

	written := func() (n, last int64) {
		require.NoError(t, f.env.Main.Pool.QueryRow(ctx, `SELECT count(*), coalesce(max(global_position), 0) FROM events`).Scan(&n, &last))
		return n, last
	}
	beforeN, beforeLast := written()

	ops := idOperations(t)
	require.NotEmpty(t, ops)
	for _, op := range ops {
		route := op.Method + " " + op.Path
		var rq req
		if strings.HasPrefix(op.Path, "/api/v1/store/") {
			r, ok := storefront[route]
			require.True(t, ok, "no call for %s: describe how tenant B calls it with tenant A's ids", route)
			rq, rq.Method, rq.Header = r, op.Method, bShop
		} else {
			r, ok := f.call(t, route)
			require.True(t, ok, "no call for %s: describe how tenant B calls it with tenant A's ids", route)
			rq, rq.Token = r, other.Token
		}
		resp := f.env.Do(t, rq)
		require.Equal(t, http.StatusNotFound, resp.Status, "%s with tenant A's id: %s", route, resp.Body)
		require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"), route)
	}
	f.env.Settle(t)
	afterN, afterLast := written()
	require.Equal(t, beforeN, afterN, "no event was written")
	require.Equal(t, beforeLast, afterLast, "no event was written")

	// Tenant A's own calls still work: the ids were real.
	resp = f.env.Do(t, req{Method: "GET", Path: "/api/v1/store/carts/" + cartID, Header: aShop})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	resp = f.env.Do(t, req{Method: "GET", Path: "/api/v1/store/orders/" + f.ids["order"] + "?token=" + f.ids["order_token"], Header: aShop})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))

	// Creates that reference tenant A's resources are refused field by field.
	for _, c := range []struct {
		path string
		body map[string]any
	}{
		{"/api/v1/admin/products", map[string]any{"title": "x", "categories": []string{f.ids["category"]}}},
		{"/api/v1/admin/products", map[string]any{"title": "x", "vendor_id": f.ids["vendor"]}},
		{"/api/v1/admin/products", map[string]any{"title": "x", "store_id": f.ids["store"]}},
		{"/api/v1/admin/staff", map[string]any{"email": "v@b.example.jp", "name": "x", "role": "vendor", "vendor_id": f.ids["vendor"]}},
		{"/api/v1/admin/categories", map[string]any{"name": "x", "parent_id": f.ids["category"]}},
	} {
		resp := f.env.Do(t, req{Method: "POST", Path: c.path, Token: other.Token, Body: c.body})
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s %v: %s", c.path, c.body, resp.Body)
	}

	// Lists show tenant B's own data only.
	for _, path := range []string{"/api/v1/admin/products", "/api/v1/admin/staff", "/api/v1/admin/categories"} {
		resp := f.env.Do(t, req{Method: "GET", Path: path, Token: other.Token})
		require.Equal(t, http.StatusOK, resp.Status)
		for _, id := range f.ids {
			require.NotContains(t, string(resp.Body), id, path)
		}
	}
}

// The matrix above is driven by the document: it holds the operations the
// router serves with an id in the path (so none escapes it).
func TestIDOperationsCoverTheRoutes(t *testing.T) {
	t.Parallel()
	ops := idOperations(t)
	got := map[string]bool{}
	for _, op := range ops {
		got[op.Method+" "+op.Path] = true
	}
	for _, must := range []string{"GET /api/v1/admin/orders/{id}", "POST /api/v1/store/carts/{id}/checkout",
		"GET /api/v1/admin/history/{kind}/{id}", "DELETE /api/v1/store/carts/{id}/items/{line_id}"} {
		require.True(t, got[must], must)
	}
	require.False(t, got["POST /api/v1/admin/projections/{name}/rebuild"], "a name is not an id")
}
