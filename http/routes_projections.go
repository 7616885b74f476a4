package http

import (
	"context"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/honten/honten/projections"
)

func (s *Server) projectionRoutes() []adminRoute {
	return []adminRoute{
		{"GET", "/projections", permPlatform, s.listProjections},
		{"POST", "/projections/{name}/rebuild", permPlatform, s.rebuildProjection},
		{"GET", "/projections/lag", permOperations, s.projectionLag},
	}
}

type projectionList struct {
	Items      []projections.Status `json:"items"`
	NextCursor *string              `json:"next_cursor"`
}

func (s *Server) listProjections(w http.ResponseWriter, r *http.Request) {
	sts, err := s.Projections.Status(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	if sts == nil {
		sts = []projections.Status{}
	}
	writeJSON(w, http.StatusOK, projectionList{Items: sts})
}

// rebuildProjection starts a rebuild in the background and answers 202; GET
// /projections shows its progress (a generation in state "building").
func (s *Server) rebuildProjection(w http.ResponseWriter, r *http.Request) {
	name := projections.Model(chi.URLParam(r, "name"))
	if err := s.Projections.RebuildAsync(context.WithoutCancel(r.Context()), name); err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"model": name, "status": "rebuilding"})
}

type tenantLagList struct {
	Items []projections.TenantLag `json:"items"`
}

// projectionLag is GET /projections/lag: how far each read model is behind
// on the acting shop's own events, and nothing about other shops.
func (s *Server) projectionLag(w http.ResponseWriter, r *http.Request) {
	lags, err := s.Projections.TenantLag(r.Context(), callerFrom(r.Context()).Acting)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, tenantLagList{Items: lags})
}
