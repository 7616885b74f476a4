package pgtest

import (
	"context"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
)

// Sent is a tracer for Traced that counts what connections send, for
// tests that bound round trips and statements.
type Sent struct {
	// Match picks the statements counted in Matched; nil picks none.
	Match func(sql string) bool

	mu   sync.Mutex
	conn *pgx.Conn
	c    SentCounts
}

// SentCounts are Sent's counts.
type SentCounts struct {
	// Trips are exchanges with the server: a statement alone or a batch.
	Trips int
	// Batches are the batches among them.
	Batches int
	// Statements are sent alone or in batches, without the BEGIN a batch
	// carries for its transaction.
	Statements int
	// Begins are BEGINs sent alone.
	Begins int
	// Matched are the statements Match picked.
	Matched int
}

var (
	_ pgx.QueryTracer = (*Sent)(nil)
	_ pgx.BatchTracer = (*Sent)(nil)
)

// Watch starts the counts again and, for a connection, counts only what
// it sends (nil: every connection).
func (s *Sent) Watch(conn *pgx.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conn, s.c = conn, SentCounts{}
}

// Counts returns the counts since the start or the last Watch.
func (s *Sent) Counts() SentCounts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.c
}

func (s *Sent) count(conn *pgx.Conn, sql string, trip, batch, statement bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil && conn != s.conn {
		return
	}
	begin := strings.EqualFold(strings.TrimSpace(sql), "begin")
	if trip {
		s.c.Trips++
		if batch {
			s.c.Batches++
		} else if begin {
			s.c.Begins++
		}
	}
	if statement && !(batch && begin) {
		s.c.Statements++
		if s.Match != nil && s.Match(sql) {
			s.c.Matched++
		}
	}
}

// TraceQueryStart implements pgx.QueryTracer.
func (s *Sent) TraceQueryStart(ctx context.Context, conn *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	s.count(conn, d.SQL, true, false, true)
	return ctx
}

// TraceQueryEnd implements pgx.QueryTracer.
func (s *Sent) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TraceBatchStart implements pgx.BatchTracer.
func (s *Sent) TraceBatchStart(ctx context.Context, conn *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	s.count(conn, "", true, true, false)
	return ctx
}

// TraceBatchQuery implements pgx.BatchTracer.
func (s *Sent) TraceBatchQuery(_ context.Context, conn *pgx.Conn, d pgx.TraceBatchQueryData) {
	s.count(conn, d.SQL, false, true, true)
}

// TraceBatchEnd implements pgx.BatchTracer.
func (s *Sent) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}
