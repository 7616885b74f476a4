package http_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/commands"
	honthttp "github.com/honten/honten/http"
	"github.com/honten/honten/internal/apitest"
	"github.com/honten/honten/internal/app"
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
	resp = env.Do(t, req{Method: "GET", Path: "/api/v1/admin/history/staff/" + paID, Token: owner2})
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
	resp = env.Do(t, req{Method: "GET", Path: "/api/v1/admin/history/staff/" + paID, Token: hq.Token})
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
	require.Equal(t, http.StatusForbidden, env.Do(t, req{Method: "POST", Path: "/api/v1/admin/projections/bank_statements/rebuild", Token: mall.Token}).Status)
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

// hardenedEnv runs Honten behind a "proxy" at 127.0.0.1 (every test
// request comes from there), with tight cart limits, an ops listener, a
// metrics token, short HTTP timeouts and small import bounds.
func hardenedEnv(t *testing.T) *apitest.Env {
	t.Helper()
	return apitest.NewWith(t, apitest.Options{Configure: func(c *app.Config) {
		var err error
		c.TrustedProxies, err = honthttp.ParseTrustedProxies("127.0.0.1/32, ::1")
		require.NoError(t, err)
		c.CartCreateRate, c.CartAddRate = 3, 2
		c.OpsAddr = "127.0.0.1:0"
		c.MetricsToken = "metrics-secret"
		c.HTTPReadHeaderTimeout, c.HTTPReadTimeout = 300*time.Millisecond, 2*time.Second
		c.ImportMaxBytes, c.ImportMaxActive = 4096, 1
		c.PurgeEvery = 50 * time.Millisecond
	}})
}

func TestHardenedServer(t *testing.T) {
	t.Parallel()
	env := hardenedEnv(t)
	from := func(ip string) map[string]string {
		return map[string]string{"X-Tenant": "hardened", "X-Forwarded-For": "198.51.100.99, " + ip}
	}
	shop := env.Shop(t, "hardened", "single_brand", false)
	sellable(t, env, shop, 1000, 100, "HARD-1")

	t.Run("sign-in lockout is per client behind a trusted proxy", func(t *testing.T) {
		t.Parallel()
		signIn := func(ip, pw string) apitest.Response {
			return env.Do(t, req{Method: "POST", Path: "/api/v1/admin/session", Header: from(ip), Body: map[string]string{"email": shop.Owner, "password": pw}})
		}
		for i := range 5 {
			require.Equal(t, http.StatusUnauthorized, signIn("203.0.113.7", fmt.Sprint("wrong ", i)).Status)
		}
		resp := signIn("203.0.113.7", shop.Password)
		require.Equal(t, http.StatusTooManyRequests, resp.Status, "the guessing client waits out its lock")
		wait, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		require.NoError(t, err)
		require.InDelta(t, 900, wait, 60, "15 minutes from the fifth failure")
		require.Equal(t, http.StatusCreated, signIn("203.0.113.8", shop.Password).Status, "the owner, from elsewhere, is not locked out")
	})

	t.Run("cart rate limits per client", func(t *testing.T) {
		t.Parallel()
		create := func(ip string) apitest.Response {
			return env.Do(t, req{Method: "POST", Path: "/api/v1/store/carts", Header: from(ip)})
		}
		var cart map[string]any
		for range 3 {
			resp := create("192.0.2.10")
			require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
			cart = resp.Map(t)
		}
		resp := create("192.0.2.10")
		require.Equal(t, http.StatusTooManyRequests, resp.Status)
		require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
		require.Equal(t, "cart_rate_limited", resp.Map(t)["code"])
		wait, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		require.NoError(t, err)
		require.True(t, wait >= 1 && wait <= 20, "3 a minute: the next within 20 s, got %d", wait)
		require.Equal(t, http.StatusCreated, create("192.0.2.11").Status, "another client is not limited")

		add := func(ip string) apitest.Response {
			h := from(ip)
			h["X-Cart-Token"] = cart["token"].(string)
			return env.Do(t, req{Method: "POST", Path: "/api/v1/store/carts/" + cart["id"].(string) + "/items", Header: h, Body: map[string]any{"sku": "HARD-1", "quantity": 1}})
		}
		for range 2 {
			resp := add("192.0.2.10")
			require.Less(t, resp.Status, 300, string(resp.Body))
		}
		resp = add("192.0.2.10")
		require.Equal(t, http.StatusTooManyRequests, resp.Status)
		require.NotEmpty(t, resp.Header.Get("Retry-After"))
		require.Less(t, add("192.0.2.12").Status, 300)
	})

	t.Run("metrics need the token or the ops listener", func(t *testing.T) {
		t.Parallel()
		resp := env.Do(t, req{Method: "GET", Path: "/metrics"})
		require.Equal(t, http.StatusUnauthorized, resp.Status)
		resp = env.Do(t, req{Method: "GET", Path: "/metrics", Token: "wrong"})
		require.Equal(t, http.StatusUnauthorized, resp.Status)
		resp = env.Do(t, req{Method: "GET", Path: "/metrics", Token: "metrics-secret"})
		require.Equal(t, http.StatusOK, resp.Status)
		require.Contains(t, string(resp.Body), "honten_")
		ops, err := env.HTTP.Get("http://" + env.Main.OpsAddr() + "/metrics")
		require.NoError(t, err)
		ops.Body.Close()
		require.Equal(t, http.StatusOK, ops.StatusCode)
		ops, err = env.HTTP.Get("http://" + env.Main.OpsAddr() + "/api/v1/admin/me")
		require.NoError(t, err)
		ops.Body.Close()
		require.Equal(t, http.StatusNotFound, ops.StatusCode, "the ops listener serves operations only")
	})

	t.Run("a slow client is cut off", func(t *testing.T) {
		t.Parallel()
		for _, partial := range []string{
			"GET /healthz HTTP/1.1\r\nHost: x\r\n", // headers never end
			"POST /api/v1/admin/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{", // body never ends
		} {
			conn, err := net.Dial("tcp", strings.TrimPrefix(env.Base, "http://"))
			require.NoError(t, err)
			_, err = conn.Write([]byte(partial))
			require.NoError(t, err)
			require.NoError(t, conn.SetReadDeadline(time.Now().Add(15*time.Second)))
			_, err = io.ReadAll(conn)
			var ne net.Error
			require.False(t, errors.As(err, &ne) && ne.Timeout(), "the server closed the connection before our 15 s deadline")
			conn.Close()
		}
	})

	t.Run("the workers role purges expired sessions", func(t *testing.T) {
		t.Parallel()
		token := env.SignIn(t, "hardened", shop.Owner, shop.Password)
		sum := sha256.Sum256([]byte(token))
		_, err := env.Main.Pool.Exec(context.Background(), `UPDATE staff_sessions SET expires_at = now() - interval '1 minute' WHERE token_hash = $1`, sum[:])
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			var n int
			require.NoError(t, env.Main.Pool.QueryRow(context.Background(), `SELECT count(*) FROM staff_sessions WHERE token_hash = $1`, sum[:]).Scan(&n))
			return n == 0
		}, 30*time.Second, 10*time.Millisecond)
		require.Equal(t, http.StatusOK, env.Do(t, req{Method: "GET", Path: "/api/v1/admin/me", Token: shop.Token}).Status, "live sessions stay")
	})

	t.Run("imports are bounded in size and number", func(t *testing.T) {
		t.Parallel()
		big := "handle,title,sku,price\n" + strings.Repeat("big,x,BIG-1,100\n", 400)
		resp := upload(t, env, shop.Token, []byte(big))
		require.Equal(t, http.StatusRequestEntityTooLarge, resp.Status, string(resp.Body))
		// One job queued (not started) fills the shop's one slot.
		_, err := env.Main.Imports.Submit(context.Background(), shop.Tenant, uuid.Must(uuid.NewV7()), "test", []byte("handle,title,sku,price\nq,x,Q-1,100\n"))
		require.NoError(t, err)
		resp = upload(t, env, shop.Token, []byte("handle,title,sku,price\nr,x,R-1,100\n"))
		require.Equal(t, http.StatusTooManyRequests, resp.Status, string(resp.Body))
		require.Equal(t, "too_many_imports", resp.Map(t)["code"])
		require.Equal(t, "10", resp.Header.Get("Retry-After"))
	})
}

// The README's sign-in example, as written, signs in (with the password
// filled in).
func TestReadmeSignInExampleWorks(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(readme), "curl -s -X POST localhost:8080/api/v1/admin/session")
	require.True(t, ok, "the README has the sign-in example")
	var cmd strings.Builder
	for _, line := range strings.Split(rest, "\n") {
		cmd.WriteString(strings.TrimSuffix(strings.TrimSpace(line), "\\"))
		cmd.WriteString(" ")
		if !strings.HasSuffix(strings.TrimSpace(line), "\\") {
			break
		}
	}
	header := map[string]string{}
	var body string
	for _, m := range regexp.MustCompile(`(-H|-d) '([^']*)'`).FindAllStringSubmatch(cmd.String(), -1) {
		if m[1] == "-d" {
			body = m[2]
			continue
		}
		k, v, _ := strings.Cut(m[2], ":")
		header[k] = strings.TrimSpace(v)
	}
	require.NotEmpty(t, body, "the example sends a body: %s", cmd.String())
	if _, ok := header["Content-Type"]; !ok {
		header["Content-Type"] = "application/x-www-form-urlencoded" // what curl -d sends unless told
	}

	env := apitest.New(t)
	ctx := context.Background()
	created, _, err := env.Main.Commands.CreateTenant(ctx, commands.CreateTenant{By: commands.By{Actor: "cli"}, Code: "honten-demo", Name: "demo", Type: "single_brand"})
	require.NoError(t, err)
	_, _, err = env.Main.Commands.InviteStaff(ctx, commands.InviteStaff{Tenant: created.Tenant, By: commands.By{Actor: "cli"}, ByRole: "owner",
		Email: "owner@demo.honten.example", Name: "owner", Role: "owner", Password: "the printed password"})
	require.NoError(t, err)
	rq, err := http.NewRequest("POST", env.Base+"/api/v1/admin/session", strings.NewReader(strings.Replace(body, "<printed at start>", "the printed password", 1)))
	require.NoError(t, err)
	for k, v := range header {
		rq.Header.Set(k, v)
	}
	resp, err := env.HTTP.Do(rq)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(out))
}
