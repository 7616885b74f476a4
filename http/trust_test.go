package http_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/internal/apitest"
)

// A shop owner in the shop where a platform administrator's account lives
// can neither see nor change that account (no password reset, no disable).
func TestPlatformAdminsCannotBeTakenOverByShopStaff(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	hq := env.Shop(t, "hq", "single_brand", true)
	me := env.Do(t, req{Method: "GET", Path: "/api/v1/admin/me", Token: hq.Token})
	require.Equal(t, http.StatusOK, me.Status, string(me.Body))
	paID := me.Map(t)["staff"].(map[string]any)["id"].(string)

	resp := env.Do(t, req{Method: "POST", Path: "/api/v1/admin/staff", Token: hq.Token,
		Body: map[string]any{"email": "owner2@hq.example.jp", "name": "二代目", "role": "owner", "password": "second owner password"}})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	owner2 := env.SignIn(t, "hq", "owner2@hq.example.jp", "second owner password")

	list := env.Do(t, req{Method: "GET", Path: "/api/v1/admin/staff", Token: owner2})
	require.Equal(t, http.StatusOK, list.Status)
	var l struct {
		Items []map[string]any `json:"items"`
	}
	list.JSON(t, &l)
	require.Len(t, l.Items, 1, "the platform administrator is not listed")
	require.Equal(t, "owner2@hq.example.jp", l.Items[0]["email"])

	resp = env.Do(t, req{Method: "GET", Path: "/api/v1/admin/staff/" + paID, Token: owner2})
	require.Equal(t, http.StatusNotFound, resp.Status)
	for _, body := range []map[string]any{{"password": "taken over at last"}, {"status": "disabled"}, {"role": "viewer"}, {"name": "x"}} {
		resp = env.Do(t, req{Method: "PATCH", Path: "/api/v1/admin/staff/" + paID, Token: owner2, Body: body})
		require.Equal(t, http.StatusNotFound, resp.Status, "%v: %s", body, resp.Body)
	}
	// The platform administrator still signs in with the old password, and
	// sees and manages both accounts.
	env.SignIn(t, "hq", hq.Owner, hq.Password)
	list = env.Do(t, req{Method: "GET", Path: "/api/v1/admin/staff", Token: hq.Token})
	list.JSON(t, &l)
	require.Len(t, l.Items, 2)
	resp = env.Do(t, req{Method: "PATCH", Path: "/api/v1/admin/staff/" + paID, Token: hq.Token, Body: map[string]any{"name": "本部"}})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
}

// Changing one's own password signs out every other session; the session
// that changed it stays.
func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	shop := env.Shop(t, "kobe", "single_brand", false)
	other := env.SignIn(t, "kobe", shop.Owner, shop.Password)
	me := env.Do(t, req{Method: "GET", Path: "/api/v1/admin/me", Token: shop.Token})
	id := me.Map(t)["staff"].(map[string]any)["id"].(string)

	resp := env.Do(t, req{Method: "PATCH", Path: "/api/v1/admin/staff/" + id, Token: shop.Token, Body: map[string]any{"password": "a brand new password"}})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	require.Equal(t, http.StatusUnauthorized, env.Do(t, req{Method: "GET", Path: "/api/v1/admin/me", Token: other}).Status, "the other session ended")
	require.Equal(t, http.StatusOK, env.Do(t, req{Method: "GET", Path: "/api/v1/admin/me", Token: shop.Token}).Status, "this session stays")
	env.SignIn(t, "kobe", shop.Owner, "a brand new password")
}

// Read-model status and rebuilds are platform-wide: shop staff get 403 and
// see only their own shop's lag, without positions, counts of other shops
// or error texts.
func TestProjectionsArePlatformOnlyAndShopsSeeTheirOwnLag(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	hq := env.Shop(t, "hq-ops", "single_brand", true)
	mall := env.Shop(t, "ops-mall", "mall", false)

	require.Equal(t, http.StatusForbidden, env.Do(t, req{Method: "GET", Path: "/api/v1/admin/projections", Token: mall.Token}).Status)
	require.Equal(t, http.StatusForbidden, env.Do(t, req{Method: "POST", Path: "/api/v1/admin/projections/audit_log/rebuild", Token: mall.Token}).Status)
	require.Equal(t, http.StatusOK, env.Do(t, req{Method: "GET", Path: "/api/v1/admin/projections", Token: hq.Token}).Status)

	env.Settle(t)
	resp := env.Do(t, req{Method: "GET", Path: "/api/v1/admin/projections/lag", Token: mall.Token})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	var lag struct {
		Items []map[string]any `json:"items"`
	}
	resp.JSON(t, &lag)
	require.NotEmpty(t, lag.Items)
	for _, it := range lag.Items {
		require.ElementsMatch(t, []string{"model", "lag_events", "lag_seconds"}, keys(it), "nothing global")
		require.Equal(t, float64(0), it["lag_events"], "caught up: %v", it)
	}

	// Vendor staff of a mall do not edit the mall's category tree.
	resp = env.Do(t, req{Method: "POST", Path: "/api/v1/admin/vendors", Token: mall.Token, Body: map[string]any{"name": "パン屋", "commission_rate": "0.1"}})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	vendorID := resp.Map(t)["id"].(string)
	resp = env.Do(t, req{Method: "POST", Path: "/api/v1/admin/categories", Token: mall.Token, Body: map[string]any{"name": "パン", "handle": "bread"}})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	catID := resp.Map(t)["id"].(string)
	resp = env.Do(t, req{Method: "POST", Path: "/api/v1/admin/staff", Token: mall.Token, Body: map[string]any{
		"email": "baker@ops-mall.example.jp", "name": "パン職人", "role": "vendor", "vendor_id": vendorID, "password": "baker password 1"}})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	baker := env.SignIn(t, "ops-mall", "baker@ops-mall.example.jp", "baker password 1")
	resp = env.Do(t, req{Method: "POST", Path: "/api/v1/admin/categories", Token: baker, Body: map[string]any{"name": "x", "handle": "x"}})
	require.Equal(t, http.StatusForbidden, resp.Status, string(resp.Body))
	resp = env.Do(t, req{Method: "PATCH", Path: "/api/v1/admin/categories/" + catID, Token: baker, Body: map[string]any{"name": "mine"}})
	require.Equal(t, http.StatusForbidden, resp.Status, string(resp.Body))
	require.Equal(t, http.StatusOK, env.Do(t, req{Method: "GET", Path: "/api/v1/admin/categories", Token: baker}).Status)
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
