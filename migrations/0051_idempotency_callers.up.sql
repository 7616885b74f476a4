-- Idempotency keys are scoped per tenant and caller (a staff account, a
-- cart, an anonymous client), stored as a SHA-256 of the key, and their
-- responses sealed with a key derived from the Idempotency-Key itself, so
-- the table holds no token or password readable at rest (docs/adr/0005).
-- Rows stored before held responses in plain text: they go.
DELETE FROM idempotency_keys;
ALTER TABLE idempotency_keys ADD COLUMN caller text NOT NULL DEFAULT '';
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
ALTER TABLE idempotency_keys ADD PRIMARY KEY (tenant_id, caller, key);
