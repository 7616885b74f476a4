package email

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"mime"
	"net/mail"
	"strings"
	"time"
)

// Message is one e-mail to send.
type Message struct {
	FromName, From string
	To             string
	Subject        string
	Text, HTML     string
	// MessageID is the id part of Message-ID (without angle brackets); a
	// random one when empty.
	MessageID string
	Date      time.Time
}

// Bytes renders m as an RFC 5322 message: UTF-8 headers as RFC 2047
// encoded words, and a multipart/alternative body of a text/plain and (when
// m.HTML is set) a text/html part, each base64 in lines of 76 characters.
func (m Message) Bytes() []byte {
	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	from := (&mail.Address{Address: m.From}).String()
	if m.FromName != "" {
		from = encodeHeader(m.FromName) + " " + from
	}
	header("From", from)
	header("To", (&mail.Address{Address: m.To}).String())
	header("Subject", encodeHeader(m.Subject))
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}
	header("Date", date.Format(time.RFC1123Z))
	id := m.MessageID
	if id == "" {
		id = randomHex(16) + "@honten"
	}
	header("Message-ID", "<"+id+">")
	header("MIME-Version", "1.0")
	if m.HTML == "" {
		header("Content-Type", "text/plain; charset=UTF-8")
		header("Content-Transfer-Encoding", "base64")
		b.WriteString("\r\n")
		writeBase64(&b, m.Text)
		return b.Bytes()
	}
	boundary := "honten-" + randomHex(12)
	header("Content-Type", fmt.Sprintf("multipart/alternative; boundary=%q", boundary))
	b.WriteString("\r\n")
	for _, p := range []struct{ typ, body string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
		b.WriteString("--" + boundary + "\r\n")
		b.WriteString("Content-Type: " + p.typ + "; charset=UTF-8\r\n")
		b.WriteString("Content-Transfer-Encoding: base64\r\n\r\n")
		writeBase64(&b, p.body)
	}
	b.WriteString("--" + boundary + "--\r\n")
	return b.Bytes()
}

// encodeHeader encodes a header value as RFC 2047 B-encoded UTF-8 words
// when it is not plain ASCII, folding between words.
func encodeHeader(s string) string {
	enc := mime.BEncoding.Encode("UTF-8", s)
	return strings.ReplaceAll(enc, "?= =?", "?=\r\n =?")
}

func writeBase64(b *bytes.Buffer, s string) {
	enc := base64.StdEncoding.EncodeToString([]byte(s))
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
}

func randomHex(n int) string {
	buf := make([]byte, n)
	_, _ = rand.Read(buf) // never fails (crypto/rand)
	return hex.EncodeToString(buf)
}
