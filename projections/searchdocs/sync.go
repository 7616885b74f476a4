package searchdocs

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/search"
)

// SyncName is the Meilisearch sync's frozen name; renaming it reindexes
// (v2: documents carry their readings).
const SyncName = "meili_sync.v2"

// SyncModel is the sync's read model name (its generations).
const SyncModel = "meili_sync"

// SyncTarget is the search server the sync writes: the Meilisearch client.
type SyncTarget interface {
	// Prepare creates index uid with its settings, or leaves it as it is.
	Prepare(ctx context.Context, uid string) error
	// DeleteIndex removes index uid (a missing one is fine).
	DeleteIndex(ctx context.Context, uid string) error
	// Sink writes documents to index uid.
	Sink(uid string) search.Sink
}

// Sync is the projector meili_sync.v2: the same fold as Projector, in its
// own generation's state tables, pushing every changed document to the
// search server before the batch's checkpoint commits (at least once;
// upserts and deletes by id are idempotent). Generation N writes index
// "<IndexPrefix>_<N>": a rebuild (`honten rebuild meili_sync`) replays into
// a fresh index while queries read the live one, and LiveIndexUID follows
// the swap.
type Sync struct {
	Registry    *eventstore.Registry
	Target      SyncTarget
	IndexPrefix string
}

var _ projections.Projector = Sync{}

// Name implements projections.Projector.
func (Sync) Name() string { return SyncName }

// Schema implements projections.Projector. The state tables are not
// exposed as views (their names are search_documents'); meili_sync_state is.
func (Sync) Schema() projections.Schema {
	return projections.Schema{
		Tables:       []string{"meili_sync_state"},
		Create:       "rm_meili_sync_v1_create",
		Index:        "rm_meili_sync_v1_index",
		PayloadTypes: payloadTypes(),
		External:     true, // writes go to Meilisearch: command responses do not wait for it
	}
}

// IndexUID is the index generation gen writes.
func IndexUID(prefix string, gen int) string { return prefix + "_" + strconv.Itoa(gen) }

// Apply implements projections.Projector. It returns the target's errors
// (the batch is then retried by the runner).
func (s Sync) Apply(ctx context.Context, tx pgx.Tx, batch []eventstore.Envelope) error {
	var schema string
	if err := tx.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return err
	}
	gen, err := strconv.Atoi(schema[strings.LastIndexByte(schema, '_')+1:])
	if err != nil {
		return fmt.Errorf("meili sync: generation of schema %q: %w", schema, err)
	}
	uid := IndexUID(s.IndexPrefix, gen)
	var prepared bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM meili_sync_state WHERE index_uid = $1)`, uid).Scan(&prepared); err != nil {
		return err
	}
	if !prepared {
		if err := s.Target.Prepare(ctx, uid); err != nil {
			return err
		}
		// Two generations back is retired for sure (the previous one may
		// still be live while this one is built).
		if gen > 2 {
			if err := s.Target.DeleteIndex(ctx, IndexUID(s.IndexPrefix, gen-2)); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO meili_sync_state (index_uid) VALUES ($1)`, uid); err != nil {
			return err
		}
	}
	return applyBatch(ctx, tx, s.Registry, batch, sinkWriter{sink: s.Target.Sink(uid)}, true)
}

// sinkWriter pushes documents to a search.Sink.
type sinkWriter struct{ sink search.Sink }

func (w sinkWriter) write(ctx context.Context, _ pgx.Tx, changes []change) error {
	var up []search.Document
	var del []search.Key
	for _, c := range changes {
		if c.Active {
			up = append(up, c.Doc)
		} else {
			del = append(del, search.Key{Tenant: c.Doc.Tenant, ID: c.Key.ID})
		}
	}
	if err := w.sink.Delete(ctx, del); err != nil {
		return err
	}
	if len(up) == 0 {
		return nil
	}
	return w.sink.Upsert(ctx, up)
}

// ErrNoLiveIndex means the sync has no live generation yet.
var ErrNoLiveIndex = errors.New("meili sync: no live generation")

// LiveIndexUID returns a function naming the index of the sync's live
// generation, read from the projections registry and cached for a second.
func LiveIndexUID(q eventstore.Querier, prefix string) func(ctx context.Context) (string, error) {
	var mu sync.Mutex
	var uid string
	var at time.Time
	return func(ctx context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if uid != "" && time.Since(at) < time.Second {
			return uid, nil
		}
		var gen int
		err := q.QueryRow(ctx, `SELECT generation FROM projections WHERE model = $1 AND state = 'live'`, SyncModel).Scan(&gen)
		if errors.Is(err, pgx.ErrNoRows) {
			return "", ErrNoLiveIndex
		}
		if err != nil {
			return "", fmt.Errorf("meili sync: live generation: %w", err)
		}
		uid, at = IndexUID(prefix, gen), time.Now()
		return uid, nil
	}
}
