// Package store holds stores and their locations: a tenant sells through one
// or more stores (a mall has one per merchant) and keeps stock at locations
// (warehouses, shop floors). For now it holds only their codes; the
// aggregates come later.
//
// It imports only the standard library, uuid, decimal and other domain
// packages; never pgx, watermill or chi.
package store
