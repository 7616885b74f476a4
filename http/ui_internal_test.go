package http

import (
	"io/fs"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// Every message key the templates name is in both languages' catalogs,
// and the catalogs hold the same keys.
func TestUICatalogCoversTheTemplates(t *testing.T) {
	t.Parallel()
	keyRe := regexp.MustCompile(`\{\{t \$?[.A-Za-z]* "([a-z_.]+)"\}\}`)
	names, err := fs.Glob(uiFiles, "ui/templates/*.html")
	require.NoError(t, err)
	used := 0
	for _, n := range names {
		b, err := fs.ReadFile(uiFiles, n)
		require.NoError(t, err)
		for _, m := range keyRe.FindAllStringSubmatch(string(b), -1) {
			used++
			for lang, cat := range catalogs {
				_, ok := cat[m[1]]
				require.True(t, ok, "%s: key %q missing from the %s catalog", n, m[1], lang)
			}
		}
	}
	require.Greater(t, used, 100)
	for k := range catalogs["ja"] {
		_, ok := catalogs["en"][k]
		require.True(t, ok, "key %q has no English", k)
	}
	for k := range catalogs["en"] {
		_, ok := catalogs["ja"][k]
		require.True(t, ok, "key %q has no Japanese", k)
	}
}

// Redirect targets stay on the site.
func TestLocalPathRefusesOtherSites(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/admin/orders?q=1": "/admin/orders?q=1", "//evil.example/": "/", "https://evil.example/": "/",
		"/\\evil.example": "/", "admin": "/", "": "/",
	} {
		require.Equal(t, want, localPath(in, "/"), in)
	}
}

func TestUIPathsLeaveTheAPIAlone(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"/", "/admin/", "/admin/orders/x", "/p/tea", "/c/tea", "/cart", "/checkout", "/order/x", "/static/app.css", "/search"} {
		require.True(t, isUIPath(p), p)
	}
	for _, p := range []string{"/api/v1/store/products", "/healthz", "/readyz", "/metrics", "/openapi.json", "/test/nothing", "/administrator"} {
		require.False(t, isUIPath(p), p)
	}
}
