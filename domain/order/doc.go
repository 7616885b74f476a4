// Package order holds the order aggregate: what a buyer bought, how they pay
// (bank transfer or cash on delivery) and how far it has been shipped. Its
// events are order.placed.v1 and order.status_changed.v1; the state machine
// (DESIGN §6) is pending_payment (bank transfer) or pending_shipment (COD)
// → partially_shipped → shipped → completed, and cancelled from any state
// before a shipment leaves. ComputeTotals applies the Japanese per-rate tax
// rule (one rounding per rate per order).
//
// It imports only the standard library, uuid, decimal and other domain
// packages; never pgx, watermill or chi.
package order
