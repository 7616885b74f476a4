package money

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"

	"github.com/honten/honten/domain/errs"
)

type moneyJSON struct {
	Amount   string   `json:"amount"`
	Currency Currency `json:"currency"`
}

// MarshalJSON writes {"amount":"1200","currency":"JPY"}: the amount is a
// string with exactly the currency's decimal places ("12.50" for USD). The
// zero Money is written as null. It never returns an error.
func (m Money) MarshalJSON() ([]byte, error) {
	if m.currency == "" {
		return []byte("null"), nil
	}
	return json.Marshal(moneyJSON{Amount: m.AmountString(), Currency: m.currency})
}

// UnmarshalJSON reads what MarshalJSON writes, strictly: null gives the zero
// Money; otherwise the value must be an object with exactly the keys "amount"
// (a JSON string accepted by Parse, not a JSON number) and "currency" (a
// string accepted by ParseCurrency). Every failure is an Invalid *errs.Error
// naming the field at fault ("money" for the object as a whole).
func (m *Money) UnmarshalJSON(data []byte) error {
	if amount, currency, ok := plainJSON(data); ok {
		return m.set(amount, currency)
	}
	return m.unmarshalAny(data)
}

// unmarshalAny is UnmarshalJSON for any input: a generic decode, then the
// checks of every key.
func (m *Money) unmarshalAny(data []byte) error {
	data = bytes.TrimSpace(data)
	if string(data) == "null" {
		*m = Money{}
		return nil
	}
	var raw map[string]json.RawMessage
	if len(data) == 0 || data[0] != '{' || json.Unmarshal(data, &raw) != nil {
		return errs.Field("money", `must be an object {"amount":"…","currency":"…"} or null`)
	}
	var c errs.Collector
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		if k != "amount" && k != "currency" {
			c.Add(clip(k), "unknown field")
		}
	}
	amount := jsonString(raw, "amount", &c)
	currency := jsonString(raw, "currency", &c)
	if err := c.Err(); err != nil {
		return err
	}
	return m.set(amount, currency)
}

// set parses amount in currency into m.
func (m *Money) set(amount, currency string) error {
	cur, err := ParseCurrency(currency)
	if err != nil {
		return err
	}
	v, err := Parse(amount, cur)
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// plainJSON reads the form MarshalJSON writes and PostgreSQL's jsonb gives
// back ({"amount": "1200", "currency": "JPY"}: these two keys in this order,
// optional white space, strings of printable ASCII without escapes) by
// scanning the bytes once. Events carry many amounts, and each is decoded
// by every reader of the event; a generic decode of each object into a map
// cost several times the rest of a read. For any other input ok is false
// and UnmarshalJSON takes the generic path, which gives the same result
// for the inputs read here.
func plainJSON(data []byte) (amount, currency string, ok bool) {
	s := plainScanner{b: data}
	if !s.byte('{') || !s.key("amount") {
		return "", "", false
	}
	amount, ok = s.str()
	if !ok || !s.byte(',') || !s.key("currency") {
		return "", "", false
	}
	currency, ok = s.str()
	if !ok || !s.byte('}') {
		return "", "", false
	}
	s.space()
	return amount, currency, s.i == len(s.b)
}

// plainScanner reads the plain form of a Money object.
type plainScanner struct {
	b []byte
	i int
}

// space skips JSON white space.
func (s *plainScanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// byte reads c after optional white space.
func (s *plainScanner) byte(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// key reads "name" and the colon after it.
func (s *plainScanner) key(name string) bool {
	v, ok := s.str()
	return ok && v == name && s.byte(':')
}

// str reads a string of printable ASCII other than the quote and the
// backslash (so it holds no escape) after optional white space.
func (s *plainScanner) str() (string, bool) {
	if !s.byte('"') {
		return "", false
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		if c == '"' {
			v := string(s.b[start:s.i])
			s.i++
			return v, true
		}
		if c < 0x20 || c >= 0x7f || c == '\\' {
			return "", false
		}
		s.i++
	}
	return "", false
}

// jsonString reads the required string key from raw, recording problems in c.
func jsonString(raw map[string]json.RawMessage, key string, c *errs.Collector) string {
	v, ok := raw[key]
	if !ok {
		c.Add(key, "is required")
		return ""
	}
	var s string
	if len(v) == 0 || v[0] != '"' || json.Unmarshal(v, &s) != nil {
		c.Add(key, "must be a JSON string")
		return ""
	}
	return s
}

// clip shortens an unknown key before it goes into an error message.
func clip(s string) string {
	const n = 40
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
