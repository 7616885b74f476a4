package contact

import (
	"fmt"
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/honten/honten/domain/errs"
)

// Prefecture is one of Japan's 47 prefectures (都道府県), numbered by its JIS
// X 0401 code: 1 is 北海道, 13 is 東京都, 47 is 沖縄県. The zero Prefecture is
// "no prefecture".
type Prefecture uint8

type prefectureInfo struct {
	name   string // 東京都
	romaji string // tokyo, lower case without macrons
	suffix string // romanised suffix of the name: to, do, fu or ken
}

// prefectures is indexed by JIS code; index 0 is unused.
var prefectures = [48]prefectureInfo{
	{},
	{"北海道", "hokkaido", ""}, {"青森県", "aomori", "ken"}, {"岩手県", "iwate", "ken"},
	{"宮城県", "miyagi", "ken"}, {"秋田県", "akita", "ken"}, {"山形県", "yamagata", "ken"},
	{"福島県", "fukushima", "ken"}, {"茨城県", "ibaraki", "ken"}, {"栃木県", "tochigi", "ken"},
	{"群馬県", "gunma", "ken"}, {"埼玉県", "saitama", "ken"}, {"千葉県", "chiba", "ken"},
	{"東京都", "tokyo", "to"}, {"神奈川県", "kanagawa", "ken"}, {"新潟県", "niigata", "ken"},
	{"富山県", "toyama", "ken"}, {"石川県", "ishikawa", "ken"}, {"福井県", "fukui", "ken"},
	{"山梨県", "yamanashi", "ken"}, {"長野県", "nagano", "ken"}, {"岐阜県", "gifu", "ken"},
	{"静岡県", "shizuoka", "ken"}, {"愛知県", "aichi", "ken"}, {"三重県", "mie", "ken"},
	{"滋賀県", "shiga", "ken"}, {"京都府", "kyoto", "fu"}, {"大阪府", "osaka", "fu"},
	{"兵庫県", "hyogo", "ken"}, {"奈良県", "nara", "ken"}, {"和歌山県", "wakayama", "ken"},
	{"鳥取県", "tottori", "ken"}, {"島根県", "shimane", "ken"}, {"岡山県", "okayama", "ken"},
	{"広島県", "hiroshima", "ken"}, {"山口県", "yamaguchi", "ken"}, {"徳島県", "tokushima", "ken"},
	{"香川県", "kagawa", "ken"}, {"愛媛県", "ehime", "ken"}, {"高知県", "kochi", "ken"},
	{"福岡県", "fukuoka", "ken"}, {"佐賀県", "saga", "ken"}, {"長崎県", "nagasaki", "ken"},
	{"熊本県", "kumamoto", "ken"}, {"大分県", "oita", "ken"}, {"宮崎県", "miyazaki", "ken"},
	{"鹿児島県", "kagoshima", "ken"}, {"沖縄県", "okinawa", "ken"},
}

// prefectureIndex maps every accepted spelling (after normalisation) to its
// prefecture: full and short Japanese names, "13", "jp-13", romaji with and
// without its suffix.
var prefectureIndex = func() map[string]Prefecture {
	m := make(map[string]Prefecture, 47*8)
	for i := 1; i < len(prefectures); i++ {
		p, info := Prefecture(i), prefectures[i]
		code := fmt.Sprintf("%02d", i)
		m[info.name] = p
		if p != 1 { // 北海道 has no short form: 北海 is not a name.
			short := []rune(info.name)
			m[string(short[:len(short)-1])] = p
		}
		m[code] = p
		m["jp-"+code] = p
		m[info.romaji] = p
		if info.suffix != "" {
			m[info.romaji+"-"+info.suffix] = p
			m[info.romaji+" "+info.suffix] = p
		}
	}
	return m
}()

// ParsePrefecture parses a prefecture written as its Japanese name
// ("東京都", or "東京" without the 都道府県 suffix, except 北海道), its
// two-digit JIS code ("13"), its ISO 3166-2 code ("JP-13") or its romaji
// name, case-insensitive, with or without macrons and suffix ("Tokyo",
// "Kōchi", "Aichi-ken", "Osaka Prefecture"). Surrounding space is trimmed
// and full-width characters folded. It returns an Invalid *errs.Error for the
// field "prefecture" otherwise.
func ParsePrefecture(s string) (Prefecture, error) {
	if len(s) > 64 {
		return 0, errs.Field("prefecture", "must be one of the 47 prefectures")
	}
	if p, ok := prefectureIndex[normalizePrefecture(s)]; ok {
		return p, nil
	}
	return 0, errs.Field("prefecture", "must be one of the 47 prefectures")
}

// normalizePrefecture folds s for a look-up in prefectureIndex: NFKC,
// trimmed, ASCII lower-cased, macrons and circumflexes removed, a trailing
// " prefecture" or " pref." dropped.
func normalizePrefecture(s string) string {
	s = strings.TrimSpace(norm.NFKC.String(s))
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case 'A' <= r && r <= 'Z':
			r += 'a' - 'A'
		case r == '\u0304' || r == '\u0302': // combining macron, circumflex
			continue
		}
		b.WriteRune(r)
	}
	s = norm.NFC.String(b.String())
	for _, suffix := range []string{" prefecture", " pref.", " pref"} {
		if t, ok := strings.CutSuffix(s, suffix); ok {
			return strings.TrimSpace(t)
		}
	}
	return s
}

// Prefectures returns the 47 prefectures in JIS order, for select boxes.
func Prefectures() []Prefecture {
	ps := make([]Prefecture, 47)
	for i := range ps {
		ps[i] = Prefecture(i + 1)
	}
	return ps
}

// Valid reports whether p is one of the 47 prefectures.
func (p Prefecture) Valid() bool { return p >= 1 && p <= 47 }

// IsZero reports whether p is the zero Prefecture.
func (p Prefecture) IsZero() bool { return p == 0 }

// String returns the Japanese name, "東京都", or "" when p is not valid.
func (p Prefecture) String() string {
	if !p.Valid() {
		return ""
	}
	return prefectures[p].name
}

// Code returns the two-digit JIS X 0401 code, "13", or "" when p is not
// valid.
func (p Prefecture) Code() string {
	if !p.Valid() {
		return ""
	}
	return fmt.Sprintf("%02d", uint8(p))
}

// Romaji returns the Hepburn name without macrons and suffix, "Tokyo", or ""
// when p is not valid.
func (p Prefecture) Romaji() string {
	if !p.Valid() {
		return ""
	}
	r := prefectures[p].romaji
	return strings.ToUpper(r[:1]) + r[1:]
}

// MarshalText returns the Japanese name.
func (p Prefecture) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText parses the prefecture with ParsePrefecture and returns its
// error.
func (p *Prefecture) UnmarshalText(b []byte) error {
	v, err := ParsePrefecture(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}
