package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/honten/honten/domain/errs"
)

// errTooLarge is the 413 for bodies over the route's limit.
var errTooLarge = errs.New(errs.KindTooLarge, "body_too_large", "the request body is too large")

// decodeJSON reads exactly one JSON object from the body into v. Unknown
// fields, trailing data, wrong types and malformed JSON are 400s with a
// detail that names the problem; an oversized body is a 413.
func decodeJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return errs.New(errs.KindMalformed, "unsupported_media_type", "the request body must be application/json")
		}
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errTooLarge
		}
		return errs.Malformedf("the request body must hold a single JSON object")
	}
	return nil
}

// decodeOptionalJSON is decodeJSON for bodies that may be left out: an
// empty (or blank) body leaves v alone.
func decodeOptionalJSON(r *http.Request, v any) error {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return nil
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return jsonError(err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return decodeJSON(r, v)
}

func jsonError(err error) error {
	var mbe *http.MaxBytesError
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return errTooLarge
	case errors.Is(err, io.EOF):
		return errs.Malformedf("the request body is empty; a JSON object is required")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errs.Malformedf("the request body is truncated JSON")
	case errors.As(err, &syn):
		return errs.Malformedf("malformed JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			fe := errs.New(errs.KindMalformed, "malformed_request", fmt.Sprintf("field %q must be a JSON %s", typ.Field, jsonKind(typ.Type.Kind().String())))
			fe.Fields = []errs.FieldError{{Field: typ.Field, Message: "must be a JSON " + jsonKind(typ.Type.Kind().String())}}
			return fe
		}
		return errs.Malformedf("the request body must be a JSON object")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		fe := errs.New(errs.KindMalformed, "unknown_field", fmt.Sprintf("unknown field %q", name))
		fe.Fields = []errs.FieldError{{Field: name, Message: "unknown field"}}
		return fe
	}
	// Errors from UnmarshalJSON/UnmarshalText of value types (money, ids, enums).
	if e, ok := errs.As(err); ok {
		if e.Kind == errs.KindInvalid {
			return e
		}
		return errs.Malformedf("%s", e.Message)
	}
	return errs.Malformedf("malformed JSON: %s", trimJSONErr(err.Error()))
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "number"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "map", "struct":
		return "object"
	}
	return "value of another type"
}

func trimJSONErr(s string) string {
	s = strings.TrimPrefix(s, "json: ")
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
