package contact_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/contact"
)

func TestParsePrefecture(t *testing.T) {
	t.Parallel()

	tests := []struct {
		in       string
		wantCode string // "" means invalid
	}{
		{in: "東京都", wantCode: "13"},
		{in: "東京", wantCode: "13"},
		{in: " 東京都 ", wantCode: "13"},
		{in: "13", wantCode: "13"},
		{in: "１３", wantCode: "13"},
		{in: "13\u3000", wantCode: "13"},
		{in: "JP-13", wantCode: "13"},
		{in: "jp-13", wantCode: "13"},
		{in: "ＪＰ－１３", wantCode: "13"},
		{in: "Tokyo", wantCode: "13"},
		{in: "TOKYO", wantCode: "13"},
		{in: "tokyo", wantCode: "13"},
		{in: "Tōkyō", wantCode: "13"},
		{in: "Tokyo-to", wantCode: "13"},
		{in: "北海道", wantCode: "01"},
		{in: "01", wantCode: "01"},
		{in: "Hokkaido", wantCode: "01"},
		{in: "Hokkaidō", wantCode: "01"},
		{in: "京都府", wantCode: "26"},
		{in: "京都", wantCode: "26"},
		{in: "Kyoto", wantCode: "26"},
		{in: "Kyoto-fu", wantCode: "26"},
		{in: "大阪府", wantCode: "27"},
		{in: "大阪", wantCode: "27"},
		{in: "Osaka Prefecture", wantCode: "27"},
		{in: "Ōsaka", wantCode: "27"},
		{in: "神奈川県", wantCode: "14"},
		{in: "神奈川", wantCode: "14"},
		{in: "Aichi-ken", wantCode: "23"},
		{in: "aichi ken", wantCode: "23"},
		{in: "Aichi Pref.", wantCode: "23"},
		{in: "Kōchi", wantCode: "39"},
		{in: "Kôchi", wantCode: "39"},
		{in: "Hyōgo", wantCode: "28"},
		{in: "Ōita", wantCode: "44"},
		{in: "鹿児島", wantCode: "46"},
		{in: "沖縄県", wantCode: "47"},
		{in: "47", wantCode: "47"},
		{in: "JP-47", wantCode: "47"},
		{in: ""},
		{in: "北海"},
		{in: "東"},
		{in: "東京府"},
		{in: "Tokyo-ken"},
		{in: "Hokkaido-do"},
		{in: "00"},
		{in: "48"},
		{in: "JP-48"},
		{in: "JP13"},
		{in: "1"},
		{in: "013"},
		{in: "Tokio"},
		{in: "とうきょう"},
		{in: "トウキョウ"},
		{in: "New York"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()

			got, err := contact.ParsePrefecture(tt.in)
			if tt.wantCode == "" {
				requireInvalid(t, err, "prefecture")
				require.True(t, got.IsZero())
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.wantCode, got.Code())
		})
	}
}

func TestPrefectureTable(t *testing.T) {
	t.Parallel()

	all := contact.Prefectures()
	require.Len(t, all, 47)
	names := map[string]bool{}
	for i, p := range all {
		require.True(t, p.Valid())
		require.Equal(t, fmt.Sprintf("%02d", i+1), p.Code())
		require.False(t, names[p.String()], "duplicate %s", p)
		names[p.String()] = true

		for _, in := range []string{p.String(), p.Code(), "JP-" + p.Code(), p.Romaji()} {
			got, err := contact.ParsePrefecture(in)
			require.NoError(t, err, in)
			require.Equal(t, p, got, in)
		}
	}
	for code, name := range map[string]string{
		"01": "北海道", "02": "青森県", "13": "東京都", "14": "神奈川県", "23": "愛知県",
		"26": "京都府", "27": "大阪府", "28": "兵庫県", "30": "和歌山県", "40": "福岡県",
		"46": "鹿児島県", "47": "沖縄県",
	} {
		p, err := contact.ParsePrefecture(code)
		require.NoError(t, err)
		require.Equal(t, name, p.String())
	}
	require.Equal(t, "Tokyo", all[12].Romaji())
}

func TestPrefectureZero(t *testing.T) {
	t.Parallel()

	var p contact.Prefecture
	require.True(t, p.IsZero())
	require.False(t, p.Valid())
	require.Equal(t, "", p.String())
	require.Equal(t, "", p.Code())
	require.Equal(t, "", p.Romaji())
	require.Equal(t, "", contact.Prefecture(48).String())
}

func TestPrefectureJSON(t *testing.T) {
	t.Parallel()

	var v struct {
		Pref contact.Prefecture `json:"pref"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"pref":"13"}`), &v))
	require.Equal(t, "東京都", v.Pref.String())

	b, err := json.Marshal(v)
	require.NoError(t, err)
	require.JSONEq(t, `{"pref":"東京都"}`, string(b))

	requireInvalid(t, json.Unmarshal([]byte(`{"pref":"Atlantis"}`), &v), "prefecture")
	requireInvalid(t, json.Unmarshal([]byte(`{"pref":""}`), &v), "prefecture")
}
