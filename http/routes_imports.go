package http

import (
	"context"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/honten/honten/commands/importer"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/internal/database"
	"github.com/honten/honten/projections/productviews"
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
	s.startJob(c.Acting, job.ID)
	w.Header().Set("Location", "/api/v1/admin/imports/"+job.ID.String())
	writeJSON(w, http.StatusAccepted, job)
}

// startJob runs an import in the background, bound to the server's life,
// confined to the tenant it imports into (row-level security).
func (s *Server) startJob(t tenant.ID, id uuid.UUID) {
	ctx := s.BaseContext
	if ctx == nil {
		ctx = context.Background()
	}
	ctx = database.WithTenant(ctx, t.UUID)
	go func() {
		if _, err := s.Imports.Run(ctx, id); err != nil && ctx.Err() == nil {
			s.Logger.Error("import failed", "job", id, "err", err)
		}
	}()
}

func (s *Server) getImport(w http.ResponseWriter, r *http.Request) {
	serveOne(w, r, uuid.Parse, func(ctx context.Context, c *caller, id uuid.UUID) (importer.Job, int64, error) {
		job, err := s.Imports.Get(ctx, c.Acting, id)
		if err == nil && job.Position != nil {
			// A finished import is a command's end: read-your-writes.
			w.Header().Set("X-Event-Position", *job.Position)
		}
		return job, 0, err
	})
}

// exportProducts streams every product as CSV in the import format, with a
// stock column per location of the tenant's stores.
func (s *Server) exportProducts(w http.ResponseWriter, r *http.Request) {
	c := callerFrom(r.Context())
	ctx := r.Context()
	// An export holds everything the shop committed before asking for it
	// (an import that just finished included).
	s.catchUp(ctx, "product_views", "stock_levels")
	rows, err := s.Pool.Query(ctx, `SELECT id, code FROM locations WHERE tenant_id = $1 ORDER BY code, id`, c.Acting)
	if err != nil {
		writeError(w, r, err)
		return
	}
	codeOf := map[uuid.UUID]string{}
	var codes []string
	seen := map[string]bool{}
	for rows.Next() {
		var id uuid.UUID
		var code string
		if err := rows.Scan(&id, &code); err != nil {
			rows.Close()
			writeError(w, r, err)
			return
		}
		codeOf[id] = code
		if !seen[code] {
			seen[code] = true
			codes = append(codes, code)
		}
	}
	rows.Close()
	stock := func(ctx context.Context, t tenant.ID, variants []uuid.UUID) (map[uuid.UUID]map[string]int64, error) {
		out := map[uuid.UUID]map[string]int64{}
		rows, err := s.Pool.Query(ctx, `SELECT variant_id, location_id, on_hand FROM stock_levels WHERE tenant_id = $1 AND variant_id = ANY($2)`, t, variants)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var v, l uuid.UUID
			var n int64
			if err := rows.Scan(&v, &l, &n); err != nil {
				return nil, err
			}
			if out[v] == nil {
				out[v] = map[string]int64{}
			}
			out[v][codeOf[l]] += n
		}
		return out, rows.Err()
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="products.csv"`)
	w.WriteHeader(http.StatusOK)
	if err := productviews.ExportCSV(ctx, s.Pool, c.Acting, codes, stock, flushWriter{w, s.Config.WriteTimeout}); err != nil {
		// Headers are sent: the truncated file is the signal; log the cause.
		logFrom(ctx).Error("export products", "err", err)
	}
}

// flushWriter flushes after each page so a long export streams, and
// extends the write deadline by extend after each page: the server's write
// timeout bounds a stalled client, not a long export.
type flushWriter struct {
	http.ResponseWriter
	extend time.Duration
}

func (f flushWriter) Flush() {
	rc := http.NewResponseController(f.ResponseWriter)
	_ = rc.Flush()
	if f.extend > 0 {
		_ = rc.SetWriteDeadline(time.Now().Add(f.extend))
	}
}
