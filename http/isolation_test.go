package http_test

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Tenant B's owner calls every backoffice route that names a resource with
// tenant A's ids: every one answers 404, and nothing is written.
func TestOtherTenantsIDsAre404AndWriteNothing(t *testing.T) {
	t.Parallel()
	f := newRBACFixture(t) // tenant A: a mall with vendors, products, staff
	other := f.env.Shop(t, "tenant-b", "mall", false)
	countEvents := func() int {
		var n int
		require.NoError(t, f.env.Main.Pool.QueryRow(context.Background(), `SELECT count(*) FROM events`).Scan(&n))
		return n
	}
	before := countEvents()

	perms := f.env.Main.Server.RoutePermissions()
	var routes []string
	for r := range perms {
		if strings.Contains(r, "{id}") || strings.Contains(r, "{kind}") {
			routes = append(routes, r)
		}
	}
	sort.Strings(routes)
	require.NotEmpty(t, routes)
	for _, route := range routes {
		rq, ok := f.call(t, route)
		require.True(t, ok, "no fixture for %s", route)
		rq.Token = other.Token
		resp := f.env.Do(t, rq)
		require.Equal(t, http.StatusNotFound, resp.Status, "%s with tenant A's id: %s", route, resp.Body)
		require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	}

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
	// The storefront of B does not show A's products either.
	resp := f.env.Do(t, req{Method: "GET", Path: "/api/v1/store/products/" + f.ids["product"], Header: map[string]string{"X-Tenant": "tenant-b"}})
	require.Equal(t, http.StatusNotFound, resp.Status)

	require.Equal(t, before, countEvents(), "no event was written")
}
