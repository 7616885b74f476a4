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
