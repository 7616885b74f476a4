// Package textnorm normalises product text and search queries the same way,
// so that what a shopper types meets what a merchant wrote: NFKC (full-width
// ASCII and half-width katakana fold to their common forms), lower case,
// katakana folded to hiragana, the long-vowel mark ー spelled out (or dropped
// at the end of a word, so コンピュータ = コンピューター), and common kana
// spelling variants folded (ヘッドフォン = ヘッドホン, ウィスキー = ウイスキー,
// ヴァイオリン = バイオリン, ヂ/ヅ = ジ/ズ).
//
// It is pure Go with no I/O; both search backends and the search_documents
// projection use it. It imports only the standard library and x/text.
package textnorm

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// MaxTokenRunes bounds one token; longer tokens are cut (a search for a
// 1,000-character word is answered by its first 64 characters).
const MaxTokenRunes = 64

// Normalize returns s normalised for matching: NFKC, lower case, kana
// folded (see the package comment). Invalid UTF-8 bytes become spaces.
// Normalize is idempotent: Normalize(Normalize(s)) == Normalize(s).
//
// One pass is not always enough for that: lower-casing can make a letter
// and a combining mark composable ("Y" + U+030A has no composed form, "y" +
// U+030A is "ẙ"), and folding a small kana can do the same ("ぅ" + U+3099
// becomes "う" + U+3099, which composes to "ゔ"). So passes repeat until one
// changes nothing; for the inputs the fuzz target has found, the second
// pass changes something and the third confirms it.
func Normalize(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, " ")
	}
	for range maxPasses {
		n := normalizePass(s)
		if n == s {
			return n
		}
		s = n
	}
	return s
}

// maxPasses bounds Normalize's passes, so no input can keep it looping.
const maxPasses = 8

// normalizePass is one pass of Normalize over valid UTF-8.
func normalizePass(s string) string {
	s = norm.NFKC.String(s)
	s = strings.ToLower(s)
	rs := []rune(s)
	out := make([]rune, 0, len(rs))
	for i := 0; i < len(rs); i++ {
		r := toHiragana(rs[i])
		var next rune = -1
		if i+1 < len(rs) {
			next = toHiragana(rs[i+1])
		}
		// Two-kana spellings of foreign sounds fold to the plain kana.
		if r == 'ゔ' || r == 'ふ' {
			if folded, ok := combo(r, next); ok {
				out = append(out, folded)
				i++
				continue
			}
			if r == 'ゔ' {
				out = append(out, 'ぶ')
				continue
			}
		}
		switch r {
		case 'ぢ':
			r = 'じ'
		case 'づ':
			r = 'ず'
		case 'ぁ', 'ぃ', 'ぅ', 'ぇ', 'ぉ', 'ゎ':
			r = smallToLarge[r]
		case 'ー', '〜', '～':
			if r != 'ー' {
				// A wave dash inside kana is a long vowel; elsewhere a separator.
				if len(out) == 0 || vowelOf(out[len(out)-1]) == 0 {
					out = append(out, ' ')
					continue
				}
			}
			// The long-vowel mark: spelled out inside a word, dropped at its end.
			if len(out) == 0 || vowelOf(out[len(out)-1]) == 0 {
				continue
			}
			if !isKana(next) && next != 'ー' {
				continue
			}
			out = append(out, vowelOf(out[len(out)-1]))
			continue
		}
		out = append(out, r)
	}
	return string(out)
}

// Tokens splits normalised text into words: maximal runs of letters and
// digits of one script group (kana and kanji, or anything else), so
// "usbハブ" gives "usb" and "ハブ". Each token is cut to MaxTokenRunes.
// The input should already be normalised.
func Tokens(s string) []string {
	var toks []string
	start := -1
	prevCJK := false
	for i, r := range s {
		if isWordRune(r) {
			cjk := isCJKRune(r)
			if start >= 0 && cjk != prevCJK && !unicode.Is(unicode.Mn, r) {
				// A change of script ends a word: "usbハブ" is "usb" and "ハブ".
				toks = append(toks, clip(s[start:i]))
				start = -1
			}
			if start < 0 {
				start = i
			}
			prevCJK = cjk
			continue
		}
		if start >= 0 {
			toks = append(toks, clip(s[start:i]))
			start = -1
		}
	}
	if start >= 0 {
		toks = append(toks, clip(s[start:]))
	}
	return toks
}

// IsCJK reports whether the token holds a Han, Hiragana or Katakana
// character: such tokens are matched by character bigrams, not as words.
func IsCJK(tok string) bool {
	for _, r := range tok {
		if isCJKRune(r) {
			return true
		}
	}
	return false
}

// DocGrams returns the distinct grams of a document's normalised text for
// the bigram index: every bigram of adjacent characters within a token that
// holds a non-ASCII character, and every non-ASCII character alone (so 1-
// character queries such as 靴 use the index). Sorted, no duplicates.
func DocGrams(s string) []string {
	set := map[string]struct{}{}
	for _, tok := range Tokens(s) {
		if !IsCJK(tok) {
			continue
		}
		rs := []rune(tok)
		for i, r := range rs {
			if r >= utf8.RuneSelf {
				set[string(r)] = struct{}{}
			}
			if i+1 < len(rs) {
				set[string(rs[i:i+2])] = struct{}{}
			}
		}
	}
	return sortedKeys(set)
}

// QueryGrams returns the grams a CJK query token needs in a document: its
// bigrams, or the character itself for a 1-character token. A document
// holding them all is a candidate; a LIKE on the text confirms it.
func QueryGrams(tok string) []string {
	rs := []rune(tok)
	if len(rs) == 1 {
		return []string{tok}
	}
	set := map[string]struct{}{}
	for i := 0; i+1 < len(rs); i++ {
		set[string(rs[i:i+2])] = struct{}{}
	}
	return sortedKeys(set)
}

func sortedKeys(set map[string]struct{}) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func clip(tok string) string {
	if utf8.RuneCountInString(tok) <= MaxTokenRunes {
		return tok
	}
	rs := []rune(tok)
	return string(rs[:MaxTokenRunes])
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == 'ー' || unicode.Is(unicode.Mn, r)
}

func isCJKRune(r rune) bool {
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r) || r == 'ー'
}

func isKana(r rune) bool {
	return unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r)
}

// toHiragana maps a katakana letter to its hiragana (ヴ to ゔ); others unchanged.
func toHiragana(r rune) rune {
	if r >= 'ァ' && r <= 'ヶ' {
		return r - 0x60
	}
	if r == 'ヽ' || r == 'ヾ' {
		return r - 0x60
	}
	return r
}

// combo folds ふ/ゔ followed by a small vowel into one kana.
func combo(r, next rune) (rune, bool) {
	f, ok := comboTable[r][next]
	return f, ok
}

var comboTable = map[rune]map[rune]rune{
	'ふ': {'ぁ': 'は', 'ぃ': 'ひ', 'ぇ': 'へ', 'ぉ': 'ほ'},
	'ゔ': {'ぁ': 'ば', 'ぃ': 'び', 'ぇ': 'べ', 'ぉ': 'ぼ', 'ぅ': 'ぶ'},
}

var smallToLarge = map[rune]rune{'ぁ': 'あ', 'ぃ': 'い', 'ぅ': 'う', 'ぇ': 'え', 'ぉ': 'お', 'ゎ': 'わ'}

// vowelOf returns the vowel a hiragana ends in (あいうえお), or 0.
func vowelOf(r rune) rune {
	switch {
	case strings.ContainsRune("あかさたなはまやらわがざだばぱぁゃゎ", r):
		return 'あ'
	case strings.ContainsRune("いきしちにひみりぎじぢびぴぃ", r):
		return 'い'
	case strings.ContainsRune("うくすつぬふむゆるぐずづぶぷぅゅゔ", r):
		return 'う'
	case strings.ContainsRune("えけせてねへめれげぜでべぺぇ", r):
		return 'え'
	case strings.ContainsRune("おこそとのほもよろをごぞどぼぽぉょ", r):
		return 'お'
	}
	return 0
}

// Respellings returns other spellings of a query to try when it matches
// nothing as typed, most likely first: loanwords whose katakana differ
// from the merchant's. A long-vowel mark the title does not write is
// dropped (ヘッドホーン → ヘッドホン), and a Latin letter spelled in katakana
// before a word becomes the letter (ティーシャツ → Tシャツ, ブイネック →
// Vネック). The spellings are normalised; none equals Normalize(s).
func Respellings(s string) []string {
	n := Normalize(s)
	var out []string
	add := func(v string) {
		if v != n && v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	nfkc := norm.NFKC.String(s)
	if strings.ContainsRune(nfkc, 'ー') {
		add(Normalize(strings.ReplaceAll(nfkc, "ー", "")))
	}
	letters := n
	for _, ln := range letterNames {
		letters = replaceWordStart(letters, ln.kana, ln.letter)
	}
	add(letters)
	return out
}

// letterNames are Latin letters as katakana spell them (normalised), the
// ones that begin product words: Tシャツ, Dリング, Vネック, Uネック.
var letterNames = []struct{ kana, letter string }{
	{"ていい", "t"}, {"でいい", "d"}, {"ぶい", "v"}, {"ゆう", "u"},
}

// replaceWordStart replaces prefix at the start of each word of s by with,
// when at least two kana follow it in the word.
func replaceWordStart(s, prefix, with string) string {
	rs := []rune(s)
	pr := []rune(prefix)
	var out []rune
	for i := 0; i < len(rs); i++ {
		start := i == 0 || !isWordRune(rs[i-1])
		if start && i+len(pr)+2 <= len(rs) && string(rs[i:i+len(pr)]) == prefix &&
			isKana(rs[i+len(pr)]) && isKana(rs[i+len(pr)+1]) {
			out = append(out, []rune(with)...)
			i += len(pr) - 1
			continue
		}
		out = append(out, rs[i])
	}
	return string(out)
}
