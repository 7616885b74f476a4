package commands

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/shipment"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

// ReleaseFunds makes a vendor's money for a delivered shipment payable once
// the return window frozen at its delivery has passed: the sweeper issues
// it (time is an event, so a replay of the ledger gives the same answer).
type ReleaseFunds struct {
	Tenant   tenant.ID
	By       By
	Shipment shipment.ID
}

// ReleaseFunds appends shipment.funds_released when the window has passed
// at the Service's clock, and nothing otherwise (too early, not delivered,
// released before). It returns eventstore.ErrNotFound for an unknown
// shipment.
func (s *Service) ReleaseFunds(ctx context.Context, c ReleaseFunds) (Result, error) {
	_, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (struct{}, error) {
		st, sh, err := loadShipment(ctx, tx, c.Tenant, c.Shipment, nil)
		if err != nil {
			return struct{}{}, err
		}
		if !sh.ReleaseFunds(s.Now()) {
			return struct{}{}, nil
		}
		return struct{}{}, st.save(ctx, tx, c.Tenant, c.By.metadata(c.Tenant))
	})
	if err != nil {
		return Result{}, fmt.Errorf("release funds of shipment %s: %w", c.Shipment, err)
	}
	return orderResult(res, c.Shipment.UUID), nil
}

// Releasable names a delivered shipment that a read model believes is past
// its return window with its funds still held.
type Releasable struct {
	Tenant   tenant.ID
	Shipment shipment.ID
}

// ReleaseDue releases the funds of every shipment past its return window at
// the Service's clock and returns how many it released. Each is checked
// again under its order's lock, so a stale read model or two sweepers at
// once do no harm.
func (w *Sweeper) ReleaseDue(ctx context.Context) (int, error) {
	if w.ReleasableFunc == nil {
		return 0, nil
	}
	now := w.Commands.Now()
	n, err := sweep(ctx, func(ctx context.Context) ([]Releasable, error) { return w.ReleasableFunc(ctx, now, sweepBatch) },
		func(d Releasable) uuid.UUID { return d.Shipment.UUID },
		func(ctx context.Context, d Releasable) (Result, error) {
			by := System("funds_release")
			by.CommandID = uuid.NewSHA1(d.Shipment.UUID, []byte("funds_release"))
			return w.Commands.ReleaseFunds(ctx, ReleaseFunds{Tenant: d.Tenant, By: by, Shipment: d.Shipment})
		})
	if err != nil {
		return n, fmt.Errorf("release funds: %w", err)
	}
	return n, nil
}
