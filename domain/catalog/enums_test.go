package catalog_test

import (
	"encoding"
	"encoding/json"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/errs"
)

// enumCase is one input to one enum parser.
type enumCase struct {
	parser string
	in     string
	want   string // canonical String(); "" means invalid
}

// enumParsers adapts each parser to func(string) (String(), field, error).
var enumParsers = map[string]func(string) (string, error){
	"product_status": func(s string) (string, error) {
		v, err := catalog.ParseProductStatus(s)
		return v.String(), err
	},
	"variant_status": func(s string) (string, error) {
		v, err := catalog.ParseVariantStatus(s)
		return v.String(), err
	},
	"fulfillment_type": func(s string) (string, error) {
		v, err := catalog.ParseFulfillmentType(s)
		return v.String(), err
	},
	"tax_rate": func(s string) (string, error) {
		v, err := catalog.ParseTaxRate(s)
		return v.String(), err
	},
}

// enumFields is the field each parser names in its errors.
var enumFields = map[string]string{
	"product_status":   "status",
	"variant_status":   "status",
	"fulfillment_type": "fulfillment_type",
	"tax_rate":         "tax_rate",
}

var enumCases = []enumCase{
	{parser: "product_status", in: "draft", want: "draft"},
	{parser: "product_status", in: "active", want: "active"},
	{parser: "product_status", in: "archived", want: "archived"},
	{parser: "product_status", in: "Active"},
	{parser: "product_status", in: "inactive"},
	{parser: "product_status", in: ""},
	{parser: "product_status", in: " draft"},
	{parser: "variant_status", in: "active", want: "active"},
	{parser: "variant_status", in: "inactive", want: "inactive"},
	{parser: "variant_status", in: "archived"},
	{parser: "variant_status", in: ""},
	{parser: "fulfillment_type", in: "physical", want: "physical"},
	{parser: "fulfillment_type", in: "digital", want: "digital"},
	{parser: "fulfillment_type", in: "service"},
	{parser: "fulfillment_type", in: "PHYSICAL"},
	{parser: "tax_rate", in: "10", want: "10"},
	{parser: "tax_rate", in: "8", want: "8"},
	{parser: "tax_rate", in: "10%", want: "10"},
	{parser: "tax_rate", in: "8%", want: "8"},
	{parser: "tax_rate", in: "8.0"},
	{parser: "tax_rate", in: "0.08"},
	{parser: "tax_rate", in: "5"},
	{parser: "tax_rate", in: "%"},
	{parser: "tax_rate", in: "10%%"},
	{parser: "tax_rate", in: " 10"},
	{parser: "tax_rate", in: "１０"},
	{parser: "tax_rate", in: "10％"},
	{parser: "tax_rate", in: ""},
}

func TestParseEnums(t *testing.T) {
	t.Parallel()

	for _, tt := range enumCases {
		t.Run(tt.parser+"/"+tt.in, func(t *testing.T) {
			t.Parallel()

			got, err := enumParsers[tt.parser](tt.in)
			if tt.want == "" {
				e, ok := errs.As(err)
				require.True(t, ok)
				require.Equal(t, errs.KindInvalid, e.Kind)
				require.Equal(t, enumFields[tt.parser], e.Fields[0].Field)
				require.Contains(t, e.Fields[0].Message, "must be one of: ")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestParseEnumMessages(t *testing.T) {
	t.Parallel()

	tests := []struct {
		parser, want string
	}{
		{parser: "product_status", want: "must be one of: draft, active, archived"},
		{parser: "variant_status", want: "must be one of: active, inactive"},
		{parser: "fulfillment_type", want: "must be one of: physical, digital"},
		{parser: "tax_rate", want: "must be one of: 10, 8"},
	}
	for _, tt := range tests {
		t.Run(tt.parser, func(t *testing.T) {
			t.Parallel()

			_, err := enumParsers[tt.parser]("nope")
			e, ok := errs.As(err)
			require.True(t, ok)
			require.Equal(t, tt.want, e.Fields[0].Message)
		})
	}
}

func TestTaxRatePercent(t *testing.T) {
	t.Parallel()

	require.True(t, catalog.TaxStandard.Percent().Equal(decimal.NewFromInt(10)))
	require.True(t, catalog.TaxReduced.Percent().Equal(decimal.NewFromInt(8)))
	require.True(t, catalog.TaxRate("").Percent().IsZero())
}

func TestEnumsJSON(t *testing.T) {
	t.Parallel()

	type variant struct {
		Product     catalog.ProductStatus   `json:"product"`
		Status      catalog.VariantStatus   `json:"status"`
		Fulfillment catalog.FulfillmentType `json:"fulfillment"`
		TaxRate     catalog.TaxRate         `json:"tax_rate"`
	}
	in := variant{
		Product:     catalog.ProductActive,
		Status:      catalog.VariantInactive,
		Fulfillment: catalog.FulfillmentDigital,
		TaxRate:     catalog.TaxReduced,
	}
	b, err := json.Marshal(in)
	require.NoError(t, err)
	require.JSONEq(t, `{"product":"active","status":"inactive","fulfillment":"digital","tax_rate":"8"}`, string(b))

	var out variant
	require.NoError(t, json.Unmarshal(b, &out))
	require.Equal(t, in, out)

	require.NoError(t, json.Unmarshal([]byte(`{"tax_rate":"10%"}`), &out))
	require.Equal(t, catalog.TaxStandard, out.TaxRate)

	for _, bad := range []string{
		`{"product":"deleted"}`,
		`{"status":"archived"}`,
		`{"fulfillment":"service"}`,
		`{"tax_rate":"5"}`,
	} {
		require.Equal(t, errs.KindInvalid, errs.KindOf(json.Unmarshal([]byte(bad), &out)), bad)
	}
}

func TestEnumUnmarshalTextKeepsValueOnError(t *testing.T) {
	t.Parallel()

	type target struct {
		name string
		v    encoding.TextUnmarshaler
		get  func() string
	}
	ps, vs, ft, tr := catalog.ProductActive, catalog.VariantActive, catalog.FulfillmentDigital, catalog.TaxReduced
	tests := []target{
		{name: "product_status", v: &ps, get: func() string { return ps.String() }},
		{name: "variant_status", v: &vs, get: func() string { return vs.String() }},
		{name: "fulfillment_type", v: &ft, get: func() string { return ft.String() }},
		{name: "tax_rate", v: &tr, get: func() string { return tr.String() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			before := tt.get()
			require.Error(t, tt.v.UnmarshalText([]byte("bogus")))
			require.Equal(t, before, tt.get())
		})
	}
}
