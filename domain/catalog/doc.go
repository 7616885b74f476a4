// Package catalog holds the product aggregate with its variants: what a
// tenant sells, under which SKU, at which tax rate and how it is fulfilled.
// For now it holds only the values (SKU, statuses, fulfillment type, tax
// rate); the aggregate and its events come later.
//
// It imports only the standard library, uuid, decimal and other domain
// packages; never pgx, watermill or chi.
package catalog
