package email

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

// The e-mails that carry a customer's one-time code.
const (
	TemplatePasswordReset = "customer_password_reset"
	TemplateVerifyEmail   = "customer_verify_email"
)

// CustomerCode is a one-time code e-mailed to a customer account: a
// password reset or an e-mail verification.
type CustomerCode struct {
	// Template is TemplatePasswordReset or TemplateVerifyEmail.
	Template string
	// DedupKey makes a second write of the same message add nothing.
	DedupKey string
	Customer uuid.UUID
	To       string
	// Name is the customer's name when the caller knows it ("お客様" otherwise).
	Name      string
	Code      string
	ExpiresAt time.Time
}

// WriteCustomerCode renders c's template for shop tn — the shop's own
// subject and body when its settings override them, the built-in Japanese
// ones otherwise — and writes it to the outbox through db (the command's
// transaction), like the order e-mails: the sender delivers both the same
// way. It reports whether it wrote a message.
func WriteCustomerCode(ctx context.Context, db eventstore.Querier, tn *tenant.Tenant, c CustomerCode) (bool, error) {
	if c.Template != TemplatePasswordReset && c.Template != TemplateVerifyEmail {
		return false, fmt.Errorf("email: %q is not a customer code template", c.Template)
	}
	d := Data{Shop: tn.Name(), CustomerName: c.Name, Code: c.Code, ExpiresAt: DateTime(c.ExpiresAt)}
	r, err := RenderFor(tn, c.Template, d)
	if err != nil {
		return false, err
	}
	return Enqueue(ctx, db, Outgoing{Tenant: tn.ID(), DedupKey: c.DedupKey, Template: c.Template, To: c.To,
		FromName: tn.Name(), Customer: c.Customer, Rendered: r})
}

// RenderFor renders template name with d for shop tn: from the shop's
// override when its settings hold one, falling back to the built-in
// template when the override does not render (a shop's broken template
// never loses the message).
func RenderFor(tn *tenant.Tenant, name string, d Data) (Rendered, error) {
	var override *tenant.EmailTemplate
	if o, ok := tn.Settings().EmailTemplates[name]; ok {
		override = &o
	}
	r, err := Render(name, d, override)
	if err != nil && override != nil {
		r, err = Render(name, d, nil)
	}
	return r, err
}
