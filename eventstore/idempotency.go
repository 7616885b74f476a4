package eventstore

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/errs"
)

// Idempotency carries a request's Idempotency-Key into its command. The
// command's transaction claims the key (Tx.Finish) together with its
// events, so a retry can never apply the command twice; the response is
// stored right after the commit (Complete) and replayed to retries.
type Idempotency struct {
	Scope uuid.UUID // the tenant, or PlatformScope
	Key   string
	Hash  []byte // of the request: a reused key with another request is refused
}

// Response is a stored response to an idempotent request.
type Response struct {
	Status  int
	Headers map[string]string
	Body    []byte
}

// ErrIdempotencyMismatch means an Idempotency-Key was reused with another request.
var ErrIdempotencyMismatch = errs.New(errs.KindInvalid, "idempotency_key_reused",
	"this Idempotency-Key was used with a different request")

type idemKey struct{}

// WithIdempotency returns a context whose commands claim idem's key.
func WithIdempotency(ctx context.Context, idem *Idempotency) context.Context {
	return context.WithValue(ctx, idemKey{}, idem)
}

// IdempotencyFrom returns the context's Idempotency, or nil.
func IdempotencyFrom(ctx context.Context) *Idempotency {
	idem, _ := ctx.Value(idemKey{}).(*Idempotency)
	return idem
}

// CommandID derives the command id of an idempotent request: retries of it
// get the same event ids (and created resources the same ids), so they
// append nothing.
func CommandID(scope uuid.UUID, key string) uuid.UUID {
	sum := sha256.Sum256(append(scope[:], []byte("idempotency:"+key)...))
	var u uuid.UUID
	copy(u[:], sum[:16])
	u[6] = (u[6] & 0x0f) | 0x40
	u[8] = (u[8] & 0x3f) | 0x80
	return u
}

// Finish claims the idempotency key of the command's context (no-op without
// one). Commands call it last, inside their transaction; when a twin request
// got there first it fails with ErrDuplicate.
func (tx *Tx) Finish(ctx context.Context) error {
	idem := IdempotencyFrom(ctx)
	if idem == nil {
		return nil
	}
	const q = `INSERT INTO idempotency_keys (tenant_id, key, request_hash, status, body) VALUES ($1, $2, $3, 0, '')`
	if _, err := tx.Exec(ctx, q, idem.Scope, idem.Key, idem.Hash); err != nil {
		if uniqueViolation(err) != nil {
			return ErrDuplicate
		}
		return fmt.Errorf("claim idempotency key: %w", err)
	}
	return nil
}

// Complete stores the response of a finished idempotent command.
func Complete(ctx context.Context, q Querier, idem *Idempotency, resp Response) error {
	headers, err := json.Marshal(nonNil(resp.Headers))
	if err != nil {
		return err
	}
	const query = `UPDATE idempotency_keys SET status = $3, headers = $4, body = $5 WHERE tenant_id = $1 AND key = $2 AND status = 0`
	if _, err := q.Exec(ctx, query, idem.Scope, idem.Key, resp.Status, headers, resp.Body); err != nil {
		return fmt.Errorf("store idempotent response: %w", err)
	}
	return nil
}

// Stored returns the response stored for idem's key: nil when the key is
// unused, pending when the command committed but its response is not
// stored yet. It returns ErrIdempotencyMismatch for another request's key.
func Stored(ctx context.Context, q Querier, idem *Idempotency) (resp *Response, pending bool, err error) {
	const query = `SELECT request_hash, status, headers, body FROM idempotency_keys WHERE tenant_id = $1 AND key = $2`
	var hash, headers []byte
	var r Response
	err = q.QueryRow(ctx, query, idem.Scope, idem.Key).Scan(&hash, &r.Status, &headers, &r.Body)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("idempotency lookup: %w", err)
	}
	if string(hash) != string(idem.Hash) {
		return nil, false, ErrIdempotencyMismatch
	}
	if r.Status == 0 {
		return nil, true, nil
	}
	if err := json.Unmarshal(headers, &r.Headers); err != nil {
		return nil, false, err
	}
	return &r, false, nil
}

// PurgeIdempotency deletes stored responses older than the retention.
func PurgeIdempotency(ctx context.Context, q Querier, olderThanHours int) (int64, error) {
	tag, err := q.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)`, olderThanHours)
	if err != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", err)
	}
	return tag.RowsAffected(), nil
}
