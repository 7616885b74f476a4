// Package searchdocs is the search_documents read model: one search
// document per published product, folded from catalog, inventory and
// vendor events (titles, variants and SKUs, price range, availability,
// categories with their ancestors, vendor, created_at, stream version),
// with the columns the PostgreSQL search backend queries (normalised text,
// the readings of titles and category names, character bigrams of both, a
// weighted tsvector) in search_documents, each hit's
// JSON in search_hits, the word dictionary for typo correction and
// whole-catalog facet counts.
//
// The same fold feeds the Meilisearch sync (Sync, projector meili_sync.v2):
// it keeps its own copy of the folded state in its own generation and
// pushes each changed document to a search.Sink instead of writing rows.
//
// Apply derives every value from the events (never the clock), so a
// rebuild gives identical rows. It must not import http or commands.
package searchdocs
