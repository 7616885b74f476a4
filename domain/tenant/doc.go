// Package tenant holds the tenant aggregate and its identifier. A tenant is
// one shop (type single_brand) or one marketplace (type mall); every event,
// row and query in Honten carries its tenant.
//
// It imports only the standard library, uuid, decimal and x/text (through package slug).
package tenant
