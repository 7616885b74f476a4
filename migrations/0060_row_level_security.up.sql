-- The second wall: roles and row-level security.
--
-- Three roles touch the database:
--   * the owner (whoever runs the migrations) owns every table in public, the
--     append-only trigger and the policies below;
--   * honten_worker (projectors, workers) reads the whole feed and writes
--     every tenant's read models; it owns the read-model generations it
--     creates, never the event log;
--   * honten_app (HTTP requests) sees and writes the rows of one tenant: the
--     one named by the app.tenant_id setting of its session, set from the
--     request before any query runs (internal/database).
-- A process that runs projectors or workers logs in as honten_worker and
-- steps down to honten_app for each request (SET ROLE); an API-only process
-- may log in as honten_app itself. Neither owns public's tables, so neither
-- can disable the append-only trigger or row-level security.
--
-- The roles are created here when missing (NOLOGIN); on a managed server an
-- administrator creates them beforehand (docs/database-roles.md).
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['honten_app', 'honten_worker'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', r);
            EXCEPTION WHEN duplicate_object THEN
                NULL; -- created by a concurrent migration of another database
            END;
        END IF;
    END LOOP;
END
$$;

-- The worker serves requests as the API role (granted here unless an
-- administrator did already: granting needs the ADMIN option on the role).
DO $$
BEGIN
    IF NOT pg_has_role('honten_worker', 'honten_app', 'MEMBER') THEN
        GRANT honten_app TO honten_worker;
    END IF;
END
$$;

DO $$
BEGIN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO honten_app', current_database());
    -- Read-model generations are schemas the worker creates.
    EXECUTE format('GRANT CONNECT, CREATE ON DATABASE %I TO honten_worker', current_database());
END
$$;
GRANT USAGE ON SCHEMA public TO honten_app, honten_worker;
-- The public views of the read models are (re)created by the worker.
GRANT CREATE ON SCHEMA public TO honten_worker;

-- The tenant of the current session or transaction; NULL when none is set,
-- which matches no row.
CREATE FUNCTION app_tenant() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT nullif(current_setting('app.tenant_id', true), '')::uuid $$;

-- rls_secure_schema grants the roles their access to one read-model
-- generation schema and puts every table of it that has a tenant_id column
-- behind row-level security. The projection runner calls it for each
-- generation it creates; it is idempotent.
CREATE FUNCTION rls_secure_schema(s text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    t text;
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO honten_app, honten_worker', s);
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO honten_app', s);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA %I TO honten_worker', s);
    FOR t IN
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = s AND c.relkind IN ('r', 'p')
          AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
    LOOP
        PERFORM rls_protect(s, t, 'tenant_id = app_tenant()');
    END LOOP;
    -- The platform's directory of tenants: read by the platform
    -- administrators' tenant list, which sets app.platform.
    IF to_regclass(format('%I.tenants', s)) IS NOT NULL THEN
        EXECUTE format('DROP POLICY IF EXISTS platform_directory ON %I.tenants', s);
        EXECUTE format($f$CREATE POLICY platform_directory ON %I.tenants FOR SELECT TO honten_app
            USING (current_setting('app.platform', true) = 'on')$f$, s);
    END IF;
END
$$;

-- rls_protect enables row-level security on s.t with two policies: the API
-- role sees the rows matching expr, the worker role every row.
CREATE FUNCTION rls_protect(s text, t text, expr text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY', s, t);
    EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON %I.%I', s, t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I.%I TO honten_app USING (%s) WITH CHECK (%s)', s, t, expr, expr);
    EXECUTE format('DROP POLICY IF EXISTS worker_all_tenants ON %I.%I', s, t);
    EXECUTE format('CREATE POLICY worker_all_tenants ON %I.%I TO honten_worker USING (true) WITH CHECK (true)', s, t);
END
$$;

-- rls_apply grants the roles their access to the tables in public and puts
-- every one holding tenant rows behind row-level security. The migrator
-- runs it after every migration, so a table added later is covered without
-- a line of its own; it is idempotent.
--   * events: read and append only (the trigger refuses the rest anyway);
--   * unique_claims: keyed by scope, the tenant or the platform (nil uuid):
--     platform claims (shop codes, host names) resolve the tenant of a
--     request, so every tenant reads them;
--   * staff_accounts, staff_sessions: sign-in and bearer tokens are checked
--     before a request has a tenant, so a session without a tenant reads
--     them; once the tenant is set, only its own rows;
--   * every other table with a tenant_id column: the tenant's rows only.
CREATE FUNCTION rls_apply() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    t text;
BEGIN
    FOR t IN
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname <> 'schema_migrations'
    LOOP
        IF t = 'events' THEN
            EXECUTE 'REVOKE UPDATE, DELETE, TRUNCATE ON events FROM honten_app, honten_worker';
            EXECUTE 'GRANT SELECT, INSERT ON events TO honten_app, honten_worker';
        ELSE
            EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON public.%I TO honten_app, honten_worker', t);
        END IF;
        IF t = 'unique_claims' THEN
            PERFORM rls_protect('public', t, $e$scope = app_tenant() OR scope = '00000000-0000-0000-0000-000000000000'$e$);
        ELSIF t IN ('staff_accounts', 'staff_sessions') THEN
            PERFORM rls_protect('public', t, 'app_tenant() IS NULL OR tenant_id = app_tenant()');
        ELSIF EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = format('public.%I', t)::regclass
                      AND a.attname = 'tenant_id' AND NOT a.attisdropped) THEN
            PERFORM rls_protect('public', t, 'tenant_id = app_tenant()');
        END IF;
    END LOOP;
    EXECUTE 'GRANT SELECT ON schema_migrations TO honten_app, honten_worker';
    EXECUTE 'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO honten_app, honten_worker';
END
$$;

SELECT rls_apply();

-- Generations that exist already: the worker takes them over, and the
-- public views read their tables with the reader's rights (security_invoker),
-- so the policies apply through them.
DO $$
DECLARE
    g record;
    v record;
    t record;
BEGIN
    FOR g IN SELECT schema_name FROM projections WHERE schema_name IN (SELECT nspname FROM pg_namespace) LOOP
        EXECUTE format('ALTER SCHEMA %I OWNER TO honten_worker', g.schema_name);
        FOR t IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = g.schema_name AND c.relkind IN ('r', 'p') LOOP
            EXECUTE format('ALTER TABLE %I.%I OWNER TO honten_worker', g.schema_name, t.relname);
        END LOOP;
        PERFORM rls_secure_schema(g.schema_name);
    END LOOP;
    FOR v IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND c.relkind = 'v' LOOP
        EXECUTE format('ALTER VIEW public.%I SET (security_invoker = true)', v.relname);
        EXECUTE format('ALTER VIEW public.%I OWNER TO honten_worker', v.relname);
        EXECUTE format('GRANT SELECT ON public.%I TO honten_app', v.relname);
    END LOOP;
END
$$;
