-- Read model bank_statements (projector bank_statements.v1): imported bank
-- statements and carrier COD remittances, folded from the bank_statement
-- and cod_remittance streams.
--   bank_statements:       one row per statement (format, duplicates);
--   bank_statement_lines:  its lines with their status (unmatched, matched,
--                          ignored), the orders a matched line paid and how
--                          (auto, staff), or why it was ignored;
--   cod_remittances:       one row per remittance;
--   cod_remittance_lines:  its lines with the shipment matched and the
--                          status (collected or a discrepancy).
-- Lines carry their statement's stream version: a decision applies only
-- above it, so a replay changes nothing.
CREATE FUNCTION rm_bank_statements_v1_create(s text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format($f$
        CREATE TABLE %1$I.bank_statements (
            tenant_id    uuid        NOT NULL,
            statement_id uuid        NOT NULL,
            format       text        NOT NULL,
            duplicates   int         NOT NULL,
            created_by   text        NOT NULL,
            imported_at  timestamptz NOT NULL,
            version      bigint      NOT NULL,
            PRIMARY KEY (tenant_id, statement_id)
        );
        CREATE TABLE %1$I.bank_statement_lines (
            tenant_id    uuid        NOT NULL,
            line_id      uuid        NOT NULL,
            statement_id uuid        NOT NULL,
            record       int         NOT NULL,
            date         timestamptz NOT NULL,
            deposit      boolean     NOT NULL,
            amount       numeric     NOT NULL,
            currency     char(3)     NOT NULL,
            payer_name   text        NOT NULL,
            reference    text        NOT NULL,
            description  text        NOT NULL,
            status       text        NOT NULL CHECK (status IN ('unmatched', 'matched', 'ignored')),
            how          text,
            allocations  jsonb       NOT NULL DEFAULT '[]',
            reason       text,
            decided_by   text,
            decided_at   timestamptz,
            version      bigint      NOT NULL,
            PRIMARY KEY (tenant_id, line_id)
        );
        CREATE TABLE %1$I.cod_remittances (
            tenant_id     uuid        NOT NULL,
            remittance_id uuid        NOT NULL,
            duplicates    int         NOT NULL,
            created_by    text        NOT NULL,
            imported_at   timestamptz NOT NULL,
            PRIMARY KEY (tenant_id, remittance_id)
        );
        CREATE TABLE %1$I.cod_remittance_lines (
            tenant_id     uuid    NOT NULL,
            remittance_id uuid    NOT NULL,
            record        int     NOT NULL,
            tracking_no   text    NOT NULL,
            amount        numeric NOT NULL,
            fee           numeric NOT NULL,
            currency      char(3) NOT NULL,
            remitted_on   date    NOT NULL,
            status        text    NOT NULL,
            shipment_id   uuid,
            order_id      uuid,
            expected      numeric,
            PRIMARY KEY (tenant_id, remittance_id, record)
        )$f$, s);
END
$$;

CREATE FUNCTION rm_bank_statements_v1_index(s text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    -- A statement's lines by status in file order (the exceptions queue).
    EXECUTE format('CREATE INDEX IF NOT EXISTS bank_statement_lines_status_ix ON %I.bank_statement_lines (tenant_id, statement_id, status, record)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS bank_statements_imported_ix ON %I.bank_statements (tenant_id, imported_at DESC)', s);
END
$$;

-- Import jobs also run bank statements and COD remittances; options holds
-- what the file needs to be read (format, preset, column map).
ALTER TABLE import_jobs ADD COLUMN options jsonb NOT NULL DEFAULT '{}';
