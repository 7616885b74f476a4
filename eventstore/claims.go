package eventstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/errs"
)

// ErrClaimTaken means a unique value (a SKU, a handle, an e-mail) belongs to
// another owner.
var ErrClaimTaken = errs.Conflict("already_taken", "this value is already taken")

// PlatformScope is the scope of claims that are unique across all tenants.
var PlatformScope = uuid.Nil

// Claim records that value of kind belongs to owner within scope (a tenant,
// or PlatformScope), in the command's transaction. Claiming a value one
// already owns is a no-op. It returns ErrClaimTaken, wrapped with the kind,
// when another owner holds it. Write it after the command's Append.
func (tx *Tx) Claim(ctx context.Context, scope uuid.UUID, kind, value string, owner uuid.UUID) error {
	var got uuid.UUID
	if err := tx.QueryRow(ctx, claimQuery, scope, kind, value, owner).Scan(&got); err != nil {
		return fmt.Errorf("claim %s: %w", kind, err)
	}
	return claimed(kind, value, owner, got)
}

const claimQuery = `INSERT INTO unique_claims (scope, kind, value, owner) VALUES ($1, $2, $3, $4)
ON CONFLICT (scope, kind, value) DO UPDATE SET owner = unique_claims.owner
RETURNING owner`

// claimed is the outcome of a claim of value for owner that found got
// holding it.
func claimed(kind, value string, owner, got uuid.UUID) error {
	if got != owner {
		return fmt.Errorf("%s %q: %w", kind, value, ErrClaimTaken)
	}
	return nil
}

// QueueClaim queues Claim in b, for a batch sent with the command's
// appends (Tx.SaveAll): its error, ErrClaimTaken among them, is the
// batch's.
func QueueClaim(b *pgx.Batch, scope uuid.UUID, kind, value string, owner uuid.UUID) {
	b.Queue(claimQuery, scope, kind, value, owner).QueryRow(func(row pgx.Row) error {
		var got uuid.UUID
		if err := row.Scan(&got); err != nil {
			return fmt.Errorf("claim %s: %w", kind, err)
		}
		return claimed(kind, value, owner, got)
	})
}

// Release gives up owner's claim on value (a renamed handle, a changed SKU).
func (tx *Tx) Release(ctx context.Context, scope uuid.UUID, kind, value string, owner uuid.UUID) error {
	_, err := tx.Exec(ctx, `DELETE FROM unique_claims WHERE scope = $1 AND kind = $2 AND value = $3 AND owner = $4`, scope, kind, value, owner)
	if err != nil {
		return fmt.Errorf("release %s: %w", kind, err)
	}
	return nil
}

// Owner returns who holds value of kind in scope, or false.
func Owner(ctx context.Context, q Querier, scope uuid.UUID, kind, value string) (uuid.UUID, bool, error) {
	var owner uuid.UUID
	err := q.QueryRow(ctx, `SELECT owner FROM unique_claims WHERE scope = $1 AND kind = $2 AND value = $3`, scope, kind, value).Scan(&owner)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, false, nil
	}
	if err != nil {
		return uuid.Nil, false, fmt.Errorf("claim owner %s: %w", kind, err)
	}
	return owner, true, nil
}

// KeepOwners declares claim kinds whose value, once claimed, keeps its
// owner for good (never released nor handed over, such as a variant id's
// product): Tx.Owner keeps their committed owners in memory. It is safe
// to call while the store is in use.
func (s *Store) KeepOwners(kinds ...string) {
	for _, k := range kinds {
		s.permanent.Store(k, true)
	}
}

// ownerCacheSize bounds the owners of permanent claims a store keeps.
const ownerCacheSize = 200_000

// claimKey names one claimed value.
type claimKey struct {
	scope uuid.UUID
	kind  string
	value string
}

// Owner is the package's Owner in the transaction, answered from memory
// for a kind declared with KeepOwners once a committed transaction has
// seen its owner (a claim this transaction made is kept only after it
// commits).
func (tx *Tx) Owner(ctx context.Context, scope uuid.UUID, kind, value string) (uuid.UUID, bool, error) {
	s := tx.store
	if _, ok := s.permanent.Load(kind); !ok {
		return Owner(ctx, tx, scope, kind, value)
	}
	k := claimKey{scope: scope, kind: kind, value: value}
	if owner, _, ok := s.owners.Get(k); ok {
		return owner, true, nil
	}
	owner, ok, err := Owner(ctx, tx, scope, kind, value)
	if err == nil && ok {
		tx.AfterCommit(func() { s.owners.Put(k, owner, 0) })
	}
	return owner, ok, err
}

// KeptOwner returns the owner of a claim of a kind declared with
// KeepOwners, from the store's memory only (false when it has not seen it
// committed): a hint of what a command is about to read, to name the
// streams it checks ahead, never a decision.
func (tx *Tx) KeptOwner(scope uuid.UUID, kind, value string) (uuid.UUID, bool) {
	if _, ok := tx.store.permanent.Load(kind); !ok {
		return uuid.Nil, false
	}
	owner, _, ok := tx.store.owners.Get(claimKey{scope: scope, kind: kind, value: value})
	return owner, ok
}

// Claims returns every value of kind in scope that owner holds.
func Claims(ctx context.Context, q Querier, scope uuid.UUID, kind string, owner uuid.UUID) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT value FROM unique_claims WHERE scope = $1 AND kind = $2 AND owner = $3 ORDER BY value`, scope, kind, owner)
	if err != nil {
		return nil, fmt.Errorf("claims %s: %w", kind, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// ClaimAll claims every one of values of kind for owner within scope, with
// one statement in the command's transaction, and returns the values that
// another owner holds (left to it). Values owner holds already stay its
// own. Write it after the command's Append.
func (tx *Tx) ClaimAll(ctx context.Context, scope uuid.UUID, kind string, values []string, owner uuid.UUID) (map[string]bool, error) {
	// A value inserted concurrently by another transaction is neither
	// inserted here nor visible as owner's: it counts as taken.
	const q = `WITH v AS (SELECT DISTINCT unnest($3::text[]) AS value),
ins AS (INSERT INTO unique_claims (scope, kind, value, owner) SELECT $1, $2, value, $4 FROM v
        ON CONFLICT (scope, kind, value) DO NOTHING RETURNING value)
SELECT v.value FROM v
WHERE NOT EXISTS (SELECT 1 FROM ins WHERE ins.value = v.value)
  AND NOT EXISTS (SELECT 1 FROM unique_claims c WHERE c.scope = $1 AND c.kind = $2 AND c.value = v.value AND c.owner = $4)`
	rows, err := tx.Query(ctx, q, scope, kind, values, owner)
	if err != nil {
		return nil, fmt.Errorf("claim %s: %w", kind, err)
	}
	taken, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("claim %s: %w", kind, err)
	}
	out := make(map[string]bool, len(taken))
	for _, v := range taken {
		out[v] = true
	}
	return out, nil
}

// ClaimedByOthers returns which of values of kind in scope an owner other
// than owner holds.
func ClaimedByOthers(ctx context.Context, q Querier, scope uuid.UUID, kind string, values []string, owner uuid.UUID) (map[string]bool, error) {
	rows, err := q.Query(ctx, `SELECT value FROM unique_claims WHERE scope = $1 AND kind = $2 AND value = ANY($3) AND owner <> $4`,
		scope, kind, values, owner)
	if err != nil {
		return nil, fmt.Errorf("claims %s: %w", kind, err)
	}
	held, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("claims %s: %w", kind, err)
	}
	out := make(map[string]bool, len(held))
	for _, v := range held {
		out[v] = true
	}
	return out, nil
}
