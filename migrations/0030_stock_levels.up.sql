-- Read model stock_levels (projector stock_levels.v1): on hand, reserved and
-- available per variant × location, with the variant's SKU, product and
-- vendor. Side tables: the catalog facts the rows carry (per variant and per
-- product, with the stream versions applied) and the live holds (so that a
-- release knows its location and quantity). SKUs sort bytewise (COLLATE "C")
-- whatever the database's collation, so list pages are stable everywhere.
CREATE FUNCTION rm_stock_levels_v1_create(s text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format($f$
        CREATE TABLE %1$I.stock_levels (
            tenant_id   uuid        NOT NULL,
            variant_id  uuid        NOT NULL,
            location_id uuid        NOT NULL,
            product_id  uuid,
            vendor_id   uuid,
            sku         text        COLLATE "C" NOT NULL DEFAULT '',
            on_hand     bigint      NOT NULL,
            reserved    bigint      NOT NULL,
            available   bigint      GENERATED ALWAYS AS (on_hand - reserved) STORED,
            version     bigint      NOT NULL,
            updated_at  timestamptz NOT NULL,
            PRIMARY KEY (tenant_id, variant_id, location_id)
        );
        CREATE TABLE %1$I.stock_levels_variants (
            tenant_id         uuid   NOT NULL,
            variant_id        uuid   NOT NULL,
            product_id        uuid,
            vendor_id         uuid,
            sku               text   NOT NULL DEFAULT '',
            inventory_version bigint NOT NULL DEFAULT 0,
            PRIMARY KEY (tenant_id, variant_id)
        );
        CREATE TABLE %1$I.stock_levels_products (
            tenant_id  uuid   NOT NULL,
            product_id uuid   NOT NULL,
            vendor_id  uuid,
            version    bigint NOT NULL,
            PRIMARY KEY (tenant_id, product_id)
        );
        CREATE TABLE %1$I.stock_levels_holds (
            tenant_id      uuid   NOT NULL,
            reservation_id uuid   NOT NULL,
            variant_id     uuid   NOT NULL,
            location_id    uuid   NOT NULL,
            quantity       bigint NOT NULL,
            PRIMARY KEY (tenant_id, reservation_id)
        )$f$, s);
END
$$;

CREATE FUNCTION rm_stock_levels_v1_index(s text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE INDEX IF NOT EXISTS stock_levels_sku_ix ON %I.stock_levels (tenant_id, sku, variant_id, location_id)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS stock_levels_sku_key_ix ON %I.stock_levels (tenant_id, upper(sku))', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS stock_levels_location_ix ON %I.stock_levels (tenant_id, location_id)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS stock_levels_vendor_ix ON %I.stock_levels (tenant_id, vendor_id, sku)', s);
END
$$;
