-- Read model ledger (projector ledger.v1): the double-entry payout ledger,
-- folded from order, payment and vendor events (domain/ledger holds the
-- posting rules). Entries are immutable; every event's lines balance.
-- Balances per (vendor, account) are kept in the same transaction as the
-- entries that move them. Platform lines carry the nil vendor
-- (00000000-…) unless they concern one (a commission).
--   ledger_orders:  what recognising an order needs (lines, totals,
--                   rounding), and whether it is recognised;
--   ledger_shipments: each vendor's parcel of an order, when its return
--                   window ends and whether its funds were released
--                   (the release sweep reads it);
--   ledger_vendors: each vendor's name, commission rate history (for
--                   lines placed before rates were frozen on the order)
--                   and payout account;
--   ledger_payouts: every payout recorded, and the run it paid;
--   ledger_runs:    payout runs with their transfers, as made;
--   ledger_refunds: per payment, the refund due, what was paid back, and
--                   the account the buyer gave.
CREATE FUNCTION rm_ledger_v1_create(s text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format($f$
        CREATE TABLE %1$I.ledger_orders (
            tenant_id  uuid        NOT NULL,
            order_id   uuid        NOT NULL,
            payment_id uuid        NOT NULL,
            currency   char(3)     NOT NULL,
            sale       jsonb       NOT NULL,
            placed_at  timestamptz NOT NULL,
            recognised boolean     NOT NULL DEFAULT false,
            -- vendor id → what the recognised sale owes it (net), as text
            nets       jsonb       NOT NULL DEFAULT '{}',
            PRIMARY KEY (tenant_id, order_id)
        );
        CREATE TABLE %1$I.ledger_shipments (
            tenant_id   uuid        NOT NULL,
            shipment_id uuid        NOT NULL,
            order_id    uuid        NOT NULL,
            vendor_id   uuid        NOT NULL,
            hold_until  timestamptz,
            released    boolean     NOT NULL DEFAULT false,
            PRIMARY KEY (tenant_id, shipment_id)
        );
        CREATE TABLE %1$I.ledger_vendors (
            tenant_id  uuid    NOT NULL,
            vendor_id  uuid    NOT NULL,
            name       text    NOT NULL,
            commission numeric NOT NULL,
            rates      jsonb   NOT NULL,
            payout_account jsonb,
            PRIMARY KEY (tenant_id, vendor_id)
        );
        CREATE TABLE %1$I.ledger_payouts (
            tenant_id uuid        NOT NULL,
            payout_id uuid        NOT NULL,
            vendor_id uuid        NOT NULL,
            run_id    uuid,
            currency  char(3)     NOT NULL,
            amount    numeric     NOT NULL,
            paid_at   timestamptz NOT NULL,
            reference text        NOT NULL,
            event_id  uuid        NOT NULL,
            PRIMARY KEY (tenant_id, payout_id)
        );
        CREATE TABLE %1$I.ledger_refunds (
            tenant_id  uuid        NOT NULL,
            payment_id uuid        NOT NULL,
            order_id   uuid        NOT NULL,
            currency   char(3)     NOT NULL,
            due        numeric     NOT NULL DEFAULT 0,
            paid       numeric     NOT NULL DEFAULT 0,
            account    jsonb,
            updated_at timestamptz NOT NULL,
            -- the last event applied (an event applied again moves nothing)
            tx_id      xid8        NOT NULL,
            position   bigint      NOT NULL,
            PRIMARY KEY (tenant_id, payment_id)
        );
        CREATE TABLE %1$I.ledger_runs (
            tenant_id  uuid        NOT NULL,
            run_id     uuid        NOT NULL,
            period_end timestamptz NOT NULL,
            currency   char(3)     NOT NULL,
            min_amount numeric     NOT NULL,
            total      numeric     NOT NULL,
            items      jsonb       NOT NULL,
            skipped    jsonb       NOT NULL,
            created_at timestamptz NOT NULL,
            PRIMARY KEY (tenant_id, run_id)
        );
        CREATE TABLE %1$I.ledger_entries (
            tenant_id uuid        NOT NULL,
            entry_id  uuid        NOT NULL,
            event_id  uuid        NOT NULL,
            seq       int         NOT NULL,
            tx_id     xid8        NOT NULL,
            position  bigint      NOT NULL,
            order_id  uuid,
            vendor_id uuid        NOT NULL,
            account   text        NOT NULL,
            currency  char(3)     NOT NULL,
            debit     numeric     NOT NULL,
            credit    numeric     NOT NULL,
            at        timestamptz NOT NULL,
            PRIMARY KEY (tenant_id, event_id, seq)
        );
        CREATE TABLE %1$I.ledger_balances (
            tenant_id uuid    NOT NULL,
            vendor_id uuid    NOT NULL,
            account   text    NOT NULL,
            currency  char(3) NOT NULL,
            debit     numeric NOT NULL DEFAULT 0,
            credit    numeric NOT NULL DEFAULT 0,
            PRIMARY KEY (tenant_id, vendor_id, account, currency)
        );
        -- The projector's own lookups (a payment's order, an order's
        -- parcels) are made with the tables: a rebuild reads them for every
        -- payment event, and without them each read scans the table (a
        -- replay quadratic in the number of orders).
        CREATE INDEX ledger_orders_payment_ix ON %1$I.ledger_orders (tenant_id, payment_id);
        CREATE INDEX ledger_shipments_order_ix ON %1$I.ledger_shipments (tenant_id, order_id)
        $f$, s);
END
$$;

CREATE FUNCTION rm_ledger_v1_index(s text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    -- The release sweep: held funds by the end of their return window.
    EXECUTE format('CREATE INDEX IF NOT EXISTS ledger_shipments_due_ix ON %I.ledger_shipments (hold_until, shipment_id) WHERE NOT released AND hold_until IS NOT NULL', s);
    -- A vendor's entries in log order (pages, statements).
    EXECUTE format('CREATE INDEX IF NOT EXISTS ledger_entries_vendor_ix ON %I.ledger_entries (tenant_id, vendor_id, tx_id, position, seq)', s);
    -- Statements: a vendor's entries by date.
    EXECUTE format('CREATE INDEX IF NOT EXISTS ledger_entries_vendor_at_ix ON %I.ledger_entries (tenant_id, vendor_id, at, tx_id, position, seq)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS ledger_payouts_run_ix ON %I.ledger_payouts (tenant_id, run_id, vendor_id) WHERE run_id IS NOT NULL', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS ledger_refunds_order_ix ON %I.ledger_refunds (tenant_id, order_id)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS ledger_runs_created_ix ON %I.ledger_runs (tenant_id, created_at DESC, run_id DESC)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS ledger_entries_order_ix ON %I.ledger_entries (tenant_id, order_id) WHERE order_id IS NOT NULL', s);
END
$$;
