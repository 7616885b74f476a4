package eventstore

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/personal"
	"github.com/honten/honten/domain/tenant"
)

// Personal data at the event boundary (docs/adr/0007-crypto-shredding.md).
//
// An event implementing personal.Data is stored with each of its personal
// fields replaced by a sealed string, "pii:v1:<key id>:<base64 nonce‖AES-GCM
// ciphertext>", under the key of the event's subject, kept in personal_keys
// (never in events). Readers unseal: Store.Load does, and the projection
// runner does for every batch (Registry.Unseal). A field whose key was
// destroyed reads as the event's Redacted value. Registry.Decode of a payload
// still sealed gives the redacted value too, so no reader ever fails on one.

// sealedPrefix starts every sealed field.
const sealedPrefix = "pii:v1:"

// personalInfo is what the registry knows of an event type carrying
// personal data: its personal fields and their redacted JSON values.
type personalInfo struct {
	fields   []string
	redacted map[string]json.RawMessage
}

func newPersonalInfo(e personal.Data) personalInfo {
	info := personalInfo{fields: e.PersonalFields(), redacted: map[string]json.RawMessage{}}
	if b, err := json.Marshal(e.Redacted()); err == nil {
		_ = json.Unmarshal(b, &info.redacted)
	}
	return info
}

// redactedValue is field's redacted JSON value.
func (p personalInfo) redactedValue(field string) json.RawMessage {
	if v, ok := p.redacted[field]; ok {
		return v
	}
	return json.RawMessage(`"` + personal.Erased + `"`)
}

// SubjectName is the personal_keys subject of s: "customer:<id>" or
// "email:<hex SHA-256 of the lower-cased address>".
func SubjectName(s personal.Subject) string {
	if s.Customer != uuid.Nil {
		return "customer:" + s.Customer.String()
	}
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(s.Email))))
	return "email:" + hex.EncodeToString(sum[:])
}

type personalKey struct {
	id  uuid.UUID
	key []byte
}

// PersonalKey returns the id of the live key of subject s in tenant t,
// creating it when there is none (a forgotten subject that comes back gets
// a new key). The row is held FOR SHARE until the transaction ends, so the
// key cannot be destroyed under a writer that uses it.
func (tx *Tx) PersonalKey(ctx context.Context, t tenant.ID, s personal.Subject) (uuid.UUID, error) {
	k, err := tx.personalKey(ctx, t, s)
	return k.id, err
}

func (tx *Tx) personalKey(ctx context.Context, t tenant.ID, s personal.Subject) (personalKey, error) {
	name := SubjectName(s)
	if k, ok := tx.keys[name]; ok {
		return k, nil
	}
	const sel = `SELECT id, key FROM personal_keys WHERE tenant_id = $1 AND subject = $2 FOR SHARE`
	var k personalKey
	err := tx.QueryRow(ctx, sel, t, name).Scan(&k.id, &k.key)
	if errors.Is(err, pgx.ErrNoRows) {
		k = personalKey{id: uuid.Must(uuid.NewV7()), key: make([]byte, 32)}
		if _, err := rand.Read(k.key); err != nil {
			return personalKey{}, err
		}
		var customer *uuid.UUID
		if s.Customer != uuid.Nil {
			customer = &s.Customer
		}
		const ins = `INSERT INTO personal_keys (id, tenant_id, subject, customer_id, key) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (tenant_id, subject) WHERE subject IS NOT NULL DO NOTHING`
		if _, err := tx.Exec(ctx, ins, k.id, t, name, customer, k.key); err != nil {
			return personalKey{}, fmt.Errorf("create personal key: %w", err)
		}
		err = tx.QueryRow(ctx, sel, t, name).Scan(&k.id, &k.key)
	}
	if err != nil {
		return personalKey{}, fmt.Errorf("personal key: %w", err)
	}
	if tx.keys == nil {
		tx.keys = map[string]personalKey{}
	}
	tx.keys[name] = k
	return k, nil
}

// LivePersonalKeys returns the ids of the live keys of the subjects, in
// order, skipping subjects without one; it locks them for an erasure.
func (tx *Tx) LivePersonalKeys(ctx context.Context, t tenant.ID, subjects ...personal.Subject) ([]uuid.UUID, error) {
	names := make([]string, len(subjects))
	for i, s := range subjects {
		names[i] = SubjectName(s)
	}
	rows, err := tx.Query(ctx, `SELECT id FROM personal_keys WHERE tenant_id = $1 AND subject = ANY($2) ORDER BY id FOR UPDATE`, t, names)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
}

// ErasePersonalKeys destroys keys of tenant t: the key bytes and the
// subject go, so neither the sealed data nor the row's link to a person can
// be recovered. It returns how many live keys it destroyed.
func (tx *Tx) ErasePersonalKeys(ctx context.Context, t tenant.ID, keys []uuid.UUID) (int64, error) {
	tag, err := tx.Exec(ctx, `UPDATE personal_keys SET key = NULL, subject = NULL, erased_at = now()
WHERE tenant_id = $1 AND id = ANY($2) AND key IS NOT NULL`, t, keys)
	if err != nil {
		return 0, fmt.Errorf("erase personal keys: %w", err)
	}
	for name, k := range tx.keys {
		for _, id := range keys {
			if k.id == id {
				delete(tx.keys, name)
			}
		}
	}
	return tag.RowsAffected(), nil
}

// seal replaces the personal fields of payload p (of event e) with their
// sealed form under the key of e's subject, and returns the key's id.
func (tx *Tx) seal(ctx context.Context, t tenant.ID, e personal.Data, p json.RawMessage) (json.RawMessage, uuid.UUID, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(p, &m); err != nil {
		return nil, uuid.Nil, fmt.Errorf("seal %s: %w", e.EventName(), err)
	}
	present := false
	for _, f := range e.PersonalFields() {
		if _, ok := m[f]; ok {
			present = true
		}
	}
	if !present {
		return p, uuid.Nil, nil
	}
	k, err := tx.personalKey(ctx, t, e.PersonalSubject())
	if err != nil {
		return nil, uuid.Nil, err
	}
	aead, err := newAEAD(k.key)
	if err != nil {
		return nil, uuid.Nil, err
	}
	for _, f := range e.PersonalFields() {
		v, ok := m[f]
		if !ok {
			continue
		}
		nonce := make([]byte, aead.NonceSize())
		if _, err := rand.Read(nonce); err != nil {
			return nil, uuid.Nil, err
		}
		ct := aead.Seal(nonce, nonce, v, additional(k.id, f))
		s, _ := json.Marshal(sealedPrefix + k.id.String() + ":" + base64.RawStdEncoding.EncodeToString(ct))
		m[f] = s
	}
	out, err := json.Marshal(m)
	return out, k.id, err
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// additional binds a ciphertext to its key and field, so a sealed value
// cannot be moved to another field.
func additional(key uuid.UUID, field string) []byte { return append(key[:], field...) }

// sealedField is one sealed value found in a payload.
type sealedField struct {
	key uuid.UUID
	ct  []byte
}

func parseSealed(v json.RawMessage) (sealedField, bool) {
	if len(v) == 0 || v[0] != '"' || !bytes.HasPrefix(v[1:], []byte(sealedPrefix)) {
		return sealedField{}, false
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return sealedField{}, false
	}
	rest := strings.TrimPrefix(s, sealedPrefix)
	id, b64, ok := strings.Cut(rest, ":")
	if !ok {
		return sealedField{}, false
	}
	key, err := uuid.Parse(id)
	if err != nil {
		return sealedField{}, false
	}
	ct, err := base64.RawStdEncoding.DecodeString(b64)
	if err != nil {
		return sealedField{}, false
	}
	return sealedField{key: key, ct: ct}, true
}

// info returns what the registry knows of event type name's personal data.
func (r *Registry) info(name string) (personalInfo, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	p, ok := r.personal[name]
	return p, ok
}

// redactSealed returns p with every still-sealed personal field of event
// type name replaced by its redacted value.
func (r *Registry) redactSealed(name string, p json.RawMessage) json.RawMessage {
	if !bytes.Contains(p, []byte(sealedPrefix)) {
		return p
	}
	info, ok := r.info(name)
	if !ok {
		return p
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(p, &m) != nil {
		return p
	}
	for _, f := range info.fields {
		if _, sealed := parseSealed(m[f]); sealed {
			m[f] = info.redactedValue(f)
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		return p
	}
	return out
}

// Unseal opens the sealed personal fields of envs in place: each envelope's
// Payload gets the plain values, or the redacted ones where the key was
// destroyed, and its PersonalKey the key's id. It reads every key the batch
// needs with one query on q. Envelopes without payload are left alone.
func (r *Registry) Unseal(ctx context.Context, q Querier, envs []Envelope) error {
	type found struct {
		env   int
		m     map[string]json.RawMessage
		info  personalInfo
		field map[string]sealedField
	}
	var todo []found
	need := map[uuid.UUID]bool{}
	for i := range envs {
		p := envs[i].Payload
		if p == nil || !bytes.Contains(p, []byte(sealedPrefix)) {
			continue
		}
		info, ok := r.info(envs[i].Type)
		if !ok {
			continue
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(p, &m); err != nil {
			return fmt.Errorf("unseal %s at %s: %w", envs[i].Type, envs[i].Position, err)
		}
		f := found{env: i, m: m, info: info, field: map[string]sealedField{}}
		for _, name := range info.fields {
			if s, ok := parseSealed(m[name]); ok {
				f.field[name] = s
				need[s.key] = true
			}
		}
		if len(f.field) > 0 {
			todo = append(todo, f)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	ids := make([]uuid.UUID, 0, len(need))
	for id := range need {
		ids = append(ids, id)
	}
	rows, err := q.Query(ctx, keysStatement(len(ids)), uuidArgs(ids)...)
	if err != nil {
		return fmt.Errorf("unseal: read keys: %w", err)
	}
	keys := map[uuid.UUID]cipher.AEAD{}
	for rows.Next() {
		var id uuid.UUID
		var key []byte
		if err := rows.Scan(&id, &key); err != nil {
			rows.Close()
			return err
		}
		if keys[id], err = newAEAD(key); err != nil {
			rows.Close()
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("unseal: read keys: %w", err)
	}
	for _, f := range todo {
		env := &envs[f.env]
		for name, s := range f.field {
			env.PersonalKey = s.key
			aead := keys[s.key]
			if aead == nil || len(s.ct) < aead.NonceSize() {
				f.m[name] = f.info.redactedValue(name)
				continue
			}
			n := aead.NonceSize()
			plain, err := aead.Open(nil, s.ct[:n], s.ct[n:], additional(s.key, name))
			if err != nil {
				return fmt.Errorf("unseal %s at %s: field %s: %w", env.Type, env.Position, name, err)
			}
			f.m[name] = plain
		}
		out, err := json.Marshal(f.m)
		if err != nil {
			return err
		}
		env.Payload = out
		env.Data = nil
	}
	return nil
}

// UnsealPayload is Unseal for one stored payload of an event of type typ
// (a copy kept outside the log, such as a webhook delivery's body): the
// payload with its personal fields opened, or redacted where the key was
// destroyed. A payload without sealed fields is returned as it is.
func (r *Registry) UnsealPayload(ctx context.Context, q Querier, typ string, payload json.RawMessage) (json.RawMessage, error) {
	if !bytes.Contains(payload, []byte(sealedPrefix)) {
		return payload, nil
	}
	envs := []Envelope{{Type: typ, Payload: payload}}
	if err := r.Unseal(ctx, q, envs); err != nil {
		return nil, err
	}
	return envs[0].Payload, nil
}

// keysQueries holds, for n keys (1 ≤ n ≤ maxListedKeys), the read of the
// keys with each id a parameter of its own; more go as one array. As with
// lastVersionsListed, PostgreSQL planned the array form on every
// execution, for the one or two keys a batch of events needs.
var keysQueries = func() [maxListedKeys + 1]string {
	var out [maxListedKeys + 1]string
	for n := 1; n <= maxListedKeys; n++ {
		ps := make([]string, n)
		for i := range ps {
			ps[i] = fmt.Sprintf("$%d::uuid", i+1)
		}
		out[n] = `SELECT id, key FROM public.personal_keys WHERE id IN (` + strings.Join(ps, ", ") + `) AND key IS NOT NULL`
	}
	return out
}()

// keysStatement is the read of n personal keys, for uuidArgs of their ids.
func keysStatement(n int) string {
	if n > maxListedKeys {
		return `SELECT id, key FROM public.personal_keys WHERE id = ANY($1) AND key IS NOT NULL`
	}
	return keysQueries[n]
}

// uuidArgs are the arguments of a statement built for len(ids) ids: one
// each up to maxListedKeys, else one array.
func uuidArgs(ids []uuid.UUID) []any {
	if len(ids) > maxListedKeys {
		return []any{ids}
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return args
}
