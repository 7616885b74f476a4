package contact

import (
	"log/slog"
	"strings"

	"golang.org/x/text/width"

	"github.com/honten/honten/domain/errs"
)

// PostalCode is a Japanese postal code (郵便番号) stored as its 7 digits. The
// zero PostalCode is "no code".
//
// Look-ups in Japan Post's table may pre-fill an address but never reject
// one: a code can span several towns and even prefectures.
type PostalCode struct{ digits string }

const postalMsg = "must be a 7-digit postal code such as 123-4567"

// ParsePostalCode parses "1234567" or "123-4567", also with full-width
// digits, any dash (－, ‐, −, ー, …) and a leading "〒" with optional space.
// It returns an Invalid *errs.Error for the field "postal_code" otherwise;
// the message never contains the input.
func ParsePostalCode(s string) (PostalCode, error) {
	if len(s) > maxInput {
		return PostalCode{}, errs.Field("postal_code", postalMsg)
	}
	s = strings.TrimSpace(width.Fold.String(s))
	if rest, ok := strings.CutPrefix(s, "〒"); ok {
		s = strings.TrimLeftFunc(rest, isSpace)
	}
	var digits []byte
	hyphen := false
	for _, r := range s {
		switch {
		case '0' <= r && r <= '9':
			digits = append(digits, byte(r))
		case isHyphen(r) && len(digits) == 3 && !hyphen:
			hyphen = true
		default:
			return PostalCode{}, errs.Field("postal_code", postalMsg)
		}
		if len(digits) > 7 {
			return PostalCode{}, errs.Field("postal_code", postalMsg)
		}
	}
	if len(digits) != 7 {
		return PostalCode{}, errs.Field("postal_code", postalMsg)
	}
	return PostalCode{digits: string(digits)}, nil
}

// String returns the code as written in Japan: "123-4567". The zero
// PostalCode gives "".
func (p PostalCode) String() string {
	if p.digits == "" {
		return ""
	}
	return p.digits[:3] + "-" + p.digits[3:]
}

// Digits returns the 7 digits without hyphen: "1234567".
func (p PostalCode) Digits() string { return p.digits }

// IsZero reports whether p is the zero PostalCode.
func (p PostalCode) IsZero() bool { return p.digits == "" }

// LogValue logs only the first three digits (the area): "123-****".
func (p PostalCode) LogValue() slog.Value {
	if p.digits == "" {
		return slog.StringValue("")
	}
	return slog.StringValue(p.digits[:3] + "-****")
}

// MarshalText returns the code as "123-4567".
func (p PostalCode) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText parses the code with ParsePostalCode and returns its error.
func (p *PostalCode) UnmarshalText(b []byte) error {
	v, err := ParsePostalCode(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}
