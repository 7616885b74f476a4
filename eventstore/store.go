package eventstore

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/honten/honten/domain/personal"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/internal/database"
	"github.com/honten/honten/internal/metrics"
)

// Querier runs queries: a pool, a connection or a transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Store appends and reads events.
type Store struct {
	pool *pgxpool.Pool
	// requests, when set, serves the contexts a request scoped to a tenant
	// (database.WithTenant); pool serves the rest (ServeRequestsFrom).
	requests *pgxpool.Pool
	reg      *Registry

	mu       sync.RWMutex
	onCommit []func(Position)

	// shared holds the aggregates Repo.Read hands out; kept the states
	// Repo.Load continues (Repo.Continue).
	shared, kept VersionCache[sharedKey, any]
	// permanent holds the claim kinds whose owner never changes
	// (KeepOwners, which may be called while the store is in use);
	// owners keeps their committed owners.
	permanent sync.Map
	owners    VersionCache[claimKey, uuid.UUID]
}

// New returns a store on pool that encodes and decodes events with reg.
func New(pool *pgxpool.Pool, reg *Registry) *Store {
	return &Store{pool: pool, reg: reg, shared: VersionCache[sharedKey, any]{Size: sharedCacheSize}, kept: VersionCache[sharedKey, any]{Size: sharedCacheSize},
		owners: VersionCache[claimKey, uuid.UUID]{Size: ownerCacheSize}}
}

// Pool returns the store's connection pool: the workers' pool when
// requests have one of their own (ServeRequestsFrom).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// ServeRequestsFrom makes p the pool of the work a request scoped to a
// tenant does (a context made by database.WithTenant; PoolFor), while the
// workers keep the store's own pool. Call it before the store is used.
//
// Both pools set a connection's role and tenant to what the context asks
// (database.Open), so either one answers every context correctly; apart,
// a pooled session seldom switches between a request's role and tenant
// and the workers' login role, a round trip and a commit each time in a
// process that runs both.
func (s *Store) ServeRequestsFrom(p *pgxpool.Pool) { s.requests = p }

// PoolFor returns the pool for work under ctx: the requests' pool for a
// context scoped to a tenant when there is one, the store's pool otherwise.
func (s *Store) PoolFor(ctx context.Context) *pgxpool.Pool {
	if s.requests != nil {
		if _, ok := database.Tenant(ctx); ok {
			return s.requests
		}
	}
	return s.pool
}

// Registry returns the store's event registry.
func (s *Store) Registry() *Registry { return s.reg }

// OnCommit registers fn to run after every committed command that appended
// events, with the position of its last event. In-process projectors use it
// to wake up at once instead of waiting for their next poll.
func (s *Store) OnCommit(fn func(Position)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onCommit = append(s.onCommit, fn)
}

// Result describes what a committed command appended.
type Result struct {
	// Last is the position of the last appended event (zero when none).
	Last Position
	// Events are the appended envelopes, in order.
	Events []Envelope
}

// Version returns the version of stream id after the command, or 0 when the
// command did not append to it.
func (r Result) Version(id uuid.UUID) int64 {
	var v int64
	for _, e := range r.Events {
		if e.StreamID == id && e.Version > v {
			v = e.Version
		}
	}
	return v
}

// Tx is one command's transaction. Its first write must be an Append (the
// ordering guard relies on the transaction id being assigned there).
type Tx struct {
	pgx.Tx
	store    *Store
	appended []Envelope
	after    []func()
	// keys caches the personal keys this transaction used.
	keys map[string]personalKey
	// read holds what Repo.Read checked in this transaction; moved, the
	// streams ReadAhead found newer than the instance kept.
	read  map[sharedKey]any
	moved map[sharedKey]bool
	// last is the statement sent with COMMIT (CommitWith).
	last *lastStatement
	// atCommit are the saves sent with COMMIT (SaveAtCommit).
	atCommit *atCommit
}

// atCommit is what SaveAtCommit registered.
type atCommit struct {
	saves []Saving
	with  *pgx.Batch
}

// parts are the appends of the saves.
func (ac *atCommit) parts() []StreamAppend { return savingParts(ac.saves) }

// SaveAtCommit is SaveAll sent with the transaction's COMMIT, in one round
// trip, once the function given to Do has returned without error (before
// CommitWith's statement, if any). A command whose last write is its save
// spends no exchange on the COMMIT, and the locks it holds (an inventory
// item's, a stream version's) are released as soon as the server has
// committed. It must be the function's last write: a statement sent after
// it would run before it. The statements queued in with (nil: none) go
// after the appends; they must not have callbacks, since a callback's
// verdict would come after the COMMIT (Do refuses them): their failure must
// be the server's. A stream another writer moved on reruns the command, as
// with SaveAll; the aggregates are saved once the transaction has
// committed. A second call replaces the first.
func (tx *Tx) SaveAtCommit(with *pgx.Batch, saves ...Saving) {
	tx.atCommit = &atCommit{saves: saves, with: with}
}

// lastStatement is a statement Do sends with the transaction's COMMIT, and
// where its one row goes.
type lastStatement struct {
	sql  string
	args []any
	dest []any
}

// CommitWith makes sql the transaction's last statement: Do sends it with
// COMMIT, in one round trip, once fn has returned without error, and scans
// its one row into dest. A row it locks (a counter it increments) is then
// held for the time the server takes to run it and commit, not for a round
// trip to the process and back, which under load is most of a lock's hold.
// A failing statement rolls the transaction back and Do returns its error
// (mapped like Append's, and rerun like them when retryable); dest holds
// the row only when Do returned no error. A second call replaces the
// first.
func (tx *Tx) CommitWith(sql string, args []any, dest ...any) {
	tx.last = &lastStatement{sql: sql, args: args, dest: dest}
}

// Store returns the store the transaction belongs to.
func (tx *Tx) Store() *Store { return tx.store }

// AfterCommit registers fn to run once the transaction has committed; it
// does not run when the transaction rolls back or Do reruns it.
func (tx *Tx) AfterCommit(fn func()) { tx.after = append(tx.after, fn) }

// maxAttempts bounds reruns after ordering-guard trips and unpinned version conflicts.
const maxAttempts = 8

// Do runs fn in a transaction and commits it. When fn (or an Append inside
// it) fails with a retryable error — the ordering guard, or a version
// conflict marked with Retry — the whole of fn reruns in a new transaction,
// a bounded number of times. fn must therefore load what it decides on
// inside the transaction.
//
// Do returns ErrVersionConflict, ErrDuplicate, or fn's error.
func (s *Store) Do(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) (Result, error) {
	var err error
	for attempt := 0; attempt < maxAttempts; attempt++ {
		var res Result
		res, err = s.once(ctx, fn)
		if err == nil {
			if len(res.Events) > 0 {
				s.mu.RLock()
				hooks := s.onCommit
				s.mu.RUnlock()
				for _, h := range hooks {
					h(res.Last)
				}
			}
			return res, nil
		}
		if !isRetryable(err) || ctx.Err() != nil {
			break
		}
		// Jittered backoff so that colliding writers spread out.
		d := time.Duration(rand.IntN(1+attempt*attempt*2)) * time.Millisecond
		select {
		case <-ctx.Done():
			return Result{}, ctx.Err()
		case <-time.After(d):
		}
	}
	var r retryable
	if errors.As(err, &r) {
		err = r.err
	}
	return Result{}, err
}

func (s *Store) once(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) (Result, error) {
	ptx, err := beginLazy(ctx, s.PoolFor(ctx))
	if err != nil {
		return Result{}, fmt.Errorf("begin: %w", err)
	}
	defer ptx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after commit
	tx := &Tx{Tx: ptx, store: s}
	if err := fn(ctx, tx); err != nil {
		return Result{}, err
	}
	if tx.last != nil || tx.atCommit != nil {
		if err := tx.commitDeferred(ctx, ptx); err != nil {
			return Result{}, err
		}
	} else if err := ptx.Commit(ctx); err != nil {
		if mapped := mapPgError(err); mapped != err {
			return Result{}, mapped
		}
		return Result{}, fmt.Errorf("commit: %w", err)
	}
	for _, fn := range tx.after {
		fn()
	}
	res := Result{Events: tx.appended}
	for _, e := range tx.appended {
		if res.Last.Less(e.Position) {
			res.Last = e.Position
		}
		metrics.Appends.WithLabelValues(e.StreamType).Inc()
	}
	return res, nil
}

const appendQuery = `
INSERT INTO events (tenant_id, stream_type, stream_id, stream_version, event_id, event_type,
                    schema_version, payload, metadata, actor_id, correlation_id, causation_id)
SELECT $1, $2, $3, $4::bigint + e.ord, e.id, e.typ, e.sv, e.pl, $8, $9, $10, $11
FROM unnest($5::uuid[], $6::text[], $7::smallint[], $12::jsonb[]) WITH ORDINALITY AS e(id, typ, sv, pl, ord)
WHERE NOT EXISTS (
    SELECT 1 FROM events p
    WHERE p.tenant_id = $1 AND p.stream_id = $3 AND p.stream_version = $4
      AND p.tx_id > pg_current_xact_id())
RETURNING tx_id::text, global_position, stream_version, event_id, recorded_at`

// appendManyQuery is appendQuery for the events of several streams in one
// statement: each event's row carries its stream, the version its stream
// must be at (the ordering guard's) and its own version. A checkout that
// writes the order, the payment, the cart and three items sends one
// statement instead of six. The rows come as one JSON array (manyRows):
// PostgreSQL reckons with the same number of rows whatever the array
// holds, so the statement keeps its generic plan; with arrays (unnest),
// the estimate followed their length, and a guard run for each row made
// every custom plan look cheaper than the generic one, so each execution
// was planned again (0.17 ms).
const appendManyQuery = `
INSERT INTO events (tenant_id, stream_type, stream_id, stream_version, event_id, event_type,
                    schema_version, payload, metadata, actor_id, correlation_id, causation_id)
SELECT e.tenant, e.stype, e.stream, e.version, e.id, e.typ, e.sv, e.pl, e.meta, e.actor, e.corr, e.cause
FROM jsonb_to_recordset($1::jsonb) AS e(tenant uuid, stype text, stream uuid, expected bigint, version bigint, id uuid,
     typ text, sv smallint, pl jsonb, meta jsonb, actor text, corr uuid, cause uuid)
WHERE NOT EXISTS (
    SELECT 1 FROM events p
    WHERE p.tenant_id = e.tenant AND p.stream_id = e.stream AND p.stream_version = e.expected
      AND p.tx_id > pg_current_xact_id())
RETURNING tx_id::text, global_position, stream_version, event_id, recorded_at`

// Append appends events to stream, which must be at version expected (0 for
// a new stream), in one statement. It returns ErrVersionConflict when
// another writer got there first and ErrDuplicate when the command (same
// Metadata.CommandID) was already applied; both abort the transaction.
func (tx *Tx) Append(ctx context.Context, stream Stream, expected int64, events []Event, md Metadata) ([]Envelope, error) {
	if len(events) == 0 {
		return nil, nil
	}
	a, err := tx.prepare(ctx, StreamAppend{Stream: stream, Expected: expected, Events: events, Metadata: md})
	if err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, appendQuery, a.args...)
	if err != nil {
		return nil, mapPgError(err)
	}
	out, err := scanAppended(rows)
	if err != nil {
		return nil, err
	}
	if out, err = a.complete(out); err != nil {
		return nil, err
	}
	tx.appended = append(tx.appended, out...)
	return out, nil
}

// StreamAppend is one stream's part of AppendAll.
type StreamAppend struct {
	Stream   Stream
	Expected int64
	Events   []Event
	Metadata Metadata
}

// AppendAll appends to many streams in one round trip (the statements are
// pipelined), each as Append would, and returns each part's envelopes in
// the order of parts. The first failure aborts the transaction and is
// returned as Append returns it.
func (tx *Tx) AppendAll(ctx context.Context, parts []StreamAppend) ([][]Envelope, error) {
	return tx.appendAllWith(ctx, parts, nil)
}

// appendAllWith is AppendAll with the statements queued in with (nil:
// none) sent after the appends, in the same round trip: the writes a
// command makes beside its events (an index row, a claim) cost no
// exchange of their own. Their callbacks (pgx.QueuedQuery.Exec,
// QueryRow, Query) run once the appends' results are read, and the first
// error, of an append or of a callback, is returned.
func (tx *Tx) appendAllWith(ctx context.Context, parts []StreamAppend, with *pgx.Batch) ([][]Envelope, error) {
	batch := &pgx.Batch{}
	prepared, err := tx.queueAppends(ctx, batch, parts)
	if err != nil {
		return nil, err
	}
	if with != nil {
		batch.QueuedQueries = append(batch.QueuedQueries, with.QueuedQueries...)
	}
	out := make([][]Envelope, len(parts))
	if batch.Len() == 0 {
		return out, nil
	}
	br := tx.SendBatch(ctx, batch)
	if err := readAppends(br, prepared, out); err != nil {
		br.Close()
		return nil, err
	}
	if err := br.Close(); err != nil {
		return nil, mapPgError(err)
	}
	for _, envs := range out {
		tx.appended = append(tx.appended, envs...)
	}
	return out, nil
}

// queuedAppends are the appends queueAppends queued: a part without
// events is nil; the parts with events went as one statement
// (appendManyQuery) when there are several, else as appendQuery.
type queuedAppends struct {
	parts []*preparedAppend
	many  bool
}

// queueAppends prepares the appends of parts and queues them in b.
func (tx *Tx) queueAppends(ctx context.Context, b *pgx.Batch, parts []StreamAppend) (queuedAppends, error) {
	q := queuedAppends{parts: make([]*preparedAppend, len(parts))}
	var n int
	for i, p := range parts {
		if len(p.Events) == 0 {
			continue
		}
		a, err := tx.prepare(ctx, p)
		if err != nil {
			return queuedAppends{}, err
		}
		q.parts[i] = a
		n++
	}
	if n > 1 {
		args, err := manyArgs(q.parts)
		if err != nil {
			return queuedAppends{}, err
		}
		q.many = true
		b.Queue(appendManyQuery, args...)
		return q, nil
	}
	for _, a := range q.parts {
		if a != nil {
			b.Queue(appendQuery, a.args...)
		}
	}
	return q, nil
}

// manyRow is one event's row of appendManyQuery.
type manyRow struct {
	Tenant   uuid.UUID       `json:"tenant"`
	Type     string          `json:"stype"`
	Stream   uuid.UUID       `json:"stream"`
	Expected int64           `json:"expected"`
	Version  int64           `json:"version"`
	ID       uuid.UUID       `json:"id"`
	Event    string          `json:"typ"`
	Schema   int16           `json:"sv"`
	Payload  json.RawMessage `json:"pl"`
	Meta     json.RawMessage `json:"meta"`
	Actor    *string         `json:"actor"`
	Corr     uuid.UUID       `json:"corr"`
	Cause    *uuid.UUID      `json:"cause"`
}

// manyArgs are appendManyQuery's arguments for the events of parts.
func manyArgs(parts []*preparedAppend) ([]any, error) {
	var rows []manyRow
	for _, a := range parts {
		if a == nil {
			continue
		}
		md := a.Metadata
		for i := range a.Events {
			rows = append(rows, manyRow{Tenant: a.Stream.Tenant.UUID, Type: a.Stream.Type, Stream: a.Stream.ID,
				Expected: a.Expected, Version: a.Expected + int64(i) + 1, ID: a.ids[i], Event: a.types[i], Schema: a.versions[i],
				Payload: json.RawMessage(a.payloads[i]), Meta: json.RawMessage(a.meta), Actor: nullString(md.Actor),
				Corr: md.Correlation, Cause: nullUUID(md.Causation)})
		}
	}
	doc, err := json.Marshal(rows)
	if err != nil {
		return nil, fmt.Errorf("append: %w", err)
	}
	return []any{string(doc)}, nil
}

// readAppends reads the results of the appends q queued from br into out
// (by part).
func readAppends(br pgx.BatchResults, q queuedAppends, out [][]Envelope) error {
	if q.many {
		rows, err := br.Query()
		if err != nil {
			return mapPgError(err)
		}
		envs, err := scanAppended(rows)
		if err != nil {
			return err
		}
		// Each row goes to the part of its event.
		part := make(map[uuid.UUID]int, len(envs))
		for i, a := range q.parts {
			if a != nil {
				for _, id := range a.ids {
					part[id] = i
				}
			}
		}
		for _, env := range envs {
			i := part[env.EventID]
			out[i] = append(out[i], env)
		}
	}
	for i, a := range q.parts {
		if a == nil {
			continue
		}
		if !q.many {
			rows, err := br.Query()
			if err != nil {
				return mapPgError(err)
			}
			if out[i], err = scanAppended(rows); err != nil {
				return err
			}
		}
		var err error
		if out[i], err = a.complete(out[i]); err != nil {
			return err
		}
	}
	return nil
}

// commitDeferred sends what SaveAtCommit and CommitWith registered, then
// COMMIT, in one round trip.
func (tx *Tx) commitDeferred(ctx context.Context, ptx *lazyTx) error {
	b := &pgx.Batch{}
	var prepared queuedAppends
	with := 0
	if ac := tx.atCommit; ac != nil {
		var err error
		if prepared, err = tx.queueAppends(ctx, b, ac.parts()); err != nil {
			return err
		}
		if ac.with != nil {
			for _, qq := range ac.with.QueuedQueries {
				if qq.Fn != nil {
					return fmt.Errorf("eventstore: a statement sent with COMMIT has a callback: %s", qq.SQL)
				}
				with++
				b.Queue(qq.SQL, qq.Arguments...)
			}
		}
	}
	last := tx.last
	if last != nil {
		b.Queue(last.sql, last.args...)
	}
	out := make([][]Envelope, len(prepared.parts))
	err := ptx.commitBatch(ctx, b, func(br pgx.BatchResults) error {
		if err := readAppends(br, prepared, out); err != nil {
			return err
		}
		for range with {
			if _, err := br.Exec(); err != nil {
				return err
			}
		}
		if last != nil {
			return br.QueryRow().Scan(last.dest...)
		}
		return nil
	})
	if err != nil {
		err = mapPgError(err)
		if tx.atCommit != nil && errors.Is(err, ErrVersionConflict) {
			return Retry(err)
		}
		return err
	}
	if ac := tx.atCommit; ac != nil {
		for _, s := range ac.saves {
			s.agg.Saved()
		}
	}
	for _, envs := range out {
		tx.appended = append(tx.appended, envs...)
	}
	return nil
}

// preparedAppend is an append's statement arguments and what complete needs
// to complete the envelopes it returns.
type preparedAppend struct {
	StreamAppend
	args     []any
	ids      []uuid.UUID
	meta     string // the metadata's JSON
	types    []string
	versions []int16
	payloads []string
	sealedBy []uuid.UUID // the personal key that sealed each event's payload (uuid.Nil: none)
}

func (tx *Tx) prepare(ctx context.Context, p StreamAppend) (*preparedAppend, error) {
	stream, md := p.Stream, p.Metadata
	if stream.Tenant.IsZero() || md.Tenant != stream.Tenant {
		return nil, fmt.Errorf("eventstore: append to %s %s: metadata tenant %s does not match stream tenant %s", stream.Type, stream.ID, md.Tenant, stream.Tenant)
	}
	if md.Correlation == uuid.Nil {
		md.Correlation = uuid.Must(uuid.NewV7())
		p.Metadata = md
	}
	n := len(p.Events)
	a := &preparedAppend{StreamAppend: p, types: make([]string, n), versions: make([]int16, n), payloads: make([]string, n), sealedBy: make([]uuid.UUID, n)}
	ids := make([]uuid.UUID, n)
	for i, e := range p.Events {
		pl, v, err := tx.store.reg.encode(e)
		if err != nil {
			return nil, err
		}
		if pd, ok := e.(personal.Data); ok {
			if pl, a.sealedBy[i], err = tx.seal(ctx, stream.Tenant, pd, pl); err != nil {
				return nil, err
			}
		}
		if md.CommandID != uuid.Nil {
			ids[i] = DeriveID(md.CommandID, stream.ID, i)
		} else {
			ids[i] = uuid.Must(uuid.NewV7())
		}
		a.types[i], a.versions[i], a.payloads[i] = e.EventName(), int16(v), string(pl)
	}
	meta, err := json.Marshal(nonNil(md.Extra))
	if err != nil {
		return nil, err
	}
	a.ids, a.meta = ids, string(meta)
	a.args = []any{stream.Tenant, stream.Type, stream.ID, p.Expected, ids, a.types, a.versions,
		meta, nullString(md.Actor), md.Correlation, nullUUID(md.Causation), a.payloads}
	return a, nil
}

// scanAppended reads the rows appendQuery or appendManyQuery returned:
// each event's position, version, id and time.
func scanAppended(rows pgx.Rows) ([]Envelope, error) {
	var out []Envelope
	for rows.Next() {
		var txText string
		var env Envelope
		if err := rows.Scan(&txText, &env.Position.Pos, &env.Version, (*[16]byte)(&env.EventID), &env.RecordedAt); err != nil {
			rows.Close()
			return nil, fmt.Errorf("append: %w", err)
		}
		env.Position.Tx, _ = strconv.ParseUint(txText, 10, 64)
		out = append(out, env)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, mapPgError(err)
	}
	return out, nil
}

// complete completes the envelopes of a's events the append returned.
// Fewer than its events means the ordering guard tripped: the transaction
// reruns.
func (a *preparedAppend) complete(out []Envelope) ([]Envelope, error) {
	n := len(a.Events)
	if len(out) != n {
		metrics.AppendConflicts.WithLabelValues("ordering_guard").Inc()
		return nil, retryable{errOrderingGuard}
	}
	md := a.Metadata
	for k := range out {
		// The i-th event (ordinality i+1) was written at version expected+i+1.
		i := int(out[k].Version - a.Expected - 1)
		out[k].Tenant = a.Stream.Tenant
		out[k].StreamType = a.Stream.Type
		out[k].StreamID = a.Stream.ID
		out[k].Type = a.types[i]
		out[k].SchemaVersion = int(a.versions[i])
		out[k].Payload = json.RawMessage(a.payloads[i])
		out[k].Metadata = md.Extra
		out[k].Actor = md.Actor
		out[k].CorrelationID = md.Correlation
		out[k].CausationID = md.Causation
		out[k].Data = a.Events[i]
		out[k].PersonalKey = a.sealedBy[i]
	}
	return out, nil
}

// Appended returns the events appended so far in this transaction.
func (tx *Tx) Appended() []Envelope { return tx.appended }

func mapPgError(err error) error {
	pgErr := uniqueViolation(err)
	if pgErr == nil {
		return err
	}
	switch pgErr.ConstraintName {
	case "events_stream_version_uq":
		metrics.AppendConflicts.WithLabelValues("version").Inc()
		return fmt.Errorf("%w (%s)", ErrVersionConflict, pgErr.Detail)
	case "events_event_id_uq":
		metrics.AppendConflicts.WithLabelValues("duplicate").Inc()
		return ErrDuplicate
	}
	return err
}

// uniqueViolation returns err's PostgreSQL error when it is a unique
// violation (23505), else nil.
func uniqueViolation(err error) *pgconn.PgError {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return pgErr
	}
	return nil
}

// DeriveID returns the deterministic id of the i-th event a command appends
// to a stream: the same command retried gets the same ids. It is shaped like
// a UUIDv7 (the command id's timestamp, hashed random bits) so ids stay
// roughly time-ordered.
func DeriveID(command, stream uuid.UUID, i int) uuid.UUID {
	h := sha256.New()
	h.Write(command[:])
	h.Write(stream[:])
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(i))
	h.Write(b[:])
	sum := h.Sum(nil)
	var u uuid.UUID
	copy(u[:], sum[:16])
	if command.Version() == 7 {
		copy(u[:6], command[:6]) // 48-bit unix-ms timestamp
	}
	u[6] = (u[6] & 0x0f) | 0x70 // version 7
	u[8] = (u[8] & 0x3f) | 0x80 // RFC 4122 variant
	return u
}

var loadQuery = `SELECT ` + fmt.Sprintf(eventColumns, "e.payload") + `
FROM events e
WHERE e.tenant_id = $1 AND e.stream_id = $2 AND e.stream_version > $3
ORDER BY e.stream_version`

// Load reads a stream's events in version order, decoded and upcast. A
// stream of another tenant reads as empty; callers turn empty into
// ErrNotFound, so another tenant's id is indistinguishable from a missing one.
func (s *Store) Load(ctx context.Context, q Querier, t tenant.ID, id uuid.UUID) ([]Envelope, error) {
	return s.LoadFrom(ctx, q, t, id, 0)
}

// LoadFrom reads a stream's events after version from.
func (s *Store) LoadFrom(ctx context.Context, q Querier, t tenant.ID, id uuid.UUID, from int64) ([]Envelope, error) {
	rows, err := q.Query(ctx, loadQuery, t, id, from)
	if err != nil {
		return nil, fmt.Errorf("load stream %s: %w", id, err)
	}
	out, err := scanEvents(rows)
	if err != nil {
		return nil, fmt.Errorf("load stream %s: %w", id, err)
	}
	if err := s.decode(ctx, q, out); err != nil {
		return nil, fmt.Errorf("load stream %s: %w", id, err)
	}
	return out, nil
}

// StreamAfter names a stream of a tenant and the version up to which its
// reader holds it, for Tx.LoadAfter.
type StreamAfter struct {
	Tenant tenant.ID
	ID     uuid.UUID
	After  int64
}

// loadAfterListed holds, for n streams (2 ≤ n ≤ maxListedKeys), one
// statement that reads the events of each stream after a version: the
// streams listed in VALUES (tenant, stream, after: a parameter each), each
// read by its own scan of the stream's unique index (the LATERAL subquery
// keeps its ORDER BY, so it is not flattened into a join a plan could turn
// into a scan of the table). One statement instead of one per stream: a
// command that reads its cart and three items after their kept versions
// sends one read, not four.
var loadAfterListed = func() [maxListedKeys + 1]string {
	var out [maxListedKeys + 1]string
	for n := 2; n <= maxListedKeys; n++ {
		out[n] = `SELECT ` + fmt.Sprintf(eventColumns, "e.payload") + `
FROM (VALUES ` + database.ListedRows(n, "uuid", "uuid", "bigint") + `) AS k(tenant, stream, after, i)
CROSS JOIN LATERAL (
    SELECT * FROM events x
    WHERE x.tenant_id = k.tenant AND x.stream_id = k.stream AND x.stream_version > k.after
    ORDER BY x.stream_version) e
ORDER BY k.i, e.stream_version`
	}
	return out
}()

// LoadAfter reads the events of streams after the versions given, decoded
// and upcast, by stream in the order given. The statements queued in first
// (nil: none) run before the reads, with their callbacks
// (pgx.QueuedQuery.Query, QueryRow, Exec) if they have one, and all go to
// the server in one round trip: a command that locks the streams it is about
// to read (advisory locks) waits for the locks and reads in one exchange
// instead of two per stream. The reads are one statement (loadQuery for
// one stream, loadAfterListed for more; one a stream past maxListedKeys
// streams) after those, so its snapshot is
// taken once they have finished: it sees what the previous holder of a lock
// committed. An error of any statement is returned (the transaction is
// then aborted).
func (tx *Tx) LoadAfter(ctx context.Context, first *pgx.Batch, streams []StreamAfter) ([][]Envelope, error) {
	b := first
	if b == nil {
		b = &pgx.Batch{}
	}
	before := b.Len()
	// A stream named twice is read once, after the lower version.
	var keys []StreamAfter
	for _, st := range streams {
		i := slices.IndexFunc(keys, func(k StreamAfter) bool { return k.Tenant == st.Tenant && k.ID == st.ID })
		if i < 0 {
			keys = append(keys, st)
		} else {
			keys[i].After = min(keys[i].After, st.After)
		}
	}
	// One stream is loadQuery's; two up to maxListedKeys, one listed read.
	listed := len(keys) > 1 && len(keys) <= maxListedKeys
	switch {
	case len(keys) == 0:
	case listed:
		args := make([]any, 0, 3*len(keys))
		for _, k := range keys {
			args = append(args, k.Tenant, k.ID, k.After)
		}
		b.Queue(loadAfterListed[len(keys)], args...)
	default:
		for _, k := range keys {
			b.Queue(loadQuery, k.Tenant, k.ID, k.After)
		}
	}
	var all []Envelope // the keys' events, by key and version
	err := func() (err error) {
		br := tx.SendBatch(ctx, b)
		defer func() {
			if cerr := br.Close(); err == nil {
				err = cerr
			}
		}()
		for _, qq := range b.QueuedQueries[:before] {
			if qq.Fn != nil {
				if err := qq.Fn(br); err != nil {
					return err
				}
			} else if _, err := br.Exec(); err != nil {
				return err
			}
		}
		if listed {
			rows, err := br.Query()
			if err != nil {
				return fmt.Errorf("load %d streams: %w", len(keys), err)
			}
			all, err = scanEvents(rows)
			if err != nil {
				return fmt.Errorf("load %d streams: %w", len(keys), err)
			}
			return nil
		}
		for _, k := range keys {
			rows, err := br.Query()
			if err != nil {
				return fmt.Errorf("load stream %s: %w", k.ID, err)
			}
			envs, err := scanEvents(rows)
			if err != nil {
				return fmt.Errorf("load stream %s: %w", k.ID, err)
			}
			all = append(all, envs...)
		}
		return nil
	}()
	if err != nil {
		return nil, err
	}
	if err := tx.store.decode(ctx, tx, all); err != nil {
		return nil, fmt.Errorf("load %d streams: %w", len(keys), err)
	}
	// Each stream gets the events of its key after its own version.
	out := make([][]Envelope, len(streams))
	for _, env := range all {
		for i, st := range streams {
			if st.Tenant == env.Tenant && st.ID == env.StreamID && env.Version > st.After {
				out[i] = append(out[i], env)
			}
		}
	}
	return out, nil
}

// scanEvents reads rows of eventColumns to the end and closes them.
func scanEvents(rows pgx.Rows) ([]Envelope, error) {
	defer rows.Close()
	var out []Envelope
	for rows.Next() {
		env, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, env)
	}
	return out, rows.Err()
}

// decode unseals envs' personal data (reading their keys through q) and
// decodes and upcasts each event's payload.
func (s *Store) decode(ctx context.Context, q Querier, envs []Envelope) error {
	if err := s.reg.Unseal(ctx, q, envs); err != nil {
		return err
	}
	for i := range envs {
		var err error
		if envs[i].Data, err = s.reg.Decode(envs[i]); err != nil {
			return err
		}
	}
	return nil
}

var loadManyQuery = `SELECT ` + fmt.Sprintf(eventColumns, "e.payload") + `
FROM events e
WHERE e.tenant_id = $1 AND e.stream_id = ANY($2)
ORDER BY e.stream_id, e.stream_version`

// LoadStreams reads many streams of tenant t with one query, each in
// version order, decoded and upcast. A stream with no events (or another
// tenant's) is absent from the map.
func (tx *Tx) LoadStreams(ctx context.Context, t tenant.ID, ids []uuid.UUID) (map[uuid.UUID][]Envelope, error) {
	out := make(map[uuid.UUID][]Envelope, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := tx.Query(ctx, loadManyQuery, t, ids)
	if err != nil {
		return nil, fmt.Errorf("load %d streams: %w", len(ids), err)
	}
	envs, err := scanEvents(rows)
	if err != nil {
		return nil, fmt.Errorf("load streams: %w", err)
	}
	if err := tx.store.decode(ctx, tx, envs); err != nil {
		return nil, fmt.Errorf("load streams: %w", err)
	}
	for _, env := range envs {
		out[env.StreamID] = append(out[env.StreamID], env)
	}
	return out, nil
}

// Load reads a stream inside the command's transaction.
func (tx *Tx) Load(ctx context.Context, t tenant.ID, id uuid.UUID) ([]Envelope, error) {
	return tx.store.Load(ctx, tx, t, id)
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nullUUID(u uuid.UUID) *uuid.UUID {
	if u == uuid.Nil {
		return nil
	}
	return &u
}
