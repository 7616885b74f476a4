package contact_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/contact"
)

func TestParsePostalCode(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name, in string
		wantErr  bool
	}{
		{name: "digits", in: "1500041"},
		{name: "hyphen", in: "150-0041"},
		{name: "trimmed", in: " 150-0041 "},
		{name: "full-width", in: "１５０－００４１"},
		{name: "full-width digits only", in: "１５０００４１"},
		{name: "postal mark", in: "〒150-0041"},
		{name: "postal mark space", in: "〒 150-0041"},
		{name: "postal mark ideographic space", in: "〒\u3000１５０ー００４１"},
		{name: "minus sign", in: "150\u22120041"},
		{name: "katakana long mark", in: "150ー0041"},
		{name: "en dash", in: "150\u20130041"},
		{name: "empty", in: "", wantErr: true},
		{name: "postal mark only", in: "〒", wantErr: true},
		{name: "six digits", in: "150004", wantErr: true},
		{name: "eight digits", in: "15000411", wantErr: true},
		{name: "hyphen misplaced", in: "1500-041", wantErr: true},
		{name: "two hyphens", in: "150--0041", wantErr: true},
		{name: "leading hyphen", in: "-1500041", wantErr: true},
		{name: "trailing hyphen", in: "1500041-", wantErr: true},
		{name: "space inside", in: "150 0041", wantErr: true},
		{name: "letters", in: "150-004a", wantErr: true},
		{name: "mark after", in: "150-0041〒", wantErr: true},
		{name: "two marks", in: "〒〒150-0041", wantErr: true},
		{name: "us zip", in: "90210-1234", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := contact.ParsePostalCode(tt.in)
			if tt.wantErr {
				requireInvalid(t, err, "postal_code")
				requireNoLeak(t, err, tt.in)
				require.True(t, got.IsZero())
				return
			}
			require.NoError(t, err)
			require.Equal(t, "150-0041", got.String())
			require.Equal(t, "1500041", got.Digits())
			require.Equal(t, "150-****", got.LogValue().String())
		})
	}
}

func TestPostalCodeZero(t *testing.T) {
	t.Parallel()

	var p contact.PostalCode
	require.True(t, p.IsZero())
	require.Equal(t, "", p.String())
	require.Equal(t, "", p.Digits())
}

func TestPostalCodeJSON(t *testing.T) {
	t.Parallel()

	var v struct {
		Zip contact.PostalCode `json:"zip"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"zip":"〒1500041"}`), &v))
	require.Equal(t, "1500041", v.Zip.Digits())

	b, err := json.Marshal(v)
	require.NoError(t, err)
	require.JSONEq(t, `{"zip":"150-0041"}`, string(b))

	requireInvalid(t, json.Unmarshal([]byte(`{"zip":"150"}`), &v), "postal_code")
}
