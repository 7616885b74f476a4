-- The tenant index of migration 0147, (tenant_id, reservation_id), did not
-- keep the API role's lookups by id off the shop's rows: the planner
-- estimates a shop's rows from the statistics of the last ANALYZE, where a
-- new shop has a row or none, so under row-level security it took the
-- index for tenant_id = app_tenant() alone and filtered the ids after it,
-- reading every row of the shop (15,000 rows read for two on a log of
-- 200,000, generic and custom plans alike; about 9 ms a statement on the
-- million-event log, two statements a checkout). No index on the table now
-- leads with the tenant: a lookup by id goes through the primary key and
-- the tenant is checked on the rows found. Counts of a shop's decisions
-- are of its hot lane (the flash sale's summary and drain), so the one
-- tenant index is partial, on hot rows: the lookups by id cannot take it,
-- and an ordinary reservation writes no entry in it.
DROP INDEX reservation_index_tenant_ix;
CREATE INDEX reservation_index_hot_ix ON reservation_index (tenant_id) WHERE hot;
