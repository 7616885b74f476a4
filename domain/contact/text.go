package contact

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/honten/honten/domain/errs"
)

// maxInput bounds the bytes any parser looks at, so a hostile megabyte is
// rejected before it is normalised. Every valid value is far shorter.
const maxInput = 1024

// isHyphen reports whether r is one of the dashes people type between digit
// groups, after width folding: ASCII and Unicode hyphens and dashes, the
// minus sign, the small hyphen-minus and the katakana prolonged sound mark
// (ー) that Japanese IMEs produce for '-'.
func isHyphen(r rune) bool {
	switch r {
	case '-', '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2015',
		'\u2212', '\u30fc', '\ufe63', '\uff70':
		return true
	}
	return false
}

// isSpace reports whether r is a space separator (U+0020, U+3000, …), not a
// tab or line break.
func isSpace(r rune) bool { return unicode.Is(unicode.Zs, r) }

// forbidden reports whether r must not appear in free text: control and
// format characters (including bidi overrides and zero-width characters),
// line and paragraph separators, surrogates, private use and unassigned code
// points' replacement (invalid UTF-8 is checked separately).
func forbidden(r rune) bool {
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp, unicode.Co, unicode.Cs) ||
		r == utf8.RuneError
}

// cleanText trims s and checks it as free text for field: valid UTF-8, no
// forbidden characters, at most max runes, and not empty when required.
func cleanText(field, s string, max int, required bool) (string, error) {
	if len(s) > maxInput {
		return "", errs.Field(field, fmt.Sprintf("must be at most %d characters", max))
	}
	if !utf8.ValidString(s) {
		return "", errs.Field(field, "must be valid UTF-8 text")
	}
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			return "", errs.Field(field, "must not be empty")
		}
		return "", nil
	}
	if strings.ContainsFunc(s, forbidden) {
		return "", errs.Field(field, "must not contain control characters")
	}
	if utf8.RuneCountInString(s) > max {
		return "", errs.Field(field, fmt.Sprintf("must be at most %d characters", max))
	}
	return s, nil
}
