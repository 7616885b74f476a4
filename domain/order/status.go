package order

import "github.com/honten/honten/domain/errs"

// Status is where an order is in its life.
type Status string

// The order statuses.
const (
	StatusPendingPayment   Status = "pending_payment"   // placed, waiting for a bank transfer
	StatusPendingShipment  Status = "pending_shipment"  // paid (or COD), waiting to ship
	StatusPartiallyShipped Status = "partially_shipped" // some lines shipped
	StatusShipped          Status = "shipped"           // every line shipped
	StatusCompleted        Status = "completed"         // delivered and settled; terminal
	StatusCancelled        Status = "cancelled"         // cancelled before completion; terminal
)

var statuses = []Status{
	StatusPendingPayment, StatusPendingShipment, StatusPartiallyShipped,
	StatusShipped, StatusCompleted, StatusCancelled,
}

// ParseStatus parses one of the status names above. It returns an Invalid
// *errs.Error for the field "status" otherwise.
func ParseStatus(s string) (Status, error) { return errs.OneOf("status", s, statuses) }

// IsTerminal reports whether no further transition is possible: completed
// and cancelled orders never change status again.
func (s Status) IsTerminal() bool { return s == StatusCompleted || s == StatusCancelled }

// String returns the status name.
func (s Status) String() string { return string(s) }

// MarshalText returns the status name. It does not validate s.
func (s Status) MarshalText() ([]byte, error) { return []byte(s), nil }

// UnmarshalText parses the status with ParseStatus and returns its error.
func (s *Status) UnmarshalText(b []byte) error {
	v, err := ParseStatus(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// PaymentMethod is how the buyer pays.
type PaymentMethod string

// The payment methods.
const (
	PaymentBankTransfer PaymentMethod = "bank_transfer" // 銀行振込, paid before shipping
	PaymentCOD          PaymentMethod = "cod"           // 代金引換, paid to the carrier on delivery
)

var paymentMethods = []PaymentMethod{PaymentBankTransfer, PaymentCOD}

// ParsePaymentMethod parses "bank_transfer" or "cod". It returns an Invalid
// *errs.Error for the field "payment_method" otherwise.
func ParsePaymentMethod(s string) (PaymentMethod, error) {
	return errs.OneOf("payment_method", s, paymentMethods)
}

// String returns the method name.
func (m PaymentMethod) String() string { return string(m) }

// MarshalText returns the method name. It does not validate m.
func (m PaymentMethod) MarshalText() ([]byte, error) { return []byte(m), nil }

// UnmarshalText parses the method with ParsePaymentMethod and returns its
// error.
func (m *PaymentMethod) UnmarshalText(b []byte) error {
	v, err := ParsePaymentMethod(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}
