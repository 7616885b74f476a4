package reservations

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/inventory"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/database"
)

var items = eventstore.Repo[*inventory.Item]{StreamType: inventory.StreamType, FromHistory: inventory.FromHistory}

// lockItemSQL queues the transaction behind other writers of the
// variant's inventory stream until it ends. An advisory lock takes no
// transaction id, so the append stays the first write; concurrent writers
// then wait in line instead of colliding and rerunning.
const lockItemSQL = `SELECT pg_advisory_xact_lock(hashtextextended('honten.inventory:' || $1::text, 0))`

// lockItemsListed holds, for n variants (1 ≤ n ≤ database.MaxListed), one
// statement that takes the locks of lockItemSQL in the order listed (a
// VALUES list is scanned in its order, and the aggregate takes each row's
// lock as it comes). One statement instead of one a variant; more
// variants than that take a statement each.
var lockItemsListed = func() [database.MaxListed + 1]string {
	var out [database.MaxListed + 1]string
	for n := 1; n <= database.MaxListed; n++ {
		out[n] = `SELECT count(pg_advisory_xact_lock(hashtextextended('honten.inventory:' || k.v::text, 0)))
FROM (VALUES ` + database.ListedRows(n, "uuid") + `) AS k(v, i)`
	}
	return out
}()

// queueLocks queues the locks of keys' variants, in order.
func queueLocks(b *pgx.Batch, keys []variantKey) {
	if n := len(keys); n > 1 && n <= database.MaxListed {
		args := make([]any, n)
		for i, k := range keys {
			args[i] = k.variant
		}
		b.Queue(lockItemsListed[n], args...)
		return
	}
	for _, k := range keys {
		b.Queue(lockItemSQL, k.variant)
	}
}

// LockItems locks the inventory of each variant of vs, in the order given,
// and loads it; a variant whose stock never changed has no stream yet and
// gets an empty item at version 0. Callers sort vs (by variant, as every
// command does) so that no two transactions deadlock, and name a variant
// once.
//
// An item the item cache holds is read from there, with only the events
// since; otherwise from the latest snapshot. The locks and the reads of
// the cached items go to the server in one round trip (each read runs once
// the locks before it are held, so it sees what their previous holders
// committed): a checkout of three lines waits once instead of six times.
func LockItems(ctx context.Context, tx *eventstore.Tx, t tenant.ID, vs []catalog.VariantID) ([]*inventory.Item, error) {
	keys := make([]variantKey, len(vs))
	for i, v := range vs {
		keys[i] = variantKey{tenant: t, variant: v.UUID}
	}
	return lockItems(ctx, tx, keys, nil)
}

// lockItems is LockItems for variants of any tenants. The statements
// queued in then (nil: none) run once the locks are held, before the
// items' reads, in the same round trip (with their callbacks).
func lockItems(ctx context.Context, tx *eventstore.Tx, keys []variantKey, then *pgx.Batch) ([]*inventory.Item, error) {
	out := make([]*inventory.Item, len(keys))
	locks := &pgx.Batch{}
	queueLocks(locks, keys)
	if then != nil {
		locks.QueuedQueries = append(locks.QueuedQueries, then.QueuedQueries...)
	}
	var streams []eventstore.StreamAfter
	var cached []int
	for i, k := range keys {
		if it, _, ok := itemStates.Get(k.cacheKey(tx)); ok {
			out[i] = it.Clone()
			streams = append(streams, eventstore.StreamAfter{Tenant: k.tenant, ID: k.variant, After: out[i].LoadedVersion()})
			cached = append(cached, i)
		}
	}
	envs, err := tx.LoadAfter(ctx, locks, streams)
	if err != nil {
		return nil, fmt.Errorf("lock inventory of %d variants: %w", len(keys), err)
	}
	for j, i := range cached {
		if err := applyItem(keys[i].variant, out[i], envs[j]); err != nil {
			return nil, err
		}
	}
	for i, k := range keys {
		if out[i] == nil {
			if out[i], err = loadItem(ctx, tx, k); err != nil {
				return nil, err
			}
		}
		keepItem(tx, k.cacheKey(tx), out[i])
	}
	return out, nil
}

// LockItem is LockItems for one variant.
func LockItem(ctx context.Context, tx *eventstore.Tx, t tenant.ID, v catalog.VariantID) (*inventory.Item, error) {
	its, err := LockItems(ctx, tx, t, []catalog.VariantID{v})
	if err != nil {
		return nil, err
	}
	return its[0], nil
}

// loadItem loads an item the cache does not hold: from its latest
// snapshot and the events since.
func loadItem(ctx context.Context, tx *eventstore.Tx, k variantKey) (*inventory.Item, error) {
	it := inventory.NewItem()
	version, state, found, err := tx.LoadSnapshot(ctx, k.tenant, k.variant)
	if err != nil {
		return nil, err
	}
	if found {
		if it, err = inventory.ItemFromSnapshot(state, version); err != nil {
			return nil, fmt.Errorf("inventory snapshot of %s: %w", k.variant, err)
		}
	}
	envs, err := tx.Store().LoadFrom(ctx, tx, k.tenant, k.variant, it.LoadedVersion())
	if err != nil {
		return nil, err
	}
	return it, applyItem(k.variant, it, envs)
}

// applyItem applies the events of variant v's stream read after it.
func applyItem(v uuid.UUID, it *inventory.Item, envs []eventstore.Envelope) error {
	for _, e := range envs {
		if e.StreamType != inventory.StreamType {
			return fmt.Errorf("inventory of %s: stream %s is a %s stream", v, v, e.StreamType)
		}
		it.Apply(e.Data)
	}
	return nil
}

// keepItem caches it once tx has committed, as loaded or as the
// transaction saved it; one changed but not saved is not cached. (A hot
// item holds many holds: it is copied only when it is newer than the one
// kept.)
func keepItem(tx *eventstore.Tx, key itemKey, it *inventory.Item) {
	tx.AfterCommit(func() {
		if len(it.Pending()) == 0 {
			itemStates.Offer(key, it.LoadedVersion(), it.Clone)
		}
	})
}

// SaveItem appends the item's pending events and, every
// eventstore.SnapshotEvery events, stores a snapshot of it.
func SaveItem(ctx context.Context, tx *eventstore.Tx, t tenant.ID, v catalog.VariantID, it *inventory.Item, md eventstore.Metadata) error {
	snapshot := &pgx.Batch{}
	if err := QueueSnapshotDue(snapshot, t, v, it); err != nil {
		return err
	}
	return tx.SaveAll(ctx, snapshot, ItemSaving(t, v, it, md))
}

// ItemSaving is item it of variant v's part of an eventstore.Tx.SaveAll;
// QueueSnapshotDue queues its snapshot, when one is due, beside it.
func ItemSaving(t tenant.ID, v catalog.VariantID, it *inventory.Item, md eventstore.Metadata) eventstore.Saving {
	return items.Saving(t, v.UUID, it, md)
}

// QueueSnapshotDue queues in b a snapshot of item it of variant v, as it
// is with its recorded events, when saving them crosses a multiple of
// eventstore.SnapshotEvery; b then goes with the item's save.
func QueueSnapshotDue(b *pgx.Batch, t tenant.ID, v catalog.VariantID, it *inventory.Item) error {
	if it.Version()/eventstore.SnapshotEvery > it.LoadedVersion()/eventstore.SnapshotEvery {
		state, err := it.MarshalSnapshot()
		if err != nil {
			return err
		}
		eventstore.QueueSnapshot(b, t, inventory.StreamType, v.UUID, it.Version(), state)
	}
	return nil
}

// itemStates caches inventory items as last committed, per store: a hot
// variant's item (its holds) is then not decoded from a snapshot for every
// decision batch and checkout. An entry is a starting point only — LockItems
// always reads the stream's events after it — so a stale entry costs a few
// more events, never a wrong answer. Entries are copies: a caller changes
// its own.
var itemStates = &eventstore.VersionCache[itemKey, *inventory.Item]{Size: itemCacheSize}

// itemCacheSize bounds the cache; past it the cache starts over.
const itemCacheSize = 20_000

type itemKey struct {
	store           *eventstore.Store
	tenant, variant uuid.UUID
}

// cacheKey is k's entry in the item cache of tx's store.
func (k variantKey) cacheKey(tx *eventstore.Tx) itemKey {
	return itemKey{store: tx.Store(), tenant: k.tenant.UUID, variant: k.variant}
}
