-- The event log: the only source of truth. Append-only, enforced below.
-- Global order is (tx_id, global_position), read only below
-- pg_snapshot_xmin(pg_current_snapshot()) so a late-committing transaction is never skipped.
CREATE TABLE events (
    global_position bigint      GENERATED ALWAYS AS IDENTITY,
    tx_id           xid8        NOT NULL DEFAULT pg_current_xact_id(),
    tenant_id       uuid        NOT NULL,
    stream_type     text        NOT NULL,
    stream_id       uuid        NOT NULL,
    stream_version  bigint      NOT NULL CHECK (stream_version > 0),
    event_id        uuid        NOT NULL,
    event_type      text        NOT NULL,
    schema_version  smallint    NOT NULL DEFAULT 1 CHECK (schema_version > 0),
    payload         jsonb       NOT NULL,
    metadata        jsonb       NOT NULL DEFAULT '{}',
    actor_id        text,
    correlation_id  uuid        NOT NULL,
    causation_id    uuid,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT events_pk PRIMARY KEY (global_position),
    -- The optimistic lock: a second writer of the same version fails with 23505.
    CONSTRAINT events_stream_version_uq UNIQUE (tenant_id, stream_id, stream_version),
    -- Idempotent retries: event ids derive from the command id.
    CONSTRAINT events_event_id_uq UNIQUE (event_id)
);

-- The global feed (projectors, watermill subscribers).
CREATE INDEX events_feed_ix ON events (tx_id, global_position);
-- One tenant's feed (GET /admin/events, exports).
CREATE INDEX events_tenant_feed_ix ON events (tenant_id, tx_id, global_position);

-- Append-only: no UPDATE, DELETE or TRUNCATE, whoever asks.
CREATE FUNCTION events_reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER events_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_reject_change();

-- Projection registry and checkpoints. One row per generation of a read model;
-- a generation lives in its own schema (rm_<model>_<generation>) and readers
-- see the live one through views of the same names in public.
CREATE TABLE projections (
    model          text        NOT NULL,
    generation     int         NOT NULL CHECK (generation > 0),
    version        text        NOT NULL,
    schema_name    text        NOT NULL,
    state          text        NOT NULL CHECK (state IN ('building', 'live', 'retired')),
    tx_id          xid8        NOT NULL DEFAULT '0',
    position       bigint      NOT NULL DEFAULT 0,
    events_applied bigint      NOT NULL DEFAULT 0,
    last_event_at  timestamptz,
    started_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    last_error     text,
    PRIMARY KEY (model, generation)
);
CREATE UNIQUE INDEX projections_one_live ON projections (model) WHERE state = 'live';

-- watermill consumer-group offsets for subscribers that read the events table
-- through the read-only schema adapter (eventstore/bus). One row per group and topic.
CREATE TABLE watermill_offsets_events (
    consumer_group                varchar(255) NOT NULL,
    topic                         text         NOT NULL,
    offset_acked                  bigint       NOT NULL DEFAULT 0,
    last_processed_transaction_id xid8         NOT NULL DEFAULT '0',
    PRIMARY KEY (consumer_group, topic)
);

-- watermill poison queue: messages a handler could not process after retries.
-- Same layout as watermill-sql's DefaultPostgreSQLSchema for topic "poison".
CREATE TABLE watermill_poison (
    "offset"       bigserial,
    uuid           varchar(36) NOT NULL,
    created_at     timestamp   NOT NULL DEFAULT current_timestamp,
    payload        json        DEFAULT NULL,
    metadata       json        DEFAULT NULL,
    transaction_id xid8        NOT NULL,
    PRIMARY KEY (transaction_id, "offset")
);
