package store_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/store"
)

func FuzzParseCode(f *testing.F) {
	for _, tt := range codeCases {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := store.ParseCode(s)
		if err != nil {
			requireInvalidCode(t, err)
			return
		}
		again, err := store.ParseCode(c.String())
		require.NoError(t, err)
		require.Equal(t, c, again)
	})
}

func FuzzParseLocationCode(f *testing.F) {
	for _, tt := range codeCases {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := store.ParseLocationCode(s)
		if err != nil {
			requireInvalidCode(t, err)
			return
		}
		again, err := store.ParseLocationCode(c.String())
		require.NoError(t, err)
		require.Equal(t, c, again)
	})
}
