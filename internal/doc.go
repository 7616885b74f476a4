// Package internal documents the layers of the module; its test
// (layers_test.go) enforces them on every package's imports (test files
// aside). A package may import packages of its own layer or of lower ones,
// never of a higher one. From the bottom:
//
//  0. foundation — helpers that know nothing of the shop: internal/metrics,
//     internal/progress, internal/database (pools, tenant scoping),
//     internal/devdb (the private PostgreSQL cluster), internal/pgtest and
//     internal/natstest (test servers and databases), internal/procstat,
//     internal/zengin (bank file format), internal/browser, http/uitest,
//     migrations.
//  1. domain — domain/...: aggregates, values and pure decisions. Besides
//     the layer rule, a domain package imports no other package of the
//     module than domain ones (not even the foundation).
//  2. infrastructure — eventstore/..., search/... (the search backends),
//     integrations/... (e-mail, webhooks).
//  3. application — commands/... (the write side; commands/reservations
//     below it), projections/... (the read models), and helpers over them:
//     internal/ordertest, internal/projtest, internal/feedcost. The read
//     side never imports the write side: projections/... imports no
//     commands/..., and the commands package itself no projections/....
//  4. interface — http/... (the HTTP API and UI).
//  5. wiring — internal/app (one process's wiring of everything) and
//     internal/demo (demo shops through the commands).
//  6. tools — internal/bench, internal/chaos, internal/fleet,
//     internal/apitest, search/searchtest: benchmarks, failure drills,
//     multi-process fleets and end-to-end test harnesses over the wiring.
//  7. binaries — cmd/....
//
// A new package must be given a layer in layers_test.go (the test fails
// for a package it does not know).
package internal
