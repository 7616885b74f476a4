package http_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/order"
)

// inviteAdmin invites an admin to the orders shop and signs them in.
func (o *orderEnv) inviteAdmin(t *testing.T, email string) (id, token string) {
	t.Helper()
	m := o.do(t, "POST", "/api/v1/admin/staff", map[string]any{"email": email, "name": "管理者", "role": "admin", "password": "correct horse battery"}, http.StatusCreated)
	return m["id"].(string), o.env.SignIn(t, "orders", email, "correct horse battery")
}

func (o *orderEnv) onHand(t *testing.T) float64 {
	t.Helper()
	l := o.do(t, "GET", "/api/v1/admin/inventory?variant_id="+o.variant.String(), nil, http.StatusOK)
	return l["items"].([]any)[0].(map[string]any)["on_hand"].(float64)
}

func TestIdempotencyKeysAreScopedPerCaller(t *testing.T) {
	t.Parallel()
	o := newOrderEnv(t)
	_, other := o.inviteAdmin(t, "hanako@orders.example.jp")
	body := map[string]any{"variant_id": o.variant.String(), "delta": 1, "reason": "delivery"}
	first := adjust(t, o.env, o.shop.Token, body, "Idempotency-Key", "delivery-1")
	require.Equal(t, http.StatusCreated, first.Status, string(first.Body))
	second := adjust(t, o.env, other, body, "Idempotency-Key", "delivery-1")
	require.Equal(t, http.StatusCreated, second.Status, string(second.Body))
	require.Empty(t, second.Header.Get("Idempotent-Replayed"), "another caller's key is another key")
	require.Equal(t, float64(12), o.onHand(t), "both deliveries applied")
	again := adjust(t, o.env, other, body, "Idempotency-Key", "delivery-1")
	require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	require.Equal(t, second.Body, again.Body)

	// Two carts checking out with the same key place two orders.
	a, b := o.cartFor(t, 1), o.cartFor(t, 1)
	ra := a.do(t, "POST", "/checkout", checkoutBody, "Idempotency-Key", "checkout")
	rb := b.do(t, "POST", "/checkout", checkoutBody, "Idempotency-Key", "checkout")
	require.Equal(t, http.StatusCreated, ra.Status, string(ra.Body))
	require.Equal(t, http.StatusCreated, rb.Status, string(rb.Body))
	require.NotEqual(t, ra.Map(t)["order_id"], rb.Map(t)["order_id"])
}

func TestIdempotentReplayChecksPermissionFirst(t *testing.T) {
	t.Parallel()
	o := newOrderEnv(t)
	id, token := o.inviteAdmin(t, "hanako@orders.example.jp")
	body := map[string]any{"variant_id": o.variant.String(), "delta": 1, "reason": "delivery"}
	resp := adjust(t, o.env, token, body, "Idempotency-Key", "k-1")
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	o.do(t, "PATCH", "/api/v1/admin/staff/"+id, map[string]any{"role": "viewer"}, http.StatusOK)
	resp = adjust(t, o.env, token, body, "Idempotency-Key", "k-1")
	require.Equal(t, http.StatusForbidden, resp.Status, "a viewer gets no replay: %s", resp.Body)
}

func TestIdempotencyStoresNoSecretReadable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	o := newOrderEnv(t)
	key := "open-" + uuid.NewString()
	created := o.env.Do(t, req{Method: "POST", Path: "/api/v1/store/carts", Header: map[string]string{"X-Tenant": "orders", "Idempotency-Key": key}})
	require.Equal(t, http.StatusCreated, created.Status, string(created.Body))
	cartToken := created.Map(t)["token"].(string)
	invited := o.env.Do(t, req{Method: "POST", Path: "/api/v1/admin/staff", Token: o.shop.Token, Header: map[string]string{"Idempotency-Key": "invite-1"},
		Body: map[string]any{"email": "second@orders.example.jp", "name": "二人目", "role": "viewer"}})
	require.Equal(t, http.StatusCreated, invited.Status, string(invited.Body))
	password := invited.Map(t)["initial_password"].(string)
	require.NotEmpty(t, password)
	b := o.cartFor(t, 1)
	placed := b.do(t, "POST", "/checkout", checkoutBody, "Idempotency-Key", "checkout-1")
	require.Equal(t, http.StatusCreated, placed.Status, string(placed.Body))
	access := placed.Map(t)["access_token"].(string)

	rows, err := o.env.Main.Pool.Query(ctx, `SELECT key, body, headers::text FROM idempotency_keys`)
	require.NoError(t, err)
	n := 0
	for rows.Next() {
		var k string
		var body []byte
		var headers string
		require.NoError(t, rows.Scan(&k, &body, &headers))
		n++
		for _, secret := range []string{cartToken, password, access, key, "invite-1", "checkout-1"} {
			require.False(t, bytes.Contains(body, []byte(secret)), "a secret is readable in a stored body")
			require.NotContains(t, headers, secret)
			require.NotEqual(t, secret, k, "keys are stored hashed")
		}
	}
	require.NoError(t, rows.Err())
	require.Equal(t, 3, n)

	// The callers still get their first responses back.
	again := o.env.Do(t, req{Method: "POST", Path: "/api/v1/store/carts", Header: map[string]string{"X-Tenant": "orders", "Idempotency-Key": key}})
	require.Equal(t, created.Body, again.Body)
	require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	replayed := b.do(t, "POST", "/checkout", checkoutBody, "Idempotency-Key", "checkout-1")
	require.Equal(t, access, replayed.Map(t)["access_token"])
	rinvite := o.env.Do(t, req{Method: "POST", Path: "/api/v1/admin/staff", Token: o.shop.Token, Header: map[string]string{"Idempotency-Key": "invite-1"},
		Body: map[string]any{"email": "second@orders.example.jp", "name": "二人目", "role": "viewer"}})
	require.Equal(t, password, rinvite.Map(t)["initial_password"])
}

func TestOrphanedIdempotencyKeyIsAnsweredNotStuck(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	o := newOrderEnv(t)
	body := map[string]any{"variant_id": o.variant.String(), "delta": 1, "reason": "delivery"}
	first := adjust(t, o.env, o.shop.Token, body, "Idempotency-Key", "delivery-9")
	require.Equal(t, http.StatusCreated, first.Status, string(first.Body))
	// The process died between the commit and storing the response.
	_, err := o.env.Main.Pool.Exec(ctx, `UPDATE idempotency_keys SET status = 0, body = '', created_at = now() - interval '1 hour'`)
	require.NoError(t, err)
	before := o.countEvents(t)
	again := adjust(t, o.env, o.shop.Token, body, "Idempotency-Key", "delivery-9")
	require.Equal(t, http.StatusCreated, again.Status, "not request_in_progress forever: %s", again.Body)
	require.Equal(t, before, o.countEvents(t), "nothing applied twice")
	require.Equal(t, float64(11), o.onHand(t))
	var status int
	require.NoError(t, o.env.Main.Pool.QueryRow(ctx, `SELECT status FROM idempotency_keys`).Scan(&status))
	require.Equal(t, http.StatusCreated, status, "the rebuilt response is stored")
}

func TestIdempotencyKeysArePurgedAfterTheirRetention(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	o := newOrderEnv(t)
	o.place(t, order.PaymentBankTransfer, 1) // one key (checkout)
	body := map[string]any{"variant_id": o.variant.String(), "delta": 1, "reason": "delivery"}
	require.Equal(t, http.StatusCreated, adjust(t, o.env, o.shop.Token, body, "Idempotency-Key", "old").Status)
	_, err := o.env.Main.Pool.Exec(ctx, `UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE status = 201 AND caller LIKE 'staff:%'`)
	require.NoError(t, err)
	n, err := o.env.Main.PurgeIdempotencyKeys(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(1), n)
	var left int
	require.NoError(t, o.env.Main.Pool.QueryRow(ctx, `SELECT count(*) FROM idempotency_keys`).Scan(&left))
	require.Equal(t, 1, left, "the fresh key stays")
}
