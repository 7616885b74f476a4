package email_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/shipment"
	"github.com/honten/honten/integrations/email"
	"github.com/honten/honten/internal/apitest"
	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/ordertest"
)

// next waits for the next message at srv and decodes it.
func next(t *testing.T, srv *smtpServer) (received, parsed) {
	t.Helper()
	select {
	case got := <-srv.got:
		return got, parse(t, got.data)
	case <-time.After(120 * time.Second):
		t.Fatal("no message arrived")
		return received{}, parsed{}
	}
}

// From the events to the buyer's mailbox: a bank-transfer order's
// confirmation (account, reference code, amount, deadline), its payment
// confirmed, its parcel shipped (carrier, tracking number), a COD order
// placed and cancelled, each as one Japanese e-mail through SMTP; the
// reminder a day before the deadline, once; and a shop's own subject.
func TestEmailsFromOrderEvents(t *testing.T) {
	t.Parallel()
	srv := newSMTPServer(t)
	env := apitest.NewWith(t, apitest.Options{Configure: func(c *app.Config) {
		c.SMTPURL, c.MailFrom = "smtp://"+srv.addr, "noreply@hooks.example.jp"
	}})
	shop := env.Shop(t, "mail-shop", "single_brand", false)
	m := env.Main
	ctx := context.Background()
	do := func(method, path string, body any) map[string]any {
		resp := env.Do(t, apitest.Req{Method: method, Path: path, Token: shop.Token, Body: body})
		require.Less(t, resp.Status, 300, "%s %s: %s", method, path, resp.Body)
		return resp.Map(t)
	}
	do("PATCH", "/api/v1/admin/settings", map[string]any{
		"bank_account": map[string]any{"bank_name": "みずほ銀行", "bank_code": "0001", "branch_name": "渋谷支店", "branch_code": "210",
			"account_type": "ordinary", "account_number": "1234567", "account_holder": "ﾎﾝﾃﾝ"},
		"email_templates": map[string]any{"cancelled": map[string]any{"subject": "{{.Shop}}：ご注文 {{.OrderNumber}} の取消"}}})
	p := do("POST", "/api/v1/admin/products", map[string]any{"title": "抹茶 100g", "status": "active",
		"variants": []map[string]any{{"sku": "MATCHA-100", "price": map[string]any{"amount": "1000", "currency": "JPY"}}}})
	variant, err := catalog.ParseVariantID(p["variants"].([]any)[0].(map[string]any)["id"].(string))
	require.NoError(t, err)
	by := commands.By{Actor: "test"}
	_, _, err = m.Commands.AdjustInventory(ctx, commands.AdjustInventory{Tenant: shop.Tenant, By: by, Variant: &variant, Delta: ptr(int64(10)), Reason: "test"})
	require.NoError(t, err)
	vendor := uuid.UUID(shop.Created.Vendor.UUID)
	place := func(method order.PaymentMethod) ordertest.Placed {
		pl, err := ordertest.Place(ctx, m.Commands, ordertest.Order{Tenant: shop.Tenant, Method: method, Name: "山田 太郎", Email: "taro@example.jp",
			Lines: []ordertest.Line{{Variant: variant, Vendor: vendor, SKU: "MATCHA-100", Quantity: 2}}})
		require.NoError(t, err)
		return pl
	}

	bank := place(order.PaymentBankTransfer)
	got, mail := next(t, srv)
	require.Contains(t, got.to, "taro@example.jp")
	require.Equal(t, "mail-shop 本店", mail.fromName)
	require.Equal(t, "【mail-shop 本店】ご注文ありがとうございます（注文番号 "+bank.Number+"）", mail.subject)
	require.Contains(t, mail.text, "山田 太郎 様")
	require.Contains(t, mail.text, "Item MATCHA-100 × 2　¥2,000") // ordertest names its lines
	require.Contains(t, mail.text, "お支払い方法：銀行振込")
	require.Contains(t, mail.text, "振込先：みずほ銀行 渋谷支店（支店番号 210）")
	require.Contains(t, mail.text, "普通 1234567")
	require.Contains(t, mail.text, "お振込金額："+email.Yen(bank.Total))
	require.Contains(t, mail.text, "お振込期限："+email.Date(*bank.DueAt))
	require.Contains(t, mail.text, "振込依頼人名："+bank.Reference)
	require.Contains(t, mail.html, "<strong>"+bank.Reference+"</strong>")
	require.NotEmpty(t, bank.Reference)

	// The reminder: not two days before the deadline, once a day before.
	n, err := m.Mail.Reminders(ctx, bank.DueAt.Add(-48*time.Hour), 10)
	require.NoError(t, err)
	require.Zero(t, n)
	env.Settle(t)
	require.Eventually(t, func() bool {
		n, err = m.Mail.Reminders(ctx, bank.DueAt.Add(-20*time.Hour), 10)
		require.NoError(t, err)
		return n == 1
	}, 90*time.Second, 20*time.Millisecond, "the order read model shows the payment")
	n, err = m.Mail.Reminders(ctx, bank.DueAt.Add(-19*time.Hour), 10)
	require.NoError(t, err)
	require.Zero(t, n, "one reminder per order")
	_, mail = next(t, srv)
	require.Equal(t, "【mail-shop 本店】お振込期限が近づいています（注文番号 "+bank.Number+"）", mail.subject)
	require.Contains(t, mail.text, "お振込期限："+email.Date(*bank.DueAt))

	_, err = m.Commands.ConfirmPayment(ctx, commands.ConfirmPayment{Tenant: shop.Tenant, By: by, Order: bank.Order, Amount: bank.Total})
	require.NoError(t, err)
	_, mail = next(t, srv)
	require.Equal(t, "【mail-shop 本店】ご入金を確認しました（注文番号 "+bank.Number+"）", mail.subject)
	require.Contains(t, mail.text, "ご入金 "+email.Yen(bank.Total)+" を確認いたしました")

	env.Settle(t) // the paid order's shipment exists
	_, err = m.Commands.ShipShipment(ctx, commands.ShipShipment{Tenant: shop.Tenant, By: by, Shipment: shipment.IDFor(bank.Order.UUID, vendor),
		Carrier: "yamato", TrackingNo: "4321-8765-0001"})
	require.NoError(t, err)
	_, mail = next(t, srv)
	require.Equal(t, "【mail-shop 本店】商品を発送しました（注文番号 "+bank.Number+"）", mail.subject)
	require.Contains(t, mail.text, "配送業者：ヤマト運輸")
	require.Contains(t, mail.text, "お問い合わせ伝票番号：4321-8765-0001")

	cod := place(order.PaymentCOD)
	_, mail = next(t, srv)
	require.Contains(t, mail.text, "お支払い方法：代金引換")
	require.NotContains(t, mail.text, "振込先")
	_, err = m.Commands.CancelOrder(ctx, commands.CancelOrder{Tenant: shop.Tenant, By: by, Order: cod.Order, Reason: "在庫切れのため"})
	require.NoError(t, err)
	_, mail = next(t, srv)
	require.Equal(t, "mail-shop 本店：ご注文 "+cod.Number+" の取消", mail.subject, "the shop's own subject")
	require.Contains(t, mail.text, "理由：在庫切れのため", "the built-in body")

	env.Settle(t)
	var sent, total int
	require.NoError(t, m.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status = 'sent'), count(*) FROM email_outbox WHERE tenant_id = $1`, shop.Tenant).Scan(&sent, &total))
	require.Equal(t, 6, total, "one message per event and template")
	select {
	case extra := <-srv.got:
		t.Fatalf("an extra message: %s", strings.SplitN(string(extra.data), "\n", 6)[4])
	default:
	}
}

func ptr[T any](v T) *T { return &v }
