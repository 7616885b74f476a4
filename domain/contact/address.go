package contact

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"maps"
	"slices"

	"github.com/honten/honten/domain/errs"
)

// MaxAddressLineLen is the longest City, Line1 or Line2, in characters.
const MaxAddressLineLen = 100

// Address is a Japanese postal address in the order of a Japanese form:
// postal code, prefecture, city (市区町村), town and block number (町域・番地)
// and an optional building, room or company (建物名・部屋番号).
//
// City and the lines are kept as entered (trimmed, not width-folded), so a
// label shows what the buyer typed; fitting them to a carrier's label is the
// shipping code's job. Build one with NewAddress; the fields are exported
// for reading and for the JSON and SQL mappings.
type Address struct {
	PostalCode PostalCode `json:"postal_code"`
	Prefecture Prefecture `json:"prefecture"`
	City       string     `json:"city"`  // 市区町村: 渋谷区, 横浜市中区
	Line1      string     `json:"line1"` // 町域・番地: 神南1-2-3
	Line2      string     `json:"line2"` // 建物名・部屋番号, optional
}

// NewAddress validates and normalises every part of an address: postal as by
// ParsePostalCode, pref as by ParsePrefecture, city and line1 required and
// line2 optional, each trimmed, valid UTF-8 without control characters and
// at most 100 characters. It returns one Invalid *errs.Error naming every bad
// field ("postal_code", "prefecture", "city", "line1", "line2").
func NewAddress(postal, pref, city, line1, line2 string) (Address, error) {
	var (
		c   errs.Collector
		a   Address
		err error
	)
	a.PostalCode, err = ParsePostalCode(postal)
	c.Merge("", err)
	a.Prefecture, err = ParsePrefecture(pref)
	c.Merge("", err)
	a.City, err = cleanText("city", city, MaxAddressLineLen, true)
	c.Merge("", err)
	a.Line1, err = cleanText("line1", line1, MaxAddressLineLen, true)
	c.Merge("", err)
	a.Line2, err = cleanText("line2", line2, MaxAddressLineLen, false)
	c.Merge("", err)
	if err := c.Err(); err != nil {
		return Address{}, err
	}
	return a, nil
}

// IsZero reports whether a is the zero Address.
func (a Address) IsZero() bool { return a == Address{} }

// LogValue redacts the address for slog, keeping only the prefecture.
func (a Address) LogValue() slog.Value {
	if a.IsZero() {
		return slog.StringValue("")
	}
	return slog.StringValue(a.Prefecture.String() + " ***")
}

var addressKeys = []string{"postal_code", "prefecture", "city", "line1", "line2"}

// UnmarshalJSON reads the object encoding/json writes for an Address and
// validates it with NewAddress. Every key but line2 is required and must
// be a JSON string; line2 may be missing or null; unknown keys are
// rejected; null leaves a unchanged. Every failure is an Invalid *errs.Error
// naming the fields at fault ("address" for the object as a whole).
func (a *Address) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if string(data) == "null" {
		return nil
	}
	var raw map[string]json.RawMessage
	if len(data) == 0 || data[0] != '{' || json.Unmarshal(data, &raw) != nil {
		return errs.Field("address", "must be an object with postal_code, prefecture, city, line1 and line2")
	}
	var c errs.Collector
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		if !slices.Contains(addressKeys, k) {
			c.Add(clipKey(k), "unknown field")
		}
	}
	vals := make(map[string]string, len(addressKeys))
	for _, k := range addressKeys {
		v, ok := raw[k]
		if !ok || string(v) == "null" {
			if k != "line2" {
				c.Add(k, "is required")
			}
			continue
		}
		var s string
		if v[0] != '"' || json.Unmarshal(v, &s) != nil {
			c.Add(k, "must be a JSON string")
			continue
		}
		vals[k] = s
	}
	if err := c.Err(); err != nil {
		return err
	}
	v, err := NewAddress(vals["postal_code"], vals["prefecture"], vals["city"], vals["line1"], vals["line2"])
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// clipKey shortens an unknown key before it goes into an error message.
func clipKey(s string) string {
	r := []rune(s)
	if len(r) <= 40 {
		return s
	}
	return string(r[:40]) + "…"
}
