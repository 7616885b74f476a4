package contact_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/errs"
)

// requireInvalid checks that err is an Invalid *errs.Error whose field errors
// name exactly fields, in order.
func requireInvalid(t *testing.T, err error, fields ...string) {
	t.Helper()

	e, ok := errs.As(err)
	require.True(t, ok, "want *errs.Error, got %T %v", err, err)
	require.Equal(t, errs.KindInvalid, e.Kind, "error %v", err)
	names := make([]string, 0, len(e.Fields))
	for _, f := range e.Fields {
		names = append(names, f.Field)
	}
	require.Equal(t, fields, names, "error %v", err)
}

// requireNoLeak checks that no field message of err repeats the input, so
// personal data never reaches logs through an error.
func requireNoLeak(t *testing.T, err error, input string) {
	t.Helper()

	if len(input) < 4 {
		return
	}
	require.NotContains(t, err.Error(), input)
}
