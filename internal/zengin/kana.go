package zengin

import (
	"fmt"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// Half-width marks as banks print them: the voiced (ﾞ) and semi-voiced (ﾟ)
// sound marks are separate characters, one byte each in cp932.
const (
	dakuten    = 'ﾞ' // U+FF9E
	handakuten = 'ﾟ' // U+FF9F
)

// fullToHalf maps full-width katakana (after canonical decomposition, so
// without sound marks) to the half-width letter banks print. Small kana
// become large ones and obsolete ones their modern reading, as banks do.
var fullToHalf = func() map[rune]rune {
	const full = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン" +
		"ァィゥェォッャュョヮヵヶヰヱヲ"
	const half = "ｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜﾝ" +
		"ｱｲｳｴｵﾂﾔﾕﾖﾜｶｹｲｴｵ"
	f, h := []rune(full), []rune(half)
	m := make(map[rune]rune, len(f))
	for i := range f {
		m[f[i]] = h[i]
	}
	return m
}()

// smallHalf maps half-width small kana (and ｦ) to the large ones.
var smallHalf = map[rune]rune{
	'ｦ': 'ｵ', 'ｧ': 'ｱ', 'ｨ': 'ｲ', 'ｩ': 'ｳ', 'ｪ': 'ｴ', 'ｫ': 'ｵ',
	'ｬ': 'ﾔ', 'ｭ': 'ﾕ', 'ｮ': 'ﾖ', 'ｯ': 'ﾂ',
}

// Fold converts s to what banks print for a name: half-width katakana
// ｱ..ﾝ with ﾞ and ﾟ as separate marks, upper-case ASCII letters and digits,
// and the symbols of the Zengin set. Full-width letters, digits and symbols
// become half-width, hiragana becomes katakana, small kana become large
// (ｧ→ｱ, ｯ→ﾂ, ｬ→ﾔ, ヮ→ﾜ, ヵ→ｶ), ヲ/ｦ becomes ｵ, ヰ ｲ and ヱ ｴ, and the long
// vowel mark (ー, ｰ) and dashes become '-', because the Zengin kana range
// ｱ..ﾝ does not include ｰ. '・' becomes '.', '、' ',' and '。' '.', 「」 the
// half-width ｢｣ and ¥ the JIS X 0201 yen sign (0x5C, '\' in Unicode).
// Characters with no bank equivalent (kanji, emoji) are kept as they are so
// that ValidName can name them; invalid UTF-8 becomes U+FFFD. Fold is
// idempotent.
func Fold(s string) string {
	s = norm.NFD.String(strings.ToValidUTF8(s, "\uFFFD"))
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		case r >= 0xFF01 && r <= 0xFF5E: // full-width ASCII
			r -= 0xFEE0
			if r >= 'a' && r <= 'z' {
				r -= 'a' - 'A'
			}
			if r == '~' {
				r = '-'
			}
		case r == 0x3000:
			r = ' '
		case r >= 0x3041 && r <= 0x3096, r >= 0x30A1 && r <= 0x30FA:
			k := r
			if k <= 0x3096 {
				k += 0x60 // hiragana to katakana
			}
			if h, ok := fullToHalf[k]; ok {
				r = h
			}
		case r == 0x3099 || r == 0x309B:
			r = dakuten
		case r == 0x309A || r == 0x309C:
			r = handakuten
		case r == 'ー' || r == 'ｰ' || r == '~' || (r >= 0x2010 && r <= 0x2015) || r == 0x2212 || r == 0xFF5E:
			r = '-'
		case r == '・' || r == '･' || r == '。' || r == '｡':
			r = '.'
		case r == '、' || r == '､':
			r = ','
		case r == '「':
			r = '｢'
		case r == '」':
			r = '｣'
		case r == '¥' || r == '￥':
			r = '\\'
		default:
			if l, ok := smallHalf[r]; ok {
				r = l
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

// allowed reports whether r may appear in a Zengin name field.
func allowed(r rune) bool {
	switch {
	case r >= '0' && r <= '9', r >= 'A' && r <= 'Z':
		return true
	case r >= 'ｱ' && r <= 'ﾝ', r == dakuten, r == handakuten:
		return true
	}
	return strings.ContainsRune(" ()-./,\\｢｣", r)
}

// ValidName reports whether s holds only characters banks accept in a name:
// ｱ..ﾝ, ﾞ, ﾟ, A-Z, 0-9, space and ( ) - . / , ¥ ｢ ｣. Pass a name through
// Fold first. The error wraps ErrCharset and names the first rune that is not
// allowed and its 1-based position.
func ValidName(s string) error {
	pos := 0
	for _, r := range s {
		pos++
		if !allowed(r) {
			return fmt.Errorf("%w: %q at position %d", ErrCharset, r, pos)
		}
	}
	return nil
}

// companyAbbrevs are the abbreviations of legal entity types that banks put
// next to a company name inside a parenthesis: ｶ) for 株式会社 in front,
// (ｶ behind, (ｶ) in the middle.
var companyAbbrevs = []string{
	"ｾｲｷﾖｳ", // 生活協同組合
	"ｼﾕｳ",   // 宗教法人
	"ﾄｸﾋ",   // 特定非営利活動法人
	"ｷﾖｳ",   // 協同組合
	"ｻﾞｲ",   // 財団法人
	"ｶﾞｸ",   // 学校法人
	"ｼﾔ",    // 社団法人
	"ﾌｸ",    // 社会福祉法人
	"ﾄﾞｸ",   // 独立行政法人
	"ﾄﾞ",    // 合同会社
	"ｶ",     // 株式会社
	"ﾕ",     // 有限会社
	"ﾒ",     // 合名会社
	"ｼ",     // 合資会社
	"ｲ",     // 医療法人
}

// companyLong are spelled-out entity types, compared after MatchKey has
// dropped sound marks, spaces and punctuation. Longer forms come first.
var companyLong = []string{
	"ﾄｸﾃｲﾋｴｲﾘｶﾂﾄｳﾎｳｼﾝ",
	"ｲﾂﾊﾝｼﾔﾀﾝﾎｳｼﾝ",
	"ｲﾂﾊﾝｻｲﾀﾝﾎｳｼﾝ",
	"ｺｳｴｷｼﾔﾀﾝﾎｳｼﾝ",
	"ｺｳｴｷｻｲﾀﾝﾎｳｼﾝ",
	"ｲﾘﾖｳﾎｳｼﾝｼﾔﾀﾝ",
	"ｼﾔｶｲﾌｸｼﾎｳｼﾝ",
	"ｼﾕｳｷﾖｳﾎｳｼﾝ",
	"ｶﾌｼｷｶｲｼﾔ",
	"ﾕｳｹﾝｶｲｼﾔ",
	"ｺｳﾄｳｶｲｼﾔ",
	"ｺｳﾒｲｶｲｼﾔ",
	"ｺｳｼｶｲｼﾔ",
	"ｲﾘﾖｳﾎｳｼﾝ",
	"ｶﾂｺｳﾎｳｼﾝ",
	"ｼﾔﾀﾝﾎｳｼﾝ",
	"ｻｲﾀﾝﾎｳｼﾝ",
}

// MatchKey returns a key for comparing a payer name with a reference or a
// customer's furigana. It folds s, removes company-type abbreviations in
// parentheses (ｶ) (ｶ ｶ) ﾕ) (ﾄﾞ and so on, also written full-width or in
// hiragana such as カ）) and spelled-out types at either end (ｶﾌﾞｼｷｶﾞｲｼﾔ,
// ﾕｳｹﾞﾝｶﾞｲｼﾔ, ｺﾞｳﾄﾞｳｶﾞｲｼﾔ ...), then keeps only kana, letters and digits and
// drops the sound marks, so that voiced and unvoiced spellings (ｶﾞ/ｶ, ﾊﾟ/ﾊ)
// compare equal. Kanji such as 株式会社 are out of scope: bank names are kana.
func MatchKey(s string) string {
	rs := stripAbbrevs([]rune(Fold(s)))
	var b strings.Builder
	for _, r := range rs {
		if (r >= 'ｱ' && r <= 'ﾝ') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	k := b.String()
	for changed := true; changed; {
		changed = false
		for _, l := range companyLong {
			if t, ok := strings.CutPrefix(k, l); ok {
				k, changed = t, true
			}
			if t, ok := strings.CutSuffix(k, l); ok {
				k, changed = t, true
			}
		}
	}
	return k
}

// stripAbbrevs removes "(ABBR)", "(ABBR" before a word end and "ABBR)" at a
// word start, spaces inside the parenthesis allowed.
func stripAbbrevs(rs []rune) []rune {
	out := make([]rune, 0, len(rs))
	for i := 0; i < len(rs); {
		if rs[i] == '(' {
			j := skipSpaces(rs, i+1)
			if k, ok := matchAbbrev(rs, j); ok {
				k = skipSpaces(rs, k)
				if k < len(rs) && rs[k] == ')' {
					i = k + 1
					continue
				}
				if k == len(rs) || !isWord(rs[k]) {
					i = k
					continue
				}
			}
		} else if i == 0 || !isWord(rs[i-1]) {
			if k, ok := matchAbbrev(rs, i); ok {
				k = skipSpaces(rs, k)
				if k < len(rs) && rs[k] == ')' {
					i = k + 1
					continue
				}
			}
		}
		out = append(out, rs[i])
		i++
	}
	return out
}

func skipSpaces(rs []rune, i int) int {
	for i < len(rs) && rs[i] == ' ' {
		i++
	}
	return i
}

func isWord(r rune) bool {
	return (r >= 'ｱ' && r <= 'ﾝ') || r == dakuten || r == handakuten ||
		(r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
}

// matchAbbrev matches the longest abbreviation at rs[i:] that is not
// followed by a sound mark and returns the index after it.
func matchAbbrev(rs []rune, i int) (int, bool) {
	for _, a := range companyAbbrevs {
		ar := []rune(a)
		if i+len(ar) > len(rs) || string(rs[i:i+len(ar)]) != a {
			continue
		}
		end := i + len(ar)
		if end < len(rs) && (rs[end] == dakuten || rs[end] == handakuten) {
			continue
		}
		return end, true
	}
	return 0, false
}
