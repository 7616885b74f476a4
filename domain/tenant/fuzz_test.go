package tenant_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/tenant"
)

func FuzzParseCode(f *testing.F) {
	for _, tt := range codeCases {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := tenant.ParseCode(s)
		if err != nil {
			requireInvalidCode(t, err)
			return
		}
		require.GreaterOrEqual(t, len(c), 2)
		again, err := tenant.ParseCode(c.String())
		require.NoError(t, err)
		require.Equal(t, c, again)
	})
}
