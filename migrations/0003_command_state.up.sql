-- Command-side state that lives beside the event log and is written in the
-- same transaction as the events it belongs with.

-- Unique claims: uniqueness the event log cannot express (SKU per tenant,
-- product handle, tenant code, staff e-mail, ...) and lookups by those keys.
-- scope is the tenant, or the nil uuid for platform-wide claims.
CREATE TABLE unique_claims (
    scope      uuid        NOT NULL,
    kind       text        NOT NULL,
    value      text        NOT NULL,
    owner      uuid        NOT NULL,
    claimed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, kind, value)
);
CREATE INDEX unique_claims_owner_ix ON unique_claims (scope, kind, owner);

-- Idempotency keys: the first response to a state-changing request, stored
-- in the command's transaction and replayed for retries (kept ≥ 24 h).
CREATE TABLE idempotency_keys (
    tenant_id    uuid        NOT NULL,
    key          text        NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash bytea       NOT NULL,
    status       int         NOT NULL,
    headers      jsonb       NOT NULL DEFAULT '{}',
    body         bytea       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, key)
);
CREATE INDEX idempotency_keys_created_ix ON idempotency_keys (created_at);

-- Staff credentials and authorisation state. The staff stream holds the
-- history (invited, role changed, disabled); this row is what sign-in and
-- every authenticated request check, updated in the same transaction.
CREATE TABLE staff_accounts (
    id                  uuid        PRIMARY KEY,
    tenant_id           uuid        NOT NULL,
    email               text        NOT NULL,
    role                text        NOT NULL,
    vendor_id           uuid,
    status              text        NOT NULL,
    platform_admin      boolean     NOT NULL DEFAULT false,
    password_hash       text        NOT NULL,
    password_changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX staff_accounts_email_uq ON staff_accounts (tenant_id, lower(email));
CREATE INDEX staff_accounts_email_ix ON staff_accounts (lower(email));

CREATE TABLE staff_sessions (
    token_hash   bytea       PRIMARY KEY,
    staff_id     uuid        NOT NULL REFERENCES staff_accounts (id),
    tenant_id    uuid        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX staff_sessions_staff_ix ON staff_sessions (staff_id);
CREATE INDEX staff_sessions_expires_ix ON staff_sessions (expires_at);

-- Sign-in throttling, per account and per client address, shared by every
-- API process.
CREATE TABLE login_throttle (
    key          text        PRIMARY KEY,
    failures     int         NOT NULL,
    window_start timestamptz NOT NULL,
    locked_until timestamptz
);
