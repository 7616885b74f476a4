package store_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/store"
)

var codeCases = []struct {
	in    string
	valid bool
}{
	{in: "a", valid: true},
	{in: "shibuya", valid: true},
	{in: "tokyo-dc-2", valid: true},
	{in: strings.Repeat("x", 32), valid: true},
	{in: strings.Repeat("x", 33)},
	{in: ""},
	{in: "Shibuya"},
	{in: "-shibuya"},
	{in: "shibuya-"},
	{in: "shi--buya"},
	{in: "shi buya"},
	{in: " shibuya"},
	{in: "shi_buya"},
	{in: "渋谷"},
}

func TestParseCode(t *testing.T) { testParseCode(t, store.ParseCode) }

func TestParseLocationCode(t *testing.T) { testParseCode(t, store.ParseLocationCode) }

// testParseCode runs codeCases through parse, a parser of store.Code or
// store.LocationCode.
func testParseCode[C interface {
	~string
	String() string
}](t *testing.T, parse func(string) (C, error)) {
	t.Parallel()

	for _, tt := range codeCases {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()

			got, err := parse(tt.in)
			if !tt.valid {
				requireInvalidCode(t, err)
				require.Equal(t, C(""), got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.in, got.String())
		})
	}
}

func TestCodeJSON(t *testing.T) {
	t.Parallel()

	type body struct {
		Store    store.Code         `json:"store"`
		Location store.LocationCode `json:"location"`
	}
	in := body{Store: "shibuya", Location: "tokyo-dc"}
	b, err := json.Marshal(in)
	require.NoError(t, err)
	require.JSONEq(t, `{"store":"shibuya","location":"tokyo-dc"}`, string(b))

	var out body
	require.NoError(t, json.Unmarshal(b, &out))
	require.Equal(t, in, out)

	requireInvalidCode(t, json.Unmarshal([]byte(`{"store":"Shibuya"}`), &out))
	requireInvalidCode(t, json.Unmarshal([]byte(`{"location":"a--b"}`), &out))
}

func requireInvalidCode(t *testing.T, err error) {
	t.Helper()

	e, ok := errs.As(err)
	require.True(t, ok, "want *errs.Error, got %T %v", err, err)
	require.Equal(t, errs.KindInvalid, e.Kind)
	require.Len(t, e.Fields, 1)
	require.Equal(t, "code", e.Fields[0].Field)
}
