package email

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/tenant"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

// The built-in templates, parsed once per name (each file defines
// "subject", "text" and "html"): text/template for the subject and the
// text part, html/template (contextual escaping) for the HTML part.
var (
	textTemplates = map[string]*texttemplate.Template{}
	htmlTemplates = map[string]*htmltemplate.Template{}
)

func init() {
	for _, name := range tenant.EmailTemplateNames {
		file := "templates/" + name + ".tmpl"
		textTemplates[name] = texttemplate.Must(texttemplate.ParseFS(templateFS, file))
		htmlTemplates[name] = htmltemplate.Must(htmltemplate.ParseFS(templateFS, file))
	}
}

// Line is an order line as the e-mails show it.
type Line struct {
	Title    string
	Quantity int64
	Amount   string
}

// Data is what the templates may use. Amounts and dates are formatted
// already (¥12,345; 2026年12月12日(土) in Japan time).
type Data struct {
	Shop         string
	OrderNumber  string
	CustomerName string
	Lines        []Line
	Total        string
	// Amount is the amount to transfer (order placed, reminder), received
	// (payment confirmed), to pay the carrier (shipped, COD) or refunded.
	Amount string
	// COD is true for a cash-on-delivery order.
	COD bool
	// Bank, AccountType, Reference and DueAt are a bank transfer's.
	Bank        tenant.BankAccount
	AccountType string
	Reference   string
	DueAt       string
	Carrier     string
	TrackingNo  string
	Reason      string
	PaidAt      string
	// Code and ExpiresAt are a customer's one-time code (password reset,
	// e-mail verification) and when it stops working.
	Code      string
	ExpiresAt string
}

// Rendered is an e-mail's subject and bodies.
type Rendered struct {
	Subject, Text, HTML string
}

// Render renders template name with d, each part from the shop's override
// when it has one (settings.email_templates) and from the built-in
// template otherwise. A text override without an HTML one gets an HTML
// part made from its text.
func Render(name string, d Data, override *tenant.EmailTemplate) (Rendered, error) {
	var r Rendered
	builtin, ok := textTemplates[name]
	if !ok {
		return r, fmt.Errorf("email: no template %q", name)
	}
	var o tenant.EmailTemplate
	if override != nil {
		o = *override
	}
	textPart := func(part, src string) (string, error) {
		var b bytes.Buffer
		if src == "" {
			err := builtin.ExecuteTemplate(&b, part, d)
			return b.String(), err
		}
		t, err := texttemplate.New(part).Parse(src)
		if err == nil {
			err = t.Execute(&b, d)
		}
		return b.String(), err
	}
	var err error
	if r.Subject, err = textPart("subject", o.Subject); err != nil {
		return r, fmt.Errorf("email %s: subject: %w", name, err)
	}
	r.Subject = strings.Join(strings.Fields(r.Subject), " ")
	if r.Text, err = textPart("text", o.Text); err != nil {
		return r, fmt.Errorf("email %s: text: %w", name, err)
	}
	r.Text = strings.TrimLeft(r.Text, "\n")
	var b bytes.Buffer
	switch {
	case o.HTML != "":
		t, err := htmltemplate.New(name).Parse(o.HTML)
		if err == nil {
			err = t.Execute(&b, d)
		}
		if err != nil {
			return r, fmt.Errorf("email %s: html: %w", name, err)
		}
	case o.Text != "":
		b.WriteString("<p>" + strings.ReplaceAll(htmltemplate.HTMLEscapeString(r.Text), "\n", "<br>\n") + "</p>\n")
	default:
		if err := htmlTemplates[name].ExecuteTemplate(&b, "html", d); err != nil {
			return r, fmt.Errorf("email %s: html: %w", name, err)
		}
	}
	r.HTML = wrapHTML(r.Subject, strings.TrimLeft(b.String(), "\n"))
	return r, nil
}

func wrapHTML(title, body string) string {
	return "<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\"><title>" + htmltemplate.HTMLEscapeString(title) +
		"</title></head>\n<body>\n" + body + "</body></html>\n"
}

// Yen formats an amount as the e-mails show it: ¥12,345 for yen, else the
// amount and its currency.
func Yen(m money.Money) string {
	s := m.AmountString()
	if m.Currency() != money.JPY {
		return s + " " + string(m.Currency())
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-¥" + b.String()
	}
	return "¥" + b.String()
}

var jst = time.FixedZone("JST", 9*60*60)

var weekdays = []string{"日", "月", "火", "水", "木", "金", "土"}

// Date formats t as a Japanese date in Japan time: 2026年12月12日(土).
func Date(t time.Time) string {
	t = t.In(jst)
	return fmt.Sprintf("%d年%d月%d日(%s)", t.Year(), int(t.Month()), t.Day(), weekdays[t.Weekday()])
}

// DateTime is Date with the time of day: 2026年12月12日(土) 23:59.
func DateTime(t time.Time) string {
	return Date(t) + t.In(jst).Format(" 15:04")
}

// AccountTypeJa is the Japanese name of a bank account type.
func AccountTypeJa(t string) string {
	switch t {
	case "ordinary":
		return "普通"
	case "current":
		return "当座"
	case "savings":
		return "貯蓄"
	}
	return t
}

// CarrierJa is the Japanese name of a carrier code, or the code.
func CarrierJa(c string) string {
	switch strings.ToLower(c) {
	case "yamato":
		return "ヤマト運輸"
	case "sagawa":
		return "佐川急便"
	case "japanpost", "japan_post", "yupack":
		return "日本郵便"
	case "seino":
		return "西濃運輸"
	case "fukutsu":
		return "福山通運"
	}
	return c
}
