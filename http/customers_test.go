package http_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/internal/apitest"
)

// syncBuffer is a log sink safe for the process's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var customerToken = regexp.MustCompile(`hc[vr]_[A-Za-z0-9_-]+`)

// outboxToken reads the newest token of template e-mailed to address.
func outboxToken(t *testing.T, env *apitest.Env, template, to string) string {
	t.Helper()
	var body string
	require.NoError(t, env.Main.Pool.QueryRow(context.Background(), `SELECT text_body FROM email_outbox
WHERE template = $1 AND to_address = $2 ORDER BY created_at DESC, id DESC LIMIT 1`, template, to).Scan(&body))
	tok := customerToken.FindString(body)
	require.NotEmpty(t, tok, body)
	return tok
}

// plaintextIn lists where in the whole database (every table of every
// schema: events, read-model generations, idempotency keys, the outbox,
// search documents, ...) any of needles appears, as text or, for binary
// columns, as the hex of its UTF-8 bytes.
func plaintextIn(t *testing.T, env *apitest.Env, needles ...string) []string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, env.Main.Config.DatabaseURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'`)
	require.NoError(t, err)
	tables, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
		var s [2]string
		return s, r.Scan(&s[0], &s[1])
	})
	require.NoError(t, err)
	require.Greater(t, len(tables), 20)
	var found []string
	for _, tb := range tables {
		for _, n := range needles {
			var hits int
			q := fmt.Sprintf(`SELECT count(*) FROM %s.%s x WHERE strpos(x::text, $1) > 0 OR strpos(lower(x::text), $2) > 0`,
				pgx.Identifier{tb[0]}.Sanitize(), pgx.Identifier{tb[1]}.Sanitize())
			require.NoError(t, conn.QueryRow(ctx, q, n, hex.EncodeToString([]byte(n))).Scan(&hits), tb)
			if hits > 0 {
				found = append(found, fmt.Sprintf("%s.%s: %q", tb[0], tb[1], n))
			}
		}
	}
	return found
}

// ledgerLines is the ledger as text, line by line, for comparing.
func ledgerLines(t *testing.T, env *apitest.Env) string {
	t.Helper()
	rows, err := env.Main.Pool.Query(context.Background(), `SELECT string_agg(concat_ws(' ', account, debit, credit, order_id, event_id), E'\n' ORDER BY position, account, debit, credit)
FROM ledger_entries`)
	require.NoError(t, err)
	s, err := pgx.CollectExactlyOneRow(rows, pgx.RowTo[*string])
	require.NoError(t, err)
	require.NotNil(t, s)
	return *s
}

// The proof of customers and forgetting, over HTTP: a guest order, then
// sign-up with the same e-mail, an address, a checkout signed in, the
// e-mail verified (the guest order becomes the customer's), a password
// reset through the outbox; then the customer is forgotten and a guest
// buyer too. Afterwards the orders, their totals and the ledger are
// unchanged, and no plaintext of either person's name, e-mail, phone or
// address is left anywhere in the database or in the logs; a full rebuild
// of every read model still succeeds and shows the marker.
func TestForgettingACustomerLeavesNoPlaintext(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	env := apitest.NewWith(t, apitest.Options{Log: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	shop := env.Shop(t, "forget-shop", "single_brand", false)
	setBank(t, env, shop)
	sellable(t, env, shop, 2400, 50, "SHRED-1")
	store := map[string]string{"X-Tenant": "forget-shop"}
	do := func(method, path, token string, body any, want int) apitest.Response {
		t.Helper()
		resp := env.Do(t, req{Method: method, Path: path, Token: token, Body: body, Header: store})
		require.Equal(t, want, resp.Status, "%s %s: %s", method, path, resp.Body)
		return resp
	}
	admin := func(method, path string, body any, want int) apitest.Response {
		t.Helper()
		resp := env.Do(t, req{Method: method, Path: path, Token: shop.Token, Body: body})
		require.Equal(t, want, resp.Status, "%s %s: %s", method, path, resp.Body)
		return resp
	}
	// The customer's personal data, and a guest's: what must vanish.
	const (
		email, name, phone, phoneDigits = "hanako.shred@example.jp", "忘却 花子", "090-1111-2222", "09011112222"
		city, line1, line2              = "忘却市", "消去町9-8-7", "シュレッダー館101"
		guestEmail, guestName           = "jiro.guest@example.jp", "客人 次郎"
		guestPhone, guestPhoneDigits    = "080-3333-4444", "08033334444"
		guestLine1                      = "匿名台5-5-5"
	)
	customerData := []string{email, name, phoneDigits, phone, city, line1, line2}
	guestData := []string{guestEmail, guestName, guestPhoneDigits, guestPhone, guestLine1}
	checkout := func(b *buyer, token, em, nm, ph, l1, l2 string) map[string]any {
		t.Helper()
		require.Equal(t, http.StatusOK, b.add(t, "SHRED-1", 1).Status)
		h := map[string]string{"X-Tenant": b.shop, "X-Cart-Token": b.token, "Idempotency-Key": "checkout-" + b.cart}
		resp := env.Do(t, req{Method: "POST", Path: "/api/v1/store/carts/" + b.cart + "/checkout", Token: token, Header: h, Body: map[string]any{
			"email": em, "name": nm, "phone": ph, "payment_method": "bank_transfer", "note": "置き配: " + l1,
			"shipping_address": map[string]any{"postal_code": "100-0001", "prefecture": "東京都", "city": city, "line1": l1, "line2": l2}}})
		require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
		return resp.Map(t)
	}

	// 1. A guest order with the e-mail the customer signs up with later.
	early := checkout(newBuyer(t, env, "forget-shop"), "", email, name, phone, line1, line2)

	// 2. Sign up, sign in, the profile and an address.
	me := do("POST", "/api/v1/store/customers", "", map[string]any{"email": email, "password": "first password 1", "name": name}, http.StatusCreated).Map(t)
	customerID := me["id"].(string)
	require.Equal(t, false, me["email_verified"])
	do("POST", "/api/v1/store/customers", "", map[string]any{"email": email, "password": "first password 1", "name": name}, http.StatusConflict)
	do("POST", "/api/v1/store/customers/session", "", map[string]any{"email": email, "password": "wrong password"}, http.StatusUnauthorized)
	sess := do("POST", "/api/v1/store/customers/session", "", map[string]any{"email": email, "password": "first password 1"}, http.StatusCreated).Map(t)
	token := sess["token"].(string)
	do("GET", "/api/v1/store/customers/me", "", nil, http.StatusUnauthorized)
	do("PATCH", "/api/v1/store/customers/me", token, map[string]any{"phone": phone}, http.StatusOK)
	do("PATCH", "/api/v1/store/customers/me", token, map[string]any{"phone": "12"}, http.StatusUnprocessableEntity)
	bad := do("POST", "/api/v1/store/customers/me/addresses", token, map[string]any{"name": name, "phone": phone,
		"postal_code": "1000", "prefecture": "東京県", "city": city, "line1": ""}, http.StatusUnprocessableEntity)
	require.Contains(t, string(bad.Body), "address.postal_code")
	addr := do("POST", "/api/v1/store/customers/me/addresses", token, map[string]any{"name": name, "phone": phone,
		"postal_code": "100-0001", "prefecture": "東京都", "city": city, "line1": line1, "line2": line2}, http.StatusCreated).Map(t)
	require.Equal(t, "100-0001", addr["postal_code"])
	spare := do("POST", "/api/v1/store/customers/me/addresses", token, map[string]any{"name": name, "phone": phone,
		"postal_code": "1000001", "prefecture": "tokyo", "city": city, "line1": line1}, http.StatusCreated).Map(t)
	left := do("DELETE", "/api/v1/store/customers/me/addresses/"+spare["id"].(string), token, nil, http.StatusOK).Map(t)
	require.Len(t, left["items"], 1)

	// 3. Checkout signed in, from the address book.
	mine := checkout(newBuyer(t, env, "forget-shop"), token, email, addr["name"].(string), addr["phone"].(string), addr["line1"].(string), addr["line2"].(string))
	orderIDs := func() []string {
		var out struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
		}
		env.Do(t, req{Method: "GET", Path: "/api/v1/store/customers/me/orders", Token: token, Header: store}).JSON(t, &out)
		var ids []string
		for _, it := range out.Items {
			ids = append(ids, it.ID)
		}
		return ids
	}
	require.Eventually(t, func() bool { return len(orderIDs()) == 1 }, 2*time.Minute, 10*time.Millisecond)
	require.Equal(t, []string{mine["order_id"].(string)}, orderIDs(), "the guest order is not linked before the e-mail is verified")

	// 4. The e-mail verified with the token from the outbox: the guest order is theirs.
	do("POST", "/api/v1/store/customers/email-verification/confirm", "", map[string]any{"token": "hcv_nope"}, http.StatusUnprocessableEntity)
	do("POST", "/api/v1/store/customers/email-verification/confirm", "", map[string]any{"token": outboxToken(t, env, "customer_verify_email", email)}, http.StatusOK)
	require.Eventually(t, func() bool { return len(orderIDs()) == 2 }, 2*time.Minute, 10*time.Millisecond)
	require.ElementsMatch(t, []string{early["order_id"].(string), mine["order_id"].(string)}, orderIDs())

	// 5. Password reset: always 202; the token arrives through the outbox.
	do("POST", "/api/v1/store/customers/password-reset", "", map[string]any{"email": "nobody@example.jp"}, http.StatusAccepted)
	var unknown int
	require.NoError(t, env.Main.Pool.QueryRow(context.Background(), `SELECT count(*) FROM email_outbox WHERE to_address = 'nobody@example.jp'`).Scan(&unknown))
	require.Zero(t, unknown, "no message for an unknown e-mail")
	do("POST", "/api/v1/store/customers/password-reset", "", map[string]any{"email": strings.ToUpper(email)}, http.StatusAccepted)
	reset := outboxToken(t, env, "customer_password_reset", email)
	do("POST", "/api/v1/store/customers/password-reset/confirm", "", map[string]any{"token": reset, "password": "short"}, http.StatusUnprocessableEntity)
	do("POST", "/api/v1/store/customers/password-reset/confirm", "", map[string]any{"token": reset, "password": "second password 2"}, http.StatusOK)
	do("POST", "/api/v1/store/customers/password-reset/confirm", "", map[string]any{"token": reset, "password": "third password 3"}, http.StatusUnprocessableEntity)
	do("GET", "/api/v1/store/customers/me", token, nil, http.StatusUnauthorized)
	do("POST", "/api/v1/store/customers/session", "", map[string]any{"email": email, "password": "first password 1"}, http.StatusUnauthorized)
	token = do("POST", "/api/v1/store/customers/session", "", map[string]any{"email": email, "password": "second password 2"}, http.StatusCreated).Map(t)["token"].(string)

	// 6. A guest buyer, and money: both orders of the customer paid.
	guest := checkout(newBuyer(t, env, "forget-shop"), "", guestEmail, guestName, guestPhone, guestLine1, "")
	for _, o := range []map[string]any{early, mine, guest} {
		admin("POST", "/api/v1/admin/orders/"+o["order_id"].(string)+"/payments/confirm", map[string]any{
			"amount": o["totals"].(map[string]any)["total"], "reference": "transfer " + o["order_number"].(string)}, http.StatusOK)
	}
	env.Settle(t)
	ledger := ledgerLines(t, env)
	list := admin("GET", "/api/v1/admin/customers?q=shred", nil, http.StatusOK).Map(t)
	require.Len(t, list["items"], 1)
	detail := admin("GET", "/api/v1/admin/customers/"+customerID, nil, http.StatusOK)
	require.Contains(t, string(detail.Body), name)
	require.Contains(t, string(detail.Body), "customer.email_verified.v1")
	for _, where := range plaintextIn(t, env, "hcs_", "hcr_", "hcv_") {
		require.True(t, strings.HasPrefix(where, "public.email_outbox:"), "a session or token stored in the clear, besides the message carrying it: %s", where)
	}
	require.NotEmpty(t, plaintextIn(t, env, name), "the read models hold the name until forgotten")
	var inEvents int
	require.NoError(t, env.Main.Pool.QueryRow(context.Background(), `SELECT count(*) FROM events
WHERE strpos(payload::text, $1) > 0 OR strpos(payload::text, $2) > 0 OR strpos(payload::text, $3) > 0`, email, name, line1).Scan(&inEvents))
	require.Zero(t, inEvents, "the log holds the personal data sealed, even before forgetting")

	// 7. Forget the customer, and the guest by e-mail.
	got := admin("POST", "/api/v1/admin/customers/"+customerID+"/forget", nil, http.StatusOK).Map(t)
	require.Equal(t, float64(2), got["keys_destroyed"], "the customer's key and their e-mail's (the guest order)")
	require.Equal(t, float64(0), admin("POST", "/api/v1/admin/customers/"+customerID+"/forget", nil, http.StatusOK).Map(t)["keys_destroyed"])
	got = admin("POST", "/api/v1/admin/customers/forget-guest", map[string]any{"email": guestEmail}, http.StatusOK).Map(t)
	require.Equal(t, float64(1), got["keys_destroyed"])
	do("GET", "/api/v1/store/customers/me", token, nil, http.StatusUnauthorized)
	do("POST", "/api/v1/store/customers/session", "", map[string]any{"email": email, "password": "second password 2"}, http.StatusUnauthorized)
	env.Settle(t)

	check := func(stage string) {
		t.Helper()
		require.Empty(t, plaintextIn(t, env, append(customerData, guestData...)...), "%s: plaintext left", stage)
		for _, o := range []map[string]any{early, mine, guest} {
			d := admin("GET", "/api/v1/admin/orders/"+o["order_id"].(string), nil, http.StatusOK).Map(t)
			require.Equal(t, "[erased]", d["customer"].(map[string]any)["email"], stage)
			require.Equal(t, "[erased]", d["shipping_address"].(map[string]any)["line1"], stage)
			require.Equal(t, o["totals"], d["totals"], "%s: the totals and tax stay", stage)
		}
		require.Equal(t, ledger, ledgerLines(t, env), "%s: the ledger stays", stage)
		c := admin("GET", "/api/v1/admin/customers/"+customerID, nil, http.StatusOK).Map(t)
		require.Equal(t, "[erased]", c["email"], stage)
		require.Equal(t, "forgotten", c["status"], stage)
	}
	check("after forgetting")

	// 8. Every read model rebuilt from the log: the same, still erased.
	for _, model := range env.Main.Runner.Models() {
		require.NoError(t, env.Main.Runner.Rebuild(context.Background(), model, nil), model)
	}
	check("after a full rebuild")

	for _, s := range append(customerData, guestData...) {
		require.NotContains(t, logs.String(), s, "the logs")
	}
	require.NotEmpty(t, logs.String(), "the logs were captured")
}
