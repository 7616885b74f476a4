-- Read model tenancy (projector tenancy.v1): tenants, vendors, stores,
-- locations and staff members, as the backoffice lists them.
CREATE FUNCTION rm_tenancy_v1_create(s text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format($f$
        CREATE TABLE %1$I.tenants (
            tenant_id          uuid        PRIMARY KEY,
            code               text        NOT NULL,
            name               text        NOT NULL,
            type               text        NOT NULL,
            default_currency   char(3)     NOT NULL,
            settings           jsonb       NOT NULL,
            implicit_vendor_id uuid        NOT NULL,
            default_store_id   uuid        NOT NULL,
            version            bigint      NOT NULL,
            created_at         timestamptz NOT NULL,
            updated_at         timestamptz NOT NULL
        );
        CREATE TABLE %1$I.vendors (
            tenant_id       uuid        NOT NULL,
            id              uuid        NOT NULL,
            name            text        NOT NULL,
            commission_rate numeric     NOT NULL,
            status          text        NOT NULL,
            implicit        boolean     NOT NULL,
            version         bigint      NOT NULL,
            created_at      timestamptz NOT NULL,
            updated_at      timestamptz NOT NULL,
            PRIMARY KEY (tenant_id, id)
        );
        CREATE TABLE %1$I.stores (
            tenant_id  uuid        NOT NULL,
            id         uuid        NOT NULL,
            code       text        NOT NULL,
            name       text        NOT NULL,
            version    bigint      NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            PRIMARY KEY (tenant_id, id)
        );
        CREATE TABLE %1$I.locations (
            tenant_id  uuid        NOT NULL,
            id         uuid        NOT NULL,
            store_id   uuid        NOT NULL,
            code       text        NOT NULL,
            name       text        NOT NULL,
            status     text        NOT NULL,
            created_at timestamptz NOT NULL,
            PRIMARY KEY (tenant_id, id)
        );
        CREATE TABLE %1$I.staff_members (
            tenant_id       uuid        NOT NULL,
            id              uuid        NOT NULL,
            email           text        NOT NULL,
            name            text        NOT NULL,
            role            text        NOT NULL,
            vendor_id       uuid,
            status          text        NOT NULL,
            platform_admin  boolean     NOT NULL,
            version         bigint      NOT NULL,
            invited_at      timestamptz NOT NULL,
            last_sign_in_at timestamptz,
            PRIMARY KEY (tenant_id, id)
        )$f$, s);
END
$$;

CREATE FUNCTION rm_tenancy_v1_index(s text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE UNIQUE INDEX IF NOT EXISTS tenants_code_uq ON %I.tenants (code)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS locations_store_ix ON %I.locations (tenant_id, store_id, code)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS staff_members_email_ix ON %I.staff_members (tenant_id, email)', s);
END
$$;
