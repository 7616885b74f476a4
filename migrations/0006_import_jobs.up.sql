-- CSV import jobs: the uploaded file, progress and per-row errors. The
-- products, variants, prices and stock an import changes are events; this
-- table is only the job's bookkeeping, so a job interrupted by a restart can
-- run again (an import is idempotent).
CREATE TABLE import_jobs (
    id             uuid        PRIMARY KEY,
    tenant_id      uuid        NOT NULL,
    kind           text        NOT NULL,
    status         text        NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed')),
    file           bytea       NOT NULL,
    total_rows     int         NOT NULL DEFAULT 0,
    processed_rows int         NOT NULL DEFAULT 0,
    created        int         NOT NULL DEFAULT 0,
    updated        int         NOT NULL DEFAULT 0,
    unchanged      int         NOT NULL DEFAULT 0,
    error_count    int         NOT NULL DEFAULT 0,
    errors         jsonb       NOT NULL DEFAULT '[]',
    message        text,
    created_by     text        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    started_at     timestamptz,
    heartbeat_at   timestamptz,
    finished_at    timestamptz
);
CREATE INDEX import_jobs_tenant_ix ON import_jobs (tenant_id, created_at DESC);
CREATE INDEX import_jobs_pending_ix ON import_jobs (status) WHERE status IN ('queued', 'running');
