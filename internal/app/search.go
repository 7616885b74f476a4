package app

import (
	"context"

	"github.com/honten/honten/projections"
	"github.com/honten/honten/search"
	"github.com/honten/honten/search/postgres"
)

// searchBackend returns the configured search backend and the projectors
// that feed it besides search_documents (the Meilisearch sync).
func (m *Main) searchBackend(ctx context.Context) (search.Index, []projections.Projector, error) {
	switch m.Config.SearchBackend {
	case "meilisearch":
		return m.meiliBackend(ctx)
	default:
		return postgres.New(m.Requests), nil, nil
	}
}
