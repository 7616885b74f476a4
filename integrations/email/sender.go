package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/smtp"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/internal/database"
)

// SMTPConfig is where mail goes: SMTP_URL parsed.
type SMTPConfig struct {
	// Addr is host:port.
	Addr string
	Host string
	// User and Password authenticate with AUTH PLAIN when User is set
	// (only over TLS, or to a server on this machine).
	User, Password string
	// ImplicitTLS is smtps:// (TLS from the first byte, port 465);
	// otherwise STARTTLS is used when the server offers it.
	ImplicitTLS bool
}

// ParseSMTPURL parses smtp://user:pass@host:port (default port 587) or
// smtps://… (default port 465).
func ParseSMTPURL(raw string) (SMTPConfig, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return SMTPConfig{}, fmt.Errorf("want smtp://user:pass@host:port: %w", err)
	}
	var c SMTPConfig
	port := "587"
	switch u.Scheme {
	case "smtp":
	case "smtps":
		c.ImplicitTLS, port = true, "465"
	default:
		return SMTPConfig{}, fmt.Errorf("want smtp:// or smtps://, got %q", u.Scheme)
	}
	c.Host = u.Hostname()
	if c.Host == "" {
		return SMTPConfig{}, errors.New("want a host: smtp://user:pass@host:port")
	}
	if u.Port() != "" {
		port = u.Port()
	}
	c.Addr = net.JoinHostPort(c.Host, port)
	if u.User != nil {
		c.User = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	return c, nil
}

// Send sends msg from from to to, within ctx's deadline (or a minute).
func (c SMTPConfig) Send(ctx context.Context, from, to string, msg []byte) error {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(time.Minute)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", c.Addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetDeadline(deadline); err != nil {
		return err
	}
	if c.ImplicitTLS {
		conn = tls.Client(conn, &tls.Config{ServerName: c.Host, MinVersion: tls.VersionTLS12})
	}
	cl, err := smtp.NewClient(conn, c.Host)
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := cl.Hello("honten"); err != nil {
		return err
	}
	if ok, _ := cl.Extension("STARTTLS"); ok && !c.ImplicitTLS {
		if err := cl.StartTLS(&tls.Config{ServerName: c.Host, MinVersion: tls.VersionTLS12}); err != nil {
			return err
		}
	}
	if c.User != "" {
		if err := cl.Auth(smtp.PlainAuth("", c.User, c.Password, c.Host)); err != nil {
			return err
		}
	}
	if err := cl.Mail(from); err != nil {
		return err
	}
	if err := cl.Rcpt(to); err != nil {
		return err
	}
	w, err := cl.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return cl.Quit()
}

// Sender sends the outbox's due messages.
type Sender struct {
	Pool *pgxpool.Pool
	// SMTP is where messages go; nil writes them to the log and marks
	// them sent.
	SMTP *SMTPConfig
	// From is the sender address (MAIL_FROM).
	From string
	Log  *slog.Logger
	Now  func() time.Time
	// Every is how often the outbox is polled; 0 means 5s.
	Every time.Duration
	// Gather is how long a sender woken by a nudge waits before it polls,
	// so that one poll (and one commit marking them) takes the messages
	// written meanwhile: under load, a poll and a mark for each order's
	// mail were two of an order's commits. 0 means 50 ms; negative, none.
	Gather time.Duration
	// FirstRetry is the delay after a failed attempt, doubling per
	// attempt up to MaxRetryDelay; 0 means 1 minute (at most 1 hour).
	FirstRetry, MaxRetryDelay time.Duration
	// MaxAttempts is how many attempts a message gets before it is
	// failed; 0 means 12 (about a day with the default delays).
	MaxAttempts int
	// RemindersFunc, when set, writes the reminders due (the transfer
	// deadline reminder) once a minute.
	RemindersFunc func(ctx context.Context, now time.Time) error

	nudgeOnce sync.Once
	nudge     chan struct{}
}

func (s *Sender) nudges() chan struct{} {
	s.nudgeOnce.Do(func() { s.nudge = make(chan struct{}, 1) })
	return s.nudge
}

// Nudge wakes an idle sender of this process at once (a message was just
// written); others find it at their next poll.
func (s *Sender) Nudge() {
	select {
	case s.nudges() <- struct{}{}:
	default:
	}
}

func (s *Sender) defaults() {
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Gather == 0 {
		s.Gather = 50 * time.Millisecond
	}
	if s.Every <= 0 {
		s.Every = 5 * time.Second
	}
	if s.FirstRetry <= 0 {
		s.FirstRetry = time.Minute
	}
	if s.MaxRetryDelay <= 0 {
		s.MaxRetryDelay = time.Hour
	}
	if s.MaxAttempts <= 0 {
		s.MaxAttempts = 12
	}
}

// Run sends due messages until ctx ends, whenever this process holds the
// mail lock (one active sender cluster-wide; others stand by).
func (s *Sender) Run(ctx context.Context) error {
	s.defaults()
	for ctx.Err() == nil {
		if err := s.lead(ctx); err != nil && ctx.Err() == nil {
			s.Log.Error("email: sender stopped; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	return nil
}

func (s *Sender) lead(ctx context.Context) error {
	conn, err := s.Pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	_, err = database.LeadWithLock(ctx, conn, "honten.worker:email", s.sendWhileLeading)
	return err
}

// sendWhileLeading sends due messages until ctx ends, which it does also
// when the mail lock's session stops answering (another process may take
// over).
func (s *Sender) sendWhileLeading(ctx context.Context) error {
	var lastReminders time.Time
	for ctx.Err() == nil {
		if s.RemindersFunc != nil && time.Since(lastReminders) >= time.Minute {
			if err := s.RemindersFunc(ctx, s.Now()); err != nil && ctx.Err() == nil {
				s.Log.Error("email: reminders", "err", err)
			}
			lastReminders = time.Now()
		}
		n, err := s.SendDue(ctx, sendBatch)
		if err != nil {
			return err
		}
		if n == sendBatch {
			continue // a full batch: more may be due
		}
		// A short batch took every message that was due: the next is
		// written later (a nudge) or falls due later (the poll).
		select {
		case <-ctx.Done():
		case <-s.nudges():
			if s.Gather > 0 {
				select {
				case <-ctx.Done():
				case <-time.After(s.Gather):
				}
			}
		case <-time.After(s.Every):
		}
	}
	return ctx.Err()
}

// sendBatch is the most messages one poll of the outbox sends.
const sendBatch = 50

type outgoing struct {
	id                      uuid.UUID
	tenant                  tenant.ID
	template, to, fromName  string
	subject, textBody, html string
	attempts                int
}

// SendDue sends up to limit messages that are due and returns how many it
// attempted.
func (s *Sender) SendDue(ctx context.Context, limit int) (int, error) {
	s.defaults()
	const q = `SELECT id, tenant_id, template, to_address, from_name, subject, text_body, html_body, attempts FROM email_outbox
WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2`
	rows, err := s.Pool.Query(ctx, q, s.Now(), limit)
	if err != nil {
		return 0, fmt.Errorf("email outbox: %w", err)
	}
	due, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (outgoing, error) {
		var o outgoing
		err := r.Scan(&o.id, &o.tenant, &o.template, &o.to, &o.fromName, &o.subject, &o.textBody, &o.html, &o.attempts)
		return o, err
	})
	if err != nil {
		return 0, fmt.Errorf("email outbox: %w", err)
	}
	// The outcomes are marked together: one pipelined batch, one
	// transaction, at the end of the poll's messages or once a second
	// while a slow server takes them. A crash before a mark sends its
	// messages again (delivery is at least once, as it was for one
	// message between its send and its mark); that is at most a second
	// of sending.
	marks := &pgx.Batch{}
	var since time.Time
	flush := func(ctx context.Context) error {
		if marks.Len() == 0 {
			return nil
		}
		err := s.Pool.SendBatch(ctx, marks).Close()
		marks = &pgx.Batch{}
		if err != nil {
			return fmt.Errorf("email outbox: %w", err)
		}
		return nil
	}
	for _, o := range due {
		if marks.Len() == 0 {
			since = time.Now()
		}
		if err := s.send(ctx, o, marks); err != nil {
			// Stopping: what was sent is marked all the same.
			return 0, errors.Join(err, flush(context.WithoutCancel(ctx)))
		}
		if time.Since(since) >= markEvery {
			if err := flush(ctx); err != nil {
				return 0, err
			}
		}
	}
	return len(due), flush(ctx)
}

// markEvery is the longest a sent message waits for its mark while the
// rest of its poll's messages are sent.
const markEvery = time.Second

// send sends o and queues its outcome's mark in marks.
func (s *Sender) send(ctx context.Context, o outgoing, marks *pgx.Batch) error {
	now := s.Now()
	msg := Message{FromName: o.fromName, From: s.From, To: o.to, Subject: o.subject, Text: o.textBody, HTML: o.html,
		MessageID: o.id.String() + "@honten", Date: now}
	var sendErr error
	if s.SMTP == nil {
		// Development: no SMTP server configured. The log names the
		// message, never its address or text (personal data stays out of
		// logs: the message itself is in email_outbox).
		s.Log.Info("email (SMTP_URL unset: logged, not sent)", "id", o.id, "template", o.template, "to_domain", domainOf(o.to))
	} else {
		sctx, cancel := context.WithTimeout(ctx, time.Minute)
		sendErr = s.SMTP.Send(sctx, s.From, o.to, msg.Bytes())
		cancel()
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if sendErr == nil {
		const q = `UPDATE email_outbox SET status = 'sent', attempts = attempts + 1, sent_at = $2, last_error = NULL WHERE id = $1 AND status = 'pending'`
		marks.Queue(q, o.id, now)
		return nil
	}
	n := o.attempts + 1
	delay := s.FirstRetry
	for i := 1; i < n && delay < s.MaxRetryDelay; i++ {
		delay *= 2
	}
	delay = min(delay, s.MaxRetryDelay)
	status := "pending"
	if n >= s.MaxAttempts {
		status = "failed"
		s.Log.Warn("email: failed after its last attempt", "id", o.id, "template", o.template, "attempts", n, "err", sendErr)
	}
	msgErr := sendErr.Error()
	if len(msgErr) > 500 {
		msgErr = msgErr[:500]
	}
	const q = `UPDATE email_outbox SET status = $2, attempts = attempts + 1, next_attempt_at = $3, last_error = $4 WHERE id = $1 AND status = 'pending'`
	marks.Queue(q, o.id, status, now.Add(delay), msgErr)
	return nil
}

// domainOf is the domain of address (what a log may say of it).
func domainOf(address string) string {
	if i := strings.LastIndexByte(address, '@'); i >= 0 {
		return address[i+1:]
	}
	return ""
}
