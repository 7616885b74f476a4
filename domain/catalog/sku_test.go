package catalog_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/errs"
)

func TestParseSKU(t *testing.T) {
	t.Parallel()

	tests := []struct {
		in      string
		want    catalog.SKU
		key     string
		wantErr string
	}{
		{in: "TEA-001", want: "TEA-001", key: "TEA-001"},
		{in: "tea-001.L", want: "tea-001.L", key: "TEA-001.L"},
		{in: "  Tea_01  ", want: "Tea_01", key: "TEA_01"},
		{in: "\tA\n", want: "A", key: "A"},
		{in: "\u3000A1\u3000", want: "A1", key: "A1"},
		{in: "0", want: "0", key: "0"},
		{in: "9.9-9_9", want: "9.9-9_9", key: "9.9-9_9"},
		{in: strings.Repeat("x", 64), want: catalog.SKU(strings.Repeat("x", 64)), key: strings.Repeat("X", 64)},
		{in: strings.Repeat("x", 65), wantErr: "at most 64"},
		{in: "", wantErr: "must not be empty"},
		{in: "   ", wantErr: "must not be empty"},
		{in: "-A", wantErr: "start with"},
		{in: ".A", wantErr: "start with"},
		{in: "_A", wantErr: "start with"},
		{in: "A B", wantErr: "only"},
		{in: "A/B", wantErr: "only"},
		{in: "A+B", wantErr: "only"},
		{in: "緑茶-01", wantErr: "start with"},
		{in: "TEA-緑茶", wantErr: "only"},
		{in: "ＴＥＡ", wantErr: "start with"},
		{in: "A\x00", wantErr: "only"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()

			got, err := catalog.ParseSKU(tt.in)
			if tt.wantErr != "" {
				e, ok := errs.As(err)
				require.True(t, ok)
				require.Equal(t, errs.KindInvalid, e.Kind)
				require.Equal(t, "sku", e.Fields[0].Field)
				require.Contains(t, e.Fields[0].Message, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.Equal(t, string(tt.want), got.String())
			require.Equal(t, tt.key, got.Key())
		})
	}
}

func TestSKUKeyCollides(t *testing.T) {
	t.Parallel()

	a, err := catalog.ParseSKU("tea-001")
	require.NoError(t, err)
	b, err := catalog.ParseSKU("TEA-001")
	require.NoError(t, err)
	require.NotEqual(t, a, b)
	require.Equal(t, a.Key(), b.Key())
}

func TestSKUJSON(t *testing.T) {
	t.Parallel()

	var v struct {
		SKU catalog.SKU `json:"sku"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"sku":" Tea-1 "}`), &v))
	require.Equal(t, catalog.SKU("Tea-1"), v.SKU)

	b, err := json.Marshal(v)
	require.NoError(t, err)
	require.JSONEq(t, `{"sku":"Tea-1"}`, string(b))

	err = json.Unmarshal([]byte(`{"sku":"-x"}`), &v)
	require.Equal(t, errs.KindInvalid, errs.KindOf(err))
}
