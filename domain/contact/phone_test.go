package contact_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/contact"
)

func TestParsePhone(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name, in, want, masked string
		wantErr                bool
	}{
		{name: "mobile hyphens", in: "090-1234-5678", want: "09012345678", masked: "090-****-5678"},
		{name: "mobile digits", in: "08012345678", want: "08012345678", masked: "080-****-5678"},
		{name: "mobile 070", in: "070 1234 5678", want: "07012345678", masked: "070-****-5678"},
		{name: "mobile 060", in: "060-1234-5678", want: "06012345678", masked: "060-****-5678"},
		{name: "ip phone", in: "050-1234-5678", want: "05012345678", masked: "050-****-5678"},
		{name: "m2m 020", in: "020-1234-5678", want: "02012345678", masked: "020-****-5678"},
		{name: "freephone 0800", in: "0800-123-4567", want: "08001234567", masked: "080-****-4567"},
		{name: "tokyo", in: "03-1234-5678", want: "0312345678", masked: "03-****-5678"},
		{name: "tokyo parens", in: "(03) 1234-5678", want: "0312345678", masked: "03-****-5678"},
		{name: "yokohama", in: "045(123)4567", want: "0451234567", masked: "04-****-4567"},
		{name: "okinawa", in: "0980-12-3456", want: "0980123456", masked: "09-****-3456"},
		{name: "free dial", in: "0120-123-456", want: "0120123456", masked: "01-****-3456"},
		{name: "navi dial", in: "0570-123-456", want: "0570123456", masked: "05-****-3456"},
		{name: "full-width", in: "０９０－１２３４－５６７８", want: "09012345678", masked: "090-****-5678"},
		{name: "full-width parens", in: "（０３）１２３４－５６７８", want: "0312345678"},
		{name: "minus sign", in: "090\u22121234\u22125678", want: "09012345678"},
		{name: "katakana long mark", in: "090ー1234ー5678", want: "09012345678"},
		{name: "half-width long mark", in: "090ｰ1234ｰ5678", want: "09012345678"},
		{name: "hyphen", in: "090\u20101234\u20105678", want: "09012345678"},
		{name: "en dash", in: "090\u20131234\u20135678", want: "09012345678"},
		{name: "small hyphen", in: "090\ufe631234\ufe635678", want: "09012345678"},
		{name: "ideographic space", in: "\u3000090\u30001234\u30005678\u3000", want: "09012345678"},
		{name: "plus 81 mobile", in: "+81-90-1234-5678", want: "09012345678"},
		{name: "plus 81 tokyo", in: "+81 3 1234 5678", want: "0312345678"},
		{name: "plus 81 trunk", in: "+81 (0)3-1234-5678", want: "0312345678"},
		{name: "plus 81 full-width", in: "＋８１９０１２３４５６７８", want: "09012345678"},
		{name: "empty", in: "", wantErr: true},
		{name: "separators only", in: "- ()", wantErr: true},
		{name: "nine digits", in: "031234567", wantErr: true},
		{name: "twelve digits", in: "090123456789", wantErr: true},
		{name: "no leading zero", in: "9012345678", wantErr: true},
		{name: "double zero", in: "0012345678", wantErr: true},
		{name: "short mobile", in: "090-123-4567", wantErr: true},
		{name: "short ip", in: "050-123-4567", wantErr: true},
		{name: "long landline", in: "03-1234-56789", wantErr: true},
		{name: "long free dial", in: "0120-1234-5678", wantErr: true},
		{name: "foreign", in: "+1 212 555 0100", wantErr: true},
		{name: "plus 8", in: "+8 090 1234 5678", wantErr: true},
		{name: "plus 81 double zero", in: "+81 00 1234 5678", wantErr: true},
		{name: "plus in middle", in: "090+1234-5678", wantErr: true},
		{name: "two plus", in: "++81 90 1234 5678", wantErr: true},
		{name: "letters", in: "090-1234-567a", wantErr: true},
		{name: "extension", in: "03-1234-5678 ext 12", wantErr: true},
		{name: "dots", in: "090.1234.5678", wantErr: true},
		{name: "tab", in: "090\t1234\t5678", wantErr: true},
		{name: "kanji digits", in: "〇九〇一二三四五六七八", wantErr: true},
		{name: "many digits", in: strings.Repeat("0", 100), wantErr: true},
		{name: "huge", in: strings.Repeat("-", 5000) + "09012345678", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := contact.ParsePhone(tt.in)
			if tt.wantErr {
				requireInvalid(t, err, "phone")
				requireNoLeak(t, err, tt.in)
				require.True(t, got.IsZero())
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got.String())
			if tt.masked != "" {
				require.Equal(t, tt.masked, got.Masked())
				require.Equal(t, tt.masked, got.LogValue().String())
			}
			require.NotContains(t, got.Masked(), got.String()[3:7])
		})
	}
}

func TestPhoneZero(t *testing.T) {
	t.Parallel()

	var p contact.Phone
	require.True(t, p.IsZero())
	require.Equal(t, "", p.String())
	require.Equal(t, "", p.Masked())
}

func TestPhoneJSON(t *testing.T) {
	t.Parallel()

	var v struct {
		Phone contact.Phone `json:"phone"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"phone":"090-1234-5678"}`), &v))
	require.Equal(t, "09012345678", v.Phone.String())

	b, err := json.Marshal(v)
	require.NoError(t, err)
	require.JSONEq(t, `{"phone":"09012345678"}`, string(b))

	requireInvalid(t, json.Unmarshal([]byte(`{"phone":"12345"}`), &v), "phone")
}
