package http

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/honten/honten/internal/metrics"
)

// replicaReadKey marks a request context whose read-model queries go to
// the read replica (Deps.Replica).
type replicaReadKey struct{}

// withReplicaReads sends the read-model queries of GET and HEAD requests to
// the replica when one is configured; commands, the responses they render
// and consistency checks of writes stay on the primary.
func (s *Server) withReplicaReads(ctx context.Context, method string) context.Context {
	if s.Replica == nil || (method != "GET" && method != "HEAD") {
		return ctx
	}
	return context.WithValue(ctx, replicaReadKey{}, true)
}

// readDB is the pool a read-model query of ctx runs on: the replica for a
// GET or HEAD request when one is configured, else the primary.
func (s *Server) readDB(ctx context.Context) *pgxpool.Pool {
	if s.Replica != nil {
		if on, _ := ctx.Value(replicaReadKey{}).(bool); on {
			return s.Replica
		}
	}
	return s.Pool
}

// ReplicaLag is how far the read replica is behind the primary.
type ReplicaLag struct {
	// Bytes of WAL the primary has written that the replica has not replayed.
	Bytes int64
	// Seconds since the last transaction the replica replayed was
	// committed, while it is behind; 0 when it has replayed everything.
	Seconds float64
	// Paused reports replay paused on the replica (pg_wal_replay_pause).
	Paused bool
}

// ReplicaLag measures the replica's lag and records it in the metrics
// honten_replica_lag_bytes and honten_replica_lag_seconds. It fails when
// no replica is configured or either server does not answer.
func (s *Server) ReplicaLag(ctx context.Context) (ReplicaLag, error) {
	if s.Replica == nil {
		return ReplicaLag{}, fmt.Errorf("no read replica configured")
	}
	var primary string
	if err := s.Pool.QueryRow(ctx, `SELECT pg_current_wal_lsn()::text`).Scan(&primary); err != nil {
		return ReplicaLag{}, fmt.Errorf("primary WAL position: %w", err)
	}
	var replayed string
	var lag ReplicaLag
	err := s.Replica.QueryRow(ctx, `SELECT coalesce(pg_last_wal_replay_lsn(), '0/0')::text,
       coalesce(extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()), 0)::float8,
       pg_is_wal_replay_paused()`).Scan(&replayed, &lag.Seconds, &lag.Paused)
	if err != nil {
		return ReplicaLag{}, fmt.Errorf("replica replay position: %w", err)
	}
	p, err1 := parseLSN(primary)
	r, err2 := parseLSN(replayed)
	if err1 != nil || err2 != nil {
		return ReplicaLag{}, fmt.Errorf("WAL positions %q, %q", primary, replayed)
	}
	if r >= p {
		lag.Bytes, lag.Seconds = 0, 0
	} else {
		lag.Bytes = int64(p - r)
	}
	metrics.ReplicaLagBytes.Set(float64(lag.Bytes))
	metrics.ReplicaLagSeconds.Set(lag.Seconds)
	return lag, nil
}

// SampleReplicaLag refreshes the replica lag metrics every interval until
// ctx ends (a no-op without a replica).
func (s *Server) SampleReplicaLag(ctx context.Context, interval time.Duration) {
	if s.Replica == nil {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		qctx, cancel := context.WithTimeout(ctx, interval)
		if _, err := s.ReplicaLag(qctx); err != nil && ctx.Err() == nil {
			s.Logger.Warn("replica lag", "err", err)
		}
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// parseLSN parses a pg_lsn's text form, "16/B374D848".
func parseLSN(s string) (uint64, error) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok {
		return 0, fmt.Errorf("lsn %q", s)
	}
	h, err := strconv.ParseUint(hi, 16, 32)
	if err != nil {
		return 0, err
	}
	l, err := strconv.ParseUint(lo, 16, 32)
	if err != nil {
		return 0, err
	}
	return h<<32 | l, nil
}
