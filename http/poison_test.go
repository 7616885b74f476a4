package http_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/internal/apitest"
)

// poison puts the event of type typ in stream into the poison queue as if
// handler had failed on it every time, and returns its id.
func poison(t *testing.T, env *apitest.Env, stream, typ, handler string) int64 {
	t.Helper()
	var id int64
	require.NoError(t, env.Main.Pool.QueryRow(context.Background(), `
INSERT INTO watermill_poison (uuid, payload, metadata, transaction_id)
SELECT e.event_id::text, e.payload::json, json_build_object(
         'event_type', e.event_type, 'schema_version', e.schema_version::text,
         'tenant_id', e.tenant_id::text, 'stream_type', e.stream_type,
         'stream_id', e.stream_id::text, 'stream_version', e.stream_version::text,
         'position', e.global_position::text, 'tx_id', e.tx_id::text,
         'actor', coalesce(e.actor_id, ''), 'correlation_id', e.correlation_id::text,
         'causation_id', coalesce(e.causation_id::text, ''),
         'recorded_at', to_char(e.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
         'handler_poisoned', $3::text, 'reason_poisoned', 'database unreachable'),
       pg_current_xact_id()
FROM events e WHERE e.stream_id = $1::uuid AND e.event_type = $2
RETURNING "offset"`, stream, typ, handler).Scan(&id))
	return id
}

func TestPoisonedMessagesAreListedAndRetried(t *testing.T) {
	t.Parallel()
	o := newOrderEnv(t)
	p := o.place(t, order.PaymentCOD, 1)
	o.env.Settle(t)
	id := poison(t, o.env, p.Order.String(), "order.placed.v1", "shipments_on_order_placed")
	other := o.env.Shop(t, "other", "single_brand", false)

	ready := o.env.Do(t, req{Method: "GET", Path: "/readyz"})
	require.Equal(t, "1 unresolved (GET /api/v1/admin/poison)", ready.Map(t)["checks"].(map[string]any)["poison"])

	l := o.do(t, "GET", "/api/v1/admin/poison", nil, http.StatusOK)
	require.Len(t, l["items"], 1)
	item := l["items"].([]any)[0].(map[string]any)
	require.Equal(t, "shipments_on_order_placed", item["handler"])
	require.Equal(t, "order.placed.v1", item["event_type"])
	require.Equal(t, "database unreachable", item["reason"])
	require.Nil(t, item["resolved_at"])

	// Another shop's owner neither sees nor retries it.
	resp := o.env.Do(t, req{Method: "GET", Path: "/api/v1/admin/poison", Token: other.Token})
	require.Equal(t, http.StatusOK, resp.Status)
	require.Empty(t, resp.Map(t)["items"])
	retry := fmt.Sprintf("/api/v1/admin/poison/%d/retry", id)
	resp = o.env.Do(t, req{Method: "POST", Path: retry, Token: other.Token})
	require.Equal(t, http.StatusNotFound, resp.Status, string(resp.Body))
	o.do(t, "POST", "/api/v1/admin/staff", map[string]any{"email": "v@orders.example.jp", "name": "見る人", "role": "viewer", "password": "correct horse battery"}, http.StatusCreated)
	resp = o.env.Do(t, req{Method: "POST", Path: retry, Token: o.env.SignIn(t, "orders", "v@orders.example.jp", "correct horse battery")})
	require.Equal(t, http.StatusForbidden, resp.Status)

	before := o.countEvents(t)
	done := o.do(t, "POST", retry, nil, http.StatusOK)
	require.NotNil(t, done["resolved_at"])
	require.Equal(t, float64(1), done["retries"])
	require.Equal(t, before, o.countEvents(t), "the shipment existed: the retry appends nothing")
	ready = o.env.Do(t, req{Method: "GET", Path: "/readyz"})
	require.Equal(t, "ok", ready.Map(t)["checks"].(map[string]any)["poison"])
	resp = o.env.Do(t, req{Method: "POST", Path: "/api/v1/admin/poison/999999/retry", Token: o.shop.Token})
	require.Equal(t, http.StatusNotFound, resp.Status)
}
