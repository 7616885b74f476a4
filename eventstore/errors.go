package eventstore

import (
	"errors"

	"github.com/honten/honten/domain/errs"
)

var (
	// ErrVersionConflict means another writer appended to the stream first
	// (or the caller's If-Match version is stale).
	ErrVersionConflict = errs.New(errs.KindVersionConflict, "version_conflict", "the resource was changed by someone else; reload and retry")
	// ErrDuplicate means the command was already applied: its events exist.
	ErrDuplicate = errs.Conflict("already_applied", "this command was already applied")
	// ErrNotFound means the stream has no events for this tenant.
	ErrNotFound = errs.NotFoundf("resource")
	// errOrderingGuard means the transaction's xid predates the stream head;
	// the command reruns in a new transaction.
	errOrderingGuard = errors.New("eventstore: ordering guard: transaction id older than the stream head")
)

// retryable marks an error after which Store.Do reruns the whole command.
type retryable struct{ err error }

func (r retryable) Error() string { return r.err.Error() }
func (r retryable) Unwrap() error { return r.err }

// Retry marks err so that Store.Do reruns the command in a new transaction
// (bounded). Repositories use it for version conflicts when the caller did
// not pin a version.
func Retry(err error) error { return retryable{err} }

func isRetryable(err error) bool {
	var r retryable
	return errors.As(err, &r)
}
