// Package slug owns the URL-safe identifier format shared by tenant codes,
// store and location codes and product handles: lower-case ASCII letters and
// digits with single hyphens inside ("shibuya-2"). It also derives
// best-effort slugs from free text.
//
// It imports only the standard library, golang.org/x/text and domain/errs.
package slug

import (
	"fmt"
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/honten/honten/domain/errs"
)

// Slug is a validated slug: 1 or more of a-z, 0-9 and '-', with no leading,
// trailing or doubled hyphen. The zero Slug is "no slug".
type Slug string

// Parse validates s as a slug of at most max bytes (which are also
// characters: a slug is ASCII). It neither trims nor lower-cases. It returns
// an Invalid *errs.Error for the field "slug" when s is empty, too long or
// not in slug form, and panics when max < 1.
func Parse(s string, max int) (Slug, error) { return ParseField("slug", s, 1, max) }

// ParseField is Parse with the field name used in errors and a minimum
// length, for the packages that wrap Slug (tenant.Code, store.Code, …). It
// returns an Invalid *errs.Error for field when s is shorter than min,
// longer than max or not in slug form, and panics when min < 1 or max < min.
func ParseField(field, s string, min, max int) (Slug, error) {
	if min < 1 || max < min {
		panic(fmt.Sprintf("slug: bad length bounds %d..%d", min, max))
	}
	switch {
	case s == "":
		return "", errs.Field(field, "must not be empty")
	case len(s) > max:
		return "", errs.Field(field, fmt.Sprintf("must be at most %d characters", max))
	case !valid(s):
		return "", errs.Field(field, "must contain only lower-case letters a-z, digits and single hyphens between them")
	case len(s) < min:
		return "", errs.Field(field, fmt.Sprintf("must be at least %d characters", min))
	}
	return Slug(s), nil
}

// valid reports whether s is non-empty and in slug form.
func valid(s string) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case 'a' <= b && b <= 'z', '0' <= b && b <= '9':
		case b == '-':
			if s[i-1] == '-' {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// String returns the slug.
func (s Slug) String() string { return string(s) }

// Slugify derives a best-effort slug from free text such as a product title:
// compatibility-decomposed (full-width "ＡＢＣ" becomes "abc", "Café" becomes
// "cafe"), ASCII letters lower-cased, every run of other characters replaced
// by one hyphen, and hyphens trimmed from both ends. Apostrophes are dropped
// ("Men's" → "mens"). It returns "" when no ASCII letter or digit remains,
// as for a Japanese title; the caller then asks for a slug or generates one.
// The result is not length-limited; pass it through Parse.
func Slugify(s string) string {
	var b strings.Builder
	pendingHyphen := false
	for _, r := range norm.NFKD.String(s) {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
		case 'A' <= r && r <= 'Z':
			r += 'a' - 'A'
		case r == '\'' || r == '\u2019' || isCombiningMark(r):
			continue
		default:
			pendingHyphen = true
			continue
		}
		if pendingHyphen && b.Len() > 0 {
			b.WriteByte('-')
		}
		pendingHyphen = false
		b.WriteRune(r)
	}
	return b.String()
}

// isCombiningMark reports whether r is one of the combining diacritics NFKD
// splits off Latin letters (U+0300–U+036F); they are dropped, not hyphens.
func isCombiningMark(r rune) bool { return '\u0300' <= r && r <= '\u036f' }
