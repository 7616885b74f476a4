// Package http is Honten's HTTP port: chi routers for the storefront, the
// backoffice (admin) and operations, the middleware (request id, logging
// without PII, panic recovery, body limits, metrics, tenant, auth,
// idempotency, read-your-writes), RFC 9457 problem+json errors from one
// table, and the OpenAPI document.
//
// Handlers are methods on *Server registered per area in routes_<area>.go.
// They decode and validate the request (unknown fields are a 400), copy the
// caller's identity and tenant into a command or query, and turn results and
// errors into responses. DTOs and their converters live here. It is the only
// package that imports net/http or chi.
package http
