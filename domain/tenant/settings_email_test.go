package tenant_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/tenant"
)

// A shop's e-mail templates are checked when saved: known names, one-line
// subjects, templates that parse.
func TestEmailTemplatesAreValidated(t *testing.T) {
	t.Parallel()
	s := tenant.DefaultSettings(money.JPY)
	s.EmailTemplates = map[string]tenant.EmailTemplate{"shipped": {Subject: "{{.Shop}}：発送しました", Text: "{{.CustomerName}} 様"}}
	require.NoError(t, s.Validate(money.JPY))
	s.EmailTemplates = map[string]tenant.EmailTemplate{
		"nope":      {Subject: "x"},
		"cancelled": {Subject: "two\nlines", Text: "{{.Shop", HTML: "{{if}}"},
	}
	e, ok := errs.As(s.Validate(money.JPY))
	require.True(t, ok)
	var fields []string
	for _, f := range e.Fields {
		fields = append(fields, f.Field)
	}
	require.ElementsMatch(t, []string{"email_templates.nope", "email_templates.cancelled.subject", "email_templates.cancelled.text",
		"email_templates.cancelled.html"}, fields)
}
