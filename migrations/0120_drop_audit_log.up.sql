-- The audit trail is read from the events table itself (GET /admin/history,
-- GET /admin/events: tenant-scoped by row-level security, paged by position
-- or stream version). The audit_log read model, which copied every event
-- into a row of its own, is gone: its view, every generation's schema, its
-- registry rows and its DDL functions.
DROP VIEW IF EXISTS public.audit_log;

DO $$
DECLARE
    s text;
BEGIN
    FOR s IN SELECT schema_name FROM projections WHERE model = 'audit_log' LOOP
        EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', s);
    END LOOP;
END
$$;

DELETE FROM projections WHERE model = 'audit_log';

DROP FUNCTION IF EXISTS rm_audit_log_v1_create(text);
DROP FUNCTION IF EXISTS rm_audit_log_v1_index(text);
