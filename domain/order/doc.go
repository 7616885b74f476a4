// Package order holds the order aggregate: what a buyer bought, how they pay
// (bank transfer or cash on delivery) and how far it has been shipped. For
// now it holds only the values (Status, PaymentMethod); the aggregate and
// its events come later.
//
// It imports only the standard library, uuid, decimal and other domain
// packages; never pgx, watermill or chi.
package order
