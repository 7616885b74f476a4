package commands

import (
	"context"
	"time"

	"github.com/honten/honten/domain/errs"
)

// hashGate bounds how many password hashes (argon2id, 19 MiB each) run at
// once in a process; the rest wait up to wait, then get ErrSignInBusy.
type hashGate struct {
	slots chan struct{}
	wait  time.Duration
}

// Default hashing bounds (SIGNIN_CONCURRENCY, SIGNIN_QUEUE_WAIT).
const (
	DefaultHashConcurrency = 4
	DefaultHashQueueWait   = 2 * time.Second
)

func newHashGate(n int, wait time.Duration) *hashGate {
	if n <= 0 {
		n = DefaultHashConcurrency
	}
	if wait <= 0 {
		wait = DefaultHashQueueWait
	}
	return &hashGate{slots: make(chan struct{}, n), wait: wait}
}

// do runs fn once a slot is free. It returns ErrSignInBusy (retry after a
// second) when none frees within the wait, or ctx's error.
func (g *hashGate) do(ctx context.Context, fn func()) error {
	t := time.NewTimer(g.wait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
	case <-t.C:
		return errs.WithRetryAfter(ErrSignInBusy, time.Second)
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-g.slots }()
	fn()
	return nil
}

// SetHashConcurrency bounds concurrent password hashing to n (0: the
// default), each waiting at most wait (0: the default) for a slot.
func (s *Service) SetHashConcurrency(n int, wait time.Duration) {
	s.hashing = newHashGate(n, wait)
}

// hashPassword is HashPassword through the gate.
func (s *Service) hashPassword(ctx context.Context, pw string) (string, error) {
	var hash string
	var err error
	if gerr := s.hashing.do(ctx, func() { hash, err = HashPassword(pw) }); gerr != nil {
		return "", gerr
	}
	return hash, err
}
