package money

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzPlainJSONMatchesTheGenericDecode: wherever the scan of the plain form
// accepts an input, UnmarshalJSON gives what the generic decode gives, the
// same Money or the same error.
func FuzzPlainJSONMatchesTheGenericDecode(f *testing.F) {
	for _, s := range []string{
		`{"amount":"1200","currency":"JPY"}`,
		`{"amount": "1200", "currency": "JPY"}`,
		` { "amount" : "-12.50" ,` + "\n\t" + `"currency" : "USD" } `,
		`{"amount":"1200.5","currency":"JPY"}`,
		`{"amount":"1e3","currency":"JPY"}`,
		`{"amount":"","currency":"JPY"}`,
		`{"amount":"1","currency":"jpy"}`,
		`{"amount":"1","currency":"XXX"}`,
		`{"amount":"1000000000000","currency":"JPY"}`,
		`{"amount":"\u0031","currency":"JPY"}`,
		`{"amount":"1","amount":"2","currency":"JPY"}`,
		`{"currency":"JPY","amount":"1200"}`,
		`{"amount":"1","currency":"JPY","x":1}`,
		`{"amount":1200,"currency":"JPY"}`,
		`{"amount":"1","currency":"JPY"}x`,
		`null`, `{}`, `{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, _, ok := plainJSON(data); !ok {
			return
		}
		var fast, slow Money
		fastErr := fast.UnmarshalJSON(data)
		slowErr := slow.unmarshalAny(data)
		require.Equal(t, slowErr, fastErr, "input %q", data)
		require.Equal(t, slow, fast, "input %q", data)
	})
}

// TestPlainJSONReadsWhatMarshalAndJSONBWrite: the plain scan takes the
// forms the log gives back, and leaves every other shape to the generic
// decode.
func TestPlainJSONReadsWhatMarshalAndJSONBWrite(t *testing.T) {
	t.Parallel()

	for _, in := range []string{
		`{"amount":"1200","currency":"JPY"}`,    // MarshalJSON
		`{"amount": "1200", "currency": "JPY"}`, // jsonb's text form
	} {
		a, c, ok := plainJSON([]byte(in))
		require.True(t, ok, in)
		require.Equal(t, "1200", a)
		require.Equal(t, "JPY", c)
	}
	for _, in := range []string{
		`{"currency":"JPY","amount":"1200"}`,
		`{"amount":"\u0031","currency":"JPY"}`,
		`{"amount":"1","amount":"2","currency":"JPY"}`,
		`{"amount":"1","currency":"JPY","x":1}`,
		`{"amount":1200,"currency":"JPY"}`,
		`{"amount":"1","currency":"JPY"}x`,
		`{"amount":"１","currency":"JPY"}`,
		`{"amount":"1","currency":"JPY"`,
		`null`,
	} {
		_, _, ok := plainJSON([]byte(in))
		require.False(t, ok, in)
	}
}

// BenchmarkUnmarshalJSON compares the plain scan with the generic decode
// of the same amount.
func BenchmarkUnmarshalJSON(b *testing.B) {
	data := []byte(`{"amount": "12800", "currency": "JPY"}`)
	b.Run("plain", func(b *testing.B) {
		for b.Loop() {
			var m Money
			if err := m.UnmarshalJSON(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("generic", func(b *testing.B) {
		for b.Loop() {
			var m Money
			if err := m.unmarshalAny(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}
