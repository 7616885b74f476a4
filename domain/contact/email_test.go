package contact_test

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/contact"
)

func TestParseEmail(t *testing.T) {
	t.Parallel()

	long := strings.Repeat("a", 64)
	label := strings.Repeat("b", 63)
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{name: "simple", in: "taro@example.com", want: "taro@example.com"},
		{name: "trimmed", in: "  taro@example.com \n", want: "taro@example.com"},
		{name: "domain lower-cased", in: "Taro.Yamada@Example.CO.JP", want: "Taro.Yamada@example.co.jp"},
		{name: "full-width", in: "ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍ", want: "taro@example.com"},
		{name: "ideographic space", in: "\u3000taro@example.com\u3000", want: "taro@example.com"},
		{name: "plus tag", in: "taro+shop@example.com", want: "taro+shop@example.com"},
		{name: "atext", in: "a!#$%&'*+-/=?^_`{|}~z@example.com", want: "a!#$%&'*+-/=?^_`{|}~z@example.com"},
		{name: "docomo double dot", in: "taro..yamada.@docomo.ne.jp", want: "taro..yamada.@docomo.ne.jp"},
		{name: "hyphenated domain", in: "a@my-shop.example.jp", want: "a@my-shop.example.jp"},
		{name: "digit labels", in: "a@123.example.com", want: "a@123.example.com"},
		{name: "local 64", in: long + "@example.com", want: long + "@example.com"},
		{name: "label 63", in: "a@" + label + ".com", want: "a@" + label + ".com"},
		{name: "empty", in: "", wantErr: true},
		{name: "spaces only", in: "   ", wantErr: true},
		{name: "no at", in: "taro.example.com", wantErr: true},
		{name: "two ats", in: "taro@yamada@example.com", wantErr: true},
		{name: "no local", in: "@example.com", wantErr: true},
		{name: "local 65", in: long + "a@example.com", wantErr: true},
		{name: "no domain", in: "taro@", wantErr: true},
		{name: "no dot", in: "taro@localhost", wantErr: true},
		{name: "empty label", in: "taro@example..com", wantErr: true},
		{name: "trailing dot", in: "taro@example.com.", wantErr: true},
		{name: "leading dot", in: "taro@.example.com", wantErr: true},
		{name: "label hyphen start", in: "taro@-example.com", wantErr: true},
		{name: "label hyphen end", in: "taro@example-.com", wantErr: true},
		{name: "label 64", in: "a@" + label + "b.com", wantErr: true},
		{name: "numeric tld", in: "a@1.2.3.4", wantErr: true},
		{name: "ip literal", in: "a@[192.0.2.1]", wantErr: true},
		{name: "underscore domain", in: "a@ex_ample.com", wantErr: true},
		{name: "space inside", in: "taro yamada@example.com", wantErr: true},
		{name: "quoted", in: `"taro yamada"@example.com`, wantErr: true},
		{name: "comma", in: "a,b@example.com", wantErr: true},
		{name: "angle", in: "<a@example.com>", wantErr: true},
		{name: "newline", in: "a\n@example.com", wantErr: true},
		{name: "nul", in: "a\x00@example.com", wantErr: true},
		{name: "japanese local", in: "太郎@example.com", wantErr: true},
		{name: "idn domain", in: "a@例え.jp", wantErr: true},
		{name: "too long", in: "a@" + strings.Repeat(label+".", 4) + "com", wantErr: true},
		{name: "huge", in: strings.Repeat("a", 5000) + "@example.com", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := contact.ParseEmail(tt.in)
			if tt.wantErr {
				requireInvalid(t, err, "email")
				requireNoLeak(t, err, tt.in)
				require.True(t, got.IsZero())
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got.String())
			require.False(t, got.IsZero())
		})
	}
}

func TestEmailDomainAndLog(t *testing.T) {
	t.Parallel()

	e, err := contact.ParseEmail("Taro@Example.COM")
	require.NoError(t, err)
	require.Equal(t, "example.com", e.Domain())
	require.Equal(t, "***@example.com", e.LogValue().String())
	require.Equal(t, slog.StringValue(""), contact.Email{}.LogValue())
}

func TestEmailJSON(t *testing.T) {
	t.Parallel()

	var v struct {
		Email contact.Email `json:"email"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"email":" Taro@EXAMPLE.com "}`), &v))
	require.Equal(t, "Taro@example.com", v.Email.String())

	b, err := json.Marshal(v)
	require.NoError(t, err)
	require.JSONEq(t, `{"email":"Taro@example.com"}`, string(b))

	requireInvalid(t, json.Unmarshal([]byte(`{"email":"nope"}`), &v), "email")
	require.Equal(t, "Taro@example.com", v.Email.String(), "a failed decode keeps the old value")
}
