package http

import (
	"net/http"
	"strconv"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore/bus"
)

// poisonRoutes surface the reactions that failed every retry. A platform
// administrator sees every shop's (or, with X-Tenant, one shop's); a
// shop's owner or admin sees and retries their own shop's only.
func (s *Server) poisonRoutes() []adminRoute {
	return []adminRoute{
		{"GET", "/poison", permPoison, s.listPoison},
		{"POST", "/poison/{id}/retry", permPoison, s.retryPoison},
	}
}

// poisonScope is the tenant whose poisoned messages c may see; nil for all.
func poisonScope(c *caller) *tenant.ID {
	if c.PlatformAdmin && c.Acting == c.Tenant {
		return nil
	}
	t := c.Acting
	return &t
}

type poisonList struct {
	Items      []bus.Poisoned `json:"items"`
	NextCursor *string        `json:"next_cursor"`
}

func (s *Server) listPoison(w http.ResponseWriter, r *http.Request) {
	p, err := page(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var after int64
	if p.Cursor != "" {
		if after, err = strconv.ParseInt(p.Cursor, 10, 64); err != nil || after < 0 {
			writeError(w, r, errs.Field("cursor", "is not a cursor this server issued"))
			return
		}
	}
	items, err := bus.ListPoisoned(r.Context(), s.Pool, poisonScope(callerFrom(r.Context())), after, p.Limit+1)
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := poisonList{Items: items}
	if len(items) > p.Limit {
		out.Items = items[:p.Limit]
		next := strconv.FormatInt(out.Items[p.Limit-1].ID, 10)
		out.NextCursor = &next
	}
	if out.Items == nil {
		out.Items = []bus.Poisoned{}
	}
	writeJSON(w, http.StatusOK, out)
}

// retryPoison is POST /poison/{id}/retry: the message goes to its handler
// again; 200 with the message (resolved), 409 poison_retry_failed when the
// handler fails again.
func (s *Server) retryPoison(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", func(v string) (int64, error) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err == nil && n <= 0 {
			err = strconv.ErrRange
		}
		return n, err
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := decodeOptionalJSON(r, &struct{}{}); err != nil {
		writeError(w, r, err)
		return
	}
	p, err := bus.RetryPoisoned(r.Context(), s.Pool, s.Handlers, poisonScope(callerFrom(r.Context())), id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}
