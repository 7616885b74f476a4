package http

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"

	"go.yaml.in/yaml/v3"
)

//go:embed openapi.yaml
var openapiYAML []byte

// openapiJSON is the OpenAPI document, converted once from the YAML source.
var openapiJSON = mustOpenAPIJSON()

func mustOpenAPIJSON() []byte {
	var doc any
	if err := yaml.Unmarshal(openapiYAML, &doc); err != nil {
		panic(fmt.Sprintf("openapi.yaml: %v", err))
	}
	b, err := json.Marshal(normalizeYAML(doc))
	if err != nil {
		panic(fmt.Sprintf("openapi.yaml: %v", err))
	}
	return b
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
