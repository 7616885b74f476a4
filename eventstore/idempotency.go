package eventstore

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/errs"
)

// Idempotency carries a request's Idempotency-Key into its command. The
// command's transaction claims the key (Tx.Finish) together with its
// events, so a retry can never apply the command twice; the response is
// stored right after the commit (Complete) and replayed to retries of the
// same caller.
//
// A key is scoped by the tenant and the caller; the table holds only a
// SHA-256 of it, and the stored response is sealed (AES-256-GCM) under a
// key derived from the Idempotency-Key and the caller's Secret, so a read
// of the table reveals no token or password (docs/adr/0005).
type Idempotency struct {
	Scope uuid.UUID // the tenant, or PlatformScope
	// Caller names who sent the request: "staff:<id>", "cart:<token hash>",
	// "client:<address hash>". Another caller's key is another key.
	Caller string
	Key    string
	// Secret is caller material mixed into the sealing key (the cart token;
	// nil when there is none). It is never stored.
	Secret []byte
	Hash   []byte // of the request: a reused key with another request is refused
}

// keyHash is what the table stores for the key.
func (idem *Idempotency) keyHash() string {
	sum := sha256.Sum256([]byte(idem.Key))
	return hex.EncodeToString(sum[:])
}

// sealKey derives the AES-256 key that seals the stored response.
func (idem *Idempotency) sealKey() ([]byte, error) {
	secret := append([]byte(idem.Key+"\x00"), idem.Secret...)
	salt := append(idem.Scope[:], []byte(idem.Caller)...)
	return hkdf.Key(sha256.New, secret, salt, "honten idempotent response v1", 32)
}

// Response is a stored response to an idempotent request.
type Response struct {
	Status  int
	Headers map[string]string
	Body    []byte
}

// sealed is the plain text of a stored response before sealing.
type sealed struct {
	Headers map[string]string `json:"h"`
	Body    []byte            `json:"b"`
}

func (idem *Idempotency) seal(resp Response) ([]byte, error) {
	plain, err := json.Marshal(sealed{Headers: nonNil(resp.Headers), Body: resp.Body})
	if err != nil {
		return nil, err
	}
	aead, err := idem.aead()
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return aead.Seal(nonce, nonce, plain, []byte(idem.keyHash())), nil
}

func (idem *Idempotency) open(box []byte) (map[string]string, []byte, error) {
	aead, err := idem.aead()
	if err != nil {
		return nil, nil, err
	}
	if len(box) < aead.NonceSize() {
		return nil, nil, errors.New("sealed response too short")
	}
	plain, err := aead.Open(nil, box[:aead.NonceSize()], box[aead.NonceSize():], []byte(idem.keyHash()))
	if err != nil {
		return nil, nil, err
	}
	var s sealed
	if err := json.Unmarshal(plain, &s); err != nil {
		return nil, nil, err
	}
	return s.Headers, s.Body, nil
}

func (idem *Idempotency) aead() (cipher.AEAD, error) {
	k, err := idem.sealKey()
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// ErrIdempotencyMismatch means an Idempotency-Key was reused with another request.
var ErrIdempotencyMismatch = errs.New(errs.KindInvalid, "idempotency_key_reused",
	"this Idempotency-Key was used with a different request")

// ErrIdempotencyUnreadable means a stored response could not be opened
// (the caller's secret changed); the key cannot be replayed.
var ErrIdempotencyUnreadable = errs.Conflict("idempotency_key_unreadable",
	"the response stored for this Idempotency-Key cannot be replayed; use a new key")

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
// append nothing. Two callers using the same key issue different commands.
func CommandID(idem *Idempotency) uuid.UUID {
	scope := idem.Scope
	sum := sha256.Sum256(append(scope[:], []byte("idempotency:"+idem.Caller+"\x00"+idem.Key)...))
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
	const q = `INSERT INTO idempotency_keys (tenant_id, caller, key, request_hash, status, body) VALUES ($1, $2, $3, $4, 0, '')`
	if _, err := tx.Exec(ctx, q, idem.Scope, idem.Caller, idem.keyHash(), idem.Hash); err != nil {
		if uniqueViolation(err) != nil {
			return ErrDuplicate
		}
		return fmt.Errorf("claim idempotency key: %w", err)
	}
	return nil
}

// Complete stores the response of a finished idempotent command, sealed.
func Complete(ctx context.Context, q Querier, idem *Idempotency, resp Response) error {
	box, err := idem.seal(resp)
	if err != nil {
		return fmt.Errorf("seal idempotent response: %w", err)
	}
	const query = `UPDATE idempotency_keys SET status = $4, headers = '{}', body = $5 WHERE tenant_id = $1 AND caller = $2 AND key = $3 AND status = 0`
	if _, err := q.Exec(ctx, query, idem.Scope, idem.Caller, idem.keyHash(), resp.Status, box); err != nil {
		return fmt.Errorf("store idempotent response: %w", err)
	}
	return nil
}

// Stored is what the table holds for a key.
type Stored struct {
	// Response is the stored response; nil while there is none.
	Response *Response
	// Pending: the command committed, its response is not stored yet.
	Pending bool
	// Orphaned: the command committed longer ago than the stale age and its
	// response was never stored (the process died in between); the
	// response must be rebuilt.
	Orphaned bool
}

// Lookup returns what is stored for idem's key; a committed command whose
// response is missing after staleAfter is Orphaned rather than Pending. It
// returns ErrIdempotencyMismatch for another request's key and
// ErrIdempotencyUnreadable when the stored response cannot be opened.
func Lookup(ctx context.Context, q Querier, idem *Idempotency, staleAfter time.Duration) (Stored, error) {
	const query = `SELECT request_hash, status, body, created_at < now() - make_interval(secs => $4)
FROM idempotency_keys WHERE tenant_id = $1 AND caller = $2 AND key = $3`
	var hash, body []byte
	var status int
	var stale bool
	err := q.QueryRow(ctx, query, idem.Scope, idem.Caller, idem.keyHash(), staleAfter.Seconds()).Scan(&hash, &status, &body, &stale)
	if errors.Is(err, pgx.ErrNoRows) {
		return Stored{}, nil
	}
	if err != nil {
		return Stored{}, fmt.Errorf("idempotency lookup: %w", err)
	}
	if string(hash) != string(idem.Hash) {
		return Stored{}, ErrIdempotencyMismatch
	}
	if status == 0 {
		return Stored{Pending: !stale, Orphaned: stale}, nil
	}
	headers, plain, err := idem.open(body)
	if err != nil {
		return Stored{}, ErrIdempotencyUnreadable
	}
	return Stored{Response: &Response{Status: status, Headers: headers, Body: plain}}, nil
}

// PurgeIdempotency deletes the keys older than the retention and returns
// how many it deleted.
func PurgeIdempotency(ctx context.Context, q Querier, retention time.Duration) (int64, error) {
	tag, err := q.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1)`, retention.Seconds())
	if err != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", err)
	}
	return tag.RowsAffected(), nil
}
