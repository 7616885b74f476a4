package payment_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/aggregate"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/payment"
)

var now = time.Date(2025, 12, 1, 9, 0, 0, 0, time.UTC)

func yen(n int64) money.Money { return money.MustNew(decimal.NewFromInt(n), money.JPY) }

func newPayment(method order.PaymentMethod, due int64) *payment.Payment {
	c := payment.Created{ID: payment.NewID(), Order: uuid.New(), Method: method, Amount: yen(due)}
	if method == order.PaymentBankTransfer {
		d := now.AddDate(0, 0, 7)
		c.ReferenceCode, c.DueAt = "1234567", &d
	}
	p := payment.Create(c, now)
	return payment.FromHistory(p.Pending())
}

func names(evs []aggregate.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.EventName())
	}
	return out
}

func requireMoney(t *testing.T, want int64, got money.Money) {
	t.Helper()
	require.True(t, got.Equal(yen(want)), "want %d JPY, got %s", want, got)
}

func TestBankTransferReceipts(t *testing.T) {
	t.Parallel()
	t.Run("partial, then the rest", func(t *testing.T) {
		t.Parallel()
		p := newPayment(order.PaymentBankTransfer, 7006)
		require.NoError(t, p.Receive(yen(5000), now, "101", false, "staff:1", now))
		require.Equal(t, payment.StatusPartiallyPaid, p.Status())
		requireMoney(t, 2006, p.Balance())
		require.False(t, p.IsSettled())
		require.NoError(t, p.Receive(yen(2006), now, "102", false, "staff:1", now))
		require.Equal(t, payment.StatusPaid, p.Status())
		requireMoney(t, 0, p.Balance())
		requireMoney(t, 0, p.RefundDue())
		require.Equal(t, []string{"payment.received.v1", "payment.received.v1", "payment.settled.v1"}, names(p.Pending()))
	})
	t.Run("exact", func(t *testing.T) {
		t.Parallel()
		p := newPayment(order.PaymentBankTransfer, 7006)
		require.NoError(t, p.Receive(yen(7006), now, "101", false, "staff:1", now))
		require.Equal(t, payment.StatusPaid, p.Status())
		require.Equal(t, []string{"payment.received.v1", "payment.settled.v1"}, names(p.Pending()))
		settled := p.Pending()[1].(payment.Settled)
		requireMoney(t, 7006, settled.Received)
	})
	t.Run("over: paid with a refund due", func(t *testing.T) {
		t.Parallel()
		p := newPayment(order.PaymentBankTransfer, 11000)
		require.NoError(t, p.Receive(yen(12000), now, "103", false, "staff:1", now))
		require.Equal(t, payment.StatusPaid, p.Status())
		requireMoney(t, 1000, p.RefundDue())
		require.Equal(t, []string{"payment.received.v1", "payment.settled.v1", "payment.refund_due.v1"}, names(p.Pending()))
		// More money after settling is all refund due.
		require.NoError(t, p.Receive(yen(500), now, "104", false, "staff:1", now))
		requireMoney(t, 1500, p.RefundDue())
	})
	t.Run("a repeated reference is a no-op; with another amount a conflict", func(t *testing.T) {
		t.Parallel()
		p := newPayment(order.PaymentBankTransfer, 7006)
		require.NoError(t, p.Receive(yen(1000), now, "101", false, "staff:1", now))
		require.NoError(t, p.Receive(yen(1000), now, "101", false, "staff:1", now))
		require.Len(t, p.Pending(), 1)
		require.ErrorIs(t, p.Receive(yen(2000), now, "101", false, "staff:1", now), payment.ErrReferenceReused)
		require.NoError(t, p.Receive(yen(1000), now, "", false, "staff:1", now))
		require.NoError(t, p.Receive(yen(1000), now.Add(time.Hour), "", false, "staff:1", now), "same amount, same bank day, no reference: confirmed again")
		requireMoney(t, 2000, p.Received())
		require.NoError(t, p.Receive(yen(1000), now, "", true, "staff:1", now), "a distinct request records a second transfer")
		require.NoError(t, p.Receive(yen(1000), now.Add(-48*time.Hour), "", false, "staff:1", now), "another day is another transfer")
		requireMoney(t, 4000, p.Received())
		// It replays to the same state.
		again := payment.FromHistory(append([]aggregate.Event{payment.Created{Method: order.PaymentBankTransfer, Amount: yen(7006)}}, p.Pending()...))
		requireMoney(t, 4000, again.Received())
		require.NoError(t, again.Receive(yen(1000), now, "101", false, "staff:1", now))
		require.Len(t, again.Pending(), 0)
	})
	t.Run("bad amounts and methods", func(t *testing.T) {
		t.Parallel()
		p := newPayment(order.PaymentBankTransfer, 7006)
		require.ErrorIs(t, p.Receive(yen(0), now, "", false, "x", now), payment.ErrAmount)
		require.ErrorIs(t, p.Receive(yen(-5), now, "", false, "x", now), payment.ErrAmount)
		require.ErrorIs(t, p.Receive(money.MustNew(decimal.NewFromInt(5), money.USD), now, "", false, "x", now), payment.ErrAmount)
		require.ErrorIs(t, p.CollectCOD(uuid.New(), yen(7006), now), payment.ErrNotCOD)
		cod := newPayment(order.PaymentCOD, 7006)
		require.ErrorIs(t, cod.Receive(yen(7006), now, "", false, "x", now), payment.ErrNotBankTransfer)
		require.Empty(t, p.Pending())
		require.Empty(t, cod.Pending())
	})
}

func TestCODCollection(t *testing.T) {
	t.Parallel()
	p := newPayment(order.PaymentCOD, 7006)
	require.Nil(t, p.DueAt())
	ship := uuid.New()
	require.NoError(t, p.CollectCOD(ship, yen(7006), now))
	require.Equal(t, payment.StatusPaid, p.Status())
	require.Equal(t, []string{"payment.cod_collected.v1", "payment.settled.v1"}, names(p.Pending()))
	require.NoError(t, p.CollectCOD(ship, yen(7006), now), "recorded twice: once")
	require.Len(t, p.Pending(), 2)
	require.ErrorIs(t, p.CollectCOD(ship, yen(7000), now), payment.ErrAlreadyCollected)
}

func TestCancel(t *testing.T) {
	t.Parallel()
	t.Run("unpaid: cancelled, nothing to refund", func(t *testing.T) {
		t.Parallel()
		p := newPayment(order.PaymentBankTransfer, 7006)
		p.Cancel("payment_overdue", now)
		require.Equal(t, payment.StatusCancelled, p.Status())
		require.Equal(t, []string{"payment.cancelled.v1"}, names(p.Pending()))
		p.Cancel("again", now)
		require.Len(t, p.Pending(), 1)
		require.NoError(t, p.Receive(yen(7006), now, "late", false, "x", now), "a late transfer is recorded")
		require.Equal(t, payment.StatusCancelled, p.Status())
		requireMoney(t, 7006, p.Received())
		requireMoney(t, 7006, p.RefundDue())
		require.Equal(t, []string{"payment.cancelled.v1", "payment.received.v1", "payment.refund_due.v1"}, names(p.Pending()))
	})
	t.Run("partially paid: the money received is due back", func(t *testing.T) {
		t.Parallel()
		p := newPayment(order.PaymentBankTransfer, 7006)
		require.NoError(t, p.Receive(yen(3000), now, "101", false, "x", now))
		p.Cancel("payment_overdue", now)
		require.Equal(t, payment.StatusCancelled, p.Status())
		requireMoney(t, 3000, p.RefundDue())
		require.NoError(t, p.Receive(yen(3000), now, "101", false, "x", now), "the receipt already recorded is still a no-op")
	})
	t.Run("paid: stays paid, everything received is due back", func(t *testing.T) {
		t.Parallel()
		p := newPayment(order.PaymentBankTransfer, 7006)
		require.NoError(t, p.Receive(yen(8000), now, "101", false, "x", now))
		requireMoney(t, 994, p.RefundDue())
		p.Cancel("buyer asked", now)
		require.Equal(t, payment.StatusPaid, p.Status())
		requireMoney(t, 8000, p.RefundDue())
		p.Cancel("again", now)
		requireMoney(t, 8000, p.RefundDue())
	})
	t.Run("COD before collection", func(t *testing.T) {
		t.Parallel()
		p := newPayment(order.PaymentCOD, 7006)
		p.Cancel("buyer asked", now)
		require.Equal(t, payment.StatusCancelled, p.Status())
		requireMoney(t, 0, p.RefundDue())
		require.ErrorIs(t, p.CollectCOD(uuid.New(), yen(7006), now), payment.ErrCancelled)
	})
}

func TestReinstate(t *testing.T) {
	t.Parallel()
	t.Run("a late transfer covering the amount due settles it; the excess stays due back", func(t *testing.T) {
		t.Parallel()
		d := now.AddDate(0, 0, 7)
		created := payment.Create(payment.Created{ID: payment.NewID(), Order: uuid.New(), Method: order.PaymentBankTransfer,
			Amount: yen(7006), ReferenceCode: "1234567", DueAt: &d}, now).Pending()
		p := payment.FromHistory(created)
		p.Cancel("payment_overdue", now)
		require.ErrorIs(t, p.Reinstate("paid late", now), payment.ErrNotReinstatable, "nothing received yet")
		require.NoError(t, p.Receive(yen(5000), now, "101", false, "x", now))
		require.ErrorIs(t, p.Reinstate("paid late", now), payment.ErrNotReinstatable, "5,000 does not cover 7,006")
		require.NoError(t, p.Receive(yen(3000), now, "102", false, "x", now))
		requireMoney(t, 8000, p.RefundDue())
		before := len(p.Pending())
		require.NoError(t, p.Reinstate("paid late", now))
		require.Equal(t, payment.StatusPaid, p.Status())
		require.True(t, p.IsSettled())
		requireMoney(t, 994, p.RefundDue())
		require.Equal(t, []string{"payment.reinstated.v1", "payment.settled.v1"}, names(p.Pending()[before:]))
		// Replayed from its events, it is the same.
		again := payment.FromHistory(append(created, p.Pending()...))
		require.Equal(t, payment.StatusPaid, again.Status())
		requireMoney(t, 994, again.RefundDue())
		require.ErrorIs(t, p.Reinstate("again", now), payment.ErrNotReinstatable, "only a cancelled payment")
	})
	t.Run("not for COD", func(t *testing.T) {
		t.Parallel()
		p := newPayment(order.PaymentCOD, 7006)
		p.Cancel("buyer asked", now)
		require.ErrorIs(t, p.Reinstate("x", now), payment.ErrNotBankTransfer)
	})
}

func TestChangeAmount(t *testing.T) {
	t.Parallel()
	t.Run("unpaid: the new amount settles", func(t *testing.T) {
		t.Parallel()
		p := newPayment(order.PaymentBankTransfer, 7006)
		require.NoError(t, p.ChangeAmount(yen(5005), "lines cancelled", now))
		requireMoney(t, 5005, p.Due())
		require.Equal(t, payment.StatusPending, p.Status())
		require.NoError(t, p.Receive(yen(5005), now, "201", false, "staff:1", now))
		require.True(t, p.IsSettled())
		requireMoney(t, 0, p.RefundDue())
		require.Equal(t, []string{"payment.amount_changed.v1", "payment.received.v1", "payment.settled.v1"}, names(p.Pending()))
	})
	t.Run("partly paid: receipts covering the new amount settle it, the excess is due back", func(t *testing.T) {
		t.Parallel()
		p := newPayment(order.PaymentBankTransfer, 7006)
		require.NoError(t, p.Receive(yen(6000), now, "202", false, "staff:1", now))
		require.NoError(t, p.ChangeAmount(yen(5005), "lines cancelled", now))
		require.True(t, p.IsSettled())
		requireMoney(t, 995, p.RefundDue())
		require.Equal(t, []string{"payment.received.v1", "payment.amount_changed.v1", "payment.settled.v1", "payment.refund_due.v1"}, names(p.Pending()))
	})
	t.Run("paid: the difference is due back, once per change", func(t *testing.T) {
		t.Parallel()
		p := newPayment(order.PaymentBankTransfer, 7006)
		require.NoError(t, p.Receive(yen(7106), now, "203", false, "staff:1", now))
		requireMoney(t, 100, p.RefundDue())
		require.NoError(t, p.ChangeAmount(yen(5005), "a vendor's part cancelled", now))
		requireMoney(t, 2101, p.RefundDue())
		require.NoError(t, p.ChangeAmount(yen(5005), "the same amount", now))
		require.NoError(t, p.ChangeAmount(yen(4000), "another line", now))
		requireMoney(t, 3106, p.RefundDue())
		require.Equal(t, []string{"payment.received.v1", "payment.settled.v1", "payment.refund_due.v1", "payment.amount_changed.v1",
			"payment.refund_due.v1", "payment.amount_changed.v1", "payment.refund_due.v1"}, names(p.Pending()))
	})
	t.Run("COD: collecting the new amount settles", func(t *testing.T) {
		t.Parallel()
		p := newPayment(order.PaymentCOD, 7006)
		require.NoError(t, p.ChangeAmount(yen(3000), "lines cancelled", now))
		require.NoError(t, p.CollectCOD(uuid.New(), yen(3000), now))
		require.True(t, p.IsSettled())
		requireMoney(t, 0, p.RefundDue())
	})
	t.Run("refusals", func(t *testing.T) {
		t.Parallel()
		p := newPayment(order.PaymentBankTransfer, 7006)
		require.ErrorIs(t, p.ChangeAmount(yen(-1), "x", now), payment.ErrAmount)
		require.ErrorIs(t, p.ChangeAmount(money.MustNew(decimal.NewFromInt(1), money.Currency("USD")), "x", now), payment.ErrAmount)
		p.Cancel("order cancelled", now)
		require.ErrorIs(t, p.ChangeAmount(yen(100), "x", now), payment.ErrCancelled)
	})
}
