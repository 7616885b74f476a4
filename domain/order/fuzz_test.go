package order_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/order"
)

func FuzzParseEnums(f *testing.F) {
	for _, s := range []string{
		"pending_payment", "pending_shipment", "partially_shipped", "shipped", "completed",
		"cancelled", "canceled", "bank_transfer", "cod", "COD", "", "\x00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		st, err := order.ParseStatus(s)
		if err != nil {
			e, ok := errs.As(err)
			require.True(t, ok, "want *errs.Error, got %T", err)
			require.Equal(t, errs.KindInvalid, e.Kind)
			require.Equal(t, "status", e.Fields[0].Field)
		} else {
			again, err := order.ParseStatus(st.String())
			require.NoError(t, err)
			require.Equal(t, st, again)
		}

		pm, err := order.ParsePaymentMethod(s)
		if err != nil {
			e, ok := errs.As(err)
			require.True(t, ok, "want *errs.Error, got %T", err)
			require.Equal(t, errs.KindInvalid, e.Kind)
			require.Equal(t, "payment_method", e.Fields[0].Field)
		} else {
			again, err := order.ParsePaymentMethod(pm.String())
			require.NoError(t, err)
			require.Equal(t, pm, again)
		}
	})
}
