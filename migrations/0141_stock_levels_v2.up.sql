-- Read model stock_levels.v2: the v1 tables without
-- stock_levels_variants.inventory_version. v1 wrote that column on every
-- inventory event (one more row write per reservation, release and
-- adjustment); v2 guards a replayed inventory event with the variant's
-- level rows instead (the highest version among them is the last event that
-- changed anything), so stock_levels_variants is written only when a
-- catalog event names the variant. Same indexes (rm_stock_levels_v1_index).
CREATE FUNCTION rm_stock_levels_v2_create(s text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM rm_stock_levels_v1_create(s);
    EXECUTE format('ALTER TABLE %I.stock_levels_variants DROP COLUMN inventory_version', s);
END
$$;
