package commands

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/payout"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/domain/vendor"
	"github.com/honten/honten/eventstore"
)

var (
	payoutsRepo = repo(payout.StreamType, payout.FromHistory)
	runsRepo    = repo(payout.RunStreamType, payout.RunFromHistory)
)

// SetPayoutAccount sets the bank account a vendor's payouts go to.
type SetPayoutAccount struct {
	Tenant  tenant.ID
	By      By
	Vendor  vendor.ID
	Account tenant.BankAccount
}

// SetPayoutAccount records the vendor's payout account. It returns
// eventstore.ErrNotFound for an unknown vendor and Invalid errors for a bad
// account.
func (s *Service) SetPayoutAccount(ctx context.Context, c SetPayoutAccount) (Result, error) {
	now := s.Now()
	vd, res, err := vendors.Update(ctx, s.store, c.Tenant, c.Vendor.UUID, nil, c.By.metadata(c.Tenant), func(v *vendor.Vendor) error {
		return v.SetPayoutAccount(c.Account, now)
	})
	if err != nil {
		return Result{}, fmt.Errorf("set payout account of vendor %s: %w", c.Vendor, err)
	}
	return Result{Result: res, ID: c.Vendor.UUID, Version: vd.Version()}, nil
}

// RecordPayout records money paid out to a vendor.
type RecordPayout struct {
	Tenant    tenant.ID
	By        By
	Vendor    vendor.ID
	Amount    money.Money
	PaidAt    time.Time
	Reference string
	// Run is the payout run this payout pays, if any.
	Run *payout.RunID
	// Released is what the ledger has made payable to the vendor in total
	// (its payable and paid balances): payouts never exceed it. A ledger
	// behind the log only makes the bound stricter.
	Released money.Money
}

// RecordPayout appends payout.recorded to the vendor's payouts. It returns
// eventstore.ErrNotFound for an unknown vendor or run (or a run without
// this vendor), Invalid errors, payout.ErrExceedsPayable,
// payout.ErrReferenceUsed and payout.ErrRunItemPaid. A retry with the same
// command id appends nothing.
func (s *Service) RecordPayout(ctx context.Context, c RecordPayout) (Result, error) {
	now := s.Now()
	id := payout.ID{UUID: c.By.DerivedID(0)}
	_, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (struct{}, error) {
		if _, err := vendors.Load(ctx, tx, c.Tenant, c.Vendor.UUID); err != nil {
			return struct{}{}, err
		}
		x := payout.Payout{ID: id, Vendor: c.Vendor.UUID, Amount: c.Amount, PaidAt: c.PaidAt, Reference: c.Reference}
		if c.Run != nil {
			r, err := runsRepo.Load(ctx, tx, c.Tenant, c.Run.UUID)
			if err != nil {
				return struct{}{}, err
			}
			item, ok := r.Item(c.Vendor.UUID)
			if !ok {
				return struct{}{}, fmt.Errorf("vendor %s in run %s: %w", c.Vendor, c.Run, eventstore.ErrNotFound)
			}
			x.Run, x.RunAmount = &c.Run.UUID, item.Amount
		}
		p, err := payoutsRepo.Load(ctx, tx, c.Tenant, payout.StreamOf(c.Vendor.UUID))
		if err != nil && !errors.Is(err, eventstore.ErrNotFound) {
			return struct{}{}, err
		}
		if p == nil {
			p = payout.FromHistory(nil)
		}
		if err := p.Pay(x, c.Released, now); err != nil {
			return struct{}{}, err
		}
		_, err = payoutsRepo.Save(ctx, tx, c.Tenant, payout.StreamOf(c.Vendor.UUID), p, nil, c.By.metadata(c.Tenant))
		return struct{}{}, err
	})
	if err != nil {
		return Result{}, fmt.Errorf("record payout to vendor %s: %w", c.Vendor, err)
	}
	return Result{Result: res, ID: id.UUID, Version: res.Version(payout.StreamOf(c.Vendor.UUID))}, nil
}

// CreatePayoutRun makes a payout run.
type CreatePayoutRun struct {
	Tenant    tenant.ID
	By        By
	PeriodEnd time.Time
	MinAmount money.Money
	// Candidates are the vendors the ledger says may be paid, with their
	// amounts and payout accounts.
	Candidates []payout.Candidate
}

// CreatePayoutRun appends payout_run.created. It returns Invalid errors and
// payout.ErrNothingToPay.
func (s *Service) CreatePayoutRun(ctx context.Context, c CreatePayoutRun) (payout.RunID, Result, error) {
	now := s.Now()
	id := payout.RunID{UUID: c.By.DerivedID(0)}
	r, err := payout.NewRun(id, c.Tenant, c.PeriodEnd, c.MinAmount, c.Candidates, now)
	if err != nil {
		return id, Result{}, err
	}
	_, res, err := run(ctx, s, func(ctx context.Context, tx *eventstore.Tx) (struct{}, error) {
		_, err := runsRepo.Save(ctx, tx, c.Tenant, id.UUID, r, nil, c.By.metadata(c.Tenant))
		return struct{}{}, err
	})
	if err != nil {
		return id, Result{}, fmt.Errorf("create payout run: %w", err)
	}
	return id, Result{Result: res, ID: id.UUID, Version: 1}, nil
}
