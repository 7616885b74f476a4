-- Read model customer_views (projector customer_views.v1): customer
-- accounts with their address book, as the backoffice lists them and the
-- customer reads their profile. Rows sealed under a key that was erased show
-- the marker "[erased]".
CREATE FUNCTION rm_customer_views_v1_create(s text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format($f$
        CREATE TABLE %1$I.customers (
            tenant_id      uuid        NOT NULL,
            id             uuid        NOT NULL,
            email          text        NOT NULL,
            name           text        NOT NULL,
            phone          text        NOT NULL DEFAULT '',
            email_verified boolean     NOT NULL DEFAULT false,
            status         text        NOT NULL,
            pii_key        uuid,
            created_at     timestamptz NOT NULL,
            updated_at     timestamptz NOT NULL,
            version        bigint      NOT NULL,
            PRIMARY KEY (tenant_id, id)
        );
        CREATE TABLE %1$I.customer_addresses (
            tenant_id   uuid        NOT NULL,
            customer_id uuid        NOT NULL,
            id          uuid        NOT NULL,
            address     jsonb       NOT NULL,
            pii_key     uuid,
            created_at  timestamptz NOT NULL,
            PRIMARY KEY (tenant_id, id)
        )$f$, s);
END
$$;

CREATE FUNCTION rm_customer_views_v1_index(s text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE INDEX IF NOT EXISTS customers_created_ix ON %I.customers (tenant_id, created_at DESC, id DESC)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS customers_key_ix ON %I.customers (tenant_id, pii_key)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS customer_addresses_customer_ix ON %I.customer_addresses (tenant_id, customer_id)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS customer_addresses_key_ix ON %I.customer_addresses (tenant_id, pii_key)', s);
END
$$;

-- order_views.v2: order_views.v1 and, per order, the customer it belongs to
-- (placed signed in, or a guest order linked by a verified e-mail) and the
-- key its buyer's data was sealed under; order_view_key_owners maps a guest
-- e-mail's key to the customer who verified that e-mail.
CREATE FUNCTION rm_order_views_v2_create(s text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM rm_order_views_v1_create(s);
    EXECUTE format($f$
        ALTER TABLE %1$I.order_views ADD COLUMN customer_id uuid, ADD COLUMN pii_key uuid;
        CREATE TABLE %1$I.order_view_key_owners (
            tenant_id   uuid NOT NULL,
            pii_key     uuid NOT NULL,
            customer_id uuid NOT NULL,
            PRIMARY KEY (tenant_id, pii_key)
        )$f$, s);
END
$$;

CREATE FUNCTION rm_order_views_v2_index(s text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM rm_order_views_v1_index(s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS order_views_customer_ix ON %I.order_views (tenant_id, customer_id, created_at DESC, order_id DESC) WHERE customer_id IS NOT NULL', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS order_views_key_ix ON %I.order_views (tenant_id, pii_key) WHERE pii_key IS NOT NULL', s);
END
$$;
