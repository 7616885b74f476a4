package errs

import "time"

// Retryable is an error that tells the caller when to try again; the HTTP
// layer sends it as Retry-After.
type Retryable interface {
	error
	RetryAfter() time.Duration
}

type retryAfter struct {
	err   error
	after time.Duration
}

// WithRetryAfter wraps err (keeping its kind) with the time after which a
// retry may succeed.
func WithRetryAfter(err error, after time.Duration) error {
	return retryAfter{err: err, after: after}
}

func (e retryAfter) Error() string             { return e.err.Error() }
func (e retryAfter) Unwrap() error             { return e.err }
func (e retryAfter) RetryAfter() time.Duration { return e.after }
