package http_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/integrations/webhook"
	"github.com/honten/honten/internal/apitest"
	"github.com/honten/honten/internal/app"
)

// webhooks gives the webhook routes something to act on: an endpoint to
// read and change, one to delete, and a dead delivery to retry.
func (f *rbacFixture) webhooks(t *testing.T) {
	t.Helper()
	for _, name := range []string{"webhook", "webhook_delete"} {
		resp := f.env.Do(t, req{Method: "POST", Path: "/api/v1/admin/webhooks", Token: f.shop.Token,
			Body: map[string]any{"url": "https://hooks.example.com/" + name, "events": []string{"order.*"}}})
		require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
		f.ids[name] = resp.Map(t)["id"].(string)
	}
	id := uuid.Must(uuid.NewV7())
	_, err := f.env.Main.Pool.Exec(context.Background(), `INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, event_type, body, status, attempts)
VALUES ($1, $2, $3, $4, 'order.placed.v1', '{}', 'dead', 3)`, id, f.shop.Tenant, f.ids["webhook"], uuid.Must(uuid.NewV7()))
	require.NoError(t, err)
	f.ids["webhook_delivery"] = id.String()
}

// The API end to end: an endpoint registered over HTTP receives the
// shop's events, signed with the secret the API returned, and its log
// shows each delivered; a rotation signs with both secrets; validation
// answers 422 field by field.
func TestWebhooksThroughTheAPI(t *testing.T) {
	t.Parallel()
	env := apitest.NewWith(t, apitest.Options{Configure: func(c *app.Config) { c.WebhookAllowPrivate = true }})
	shop := env.Shop(t, "hooks-shop", "single_brand", false)
	var mu sync.Mutex
	type got struct {
		sig, typ string
		body     []byte
	}
	var received []got
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		received = append(received, got{r.Header.Get(webhook.SignatureHeader), r.Header.Get("Honten-Event-Type"), body})
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	do := func(method, path string, body any) apitest.Response {
		return env.Do(t, req{Method: method, Path: path, Token: shop.Token, Body: body})
	}

	resp := do("POST", "/api/v1/admin/webhooks", map[string]any{"url": "not a url", "events": []string{"Order Placed"}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status, string(resp.Body))
	require.Contains(t, string(resp.Body), `"url"`)
	require.Contains(t, string(resp.Body), `"events[0]"`)
	resp = do("POST", "/api/v1/admin/webhooks", map[string]any{"url": srv.URL, "events": []string{"category.*"}, "extra": 1})
	require.Equal(t, http.StatusBadRequest, resp.Status, string(resp.Body))

	resp = do("POST", "/api/v1/admin/webhooks", map[string]any{"url": srv.URL, "events": []string{"category.*"}})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	ep := resp.Map(t)
	id, secret := ep["id"].(string), ep["secret"].(string)
	require.True(t, strings.HasPrefix(secret, "whsec_"))
	list := do("GET", "/api/v1/admin/webhooks", nil)
	require.Equal(t, http.StatusOK, list.Status)
	require.NotContains(t, string(list.Body), secret, "the secret is shown once")

	for i := range 3 {
		r := do("POST", "/api/v1/admin/categories", map[string]any{"name": fmt.Sprint("棚 ", i), "handle": fmt.Sprint("shelf-", i)})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	}
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(received) == 3 }, 90*time.Second, 10*time.Millisecond)
	mu.Lock()
	for _, g := range received {
		require.Equal(t, "category.created.v1", g.typ)
		require.NoError(t, webhook.Verify(g.sig, g.body, secret, time.Minute, time.Now()))
	}
	mu.Unlock()
	require.Eventually(t, func() bool {
		r := do("GET", "/api/v1/admin/webhooks/"+id+"/deliveries?status=delivered", nil)
		return r.Status == http.StatusOK && len(r.Map(t)["items"].([]any)) == 3
	}, 90*time.Second, 10*time.Millisecond)
	page := do("GET", "/api/v1/admin/webhooks/"+id+"/deliveries?limit=2", nil)
	require.Equal(t, http.StatusOK, page.Status)
	next := page.Map(t)["next_cursor"].(string)
	rest := do("GET", "/api/v1/admin/webhooks/"+id+"/deliveries?limit=2&cursor="+next, nil)
	require.Len(t, rest.Map(t)["items"].([]any), 1)

	resp = do("PATCH", "/api/v1/admin/webhooks/"+id, map[string]any{"secret": "short"})
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status)
	fresh := "the second secret of hooks-shop"
	resp = do("PATCH", "/api/v1/admin/webhooks/"+id, map[string]any{"secret": fresh})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	require.NotNil(t, resp.Map(t)["previous_secret_until"])
	r := do("POST", "/api/v1/admin/categories", map[string]any{"name": "棚 新", "handle": "shelf-new"})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(received) == 4 }, 90*time.Second, 10*time.Millisecond)
	mu.Lock()
	last := received[3]
	mu.Unlock()
	require.NoError(t, webhook.Verify(last.sig, last.body, secret, time.Minute, time.Now()))
	require.NoError(t, webhook.Verify(last.sig, last.body, fresh, time.Minute, time.Now()))

	require.Equal(t, http.StatusNoContent, do("DELETE", "/api/v1/admin/webhooks/"+id, nil).Status)
	require.Equal(t, http.StatusNoContent, do("DELETE", "/api/v1/admin/webhooks/"+id, nil).Status)
	require.Equal(t, http.StatusNotFound, do("PATCH", "/api/v1/admin/webhooks/"+id, map[string]any{"active": false}).Status)
	logAfter := do("GET", "/api/v1/admin/webhooks/"+id+"/deliveries", nil)
	require.Equal(t, http.StatusOK, logAfter.Status, "a deleted endpoint's log stays")
	items := logAfter.Map(t)["items"].([]any)
	retry := do("POST", "/api/v1/admin/webhook-deliveries/"+items[0].(map[string]any)["id"].(string)+"/retry", nil)
	require.Equal(t, http.StatusConflict, retry.Status, string(retry.Body))
}

// An order's webhook carries the buyer in the clear (the integration
// needs the address), while the delivery log keeps the event sealed as the
// log does: forgetting the buyer leaves nothing of theirs in it.
func TestWebhookOpensTheBuyerOnlyOnTheWire(t *testing.T) {
	t.Parallel()
	env := apitest.NewWith(t, apitest.Options{Configure: func(c *app.Config) { c.WebhookAllowPrivate = true }})
	shop := env.Shop(t, "sealed-hooks", "single_brand", false)
	setBank(t, env, shop)
	sellable(t, env, shop, 1200, 5, "HOOK-1")
	bodies := make(chan []byte, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies <- b
	}))
	t.Cleanup(srv.Close)
	resp := env.Do(t, req{Method: "POST", Path: "/api/v1/admin/webhooks", Token: shop.Token,
		Body: map[string]any{"url": srv.URL, "events": []string{"order.placed"}}})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))

	b := newBuyer(t, env, "sealed-hooks")
	require.Equal(t, http.StatusOK, b.add(t, "HOOK-1", 1).Status)
	resp = b.do(t, "POST", "/checkout", checkoutBody, "Idempotency-Key", "sealed-hook-order")
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	var body []byte
	select {
	case body = <-bodies:
	case <-time.After(90 * time.Second):
		t.Fatal("no delivery")
	}
	require.Contains(t, string(body), "山田 太郎", "the receiver gets the buyer opened")
	require.Contains(t, string(body), "神南1-2-3")
	var clear int
	require.NoError(t, env.Main.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM webhook_deliveries WHERE strpos(body, '山田 太郎') > 0 OR strpos(body, 'taro@example.jp') > 0`).Scan(&clear))
	require.Zero(t, clear, "the delivery log keeps the payload sealed")
}
