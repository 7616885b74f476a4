// Package auditlog is the audit_log read model: one row per event — who
// (actor), did what (the event type), to which entity (stream type, id and
// version), when and in which flow (correlation id). The backoffice's audit
// screens and GET /admin/history read it. It must not import http or commands.
package auditlog

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/projections"
)

// Name is the projector's frozen name; renaming it rebuilds the model.
const Name = "audit_log.v1"

// Projector builds audit_log.
type Projector struct{}

var _ projections.Projector = Projector{}

// Name implements projections.Projector.
func (Projector) Name() string { return Name }

// Schema implements projections.Projector. Apply needs no payloads.
func (Projector) Schema() projections.Schema {
	return projections.Schema{
		Tables:     []string{"audit_log"},
		Create:     "rm_audit_log_v1_create",
		Index:      "rm_audit_log_v1_index",
		NoPayloads: true,
	}
}

const insert = `
INSERT INTO audit_log (tenant_id, position, event_id, at, actor, action, entity_kind, entity_id, entity_version, correlation_id)
SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::uuid[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::uuid[], $9::bigint[], $10::uuid[])
ON CONFLICT (tenant_id, position) DO NOTHING`

// Apply implements projections.Projector.
func (Projector) Apply(ctx context.Context, tx pgx.Tx, batch []eventstore.Envelope) error {
	n := len(batch)
	tenants := make([]uuid.UUID, n)
	positions := make([]int64, n)
	ids := make([]uuid.UUID, n)
	ats := make([]time.Time, n)
	actors := make([]*string, n)
	actions := make([]string, n)
	kinds := make([]string, n)
	entities := make([]uuid.UUID, n)
	versions := make([]int64, n)
	corr := make([]uuid.UUID, n)
	for i, e := range batch {
		tenants[i] = e.Tenant.UUID
		positions[i] = e.Position.Pos
		ids[i] = e.EventID
		ats[i] = e.RecordedAt
		if e.Actor != "" {
			a := e.Actor
			actors[i] = &a
		}
		actions[i] = e.Type
		kinds[i] = e.StreamType
		entities[i] = e.StreamID
		versions[i] = e.Version
		corr[i] = e.CorrelationID
	}
	if _, err := tx.Exec(ctx, insert, tenants, positions, ids, ats, actors, actions, kinds, entities, versions, corr); err != nil {
		return fmt.Errorf("audit_log: %w", err)
	}
	return nil
}

// Entry is one audit row, as the history endpoint returns it.
type Entry struct {
	Position      int64     `json:"-"`
	EventID       uuid.UUID `json:"event_id"`
	At            time.Time `json:"at"`
	Actor         *string   `json:"actor"`
	Action        string    `json:"type"`
	EntityKind    string    `json:"entity_kind"`
	EntityID      uuid.UUID `json:"entity_id"`
	EntityVersion int64     `json:"version"`
	CorrelationID uuid.UUID `json:"correlation_id"`
}

// ForEntity returns the audit entries of one entity of tenant t, oldest first.
func ForEntity(ctx context.Context, q eventstore.Querier, t tenant.ID, entity uuid.UUID, limit int) ([]Entry, error) {
	const query = `SELECT position, event_id, at, actor, action, entity_kind, entity_id, entity_version, correlation_id
FROM audit_log WHERE tenant_id = $1 AND entity_id = $2 ORDER BY entity_version LIMIT $3`
	rows, err := q.Query(ctx, query, t, entity, limit)
	if err != nil {
		return nil, fmt.Errorf("audit log of %s: %w", entity, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Entry, error) {
		var e Entry
		err := r.Scan(&e.Position, &e.EventID, &e.At, &e.Actor, &e.Action, &e.EntityKind, &e.EntityID, &e.EntityVersion, &e.CorrelationID)
		return e, err
	})
}
