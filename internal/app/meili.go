package app

import (
	"context"

	"github.com/honten/honten/projections"
	"github.com/honten/honten/projections/searchdocs"
	"github.com/honten/honten/search"
	"github.com/honten/honten/search/meili"
)

// meiliBackend is SEARCH_BACKEND=meilisearch: queries go to the live
// generation's index, fed by the meili_sync projector.
func (m *Main) meiliBackend(context.Context) (search.Index, []projections.Projector, error) {
	c := meili.NewClient(meili.Config{URL: m.Config.MeiliURL, APIKey: m.Config.MeiliAPIKey})
	sync := searchdocs.Sync{Registry: m.Registry, Target: c, IndexPrefix: m.Config.MeiliIndex}
	return meili.NewIndex(c, searchdocs.LiveIndexUID(m.Pool, m.Config.MeiliIndex)), []projections.Projector{sync}, nil
}
