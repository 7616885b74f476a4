package http

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/projections"
)

// withIdempotency implements Idempotency-Key for state-changing POSTs: a
// repeat with the same key and body from the same caller gets the first
// response (same status and body), the same key with another body a 422.
// It runs after the tenant, the caller and (admin) the route's permission
// are known: keys are scoped per tenant and caller, and a caller who lost
// the permission gets a 403, never the replay.
func (s *Server) withIdempotency(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		if key == "" || r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		if len(key) > 255 || strings.IndexFunc(key, func(c rune) bool { return c < 0x21 || c > 0x7e }) >= 0 {
			writeError(w, r, errs.New(errs.KindMalformed, "invalid_idempotency_key", "Idempotency-Key must be 1 to 255 visible ASCII characters"))
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			writeError(w, r, jsonError(err))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		caller, secret := idempotencyCaller(r)
		h := sha256.New()
		h.Write([]byte(caller + "\n" + r.Method + " " + r.URL.Path + "?" + r.URL.RawQuery + "\n"))
		h.Write(body)
		idem := &eventstore.Idempotency{Scope: tenantFrom(r.Context()).UUID, Caller: caller, Key: key, Secret: secret, Hash: h.Sum(nil)}
		st, err := eventstore.Lookup(r.Context(), s.Pool, idem, s.staleAfter())
		switch {
		case err != nil:
			writeError(w, r, err)
			return
		case st.Response != nil:
			replay(w, st.Response)
			return
		case st.Pending:
			// A twin is finishing right now: wait for its response.
			s.replayPending(w, r, idem, nil)
			return
		}
		// No key yet, or an orphaned one (committed, its response lost with
		// its process): the command runs (a retry appends nothing) and the
		// response is built again.
		next.ServeHTTP(w, r.WithContext(eventstore.WithIdempotency(r.Context(), idem)))
	})
}

// staleAfter is how long a committed command's response may take to be
// stored before its key counts as orphaned: longer than any response takes
// to build (the consistency wait), with a margin.
func (s *Server) staleAfter() time.Duration { return 2*s.Config.ConsistencyWait + 10*time.Second }

// idempotencyCaller names who sends a request, for scoping its
// Idempotency-Key, and the secret material (never stored) that seals its
// stored response: the staff account; else the cart of X-Cart-Token, with
// the token as the secret; else the anonymous client's address.
func idempotencyCaller(r *http.Request) (string, []byte) {
	if c := callerFrom(r.Context()); c != nil {
		return "staff:" + c.Staff.String(), nil
	}
	if tok := r.Header.Get("X-Cart-Token"); tok != "" {
		return "cart:" + commands.HashToken(tok), []byte(tok)
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	sum := sha256.Sum256([]byte("client:" + host))
	return "client:" + hex.EncodeToString(sum[:16]), nil
}

// replay writes a stored response again, marked as a replay.
func replay(w http.ResponseWriter, resp *eventstore.Response) {
	w.Header().Set("Idempotent-Replayed", "true")
	writeResponse(w, resp)
}

// writeResponse writes a response built by executeReading (or stored by it).
func writeResponse(w http.ResponseWriter, resp *eventstore.Response) {
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body)
}

// replayPending waits (bounded) for a committed twin's response; when it
// never comes (the twin's process died after its commit), view rebuilds it.
func (s *Server) replayPending(w http.ResponseWriter, r *http.Request, idem *eventstore.Idempotency, view func() (*eventstore.Response, error)) {
	deadline := time.Now().Add(s.Config.ConsistencyWait + time.Second)
	for delay := 5 * time.Millisecond; time.Now().Before(deadline); delay = min(delay*2, 100*time.Millisecond) {
		st, err := eventstore.Lookup(r.Context(), s.Pool, idem, s.staleAfter())
		if err != nil {
			writeError(w, r, err)
			return
		}
		if st.Response != nil {
			replay(w, st.Response)
			return
		}
		if !st.Pending {
			break
		}
		select {
		case <-r.Context().Done():
			return
		case <-time.After(delay):
		}
	}
	if view == nil {
		writeError(w, r, errs.New(errs.KindConflict, "request_in_progress", "a request with this Idempotency-Key is still in progress; retry shortly"))
		return
	}
	resp, err := view()
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := eventstore.Complete(r.Context(), s.Pool, idem, *resp); err != nil {
		logFrom(r.Context()).Warn("store idempotent response", "err", err)
	}
	replay(w, resp)
}

// commandID is the id of the command a request issues: derived from the
// Idempotency-Key when there is one (a retry is the same command), else
// fixed for the request, so the ids it creates are decided once.
func commandID(r *http.Request) uuid.UUID {
	if idem := eventstore.IdempotencyFrom(r.Context()); idem != nil {
		return eventstore.CommandID(idem)
	}
	if id, ok := r.Context().Value(keyCommandID).(uuid.UUID); ok {
		return id
	}
	return uuid.Nil
}

// view is a response body with its entity version (the ETag; 0 for none)
// and, when not the command's usual one, its status.
type view struct {
	body    any
	version int64
	status  int
}

// execute runs a command and answers with status and the view of what it
// changed, read after the read models have applied the command's events
// (bounded by the consistency wait). Responses carry X-Event-Position and,
// for versioned entities, ETag. With an Idempotency-Key the response is
// stored for retries; a twin that lost the race replays it.
func (s *Server) execute(w http.ResponseWriter, r *http.Request, status int,
	call func(ctx context.Context) (commands.Result, error),
	read func(ctx context.Context) (view, error),
) {
	s.executeReading(w, r, status, nil, call, read)
}

// executeReading is execute for a view that reads only the named read
// models (none: the view is built from the command's own result, so the
// response does not wait for any projection).
func (s *Server) executeReading(w http.ResponseWriter, r *http.Request, status int, models []string,
	call func(ctx context.Context) (commands.Result, error),
	read func(ctx context.Context) (view, error),
) {
	ctx := r.Context()
	idem := eventstore.IdempotencyFrom(ctx)
	res, err := call(ctx)
	build := func(res commands.Result) (*eventstore.Response, error) {
		var behind bool
		if !res.Last.IsZero() && (models == nil || len(models) > 0) {
			wctx, cancel := context.WithTimeout(ctx, s.Config.ConsistencyWait)
			err := s.waitFor(wctx, res.Last, models...)
			cancel()
			if err != nil && !errors.Is(err, projections.ErrNotCaughtUp) {
				return nil, err
			}
			behind = err != nil
		}
		v, err := read(ctx)
		if err != nil {
			if behind && errs.KindOf(err) == errs.KindNotFound {
				// The command succeeded; its read model has not caught up
				// with it yet. That is not a 404.
				return nil, projections.ErrNotCaughtUp
			}
			return nil, err
		}
		body, err := json.Marshal(v.body)
		if err != nil {
			return nil, err
		}
		code := status
		if v.status != 0 {
			code = v.status
		}
		headers := map[string]string{"Content-Type": "application/json"}
		if !res.Last.IsZero() {
			headers["X-Event-Position"] = res.Last.Token()
		}
		if v.version > 0 {
			headers["ETag"] = etag(v.version)
		}
		return &eventstore.Response{Status: code, Headers: headers, Body: append(body, '\n')}, nil
	}
	if err != nil && idem != nil {
		// A twin request with the same key may have won the race (the loser
		// then sees a duplicate, or state the twin changed: a closed cart):
		// the twin's response is the answer.
		st, lerr := eventstore.Lookup(ctx, s.Pool, idem, s.staleAfter())
		switch {
		case lerr != nil:
			writeError(w, r, lerr)
			return
		case st.Response != nil:
			replay(w, st.Response)
			return
		case st.Pending || st.Orphaned || errors.Is(err, eventstore.ErrDuplicate):
			s.replayPending(w, r, idem, func() (*eventstore.Response, error) { return build(commands.Result{}) })
			return
		}
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	resp, err := build(res)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if idem != nil {
		if err := eventstore.Complete(context.WithoutCancel(ctx), s.Pool, idem, *resp); err != nil {
			logFrom(ctx).Warn("store idempotent response", "err", err)
		}
	}
	writeResponse(w, resp)
}

func etag(v int64) string { return `"` + strconv.FormatInt(v, 10) + `"` }

// ifMatch reads If-Match as an entity version; nil when absent. A malformed
// or weak tag can never match: it is a 412.
func ifMatch(r *http.Request) (*int64, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return nil, nil
	}
	v, err := strconv.ParseInt(strings.Trim(h, `"`), 10, 64)
	if err != nil || v < 0 || !strings.HasPrefix(h, `"`) || !strings.HasSuffix(h, `"`) {
		return nil, eventstore.ErrVersionConflict
	}
	return &v, nil
}

// page reads ?limit= and ?cursor=.
func page(r *http.Request) (projections.Page, error) {
	p := projections.Page{Limit: projections.DefaultLimit, Cursor: r.URL.Query().Get("cursor")}
	if l := r.URL.Query().Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > projections.MaxLimit {
			return p, errs.Field("limit", "must be an integer from 1 to 200")
		}
		p.Limit = n
	}
	return p, nil
}

// pathID parses an id in the path; a malformed one names no resource (404).
func pathID[T any](r *http.Request, name string, parse func(string) (T, error)) (T, error) {
	v, err := parse(chiParam(r, name))
	if err != nil {
		var zero T
		return zero, errs.New(errs.KindNotFound, "not_found", "no such "+name)
	}
	return v, nil
}

// writeView writes a read with its ETag.
func writeView(w http.ResponseWriter, v any, version int64) {
	if version > 0 {
		w.Header().Set("ETag", etag(version))
	}
	writeJSON(w, http.StatusOK, v)
}

// serveList answers a paged list read of the caller's tenant.
func serveList[T any](w http.ResponseWriter, r *http.Request, list func(ctx context.Context, c *caller, p projections.Page) (projections.List[T], error)) {
	p, err := page(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	l, err := list(r.Context(), callerFrom(r.Context()), p)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, l)
}

// serveOne answers the read of one entity named by the path's {id}, with
// its version as the ETag.
func serveOne[ID any, V any](w http.ResponseWriter, r *http.Request, parse func(string) (ID, error), get func(ctx context.Context, c *caller, id ID) (V, int64, error)) {
	id, err := pathID(r, "id", parse)
	if err != nil {
		writeError(w, r, err)
		return
	}
	v, version, err := get(r.Context(), callerFrom(r.Context()), id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeView(w, v, version)
}

// decodeAt reads a command on the entity named by the path's {id}: the id
// and the JSON body into in. It writes the error and returns false when
// either is bad.
func decodeAt[ID any](w http.ResponseWriter, r *http.Request, parse func(string) (ID, error), in any) (ID, bool) {
	id, err := pathID(r, "id", parse)
	if err == nil {
		err = decodeJSON(r, in)
	}
	if err != nil {
		writeError(w, r, err)
		return id, false
	}
	return id, true
}

// decodeChange reads a PATCH: the path's {id}, the JSON body into in and
// If-Match. It writes the error and returns false when any is bad.
func decodeChange[ID any](w http.ResponseWriter, r *http.Request, parse func(string) (ID, error), in any) (ID, *int64, bool) {
	id, ok := decodeAt(w, r, parse, in)
	if !ok {
		return id, nil, false
	}
	ifv, err := ifMatch(r)
	if err != nil {
		writeError(w, r, err)
		return id, nil, false
	}
	return id, ifv, true
}
