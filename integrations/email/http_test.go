package email_test

import (
	"context"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/integrations/email"
	"github.com/honten/honten/internal/apitest"
	"github.com/honten/honten/internal/app"
)

// mailEnv is Honten sending through an in-process SMTP server, with one
// shop whose owner is signed in.
type mailEnv struct {
	env  *apitest.Env
	srv  *smtpServer
	shop apitest.Shop
}

func newMailEnv(t *testing.T, code string) *mailEnv {
	t.Helper()
	srv := newSMTPServer(t)
	env := apitest.NewWith(t, apitest.Options{Configure: func(c *app.Config) {
		c.SMTPURL, c.MailFrom = "smtp://"+srv.addr, "noreply@mail.example.jp"
	}})
	return &mailEnv{env: env, srv: srv, shop: env.Shop(t, code, "single_brand", false)}
}

// admin sends a staff request and checks its status.
func (m *mailEnv) admin(t *testing.T, method, path string, body any, want int) map[string]any {
	t.Helper()
	resp := m.env.Do(t, apitest.Req{Method: method, Path: path, Token: m.shop.Token, Body: body})
	require.Equal(t, want, resp.Status, "%s %s: %s", method, path, resp.Body)
	if len(resp.Body) == 0 || resp.Body[0] != '{' {
		return nil
	}
	return resp.Map(t)
}

// store sends a storefront request (X-Tenant, and the cart token when given).
func (m *mailEnv) store(t *testing.T, method, path, cartToken string, body any, want int, header ...string) map[string]any {
	t.Helper()
	h := map[string]string{"X-Tenant": m.shop.Code}
	if cartToken != "" {
		h["X-Cart-Token"] = cartToken
	}
	for i := 0; i+1 < len(header); i += 2 {
		h[header[i]] = header[i+1]
	}
	resp := m.env.Do(t, apitest.Req{Method: method, Path: "/api/v1/store" + path, Body: body, Header: h})
	require.Equal(t, want, resp.Status, "%s %s: %s", method, path, resp.Body)
	if len(resp.Body) == 0 || resp.Body[0] != '{' {
		return nil
	}
	return resp.Map(t)
}

// checkout buys quantity of sku through a new cart and pays with method.
func (m *mailEnv) checkout(t *testing.T, sku string, quantity int, method string) map[string]any {
	t.Helper()
	cart := m.store(t, "POST", "/carts", "", nil, http.StatusCreated)
	id, tok := cart["id"].(string), cart["token"].(string)
	resp := m.env.Do(t, apitest.Req{Method: "POST", Path: "/api/v1/store/carts/" + id + "/items?wait=5000",
		Header: map[string]string{"X-Tenant": m.shop.Code, "X-Cart-Token": tok}, Body: map[string]any{"sku": sku, "quantity": quantity}})
	require.Contains(t, []int{http.StatusOK, http.StatusAccepted}, resp.Status, string(resp.Body))
	require.Eventually(t, func() bool {
		c := m.store(t, "GET", "/carts/"+id, tok, nil, http.StatusOK)
		lines, _ := c["lines"].([]any)
		return len(lines) == 1 && lines[0].(map[string]any)["reservation"].(map[string]any)["status"] == "reserved"
	}, 2*time.Minute, 20*time.Millisecond, "the line is reserved")
	return m.store(t, "POST", "/carts/"+id+"/checkout", tok, map[string]any{
		"email": "hanako@example.jp", "name": "佐藤 花子", "phone": "090-1111-2222",
		"shipping_address": map[string]any{"postal_code": "060-0001", "prefecture": "北海道", "city": "札幌市中央区", "line1": "北一条西1-1", "line2": ""},
		"payment_method":   method}, http.StatusCreated, "Idempotency-Key", uuid.NewString())
}

// A shop's own version of the password-reset e-mail is what the customer
// receives over SMTP (subject and body, with the one-time code), and the
// registration's verification e-mail comes from the built-in Japanese
// template through the same outbox and sender; the code in the mail works.
func TestCustomerResetMailUsesTheShopTemplate(t *testing.T) {
	t.Parallel()
	m := newMailEnv(t, "reset-shop")
	m.admin(t, "PATCH", "/api/v1/admin/settings", map[string]any{"email_templates": map[string]any{
		"customer_password_reset": map[string]any{"subject": "{{.Shop}}：パスワード再設定のご案内",
			"text": "いつもご利用ありがとうございます。\n再設定コード {{.Code}} を{{.ExpiresAt}}までに入力してください。\n"}}}, http.StatusOK)
	const addr = "sachiko@example.jp"
	m.store(t, "POST", "/customers", "", map[string]any{"email": addr, "password": "first password 1", "name": "鈴木 幸子"}, http.StatusCreated)

	got, mail := next(t, m.srv)
	require.Equal(t, "TO:<"+addr+">", got.to)
	require.Equal(t, "【reset-shop 本店】メールアドレスのご確認", mail.subject, "the built-in template")
	require.Equal(t, "reset-shop 本店", mail.fromName)
	require.Contains(t, mail.text, "鈴木 幸子 様")
	require.Regexp(t, `確認コード：hcv_[A-Za-z0-9_-]+`, mail.text)
	require.Regexp(t, `<strong>hcv_[A-Za-z0-9_-]+</strong>`, mail.html)
	verify := regexp.MustCompile(`hcv_[A-Za-z0-9_-]+`).FindString(mail.text)
	m.store(t, "POST", "/customers/email-verification/confirm", "", map[string]any{"token": verify}, http.StatusOK)

	m.store(t, "POST", "/customers/password-reset", "", map[string]any{"email": addr}, http.StatusAccepted)
	got, mail = next(t, m.srv)
	require.Equal(t, "TO:<"+addr+">", got.to)
	require.Equal(t, "reset-shop 本店：パスワード再設定のご案内", mail.subject, "the shop's subject")
	require.Regexp(t, `^いつもご利用ありがとうございます。\n再設定コード hcr_[A-Za-z0-9_-]+ を\d{4}年\d+月\d+日\(.\) \d\d:\d\dまでに入力してください。\n$`, mail.text, "the shop's body")
	code := regexp.MustCompile(`hcr_[A-Za-z0-9_-]+`).FindString(mail.text)
	require.Contains(t, mail.html, code, "an HTML part made from the shop's text")
	var template string
	require.NoError(t, m.env.Main.Pool.QueryRow(context.Background(),
		`SELECT template FROM email_outbox WHERE tenant_id = $1 AND subject = $2`, m.shop.Tenant, mail.subject).Scan(&template))
	require.Equal(t, email.TemplatePasswordReset, template)

	m.store(t, "POST", "/customers/password-reset/confirm", "", map[string]any{"token": code, "password": "second password 2"}, http.StatusOK)
	m.store(t, "POST", "/customers/session", "", map[string]any{"email": addr, "password": "second password 2"}, http.StatusCreated)
	select {
	case extra := <-m.srv.got:
		t.Fatalf("an extra message: %s", extra.data)
	default:
	}
}

// Over HTTP to the buyer's mailbox: a cash-on-delivery order's
// confirmation (total with the COD fee) and its shipment (carrier,
// tracking number, the amount to hand the carrier); a bank-transfer
// order paid, cancelled and refunded: the refund e-mail names the amount
// and the day it was paid.
func TestCODAndRefundMailsOverHTTP(t *testing.T) {
	t.Parallel()
	m := newMailEnv(t, "cod-shop")
	m.admin(t, "PATCH", "/api/v1/admin/settings", map[string]any{"bank_account": map[string]any{"bank_name": "みずほ銀行", "bank_code": "0001", "branch_name": "本店", "branch_code": "100",
		"account_type": "ordinary", "account_number": "1234567", "account_holder": "ﾎﾝﾃﾝ"}}, http.StatusOK)
	p := m.admin(t, "POST", "/api/v1/admin/products", map[string]any{"title": "煎茶 200g", "status": "active",
		"variants": []map[string]any{{"sku": "SENCHA-200", "price": map[string]any{"amount": "1500", "currency": "JPY"}}}}, http.StatusCreated)
	m.admin(t, "POST", "/api/v1/admin/inventory/adjustments", map[string]any{"variant_id": p["variants"].([]any)[0].(map[string]any)["id"],
		"set": 10, "reason": "入荷"}, http.StatusCreated)

	cod := m.checkout(t, "SENCHA-200", 2, "cod")
	number := cod["order_number"].(string)
	total := cod["totals"].(map[string]any)["total"].(map[string]any)["amount"].(string)
	fee := cod["totals"].(map[string]any)["cod_fee"].(map[string]any)["amount"].(string)
	require.NotEqual(t, "0", fee, "the shop's COD fee is charged")
	got, mail := next(t, m.srv)
	require.Equal(t, "TO:<hanako@example.jp>", got.to)
	require.Equal(t, "【cod-shop 本店】ご注文ありがとうございます（注文番号 "+number+"）", mail.subject)
	require.Equal(t, "cod-shop 本店", mail.fromName)
	require.Contains(t, mail.text, "佐藤 花子 様")
	require.Contains(t, mail.text, "・煎茶 200g × 2　¥3,000")
	require.Contains(t, mail.text, "■ ご請求金額：¥"+commas(total)+"（税込・代引手数料込み）")
	require.Contains(t, mail.text, "お支払い方法：代金引換")
	require.NotContains(t, mail.text, "振込先")
	require.Contains(t, mail.html, "<td>代金引換</td>")

	// The mail can leave before the order views have the order (two
	// consumers of the same events): a 404 is "not there yet".
	var shipment map[string]any
	require.Eventually(t, func() bool {
		resp := m.env.Do(t, apitest.Req{Method: "GET", Path: "/api/v1/admin/orders/" + cod["order_id"].(string), Token: m.shop.Token})
		if resp.Status == http.StatusNotFound {
			return false
		}
		require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
		o := resp.Map(t)
		sh, _ := o["shipments"].([]any)
		if len(sh) == 1 {
			shipment = sh[0].(map[string]any)
		}
		return shipment != nil
	}, 2*time.Minute, 20*time.Millisecond, "the COD order's shipment")
	require.Equal(t, total, shipment["cod_amount"].(map[string]any)["amount"])
	m.admin(t, "POST", "/api/v1/admin/shipments/"+shipment["id"].(string)+"/ship", map[string]any{"carrier": "sagawa", "tracking_no": "5555-6666-7777"}, http.StatusOK)
	_, mail = next(t, m.srv)
	require.Equal(t, "【cod-shop 本店】商品を発送しました（注文番号 "+number+"）", mail.subject)
	require.Contains(t, mail.text, "配送業者：佐川急便")
	require.Contains(t, mail.text, "お問い合わせ伝票番号：5555-6666-7777")
	require.Contains(t, mail.text, "代金引換：お届けの際に ¥"+commas(total)+" をお支払いください。")
	require.Contains(t, mail.html, "<td>佐川急便</td>")

	bank := m.checkout(t, "SENCHA-200", 1, "bank_transfer")
	bankNumber := bank["order_number"].(string)
	bankTotal := bank["totals"].(map[string]any)["total"].(map[string]any)["amount"].(string)
	_, mail = next(t, m.srv)
	require.Equal(t, "【cod-shop 本店】ご注文ありがとうございます（注文番号 "+bankNumber+"）", mail.subject)
	require.Contains(t, mail.text, "お振込金額：¥"+commas(bankTotal))
	m.admin(t, "POST", "/api/v1/admin/orders/"+bank["order_id"].(string)+"/payments/confirm", map[string]any{"amount": map[string]any{"amount": bankTotal, "currency": "JPY"}}, http.StatusOK)
	_, mail = next(t, m.srv)
	require.Equal(t, "【cod-shop 本店】ご入金を確認しました（注文番号 "+bankNumber+"）", mail.subject)
	require.Contains(t, mail.text, "ご入金 ¥"+commas(bankTotal)+" を確認いたしました")
	m.env.Settle(t)
	m.admin(t, "POST", "/api/v1/admin/orders/"+bank["order_id"].(string)+"/cancel", map[string]any{"reason": "品切れのため"}, http.StatusOK)
	_, mail = next(t, m.srv)
	require.Contains(t, mail.text, "理由：品切れのため")
	m.env.Settle(t)
	paidAt := time.Date(2026, 12, 3, 15, 30, 0, 0, time.UTC) // 00:30 on Friday the 4th in Japan
	m.admin(t, "POST", "/api/v1/admin/orders/"+bank["order_id"].(string)+"/refunds", map[string]any{"amount": map[string]any{"amount": "1200", "currency": "JPY"},
		"paid_at": paidAt.Format(time.RFC3339), "reference": "RF-77"}, http.StatusCreated)
	_, mail = next(t, m.srv)
	require.Equal(t, "【cod-shop 本店】ご返金しました（注文番号 "+bankNumber+"）", mail.subject)
	require.Contains(t, mail.text, "佐藤 花子 様")
	require.Contains(t, mail.text, "¥1,200 をご指定の口座へご返金いたしました。", "the part refunded (a second refund pays the rest)")
	require.Contains(t, mail.text, "お振込日：2026年12月4日(金)")
	require.Contains(t, mail.html, "<strong>¥1,200</strong>")
	select {
	case extra := <-m.srv.got:
		t.Fatalf("an extra message: %s", extra.data)
	default:
	}
}

// commas writes a whole yen amount with thousands separators.
func commas(s string) string {
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
