package http_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/integrations/files"
	"github.com/honten/honten/internal/apitest"
	"github.com/honten/honten/internal/app"
)

// A digital line's file can live in an S3 bucket (DOWNLOADS_S3_BUCKET):
// the download streams the object from a signed GET; while the bucket
// fails, the buyer gets a 503 and the download is not counted; a missing
// object is a 503 as well, never a 500. (The signing itself is checked
// against AWS's published examples and a verifying endpoint in
// integrations/files.)
func TestDownloadsFromAnS3Bucket(t *testing.T) {
	t.Parallel()
	content := []byte(strings.Repeat("%PDF-1.7 抹茶の淹れ方 ", 4000))
	var failing atomic.Bool
	var gets atomic.Int64
	bucket := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=SHOPKEY/") ||
			r.Header.Get("X-Amz-Date") == "" {
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `<Error><Code>AccessDenied</Code></Error>`)
			return
		}
		gets.Add(1)
		switch {
		case failing.Load():
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `<Error><Code>SlowDown</Code></Error>`)
		case r.URL.EscapedPath() == "/goods/shop-1/guides/%E6%8A%B9%E8%8C%B6.pdf":
			w.Header().Set("Last-Modified", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).Format(http.TimeFormat))
			w.Header().Set("Content-Length", fmt.Sprint(len(content)))
			_, _ = w.Write(content)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `<Error><Code>NoSuchKey</Code></Error>`)
		}
	}))
	t.Cleanup(bucket.Close)
	env := apitest.NewWith(t, apitest.Options{Configure: func(c *app.Config) {
		c.DownloadsDir = ""
		c.DownloadsS3 = &files.S3Config{Endpoint: bucket.URL, Bucket: "goods", Prefix: "shop-1/", Region: "ap-northeast-1",
			AccessKeyID: "SHOPKEY", SecretAccessKey: "shop-secret"}
	}})
	shop := env.Shop(t, "s3-shop", "single_brand", false)
	setBank(t, env, shop)
	digitalProduct(t, env, shop, "GUIDE", 1500, "guides/抹茶.pdf", 5)
	digitalProduct(t, env, shop, "LOST", 500, "guides/missing.pdf", 5)

	b := newBuyer(t, env, "s3-shop")
	require.Equal(t, http.StatusOK, b.add(t, "GUIDE", 1).Status)
	require.Equal(t, http.StatusOK, b.add(t, "LOST", 1).Status)
	resp := b.do(t, "POST", "/checkout", checkoutBody, "Idempotency-Key", "s3-order")
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	o := resp.Map(t)
	orderID := o["order_id"].(string)
	total := amount(o["totals"].(map[string]any)["total"])
	admin := func(method, path string, body any) apitest.Response {
		return env.Do(t, req{Method: method, Path: "/api/v1/admin" + path, Token: shop.Token, Body: body})
	}
	resp = admin("POST", "/orders/"+orderID+"/payments/confirm", map[string]any{"amount": yen(total), "reference": "s3", "received_at": "2026-12-01T08:00:00Z"})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	urls := map[string]string{}
	require.Eventually(t, func() bool {
		items, _ := admin("GET", "/orders/"+orderID+"/deliveries", nil).Map(t)["items"].([]any)
		for _, it := range items {
			d := it.(map[string]any)
			urls[d["sku"].(string)] = d["url"].(string)
		}
		return len(urls) == 2
	}, 30*time.Second, 10*time.Millisecond)
	get := func(u string) apitest.Response {
		return env.Do(t, req{Method: "GET", Path: u, Header: map[string]string{"X-Tenant": "s3-shop"}})
	}
	downloads := func() (n int) {
		require.NoError(t, env.Main.Store.Pool().QueryRow(context.Background(),
			`SELECT count(*) FROM events WHERE event_type = 'delivery.downloaded.v1'`).Scan(&n))
		return n
	}

	resp = get(urls["GUIDE"])
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	require.Equal(t, content, resp.Body)
	require.Equal(t, fmt.Sprint(len(content)), resp.Header.Get("Content-Length"))
	require.Equal(t, `attachment; filename="__.pdf"; filename*=UTF-8''%E6%8A%B9%E8%8C%B6.pdf`, resp.Header.Get("Content-Disposition"))
	require.Equal(t, 1, downloads())

	failing.Store(true)
	resp = get(urls["GUIDE"])
	require.Equal(t, http.StatusServiceUnavailable, resp.Status, string(resp.Body))
	require.Equal(t, "download_unavailable", resp.Map(t)["code"])
	require.Equal(t, 1, downloads(), "a download the bucket could not serve is not counted")
	failing.Store(false)

	resp = get(urls["LOST"])
	require.Equal(t, http.StatusServiceUnavailable, resp.Status, string(resp.Body))
	require.Equal(t, 1, downloads())

	resp = get(urls["GUIDE"])
	require.Equal(t, http.StatusOK, resp.Status)
	require.Equal(t, content, resp.Body)
	require.Equal(t, 2, downloads())
	require.EqualValues(t, 4, gets.Load(), "one GET per download tried")
}
