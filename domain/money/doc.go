// Package money owns amounts of money: the Currency codes Honten accepts, the
// Money value (a decimal amount in one currency, never a float) and the
// Rounding modes used when a computed amount must fit its currency.
//
// Money is {"amount":"1200","currency":"JPY"} in JSON and numeric + char(3)
// in SQL (the mapping lives in eventstore/ and the projections, not here).
//
// It imports only the standard library, decimal and domain/errs; it must not
// import pgx, watermill, chi or anything that does I/O.
package money
