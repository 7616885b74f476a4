package http

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/tenant"
)

// echoServer is a bare server with one route that decodes a JSON body and
// parses an id, the way every handler does.
func echoServer() http.Handler {
	s := NewServer(Deps{Config: Config{MaxBodyBytes: 1024}})
	s.router.With(withBodyLimit(1024, 1024)).Post("/test/things/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := tenant.ParseID(chi.URLParam(r, "id"))
		if err != nil {
			writeError(w, r, errs.Field("id", err.Error()))
			return
		}
		var body struct {
			Name     string `json:"name"`
			Quantity int    `json:"quantity"`
		}
		if err := decodeJSON(r, &body); err != nil {
			writeError(w, r, err)
			return
		}
		if r.URL.Query().Get("panic") == "1" {
			panic("boom")
		}
		writeJSON(w, http.StatusOK, map[string]any{"id": id, "name": body.Name})
	})
	return s
}

func TestBadInputIsA4xxProblem(t *testing.T) {
	t.Parallel()
	h := echoServer()
	const id = "01938f5e-7a3c-7b2e-9a1d-3c4b5d6e7f80"
	cases := []struct {
		name, path, body, ctype string
		status                  int
		code                    string
	}{
		{"malformed JSON", "/test/things/" + id, `{"name": `, "", 400, "malformed_request"},
		{"not an object", "/test/things/" + id, `[1,2]`, "", 400, "malformed_request"},
		{"empty body", "/test/things/" + id, ``, "", 400, "malformed_request"},
		{"unknown field", "/test/things/" + id, `{"name":"a","colour":"red"}`, "", 400, "unknown_field"},
		{"wrong type", "/test/things/" + id, `{"quantity":"three"}`, "", 400, "malformed_request"},
		{"two objects", "/test/things/" + id, `{"name":"a"}{"name":"b"}`, "", 400, "malformed_request"},
		{"oversized body", "/test/things/" + id, `{"name":"` + strings.Repeat("x", 2000) + `"}`, "", 413, "body_too_large"},
		{"invalid id", "/test/things/not-a-uuid", `{"name":"a"}`, "", 422, "validation_failed"},
		{"sql in id", "/test/things/1'%20OR%20'1'='1", `{"name":"a"}`, "", 422, "validation_failed"},
		{"wrong content type", "/test/things/" + id, `name=a`, "application/x-www-form-urlencoded", 400, "unsupported_media_type"},
		{"unknown route", "/test/nothing", `{}`, "", 404, "route_not_found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(http.MethodPost, c.path, strings.NewReader(c.body))
			if c.ctype != "" {
				req.Header.Set("Content-Type", c.ctype)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			require.Equal(t, c.status, rec.Code, rec.Body.String())
			require.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
			var p map[string]any
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
			require.Equal(t, float64(c.status), p["status"])
			require.Equal(t, c.code, p["code"])
			require.NotEmpty(t, p["detail"])
			require.NotEmpty(t, p["request_id"])
		})
	}
}

func TestChunkedOversizedBodyIs413(t *testing.T) {
	t.Parallel()
	h := echoServer()
	body := io.MultiReader(strings.NewReader(`{"name":"`), strings.NewReader(strings.Repeat("x", 4096)), strings.NewReader(`"}`))
	req := httptest.NewRequest(http.MethodPost, "/test/things/01938f5e-7a3c-7b2e-9a1d-3c4b5d6e7f80", body)
	req.ContentLength = -1 // unknown length: the limit applies while reading
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
}

func TestPanicIsA500ProblemWithoutDetails(t *testing.T) {
	t.Parallel()
	h := echoServer()
	req := httptest.NewRequest(http.MethodPost, "/test/things/01938f5e-7a3c-7b2e-9a1d-3c4b5d6e7f80?panic=1", strings.NewReader(`{"name":"a"}`))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	require.Contains(t, rec.Body.String(), `"detail":"internal error"`)
	require.NotContains(t, rec.Body.String(), "boom")
}

func TestRequestIDIsKeptOrMade(t *testing.T) {
	t.Parallel()
	h := echoServer()
	req := httptest.NewRequest(http.MethodGet, "/test/nothing", nil)
	req.Header.Set("X-Request-Id", "abc-123")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, "abc-123", rec.Header().Get("X-Request-Id"))

	req = httptest.NewRequest(http.MethodGet, "/test/nothing", nil)
	req.Header.Set("X-Request-Id", "bad id with spaces\n")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Len(t, rec.Header().Get("X-Request-Id"), 36)
}

func FuzzDecodeJSONNeverPanicsOr500s(f *testing.F) {
	for _, s := range []string{`{}`, `{"name":"a","quantity":1}`, `{"name":`, `[]`, `null`, `{"quantity":1e999}`, "\xff\xfe", `{"name":"\ud800"}`} {
		f.Add([]byte(s))
	}
	h := echoServer()
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/test/things/01938f5e-7a3c-7b2e-9a1d-3c4b5d6e7f80", bytes.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for body %q: %s", rec.Code, body, rec.Body.String())
		}
		if rec.Code != http.StatusOK && !utf8.Valid(rec.Body.Bytes()) {
			t.Fatalf("problem body is not UTF-8")
		}
	})
}

func newRecorder(h http.Handler, method, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}

// A request its client abandoned fails with its canceled context: that is
// a 499 logged at info, not a server error.
func TestAnAbandonedRequestIsNotAServerError(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	failing := func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, fmt.Errorf("begin: %w", r.Context().Err()))
	}
	h := withLogging(log)(http.HandlerFunc(failing))

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v1/store/carts", nil).WithContext(ctx))
	require.Equal(t, 499, rec.Code)
	require.Contains(t, rec.Body.String(), "client_closed_request")
	require.NotContains(t, logs.String(), `"level":"ERROR"`)
	require.Contains(t, logs.String(), "request abandoned by its client")

	// The same failure while the client still waits is a 500, logged.
	logs.Reset()
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v1/store/carts", nil))
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	require.Contains(t, logs.String(), `"level":"ERROR"`)
}
