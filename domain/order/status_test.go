package order_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/order"
)

func TestParseStatus(t *testing.T) {
	t.Parallel()

	tests := []struct {
		in       string
		want     order.Status
		terminal bool
		wantErr  bool
	}{
		{in: "pending_payment", want: order.StatusPendingPayment},
		{in: "pending_shipment", want: order.StatusPendingShipment},
		{in: "partially_shipped", want: order.StatusPartiallyShipped},
		{in: "shipped", want: order.StatusShipped},
		{in: "completed", want: order.StatusCompleted, terminal: true},
		{in: "cancelled", want: order.StatusCancelled, terminal: true},
		{in: "canceled", wantErr: true},
		{in: "Shipped", wantErr: true},
		{in: "pending", wantErr: true},
		{in: " shipped", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()

			got, err := order.ParseStatus(tt.in)
			if tt.wantErr {
				e, ok := errs.As(err)
				require.True(t, ok)
				require.Equal(t, errs.KindInvalid, e.Kind)
				require.Equal(t, "status", e.Fields[0].Field)
				require.Equal(t, "must be one of: pending_payment, pending_shipment, partially_shipped, shipped, completed, cancelled", e.Fields[0].Message)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.in, got.String())
			require.Equal(t, tt.terminal, got.IsTerminal())
		})
	}
}

func TestParsePaymentMethod(t *testing.T) {
	t.Parallel()

	tests := []struct {
		in      string
		want    order.PaymentMethod
		wantErr bool
	}{
		{in: "bank_transfer", want: order.PaymentBankTransfer},
		{in: "cod", want: order.PaymentCOD},
		{in: "COD", wantErr: true},
		{in: "card", wantErr: true},
		{in: "bank-transfer", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()

			got, err := order.ParsePaymentMethod(tt.in)
			if tt.wantErr {
				e, ok := errs.As(err)
				require.True(t, ok)
				require.Equal(t, errs.KindInvalid, e.Kind)
				require.Equal(t, "payment_method", e.Fields[0].Field)
				require.Equal(t, "must be one of: bank_transfer, cod", e.Fields[0].Message)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.in, got.String())
		})
	}
}

func TestJSON(t *testing.T) {
	t.Parallel()

	type view struct {
		Status  order.Status        `json:"status"`
		Payment order.PaymentMethod `json:"payment_method"`
	}
	in := view{Status: order.StatusPartiallyShipped, Payment: order.PaymentCOD}
	b, err := json.Marshal(in)
	require.NoError(t, err)
	require.JSONEq(t, `{"status":"partially_shipped","payment_method":"cod"}`, string(b))

	var out view
	require.NoError(t, json.Unmarshal(b, &out))
	require.Equal(t, in, out)

	require.Equal(t, errs.KindInvalid, errs.KindOf(json.Unmarshal([]byte(`{"status":"lost"}`), &out)))
	require.Equal(t, errs.KindInvalid, errs.KindOf(json.Unmarshal([]byte(`{"payment_method":"card"}`), &out)))
	require.Equal(t, in, out, "a failed UnmarshalText leaves the value alone")
}
