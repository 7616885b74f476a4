package http

import (
	"context"
	"io"
	"mime"
	"net/http"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/errs"
)

func (s *Server) importRoutes() []adminRoute {
	return []adminRoute{
		{"POST", "/imports/products", permImports, s.importProducts},
		{"GET", "/imports/{id}", permImports, s.getImport},
		{"GET", "/exports/products.csv", permImports, s.exportProducts},
	}
}

// importProducts is POST /imports/products with a text/csv body: the file
// is checked at once (encoding, header), then imported by a background job
// whose progress and per-row errors GET /imports/{id} reports.
func (s *Server) importProducts(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "text/csv" && mt != "application/csv" && mt != "application/octet-stream") {
			writeError(w, r, errs.New(errs.KindMalformed, "unsupported_media_type", "send the file as text/csv"))
			return
		}
	}
	file, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, r, jsonError(err))
		return
	}
	if len(file) == 0 {
		writeError(w, r, errs.Field("file", "is empty"))
		return
	}
	c := callerFrom(r.Context())
	id := c.by(r).DerivedID(0)
	job, err := s.Imports.Submit(r.Context(), c.Acting, id, "staff:"+c.Staff.String(), file)
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.startJob(job.ID)
	w.Header().Set("Location", "/api/v1/admin/imports/"+job.ID.String())
	writeJSON(w, http.StatusAccepted, job)
}

// startJob runs an import in the background, bound to the server's life.
func (s *Server) startJob(id uuid.UUID) {
	ctx := s.BaseContext
	if ctx == nil {
		ctx = context.Background()
	}
	go func() {
		if _, err := s.Imports.Run(ctx, id); err != nil && ctx.Err() == nil {
			s.Logger.Error("import failed", "job", id, "err", err)
		}
	}()
}

func (s *Server) getImport(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", uuid.Parse)
	if err != nil {
		writeError(w, r, err)
		return
	}
	job, err := s.Imports.Get(r.Context(), callerFrom(r.Context()).Acting, id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, job)
}
