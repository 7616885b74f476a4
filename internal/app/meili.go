package app

import (
	"context"
	"errors"

	"github.com/honten/honten/projections"
	"github.com/honten/honten/search"
)

func (m *Main) meiliBackend(context.Context) (search.Index, []projections.Projector, error) {
	return nil, nil, errors.New("meilisearch: not wired yet")
}
