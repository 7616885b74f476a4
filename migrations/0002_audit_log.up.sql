-- Read model audit_log (projector audit_log.v1): one row per event, actor × action × entity.
-- The runner calls these functions to create a generation's tables in its own
-- schema; secondary indexes come after the bulk phase of a rebuild.
CREATE FUNCTION rm_audit_log_v1_create(s text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format($f$
        CREATE TABLE %I.audit_log (
            tenant_id      uuid        NOT NULL,
            position       bigint      NOT NULL,
            event_id       uuid        NOT NULL,
            at             timestamptz NOT NULL,
            actor          text,
            action         text        NOT NULL,
            entity_kind    text        NOT NULL,
            entity_id      uuid        NOT NULL,
            entity_version bigint      NOT NULL,
            correlation_id uuid        NOT NULL,
            PRIMARY KEY (tenant_id, position)
        )$f$, s);
END
$$;

CREATE FUNCTION rm_audit_log_v1_index(s text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE INDEX IF NOT EXISTS audit_log_entity_ix ON %I.audit_log (tenant_id, entity_id, entity_version)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS audit_log_actor_ix ON %I.audit_log (tenant_id, actor, position)', s);
END
$$;
