// Package catalog holds what a tenant sells: the product aggregate with its
// variants (SKU, options, price, tax rate, fulfillment type, whether it is a
// hot item) and the category aggregate. A product lives in one stream with
// its variants; a category in its own.
//
// It imports only the standard library, uuid, decimal and other domain
// packages; never pgx, watermill or chi.
package catalog
