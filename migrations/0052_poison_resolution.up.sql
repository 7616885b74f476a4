-- Poisoned messages (reactions that failed every retry) are listed and
-- retried from the API; a retry that succeeds marks the row resolved.
ALTER TABLE watermill_poison
    ADD COLUMN resolved_at timestamptz,
    ADD COLUMN retries     int  NOT NULL DEFAULT 0,
    ADD COLUMN last_error  text;
CREATE INDEX watermill_poison_unresolved_ix ON watermill_poison ("offset") WHERE resolved_at IS NULL;
