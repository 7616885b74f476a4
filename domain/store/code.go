package store

import "github.com/honten/honten/domain/slug"

// MaxCodeLen is the longest store or location code, in characters.
const MaxCodeLen = 32

// Code is a store's code, unique within its tenant and used in URLs
// ("shibuya"): a slug of 1 to 32 characters.
type Code string

// ParseCode validates s as a store code: lower-case letters a-z, digits and
// single inner hyphens, 1 to 32 characters, not trimmed or folded. It returns
// an Invalid *errs.Error for the field "code" otherwise.
func ParseCode(s string) (Code, error) {
	v, err := slug.ParseField("code", s, 1, MaxCodeLen)
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

// LocationCode is a stock location's code, unique within its tenant
// ("tokyo-dc"): a slug of 1 to 32 characters.
type LocationCode string

// ParseLocationCode validates s as a location code with the rules of
// ParseCode. It returns an Invalid *errs.Error for the field "code" otherwise.
func ParseLocationCode(s string) (LocationCode, error) {
	v, err := slug.ParseField("code", s, 1, MaxCodeLen)
	return LocationCode(v), err
}

// String returns the code.
func (c LocationCode) String() string { return string(c) }

// MarshalText returns the code. It does not validate c.
func (c LocationCode) MarshalText() ([]byte, error) { return []byte(c), nil }

// UnmarshalText parses the code with ParseLocationCode and returns its error.
func (c *LocationCode) UnmarshalText(b []byte) error {
	v, err := ParseLocationCode(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}
