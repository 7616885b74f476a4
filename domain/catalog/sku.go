package catalog

import (
	"fmt"
	"strings"

	"github.com/honten/honten/domain/errs"
)

// MaxSKULen is the longest SKU, in characters.
const MaxSKULen = 64

// SKU is a variant's stock-keeping code as the merchant writes it
// ("TEA-001.L"): 1 to 64 of A-Z, a-z, 0-9, '.', '_' and '-', starting with a
// letter or digit. Case is kept for display; uniqueness within a tenant is
// decided on Key, so "tea-001" and "TEA-001" collide.
type SKU string

// ParseSKU trims surrounding white space from s and validates it as a SKU.
// It returns an Invalid *errs.Error for the field "sku" when the result is
// empty, longer than 64 characters, does not start with a letter or digit or
// contains any other character than A-Z, a-z, 0-9, '.', '_' and '-'.
func ParseSKU(s string) (SKU, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", errs.Field("sku", "must not be empty")
	case len(s) > MaxSKULen:
		return "", errs.Field("sku", fmt.Sprintf("must be at most %d characters", MaxSKULen))
	case !isAlnum(s[0]):
		return "", errs.Field("sku", "must start with a letter or digit")
	}
	for i := 1; i < len(s); i++ {
		if b := s[i]; !isAlnum(b) && b != '.' && b != '_' && b != '-' {
			return "", errs.Field("sku", "must contain only letters A-Z, digits, '.', '_' and '-'")
		}
	}
	return SKU(s), nil
}

func isAlnum(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9'
}

// String returns the SKU as written.
func (s SKU) String() string { return string(s) }

// Key returns the upper-cased SKU, the form on which per-tenant uniqueness
// is checked.
func (s SKU) Key() string { return strings.ToUpper(string(s)) }

// MarshalText returns the SKU. It does not validate s.
func (s SKU) MarshalText() ([]byte, error) { return []byte(s), nil }

// UnmarshalText parses the SKU with ParseSKU and returns its error.
func (s *SKU) UnmarshalText(b []byte) error {
	v, err := ParseSKU(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}
