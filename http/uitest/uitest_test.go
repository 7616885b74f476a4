package uitest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/internal/apitest"
	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/browser"
)

// One headless Chromium for the package, started on first use; each test
// gets its own browser context (own cookies) in it.
var (
	browserOnce sync.Once
	browserCtx  context.Context
	browserStop context.CancelFunc
	browserErr  error
	browserDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if browserStop != nil {
		browserStop()
	}
	if browserDir != "" {
		_ = os.RemoveAll(browserDir)
	}
	os.Exit(code)
}

// tab opens a fresh, isolated browser context. A browser that cannot start
// fails the test (in CI and outside it), naming the command that installs it.
func tab(t *testing.T) context.Context {
	t.Helper()
	browserOnce.Do(func() {
		ctx := context.Background()
		var path string
		if path, browserErr = browser.Find(ctx); browserErr != nil {
			return
		}
		if browserDir, browserErr = os.MkdirTemp("", "honten-chromium-"); browserErr != nil {
			return
		}
		browserCtx, browserStop, browserErr = browser.Start(ctx, path, browserDir)
	})
	if browserErr != nil {
		t.Fatalf("browser tests need headless Chromium: %v (install it with: %s)", browserErr, browser.InstallCommand)
	}
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	// Tabs of parallel tests are in the background: let each act as the
	// focused page, so that keyboard focus and key presses behave.
	_, err := chromedp.Call(ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true})
	require.NoError(t, err)
	ctx, cancelT := context.WithTimeout(ctx, 3*time.Minute) // a loaded CI machine under -race is slow
	t.Cleanup(cancelT)
	t.Cleanup(func() {
		if t.Failed() { // what the page showed when the test failed
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if png, err := chromedp.Run(sctx, chromedp.CaptureScreenshot()); err == nil {
				p := filepath.Join(artifacts(t), "failed-"+t.Name()+".png")
				_ = os.WriteFile(p, png, 0o644)
				t.Logf("screenshot of the failure: %s", p)
			}
		}
	})
	return ctx
}

// shop is a running Honten with one shop, its bank account, and a product
// on sale, shown by the storefront at /.
type shop struct {
	env   *apitest.Env
	shop  apitest.Shop
	price int64
}

func newShop(t *testing.T, code string) *shop {
	t.Helper()
	env := apitest.NewWith(t, apitest.Options{Configure: func(c *app.Config) { c.StorefrontShop = code }})
	sh := env.Shop(t, code, "single_brand", false)
	resp := env.Do(t, apitest.Req{Method: "PATCH", Path: "/api/v1/admin/settings", Token: sh.Token, Body: map[string]any{"bank_account": map[string]any{
		"bank_name": "ゆうちょ銀行", "bank_code": "9900", "branch_name": "〇一八", "branch_code": "018", "account_type": "ordinary",
		"account_number": "1234567", "account_holder": "ﾎﾝﾃﾝ"}}})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	ctx := context.Background()
	by := commands.By{Actor: "test", CommandID: uuid.Must(uuid.NewV7())}
	pid, _, err := env.Main.Commands.CreateProduct(ctx, commands.CreateProduct{Tenant: sh.Tenant, By: by, Title: "静岡 煎茶", Handle: "sencha",
		Status: "active", Variants: []commands.VariantInput{{SKU: "SENCHA-100", Title: "100g", Price: money.MustNew(decimal.NewFromInt(1200), money.JPY), TaxRate: "8"}}})
	require.NoError(t, err)
	_, err = env.Main.Commands.SetStock(ctx, commands.SetStock{Tenant: sh.Tenant, By: commands.By{Actor: "test", CommandID: uuid.Must(uuid.NewV7())}, Product: pid,
		Reason: "test", Levels: []commands.StockSet{{Variant: catalog.VariantID{UUID: by.DerivedID(100)}, Location: sh.Created.Location, OnHand: 50}}})
	require.NoError(t, err)
	env.Settle(t)
	return &shop{env: env, shop: sh, price: 1200}
}

// artifacts is where screenshots go: docs/screenshots with
// UPDATE_SCREENSHOTS=1, else SCREENSHOT_DIR or a directory in the temp dir
// (named in the test log).
func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("SCREENSHOT_DIR")
	if os.Getenv("UPDATE_SCREENSHOTS") == "1" {
		dir = filepath.Join("..", "..", "docs", "screenshots")
	} else if dir == "" {
		dir = filepath.Join(os.TempDir(), "honten-ui-screenshots")
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return dir
}

// shot saves a PNG of the viewport as a test artifact.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	p := filepath.Join(artifacts(t), name+".png")
	require.NoError(t, os.WriteFile(p, png, 0o644))
	t.Logf("screenshot: %s", p)
}

// a11yScript lists the page's accessibility faults: no lang, or a form
// control without a label.
const a11yScript = `(() => {
  const bad = [];
  if (!document.documentElement.lang) bad.push("html has no lang");
  document.querySelectorAll("input:not([type=hidden]), select, textarea").forEach(el => {
    const labelled = (el.id && document.querySelector('label[for="' + CSS.escape(el.id) + '"]')) || el.closest("label") ||
      el.getAttribute("aria-label") || el.getAttribute("aria-labelledby");
    if (!labelled) bad.push(el.outerHTML.slice(0, 120));
  });
  return bad;
})()`

// accessible checks the current page's accessibility basics.
func accessible(t *testing.T, ctx context.Context) {
	t.Helper()
	bad, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](a11yScript))
	require.NoError(t, err)
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	require.Empty(t, bad, "accessibility faults on %s", loc)
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(t, err, sel)
	return strings.TrimSpace(s)
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, steps...))
}

// tabTo presses Tab until the element matching sel has the focus, as a
// keyboard-only user would; it fails when the element is not reachable.
func tabTo(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	check := fmt.Sprintf(`document.activeElement === document.querySelector(%q)`, sel)
	for range 80 {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](check))
		require.NoError(t, err)
		if ok {
			return
		}
		do(t, ctx, chromedp.KeyEvent("\t"))
	}
	t.Fatalf("%s is not reachable with the Tab key", sel)
}

// typeInto tabs to a field and types into it.
func typeInto(t *testing.T, ctx context.Context, sel, value string) {
	t.Helper()
	tabTo(t, ctx, sel)
	do(t, ctx, chromedp.KeyEvent(value))
}

// waitText waits (without reloading) until the element shows want: the
// page a form posts to has replaced the one it was on.
func waitText(t *testing.T, ctx context.Context, sel, want string) {
	t.Helper()
	var got string
	require.Eventually(t, func() bool {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ""`, sel)))
		got = strings.TrimSpace(s)
		return err == nil && got == want
	}, 20*time.Second, 50*time.Millisecond, "%s shows %q, want %q", sel, got, want)
}

// clickToLoad clicks the element matching sel, which loads another page,
// and waits until that page has loaded and shows visible. Waiting for
// visible alone is not enough when the page clicked from shows it too: the
// old document would answer before the new one has been parsed.
func clickToLoad(t *testing.T, ctx context.Context, sel, visible string) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__leaving = true`))
	require.NoError(t, err)
	do(t, ctx, chromedp.Click(chromedp.CSS(sel)))
	require.Eventually(t, func() bool {
		loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__leaving !== true && document.readyState === "complete"`))
		return err == nil && loaded
	}, 20*time.Second, 20*time.Millisecond, "clicking %s loads a new page", sel)
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(visible)))
}

// waitFor polls the page (reloading it) until cond holds.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	require.Eventually(t, func() bool {
		if cond() {
			return true
		}
		_ = chromedp.Do(ctx, chromedp.Reload())
		return false
	}, 20*time.Second, 100*time.Millisecond, what)
}

// A guest buys by keyboard alone with a bank transfer and is shown the
// account, the reference and the deadline; staff then sign in, find the
// order, confirm its transfer and ship it, and the timeline grows.
func TestKeyboardCheckoutThenStaffFulfil(t *testing.T) {
	t.Parallel()
	s := newShop(t, "ui-bank")
	ctx := tab(t)
	base := s.env.Base

	do(t, ctx, chromedp.Navigate(base+"/"))
	accessible(t, ctx)
	shot(t, ctx, "storefront-home")
	tabTo(t, ctx, `a[href="/p/sencha"]`)
	do(t, ctx, chromedp.KeyEvent("\r"), chromedp.WaitVisible(chromedp.CSS(`#quantity`)))
	accessible(t, ctx)
	shot(t, ctx, "storefront-product")
	tabTo(t, ctx, `form[action="/cart/items"] button[type=submit]`)
	do(t, ctx, chromedp.KeyEvent("\r"), chromedp.WaitVisible(chromedp.CSS(`#cart`)))
	waitFor(t, ctx, "the line is reserved", func() bool {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#to-checkout").length`))
		return err == nil && n == 1
	})
	require.Contains(t, text(t, ctx, "#cart"), "確保済")
	accessible(t, ctx)
	shot(t, ctx, "storefront-cart")
	tabTo(t, ctx, "#to-checkout")
	do(t, ctx, chromedp.KeyEvent("\r"), chromedp.WaitVisible(chromedp.CSS(`#checkout`)))
	accessible(t, ctx)
	for _, f := range [][2]string{{"#email", "guest@example.jp"}, {"#name", "山田 花子"}, {"#phone", "090-1234-5678"},
		{"#postal_code", "100-0001"}, {"#prefecture", "東京都"}, {"#city", "千代田区"}, {"#line1", "千代田1-1"}} {
		typeInto(t, ctx, f[0], f[1])
	}
	tabTo(t, ctx, "#place-order")
	do(t, ctx, chromedp.KeyEvent("\r"), chromedp.WaitVisible(chromedp.CSS(`#transfer`)))
	accessible(t, ctx)
	shot(t, ctx, "storefront-order")
	require.NotEmpty(t, text(t, ctx, "#reference"))
	require.NotEmpty(t, text(t, ctx, "#deadline"))
	require.Contains(t, text(t, ctx, "#transfer"), "ゆうちょ銀行")
	require.Equal(t, "入金待ち", text(t, ctx, "#order-status"))
	title := text(t, ctx, "h1")
	number := title[strings.LastIndex(title, " ")+1:]

	// Staff: sign in, find the order by its number.
	do(t, ctx, chromedp.Navigate(base+"/admin/orders"), chromedp.WaitVisible(chromedp.CSS(`#password`)))
	accessible(t, ctx)
	do(t, ctx,
		chromedp.SendKeys(chromedp.CSS("#email"), s.shop.Owner),
		chromedp.SendKeys(chromedp.CSS("#password"), s.shop.Password),
		chromedp.Click(chromedp.CSS(`form[action="/admin/signin"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`#q`)))
	accessible(t, ctx)
	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#q"), number))
	clickToLoad(t, ctx, `.filters button`, `#orders`)
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#orders tbody tr").length`))
	require.NoError(t, err)
	require.Equal(t, 1, rows)
	shot(t, ctx, "admin-orders")
	do(t, ctx, chromedp.Click(chromedp.CSS(`#orders tbody a`)), chromedp.WaitVisible(chromedp.CSS(`#timeline`)))
	accessible(t, ctx)
	events := func() int {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#timeline tbody tr").length`))
		require.NoError(t, err)
		return n
	}
	before := events()
	require.Positive(t, before)

	// Confirm the transfer (the form holds the balance due).
	do(t, ctx, chromedp.Click(chromedp.CSS(`#confirm-form button`)))
	waitText(t, ctx, ".flash", "振込を確認しました")
	waitFor(t, ctx, "the order awaits shipment", func() bool { return text(t, ctx, "#order-status") == "出荷待ち" })
	afterPay := events()
	require.Greater(t, afterPay, before)
	shot(t, ctx, "admin-order")

	// Ship with a carrier and tracking number.
	waitFor(t, ctx, "a shipment to ship", func() bool {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".ship-form").length`))
		return err == nil && n == 1
	})
	do(t, ctx, chromedp.SendKeys(chromedp.CSS(`.ship-form input[name=tracking_no]`), "1234-5678-9012"),
		chromedp.Click(chromedp.CSS(`.ship-form button`)))
	waitText(t, ctx, ".flash", "出荷しました")
	waitFor(t, ctx, "the order is shipped", func() bool { return text(t, ctx, "#order-status") == "出荷済" })
	require.Contains(t, text(t, ctx, ".shipment"), "1234-5678-9012")
	require.Greater(t, events(), afterPay)
	require.Contains(t, text(t, ctx, "#timeline"), "staff:")

	// The order as it stood at its first event: awaiting payment.
	do(t, ctx, chromedp.Click(chromedp.CSS(`#timeline a[href$="?at=1"]`)), chromedp.WaitVisible(chromedp.CSS(`#asof`)))
	require.Equal(t, "入金待ち", text(t, ctx, "#asof-status"))

	// The dashboard counts today's order; English is one click away.
	do(t, ctx, chromedp.Navigate(base+"/admin/"), chromedp.WaitVisible(chromedp.CSS(`#today-orders`)))
	require.Equal(t, "1", text(t, ctx, "#today-orders"))
	accessible(t, ctx)
	shot(t, ctx, "admin-dashboard")
	clickToLoad(t, ctx, `a.lang`, `#today-orders`)
	lang, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`))
	require.NoError(t, err)
	require.Equal(t, "en", lang)
	require.Equal(t, "Dashboard", text(t, ctx, "h1"))
}

// A guest pays cash on delivery; staff ship, deliver and record the cash.
// Staff change a price and the storefront shows it.
func TestCODCheckoutAndPriceEdit(t *testing.T) {
	t.Parallel()
	s := newShop(t, "ui-cod")
	ctx := tab(t)
	base := s.env.Base

	do(t, ctx, chromedp.Navigate(base+"/p/sencha"), chromedp.WaitVisible(chromedp.CSS(`#quantity`)))
	require.Contains(t, text(t, ctx, "form .price"), "¥1,200")
	do(t, ctx, chromedp.Click(chromedp.CSS(`form[action="/cart/items"] button`)), chromedp.WaitVisible(chromedp.CSS(`#cart`)))
	waitFor(t, ctx, "the line is reserved", func() bool {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#to-checkout").length`))
		return err == nil && n == 1
	})
	do(t, ctx, chromedp.Click(chromedp.CSS(`#to-checkout`)), chromedp.WaitVisible(chromedp.CSS(`#checkout`)))
	// A missing field is shown on the form, not as an error page.
	do(t, ctx, chromedp.Click(chromedp.CSS(`#pm-cod`)),
		chromedp.SetAttributeValue(chromedp.CSS("#checkout"), "novalidate", ""),
		chromedp.Click(chromedp.CSS(`#place-order`)), chromedp.WaitVisible(chromedp.CSS(`.error`)))
	accessible(t, ctx)
	for _, f := range [][2]string{{"#email", "cod@example.jp"}, {"#name", "佐藤 一郎"}, {"#phone", "06-1234-5678"},
		{"#postal_code", "530-0001"}, {"#prefecture", "大阪府"}, {"#city", "大阪市北区"}, {"#line1", "梅田1-1"}} {
		do(t, ctx, chromedp.SendKeys(chromedp.CSS(f[0]), f[1]))
	}
	do(t, ctx, chromedp.Click(chromedp.CSS(`#place-order`)), chromedp.WaitVisible(chromedp.CSS(`#order-total`)))
	require.Equal(t, "出荷待ち", text(t, ctx, "#order-status"))
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#transfer").length`))
	require.NoError(t, err)
	require.Zero(t, n, "no transfer instructions for COD")

	// Staff sign in and fulfil the COD order.
	do(t, ctx, chromedp.Navigate(base+"/admin/orders?payment_method=cod"), chromedp.WaitVisible(chromedp.CSS(`#password`)),
		chromedp.SendKeys(chromedp.CSS("#email"), s.shop.Owner),
		chromedp.SendKeys(chromedp.CSS("#password"), s.shop.Password),
		chromedp.Click(chromedp.CSS(`form[action="/admin/signin"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`#orders`)),
		chromedp.Click(chromedp.CSS(`#orders tbody a`)), chromedp.WaitVisible(chromedp.CSS(`#timeline`)))
	waitFor(t, ctx, "a shipment to ship", func() bool {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".ship-form").length`))
		return err == nil && n == 1
	})
	do(t, ctx, chromedp.SendKeys(chromedp.CSS(`.ship-form input[name=tracking_no]`), "COD-1"),
		chromedp.Click(chromedp.CSS(`.ship-form button`)))
	waitText(t, ctx, ".flash", "出荷しました")
	do(t, ctx, chromedp.Click(chromedp.CSS(`form[action$="/deliver"] button`)))
	waitText(t, ctx, ".flash", "配達完了にしました")
	do(t, ctx, chromedp.Click(chromedp.CSS(`form[action$="/cod"] button`)))
	waitText(t, ctx, ".flash", "代引回収を記録しました")
	waitFor(t, ctx, "the order completes", func() bool { return text(t, ctx, "#order-status") == "完了" })

	// Edit the price; the storefront shows the new one.
	do(t, ctx, chromedp.Navigate(base+"/admin/products"), chromedp.WaitVisible(chromedp.CSS(`#products`)))
	accessible(t, ctx)
	do(t, ctx, chromedp.Click(chromedp.CSS(`#products tbody a`)), chromedp.WaitVisible(chromedp.CSS(`input[data-sku="SENCHA-100"]`)))
	accessible(t, ctx)
	shot(t, ctx, "admin-product")
	do(t, ctx, chromedp.Clear(chromedp.CSS(`input[data-sku="SENCHA-100"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[data-sku="SENCHA-100"]`), "1480"),
		chromedp.Click(chromedp.CSS(`form[action^="/admin/variants/"] button`)))
	waitText(t, ctx, ".flash", "保存しました")
	do(t, ctx, chromedp.Navigate(base+"/p/sencha"), chromedp.WaitVisible(chromedp.CSS(`#quantity`)))
	waitFor(t, ctx, "the storefront shows the new price", func() bool { return strings.Contains(text(t, ctx, "form .price"), "¥1,480") })
}

// A form posted without the page's CSRF token is refused, and every page
// carries the strict Content-Security-Policy and safe cookie flags.
func TestFormsNeedTheCSRFTokenAndPagesAreLockedDown(t *testing.T) {
	t.Parallel()
	s := newShop(t, "ui-csrf")
	resp, err := http.Get(s.env.Base + "/admin/signin")
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	csp := resp.Header.Get("Content-Security-Policy")
	require.Contains(t, csp, "script-src 'self'")
	require.NotContains(t, csp, "unsafe-inline")
	var csrf *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "honten_csrf" {
			csrf = c
		}
	}
	require.NotNil(t, csrf)
	require.True(t, csrf.HttpOnly)
	require.Equal(t, http.SameSiteLaxMode, csrf.SameSite)

	form := "email=" + s.shop.Owner + "&password=" + strings.ReplaceAll(s.shop.Password, " ", "+")
	req, err := http.NewRequest("POST", s.env.Base+"/admin/signin", strings.NewReader(form))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(csrf)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noRedirect.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "no token in the form")

	req, err = http.NewRequest("POST", s.env.Base+"/admin/signin", strings.NewReader(form+"&csrf="+csrf.Value))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(csrf)
	resp, err = noRedirect.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "honten_session" {
			session = c
		}
	}
	require.NotNil(t, session)
	require.True(t, session.HttpOnly)
	require.Equal(t, http.SameSiteLaxMode, session.SameSite)
	require.False(t, errors.Is(err, http.ErrUseLastResponse))
}

// Staff upload a product CSV in the browser; the progress section follows
// the job by swapping in its fragment (no reload) until it has finished,
// with the row errors. The new backoffice pages pass the accessibility
// checks.
func TestImportProgressLiveAndBackofficePages(t *testing.T) {
	t.Parallel()
	s := newShop(t, "ui-live")
	ctx := tab(t)
	base := s.env.Base
	var csv strings.Builder
	csv.WriteString("handle,title,status,sku,price,tax_rate\n")
	for i := range 300 {
		fmt.Fprintf(&csv, "tea-%03d,お茶 %03d,active,TEA-%03d,%d,8\n", i, i, i, 500+i)
	}
	csv.WriteString("broken,壊れた行,active,BROKEN-1,not-a-price,8\n")
	file := filepath.Join(t.TempDir(), "products.csv")
	require.NoError(t, os.WriteFile(file, []byte(csv.String()), 0o644))

	do(t, ctx, chromedp.Navigate(base+"/admin/imports"), chromedp.WaitVisible(chromedp.CSS(`#password`)),
		chromedp.SendKeys(chromedp.CSS("#email"), s.shop.Owner),
		chromedp.SendKeys(chromedp.CSS("#password"), s.shop.Password),
		chromedp.Click(chromedp.CSS(`form[action="/admin/signin"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`#import-form`)))
	accessible(t, ctx)
	do(t, ctx, chromedp.SetUploadFiles(chromedp.CSS(`#file`), []string{file}),
		chromedp.Click(chromedp.CSS(`#import-form button`)), chromedp.WaitVisible(chromedp.CSS(`#job`)))
	_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__samePage = true`))
	require.NoError(t, err)
	accessible(t, ctx)
	waitText(t, ctx, "#job-status", "完了")
	same, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__samePage === true`))
	require.NoError(t, err)
	require.True(t, same, "the progress was followed without reloading the page")
	require.Contains(t, text(t, ctx, "#row-errors"), "price")
	shot(t, ctx, "admin-import")

	for _, p := range []struct{ path, sel string }{{"/admin/staff", "#invite-form"}, {"/admin/settings", "#settings-form"},
		{"/admin/ledger", "#trial-balance"}, {"/admin/statements", "#statement-form"}, {"/admin/promotions", "#promotion-form"},
		{"/admin/customers", "#q"}, {"/admin/payouts", "#run-form"}} {
		do(t, ctx, chromedp.Navigate(base+p.path), chromedp.WaitVisible(chromedp.CSS(p.sel)))
		accessible(t, ctx)
	}
	do(t, ctx, chromedp.Navigate(base+"/admin/staff"), chromedp.WaitVisible(chromedp.CSS(`#invite-form`)))
	shot(t, ctx, "admin-staff")
}
