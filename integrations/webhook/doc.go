// Package webhook delivers a shop's events to the HTTP endpoints it
// registers (outbound webhooks).
//
// An endpoint names a URL, the event types it wants and a secret. The
// dispatcher (one active instance cluster-wide, a session advisory lock
// like the other workers) keeps a cursor per endpoint over the event
// feed: it writes a delivery row for each matching event after the cursor
// and moves the cursor in one transaction, then posts the deliveries one
// at a time, in feed order. Each endpoint has its own goroutine, so a slow
// or failing endpoint holds back only its own deliveries, never another
// endpoint's nor the projections (which read the feed on their own).
//
// Every attempt is signed: the header
//
//	Honten-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//
// carries one v1 per valid secret (two during a rotation), and
// Honten-Event-Id carries the event id, the same on every attempt, for the
// receiver to drop duplicates (delivery is at least once). A failed
// attempt (no 2xx within the timeout) is retried with exponential backoff
// until RetryFor has passed since the first attempt (24 hours by default),
// then the delivery is dead and the next one goes; a dead delivery is
// retried by hand (Retry).
//
// Private, loopback and link-local addresses are refused (SSRF guard), both
// when an endpoint is saved (an address in the URL) and when a delivery
// connects (what the host name resolved to), unless AllowPrivate is set
// for tests and development (WEBHOOK_ALLOW_PRIVATE).
package webhook
