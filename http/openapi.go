package http

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The OpenAPI document is written in YAML fragments, one per area
// (openapi/*.yaml), merged in file-name order: maps merge key by key, and a
// key defined twice is an error. Each operation names its operationId, its
// security (security: [] when public) and the responses particular to it;
// the problems every operation of a kind can answer are added once, by
// addCommonResponses.
//
//go:embed openapi/*.yaml
var openapiFS embed.FS

// openapiJSON is the merged document, converted once.
var openapiJSON = mustOpenAPIJSON()

func mustOpenAPIJSON() []byte {
	entries, err := fs.ReadDir(openapiFS, "openapi")
	if err != nil {
		panic(err)
	}
	doc := map[string]any{}
	for _, e := range entries {
		src, err := openapiFS.ReadFile("openapi/" + e.Name())
		if err != nil {
			panic(err)
		}
		var frag map[string]any
		if err := yaml.Unmarshal(src, &frag); err != nil {
			panic(fmt.Sprintf("openapi/%s: %v", e.Name(), err))
		}
		if err := mergeYAML(doc, normalizeYAML(frag).(map[string]any), ""); err != nil {
			panic(fmt.Sprintf("openapi/%s: %v", e.Name(), err))
		}
	}
	addCommonResponses(doc)
	b, err := json.Marshal(doc)
	if err != nil {
		panic(fmt.Sprintf("openapi: %v", err))
	}
	return b
}

func mergeYAML(dst, src map[string]any, at string) error {
	for k, v := range src {
		cur, ok := dst[k]
		if !ok {
			dst[k] = v
			continue
		}
		cm, ok1 := cur.(map[string]any)
		vm, ok2 := v.(map[string]any)
		if !ok1 || !ok2 {
			return fmt.Errorf("%s/%s is defined twice", at, k)
		}
		if err := mergeYAML(cm, vm, at+"/"+k); err != nil {
			return err
		}
	}
	return nil
}

// addCommonResponses adds to every /api/v1 operation the problem responses
// that the shared middleware answers, where the fragment does not describe
// them itself:
//   - 400: a malformed parameter, header (X-Min-Position, Idempotency-Key) or body;
//   - 401 and 403: a secured operation without valid credentials or permission;
//   - 404: a storefront operation for an unknown shop, or an operation naming
//     a resource in its path that does not exist in the caller's tenant;
//   - 409 and 422: a key still in progress, or reused with another request,
//     on an operation taking Idempotency-Key;
//   - 413 and 422: a body too large, or one that fails validation;
//   - 422: a query parameter that fails validation;
//   - 503: a GET whose X-Min-Position was not reached in time (every GET
//     takes that header), or a command that was applied but whose read
//     model did not catch up within the consistency wait (a retry with the
//     same Idempotency-Key answers it).
func addCommonResponses(doc map[string]any) {
	paths, _ := doc["paths"].(map[string]any)
	for path, item := range paths {
		if !strings.HasPrefix(path, "/api/v1/") {
			continue
		}
		item := item.(map[string]any)
		for method, op := range item {
			op, ok := op.(map[string]any)
			if !ok || method == "parameters" {
				continue
			}
			add := []string{"400"}
			if sec, _ := op["security"].([]any); len(sec) > 0 {
				add = append(add, "401", "403")
			}
			if strings.HasPrefix(path, "/api/v1/store/") || strings.Contains(path, "{") {
				add = append(add, "404")
			}
			if hasParamRef(op, "IdempotencyKey") {
				add = append(add, "409", "422")
			}
			if _, ok := op["requestBody"]; ok {
				add = append(add, "413", "422")
			}
			if hasQuery(doc, op) {
				add = append(add, "422")
			}
			add = append(add, "503")
			if method == "get" {
				if !hasParamRef(op, "MinPosition") {
					params, _ := op["parameters"].([]any)
					op["parameters"] = append(params, map[string]any{"$ref": "#/components/parameters/MinPosition"})
				}
			}
			responses, _ := op["responses"].(map[string]any)
			for _, code := range add {
				if _, ok := responses[code]; !ok {
					responses[code] = map[string]any{"$ref": "#/components/responses/Problem"}
				}
			}
		}
	}
}

// hasQuery reports whether op takes a query parameter, its own or shared
// from components.
func hasQuery(doc map[string]any, op map[string]any) bool {
	comps, _ := doc["components"].(map[string]any)
	shared, _ := comps["parameters"].(map[string]any)
	params, _ := op["parameters"].([]any)
	for _, p := range params {
		m, _ := p.(map[string]any)
		if ref, ok := m["$ref"].(string); ok {
			m, _ = shared[strings.TrimPrefix(ref, "#/components/parameters/")].(map[string]any)
		}
		if m["in"] == "query" {
			return true
		}
	}
	return false
}

func hasParamRef(op map[string]any, name string) bool {
	params, _ := op["parameters"].([]any)
	for _, p := range params {
		if m, ok := p.(map[string]any); ok && m["$ref"] == "#/components/parameters/"+name {
			return true
		}
	}
	return false
}

// normalizeYAML turns YAML's map[any]any into JSON-encodable maps.
func normalizeYAML(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = normalizeYAML(x)
		}
		return t
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[fmt.Sprint(k)] = normalizeYAML(x)
		}
		return m
	case []any:
		for i, x := range t {
			t[i] = normalizeYAML(x)
		}
		return t
	}
	return v
}

// OpenAPI returns the OpenAPI 3.1 document as JSON.
func OpenAPI() []byte { return openapiJSON }

func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(openapiJSON)
}
