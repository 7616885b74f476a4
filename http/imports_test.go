package http_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"

	"github.com/honten/honten/internal/apitest"
)

func csvFile(n int) string {
	var b strings.Builder
	b.WriteString("handle,title,description,status,categories,sku,variant_title,option1_name,option1_value,price,tax_rate,stock:main\n")
	for i := 0; i < n; i++ {
		p := i / 3
		title := ""
		if i%3 == 0 {
			title = fmt.Sprintf("商品 %d", p)
		}
		fmt.Fprintf(&b, "item-%d,%s,,active,,SKU-%05d,%d,サイズ,%d,%d,10,%d\n", p, title, i, i%3, i%3, 1000+10*p, i%7)
	}
	return b.String()
}

func waitJob(t *testing.T, env *apitest.Env, token, id string) map[string]any {
	t.Helper()
	var job map[string]any
	require.Eventually(t, func() bool {
		resp := env.Do(t, req{Method: "GET", Path: "/api/v1/admin/imports/" + id, Token: token})
		job = resp.Map(t)
		return job["status"] == "completed" || job["status"] == "failed"
	}, 120*time.Second, 20*time.Millisecond)
	return job
}

func upload(t *testing.T, env *apitest.Env, token string, body []byte) apitest.Response {
	t.Helper()
	return env.Do(t, req{Method: "POST", Path: "/api/v1/admin/imports/products", Token: token, Body: body, Header: map[string]string{"Content-Type": "text/csv"}})
}

func TestCSVImportIsIdempotentAndRoundTrips(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	shop := env.Shop(t, "csv-shop", "single_brand", false)
	events := func() int {
		var n int
		require.NoError(t, env.Main.Pool.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE tenant_id = $1`, shop.Tenant).Scan(&n))
		return n
	}

	resp := upload(t, env, shop.Token, []byte(csvFile(300)))
	require.Equal(t, http.StatusAccepted, resp.Status, string(resp.Body))
	job := waitJob(t, env, shop.Token, resp.Map(t)["id"].(string))
	require.Equal(t, "completed", job["status"], job)
	require.Equal(t, float64(100), job["created"])
	require.Equal(t, float64(300), job["processed_rows"])
	require.Equal(t, float64(0), job["error_count"])

	// The same file again changes nothing: no new events.
	before := events()
	resp = upload(t, env, shop.Token, []byte(csvFile(300)))
	require.Equal(t, http.StatusAccepted, resp.Status)
	job = waitJob(t, env, shop.Token, resp.Map(t)["id"].(string))
	require.Equal(t, float64(100), job["unchanged"], job)
	require.Equal(t, before, events())

	// Export, then import the export: nothing changes either. The export
	// reads the read models; the finished job's position says when they
	// hold everything the import did.
	require.NotEmpty(t, job["position"], job)
	exp := env.Do(t, req{Method: "GET", Path: "/api/v1/admin/exports/products.csv", Token: shop.Token,
		Header: map[string]string{"X-Min-Position": job["position"].(string)}})
	require.Equal(t, http.StatusOK, exp.Status)
	require.Equal(t, "text/csv; charset=utf-8", exp.Header.Get("Content-Type"))
	lines := strings.Split(strings.TrimSpace(string(exp.Body)), "\n")
	require.Len(t, lines, 301)
	require.Contains(t, lines[0], "stock:main")
	resp = upload(t, env, shop.Token, exp.Body)
	require.Equal(t, http.StatusAccepted, resp.Status, string(resp.Body))
	job = waitJob(t, env, shop.Token, resp.Map(t)["id"].(string))
	require.Equal(t, float64(100), job["unchanged"], job)
	require.Equal(t, float64(0), job["error_count"], job)
	require.Equal(t, before, events())

	// A changed price and stock is an update.
	changed := strings.Replace(csvFile(300), "SKU-00000,0,サイズ,0,1000,10,0", "SKU-00000,0,サイズ,0,1500,10,9", 1)
	resp = upload(t, env, shop.Token, []byte(changed))
	job = waitJob(t, env, shop.Token, resp.Map(t)["id"].(string))
	require.Equal(t, float64(1), job["updated"], job)
	require.Equal(t, float64(99), job["unchanged"], job)
}

func TestCSVImportReportsBadRowsAndFiles(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	shop := env.Shop(t, "csv-bad", "single_brand", false)
	file := "handle,title,sku,price,tax_rate,stock:main\n" +
		"ok,良い,OK-1,100,10,1\n" +
		"bad,悪い,BAD-1,100.5,10,1\n" +
		"new,,NEW-1,100,10,1\n" + // a new product needs a title
		"nowhere,どこ,NW-1,100,10,\n" +
		"ok2,同じSKU,ok-1,100,10,1\n" // taken by another product
	sjis, _, err := transform.Bytes(japanese.ShiftJIS.NewEncoder(), []byte(file))
	require.NoError(t, err)
	resp := upload(t, env, shop.Token, sjis)
	require.Equal(t, http.StatusAccepted, resp.Status, string(resp.Body))
	job := waitJob(t, env, shop.Token, resp.Map(t)["id"].(string))
	require.Equal(t, "completed", job["status"])
	require.Equal(t, float64(2), job["created"], job)
	require.Equal(t, float64(3), job["error_count"], job)
	errsList := job["errors"].([]any)
	require.Equal(t, float64(3), errsList[0].(map[string]any)["row"])
	require.Equal(t, "price", errsList[0].(map[string]any)["column"])

	for name, body := range map[string]string{
		"wrong encoding": "handle,sku\n\xff\xfe\x80\x81,\x80\n",
		"unknown column": "handle,sku,colour\nx,X,red\n",
		"empty":          "",
	} {
		resp := upload(t, env, shop.Token, []byte(body))
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s: %s", name, resp.Body)
	}
	resp = env.Do(t, req{Method: "POST", Path: "/api/v1/admin/imports/products", Token: shop.Token, Body: map[string]any{"x": 1}})
	require.Equal(t, http.StatusBadRequest, resp.Status, "JSON is not a CSV")
}
