-- Read model cart_views (projector cart_views.v1): carts with their lines
-- and each line's reservation status.
CREATE FUNCTION rm_cart_views_v1_create(s text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format($f$
        CREATE TABLE %1$I.carts (
            tenant_id  uuid        NOT NULL,
            id         uuid        NOT NULL,
            token_hash text        NOT NULL,
            currency   char(3)     NOT NULL,
            status     text        NOT NULL,
            order_id   uuid,
            version    bigint      NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            PRIMARY KEY (tenant_id, id)
        );
        CREATE TABLE %1$I.cart_lines (
            tenant_id          uuid        NOT NULL,
            cart_id            uuid        NOT NULL,
            line_id            uuid        NOT NULL,
            position           int         NOT NULL,
            variant_id         uuid        NOT NULL,
            product_id         uuid        NOT NULL,
            sku                text        NOT NULL,
            title              text        NOT NULL,
            quantity           bigint      NOT NULL,
            unit_price         numeric     NOT NULL,
            currency           char(3)     NOT NULL,
            tax_rate           text        NOT NULL,
            fulfillment_type   text        NOT NULL,
            reservation_id     uuid,
            reservation_status text        NOT NULL,
            expires_at         timestamptz,
            PRIMARY KEY (tenant_id, cart_id, line_id)
        )$f$, s);
END
$$;

CREATE FUNCTION rm_cart_views_v1_index(s text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE INDEX IF NOT EXISTS cart_lines_reservation_ix ON %I.cart_lines (reservation_id) WHERE reservation_id IS NOT NULL', s);
END
$$;
