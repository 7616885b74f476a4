// Package errs defines the closed set of error kinds the domain reports and
// the HTTP layer maps to status codes (one table, in package http).
//
// A domain package declares its errors once:
//
//	var ErrAlreadyShipped = errs.Conflict("order_already_shipped", "order has already shipped")
//
// and callers test them with errors.Is. Wrapping with fmt.Errorf("…: %w", err)
// keeps the kind. This package imports only the standard library.
package errs

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Kind classifies an error for the caller: what went wrong, not where.
type Kind uint8

// The kinds. The zero Kind is Internal: anything not classified is a server fault.
const (
	KindInternal        Kind = iota // a bug or an infrastructure failure (500)
	KindInvalid                     // the request is well-formed but its values are not acceptable (422)
	KindMalformed                   // the request cannot be parsed (400)
	KindNotFound                    // no such resource for this tenant (404)
	KindConflict                    // the resource's state forbids the action (409)
	KindVersionConflict             // the caller's expected version is stale (412)
	KindUnauthenticated             // no or invalid credentials (401)
	KindForbidden                   // the caller's role or scope forbids the action (403)
	KindTooLarge                    // the request body or file is too large (413)
	KindRateLimited                 // too many requests (429)
	KindUnavailable                 // temporarily unable to answer, retry later (503)
	KindGone                        // the resource existed and is no more (410: an expired link)
)

var kindNames = [...]string{"internal", "invalid", "malformed", "not_found", "conflict",
	"version_conflict", "unauthenticated", "forbidden", "too_large", "rate_limited", "unavailable", "gone"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// FieldError names one invalid field of a request and why.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is a classified error. Code is a stable machine-readable slug
// ("order_already_shipped"); Message is for humans.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	Fields  []FieldError
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	var b strings.Builder
	b.WriteString(e.Message)
	b.WriteString(": ")
	for i, f := range e.Fields {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.Field)
		b.WriteString(" ")
		b.WriteString(f.Message)
	}
	return b.String()
}

// Is makes errors.Is match two *Error values with the same kind, code and
// field errors, so a copied sentinel still matches — but one validation
// error does not match another about other fields.
func (e *Error) Is(target error) bool {
	var t *Error
	if !errors.As(target, &t) {
		return false
	}
	return t.Kind == e.Kind && t.Code == e.Code && slices.Equal(t.Fields, e.Fields)
}

// New returns an error of the given kind.
func New(k Kind, code, msg string) *Error { return &Error{Kind: k, Code: code, Message: msg} }

// Conflict returns a Conflict error (409).
func Conflict(code, msg string) *Error { return New(KindConflict, code, msg) }

// NotFoundf returns a NotFound error (404) for a resource of the given kind.
func NotFoundf(resource string) *Error {
	return New(KindNotFound, resource+"_not_found", resource+" not found")
}

// InvalidFields returns an Invalid error (422) naming the fields at fault.
func InvalidFields(fields ...FieldError) *Error {
	return &Error{Kind: KindInvalid, Code: "validation_failed", Message: "validation failed", Fields: fields}
}

// Field returns an Invalid error (422) for one field.
func Field(field, msg string) *Error { return InvalidFields(FieldError{Field: field, Message: msg}) }

// OneOf returns s as a T when it is one of all, else an Invalid error (422)
// for field listing the accepted values in order ("must be one of: a, b").
// It is the parser of the domain's string enums.
func OneOf[T ~string](field, s string, all []T) (T, error) {
	if slices.Contains(all, T(s)) {
		return T(s), nil
	}
	names := make([]string, len(all))
	for i, v := range all {
		names[i] = string(v)
	}
	return "", Field(field, "must be one of: "+strings.Join(names, ", "))
}

// Forbiddenf returns a Forbidden error (403).
func Forbiddenf(msg string) *Error { return New(KindForbidden, "forbidden", msg) }

// Unauthenticatedf returns an Unauthenticated error (401).
func Unauthenticatedf(msg string) *Error { return New(KindUnauthenticated, "unauthenticated", msg) }

// Malformedf returns a Malformed error (400).
func Malformedf(format string, args ...any) *Error {
	return New(KindMalformed, "malformed_request", fmt.Sprintf(format, args...))
}

// KindOf returns the kind of the first *Error in err's chain, or Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// As returns the first *Error in err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Collector gathers field errors during validation of a request or command.
// The zero value is ready to use.
type Collector struct {
	fields []FieldError
}

// Add records a problem with field.
func (c *Collector) Add(field, msg string) { c.fields = append(c.fields, FieldError{field, msg}) }

// Check records msg for field when ok is false.
func (c *Collector) Check(ok bool, field, msg string) {
	if !ok {
		c.Add(field, msg)
	}
}

// Merge records err under field: its field errors (prefixed) if it is an
// Invalid *Error, else its message.
func (c *Collector) Merge(field string, err error) {
	if err == nil {
		return
	}
	if e, ok := As(err); ok && e.Kind == KindInvalid && len(e.Fields) > 0 {
		for _, f := range e.Fields {
			name := field
			if f.Field != "" {
				if name != "" {
					name += "."
				}
				name += f.Field
			}
			c.Add(name, f.Message)
		}
		return
	}
	if e, ok := As(err); ok {
		c.Add(field, e.Message)
		return
	}
	c.Add(field, err.Error())
}

// Err returns an Invalid error with the collected fields, or nil when none.
func (c *Collector) Err() error {
	if len(c.fields) == 0 {
		return nil
	}
	return InvalidFields(c.fields...)
}
