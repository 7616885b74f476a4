-- The display name of an e-mail's sender (the shop's name when the message
-- was written), encoded as an RFC 2047 word in the From header when sent.
ALTER TABLE email_outbox ADD COLUMN from_name text NOT NULL DEFAULT '';
