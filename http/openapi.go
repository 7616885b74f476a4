package http

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"

	"go.yaml.in/yaml/v3"
)

// The OpenAPI document is written in YAML fragments, one per area
// (openapi/*.yaml), merged in file-name order: maps merge key by key, and a
// key defined twice is an error.
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
