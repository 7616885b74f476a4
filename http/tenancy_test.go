package http_test

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/internal/apitest"
)

type req = apitest.Req

func TestSignInAndSettingsWithETags(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	shop := env.Shop(t, "kyoto-tea", "single_brand", false)

	me := env.Do(t, req{Method: "GET", Path: "/api/v1/admin/me", Token: shop.Token})
	require.Equal(t, http.StatusOK, me.Status, string(me.Body))
	require.Equal(t, "owner", me.Map(t)["acting_role"])

	got := env.Do(t, req{Method: "GET", Path: "/api/v1/admin/settings", Token: shop.Token})
	require.Equal(t, http.StatusOK, got.Status)
	tag := got.Header.Get("ETag")
	require.Equal(t, `"1"`, tag)
	settings := got.Map(t)
	require.Equal(t, float64(15), settings["reservation_ttl_minutes"])
	require.Equal(t, map[string]any{"amount": "800", "currency": "JPY"}, settings["shipping_fee"])

	// Two admins edit with the same If-Match: one wins, one gets 412.
	var wg sync.WaitGroup
	statuses := make([]int, 2)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = env.Do(t, req{Method: "PATCH", Path: "/api/v1/admin/settings", Token: shop.Token,
				Header: map[string]string{"If-Match": tag}, Body: map[string]any{"reservation_ttl_minutes": 20 + i}}).Status
		}()
	}
	wg.Wait()
	require.ElementsMatch(t, []int{http.StatusOK, http.StatusPreconditionFailed}, statuses)

	patched := env.Do(t, req{Method: "PATCH", Path: "/api/v1/admin/settings", Token: shop.Token,
		Body: map[string]any{"bank_account": map[string]any{"bank_name": "みずほ銀行", "bank_code": "0001", "branch_name": "本店",
			"branch_code": "100", "account_type": "ordinary", "account_number": "1234567", "account_holder": "ｷｮｳﾄﾁｬ"},
			"tax": map[string]any{"rounding": "half_up"}}})
	require.Equal(t, http.StatusOK, patched.Status, string(patched.Body))
	require.Equal(t, `"3"`, patched.Header.Get("ETag"))
	require.NotEmpty(t, patched.Header.Get("X-Event-Position"))
	m := patched.Map(t)
	require.Equal(t, "half_up", m["tax"].(map[string]any)["rounding"])
	require.Equal(t, true, m["tax"].(map[string]any)["prices_include_tax"], "merge patch keeps siblings")

	for _, bad := range []struct {
		body   any
		status int
	}{
		{map[string]any{"reservation_ttl_minutes": 0}, 422},
		{map[string]any{"bank_account": map[string]any{"bank_code": "12"}}, 422},
		{map[string]any{"shipping_fee": map[string]any{"amount": "800.5", "currency": "JPY"}}, 422},
		{map[string]any{"no_such_setting": 1}, 400},
		{map[string]any{"hosts": []string{"Not A Host"}}, 422},
	} {
		resp := env.Do(t, req{Method: "PATCH", Path: "/api/v1/admin/settings", Token: shop.Token, Body: bad.body})
		require.Equal(t, bad.status, resp.Status, "%v: %s", bad.body, resp.Body)
		require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	}
	stale := env.Do(t, req{Method: "PATCH", Path: "/api/v1/admin/settings", Token: shop.Token,
		Header: map[string]string{"If-Match": `"1"`}, Body: map[string]any{"reservation_ttl_minutes": 30}})
	require.Equal(t, http.StatusPreconditionFailed, stale.Status)
}

func TestStaffLifecycleAndRoleRules(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	shop := env.Shop(t, "umeda", "single_brand", false)
	owner := shop.Token

	inv := env.Do(t, req{Method: "POST", Path: "/api/v1/admin/staff", Token: owner,
		Body: map[string]any{"email": "admin@umeda.example.jp", "name": "管理者", "role": "admin"}})
	require.Equal(t, http.StatusCreated, inv.Status, string(inv.Body))
	admin := inv.Map(t)
	pw := admin["initial_password"].(string)
	require.Len(t, pw, 20)
	adminTok := env.SignIn(t, "umeda", "admin@umeda.example.jp", pw)

	// Admins cannot create owners, nor change the owner.
	resp := env.Do(t, req{Method: "POST", Path: "/api/v1/admin/staff", Token: adminTok,
		Body: map[string]any{"email": "o2@umeda.example.jp", "name": "x", "role": "owner"}})
	require.Equal(t, http.StatusForbidden, resp.Status)
	list := env.Do(t, req{Method: "GET", Path: "/api/v1/admin/staff", Token: adminTok})
	require.Equal(t, http.StatusOK, list.Status)
	var staffList struct {
		Items []map[string]any `json:"items"`
	}
	list.JSON(t, &staffList)
	require.Len(t, staffList.Items, 2)
	var ownerID string
	for _, s := range staffList.Items {
		if s["role"] == "owner" {
			ownerID = s["id"].(string)
		}
	}
	resp = env.Do(t, req{Method: "PATCH", Path: "/api/v1/admin/staff/" + ownerID, Token: adminTok, Body: map[string]any{"status": "disabled"}})
	require.Equal(t, http.StatusForbidden, resp.Status)

	// The last owner cannot be demoted, not even by themself.
	resp = env.Do(t, req{Method: "PATCH", Path: "/api/v1/admin/staff/" + ownerID, Token: owner, Body: map[string]any{"role": "admin"}})
	require.Equal(t, http.StatusConflict, resp.Status, string(resp.Body))

	// Duplicate e-mail (case-insensitive).
	resp = env.Do(t, req{Method: "POST", Path: "/api/v1/admin/staff", Token: owner,
		Body: map[string]any{"email": "ADMIN@umeda.example.jp", "name": "x", "role": "viewer"}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status)

	// Vendor role does not exist in a single-brand shop.
	resp = env.Do(t, req{Method: "POST", Path: "/api/v1/admin/staff", Token: owner,
		Body: map[string]any{"email": "v@umeda.example.jp", "name": "x", "role": "vendor", "vendor_id": shop.Created.Vendor.String()}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status, string(resp.Body))

	// Disabling ends the sessions at once.
	adminID := admin["id"].(string)
	resp = env.Do(t, req{Method: "PATCH", Path: "/api/v1/admin/staff/" + adminID, Token: owner, Body: map[string]any{"status": "disabled"}})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	require.Equal(t, "disabled", resp.Map(t)["status"])
	resp = env.Do(t, req{Method: "GET", Path: "/api/v1/admin/me", Token: adminTok})
	require.Equal(t, http.StatusUnauthorized, resp.Status)
	resp = env.Do(t, req{Method: "POST", Path: "/api/v1/admin/session", Header: map[string]string{"X-Tenant": "umeda"},
		Body: map[string]string{"email": "admin@umeda.example.jp", "password": pw}})
	require.Equal(t, http.StatusUnauthorized, resp.Status)

	// Sign-out ends the session.
	resp = env.Do(t, req{Method: "DELETE", Path: "/api/v1/admin/session", Token: owner})
	require.Equal(t, http.StatusNoContent, resp.Status)
	resp = env.Do(t, req{Method: "GET", Path: "/api/v1/admin/me", Token: owner})
	require.Equal(t, http.StatusUnauthorized, resp.Status)

	// History of a staff member: every event with actor and time.
	owner = env.SignIn(t, "umeda", shop.Owner, shop.Password)
	hist := env.Do(t, req{Method: "GET", Path: "/api/v1/admin/history/staff/" + adminID, Token: owner})
	require.Equal(t, http.StatusOK, hist.Status, string(hist.Body))
	var h struct {
		Items []struct {
			Type  string  `json:"type"`
			Actor *string `json:"actor"`
		} `json:"items"`
	}
	hist.JSON(t, &h)
	var types []string
	for _, it := range h.Items {
		types = append(types, it.Type)
		require.NotNil(t, it.Actor)
	}
	require.Equal(t, []string{"staff.invited.v1", "staff.signed_in.v1", "staff.disabled.v1"}, types)
}

func TestSignInIsThrottled(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	shop := env.Shop(t, "nara", "single_brand", false)
	for i := 0; i < 5; i++ {
		resp := env.Do(t, req{Method: "POST", Path: "/api/v1/admin/session", Header: map[string]string{"X-Tenant": "nara"},
			Body: map[string]string{"email": shop.Owner, "password": fmt.Sprintf("wrong password %d", i)}})
		require.Equal(t, http.StatusUnauthorized, resp.Status)
	}
	resp := env.Do(t, req{Method: "POST", Path: "/api/v1/admin/session", Header: map[string]string{"X-Tenant": "nara"},
		Body: map[string]string{"email": shop.Owner, "password": shop.Password}})
	require.Equal(t, http.StatusTooManyRequests, resp.Status, "even the right password waits out the lock")
	wait, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	require.NoError(t, err)
	require.InDelta(t, 900, wait, 60, "the lock's time left: 15 minutes from the fifth failure")
}

func TestTenantsVendorsAndStores(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	platform := env.Shop(t, "honten-hq", "single_brand", true)
	shop := env.Shop(t, "sapporo", "single_brand", false)

	// Only platform admins create tenants.
	body := map[string]any{"code": "tokyo-mall", "name": "東京モール", "type": "mall"}
	resp := env.Do(t, req{Method: "POST", Path: "/api/v1/admin/tenants", Token: shop.Token, Body: body})
	require.Equal(t, http.StatusForbidden, resp.Status)
	resp = env.Do(t, req{Method: "POST", Path: "/api/v1/admin/tenants", Token: platform.Token, Body: body,
		Header: map[string]string{"Idempotency-Key": "create-tokyo-mall"}})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	mall := resp.Map(t)
	require.Equal(t, "mall", mall["type"])
	require.Equal(t, "JPY", mall["default_currency"])
	// The same request again replays the first response.
	again := env.Do(t, req{Method: "POST", Path: "/api/v1/admin/tenants", Token: platform.Token, Body: body,
		Header: map[string]string{"Idempotency-Key": "create-tokyo-mall"}})
	require.Equal(t, http.StatusCreated, again.Status)
	require.JSONEq(t, string(resp.Body), string(again.Body))
	// The same key with another body is refused.
	other := env.Do(t, req{Method: "POST", Path: "/api/v1/admin/tenants", Token: platform.Token,
		Body: map[string]any{"code": "osaka-mall", "name": "x", "type": "mall"}, Header: map[string]string{"Idempotency-Key": "create-tokyo-mall"}})
	require.Equal(t, http.StatusUnprocessableEntity, other.Status)
	// A taken code is a field error.
	dup := env.Do(t, req{Method: "POST", Path: "/api/v1/admin/tenants", Token: platform.Token, Body: body})
	require.Equal(t, http.StatusUnprocessableEntity, dup.Status)

	// The platform admin acts on the new mall with X-Tenant, as its owner.
	asMall := map[string]string{"X-Tenant": "tokyo-mall"}
	resp = env.Do(t, req{Method: "POST", Path: "/api/v1/admin/vendors", Token: platform.Token, Header: asMall,
		Body: map[string]any{"name": "雑貨屋たなか", "commission_rate": "0.15"}})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	vendorID := resp.Map(t)["id"].(string)
	resp = env.Do(t, req{Method: "PATCH", Path: "/api/v1/admin/vendors/" + vendorID, Token: platform.Token, Header: asMall,
		Body: map[string]any{"commission_rate": "1.5"}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status)
	resp = env.Do(t, req{Method: "PATCH", Path: "/api/v1/admin/vendors/" + vendorID, Token: platform.Token, Header: asMall,
		Body: map[string]any{"status": "suspended"}})
	require.Equal(t, http.StatusOK, resp.Status)
	require.Equal(t, `"2"`, resp.Header.Get("ETag"))
	// A shop owner cannot act on another shop.
	resp = env.Do(t, req{Method: "GET", Path: "/api/v1/admin/vendors", Token: shop.Token, Header: asMall})
	require.Equal(t, http.StatusForbidden, resp.Status)

	// A single-brand shop has exactly its implicit vendor.
	resp = env.Do(t, req{Method: "POST", Path: "/api/v1/admin/vendors", Token: shop.Token, Body: map[string]any{"name": "x"}})
	require.Equal(t, http.StatusConflict, resp.Status)
	resp = env.Do(t, req{Method: "GET", Path: "/api/v1/admin/vendors", Token: shop.Token})
	var vendors struct {
		Items []map[string]any `json:"items"`
	}
	resp.JSON(t, &vendors)
	require.Len(t, vendors.Items, 1)
	require.Equal(t, true, vendors.Items[0]["implicit"])

	// Stores and locations.
	resp = env.Do(t, req{Method: "GET", Path: "/api/v1/admin/stores", Token: shop.Token})
	var stores struct {
		Items []map[string]any `json:"items"`
	}
	resp.JSON(t, &stores)
	require.Len(t, stores.Items, 1, "the default store")
	storeID := stores.Items[0]["id"].(string)
	resp = env.Do(t, req{Method: "POST", Path: "/api/v1/admin/stores/" + storeID + "/locations", Token: shop.Token,
		Body: map[string]any{"code": "osaka-dc", "name": "大阪倉庫"}})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	require.Len(t, resp.Map(t)["locations"], 2)
	resp = env.Do(t, req{Method: "POST", Path: "/api/v1/admin/stores/" + storeID + "/locations", Token: shop.Token,
		Body: map[string]any{"code": "osaka-dc", "name": "again"}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status)
	resp = env.Do(t, req{Method: "POST", Path: "/api/v1/admin/stores", Token: shop.Token, Body: map[string]any{"code": "popup", "name": "ポップアップ"}})
	require.Equal(t, http.StatusCreated, resp.Status)
	resp = env.Do(t, req{Method: "POST", Path: "/api/v1/admin/stores", Token: shop.Token, Body: map[string]any{"code": "Bad Code", "name": "x"}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status)

	// Another tenant's store is a 404.
	resp = env.Do(t, req{Method: "GET", Path: "/api/v1/admin/stores/" + storeID, Token: platform.Token})
	require.Equal(t, http.StatusNotFound, resp.Status)
	resp = env.Do(t, req{Method: "GET", Path: "/api/v1/admin/stores/not-a-uuid", Token: shop.Token})
	require.Equal(t, http.StatusNotFound, resp.Status)

	// Tenants list.
	resp = env.Do(t, req{Method: "GET", Path: "/api/v1/admin/tenants?limit=2", Token: platform.Token})
	require.Equal(t, http.StatusOK, resp.Status)
	var tenants struct {
		Items      []map[string]any `json:"items"`
		NextCursor *string          `json:"next_cursor"`
	}
	resp.JSON(t, &tenants)
	require.Len(t, tenants.Items, 2)
	require.NotNil(t, tenants.NextCursor)
	resp = env.Do(t, req{Method: "GET", Path: "/api/v1/admin/tenants?limit=2&cursor=" + *tenants.NextCursor, Token: platform.Token})
	resp.JSON(t, &tenants)
	require.Len(t, tenants.Items, 1)
	require.Nil(t, tenants.NextCursor)
}
