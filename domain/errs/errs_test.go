package errs_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/errs"
)

var errShipped = errs.Conflict("order_already_shipped", "order has already shipped")

func TestKindSurvivesWrapping(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("cancel order x: %w", errShipped)
	require.ErrorIs(t, err, errShipped)
	require.Equal(t, errs.KindConflict, errs.KindOf(err))
	require.Equal(t, errs.KindInternal, errs.KindOf(errors.New("boom")))
	require.Equal(t, errs.KindInternal, errs.KindOf(nil))
}

func TestCollectorMergesFieldErrors(t *testing.T) {
	t.Parallel()
	var c errs.Collector
	require.NoError(t, c.Err())
	c.Check(false, "quantity", "must be ≥ 1")
	c.Check(true, "sku", "never")
	c.Merge("shipping_address", errs.InvalidFields(errs.FieldError{Field: "postal_code", Message: "must be 7 digits"}))
	c.Merge("email", errors.New("bad address"))
	err := c.Err()
	e, ok := errs.As(err)
	require.True(t, ok)
	require.Equal(t, errs.KindInvalid, e.Kind)
	require.Equal(t, []errs.FieldError{
		{Field: "quantity", Message: "must be ≥ 1"},
		{Field: "shipping_address.postal_code", Message: "must be 7 digits"},
		{Field: "email", Message: "bad address"},
	}, e.Fields)
	require.Contains(t, err.Error(), "quantity must be ≥ 1")
}

func TestSentinelsMatchByKindAndCode(t *testing.T) {
	t.Parallel()
	copyOf := *errShipped
	require.ErrorIs(t, &copyOf, errShipped)
	require.NotErrorIs(t, errs.Conflict("other", "x"), errShipped)
	// Validation errors share a code; they match only with the same fields.
	taken := errs.Field("sku", "is taken")
	require.ErrorIs(t, errs.Field("sku", "is taken"), taken)
	require.NotErrorIs(t, errs.Field("handle", "is taken"), taken)
	require.Equal(t, "conflict", errs.KindConflict.String())
}

func TestOneOf(t *testing.T) {
	t.Parallel()
	type color string
	all := []color{"red", "blue"}
	got, err := errs.OneOf("color", "blue", all)
	require.NoError(t, err)
	require.Equal(t, color("blue"), got)

	got, err = errs.OneOf("color", "Blue", all)
	require.Equal(t, color(""), got)
	require.ErrorIs(t, err, errs.Field("color", "must be one of: red, blue"))
	_, err = errs.OneOf("color", "", all)
	require.ErrorIs(t, err, errs.Field("color", "must be one of: red, blue"))
}
