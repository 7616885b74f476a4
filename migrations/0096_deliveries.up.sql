-- Digital deliveries: one per digital order line, issued on payment. The
-- delivery streams (delivery.*) are the truth; delivery_index is the
-- command side's index, written with their events. Row-level security
-- applies through rls_apply (tenant_id).
CREATE TABLE delivery_index (
    tenant_id     uuid        NOT NULL,
    id            uuid        NOT NULL,
    order_id      uuid        NOT NULL,
    line_id       uuid        NOT NULL,
    sku           text        NOT NULL,
    file          text        NOT NULL,
    max_downloads int         NOT NULL,
    downloads     int         NOT NULL DEFAULT 0,
    generation    int         NOT NULL DEFAULT 1,
    expires_at    timestamptz NOT NULL,
    version       bigint      NOT NULL,
    issued_at     timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX delivery_index_order_ix ON delivery_index (tenant_id, order_id);

-- The key that signs a tenant's download links (HMAC-SHA256), made on first
-- use. Rotating it (deleting the row) voids every link still out.
CREATE TABLE download_keys (
    tenant_id uuid  PRIMARY KEY,
    key       bytea NOT NULL
);
