package tenant_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/tenant"
)

var codeCases = []struct {
	in    string
	valid bool
}{
	{in: "ab", valid: true},
	{in: "kyoto-tea", valid: true},
	{in: "shop-2024", valid: true},
	{in: "42", valid: true},
	{in: strings.Repeat("x", 32), valid: true},
	{in: strings.Repeat("x", 33)},
	{in: "a"},
	{in: ""},
	{in: "Kyoto-tea"},
	{in: "-kyoto"},
	{in: "kyoto-"},
	{in: "kyoto--tea"},
	{in: "kyoto tea"},
	{in: "kyoto_tea"},
	{in: "京都"},
	{in: "ｋｙｏｔｏ"},
}

func TestParseCode(t *testing.T) {
	t.Parallel()

	for _, tt := range codeCases {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()

			got, err := tenant.ParseCode(tt.in)
			if !tt.valid {
				requireInvalidCode(t, err)
				require.Equal(t, tenant.Code(""), got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.in, got.String())
		})
	}
}

func TestCodeJSON(t *testing.T) {
	t.Parallel()

	var v struct {
		Code tenant.Code `json:"code"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"code":"kyoto-tea"}`), &v))
	require.Equal(t, tenant.Code("kyoto-tea"), v.Code)

	b, err := json.Marshal(v)
	require.NoError(t, err)
	require.JSONEq(t, `{"code":"kyoto-tea"}`, string(b))

	requireInvalidCode(t, json.Unmarshal([]byte(`{"code":"x"}`), &v))
}

func requireInvalidCode(t *testing.T, err error) {
	t.Helper()

	e, ok := errs.As(err)
	require.True(t, ok, "want *errs.Error, got %T %v", err, err)
	require.Equal(t, errs.KindInvalid, e.Kind)
	require.Len(t, e.Fields, 1)
	require.Equal(t, "code", e.Fields[0].Field)
}
