package email_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/integrations/email"
	"github.com/honten/honten/internal/pgtest"
)

// smtpServer is a tiny SMTP server for tests: it answers EHLO, AUTH PLAIN,
// MAIL, RCPT, DATA, RSET, NOOP and QUIT, refuses MAIL with 451 while
// refuse says so, and hands each message it accepts to got.
type smtpServer struct {
	addr   string
	refuse func(n int) bool
	got    chan received

	mu    sync.Mutex
	tries int
	auth  []string
}

type received struct {
	from, to string
	data     []byte
}

func newSMTPServer(t *testing.T) *smtpServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &smtpServer{addr: l.Addr().String(), got: make(chan received, 100)}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	tp := textproto.NewConn(c)
	var msg received
	_ = tp.PrintfLine("220 test.local ESMTP")
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			_ = tp.PrintfLine("250-test.local")
			_ = tp.PrintfLine("250-8BITMIME")
			_ = tp.PrintfLine("250 AUTH PLAIN")
		case "HELO", "RSET", "NOOP":
			_ = tp.PrintfLine("250 OK")
		case "AUTH":
			s.mu.Lock()
			s.auth = append(s.auth, arg)
			s.mu.Unlock()
			_ = tp.PrintfLine("235 2.7.0 Authentication successful")
		case "MAIL":
			s.mu.Lock()
			s.tries++
			n := s.tries
			s.mu.Unlock()
			if s.refuse != nil && s.refuse(n) {
				_ = tp.PrintfLine("451 4.3.0 try again later")
				continue
			}
			msg = received{from: arg}
			_ = tp.PrintfLine("250 OK")
		case "RCPT":
			msg.to = arg
			_ = tp.PrintfLine("250 OK")
		case "DATA":
			_ = tp.PrintfLine("354 go ahead")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			msg.data = data
			s.got <- msg
			_ = tp.PrintfLine("250 OK queued")
		case "QUIT":
			_ = tp.PrintfLine("221 bye")
			return
		default:
			_ = tp.PrintfLine("502 unknown")
		}
	}
}

// parsed is a received message decoded as a mail client does.
type parsed struct {
	subject, from, fromName string
	text, html              string
	textCTE, htmlCTE        string
}

func parse(t *testing.T, data []byte) parsed {
	t.Helper()
	m, err := mail.ReadMessage(bufio.NewReader(strings.NewReader(string(data))))
	require.NoError(t, err)
	var dec mime.WordDecoder
	var p parsed
	p.subject, err = dec.DecodeHeader(m.Header.Get("Subject"))
	require.NoError(t, err)
	from, err := mail.ParseAddress(m.Header.Get("From"))
	require.NoError(t, err)
	p.from, p.fromName = from.Address, from.Name
	require.Equal(t, "1.0", m.Header.Get("MIME-Version"))
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/alternative", mt)
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := mr.NextRawPart() // raw: the transfer encoding is checked, then decoded here
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		raw, err := io.ReadAll(part)
		require.NoError(t, err)
		cte := part.Header.Get("Content-Transfer-Encoding")
		require.Equal(t, "base64", cte)
		lines := strings.Fields(string(raw)) // CRLF on the wire, LF after the test server's dot-reader
		for _, l := range lines {
			require.LessOrEqual(t, len(l), 76)
		}
		body, err := base64.StdEncoding.DecodeString(strings.Join(lines, ""))
		require.NoError(t, err)
		ct, cp, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		require.NoError(t, err)
		require.Equal(t, "UTF-8", strings.ToUpper(cp["charset"]))
		switch ct {
		case "text/plain":
			p.text, p.textCTE = string(body), cte
		case "text/html":
			p.html, p.htmlCTE = string(body), cte
		}
	}
	return p
}

// Headers are ASCII on the wire (encoded words) and the Japanese comes
// back intact in both parts.
func TestMessageIsMultipartWithEncodedJapaneseHeaders(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("ご注文ありがとうございます。", 8)
	msg := email.Message{FromName: "本店デモショップ", From: "shop@example.jp", To: "taro@example.jp", Subject: "【本店】" + long,
		Text: "山田 太郎 様\n振込期限：2026年12月12日(土)\n", HTML: "<p>山田 太郎 様</p>"}
	data := msg.Bytes()
	head, _, _ := strings.Cut(string(data), "\r\n\r\n")
	words := regexp.MustCompile(`=\?[^?]+\?[BbQq]\?[^?]*\?=`)
	for _, l := range strings.Split(head, "\r\n") {
		require.LessOrEqual(t, len(l), 998, "header lines are folded")
		for _, w := range words.FindAllString(l, -1) {
			require.LessOrEqual(t, len(w), 75, "an encoded word is at most 75 characters")
		}
		for _, r := range l {
			require.Less(t, r, rune(128), "headers are ASCII: %q", l)
		}
	}
	p := parse(t, data)
	require.Equal(t, "【本店】"+long, p.subject)
	require.Equal(t, "本店デモショップ", p.fromName)
	require.Equal(t, msg.Text, p.text)
	require.Equal(t, msg.HTML, p.html)
}

// The sender retries a message the server refuses for a while (451), then
// delivers it once, decoded as it was written; AUTH PLAIN carries the URL's
// credentials.
func TestSenderRetriesThenDeliversOverSMTP(t *testing.T) {
	t.Parallel()
	srv := newSMTPServer(t)
	srv.refuse = func(n int) bool { return n <= 2 }
	pool := pgtest.New(t)
	cfg, err := email.ParseSMTPURL("smtp://mailer:s3cret@" + srv.addr)
	require.NoError(t, err)
	ten := tenant.NewID()
	r, err := email.Render("shipped", email.Data{Shop: "本店デモショップ", OrderNumber: "HT-000042", CustomerName: "山田 太郎",
		Carrier: email.CarrierJa("yamato"), TrackingNo: "1234-5678-9012"}, nil)
	require.NoError(t, err)
	ok, err := email.Enqueue(context.Background(), pool, email.Outgoing{Tenant: ten, DedupKey: "e1:shipped", Template: "shipped",
		To: "taro@example.jp", FromName: "本店デモショップ", Rendered: r})
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = email.Enqueue(context.Background(), pool, email.Outgoing{Tenant: ten, DedupKey: "e1:shipped", Template: "shipped",
		To: "taro@example.jp", FromName: "本店デモショップ", Rendered: r})
	require.NoError(t, err)
	require.False(t, ok, "the same event and template write one message")

	s := &email.Sender{Pool: pool, SMTP: &cfg, From: "noreply@shop.example.jp", Every: 10 * time.Millisecond,
		FirstRetry: time.Millisecond, MaxRetryDelay: 5 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })

	var got received
	select {
	case got = <-srv.got:
	case <-time.After(30 * time.Second):
		t.Fatal("no message arrived")
	}
	require.True(t, strings.HasPrefix(got.from, "FROM:<noreply@shop.example.jp>"), got.from)
	require.Equal(t, "TO:<taro@example.jp>", got.to)
	p := parse(t, got.data)
	require.Equal(t, "【本店デモショップ】商品を発送しました（注文番号 HT-000042）", p.subject)
	require.Equal(t, "本店デモショップ", p.fromName)
	require.Contains(t, p.text, "山田 太郎 様")
	require.Contains(t, p.text, "配送業者：ヤマト運輸")
	require.Contains(t, p.text, "お問い合わせ伝票番号：1234-5678-9012")
	require.Contains(t, p.html, "<td>ヤマト運輸</td>")
	require.Contains(t, p.html, "<html lang=\"ja\">")
	require.Eventually(t, func() bool {
		var status string
		var attempts int
		require.NoError(t, pool.QueryRow(context.Background(), `SELECT status, attempts FROM email_outbox WHERE dedup_key = 'e1:shipped'`).Scan(&status, &attempts))
		return status == "sent" && attempts == 3
	}, 10*time.Second, 5*time.Millisecond)
	srv.mu.Lock()
	defer srv.mu.Unlock()
	plain, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(srv.auth[0], "PLAIN "))
	require.NoError(t, err)
	require.Equal(t, "\x00mailer\x00s3cret", string(plain))
	select {
	case extra := <-srv.got:
		t.Fatalf("a second message arrived: %s", extra.data)
	default:
	}
}

// Without SMTP_URL a message is logged and marked sent; one the server
// keeps refusing is failed after the last attempt.
func TestSenderWithoutSMTPAndGivingUp(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	ctx := context.Background()
	ten := tenant.NewID()
	for _, key := range []string{"a", "b"} {
		_, err := email.Enqueue(ctx, pool, email.Outgoing{Tenant: ten, DedupKey: key, Template: "cancelled", To: "x@example.jp",
			Rendered: email.Rendered{Subject: "件名", Text: "本文"}})
		require.NoError(t, err)
	}
	n, err := (&email.Sender{Pool: pool, From: "noreply@example.jp"}).SendDue(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	srv := newSMTPServer(t)
	srv.refuse = func(int) bool { return true }
	cfg, err := email.ParseSMTPURL("smtp://" + srv.addr)
	require.NoError(t, err)
	s := &email.Sender{Pool: pool, SMTP: &cfg, From: "noreply@example.jp", FirstRetry: time.Nanosecond, MaxRetryDelay: time.Nanosecond, MaxAttempts: 3}
	for range 3 {
		_, err := s.SendDue(ctx, 10)
		require.NoError(t, err)
	}
	rows, err := pool.Query(ctx, `SELECT dedup_key || ':' || status || ':' || attempts FROM email_outbox ORDER BY dedup_key`)
	require.NoError(t, err)
	var got []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		got = append(got, s)
	}
	require.Equal(t, []string{"a:sent:1", "b:failed:3"}, got)
	_, err = email.ParseSMTPURL("http://x")
	require.Error(t, err)
}
