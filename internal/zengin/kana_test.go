package zengin_test

import (
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/internal/zengin"
)

func TestFold(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"ﾔﾏﾀﾞ ﾀﾛｳ", "ﾔﾏﾀﾞ ﾀﾛｳ"},
		{"ヤマダ　タロウ", "ﾔﾏﾀﾞ ﾀﾛｳ"},
		{"やまだ たろう", "ﾔﾏﾀﾞ ﾀﾛｳ"},
		{"ガギグゲゴ パピプペポ", "ｶﾞｷﾞｸﾞｹﾞｺﾞ ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ"},
		{"ヴ ゔ", "ｳﾞ ｳﾞ"},
		{"カ\u3099", "ｶﾞ"},                // decomposed voiced mark
		{"カ゛ハ゜", "ｶﾞﾊﾟ"},                 // spacing sound marks
		{"ショウカイ", "ｼﾖｳｶｲ"},               // small kana → large
		{"ｼｮｳｶｲ ｷｯﾃ", "ｼﾖｳｶｲ ｷﾂﾃ"},       // half-width small kana
		{"ァィゥェォッャュョヮヵヶ", "ｱｲｳｴｵﾂﾔﾕﾖﾜｶｹ"}, // all small katakana
		{"ぁぃぅぇぉっゃゅょゎゕゖ", "ｱｲｳｴｵﾂﾔﾕﾖﾜｶｹ"}, // all small hiragana
		{"ヲ ｦ を ヰ ヱ", "ｵ ｵ ｵ ｲ ｴ"},
		{"ヷ ヺ", "ﾜﾞ ｵﾞ"},
		{"コーヒー ｺｰﾋｰ", "ｺ-ﾋ- ｺ-ﾋ-"},
		{"abc xyz", "ABC XYZ"},
		{"ＡＢＣ ａｂｃ １２３", "ABC ABC 123"},
		{"（カ）サンプル", "(ｶ)ｻﾝﾌﾟﾙ"},
		{"カ）サンプル", "ｶ)ｻﾝﾌﾟﾙ"},
		{"Ａ．Ｂ，Ｃ／Ｄ－Ｅ", "A.B,C/D-E"},
		{"ヤマダ・タロウ", "ﾔﾏﾀﾞ.ﾀﾛｳ"},
		{"、。「」", ",.｢｣"},
		{"¥￥", "\\\\"},
		{"‐—−～~", "-----"},
		{"山田", "山田"}, // kept for ValidName to name
		{"", ""},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got := zengin.Fold(tc.in)
			require.Equal(t, tc.want, got)
			require.Equal(t, got, zengin.Fold(got), "idempotent")
		})
	}
}

func TestValidName(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in      string
		wantErr string
	}{
		{"ﾔﾏﾀﾞ ﾀﾛｳ", ""},
		{"ｶ)ｻﾝﾌﾟﾙ(ﾄｳｷﾖｳ)", ""},
		{"ABC-123./,\\｢｣", ""},
		{"", ""},
		{"ﾔﾏﾀﾞ ﾀﾛｳ ", ""},
		{"ﾔﾏﾀﾞa", `'a' at position 5`},
		{"ｼｮｳ", `'ｮ' at position 2`},
		{"ｺｰﾋｰ", `'ｰ' at position 2`},
		{"ヤマダ", `'ヤ' at position 1`},
		{"ﾔﾏﾀﾞ*", `'*' at position 5`},
		{"ﾔﾏﾀﾞ・", `'・' at position 5`},
		{"山田", `'山' at position 1`},
		{"A&B", `'&' at position 2`},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			err := zengin.ValidName(tc.in)
			if tc.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, zengin.ErrCharset)
			require.ErrorContains(t, err, tc.wantErr)
		})
	}
}

func TestMatchKey(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"ﾔﾏﾀﾞ ﾀﾛｳ", "ﾔﾏﾀﾀﾛｳ"},
		{"ヤマダ　タロウ", "ﾔﾏﾀﾀﾛｳ"},
		{"ﾔﾏﾀ ﾀﾛｳ", "ﾔﾏﾀﾀﾛｳ"}, // unvoiced spelling matches
		{"1234567 ﾔﾏﾀﾞ ﾀﾛｳ", "1234567ﾔﾏﾀﾀﾛｳ"},
		{"ｶ)ｻﾝﾌﾟﾙｼﾖｳｶｲ", "ｻﾝﾌﾙｼﾖｳｶｲ"},
		{"ｻﾝﾌﾟﾙｼｮｳｶｲ(ｶ", "ｻﾝﾌﾙｼﾖｳｶｲ"},
		{"ｻﾝﾌﾟﾙｼﾖｳｶｲ(ｶ)", "ｻﾝﾌﾙｼﾖｳｶｲ"},
		{"ｻﾝﾌﾟﾙ(ｶ)ﾄｳｷﾖｳｼﾃﾝ", "ｻﾝﾌﾙﾄｳｷﾖｳｼﾃﾝ"},
		{"( ｶ ) ｻﾝﾌﾟﾙ", "ｻﾝﾌﾙ"},
		{"カ）サンプル", "ｻﾝﾌﾙ"},
		{"（カ）サンプル", "ｻﾝﾌﾙ"},
		{"か）さんぷる", "ｻﾝﾌﾙ"},
		{"ﾕ)ﾐﾅﾐﾔ", "ﾐﾅﾐﾔ"},
		{"ﾄﾞ)ｷﾀﾉｺｳﾎﾞｳ", "ｷﾀﾉｺｳﾎｳ"},
		{"ｷﾀﾉｺｳﾎﾞｳ(ﾄﾞ", "ｷﾀﾉｺｳﾎｳ"},
		{"ｲ)ｹﾝｺｳｶｲ", "ｹﾝｺｳｶｲ"},
		{"ｼﾔ)ﾆﾎﾝｷﾖｳｶｲ", "ﾆﾎﾝｷﾖｳｶｲ"},
		{"ｻﾞｲ)ﾆﾎﾝｷﾖｳｶｲ", "ﾆﾎﾝｷﾖｳｶｲ"},
		{"ｶﾌﾞｼｷｶﾞｲｼﾔ ｻﾝﾌﾟﾙ", "ｻﾝﾌﾙ"},
		{"ｻﾝﾌﾟﾙ ｶﾌﾞｼｷｶｲｼｬ", "ｻﾝﾌﾙ"},
		{"カブシキガイシャサンプル", "ｻﾝﾌﾙ"},
		{"ﾕｳｹﾞﾝｶﾞｲｼﾔ ﾐﾅﾐﾔ", "ﾐﾅﾐﾔ"},
		{"ｺﾞｳﾄﾞｳｶﾞｲｼﾔ ｷﾀﾉ", "ｷﾀﾉ"},
		{"ｲﾂﾊﾟﾝｼﾔﾀﾞﾝﾎｳｼﾞﾝ ﾆﾎﾝ", "ﾆﾎﾝ"},
		{"ｶﾜｻｷ ｼﾝｼﾞ", "ｶﾜｻｷｼﾝｼ"},      // a name starting with ｶ is not an abbreviation
		{"(ｶﾜｻｷ", "ｶﾜｻｷ"},             // nor one after a parenthesis
		{"ﾀｶ)", "ﾀｶ"},                 // ｶ) inside a word is kept
		{"ｶﾞｸ)ﾎﾝﾃﾝｶﾞｸｴﾝ", "ﾎﾝﾃﾝｶｸｴﾝ"}, // 学校法人
		{"ｶﾞ)ﾃｽﾄ", "ｶﾃｽﾄ"},            // ｶﾞ is not ｶ
		{"ﾔﾏﾀﾞ-ﾀﾛｳ.", "ﾔﾏﾀﾀﾛｳ"},
		{"", ""},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, zengin.MatchKey(tc.in))
		})
	}
}

func FuzzFold(f *testing.F) {
	for _, s := range []string{"ﾔﾏﾀﾞ ﾀﾛｳ", "カ）サンプル", "ｶﾌﾞｼｷｶﾞｲｼﾔ", "やまだ", "ＡＢＣ", "\u3099", "(ｶ", "山田", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := zengin.Fold(s)
		require.Equal(t, got, zengin.Fold(got), "Fold is idempotent")
		k := zengin.MatchKey(s)
		require.NoError(t, zengin.ValidName(k), "a match key holds only bank characters")
		require.Equal(t, k, zengin.MatchKey(got))
		if utf8.ValidString(s) && zengin.ValidName(got) == nil {
			require.NoError(t, zengin.ValidName(zengin.Fold(got)))
		}
	})
}
