package contact_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/contact"
)

func TestParseName(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{name: "kanji", in: "山田 太郎", want: "山田 太郎"},
		{name: "no space", in: "山田太郎", want: "山田太郎"},
		{name: "trimmed", in: "  山田 太郎  ", want: "山田 太郎"},
		{name: "ideographic space", in: "山田\u3000太郎", want: "山田 太郎"},
		{name: "collapsed", in: "Jane   Q.  Doe", want: "Jane Q. Doe"},
		{name: "latin", in: "Jane Doe", want: "Jane Doe"},
		{name: "full-width latin", in: "Ｊａｎｅ　Ｄｏｅ", want: "Jane Doe"},
		{name: "half-width katakana", in: "ﾔﾏﾀﾞ ﾀﾛｳ", want: "ヤマダ タロウ"},
		{name: "katakana", in: "ヤマダ・タロウ", want: "ヤマダ・タロウ"},
		{name: "accents", in: "José Müller", want: "José Müller"},
		{name: "decomposed accents composed", in: "Jose\u0301", want: "José"},
		{name: "itaiji kept", in: "髙橋", want: "髙橋"},
		{name: "one rune", in: "A", want: "A"},
		{name: "100 runes", in: strings.Repeat("あ", 100), want: strings.Repeat("あ", 100)},
		{name: "101 runes", in: strings.Repeat("あ", 101), wantErr: true},
		{name: "expands past 100", in: strings.Repeat("㍿", 30), wantErr: true},
		{name: "empty", in: "", wantErr: true},
		{name: "spaces", in: " \u3000 ", wantErr: true},
		{name: "newline", in: "山田\n太郎", wantErr: true},
		{name: "tab", in: "山田\t太郎", wantErr: true},
		{name: "nul", in: "山田\x00", wantErr: true},
		{name: "bidi override", in: "abc\u202edcba", wantErr: true},
		{name: "zero-width space", in: "山田\u200b太郎", wantErr: true},
		{name: "line separator", in: "山田\u2028太郎", wantErr: true},
		{name: "invalid utf-8", in: "山田\xff", wantErr: true},
		{name: "private use", in: "山田\ue000", wantErr: true},
		{name: "huge", in: strings.Repeat("a", 5000), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := contact.ParseName(tt.in)
			if tt.wantErr {
				requireInvalid(t, err, "name")
				requireNoLeak(t, err, tt.in)
				require.True(t, got.IsZero())
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got.String())
			require.Equal(t, "***", got.LogValue().String())
		})
	}
}

func TestNameJSON(t *testing.T) {
	t.Parallel()

	var v struct {
		Name contact.Name `json:"name"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"name":"ﾔﾏﾀﾞ"}`), &v))
	require.Equal(t, "ヤマダ", v.Name.String())

	b, err := json.Marshal(v)
	require.NoError(t, err)
	require.JSONEq(t, `{"name":"ヤマダ"}`, string(b))

	requireInvalid(t, json.Unmarshal([]byte(`{"name":""}`), &v), "name")
}
