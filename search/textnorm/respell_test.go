package textnorm_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/search/textnorm"
)

func TestRespellingsOfLoanwords(t *testing.T) {
	t.Parallel()
	cases := []struct {
		q    string
		want string
	}{
		{"ヘッドホーン", textnorm.Normalize("ヘッドホン")},
		{"ﾍｯﾄﾞﾎｰﾝ", textnorm.Normalize("ヘッドホン")},
		{"ティーシャツ", textnorm.Normalize("Tシャツ")},
		{"白 ティーシャツ", textnorm.Normalize("白 Tシャツ")},
		{"ブイネック", textnorm.Normalize("Vネック")},
	}
	for _, c := range cases {
		require.Contains(t, textnorm.Respellings(c.q), c.want, c.q)
	}
	// Nothing to respell: no variant, and never the query itself.
	require.Empty(t, textnorm.Respellings("headphones"))
	require.Empty(t, textnorm.Respellings("抹茶"))
	require.NotContains(t, textnorm.Respellings("パーカー"), textnorm.Normalize("パーカー"))
	// A letter name needs a word after it: ティー alone (tea) stays.
	require.NotContains(t, textnorm.Respellings("ティー"), "t")
}
