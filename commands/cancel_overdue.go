package commands

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

// ReasonPaymentOverdue is the status-history reason of an order cancelled
// because its bank transfer did not arrive in time.
const ReasonPaymentOverdue = "payment_overdue"

// CancelOverdueOrder cancels a bank-transfer order whose payment is not
// settled at its due date plus the tenant's grace period
// (tenant.Settings.PaymentGraceHours: a transfer sent on the due date is
// often credited the next banking day).
type CancelOverdueOrder struct {
	Tenant tenant.ID
	By     By
	Order  order.ID
}

// errNotOverdue stops CancelOverdueOrder without an error.
var errNotOverdue = errors.New("not overdue")

// CancelOverdueOrder cancels the order like CancelOrder (stock released,
// payment cancelled with any partial receipt due back) when, under the
// order's lock, it still awaits a payment whose due date and grace period
// have passed;
// otherwise — paid meanwhile, cancelled, not yet due — it appends nothing.
// It returns eventstore.ErrNotFound for an unknown order.
func (s *Service) CancelOverdueOrder(ctx context.Context, c CancelOverdueOrder) (Result, error) {
	now := s.Now()
	_, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (struct{}, error) {
		t, err := tenants.Read(ctx, tx, c.Tenant, c.Tenant.UUID)
		if err != nil {
			return struct{}{}, err
		}
		grace := t.Settings().PaymentGrace()
		err = cancelOrder(ctx, tx, c.Tenant, c.Order, ReasonPaymentOverdue, c.By.metadata(c.Tenant), s, func(st *orderState) error {
			p := st.payment
			if st.order.Status() != order.StatusPendingPayment || p == nil || p.IsSettled() || p.DueAt() == nil || now.Before(p.DueAt().Add(grace)) {
				return errNotOverdue
			}
			return nil
		})
		if errors.Is(err, errNotOverdue) {
			return struct{}{}, nil
		}
		return struct{}{}, err
	})
	if err != nil {
		return Result{}, fmt.Errorf("cancel overdue order %s: %w", c.Order, err)
	}
	return orderResult(res, c.Order.UUID), nil
}

// Overdue names an order that a read model believes is unpaid past its due date.
type Overdue struct {
	Tenant tenant.ID
	Order  order.ID
}

// Sweeper cancels bank-transfer orders unpaid at their due date. Each
// candidate is checked again under the order's lock (CancelOverdueOrder),
// so a stale read model or two sweepers at once do no harm.
type Sweeper struct {
	Commands *Service
	// FindFunc lists up to limit orders awaiting payment whose due date is
	// not after now (the order_views read model's index on status and due
	// date answers it).
	FindFunc func(ctx context.Context, now time.Time, limit int) ([]Overdue, error)
	// ReleasableFunc lists up to limit delivered shipments whose return
	// window ended by now and whose funds are not released (the ledger read
	// model answers it); nil skips the release of funds.
	ReleasableFunc func(ctx context.Context, now time.Time, limit int) ([]Releasable, error)
	// Every is the pause between sweeps; 0 means a minute.
	Every time.Duration
	Log   *slog.Logger
}

// sweepBatch bounds the orders one pass cancels before looking again.
const sweepBatch = 100

// CancelOverdue cancels every order overdue at the Service's clock and
// returns how many it cancelled.
func (w *Sweeper) CancelOverdue(ctx context.Context) (int, error) {
	now := w.Commands.Now()
	n, err := sweep(ctx, func(ctx context.Context) ([]Overdue, error) { return w.FindFunc(ctx, now, sweepBatch) },
		func(d Overdue) uuid.UUID { return d.Order.UUID },
		func(ctx context.Context, d Overdue) (Result, error) {
			by := System("payment_deadline")
			// One command id per order: two sweepers cancelling it append once.
			by.CommandID = uuid.NewSHA1(d.Order.UUID, []byte(ReasonPaymentOverdue))
			return w.Commands.CancelOverdueOrder(ctx, CancelOverdueOrder{Tenant: d.Tenant, By: by, Order: d.Order})
		})
	if err != nil {
		return n, fmt.Errorf("cancel overdue orders: %w", err)
	}
	return n, nil
}

// sweep runs act on everything find returns, batch after batch, until a
// batch brings nothing new or is not full, and returns how many acts
// appended something. An entity is acted on once per sweep (a read model
// behind the log may list it again); a duplicate command or a vanished
// entity is no error.
func sweep[T any](ctx context.Context, find func(context.Context) ([]T, error), key func(T) uuid.UUID,
	act func(context.Context, T) (Result, error)) (int, error) {
	seen := map[uuid.UUID]bool{}
	n := 0
	for {
		due, err := find(ctx)
		if err != nil {
			return n, fmt.Errorf("find: %w", err)
		}
		progress := false
		for _, d := range due {
			if seen[key(d)] {
				continue
			}
			seen[key(d)] = true
			progress = true
			res, err := act(ctx, d)
			switch {
			case errors.Is(err, eventstore.ErrDuplicate), errors.Is(err, eventstore.ErrNotFound):
			case err != nil:
				return n, err
			case res.Version > 0:
				n++
			}
		}
		if !progress || len(due) < sweepBatch {
			return n, nil
		}
	}
}

// Run sweeps until ctx ends.
func (w *Sweeper) Run(ctx context.Context) {
	every := w.Every
	if every <= 0 {
		every = time.Minute
	}
	log := w.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := w.CancelOverdue(ctx); err != nil && ctx.Err() == nil {
			log.Error("payment deadline sweep failed", "err", err)
		} else if n > 0 {
			log.Info("cancelled orders unpaid at their due date", "count", n)
		}
		if n, err := w.ReleaseDue(ctx); err != nil && ctx.Err() == nil {
			log.Error("funds release sweep failed", "err", err)
		} else if n > 0 {
			log.Info("released vendor funds past their return window", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
