package zengin

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"golang.org/x/text/encoding/japanese"
)

// AccountType is the 預金種目 code.
type AccountType int

// Account types as coded in Zengin files.
const (
	Ordinary AccountType = 1 // 普通預金
	Current  AccountType = 2 // 当座預金
	Savings  AccountType = 4 // 貯蓄預金
	Other    AccountType = 9 // その他
)

func (a AccountType) valid() bool {
	return a == Ordinary || a == Current || a == Savings || a == Other
}

// jisByte reports whether b is a single-byte cp932 character that may appear
// in a Zengin record: printable ASCII or half-width katakana.
func jisByte(b byte) bool {
	return (b >= 0x20 && b <= 0x7E) || (b >= 0xA1 && b <= 0xDF)
}

// splitRecords cuts data into records of n bytes, each optionally followed
// by CRLF or LF. A trailing EOF mark (0x1A) and line breaks are ignored.
// Bytes outside JIS X 0201 are an encoding error.
func splitRecords(data []byte, n int) ([][]byte, error) {
	data = bytes.TrimRight(data, "\x1a\r\n")
	if len(data) == 0 {
		return nil, &RecordError{Record: 1, Field: "record", Err: fmt.Errorf("%w: empty file", ErrTruncated)}
	}
	lines := bytes.IndexByte(data, '\n') >= 0
	for i, b := range data {
		if jisByte(b) || b == '\r' || b == '\n' {
			continue
		}
		rec := i/n + 1
		if lines {
			rec = bytes.Count(data[:i], []byte{'\n'}) + 1
		}
		hint := ""
		if utf8.Valid(data) {
			hint = " (the file looks like UTF-8; bank files are cp932)"
		}
		return nil, &RecordError{Record: rec, Field: "encoding", Err: fmt.Errorf("%w: byte 0x%02X%s", ErrEncoding, b, hint)}
	}
	var recs [][]byte
	for p := 0; p < len(data); {
		no := len(recs) + 1
		rest := data[p:]
		if len(rest) < n {
			return nil, &RecordError{Record: no, Field: "record", Err: fmt.Errorf("%w: %d bytes, want %d", ErrTruncated, len(rest), n)}
		}
		rec := rest[:n]
		if i := bytes.IndexAny(rec, "\r\n"); i >= 0 {
			return nil, &RecordError{Record: no, Field: "record", Err: fmt.Errorf("%w: line break after %d bytes, want %d", ErrTruncated, i, n)}
		}
		recs = append(recs, rec)
		p += n
		switch {
		case bytes.HasPrefix(data[p:], []byte("\r\n")):
			p += 2
		case bytes.HasPrefix(data[p:], []byte("\n")):
			p++
		}
	}
	return recs, nil
}

// jisTable maps every byte a Zengin record may hold to its character, as
// golang.org/x/text's Shift_JIS (cp932) decoder reads it, and back. It is
// built once so that records are decoded without a decoder per field.
var jisTable = func() (t struct {
	dec [256]rune
	enc map[rune]byte
}) {
	t.enc = make(map[rune]byte, 190)
	dec := japanese.ShiftJIS.NewDecoder()
	for b := 0; b < 256; b++ {
		if !jisByte(byte(b)) {
			continue
		}
		s, err := dec.Bytes([]byte{byte(b)})
		r, n := utf8.DecodeRune(s)
		if err != nil || n != len(s) || r == utf8.RuneError {
			panic(fmt.Sprintf("zengin: cp932 byte 0x%02X does not decode to one character", b))
		}
		t.dec[b] = r
		t.enc[r] = byte(b)
	}
	return t
}()

// decodeJIS decodes single-byte cp932 (already checked by splitRecords).
func decodeJIS(b []byte) string {
	var s strings.Builder
	s.Grow(len(b) * 3)
	for _, c := range b {
		s.WriteRune(jisTable.dec[c])
	}
	return s.String()
}

// encodeJIS encodes s as single-byte cp932; ok is false when a character
// has no single-byte form.
func encodeJIS(s string) (enc []byte, ok bool) {
	enc = make([]byte, 0, len(s))
	for _, r := range s {
		c, found := jisTable.enc[r]
		if !found {
			return nil, false
		}
		enc = append(enc, c)
	}
	return enc, true
}

// fields reads fixed-width fields of one record in order.
type fields struct {
	rec []byte
	no  int
	pos int
	now time.Time
	err error
}

func (f *fields) fail(field string, err error) {
	if f.err == nil {
		f.err = &RecordError{Record: f.no, Field: field, Err: err}
	}
}

func (f *fields) take(w int) string {
	s := f.rec[f.pos : f.pos+w]
	f.pos += w
	return string(s)
}

// digits reads a required numeric field.
func (f *fields) digits(field string, w int) string {
	s := f.take(w)
	if !isDigits(s) {
		f.fail(field, fmt.Errorf("%w %q", ErrNotNumber, strings.TrimSpace(s)))
	}
	return s
}

// code reads an optional numeric code: spaces or all zeros are "".
func (f *fields) code(field string, w int) string {
	s := f.take(w)
	if strings.TrimLeft(s, " ") == "" || strings.TrimLeft(s, "0") == "" {
		return ""
	}
	if !isDigits(s) {
		f.fail(field, fmt.Errorf("%w %q", ErrNotNumber, s))
	}
	return s
}

// amount reads a yen amount.
func (f *fields) amount(field string, w int) decimal.Decimal {
	s := f.digits(field, w)
	if f.err != nil {
		return decimal.Decimal{}
	}
	d, _ := decimal.NewFromString(s) // digits only: cannot fail
	return d
}

// number reads a count.
func (f *fields) number(field string, w int) int64 {
	s := f.digits(field, w)
	if f.err != nil {
		return 0
	}
	var n int64
	for i := 0; i < len(s); i++ {
		n = n*10 + int64(s[i]-'0')
	}
	return n
}

// text reads a text field without its trailing spaces.
func (f *fields) text(w int) string {
	return strings.TrimRight(decodeJIS([]byte(f.take(w))), " ")
}

// date reads a 和暦 date; spaces or zeros are the zero time. A required date
// must not be zero.
func (f *fields) date(field string, required bool) time.Time {
	s := f.take(6)
	if s == "      " {
		s = "000000"
	}
	t, err := ParseWareki(s, f.now)
	if err != nil {
		f.fail(field, err)
		return time.Time{}
	}
	if required && t.IsZero() {
		f.fail(field, fmt.Errorf("%w: missing", ErrDate))
	}
	return t
}

// expect reads a fixed value.
func (f *fields) expect(field, want string) {
	if s := f.take(len(want)); s != want {
		f.fail(field, fmt.Errorf("%w: %q, want %q", ErrLayout, s, want))
	}
}

// builder writes fixed-width fields of one record in order and keeps the
// first validation error.
type builder struct {
	b    []byte
	fail func(field string, err error) error
	err  error
}

func (w *builder) setErr(field string, err error) {
	if w.err == nil {
		w.err = w.fail(field, err)
	}
}

// raw appends a constant.
func (w *builder) raw(s string) { w.b = append(w.b, s...) }

// spaces appends n spaces.
func (w *builder) spaces(n int) { w.b = append(w.b, bytes.Repeat([]byte{' '}, n)...) }

// digits appends a required numeric value, right-justified and zero-filled.
func (w *builder) digits(field string, width int, v string) {
	switch {
	case v == "":
		w.setErr(field, fmt.Errorf("%w: missing", ErrInvalid))
	case !isDigits(v):
		w.setErr(field, fmt.Errorf("%w %q", ErrNotNumber, v))
	case len(v) > width:
		w.setErr(field, fmt.Errorf("%w: %q has %d digits, field has %d", ErrTooLong, v, len(v), width))
	}
	if w.err != nil {
		v = "0"
	}
	w.b = append(w.b, padLeft(v, width, '0')...)
}

// code appends an optional numeric value; "" is written as zeros.
func (w *builder) code(field string, width int, v string) {
	if v == "" {
		v = "0"
	}
	w.digits(field, width, v)
}

// number appends a count.
func (w *builder) number(field string, width int, n int64) {
	w.digits(field, width, fmt.Sprint(n))
}

// amount appends a whole-yen amount; it must be positive when positive is
// set, otherwise not negative.
func (w *builder) amount(field string, width int, d decimal.Decimal, positive bool) {
	switch {
	case !d.IsInteger():
		w.setErr(field, fmt.Errorf("%w: %s is not whole yen", ErrInvalid, d))
	case positive && !d.IsPositive():
		w.setErr(field, fmt.Errorf("%w: %s must be more than 0", ErrInvalid, d))
	case d.IsNegative():
		w.setErr(field, fmt.Errorf("%w: %s is negative", ErrInvalid, d))
	case len(d.String()) > width:
		w.setErr(field, fmt.Errorf("%w: %s does not fit %d digits", ErrTooLong, d, width))
	}
	s := "0"
	if w.err == nil {
		s = d.String()
	}
	w.b = append(w.b, padLeft(s, width, '0')...)
}

// text appends a name field: Zengin characters only, left-justified.
func (w *builder) text(field string, width int, v string, required bool) {
	n := utf8.RuneCountInString(v)
	switch {
	case required && strings.TrimSpace(v) == "":
		w.setErr(field, fmt.Errorf("%w: missing", ErrInvalid))
	case n > width:
		w.setErr(field, fmt.Errorf("%w: %d characters, field has %d", ErrTooLong, n, width))
	default:
		if err := ValidName(v); err != nil {
			w.setErr(field, err)
		}
	}
	enc, ok := encodeJIS(v)
	if w.err != nil || !ok {
		enc = nil
	}
	w.b = append(w.b, enc...)
	w.spaces(width - len(enc))
}

// date appends a 和暦 date.
func (w *builder) date(field string, t time.Time) {
	s, err := FormatWareki(t)
	if err != nil {
		w.setErr(field, err)
		s = "000000"
	}
	w.raw(s)
}

func padLeft(s string, width int, pad byte) string {
	if len(s) >= width {
		return s[len(s)-width:]
	}
	return strings.Repeat(string(pad), width-len(s)) + s
}

// writeRecords writes records, each followed by CRLF when crlf is set.
func writeRecords(out io.Writer, recs [][]byte, crlf bool) error {
	var buf bytes.Buffer
	for _, r := range recs {
		buf.Write(r)
		if crlf {
			buf.WriteString("\r\n")
		}
	}
	if _, err := out.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("zengin: write: %w", err)
	}
	return nil
}
