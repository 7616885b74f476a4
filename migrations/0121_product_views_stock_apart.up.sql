-- Read model product_views.v2: the stored product document no longer holds
-- the volatile stock figures (the product's available units and in-stock
-- flag, and each variant's). They live in the narrow variant_stock table
-- alone, which a reservation updates, and the queries join them into the
-- document they return (productviews.docSQL): a reservation of a plentiful
-- SKU writes one small variant_stock row instead of rewriting the product's
-- document. Tables as in v1, without products.available; same indexes
-- (rm_product_views_v1_index).
CREATE FUNCTION rm_product_views_v2_create(s text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format($f$
        CREATE TABLE %1$I.products (
            tenant_id    uuid        NOT NULL,
            id           uuid        NOT NULL,
            vendor_id    uuid        NOT NULL,
            store_id     uuid        NOT NULL,
            title        text        NOT NULL,
            handle       text        NOT NULL,
            description  text        NOT NULL,
            status       text        NOT NULL,
            categories   uuid[]      NOT NULL,
            location_ids uuid[]      NOT NULL,
            digital      jsonb,
            currency     char(3),
            price_min    numeric,
            price_max    numeric,
            version      bigint      NOT NULL,
            created_at   timestamptz NOT NULL,
            updated_at   timestamptz NOT NULL,
            doc          jsonb,
            PRIMARY KEY (tenant_id, id)
        );
        CREATE TABLE %1$I.product_variants (
            tenant_id         uuid    NOT NULL,
            id                uuid    NOT NULL,
            product_id        uuid    NOT NULL,
            position          int     NOT NULL,
            sku               text    NOT NULL,
            title             text    NOT NULL,
            options           jsonb   NOT NULL,
            fulfillment_type  text    NOT NULL,
            price             numeric NOT NULL,
            compare_at_price  numeric,
            currency          char(3) NOT NULL,
            tax_rate          text    NOT NULL,
            status            text    NOT NULL,
            is_hot            boolean NOT NULL,
            PRIMARY KEY (tenant_id, id)
        );
        CREATE TABLE %1$I.variant_stock (
            tenant_id  uuid   NOT NULL,
            variant_id uuid   NOT NULL,
            available  bigint NOT NULL,
            version    bigint NOT NULL,
            PRIMARY KEY (tenant_id, variant_id)
        ) WITH (fillfactor = 70);
        CREATE TABLE %1$I.categories (
            tenant_id uuid        NOT NULL,
            id        uuid        NOT NULL,
            name      text        NOT NULL,
            handle    text        NOT NULL,
            parent_id uuid,
            position  int         NOT NULL,
            version   bigint      NOT NULL,
            updated_at timestamptz NOT NULL,
            PRIMARY KEY (tenant_id, id)
        )$f$, s);
END
$$;
