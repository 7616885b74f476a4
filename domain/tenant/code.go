package tenant

import "github.com/honten/honten/domain/slug"

// Code is a tenant's short public name, unique across Honten and used in
// URLs and subdomains ("kyoto-tea"): a slug of 2 to 32 characters.
type Code string

// ParseCode validates s as a tenant code: lower-case letters a-z, digits and
// single inner hyphens, 2 to 32 characters, not trimmed or folded. It returns
// an Invalid *errs.Error for the field "code" otherwise.
func ParseCode(s string) (Code, error) {
	v, err := slug.ParseField("code", s, 2, 32)
	return Code(v), err
}

// String returns the code.
func (c Code) String() string { return string(c) }

// MarshalText returns the code. It does not validate c.
func (c Code) MarshalText() ([]byte, error) { return []byte(c), nil }

// UnmarshalText parses the code with ParseCode and returns its error.
func (c *Code) UnmarshalText(b []byte) error {
	v, err := ParseCode(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}
