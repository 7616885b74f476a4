-- The backoffice's order search (q on GET /admin/orders and /admin/orders)
-- is a case-insensitive substring match on number, e-mail and name
-- (ILIKE '%…%'), which no B-tree serves: on a big shop a term that matches
-- only old orders read every row of the shop. Trigram GIN indexes (pg_trgm,
-- installed by 0020) answer each of the three ILIKEs; the planner ORs their
-- bitmaps. fastupdate is off: a search never
-- reads a long pending list of recent orders (orders arrive slowly enough
-- that inserting straight into the index costs nothing worth saving). The read model's index function is redefined, and the
-- generations that exist now get the new indexes.
CREATE OR REPLACE FUNCTION rm_order_views_v2_index(s text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM rm_order_views_v1_index(s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS order_views_customer_ix ON %I.order_views (tenant_id, customer_id, created_at DESC, order_id DESC) WHERE customer_id IS NOT NULL', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS order_views_key_ix ON %I.order_views (tenant_id, pii_key) WHERE pii_key IS NOT NULL', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS order_views_number_trgm_ix ON %I.order_views USING gin (number public.gin_trgm_ops) WITH (fastupdate = off)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS order_views_email_trgm_ix ON %I.order_views USING gin (email public.gin_trgm_ops) WITH (fastupdate = off)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS order_views_name_trgm_ix ON %I.order_views USING gin (name public.gin_trgm_ops) WITH (fastupdate = off)', s);
END
$$;

DO $$
DECLARE g record;
BEGIN
    FOR g IN SELECT schema_name FROM projections WHERE model = 'order_views' AND state IN ('live', 'building')
             AND EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = schema_name) LOOP
        PERFORM rm_order_views_v2_index(g.schema_name);
    END LOOP;
END $$;
