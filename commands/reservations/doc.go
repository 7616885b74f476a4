// Package reservations decides stock reservations for carts and is the
// only package that reads or writes the reservation index (the
// reservation_index table: one row per decided reservation, its status and
// the expiry of a live hold).
//
// It holds:
//   - the Worker: two lanes (the normal lane decides the requests of a
//     feed batch grouped by variant, in parallel chunks; the hot lane does
//     the same for hot variants with its own checkpoint and connection, so
//     a flash sale queues there and never delays other SKUs) and the
//     expiry loop for holds whose time ran out;
//   - Wait and Await, for a caller waiting on the decision of a pending
//     add-to-cart, whichever process's worker makes it;
//   - Hotness: hot-variant detection and the waiting room that admits
//     add-to-cart commands for hot variants a few at a time;
//   - the inventory item helpers (LockItems, LockItem, SaveItem) with the
//     item cache that spares a hot variant's decoding on every decision;
//   - the index functions the checkout uses (Indexed, Live, Commit) and
//     the ones the expiry loop and the operators' tools use.
//
// It imports the event store and the domain, never the commands package:
// what deciding needs from the catalog (a variant's sale locations, the
// tenant's hold time) is handed to NewWorker as a function.
package reservations
