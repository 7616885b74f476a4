-- The order search's trigram indexes (0140) take new orders through GIN's
-- pending list again, a small one. With fastupdate off every order view
-- inserted ~60 trigram keys one by one into three GIN trees: about 24 KB
-- of WAL per order, a third of an order's whole WAL (bench checkout,
-- pg_waldump --stats). The pending list takes a row's keys in one append,
-- and merges them into the trees in bulk (key by key, many orders at once)
-- when it passes gin_pending_list_limit or at (auto)vacuum — done by the
-- order_views projector or vacuum, never by a request. A search reads the
-- pending list linearly beside the trees: 256 kB (32 pages) at most, a few
-- hundred recent orders.
CREATE OR REPLACE FUNCTION rm_order_views_v2_index(s text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM rm_order_views_v1_index(s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS order_views_customer_ix ON %I.order_views (tenant_id, customer_id, created_at DESC, order_id DESC) WHERE customer_id IS NOT NULL', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS order_views_key_ix ON %I.order_views (tenant_id, pii_key) WHERE pii_key IS NOT NULL', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS order_views_number_trgm_ix ON %I.order_views USING gin (number public.gin_trgm_ops) WITH (fastupdate = on, gin_pending_list_limit = 256)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS order_views_email_trgm_ix ON %I.order_views USING gin (email public.gin_trgm_ops) WITH (fastupdate = on, gin_pending_list_limit = 256)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS order_views_name_trgm_ix ON %I.order_views USING gin (name public.gin_trgm_ops) WITH (fastupdate = on, gin_pending_list_limit = 256)', s);
END
$$;

DO $$
DECLARE g record;
BEGIN
    FOR g IN SELECT schema_name FROM projections WHERE model = 'order_views' AND state IN ('live', 'building')
             AND EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = schema_name) LOOP
        EXECUTE format('ALTER INDEX IF EXISTS %I.order_views_number_trgm_ix SET (fastupdate = on, gin_pending_list_limit = 256)', g.schema_name);
        EXECUTE format('ALTER INDEX IF EXISTS %I.order_views_email_trgm_ix SET (fastupdate = on, gin_pending_list_limit = 256)', g.schema_name);
        EXECUTE format('ALTER INDEX IF EXISTS %I.order_views_name_trgm_ix SET (fastupdate = on, gin_pending_list_limit = 256)', g.schema_name);
    END LOOP;
END $$;
