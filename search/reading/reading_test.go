package reading_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/search/reading"
	"github.com/honten/honten/search/textnorm"
)

func TestOfReadsKanjiAsShoppersTypeIt(t *testing.T) {
	t.Parallel()
	cases := []struct{ text, reading string }{
		{"宇治 限定 宇治抹茶 No.3", "うじ げんてい うじまっちゃ"},
		{"ほうじ茶", "ほうじちゃ"},
		{"腕時計", "うでどけい"},
		{"靴下", "くつした"},
		{"手拭い", "てぬぐい"},
		{"手ぬぐい", "てぬぐい"},
		{"どら焼き", "どらやき"},
		{"ドラ焼", "どらやき"},
		{"長靴", "ながぐつ"},
		{"ワイヤレスヘッドホン", "わいやれすへっどほん"},
		{"ﾍｯﾄﾞﾎﾝ", "へっどほん"},
		{"Organic Cotton Tee", ""},
	}
	for _, c := range cases {
		require.Equal(t, c.reading, reading.Of(c.text).Reading, c.text)
	}
}

func TestReadingsAreFoldedLikeQueries(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"宇治 限定 宇治抹茶 No.3", "ワイヤレスヘッドホン（黒）", "【静音】象印 加湿器", "手拭い"} {
		r := reading.Of(s)
		require.Equal(t, textnorm.Normalize(r.Reading), r.Reading, s)
		for _, w := range r.Words {
			require.Equal(t, textnorm.Normalize(w), w, s)
		}
	}
}

func TestWordsAreWholeWords(t *testing.T) {
	t.Parallel()
	uji := reading.Of("宇治抹茶").Words
	require.Contains(t, uji, "うじ")
	require.Contains(t, uji, "まっちゃ")
	require.Contains(t, uji, "宇治抹茶")
	require.Contains(t, uji, "うじまっちゃ")
	hoji := reading.Of("ほうじ茶").Words
	require.NotContains(t, hoji, "うじ")
	require.Contains(t, hoji, "ほうじちゃ")
}

func TestQueryReadsOnlyKanji(t *testing.T) {
	t.Parallel()
	require.Nil(t, reading.Query("まっちゃ"))
	require.Nil(t, reading.Query("headphones"))
	require.Equal(t, []string{"てぬぐい"}, reading.Query("手拭い"))
	require.Equal(t, []string{"きょうと", "てぬぐい"}, reading.Query("京都 手拭い"))
}

// TestLoadOnceShared loads the analyzer from many goroutines: one load,
// the same figures for every caller.
func TestLoadOnceShared(t *testing.T) {
	t.Parallel()
	var wg sync.WaitGroup
	got := make([]reading.LoadStats, 16)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := reading.Load()
			require.NoError(t, err)
			got[i] = s
			require.Equal(t, "くつした", reading.Of("靴下").Reading)
		}()
	}
	wg.Wait()
	for _, s := range got {
		require.Equal(t, got[0], s)
	}
	require.Positive(t, got[0].Duration)
	t.Logf("analyzer loaded in %s, heap +%.1f MB", got[0].Duration, float64(got[0].HeapBytes)/1e6)
}

func TestParticlesAreNoWords(t *testing.T) {
	t.Parallel()
	w := reading.Of("季節の 煎茶").Words
	require.NotContains(t, w, "の")
	require.Contains(t, w, "季節の")
	require.Contains(t, w, "きせつ")
}
