package webhook

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

// Delivery statuses.
const (
	StatusPending   = "pending"
	StatusDelivered = "delivered"
	StatusDead      = "dead"
)

// Delivery is one event sent (or to send) to one endpoint: a line of the
// endpoint's delivery log.
type Delivery struct {
	ID          uuid.UUID  `json:"id"`
	Seq         int64      `json:"-"`
	EndpointID  uuid.UUID  `json:"webhook_id"`
	EventID     uuid.UUID  `json:"event_id"`
	EventType   string     `json:"event_type"`
	Status      string     `json:"status"`
	Attempts    int        `json:"attempts"`
	NextAttempt *time.Time `json:"next_attempt_at"`
	LastAttempt *time.Time `json:"last_attempt_at"`
	LastStatus  *int       `json:"last_status"`
	LastError   *string    `json:"last_error"`
	DeliveredAt *time.Time `json:"delivered_at"`
	CreatedAt   time.Time  `json:"created_at"`
}

const deliveryColumns = `id, seq, endpoint_id, event_id, event_type, status, attempts, next_attempt_at, last_attempt_at, last_status, last_error, delivered_at, created_at`

func scanDelivery(row pgx.Row) (Delivery, error) {
	var d Delivery
	var next time.Time
	err := row.Scan(&d.ID, &d.Seq, &d.EndpointID, &d.EventID, &d.EventType, &d.Status, &d.Attempts, &next, &d.LastAttempt, &d.LastStatus,
		&d.LastError, &d.DeliveredAt, &d.CreatedAt)
	if d.Status == StatusPending {
		d.NextAttempt = &next
	}
	return d, err
}

// ListDeliveries returns the delivery log of tenant t's endpoint (deleted
// or not), newest first, before the sequence number before (0: from the
// newest), at most limit; status filters when not empty.
func ListDeliveries(ctx context.Context, db eventstore.Querier, t tenant.ID, endpoint uuid.UUID, status string, before int64, limit int) ([]Delivery, error) {
	if status != "" && status != StatusPending && status != StatusDelivered && status != StatusDead {
		return nil, errs.Field("status", "must be one of: pending, delivered, dead")
	}
	var exists bool
	if err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2)`, t, endpoint).Scan(&exists); err != nil {
		return nil, fmt.Errorf("webhook %s: %w", endpoint, err)
	}
	if !exists {
		return nil, ErrEndpointNotFound
	}
	if before <= 0 {
		before = 1<<63 - 1
	}
	const q = `SELECT ` + deliveryColumns + ` FROM webhook_deliveries
WHERE tenant_id = $1 AND endpoint_id = $2 AND seq < $3 AND ($4 = '' OR status = $4)
ORDER BY tenant_id, endpoint_id, seq DESC LIMIT $5`
	rows, err := db.Query(ctx, q, t, endpoint, before, status, limit)
	if err != nil {
		return nil, fmt.Errorf("webhook deliveries: %w", err)
	}
	defer rows.Close()
	out := []Delivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("webhook deliveries: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Retry hands tenant t's delivery id to its endpoint again, now, with a
// fresh retry window: a dead or delivered one is pending again, ahead of
// the endpoint's later deliveries. ErrEndpointDeleted when its endpoint
// was deleted.
func Retry(ctx context.Context, db eventstore.Querier, t tenant.ID, id uuid.UUID, now time.Time) (Delivery, error) {
	const q = `UPDATE webhook_deliveries d SET status = 'pending', next_attempt_at = $3, first_attempt_at = NULL
FROM webhook_endpoints e
WHERE d.tenant_id = $1 AND d.id = $2 AND e.id = d.endpoint_id AND e.tenant_id = $1 AND e.deleted_at IS NULL
RETURNING ` + "d.id, d.seq, d.endpoint_id, d.event_id, d.event_type, d.status, d.attempts, d.next_attempt_at, d.last_attempt_at, d.last_status, d.last_error, d.delivered_at, d.created_at"
	d, err := scanDelivery(db.QueryRow(ctx, q, t, id, now.UTC()))
	if errors.Is(err, pgx.ErrNoRows) {
		var exists bool
		if err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM webhook_deliveries WHERE tenant_id = $1 AND id = $2)`, t, id).Scan(&exists); err != nil {
			return Delivery{}, fmt.Errorf("webhook delivery %s: %w", id, err)
		}
		if exists {
			return Delivery{}, ErrEndpointDeleted
		}
		return Delivery{}, ErrDeliveryNotFound
	}
	if err != nil {
		return Delivery{}, fmt.Errorf("retry webhook delivery %s: %w", id, err)
	}
	return d, nil
}
