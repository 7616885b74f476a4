package email

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

// Outgoing is a message to write to the outbox.
type Outgoing struct {
	Tenant tenant.ID
	// DedupKey makes a second write of the same message add nothing (for
	// a reaction: the event id and the template).
	DedupKey string
	Template string
	To       string
	FromName string
	// Customer, when set, is the customer account the message is about
	// (its erasure erases the message).
	Customer uuid.UUID
	Rendered
}

// Enqueue writes o to the e-mail outbox unless a message with its dedup
// key is there already; it reports whether it wrote one.
func Enqueue(ctx context.Context, db eventstore.Querier, o Outgoing) (bool, error) {
	const q = `INSERT INTO email_outbox (id, tenant_id, dedup_key, template, to_address, from_name, subject, text_body, html_body, customer_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (tenant_id, dedup_key) DO NOTHING`
	var customer *uuid.UUID
	if o.Customer != uuid.Nil {
		customer = &o.Customer
	}
	tag, err := db.Exec(ctx, q, uuid.Must(uuid.NewV7()), o.Tenant, o.DedupKey, o.Template, o.To, o.FromName, o.Subject, o.Text, o.HTML, customer)
	if err != nil {
		return false, fmt.Errorf("email outbox %s: %w", o.Template, err)
	}
	return tag.RowsAffected() == 1, nil
}
