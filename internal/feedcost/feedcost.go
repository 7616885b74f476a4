// Package feedcost inspects what each feed query of Honten costs when it
// polls: every query that a consumer runs again and again to learn whether
// something new happened (the projection runner, the watermill
// subscribers, the reservation lanes, hold expiry, the payment-deadline
// sweep, the feed watcher, the admin event feed). It runs each query as
// its consumer does, records its SQL and arguments, and explains it with
// EXPLAIN (ANALYZE, BUFFERS) under custom and generic plans, so a plan test
// and the idle benchmark can check that an empty poll costs a handful of
// index pages, whatever the size of the log.
//
// It sits above eventstore, commands and projections and is imported only
// by tests and benchmarks.
package feedcost

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"

	"github.com/honten/honten/commands/reservations"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/eventstore/bus"
	"github.com/honten/honten/projections/orderviews"
)

// Query is one statement a feed consumer runs on each poll.
type Query struct {
	// Feed names the consumer and the statement.
	Feed string
	SQL  string
	Args []any
	// Cursor is true when the statement reads the events table after a
	// cursor, which must then be an index condition.
	Cursor bool
}

// recorder is an eventstore.Querier that runs every statement on q and
// keeps what it ran.
type recorder struct {
	q   eventstore.Querier
	ran []Query
}

func (r *recorder) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	r.ran = append(r.ran, Query{SQL: sql, Args: args})
	return r.q.Query(ctx, sql, args...)
}

func (r *recorder) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	r.ran = append(r.ran, Query{SQL: sql, Args: args})
	return r.q.QueryRow(ctx, sql, args...)
}

func (r *recorder) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	r.ran = append(r.ran, Query{SQL: sql, Args: args})
	return r.q.Exec(ctx, sql, args...)
}

// Cursors are the positions the feeds poll from.
type Cursors struct {
	// Projection is a projector's checkpoint (the runner and the
	// Meilisearch sync read the same feed).
	Projection eventstore.Position
	// Reservations is a reservation lane's checkpoint.
	Reservations eventstore.Position
	// Groups are watermill consumer groups by topic ("all" or a stream
	// type); their cursors are their rows in watermill_offsets_events.
	Groups map[string]string
	// Tenant, Types and Typed drive the admin event feed by type.
	Tenant tenant.ID
	Types  []string
	Typed  eventstore.Position
	// Now is the clock of hold expiry and the deadline sweep.
	Now time.Time
}

// Feeds runs every feed query once at cs, as its consumer does, and
// returns what ran.
func Feeds(ctx context.Context, pool *pgxpool.Pool, cs Cursors) ([]Query, error) {
	var out []Query
	run := func(feed string, cursor bool, fn func(q eventstore.Querier) error) error {
		rec := &recorder{q: pool}
		if err := fn(rec); err != nil {
			return fmt.Errorf("%s: %w", feed, err)
		}
		for i, q := range rec.ran {
			q.Feed, q.Cursor = feed, cursor
			if len(rec.ran) > 1 {
				q.Feed = fmt.Sprintf("%s (%d/%d)", feed, i+1, len(rec.ran))
			}
			out = append(out, q)
		}
		return nil
	}
	steps := []struct {
		feed   string
		cursor bool
		fn     func(q eventstore.Querier) error
	}{
		{"projection runner / Meilisearch sync", true, func(q eventstore.Querier) error {
			_, err := eventstore.ReadFeed(ctx, q, cs.Projection, 1000, eventstore.FeedFilter{PayloadTypes: []string{"order.placed.v1"}})
			return err
		}},
		{"reservation lanes", true, func(q eventstore.Querier) error {
			_, err := eventstore.ReadReservationFeed(ctx, q, cs.Reservations, 500)
			return err
		}},
		{"reservation lanes, held back", true, func(q eventstore.Querier) error {
			_, err := eventstore.ReservationFeedHeldBack(ctx, q, cs.Reservations)
			return err
		}},
		{"hold expiry", false, func(q eventstore.Querier) error {
			_, err := reservations.DueHolds(ctx, q, cs.Now, 1000)
			return err
		}},
		{"hold expiry, next due", false, func(q eventstore.Querier) error {
			_, _, err := reservations.NextHoldExpiry(ctx, q)
			return err
		}},
		{"payment-deadline sweep", false, func(q eventstore.Querier) error {
			_, err := orderviews.OverdueOrders(ctx, q, cs.Now, 100)
			return err
		}},
		{"feed watcher", true, func(q eventstore.Querier) error {
			_, err := eventstore.ReadWatchState(ctx, q, cs.Projection)
			return err
		}},
		{"feed watcher, start", false, func(q eventstore.Querier) error {
			_, err := eventstore.StartWatch(ctx, q)
			return err
		}},
	}
	if len(cs.Types) > 0 {
		steps = append(steps, struct {
			feed   string
			cursor bool
			fn     func(q eventstore.Querier) error
		}{"admin event feed by type", true, func(q eventstore.Querier) error {
			_, _, err := eventstore.ReadTypedFeed(ctx, q, cs.Tenant, cs.Types, cs.Typed, 100)
			return err
		}})
	}
	for _, s := range steps {
		if err := run(s.feed, s.cursor, s.fn); err != nil {
			return nil, err
		}
	}
	topics := make([]string, 0, len(cs.Groups))
	for topic := range cs.Groups {
		topics = append(topics, topic)
	}
	sort.Strings(topics)
	for _, topic := range topics {
		q, err := bus.SchemaAdapter{}.SelectQuery(wsql.SelectQueryParams{Topic: topic, ConsumerGroup: cs.Groups[topic]})
		if err != nil {
			return nil, err
		}
		out = append(out, Query{Feed: "watermill subscriber, topic " + topic, SQL: q.Query, Args: q.Args, Cursor: true})
	}
	return out, nil
}

// Plan is what EXPLAIN (ANALYZE, BUFFERS) says of one run of a query.
type Plan struct {
	Query   Query
	Generic bool
	// Buffers are the shared buffers the execution touched (hit or read).
	Buffers int
	// Scans describe how each table was read: "events: Index Scan using
	// events_feed_ix; cond: ...".
	Scans []Scan
	// JSON is the whole plan.
	JSON string
}

// Scan is one plan node reading a table.
type Scan struct {
	Relation, Node, Index, Cond, Filter string
}

// CursorIndexed reports whether every read of the events table is an index
// scan whose index condition holds the cursor (global_position), or a
// probe of one end of an index (the feed watcher's held check, max(tx_id)).
func (p Plan) CursorIndexed() bool {
	seen := false
	for _, s := range p.Scans {
		if s.Relation != "events" {
			continue
		}
		seen = true
		if s.Index == "" || !strings.Contains(s.Cond, "global_position") && !s.endProbe() {
			return false
		}
	}
	return seen
}

// endProbe reports whether s is PostgreSQL's plan for the min() or max()
// of an index's leading column: the index read from one end, under a
// LIMIT 1, for its first entry that is not null.
func (s Scan) endProbe() bool {
	return s.Index != "" && strings.HasSuffix(s.Cond, " IS NOT NULL)") && !strings.Contains(s.Cond, " AND ")
}

// growing are the relations that grow with a shop's history; a poll must
// not read any of them whole. (Small directories — consumer offsets, the
// tenants — are read by sequential scans when that is the cheaper plan.)
var growing = map[string]bool{"events": true, "reservation_index": true, "order_views": true, "order_view_payments": true}

// SeqScans lists the relations that grow with history read by a
// sequential scan.
func (p Plan) SeqScans() []string {
	var out []string
	for _, s := range p.Scans {
		if s.Node == "Seq Scan" && growing[s.Relation] {
			out = append(out, s.Relation)
		}
	}
	return out
}

// Explain runs q under EXPLAIN (ANALYZE, BUFFERS) as a prepared statement,
// with the generic plan when generic is set and a custom plan otherwise
// (plan_cache_mode), on a connection of its own.
func Explain(ctx context.Context, pool *pgxpool.Pool, q Query, generic bool) (Plan, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return Plan{}, err
	}
	defer conn.Release()
	mode := "force_custom_plan"
	if generic {
		mode = "force_generic_plan"
	}
	lits := make([]string, len(q.Args))
	for i, a := range q.Args {
		if lits[i], err = literal(a); err != nil {
			return Plan{}, fmt.Errorf("%s: argument %d: %w", q.Feed, i+1, err)
		}
	}
	sql := "SET plan_cache_mode = " + mode + ";\nPREPARE feedcost_q AS " + q.SQL + ";"
	if _, err := conn.Exec(ctx, sql, pgx.QueryExecModeSimpleProtocol); err != nil {
		return Plan{}, fmt.Errorf("%s: prepare: %w", q.Feed, err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "DEALLOCATE feedcost_q; RESET plan_cache_mode", pgx.QueryExecModeSimpleProtocol) //nolint:errcheck
	call := "feedcost_q"
	if len(lits) > 0 {
		call += "(" + strings.Join(lits, ", ") + ")"
	}
	var out string
	if err := conn.QueryRow(ctx, "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE "+call, pgx.QueryExecModeSimpleProtocol).Scan(&out); err != nil {
		return Plan{}, fmt.Errorf("%s: explain: %w", q.Feed, err)
	}
	var doc []struct {
		Plan node `json:"Plan"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc) == 0 {
		return Plan{}, fmt.Errorf("%s: explain output: %v", q.Feed, err)
	}
	p := Plan{Query: q, Generic: generic, JSON: out, Buffers: doc[0].Plan.SharedHit + doc[0].Plan.SharedRead}
	doc[0].Plan.walk(func(n node) {
		if n.Relation != "" {
			p.Scans = append(p.Scans, Scan{Relation: n.Relation, Node: n.Type, Index: n.Index, Cond: n.Cond + n.RecheckCond, Filter: n.Filter})
		}
	})
	// A bitmap heap scan's index is on its child.
	for i, s := range p.Scans {
		if s.Node == "Bitmap Heap Scan" {
			p.Scans[i].Index = "bitmap"
		}
	}
	return p, nil
}

type node struct {
	Type        string `json:"Node Type"`
	Relation    string `json:"Relation Name"`
	Index       string `json:"Index Name"`
	Cond        string `json:"Index Cond"`
	RecheckCond string `json:"Recheck Cond"`
	Filter      string `json:"Filter"`
	SharedHit   int    `json:"Shared Hit Blocks"`
	SharedRead  int    `json:"Shared Read Blocks"`
	Plans       []node `json:"Plans"`
}

func (n node) walk(fn func(node)) {
	fn(n)
	for _, c := range n.Plans {
		c.walk(fn)
	}
}

// literal writes a recorded argument as an SQL literal for EXECUTE.
func literal(a any) (string, error) {
	quote := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	switch v := a.(type) {
	case nil:
		return "NULL", nil
	case bool:
		return fmt.Sprint(v), nil
	case *uuid.UUID:
		if v == nil {
			return "NULL", nil
		}
		return quote(v.String()), nil
	case string:
		return quote(v), nil
	case int:
		return fmt.Sprint(v), nil
	case int64:
		return fmt.Sprint(v), nil
	case uint64:
		return fmt.Sprint(v), nil
	case time.Time:
		return quote(v.UTC().Format(time.RFC3339Nano)), nil
	case []string:
		parts := make([]string, len(v))
		for i, s := range v {
			parts[i] = quote(s)
		}
		return "ARRAY[" + strings.Join(parts, ", ") + "]::text[]", nil
	case fmt.Stringer:
		return quote(v.String()), nil
	}
	return "", fmt.Errorf("no literal for %T", a)
}
