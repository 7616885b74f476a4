package http

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"

	"github.com/honten/honten/domain/errs"
)

// statusOf is the one table from error kind to HTTP status.
var statusOf = map[errs.Kind]int{
	errs.KindInternal:        http.StatusInternalServerError,
	errs.KindInvalid:         http.StatusUnprocessableEntity,
	errs.KindMalformed:       http.StatusBadRequest,
	errs.KindNotFound:        http.StatusNotFound,
	errs.KindConflict:        http.StatusConflict,
	errs.KindVersionConflict: http.StatusPreconditionFailed,
	errs.KindUnauthenticated: http.StatusUnauthorized,
	errs.KindForbidden:       http.StatusForbidden,
	errs.KindTooLarge:        http.StatusRequestEntityTooLarge,
	errs.KindRateLimited:     http.StatusTooManyRequests,
	errs.KindUnavailable:     http.StatusServiceUnavailable,
	errs.KindGone:            http.StatusGone,
}

// Problem is an RFC 9457 problem detail.
type Problem struct {
	Type      string            `json:"type"`
	Title     string            `json:"title"`
	Status    int               `json:"status"`
	Detail    string            `json:"detail,omitempty"`
	Code      string            `json:"code,omitempty"`
	Instance  string            `json:"instance,omitempty"`
	Errors    []errs.FieldError `json:"errors,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
	// Extra carries problem-specific members (e.g. the lines that block a checkout).
	Extra map[string]any `json:"-"`
}

// MarshalJSON flattens Extra into the problem object.
func (p Problem) MarshalJSON() ([]byte, error) {
	type plain Problem
	b, err := json.Marshal(plain(p))
	if err != nil || len(p.Extra) == 0 {
		return b, err
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, v := range p.Extra {
		if _, taken := m[k]; !taken {
			m[k] = v
		}
	}
	return json.Marshal(m)
}

// DetailedError lets a domain error add members to its problem document.
type DetailedError interface {
	error
	ProblemExtra() map[string]any
}

// statusClientClosed is the status of a request whose client went away
// before it was answered (nginx's 499): the work it had started was cut
// short with it, which is no fault of the server's.
const statusClientClosed = 499

// writeError turns err into a problem+json response. Unknown errors are a
// 500 "internal error" whose cause is logged, never sent. A request its
// client abandoned (its context canceled) and that failed for it is a 499,
// logged at info: nobody reads the answer, and no server fault is counted.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	kind := errs.KindOf(err)
	status, ok := statusOf[kind]
	if !ok {
		status = http.StatusInternalServerError
	}
	if status >= 500 && errors.Is(r.Context().Err(), context.Canceled) {
		logFrom(r.Context()).Info("request abandoned by its client", "err", err)
		writeProblem(w, Problem{Type: "urn:honten:problem:client_closed_request", Title: "Client Closed Request",
			Status: statusClientClosed, Instance: r.URL.Path, RequestID: requestID(r.Context())})
		return
	}
	p := Problem{
		Type:      "urn:honten:problem:" + kind.String(),
		Title:     http.StatusText(status),
		Status:    status,
		Instance:  r.URL.Path,
		RequestID: requestID(r.Context()),
	}
	if e, ok := errs.As(err); ok && kind != errs.KindInternal {
		p.Detail = e.Message
		p.Code = e.Code
		p.Errors = e.Fields
		if e.Code != "" {
			p.Type = "urn:honten:problem:" + e.Code
		}
	}
	var de DetailedError
	if errors.As(err, &de) {
		p.Extra = de.ProblemExtra()
	}
	if status >= 500 {
		p.Detail = "internal error"
		if kind == errs.KindUnavailable {
			if e, ok := errs.As(err); ok {
				p.Detail = e.Message
			}
			w.Header().Set("Retry-After", "1")
		} else {
			logFrom(r.Context()).Error("request failed", "err", err)
		}
	}
	var ra errs.Retryable
	if errors.As(err, &ra) {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(ra.RetryAfter().Seconds())))))
	} else if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="honten"`)
	}
	writeProblem(w, p)
}

func writeProblem(w http.ResponseWriter, p Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// writeJSON writes v as a JSON response with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		slog.Default().Warn("http: encode response", "err", err)
	}
}
