package contact_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/contact"
)

func TestNewAddress(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name                             string
		postal, pref, city, line1, line2 string
		wantFields                       []string
		wantCity, wantLine1, wantLine2   string
	}{
		{
			name:   "full",
			postal: "150-0041", pref: "東京都", city: "渋谷区", line1: "神南1-2-3", line2: "渋谷ビル 4F",
			wantCity: "渋谷区", wantLine1: "神南1-2-3", wantLine2: "渋谷ビル 4F",
		},
		{
			name:   "no line2, loose forms",
			postal: "〒１５０００４１", pref: "Tokyo", city: "  渋谷区 ", line1: "神南１－２－３", line2: "  ",
			wantCity: "渋谷区", wantLine1: "神南１－２－３", wantLine2: "",
		},
		{
			name:   "everything wrong",
			postal: "15", pref: "Atlantis", city: "", line1: " ", line2: strings.Repeat("あ", 101),
			wantFields: []string{"postal_code", "prefecture", "city", "line1", "line2"},
		},
		{
			name:   "city too long",
			postal: "1500041", pref: "13", city: strings.Repeat("市", 101), line1: "1-2-3",
			wantFields: []string{"city"},
		},
		{
			name:   "control characters",
			postal: "1500041", pref: "13", city: "渋谷区", line1: "神南\n1-2-3", line2: "a\x00",
			wantFields: []string{"line1", "line2"},
		},
		{
			name:   "only the prefecture wrong",
			postal: "1500041", pref: "", city: "渋谷区", line1: "神南1-2-3",
			wantFields: []string{"prefecture"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			a, err := contact.NewAddress(tt.postal, tt.pref, tt.city, tt.line1, tt.line2)
			if tt.wantFields != nil {
				requireInvalid(t, err, tt.wantFields...)
				require.True(t, a.IsZero())
				return
			}
			require.NoError(t, err)
			require.Equal(t, "150-0041", a.PostalCode.String())
			require.Equal(t, "東京都", a.Prefecture.String())
			require.Equal(t, tt.wantCity, a.City)
			require.Equal(t, tt.wantLine1, a.Line1)
			require.Equal(t, tt.wantLine2, a.Line2)
			require.Equal(t, "東京都 ***", a.LogValue().String())
		})
	}
}

func TestAddressJSON(t *testing.T) {
	t.Parallel()

	a, err := contact.NewAddress("150-0041", "東京都", "渋谷区", "神南1-2-3", "渋谷ビル 4F")
	require.NoError(t, err)

	b, err := json.Marshal(a)
	require.NoError(t, err)
	require.JSONEq(t, `{"postal_code":"150-0041","prefecture":"東京都","city":"渋谷区","line1":"神南1-2-3","line2":"渋谷ビル 4F"}`, string(b))

	var back contact.Address
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, a, back)
}

func TestAddressUnmarshalJSON(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name       string
		in         string
		wantFields []string
		wantLine2  string
	}{
		{name: "line2 missing", in: `{"postal_code":"1500041","prefecture":"13","city":"渋谷区","line1":"神南1"}`},
		{name: "line2 null", in: `{"postal_code":"1500041","prefecture":"13","city":"渋谷区","line1":"神南1","line2":null}`},
		{name: "line2 set", in: `{"postal_code":"1500041","prefecture":"13","city":"渋谷区","line1":"神南1","line2":"2F"}`, wantLine2: "2F"},
		{name: "null object", in: `null`},
		{name: "missing required", in: `{"line2":"2F"}`, wantFields: []string{"postal_code", "prefecture", "city", "line1"}},
		{name: "unknown key", in: `{"postal_code":"1500041","prefecture":"13","city":"渋谷区","line1":"神南1","country":"JP"}`, wantFields: []string{"country"}},
		{name: "number postal code", in: `{"postal_code":1500041,"prefecture":"13","city":"渋谷区","line1":"神南1"}`, wantFields: []string{"postal_code"}},
		{name: "invalid values", in: `{"postal_code":"1","prefecture":"13","city":"渋谷区","line1":""}`, wantFields: []string{"postal_code", "line1"}},
		{name: "array", in: `[]`, wantFields: []string{"address"}},
		{name: "string", in: `"東京都渋谷区"`, wantFields: []string{"address"}},
		{name: "broken", in: `{"postal_code":`, wantFields: []string{"address"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			var a contact.Address
			err := a.UnmarshalJSON([]byte(tt.in))
			if tt.wantFields != nil {
				requireInvalid(t, err, tt.wantFields...)
				require.True(t, a.IsZero())
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.wantLine2, a.Line2)
			if tt.in != "null" {
				require.Equal(t, "東京都", a.Prefecture.String())
			}
		})
	}
}

func TestAddressInStruct(t *testing.T) {
	t.Parallel()

	var v struct {
		Ship contact.Address `json:"ship"`
	}
	err := json.Unmarshal([]byte(`{"ship":{"postal_code":"x","prefecture":"13","city":"渋谷区","line1":"神南1"}}`), &v)
	requireInvalid(t, err, "postal_code")
}
