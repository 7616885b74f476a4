package app

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/honten/honten/integrations/email"
)

// Integrations configure outbound webhooks and e-mail.
type Integrations struct {
	// WebhookAllowPrivate is WEBHOOK_ALLOW_PRIVATE: let webhook URLs reach
	// private, loopback and link-local addresses (default false; set it
	// for development and tests only: it turns the SSRF guard off).
	WebhookAllowPrivate bool
	// WebhookTimeout is WEBHOOK_TIMEOUT: one delivery attempt, answer
	// included (default 10s).
	WebhookTimeout time.Duration
	// WebhookRetryFor is WEBHOOK_RETRY_FOR: how long a failing delivery is
	// retried, with exponential backoff, before it is dead (default and
	// minimum 24h).
	WebhookRetryFor time.Duration
	// WebhookSecretOverlap is WEBHOOK_SECRET_OVERLAP: how long a
	// rotated-out secret still signs deliveries (default 24h).
	WebhookSecretOverlap time.Duration
	// SMTPURL is SMTP_URL (smtp://user:pass@host:port, or smtps:// for
	// implicit TLS); unset, e-mails are written to the log and marked sent.
	SMTPURL string
	// MailFrom is MAIL_FROM: the sender address of e-mails (default
	// "noreply@honten.example"); the From name is the shop's name.
	MailFrom string
}

func (c *Integrations) fromEnv() error {
	c.WebhookTimeout, c.WebhookRetryFor, c.WebhookSecretOverlap = 10*time.Second, 24*time.Hour, 24*time.Hour
	if v := os.Getenv("WEBHOOK_ALLOW_PRIVATE"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("WEBHOOK_ALLOW_PRIVATE: %w", err)
		}
		c.WebhookAllowPrivate = b
	}
	for name, dst := range map[string]*time.Duration{"WEBHOOK_TIMEOUT": &c.WebhookTimeout, "WEBHOOK_RETRY_FOR": &c.WebhookRetryFor,
		"WEBHOOK_SECRET_OVERLAP": &c.WebhookSecretOverlap} {
		if v := os.Getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return fmt.Errorf("%s: want a duration like 30s, got %q", name, v)
			}
			*dst = d
		}
	}
	if c.WebhookRetryFor < 24*time.Hour {
		return fmt.Errorf("WEBHOOK_RETRY_FOR: deliveries are retried at least 24h, got %s", c.WebhookRetryFor)
	}
	c.SMTPURL = os.Getenv("SMTP_URL")
	if c.SMTPURL != "" {
		if _, err := email.ParseSMTPURL(c.SMTPURL); err != nil {
			return fmt.Errorf("SMTP_URL: %w", err)
		}
	}
	c.MailFrom = envOr("MAIL_FROM", "noreply@honten.example")
	return nil
}
