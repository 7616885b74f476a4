package contact_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/contact"
	"github.com/honten/honten/domain/errs"
)

// requireFuzzInvalid checks that err is an Invalid *errs.Error whose every
// field is one of fields.
func requireFuzzInvalid(t *testing.T, err error, fields ...string) {
	t.Helper()

	e, ok := errs.As(err)
	require.True(t, ok, "want *errs.Error, got %T %v", err, err)
	require.Equal(t, errs.KindInvalid, e.Kind)
	require.NotEmpty(t, e.Fields)
	for _, f := range e.Fields {
		require.Contains(t, fields, f.Field)
	}
}

func FuzzParseEmail(f *testing.F) {
	for _, s := range []string{
		"taro@example.com", " Taro@EXAMPLE.co.jp ", "ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍ", "taro..yamada.@docomo.ne.jp",
		"@", "a@b", "a@b.c", "a@1.2", "a@-b.com", `"a b"@c.com`, "a@b@c.com", "太郎@例え.jp", "a\x00@b.com",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := contact.ParseEmail(s)
		if err != nil {
			requireFuzzInvalid(t, err, "email")
			require.True(t, e.IsZero())
			return
		}
		str := e.String()
		require.LessOrEqual(t, len(str), 254)
		require.Equal(t, 1, strings.Count(str, "@"))
		require.Equal(t, strings.ToLower(e.Domain()), e.Domain())
		for i := 0; i < len(str); i++ {
			require.True(t, str[i] > ' ' && str[i] < 0x7f, "printable ASCII only")
		}
		again, err := contact.ParseEmail(str)
		require.NoError(t, err)
		require.Equal(t, e, again)
	})
}

func FuzzParsePhone(f *testing.F) {
	for _, s := range []string{
		"090-1234-5678", "03-1234-5678", "０９０－１２３４－５６７８", "+81 (0)3-1234-5678", "+81-90-1234-5678",
		"0120-123-456", "0800-123-4567", "090ー1234ー5678", "(03)1234\u22125678", "", "+", "+1 212 555 0100",
		"0012345678", "090-123-4567", "\u3000０３\u3000", "090\xff1234",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := contact.ParsePhone(s)
		if err != nil {
			requireFuzzInvalid(t, err, "phone")
			require.True(t, p.IsZero())
			return
		}
		d := p.String()
		require.Contains(t, []int{10, 11}, len(d))
		require.Equal(t, byte('0'), d[0])
		require.NotContains(t, p.Masked(), d)
		again, err := contact.ParsePhone(d)
		require.NoError(t, err)
		require.Equal(t, p, again)
		again, err = contact.ParsePhone(d[:3] + "-" + d[3:])
		require.NoError(t, err, "a hyphenated form parses too")
		require.Equal(t, p, again)
	})
}

func FuzzParsePostalCode(f *testing.F) {
	for _, s := range []string{
		"1500041", "150-0041", "〒150-0041", "〒 １５０－００４１", "150ー0041", "", "〒", "1500-041", "15000411", "\xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := contact.ParsePostalCode(s)
		if err != nil {
			requireFuzzInvalid(t, err, "postal_code")
			require.True(t, p.IsZero())
			return
		}
		require.Len(t, p.Digits(), 7)
		for _, in := range []string{p.String(), p.Digits(), "〒" + p.String()} {
			again, err := contact.ParsePostalCode(in)
			require.NoError(t, err)
			require.Equal(t, p, again)
		}
	})
}

func FuzzParsePrefecture(f *testing.F) {
	for _, s := range []string{
		"東京都", "東京", "13", "JP-13", "Tokyo", "Tōkyō", "Osaka Prefecture", "Aichi-ken", "北海道", "北海",
		"００", "48", "", "\xff", "Ｔｏｋｙｏ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := contact.ParsePrefecture(s)
		if err != nil {
			requireFuzzInvalid(t, err, "prefecture")
			require.True(t, p.IsZero())
			return
		}
		require.True(t, p.Valid())
		for _, in := range []string{p.String(), p.Code(), "JP-" + p.Code(), p.Romaji()} {
			again, err := contact.ParsePrefecture(in)
			require.NoError(t, err)
			require.Equal(t, p, again)
		}
	})
}

func FuzzParseName(f *testing.F) {
	for _, s := range []string{
		"山田 太郎", " 山田\u3000太郎 ", "ﾔﾏﾀﾞ ﾀﾛｳ", "Jane  Doe", "Jose\u0301", "", "\n", "a\u202eb", "\xff",
		strings.Repeat("㍿", 30), "e \u0301", " \u0301a",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := contact.ParseName(s)
		if err != nil {
			requireFuzzInvalid(t, err, "name")
			require.True(t, n.IsZero())
			return
		}
		str := n.String()
		require.True(t, utf8.ValidString(str))
		require.NotEmpty(t, str)
		require.LessOrEqual(t, utf8.RuneCountInString(str), contact.MaxNameLen)
		require.Equal(t, strings.TrimSpace(str), str)
		again, err := contact.ParseName(str)
		require.NoError(t, err)
		require.Equal(t, n, again)
	})
}

var addressFields = []string{"postal_code", "prefecture", "city", "line1", "line2"}

func FuzzParseAddress(f *testing.F) {
	f.Add("150-0041", "東京都", "渋谷区", "神南1-2-3", "渋谷ビル 4F")
	f.Add("〒１５００８０１", "Osaka", " 大阪市北区 ", "梅田１－１", "")
	f.Add("1", "x", "", "", "\x00")
	f.Add("1500041", "13", "a\nb", strings.Repeat("あ", 101), "\xff")
	f.Fuzz(func(t *testing.T, postal, pref, city, line1, line2 string) {
		a, err := contact.NewAddress(postal, pref, city, line1, line2)
		if err != nil {
			requireFuzzInvalid(t, err, addressFields...)
			e, _ := errs.As(err)
			last := -1
			for _, fe := range e.Fields {
				i := slices.Index(addressFields, fe.Field)
				require.Greater(t, i, last, "fields in form order, each once: %v", e.Fields)
				last = i
			}
			return
		}
		again, err := contact.NewAddress(a.PostalCode.String(), a.Prefecture.String(), a.City, a.Line1, a.Line2)
		require.NoError(t, err)
		require.Equal(t, a, again)

		b, err := json.Marshal(a)
		require.NoError(t, err)
		var back contact.Address
		require.NoError(t, json.Unmarshal(b, &back))
		require.Equal(t, a, back)
	})
}
