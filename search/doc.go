// Package search is the storefront search port: the Index interface the
// HTTP layer calls, the Query it takes and the Result it returns, the
// Document every backend indexes (built by the search_documents projection
// from catalog, inventory and vendor events), and the parser of the search
// API's query parameters.
//
// Two adapters implement Index: search/postgres (the default; no extra
// server) and search/meili (Meilisearch, fed by a sync projector). Both run
// the conformance suite in search/searchtest. Text normalisation shared by
// all of them is in search/textnorm; the readings of Japanese titles and
// category names (Document.Reading, so that kana finds kanji) come from
// search/reading.
//
// It must not import http, projections, commands or any adapter.
package search
