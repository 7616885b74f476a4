-- Outbound webhooks. An endpoint is a shop's receiver of events: its URL,
-- the event types it wants (exact names, a name without its version, a
-- prefix ending in ".*", or "*"), the secret its deliveries are signed
-- with (and, during a rotation, the previous one until it expires), and
-- its own cursor over the event feed: the dispatcher reads the feed after
-- it, writes a delivery per matching event and moves it, so a slow or
-- failing endpoint holds back only itself. Deleting an endpoint keeps it
-- (deleted_at) with its delivery log.
-- Row-level security applies through rls_apply (tenant_id).
CREATE TABLE webhook_endpoints (
    id                    uuid        PRIMARY KEY,
    tenant_id             uuid        NOT NULL,
    url                   text        NOT NULL,
    events                text[]      NOT NULL,
    secret                text        NOT NULL,
    previous_secret       text,
    previous_secret_until timestamptz,
    active                boolean     NOT NULL DEFAULT true,
    cursor_tx             xid8        NOT NULL,
    cursor_pos            bigint      NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    deleted_at            timestamptz
);
CREATE INDEX webhook_endpoints_tenant_ix ON webhook_endpoints (tenant_id, id);
CREATE INDEX webhook_endpoints_live_ix ON webhook_endpoints (id) WHERE deleted_at IS NULL AND active;

-- One event to one endpoint: delivered in seq order per endpoint (the head
-- pending delivery blocks the ones behind it), retried with exponential
-- backoff, then dead (the dead letters stay here, retried by hand).
-- body is the exact JSON signed and sent on every attempt.
CREATE TABLE webhook_deliveries (
    id               uuid        PRIMARY KEY,
    seq              bigint      GENERATED ALWAYS AS IDENTITY,
    tenant_id        uuid        NOT NULL,
    endpoint_id      uuid        NOT NULL REFERENCES webhook_endpoints (id),
    event_id         uuid        NOT NULL,
    event_type       text        NOT NULL,
    body             text        NOT NULL,
    status           text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts         int         NOT NULL DEFAULT 0,
    first_attempt_at timestamptz,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_attempt_at  timestamptz,
    last_status      int,
    last_error       text,
    delivered_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_head_ix ON webhook_deliveries (endpoint_id, seq) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_log_ix ON webhook_deliveries (tenant_id, endpoint_id, seq DESC);
