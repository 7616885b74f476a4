-- reservation_index is looked up by reservation id under row-level security,
-- which adds tenant_id = app_tenant() to every statement of the API role.
-- With the tenant index on (tenant_id, cart_id), a plan made while a new
-- shop's rows were few took that index for the tenant's rows and filtered
-- them by id: the commit of a checkout's holds and the read of their
-- statuses then read every row of the shop (about 130 pages a statement
-- after 2,000 orders, a fifth of PostgreSQL's time per order in a new
-- shop's first minutes). The tenant index now ends with the reservation id,
-- so a plan through it finds the rows by id too, whatever the statistics
-- said when it was made. cart_id was never looked up; counts by tenant use
-- the new index's prefix as they used the old one's.
CREATE INDEX reservation_index_tenant_ix ON reservation_index (tenant_id, reservation_id);
DROP INDEX reservation_index_cart_ix;
