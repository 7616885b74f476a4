package http

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/internal/metrics"
)

type ctxKey int

const (
	keyRequestID ctxKey = iota
	keyLog
	keyPrincipal
	keyTenant
	keyCommandID
)

// reqLog carries the request's log attributes; later middleware (tenant,
// auth) add to it, and the access log line includes them.
type reqLog struct {
	mu    sync.Mutex
	attrs []any
	base  *slog.Logger
}

func (l *reqLog) add(attrs ...any) {
	l.mu.Lock()
	l.attrs = append(l.attrs, attrs...)
	l.mu.Unlock()
}

func (l *reqLog) logger() *slog.Logger {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.base.With(l.attrs...)
}

func logFrom(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(keyLog).(*reqLog); ok {
		return l.logger()
	}
	return slog.Default()
}

func addLogAttrs(ctx context.Context, attrs ...any) {
	if l, ok := ctx.Value(keyLog).(*reqLog); ok {
		l.add(attrs...)
	}
}

func requestID(ctx context.Context) string {
	s, _ := ctx.Value(keyRequestID).(string)
	return s
}

var requestIDRe = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// withRequestID takes a well-formed X-Request-Id from the client or makes one.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !requestIDRe.MatchString(id) {
			id = uuid.Must(uuid.NewV7()).String()
		}
		w.Header().Set("X-Request-Id", id)
		ctx := context.WithValue(r.Context(), keyRequestID, id)
		ctx = context.WithValue(ctx, keyCommandID, uuid.Must(uuid.NewV7()))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// withReferrerPolicy sends Referrer-Policy: no-referrer on every response,
// so a page that shows an order link (?token=) never leaks it to the sites
// it links to.
func withReferrerPolicy(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// statusWriter records the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Flush lets streamed responses (CSV exports) reach the client as they go.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// withLogging logs one line per request — method, route pattern, status,
// size, duration, request id, tenant — and records the latency metric.
// Bodies, query strings and headers are never logged: they may hold personal
// data or tokens.
func withLogging(base *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rl := &reqLog{base: base, attrs: []any{"request_id", requestID(r.Context())}}
			sw := &statusWriter{ResponseWriter: w}
			next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), keyLog, rl)))
			if sw.status == 0 {
				sw.status = http.StatusOK
			}
			route := routePattern(r)
			dur := time.Since(start)
			metrics.HTTPDuration.WithLabelValues(route, r.Method, strconv.Itoa(sw.status)).Observe(dur.Seconds())
			level := slog.LevelInfo
			if sw.status >= 500 {
				level = slog.LevelError
			}
			rl.logger().Log(r.Context(), level, "http request",
				"method", r.Method, "route", route, "status", sw.status, "bytes", sw.bytes,
				"duration_ms", float64(dur.Microseconds())/1000)
		})
	}
}

func routePattern(r *http.Request) string {
	if rc := chi.RouteContext(r.Context()); rc != nil {
		if p := rc.RoutePattern(); p != "" {
			return p
		}
	}
	return "unmatched"
}

// withRecover turns a panic into a logged 500 problem.
func withRecover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				logFrom(r.Context()).Error("panic in handler", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				writeError(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// withBodyLimit caps request bodies at n bytes (upload bytes for file
// uploads): a declared larger Content-Length is refused at once (413), a
// longer stream fails on read.
func withBodyLimit(n, upload int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := n
			if p := r.URL.Path; strings.HasSuffix(p, "/imports/products") || strings.HasSuffix(p, "/bank-statements") || strings.HasSuffix(p, "/cod-remittances") {
				n = upload
			}
			if r.ContentLength > n {
				writeError(w, r, errTooLarge)
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, n)
			next.ServeHTTP(w, r)
		})
	}
}

// notFound and methodNotAllowed answer unknown routes with problems.
func notFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, r, errs.New(errs.KindNotFound, "route_not_found", "no such resource"))
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, Problem{Type: "urn:honten:problem:method_not_allowed", Title: "Method Not Allowed",
		Status: http.StatusMethodNotAllowed, Detail: r.Method + " is not allowed here", Instance: r.URL.Path, RequestID: requestID(r.Context())})
}
