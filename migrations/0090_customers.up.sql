-- Customer accounts and the keys that seal personal data (docs/adr/0007).
--
-- personal_keys: one AES-256 key per data subject — a customer account
-- ("customer:<id>") or a guest buyer's e-mail ("email:<sha256 of it>") —
-- kept outside the append-only events table. Events carry personal fields
-- sealed under the key (AES-GCM); forgetting a subject sets key and subject
-- to NULL: the ciphertext in the log can no longer be read, and nothing in
-- this row points back to the person.
CREATE TABLE personal_keys (
    id          uuid        PRIMARY KEY,
    tenant_id   uuid        NOT NULL,
    subject     text,
    customer_id uuid,
    key         bytea       CHECK (key IS NULL OR length(key) = 32),
    created_at  timestamptz NOT NULL DEFAULT now(),
    erased_at   timestamptz,
    CHECK ((key IS NULL) = (erased_at IS NOT NULL))
);
CREATE UNIQUE INDEX personal_keys_subject_uq ON personal_keys (tenant_id, subject) WHERE subject IS NOT NULL;
CREATE INDEX personal_keys_customer_ix ON personal_keys (tenant_id, customer_id) WHERE customer_id IS NOT NULL;

-- Customer credentials: what sign-in checks. The customer stream holds the
-- history; this row is deleted when the customer is forgotten.
CREATE TABLE customer_accounts (
    id                  uuid        PRIMARY KEY,
    tenant_id           uuid        NOT NULL,
    email               text        NOT NULL,
    password_hash       text        NOT NULL,
    email_verified_at   timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    password_changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX customer_accounts_email_uq ON customer_accounts (tenant_id, lower(email));

CREATE TABLE customer_sessions (
    token_hash  bytea       PRIMARY KEY,
    customer_id uuid        NOT NULL REFERENCES customer_accounts (id) ON DELETE CASCADE,
    tenant_id   uuid        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX customer_sessions_customer_ix ON customer_sessions (customer_id);
CREATE INDEX customer_sessions_expires_ix ON customer_sessions (expires_at);

-- One-time tokens e-mailed to a customer: a password reset or an e-mail
-- verification. Stored as SHA-256; used once; they expire.
CREATE TABLE customer_tokens (
    token_hash  bytea       PRIMARY KEY,
    tenant_id   uuid        NOT NULL,
    customer_id uuid        NOT NULL REFERENCES customer_accounts (id) ON DELETE CASCADE,
    purpose     text        NOT NULL CHECK (purpose IN ('password_reset', 'verify_email')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX customer_tokens_customer_ix ON customer_tokens (customer_id);
