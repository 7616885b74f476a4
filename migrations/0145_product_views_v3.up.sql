-- Read model product_views.v3: variant_stock keeps a variant's available
-- units and nothing else. v2 also kept the version of the event that last
-- wrote the row, as a guard against an older figure; a figure equal to the
-- stored one is no longer written (a hold committed at checkout leaves
-- available as it was), and the version a row was last written at then
-- depends on how the log was cut into batches (live tails against a
-- rebuild), where the figure does not. Each batch is applied once, after
-- the one before it, under the checkpoint it moves, so the guard guarded
-- nothing. Tables and indexes otherwise as in v2.
CREATE FUNCTION rm_product_views_v3_create(s text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM rm_product_views_v2_create(s);
    EXECUTE format('ALTER TABLE %I.variant_stock DROP COLUMN version', s);
END
$$;
