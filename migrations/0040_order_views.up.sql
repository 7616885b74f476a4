-- Read model order_views (projector order_views.v1): orders after checkout
-- as the backoffice and the buyer read them. One row per order (customer,
-- lines, totals, status), and beside it the order's payments (amount,
-- received, refund due, receipts, the bank-transfer instructions), its
-- shipments (one per vendor) and its status history. Every row carries its
-- stream's version: an event applies only above it, so a replay changes
-- nothing.
CREATE FUNCTION rm_order_views_v1_create(s text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format($f$
        CREATE TABLE %1$I.order_views (
            tenant_id         uuid        NOT NULL,
            order_id          uuid        NOT NULL,
            number            text        COLLATE "C" NOT NULL,
            status            text        NOT NULL,
            payment_method    text        NOT NULL,
            payment_id        uuid,
            cart_id           uuid,
            email             text        NOT NULL,
            name              text        NOT NULL,
            phone             text        NOT NULL,
            shipping_address  jsonb       NOT NULL,
            note              text        NOT NULL DEFAULT '',
            lines             jsonb       NOT NULL,
            totals            jsonb       NOT NULL,
            total             numeric     NOT NULL,
            currency          char(3)     NOT NULL,
            vendor_ids        uuid[]      NOT NULL,
            access_token_hash text        NOT NULL,
            created_at        timestamptz NOT NULL,
            updated_at        timestamptz NOT NULL,
            version           bigint      NOT NULL,
            PRIMARY KEY (tenant_id, order_id)
        );
        CREATE TABLE %1$I.order_view_history (
            tenant_id   uuid        NOT NULL,
            order_id    uuid        NOT NULL,
            version     bigint      NOT NULL,
            from_status text,
            to_status   text        NOT NULL,
            reason      text        NOT NULL,
            actor       text        NOT NULL,
            at          timestamptz NOT NULL,
            PRIMARY KEY (tenant_id, order_id, version)
        );
        CREATE TABLE %1$I.order_view_payments (
            tenant_id      uuid        NOT NULL,
            payment_id     uuid        NOT NULL,
            order_id       uuid        NOT NULL,
            method         text        NOT NULL,
            status         text        NOT NULL,
            currency       char(3)     NOT NULL,
            amount         numeric     NOT NULL,
            received       numeric     NOT NULL DEFAULT 0,
            refund_due     numeric     NOT NULL DEFAULT 0,
            reference_code text        NOT NULL DEFAULT '',
            due_at         timestamptz,
            bank_account   jsonb,
            receipts       jsonb       NOT NULL DEFAULT '[]',
            created_at     timestamptz NOT NULL,
            updated_at     timestamptz NOT NULL,
            version        bigint      NOT NULL,
            PRIMARY KEY (tenant_id, payment_id)
        );
        CREATE TABLE %1$I.order_view_shipments (
            tenant_id    uuid        NOT NULL,
            shipment_id  uuid        NOT NULL,
            order_id     uuid        NOT NULL,
            vendor_id    uuid        NOT NULL,
            status       text        NOT NULL,
            carrier      text        NOT NULL DEFAULT '',
            tracking_no  text        NOT NULL DEFAULT '',
            lines        jsonb       NOT NULL,
            currency     char(3)     NOT NULL,
            cod_amount   numeric     NOT NULL,
            created_at   timestamptz NOT NULL,
            shipped_at   timestamptz,
            delivered_at timestamptz,
            cancelled_at timestamptz,
            updated_at   timestamptz NOT NULL,
            version      bigint      NOT NULL,
            PRIMARY KEY (tenant_id, shipment_id)
        )$f$, s);
END
$$;

CREATE FUNCTION rm_order_views_v1_index(s text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE INDEX IF NOT EXISTS order_views_created_ix ON %I.order_views (tenant_id, created_at DESC, order_id DESC)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS order_views_status_ix ON %I.order_views (tenant_id, status, created_at DESC, order_id DESC)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS order_views_number_ix ON %I.order_views (tenant_id, number)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS order_views_vendors_ix ON %I.order_views USING gin (vendor_ids)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS order_view_payments_order_ix ON %I.order_view_payments (tenant_id, order_id)', s);
    -- The payment-deadline sweep: open bank transfers by due date.
    EXECUTE format($f$CREATE INDEX IF NOT EXISTS order_view_payments_due_ix ON %I.order_view_payments (status, due_at)
        WHERE due_at IS NOT NULL AND status IN ('pending', 'partially_paid')$f$, s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS order_view_shipments_order_ix ON %I.order_view_shipments (tenant_id, order_id)', s);
END
$$;
