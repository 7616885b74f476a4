// Package email writes the e-mails a shop sends its buyers and sends them.
//
// A reaction to order, payment and shipment events (Reaction) renders the
// shop's Japanese templates — built in (templates/, embedded) or the
// shop's own from its settings (email_templates) — into the email_outbox
// table, once per event and template (dedup_key). A customer account's
// one-time codes (password reset, e-mail verification) are rendered from
// the same templates (customer_password_reset, customer_verify_email, the
// shop's override first) and written to the same outbox by the command
// that issues them, in its transaction (WriteCustomerCode). The sender (Sender: one
// active instance cluster-wide, like the other workers) sends what is due
// over SMTP (SMTP_URL) as multipart/alternative MIME: a text/plain and a
// text/html part, both UTF-8 in base64, with RFC 2047 encoded-word
// subjects and sender names; a failure is retried with exponential backoff
// and the message marked failed after MaxAttempts. Without SMTP_URL the
// messages are written to the log and marked sent (development).
package email
