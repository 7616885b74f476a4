package contact

import (
	"log/slog"
	"strings"

	"golang.org/x/text/width"

	"github.com/honten/honten/domain/errs"
)

// Phone is a Japanese phone number stored as its national digits:
// "09012345678", "0312345678". The zero Phone is "no number".
type Phone struct{ digits string }

const phoneMsg = "must be a Japanese phone number: 10 digits for a landline or 0120, " +
	"11 digits for a mobile (070, 080, 090), IP phone (050) or 0800 number, starting with 0"

// ParsePhone parses a Japanese phone number as people type it. Full-width
// characters are folded; spaces, parentheses and hyphens of any kind
// (-, ‐, −, ー, －, …) are dropped; a leading "+81" is replaced by the trunk
// prefix 0 (a "(0)" after it is allowed). What remains must be 10 digits
// (landline 0[1-9]…, except the mobile and IP prefixes) or 11 digits
// starting with 020, 050, 060, 070, 080, 090 or 0800. It returns an Invalid
// *errs.Error for the field "phone" otherwise; the message never contains
// the input.
func ParsePhone(s string) (Phone, error) {
	if len(s) > maxInput {
		return Phone{}, errs.Field("phone", phoneMsg)
	}
	s = width.Fold.String(s)
	var (
		digits = make([]byte, 0, 16)
		plus   bool
	)
	for _, r := range s {
		switch {
		case '0' <= r && r <= '9':
			digits = append(digits, byte(r))
		case r == '+' && !plus && len(digits) == 0:
			plus = true
		case isHyphen(r), isSpace(r), r == '(', r == ')':
		default:
			return Phone{}, errs.Field("phone", phoneMsg)
		}
		if len(digits) > 16 {
			return Phone{}, errs.Field("phone", phoneMsg)
		}
	}
	d := string(digits)
	if plus {
		rest, ok := strings.CutPrefix(d, "81")
		if !ok {
			return Phone{}, errs.Field("phone", "must be a Japanese phone number (+81)")
		}
		d = "0" + strings.TrimPrefix(rest, "0")
	}
	if !validPhone(d) {
		return Phone{}, errs.Field("phone", phoneMsg)
	}
	return Phone{digits: d}, nil
}

// validPhone reports whether d is a plausible national number per the MIC
// numbering plan.
func validPhone(d string) bool {
	if len(d) < 10 || len(d) > 11 || d[0] != '0' || d[1] == '0' {
		return false
	}
	// 020, 050, 060, 070, 080 and 090 numbers are 11 digits long.
	elevenOnly := d[2] == '0' && strings.IndexByte("256789", d[1]) >= 0
	if len(d) == 10 {
		return !elevenOnly
	}
	return elevenOnly || strings.HasPrefix(d, "0800")
}

// String returns the digits only: "09012345678".
func (p Phone) String() string { return p.digits }

// IsZero reports whether p is the zero Phone.
func (p Phone) IsZero() bool { return p.digits == "" }

// Masked returns the number with its middle hidden, for logs and support
// screens: "090-****-5678" for 11 digits, "03-****-5678" for 10. The zero
// Phone gives "".
func (p Phone) Masked() string {
	switch len(p.digits) {
	case 11:
		return p.digits[:3] + "-****-" + p.digits[7:]
	case 10:
		return p.digits[:2] + "-****-" + p.digits[6:]
	}
	return ""
}

// LogValue logs the Masked form.
func (p Phone) LogValue() slog.Value { return slog.StringValue(p.Masked()) }

// MarshalText returns the digits.
func (p Phone) MarshalText() ([]byte, error) { return []byte(p.digits), nil }

// UnmarshalText parses the number with ParsePhone and returns its error.
func (p *Phone) UnmarshalText(b []byte) error {
	v, err := ParsePhone(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}
