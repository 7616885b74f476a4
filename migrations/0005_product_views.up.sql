-- Read model product_views (projector product_views.v1): products with their
-- variants, prices, availability and categories, plus the category tree.
-- Each product row carries its storefront document (doc), rebuilt in the
-- batch that changed it, so a list page is one indexed read.
CREATE FUNCTION rm_product_views_v1_create(s text) RETURNS void
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
            available    bigint      NOT NULL DEFAULT 0,
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
        );
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

CREATE FUNCTION rm_product_views_v1_index(s text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE INDEX IF NOT EXISTS products_store_list_ix ON %I.products (tenant_id, id DESC) WHERE status = ''active''', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS products_admin_list_ix ON %I.products (tenant_id, status, id DESC)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS products_vendor_ix ON %I.products (tenant_id, vendor_id, id DESC)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS products_handle_ix ON %I.products (tenant_id, handle)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS products_categories_ix ON %I.products USING gin (categories)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS product_variants_product_ix ON %I.product_variants (tenant_id, product_id, position)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS product_variants_sku_ix ON %I.product_variants (tenant_id, upper(sku))', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS categories_handle_ix ON %I.categories (tenant_id, handle)', s);
END
$$;
