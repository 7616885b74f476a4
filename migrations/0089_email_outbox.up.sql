-- The e-mail outbox: messages to send, written in the same transaction as
-- whatever caused them (a password reset, a reaction to an order event), and
-- sent later by the mail sender with retries. dedup_key makes a retried
-- writer add nothing (for a reaction: the event id and the template).
-- Row-level security applies through rls_apply (tenant_id).
CREATE TABLE email_outbox (
    id              uuid        PRIMARY KEY,
    tenant_id       uuid        NOT NULL,
    dedup_key       text        NOT NULL,
    template        text        NOT NULL,
    to_address      text        NOT NULL,
    subject         text        NOT NULL,
    text_body       text        NOT NULL,
    html_body       text        NOT NULL DEFAULT '',
    -- The customer the message is about, when known: forgetting a customer
    -- erases their messages' addresses and bodies.
    customer_id     uuid,
    status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'erased')),
    attempts        int         NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    UNIQUE (tenant_id, dedup_key)
);
CREATE INDEX email_outbox_due_ix ON email_outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX email_outbox_customer_ix ON email_outbox (tenant_id, customer_id) WHERE customer_id IS NOT NULL;
