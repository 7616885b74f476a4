package order_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
)

// The order.placed payloads in testdata/placed-v1-*.json were written by
// the code before schema version 2 (checkout for the mall's orders, which
// froze the rounding; the test helper for the others, which did not).
// Each upcasts to its golden version 2 (UPDATE_GOLDEN=1 rewrites those),
// keeping every other field, with the tax terms the shop really had: the
// tax-excluded shops' orders read as such, and a missing rounding as floor.
func TestUpcastPlacedV1MatchesTheGoldenFiles(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/placed-v1-*.json")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 4)
	for _, f := range files {
		name := strings.TrimPrefix(filepath.Base(f), "placed-v1-")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			v1, err := os.ReadFile(f)
			require.NoError(t, err)
			v2, err := order.UpcastPlacedV1(v1)
			require.NoError(t, err)
			golden := filepath.Join("testdata", "placed-v2-"+name)
			if os.Getenv("UPDATE_GOLDEN") != "" {
				var pretty any
				require.NoError(t, json.Unmarshal(v2, &pretty))
				b, err := json.MarshalIndent(pretty, "", "  ")
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(golden, append(b, '\n'), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err)
			require.JSONEq(t, string(want), string(v2))

			var before, after map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(v1, &before))
			require.NoError(t, json.Unmarshal(v2, &after))
			rounding, had := before["rounding"]
			delete(before, "rounding")
			terms := after["tax_terms"]
			delete(after, "tax_terms")
			require.Len(t, after, len(before), "every other field kept")
			for k, v := range before {
				require.JSONEq(t, string(v), string(after[k]), "field %s kept", k)
			}

			var p order.Placed
			require.NoError(t, json.Unmarshal(v2, &p))
			require.Equal(t, !strings.HasPrefix(name, "tax-excluded"), p.Tax.PricesIncludeTax, "%s", terms)
			if had {
				require.JSONEq(t, string(rounding), `"`+string(p.Tax.Rounding)+`"`)
			} else {
				require.Equal(t, money.RoundFloor, p.Tax.Rounding, "no rounding frozen: floor, as v1 readers took it")
			}
			again, err := json.Marshal(p)
			require.NoError(t, err)
			require.JSONEq(t, string(v2), string(again), "version 2 is exactly what Placed writes")
		})
	}
}

func TestUpcastPlacedV1RejectsWhatIsNotAnObject(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{`[]`, `"x"`, `{"totals": 3}`, `{`} {
		_, err := order.UpcastPlacedV1(json.RawMessage(bad))
		require.Error(t, err, bad)
	}
}
