package contact

import (
	"log/slog"
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/honten/honten/domain/errs"
)

// MaxNameLen is the longest Name, in characters (runes).
const MaxNameLen = 100

// Name is a person's name as they write it ("山田 太郎", "Jane Doe"),
// NFKC-normalised: half-width katakana become full-width, full-width Latin
// letters and digits become ASCII. The zero Name is "no name".
type Name struct{ s string }

// ParseName normalises s to NFKC, trims it, collapses runs of spaces to one
// and checks it is 1 to 100 characters of valid UTF-8 without control or
// format characters. It returns an Invalid *errs.Error for the field "name"
// otherwise; the message never contains the input.
func ParseName(s string) (Name, error) {
	if len(s) > maxInput {
		return Name{}, errs.Field("name", "must be at most 100 characters")
	}
	if !norm.NFKC.IsNormalString(s) {
		s = norm.NFKC.String(s)
	}
	s = strings.Join(strings.FieldsFunc(s, isSpace), " ")
	v, err := cleanText("name", s, MaxNameLen, true)
	if err != nil {
		return Name{}, err
	}
	return Name{s: v}, nil
}

// String returns the name.
func (n Name) String() string { return n.s }

// IsZero reports whether n is the zero Name.
func (n Name) IsZero() bool { return n.s == "" }

// LogValue redacts the name for slog.
func (n Name) LogValue() slog.Value {
	if n.s == "" {
		return slog.StringValue("")
	}
	return slog.StringValue("***")
}

// MarshalText returns the name.
func (n Name) MarshalText() ([]byte, error) { return []byte(n.s), nil }

// UnmarshalText parses the name with ParseName and returns its error.
func (n *Name) UnmarshalText(b []byte) error {
	v, err := ParseName(string(b))
	if err != nil {
		return err
	}
	*n = v
	return nil
}
