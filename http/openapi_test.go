package http

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/stretchr/testify/require"
)

// The served document is valid OpenAPI 3.1, checked against the
// specification's schema by a validator library.
func TestOpenAPIIsValid(t *testing.T) {
	t.Parallel()
	doc, err := libopenapi.NewDocument(OpenAPI())
	require.NoError(t, err)
	v, errs := validator.NewValidator(doc)
	require.Empty(t, errs)
	ok, verrs := v.ValidateDocument()
	var msgs []string
	for _, e := range verrs {
		msgs = append(msgs, e.Message+": "+e.Reason)
		for _, f := range e.SchemaValidationErrors {
			msgs = append(msgs, "  "+f.FieldPath+": "+f.Reason)
		}
	}
	require.True(t, ok, strings.Join(msgs, "\n"))
}

// Every operation has a unique operationId and states its security (an
// empty list when public); every API operation describes its 4xx answers,
// each an RFC 9457 problem.
func TestOpenAPIOperationsAreComplete(t *testing.T) {
	t.Parallel()
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Responses map[string]json.RawMessage `json:"responses"`
		} `json:"components"`
	}
	require.NoError(t, json.Unmarshal(OpenAPI(), &doc))
	type response struct {
		Ref     string                     `json:"$ref"`
		Content map[string]json.RawMessage `json:"content"`
	}
	type operation struct {
		OperationID string              `json:"operationId"`
		Security    *[]json.RawMessage  `json:"security"`
		Responses   map[string]response `json:"responses"`
	}
	ids := map[string]string{}
	n := 0
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			if method == "parameters" {
				continue
			}
			n++
			name := strings.ToUpper(method) + " " + path
			var op operation
			require.NoError(t, json.Unmarshal(raw, &op), name)
			require.NotEmpty(t, op.OperationID, "%s has no operationId", name)
			require.Empty(t, ids[op.OperationID], "%s and %s share the operationId %s", name, ids[op.OperationID], op.OperationID)
			ids[op.OperationID] = name
			require.NotNil(t, op.Security, "%s does not state its security (security: [] when public)", name)
			if !strings.HasPrefix(path, "/api/v1/") {
				continue
			}
			var fours int
			for code, r := range op.Responses {
				if code[0] != '4' {
					continue
				}
				fours++
				if r.Ref != "" {
					var ref response
					require.NoError(t, json.Unmarshal(doc.Components.Responses[strings.TrimPrefix(r.Ref, "#/components/responses/")], &ref), r.Ref)
					r = ref
				}
				require.Contains(t, r.Content, "application/problem+json", "%s %s is not a problem", name, code)
			}
			require.NotZero(t, fours, "%s describes no 4xx response", name)
			if len(*op.Security) > 0 {
				require.Contains(t, op.Responses, "401", name)
				require.Contains(t, op.Responses, "403", name)
			}
		}
	}
	require.Greater(t, n, 50)
}

// The OpenAPI document and the router must describe the same operations.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(OpenAPI(), &doc))
	require.Equal(t, "3.1.0", doc.OpenAPI)

	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" {
				continue
			}
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	routed := map[string]bool{}
	s := NewServer(Deps{})
	require.NoError(t, chi.Walk(s.Routes(), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		route = strings.TrimSuffix(route, "/")
		if route == "" {
			route = "/"
		}
		routed[method+" "+route] = true
		return nil
	}))
	var missing, extra []string
	for op := range routed {
		if !documented[op] {
			missing = append(missing, op)
		}
	}
	for op := range documented {
		if !routed[op] {
			extra = append(extra, op)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	require.Empty(t, missing, "routes without an OpenAPI operation")
	require.Empty(t, extra, "OpenAPI operations without a route")
}

func TestOpenAPIIsServed(t *testing.T) {
	t.Parallel()
	s := NewServer(Deps{})
	rec := newRecorder(s, http.MethodGet, "/openapi.json")
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	require.True(t, json.Valid(rec.Body.Bytes()))
}
