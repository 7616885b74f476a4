-- reservation_index is looked up by reservation id under row-level security,
-- which adds tenant_id = app_tenant() to every statement of the API role.
-- The planner estimates a shop's rows from the statistics of the last
-- ANALYZE, where a new shop has a row or none, so it took the tenant index
-- (tenant_id, cart_id) for the tenant alone and filtered the ids after it:
-- the commit of a checkout's holds and the read of their statuses read
-- every row of the shop (120–140 pages a statement in a new shop's first
-- minutes; about 3,400 pages and 9 ms a statement on the million-event
-- log). An index (tenant_id, reservation_id) was taken the same way, the
-- ids filtered after the tenant. So no index on the table leads with the
-- tenant: a lookup by id goes through the primary key and the tenant is
-- checked on the rows found. cart_id was never looked up. Counts of a
-- shop's decisions are of its hot lane (the flash sale's summary and
-- drain), so the one tenant index is partial, on hot rows: the lookups by
-- id cannot take it, and an ordinary reservation writes no entry in it.
DROP INDEX reservation_index_cart_ix;
CREATE INDEX reservation_index_hot_ix ON reservation_index (tenant_id) WHERE hot;
