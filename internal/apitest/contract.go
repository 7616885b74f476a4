package apitest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	verrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/helpers"

	honhttp "github.com/honten/honten/http"
)

// Contract checks exchanges against the served OpenAPI document. Every
// request Env.Do sends and every response it receives go through it, so
// the document cannot drift from what the server does:
//   - a path or method the document does not describe fails the test;
//   - a request the document calls invalid must be answered with a 4xx
//     (the server may refuse more than the schema does, never less);
//   - every response must have a declared status and match its schema.
type Contract struct {
	v validator.Validator
}

var contract = sync.OnceValues(func() (*Contract, error) {
	doc, err := libopenapi.NewDocument(honhttp.OpenAPI())
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	v, errs := validator.NewValidator(doc, config.WithFormatAssertions())
	if len(errs) > 0 {
		return nil, fmt.Errorf("openapi: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		return nil, fmt.Errorf("openapi: the document is not valid: %s", describe(verrs))
	}
	return &Contract{v: v}, nil
})

// OpenAPIContract returns the validator built from the served document.
func OpenAPIContract() (*Contract, error) { return contract() }

// Check validates one exchange: the request as sent (with its body) and the
// response as received. It returns a description of every mismatch, or "".
func (c *Contract) Check(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) string {
	r := req.Clone(req.Context())
	r.Body = io.NopCloser(bytes.NewReader(reqBody))
	r.ContentLength = int64(len(reqBody))
	var problems []string
	ok, errs := c.v.ValidateHttpRequestSync(r)
	if !ok {
		for _, e := range errs {
			if e.ValidationType == helpers.PathValidation || e.ValidationSubType == helpers.ValidationMissingOperation {
				return fmt.Sprintf("%s %s is not in the OpenAPI document: %s", req.Method, req.URL.Path, describe(errs))
			}
		}
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			problems = append(problems, fmt.Sprintf("the document calls the request invalid, yet it was answered %d: %s", resp.StatusCode, describe(errs)))
		}
	}
	r = req.Clone(req.Context())
	r.Body = io.NopCloser(bytes.NewReader(reqBody))
	rs := *resp
	rs.Body = io.NopCloser(bytes.NewReader(respBody))
	if ok, errs := c.v.ValidateHttpResponse(r, &rs); !ok {
		problems = append(problems, fmt.Sprintf("the %d response does not match the document: %s", resp.StatusCode, describe(errs)))
	}
	if len(problems) == 0 {
		return ""
	}
	return fmt.Sprintf("%s %s: %s\nresponse body: %s", req.Method, req.URL.RequestURI(), strings.Join(problems, "; "), truncate(respBody))
}

func describe(errs []*verrors.ValidationError) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "\n  - %s: %s", e.Message, e.Reason)
		for _, f := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "\n      at %s: %s", f.FieldPath, f.Reason)
		}
	}
	return b.String()
}

func truncate(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}
