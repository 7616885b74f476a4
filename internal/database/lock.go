package database

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// LockPing is how often LeadWithLock checks the lock's session: a lost
// session means another process may have taken over. (A process that dies
// loses its session at once, and a standby takes over within its retry.)
const LockPing = 3 * time.Second

// LeadWithLock runs fn while conn holds the session-level advisory lock
// hashtextextended(key, 0), and reports whether it got the lock (false: a
// standby, fn did not run). fn's context ends when ctx does or when the
// lock's session stops answering, since another process may then hold the
// lock; the lock is released when fn returns.
func LeadWithLock(ctx context.Context, conn *pgxpool.Conn, key string, fn func(context.Context) error) (bool, error) {
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended($1, 0))`, key).Scan(&ok); err != nil {
		return false, err
	}
	if !ok {
		return false, nil
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, key) //nolint:errcheck
	lctx, cancel := context.WithCancel(ctx)
	pinged := make(chan struct{})
	defer func() { cancel(); <-pinged }() // before the unlock: one user of conn at a time
	go func() {
		defer close(pinged)
		t := time.NewTicker(LockPing)
		defer t.Stop()
		for {
			select {
			case <-lctx.Done():
				return
			case <-t.C:
				if conn.Ping(lctx) != nil {
					cancel()
					return
				}
			}
		}
	}()
	return true, fn(lctx)
}
