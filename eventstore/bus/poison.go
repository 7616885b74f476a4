package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

// Poisoned is a message a handler failed on after every retry: the event,
// the handler, why, and whether a later retry resolved it.
type Poisoned struct {
	ID         int64      `json:"id"`
	Tenant     uuid.UUID  `json:"tenant_id"`
	Handler    string     `json:"handler"`
	EventID    uuid.UUID  `json:"event_id"`
	EventType  string     `json:"event_type"`
	StreamType string     `json:"stream_type"`
	StreamID   uuid.UUID  `json:"stream_id"`
	Reason     string     `json:"reason"`
	PoisonedAt time.Time  `json:"poisoned_at"`
	Retries    int        `json:"retries"`
	LastError  *string    `json:"last_error"`
	ResolvedAt *time.Time `json:"resolved_at"`

	msg *message.Message
}

// ErrPoisonNotFound is the 404 of an unknown (or another tenant's) poisoned message.
var ErrPoisonNotFound = errs.NotFoundf("poisoned message")

// ErrRetryFailed is the 409 of a poisoned message whose retry failed again.
var ErrRetryFailed = errs.Conflict("poison_retry_failed", "the handler failed again; see last_error")

const poisonCols = `"offset", uuid, payload::text, metadata::text, created_at, retries, last_error, resolved_at`

func scanPoisoned(row pgx.CollectableRow) (Poisoned, error) {
	var p Poisoned
	var id, payload, meta string
	var created time.Time
	if err := row.Scan(&p.ID, &id, &payload, &meta, &created, &p.Retries, &p.LastError, &p.ResolvedAt); err != nil {
		return p, err
	}
	p.PoisonedAt = created.UTC()
	msg := message.NewMessage(id, []byte(payload))
	if err := json.Unmarshal([]byte(meta), &msg.Metadata); err != nil {
		return p, fmt.Errorf("bus: poisoned message %d: %w", p.ID, err)
	}
	p.msg = msg
	md := msg.Metadata
	p.Handler, p.Reason = md.Get(middleware.PoisonedHandlerKey), md.Get(middleware.ReasonForPoisonedKey)
	p.EventType, p.StreamType = md.Get(KeyEventType), md.Get(KeyStreamType)
	p.Tenant, _ = uuid.Parse(md.Get(KeyTenant))
	p.StreamID, _ = uuid.Parse(md.Get(KeyStreamID))
	p.EventID, _ = uuid.Parse(id)
	return p, nil
}

// ListPoisoned returns up to limit poisoned messages after the id after,
// oldest first: of one tenant, or of every tenant when t is nil.
func ListPoisoned(ctx context.Context, q eventstore.Querier, t *tenant.ID, after int64, limit int) ([]Poisoned, error) {
	args := []any{after, limit}
	filter := ""
	if t != nil {
		filter = ` AND metadata->>'tenant_id' = $3`
		args = append(args, t.String())
	}
	rows, err := q.Query(ctx, `SELECT `+poisonCols+` FROM watermill_poison WHERE "offset" > $1`+filter+` ORDER BY "offset" LIMIT $2`, args...)
	if err != nil {
		return nil, fmt.Errorf("list poisoned messages: %w", err)
	}
	return pgx.CollectRows(rows, scanPoisoned)
}

// GetPoisoned returns one poisoned message; another tenant's (t set) is
// ErrPoisonNotFound.
func GetPoisoned(ctx context.Context, q eventstore.Querier, t *tenant.ID, id int64) (Poisoned, error) {
	rows, err := q.Query(ctx, `SELECT `+poisonCols+` FROM watermill_poison WHERE "offset" = $1`, id)
	if err != nil {
		return Poisoned{}, err
	}
	p, err := pgx.CollectExactlyOneRow(rows, scanPoisoned)
	if errors.Is(err, pgx.ErrNoRows) || err == nil && t != nil && p.Tenant != t.UUID {
		return Poisoned{}, ErrPoisonNotFound
	}
	return p, err
}

// UnresolvedPoisoned counts the poisoned messages no retry has resolved.
func UnresolvedPoisoned(ctx context.Context, q eventstore.Querier) (int64, error) {
	var n int64
	err := q.QueryRow(ctx, `SELECT count(*) FROM watermill_poison WHERE resolved_at IS NULL`).Scan(&n)
	return n, err
}

// RetryPoisoned hands a poisoned message to its handler again (handlers
// are idempotent, so retrying a resolved one is harmless) and records the
// outcome: resolved, or the new error. It returns ErrPoisonNotFound and
// ErrRetryFailed (the row then holds last_error).
func RetryPoisoned(ctx context.Context, q eventstore.Querier, handlers []Handler, t *tenant.ID, id int64) (Poisoned, error) {
	p, err := GetPoisoned(ctx, q, t, id)
	if err != nil {
		return p, err
	}
	var h *Handler
	for i := range handlers {
		for _, topic := range handlers[i].Topics {
			if p.Handler == handlers[i].Name || p.Handler == handlers[i].Name+"@"+topic {
				h = &handlers[i]
			}
		}
	}
	if h == nil {
		return p, errs.Conflict("poison_handler_unknown", "no handler "+p.Handler+" runs in this version")
	}
	env, err := Envelope(p.msg)
	if err == nil {
		err = h.Handle(ctx, env)
	}
	if err != nil {
		msg := err.Error()
		if _, uerr := q.Exec(ctx, `UPDATE watermill_poison SET retries = retries + 1, last_error = $2 WHERE "offset" = $1`, id, msg); uerr != nil {
			return p, uerr
		}
		return p, fmt.Errorf("%w: %s", ErrRetryFailed, msg)
	}
	if _, err := q.Exec(ctx, `UPDATE watermill_poison SET retries = retries + 1, last_error = NULL, resolved_at = coalesce(resolved_at, now()) WHERE "offset" = $1`, id); err != nil {
		return p, err
	}
	return GetPoisoned(ctx, q, t, id)
}
