package ids_test

import (
	"encoding/json"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/ids"
)

type orderKind struct{}

func (orderKind) Kind() string { return "order" }

type cartKind struct{}

func (cartKind) Kind() string { return "cart" }

type orderID = ids.ID[orderKind]

func TestNewIsUUIDv7(t *testing.T) {
	t.Parallel()
	a, b := ids.New[orderKind](), ids.New[orderKind]()
	require.Equal(t, uuid.Version(7), a.Version())
	require.NotEqual(t, a, b)
	require.False(t, a.IsZero())
	require.True(t, orderID{}.IsZero())
	require.Equal(t, "order", a.Kind())
}

func TestJSONRoundTrip(t *testing.T) {
	t.Parallel()
	type doc struct {
		ID    orderID  `json:"id"`
		Other *orderID `json:"other,omitempty"`
	}
	in := doc{ID: ids.New[orderKind]()}
	b, err := json.Marshal(in)
	require.NoError(t, err)
	require.Equal(t, `{"id":"`+in.ID.String()+`"}`, string(b))
	var out doc
	require.NoError(t, json.Unmarshal(b, &out))
	require.Equal(t, in, out)
}

func TestParseIsStrict(t *testing.T) {
	t.Parallel()
	id := ids.New[orderKind]()
	got, err := ids.Parse[orderKind](id.String())
	require.NoError(t, err)
	require.Equal(t, id, got)
	for _, bad := range []string{"", "x", "{" + id.String() + "}", "urn:uuid:" + id.String(), id.String()[:35], id.String() + "0",
		"zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz"} {
		_, err := ids.Parse[orderKind](bad)
		require.Error(t, err, bad)
		require.Contains(t, err.Error(), "invalid order id")
	}
	var v orderID
	require.Error(t, json.Unmarshal([]byte(`"not-a-uuid"`), &v))
}

func TestKindsAreDistinctTypes(t *testing.T) {
	t.Parallel()
	o := ids.New[orderKind]()
	c := ids.From[cartKind](o.UUID)
	// Same UUID, different types: a cart id is not an order id.
	var anyO any = o
	_, isCart := anyO.(ids.ID[cartKind])
	require.False(t, isCart)
	require.Equal(t, o.UUID, c.UUID)
}

func FuzzParse(f *testing.F) {
	f.Add("01938f5e-7a3c-7b2e-9a1d-3c4b5d6e7f80")
	f.Add("")
	f.Add("01938F5E-7A3C-7B2E-9A1D-3C4B5D6E7F80")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ids.Parse[orderKind](s)
		if err != nil {
			return
		}
		again, err := ids.Parse[orderKind](id.String())
		if err != nil || again != id {
			t.Fatalf("%q parsed to %v, which does not re-parse", s, id)
		}
	})
}

func TestCompareIsStringOrder(t *testing.T) {
	t.Parallel()
	for i := 0; i < 1000; i++ {
		a, b := uuid.New(), uuid.New()
		if i%10 == 0 {
			b = a
		}
		want := 0
		switch {
		case a.String() < b.String():
			want = -1
		case a.String() > b.String():
			want = 1
		}
		require.Equal(t, want, ids.Compare(a, b), "%s %s", a, b)
	}
}
