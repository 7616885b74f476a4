package catalog_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/errs"
)

func FuzzParseSKU(f *testing.F) {
	for _, s := range []string{"TEA-001", " tea.1 ", "-x", "", "A B", "緑茶", strings.Repeat("a", 65), "\u3000A\u3000", "A\x85"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sku, err := catalog.ParseSKU(s)
		if err != nil {
			e, ok := errs.As(err)
			require.True(t, ok, "want *errs.Error, got %T", err)
			require.Equal(t, errs.KindInvalid, e.Kind)
			require.Equal(t, "sku", e.Fields[0].Field)
			return
		}
		require.NotEmpty(t, sku.String())
		require.LessOrEqual(t, len(sku), catalog.MaxSKULen)
		again, err := catalog.ParseSKU(sku.String())
		require.NoError(t, err)
		require.Equal(t, sku, again)

		key, err := catalog.ParseSKU(sku.Key())
		require.NoError(t, err, "the key is a SKU too")
		require.Equal(t, sku.Key(), key.Key())
	})
}

func FuzzParseEnums(f *testing.F) {
	names := slices.Sorted(maps.Keys(enumParsers))
	for _, tt := range enumCases {
		f.Add(uint8(slices.Index(names, tt.parser)), tt.in)
	}
	f.Fuzz(func(t *testing.T, which uint8, s string) {
		name := names[int(which)%len(names)]
		parse := enumParsers[name]
		got, err := parse(s)
		if err != nil {
			e, ok := errs.As(err)
			require.True(t, ok, "want *errs.Error, got %T", err)
			require.Equal(t, errs.KindInvalid, e.Kind)
			require.Equal(t, enumFields[name], e.Fields[0].Field)
			return
		}
		again, err := parse(got)
		require.NoError(t, err)
		require.Equal(t, got, again)
	})
}
