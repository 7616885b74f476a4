package textnorm_test

import (
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/search/textnorm"
)

func TestNormalizeFoldsVariants(t *testing.T) {
	t.Parallel()
	same := [][]string{
		{"ヘッドホン", "ヘッドフォン", "へっどほん", "ﾍｯﾄﾞﾎﾝ", "ﾍｯﾄﾞﾌｫﾝ"},
		{"コンピュータ", "コンピューター", "こんぴゅーた"},
		{"ウイスキー", "ウィスキー"},
		{"バイオリン", "ヴァイオリン"},
		{"USB", "ＵＳＢ", "usb"},
		{"ちぢみ", "ちじみ"},
		{"コーヒー", "コーヒ"},
	}
	for _, group := range same {
		want := textnorm.Normalize(group[0])
		for _, s := range group[1:] {
			require.Equal(t, want, textnorm.Normalize(s), "%s vs %s", group[0], s)
		}
	}
	// Folding keeps words apart that differ.
	require.NotEqual(t, textnorm.Normalize("ボール"), textnorm.Normalize("ボルト"))
	require.NotContains(t, textnorm.Normalize("ボルト"), textnorm.Normalize("ボール"))
	require.Equal(t, "wireless  headphones 黒", textnorm.Normalize("Ｗireless  Headphones 黒"))
}

func TestTokensAndGrams(t *testing.T) {
	t.Parallel()
	n := textnorm.Normalize("ソニー 防水ワイヤレスヘッドホン 黒 WH-1000XM5")
	toks := textnorm.Tokens(n)
	require.Equal(t, []string{"そに", "防水わいやれすへっどほん", "黒", "wh", "1000xm5"}, toks)
	require.Equal(t, []string{"usb", "はぶ", "4", "ぽおと"}, textnorm.Tokens(textnorm.Normalize("ＵＳＢハブ ４ポート")))
	require.True(t, textnorm.IsCJK(toks[1]))
	require.False(t, textnorm.IsCJK(toks[3]))
	grams := textnorm.DocGrams(n)
	require.Contains(t, grams, "黒")
	require.Contains(t, grams, "防水")
	require.Contains(t, grams, "どほ")
	require.NotContains(t, grams, "wh")
	require.Equal(t, []string{"時"}, textnorm.QueryGrams("時"))
	require.Equal(t, []string{"時計"}, textnorm.QueryGrams("時計"))
	require.ElementsMatch(t, []string{"腕時", "時計"}, textnorm.QueryGrams("腕時計"))
	long := textnorm.Tokens(string(make([]rune, 0)) + stringsRepeat("あ", 500))
	require.Len(t, long, 1)
	require.Equal(t, textnorm.MaxTokenRunes, utf8.RuneCountInString(long[0]))
}

func stringsRepeat(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"ヘッドフォン", "ﾍｯﾄﾞﾎﾝ", "コーヒーー", "ー", "〜ー〜", "ゔぁ", "ＡＢＣ", "\xff\xfe", "İstanbul", "ﬁ", "a\u0301", "ヴ", "ｳﾞ", "\xc3Y\u030a", "ぅ\u3099", "ゥ\u3099ー"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := textnorm.Normalize(s)
		require.True(t, utf8.ValidString(n))
		require.Equal(t, n, textnorm.Normalize(n), "not idempotent for %q", s)
		for _, tok := range textnorm.Tokens(n) {
			require.NotEmpty(t, tok)
			require.LessOrEqual(t, utf8.RuneCountInString(tok), textnorm.MaxTokenRunes)
			for _, g := range textnorm.QueryGrams(tok) {
				require.NotEmpty(t, g)
			}
		}
		_ = textnorm.DocGrams(n)
	})
}
