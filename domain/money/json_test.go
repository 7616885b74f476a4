package money_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/money"
)

func TestMarshalJSON(t *testing.T) {
	t.Parallel()

	tests := []struct {
		m    money.Money
		want string
	}{
		{m: jpy("1200"), want: `{"amount":"1200","currency":"JPY"}`},
		{m: jpy("1200.00"), want: `{"amount":"1200","currency":"JPY"}`},
		{m: jpy("-5"), want: `{"amount":"-5","currency":"JPY"}`},
		{m: usd("12.5"), want: `{"amount":"12.50","currency":"USD"}`},
		{m: usd("0"), want: `{"amount":"0.00","currency":"USD"}`},
		{m: money.Zero(money.KRW), want: `{"amount":"0","currency":"KRW"}`},
		{m: money.Money{}, want: `null`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()

			b, err := json.Marshal(tt.m)
			require.NoError(t, err)
			require.Equal(t, tt.want, string(b))

			var back money.Money
			require.NoError(t, json.Unmarshal(b, &back))
			require.True(t, back.Equal(tt.m), "got %v want %v", back, tt.m)
		})
	}
}

func TestMarshalJSONInStruct(t *testing.T) {
	t.Parallel()

	type line struct {
		Price    money.Money  `json:"price"`
		Discount money.Money  `json:"discount"`
		Total    *money.Money `json:"total,omitempty"`
	}
	in := line{Price: jpy("1200")}
	b, err := json.Marshal(in)
	require.NoError(t, err)
	require.JSONEq(t, `{"price":{"amount":"1200","currency":"JPY"},"discount":null}`, string(b))

	var out line
	require.NoError(t, json.Unmarshal(b, &out))
	require.True(t, out.Price.Equal(in.Price))
	require.Equal(t, money.Money{}, out.Discount)
	require.Nil(t, out.Total)
}

func TestUnmarshalJSON(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name      string
		in        string
		want      money.Money
		wantField string
	}{
		{name: "yen", in: `{"amount":"1200","currency":"JPY"}`, want: jpy("1200")},
		{name: "reordered", in: `{"currency":"JPY","amount":"1200"}`, want: jpy("1200")},
		{name: "spaces", in: ` { "amount" : "1200" , "currency" : "JPY" } `, want: jpy("1200")},
		{name: "dollars", in: `{"amount":"12.5","currency":"USD"}`, want: usd("12.50")},
		{name: "null", in: `null`, want: money.Money{}},
		{name: "number amount", in: `{"amount":1200,"currency":"JPY"}`, wantField: "amount"},
		{name: "null amount", in: `{"amount":null,"currency":"JPY"}`, wantField: "amount"},
		{name: "bool amount", in: `{"amount":true,"currency":"JPY"}`, wantField: "amount"},
		{name: "missing amount", in: `{"currency":"JPY"}`, wantField: "amount"},
		{name: "missing currency", in: `{"amount":"1"}`, wantField: "currency"},
		{name: "empty object", in: `{}`, wantField: "amount"},
		{name: "unknown field", in: `{"amount":"1","currency":"JPY","tax":"0"}`, wantField: "tax"},
		{name: "wrong-case key", in: `{"Amount":"1","currency":"JPY"}`, wantField: "Amount"},
		{name: "lower-case currency", in: `{"amount":"1","currency":"jpy"}`, wantField: "currency"},
		{name: "unknown currency", in: `{"amount":"1","currency":"XXX"}`, wantField: "currency"},
		{name: "number currency", in: `{"amount":"1","currency":392}`, wantField: "currency"},
		{name: "yen fraction", in: `{"amount":"1200.5","currency":"JPY"}`, wantField: "amount"},
		{name: "exponent", in: `{"amount":"1e3","currency":"JPY"}`, wantField: "amount"},
		{name: "too large", in: `{"amount":"1000000000000","currency":"JPY"}`, wantField: "amount"},
		{name: "empty amount", in: `{"amount":"","currency":"JPY"}`, wantField: "amount"},
		{name: "array", in: `["1","JPY"]`, wantField: "money"},
		{name: "string", in: `"1200 JPY"`, wantField: "money"},
		{name: "number", in: `1200`, wantField: "money"},
		{name: "broken", in: `{"amount":"1"`, wantField: "money"},
		{name: "empty", in: ``, wantField: "money"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			var m money.Money
			err := m.UnmarshalJSON([]byte(tt.in))
			if tt.wantField != "" {
				requireInvalid(t, err, tt.wantField)
				require.Equal(t, money.Money{}, m)
				return
			}
			require.NoError(t, err)
			require.True(t, m.Equal(tt.want), "got %v want %v", m, tt.want)
		})
	}
}

func TestUnmarshalJSONThroughDecoder(t *testing.T) {
	t.Parallel()

	var v struct {
		Price money.Money `json:"price"`
	}
	err := json.Unmarshal([]byte(`{"price":{"amount":1200,"currency":"JPY"}}`), &v)
	requireInvalid(t, err, "amount")

	require.NoError(t, json.Unmarshal([]byte(`{"price":{"amount":"1200","currency":"JPY"}}`), &v))
	require.True(t, v.Price.Equal(jpy("1200")))
}
