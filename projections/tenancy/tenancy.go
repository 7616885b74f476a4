// Package tenancy is the tenancy read model: tenants (with settings),
// vendors, stores, locations and staff members, as the backoffice lists
// them. It must not import http or commands.
package tenancy

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/staff"
	"github.com/honten/honten/domain/store"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/domain/vendor"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/projections"
)

// Name is the projector's frozen name; renaming it rebuilds the model.
const Name = "tenancy.v1"

// Projector builds the tenancy tables.
type Projector struct {
	Registry *eventstore.Registry
}

var _ projections.Projector = Projector{}

// Name implements projections.Projector.
func (Projector) Name() string { return Name }

// Schema implements projections.Projector.
func (Projector) Schema() projections.Schema {
	return projections.Schema{
		Tables:       []string{"tenants", "vendors", "stores", "locations", "staff_members"},
		Create:       "rm_tenancy_v1_create",
		Index:        "rm_tenancy_v1_index",
		PayloadTypes: projections.EventNames(tenant.Events, vendor.Events, store.Events, staff.Events),
	}
}

// Apply implements projections.Projector.
func (p Projector) Apply(ctx context.Context, tx pgx.Tx, batch []eventstore.Envelope) error {
	b := &pgx.Batch{}
	for _, env := range batch {
		switch env.StreamType {
		case tenant.StreamType, vendor.StreamType, store.StreamType, staff.StreamType:
		default:
			continue
		}
		ev, err := p.Registry.Decode(env)
		if err != nil {
			return err
		}
		if err := queue(b, env, ev); err != nil {
			return err
		}
	}
	if b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, b).Close()
}

func queue(b *pgx.Batch, env eventstore.Envelope, ev eventstore.Event) error {
	t, id, v, at := env.Tenant, env.StreamID, env.Version, env.RecordedAt
	switch e := ev.(type) {
	case tenant.Created:
		settings, err := json.Marshal(e.Settings)
		if err != nil {
			return err
		}
		b.Queue(`INSERT INTO tenants (tenant_id, code, name, type, default_currency, settings, implicit_vendor_id, default_store_id, version, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) ON CONFLICT (tenant_id) DO NOTHING`,
			t, e.Code, e.Name, e.Type, e.DefaultCurrency, settings, e.ImplicitVendor, e.DefaultStore, v, at)
	case tenant.SettingsUpdated:
		settings, err := json.Marshal(e.Settings)
		if err != nil {
			return err
		}
		b.Queue(`UPDATE tenants SET settings = $2, version = $3, updated_at = $4 WHERE tenant_id = $1 AND version < $3`, t, settings, v, at)
	case tenant.Renamed:
		b.Queue(`UPDATE tenants SET name = $2, version = $3, updated_at = $4 WHERE tenant_id = $1 AND version < $3`, t, e.Name, v, at)
	case vendor.Created:
		b.Queue(`INSERT INTO vendors (tenant_id, id, name, commission_rate, status, implicit, version, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT (tenant_id, id) DO NOTHING`, t, id, e.Name, e.CommissionRate, e.Status, e.Implicit, v, at)
	case vendor.Updated:
		b.Queue(`UPDATE vendors SET name = $3, commission_rate = $4, status = $5, version = $6, updated_at = $7
WHERE tenant_id = $1 AND id = $2 AND version < $6`, t, id, e.Name, e.CommissionRate, e.Status, v, at)
	case vendor.PayoutAccountSet:
		// The account is the ledger's (finance data); the view keeps the version.
		b.Queue(`UPDATE vendors SET version = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2 AND version < $3`, t, id, v, at)
	case store.Created:
		b.Queue(`INSERT INTO stores (tenant_id, id, code, name, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)
ON CONFLICT (tenant_id, id) DO NOTHING`, t, id, e.Code, e.Name, v, at)
	case store.Renamed:
		b.Queue(`UPDATE stores SET name = $3, version = $4, updated_at = $5 WHERE tenant_id = $1 AND id = $2 AND version < $4`, t, id, e.Name, v, at)
	case store.LocationAdded:
		b.Queue(`INSERT INTO locations (tenant_id, id, store_id, code, name, status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (tenant_id, id) DO NOTHING`, t, e.Location, id, e.Code, e.Name, e.Status, at)
		b.Queue(`UPDATE stores SET version = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2 AND version < $3`, t, id, v, at)
	case store.LocationUpdated:
		b.Queue(`UPDATE locations SET name = $3, status = $4 WHERE tenant_id = $1 AND id = $2`, t, e.Location, e.Name, e.Status)
		b.Queue(`UPDATE stores SET version = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2 AND version < $3`, t, id, v, at)
	case staff.Invited:
		b.Queue(`INSERT INTO staff_members (tenant_id, id, email, name, role, vendor_id, status, platform_admin, version, invited_at)
VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8, $9) ON CONFLICT (tenant_id, id) DO NOTHING`,
			t, id, e.Email, e.Name, e.Role, nullUUID(e.Vendor), e.PlatformAdmin, v, at)
	case staff.RoleChanged:
		b.Queue(`UPDATE staff_members SET role = $3, vendor_id = $4, version = $5 WHERE tenant_id = $1 AND id = $2 AND version < $5`,
			t, id, e.Role, nullUUID(e.Vendor), v)
	case staff.Renamed:
		b.Queue(`UPDATE staff_members SET name = $3, version = $4 WHERE tenant_id = $1 AND id = $2 AND version < $4`, t, id, e.Name, v)
	case staff.Disabled:
		b.Queue(`UPDATE staff_members SET status = 'disabled', version = $3 WHERE tenant_id = $1 AND id = $2 AND version < $3`, t, id, v)
	case staff.Enabled:
		b.Queue(`UPDATE staff_members SET status = 'active', version = $3 WHERE tenant_id = $1 AND id = $2 AND version < $3`, t, id, v)
	case staff.SignedIn:
		b.Queue(`UPDATE staff_members SET last_sign_in_at = $3, version = $4 WHERE tenant_id = $1 AND id = $2 AND version < $4`, t, id, e.At, v)
	case staff.PasswordChanged, staff.SignedOut:
		b.Queue(`UPDATE staff_members SET version = $3 WHERE tenant_id = $1 AND id = $2 AND version < $3`, t, id, v)
	default:
		return fmt.Errorf("tenancy: unhandled event %s", env.Type)
	}
	return nil
}

func nullUUID(u uuid.UUID) *uuid.UUID {
	if u == uuid.Nil {
		return nil
	}
	return &u
}
