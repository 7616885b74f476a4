package contact

import (
	"log/slog"
	"strings"

	"golang.org/x/text/width"

	"github.com/honten/honten/domain/errs"
)

// Email is an e-mail address: the local part as typed, the domain in lower
// case. The zero Email is "no address".
type Email struct{ addr string }

// ParseEmail parses an e-mail address. Full-width characters are folded to
// ASCII (ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍ) and surrounding space is trimmed.
// The address must be at most 254 characters with exactly one '@'; the
// local part 1 to 64 of A-Z a-z 0-9 . ! # $ % & ' * + - / = ? ^ _ ` { | } ~
// (dots anywhere, as older Japanese carrier addresses such as
// "taro..yamada.@docomo.ne.jp" need); the domain at least two labels of
// A-Z a-z 0-9 and '-', each 1 to 63 long and not starting or ending with
// '-', the last not all digits. Quoted local parts and IP literals are not
// accepted. It returns an Invalid *errs.Error for the field "email"
// otherwise; the message never contains the input.
func ParseEmail(s string) (Email, error) {
	if len(s) > maxInput {
		return Email{}, errs.Field("email", "must be at most 254 characters")
	}
	s = strings.TrimSpace(width.Fold.String(s))
	if s == "" {
		return Email{}, errs.Field("email", "must not be empty")
	}
	if len(s) > 254 {
		return Email{}, errs.Field("email", "must be at most 254 characters")
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || strings.Contains(domain, "@") {
		return Email{}, errs.Field("email", "must contain exactly one '@'")
	}
	switch {
	case local == "":
		return Email{}, errs.Field("email", "must have a name before '@'")
	case len(local) > 64:
		return Email{}, errs.Field("email", "must have at most 64 characters before '@'")
	}
	for i := 0; i < len(local); i++ {
		if !isLocalChar(local[i]) {
			return Email{}, errs.Field("email", "must not contain spaces or special characters before '@'")
		}
	}
	if !validDomain(domain) {
		return Email{}, errs.Field("email", "must have a valid domain such as example.co.jp after '@'")
	}
	return Email{addr: local + "@" + strings.ToLower(domain)}, nil
}

// isLocalChar reports whether b may appear in an unquoted local part: RFC
// 5322 atext and '.'.
func isLocalChar(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	return strings.IndexByte(".!#$%&'*+-/=?^_`{|}~", b) >= 0
}

// validDomain reports whether d is a host name of two or more labels whose
// last label is not all digits.
func validDomain(d string) bool {
	if len(d) > 253 {
		return false
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			b := l[i]
			if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '-') {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	return strings.ContainsFunc(tld, func(r rune) bool { return r < '0' || r > '9' })
}

// String returns the address.
func (e Email) String() string { return e.addr }

// IsZero reports whether e is the zero Email.
func (e Email) IsZero() bool { return e.addr == "" }

// Domain returns the part after '@', in lower case.
func (e Email) Domain() string {
	_, d, _ := strings.Cut(e.addr, "@")
	return d
}

// LogValue redacts the local part for slog: "***@example.com".
func (e Email) LogValue() slog.Value {
	if e.addr == "" {
		return slog.StringValue("")
	}
	return slog.StringValue("***@" + e.Domain())
}

// MarshalText returns the address.
func (e Email) MarshalText() ([]byte, error) { return []byte(e.addr), nil }

// UnmarshalText parses the address with ParseEmail and returns its error.
func (e *Email) UnmarshalText(b []byte) error {
	v, err := ParseEmail(string(b))
	if err != nil {
		return err
	}
	*e = v
	return nil
}
