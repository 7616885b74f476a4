-- The payment-deadline sweep reads open bank transfers by due date. Its
-- index leads with due_at (the status test is the index predicate), so a
-- sweep that finds nothing due reads a few index pages, not every open
-- payment. The read model's index function is redefined, and the
-- generations that exist now get the new index.
CREATE OR REPLACE FUNCTION rm_order_views_v1_index(s text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE INDEX IF NOT EXISTS order_views_created_ix ON %I.order_views (tenant_id, created_at DESC, order_id DESC)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS order_views_status_ix ON %I.order_views (tenant_id, status, created_at DESC, order_id DESC)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS order_views_number_ix ON %I.order_views (tenant_id, number)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS order_views_vendors_ix ON %I.order_views USING gin (vendor_ids)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS order_view_payments_order_ix ON %I.order_view_payments (tenant_id, order_id)', s);
    EXECUTE format('DROP INDEX IF EXISTS %I.order_view_payments_due_ix', s);
    EXECUTE format($f$CREATE INDEX IF NOT EXISTS order_view_payments_due_at_ix ON %I.order_view_payments (due_at, payment_id)
        WHERE due_at IS NOT NULL AND status IN ('pending', 'partially_paid')$f$, s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS order_view_shipments_order_ix ON %I.order_view_shipments (tenant_id, order_id)', s);
END
$$;

DO $$
DECLARE g record;
BEGIN
    FOR g IN SELECT schema_name FROM projections WHERE model = 'order_views' AND state IN ('live', 'building')
             AND EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = schema_name) LOOP
        PERFORM rm_order_views_v1_index(g.schema_name);
    END LOOP;
END $$;
