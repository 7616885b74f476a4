package reservations

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/inventory"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

var items = eventstore.Repo[*inventory.Item]{StreamType: inventory.StreamType, FromHistory: inventory.FromHistory}

// LockItem queues the transaction behind other writers of the variant's
// inventory stream until it ends. An advisory lock takes no transaction
// id, so the append stays the first write; concurrent writers then wait in
// line instead of colliding and rerunning.
func LockItem(ctx context.Context, tx *eventstore.Tx, v catalog.VariantID) error {
	const q = `SELECT pg_advisory_xact_lock(hashtextextended('honten.inventory:' || $1::text, 0))`
	if _, err := tx.Exec(ctx, q, v.UUID); err != nil {
		return fmt.Errorf("lock inventory %s: %w", v, err)
	}
	return nil
}

// LoadItem loads a variant's inventory; a variant whose stock never changed
// has no stream yet and gets an empty item at version 0. It starts from the
// item cache when it holds the variant and reads only the events since;
// otherwise from the latest snapshot.
func LoadItem(ctx context.Context, tx *eventstore.Tx, t tenant.ID, v catalog.VariantID) (*inventory.Item, error) {
	key := itemKey{store: tx.Store(), tenant: t.UUID, variant: v.UUID}
	it, _, ok := itemStates.Get(key)
	if ok {
		it = it.Clone()
	} else {
		it = inventory.NewItem()
		version, state, found, err := tx.LoadSnapshot(ctx, t, v.UUID)
		if err != nil {
			return nil, err
		}
		if found {
			if it, err = inventory.ItemFromSnapshot(state, version); err != nil {
				return nil, fmt.Errorf("inventory snapshot of %s: %w", v, err)
			}
		}
	}
	envs, err := tx.Store().LoadFrom(ctx, tx, t, v.UUID, it.LoadedVersion())
	if err != nil {
		return nil, err
	}
	for _, e := range envs {
		if e.StreamType != inventory.StreamType {
			return nil, fmt.Errorf("inventory of %s: stream %s is a %s stream", v, v, e.StreamType)
		}
		it.Apply(e.Data)
	}
	// Once committed, the item is as loaded or as this transaction saved
	// it; one changed but not saved is not cached. (A hot item holds many
	// holds: it is copied only when it is newer than the one kept.)
	tx.AfterCommit(func() {
		if len(it.Pending()) == 0 {
			itemStates.Offer(key, it.LoadedVersion(), it.Clone)
		}
	})
	return it, nil
}

// SaveItem appends the item's pending events and, every
// eventstore.SnapshotEvery events, stores a snapshot of it.
func SaveItem(ctx context.Context, tx *eventstore.Tx, t tenant.ID, v catalog.VariantID, it *inventory.Item, md eventstore.Metadata) error {
	before := it.LoadedVersion()
	if _, err := items.Save(ctx, tx, t, v.UUID, it, nil, md); err != nil {
		return err
	}
	if it.Version()/eventstore.SnapshotEvery > before/eventstore.SnapshotEvery {
		state, err := it.MarshalSnapshot()
		if err != nil {
			return err
		}
		return tx.SaveSnapshot(ctx, t, inventory.StreamType, v.UUID, it.Version(), state)
	}
	return nil
}

// itemStates caches inventory items as last committed, per store: a hot
// variant's item (its holds) is then not decoded from a snapshot for every
// decision batch and checkout. An entry is a starting point only — LoadItem
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
