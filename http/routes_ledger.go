package http

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/projections/ledger"
	"github.com/honten/honten/projections/tenancy"
)

func (s *Server) ledgerRoutes() []adminRoute {
	return []adminRoute{
		{"GET", "/ledger/trial-balance", permLedgerRead, s.trialBalance},
		{"GET", "/payouts", permPayoutsRead, s.listVendorBalances},
		{"GET", "/payouts/{vendor_id}/entries", permPayoutsRead, s.listLedgerEntries},
		{"GET", "/payouts/{vendor_id}/statement", permPayoutsRead, s.vendorStatement},
		{"GET", "/payouts/{vendor_id}/statement.csv", permPayoutsRead, s.vendorStatement},
		{"GET", "/payouts/{vendor_id}/account", permPayoutsRead, s.getPayoutAccount},
		{"PUT", "/payouts/{vendor_id}/account", permPayoutsWrite, s.setPayoutAccount},
		{"POST", "/payouts/{vendor_id}", permPayoutsWrite, s.recordPayout},
		{"GET", "/payout-runs", permLedgerRead, s.listPayoutRuns},
		{"POST", "/payout-runs", permPayoutsWrite, s.createPayoutRun},
		{"GET", "/payout-runs/{id}", permLedgerRead, s.getPayoutRun},
		{"GET", "/payout-runs/{id}/zengin", permLedgerRead, s.payoutRunZengin},
		{"GET", "/refunds", permLedgerRead, s.listRefunds},
		{"GET", "/refunds.zengin", permPaymentsWrite, s.refundsZengin},
		{"POST", "/orders/{id}/refunds", permPaymentsWrite, s.payRefund},
		{"PUT", "/orders/{id}/refund-account", permPaymentsWrite, s.setRefundAccount},
	}
}

// trialBalance is GET /ledger/trial-balance?at=: every account's debits,
// credits and balance, and their sums per currency (equal, always); with
// at (RFC 3339 or a date), as the ledger stood then.
func (s *Server) trialBalance(w http.ResponseWriter, r *http.Request) {
	var at *time.Time
	if v := r.URL.Query().Get("at"); v != "" {
		t, ok := parseTimeParam(v)
		if !ok {
			writeError(w, r, errs.Field("at", "must be an RFC 3339 time or a date (YYYY-MM-DD)"))
			return
		}
		at = &t
	}
	c := callerFrom(r.Context())
	tb, err := ledger.GetTrialBalance(r.Context(), s.readDB(r.Context()), c.Acting, at)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, tb)
}

// listVendorBalances is GET /payouts: what is owed to each vendor (vendor
// staff: theirs only).
func (s *Server) listVendorBalances(w http.ResponseWriter, r *http.Request) {
	serveList(w, r, func(ctx context.Context, c *caller, p projections.Page) (projections.List[ledger.VendorBalance], error) {
		return ledger.ListVendorBalances(ctx, s.readDB(ctx), c.Acting, c.vendorScope(), p)
	})
}

// scopedVendor reads the path's vendor_id and checks the caller may see it:
// vendor staff only their own, anyone only a vendor of the shop (404
// otherwise).
func (s *Server) scopedVendor(r *http.Request) (uuid.UUID, error) {
	v, err := pathID(r, "vendor_id", uuid.Parse)
	if err != nil {
		return v, err
	}
	c := callerFrom(r.Context())
	if vs := c.vendorScope(); vs != nil && *vs != v {
		return v, errs.New(errs.KindNotFound, "not_found", "no such vendor")
	}
	if _, err := tenancy.GetVendor(r.Context(), s.readDB(r.Context()), c.Acting, v); err != nil {
		return v, err
	}
	return v, nil
}

// listLedgerEntries is GET /payouts/{vendor_id}/entries: the vendor's
// ledger lines in log order. Another vendor (for vendor staff) or a vendor
// of another shop is a 404.
func (s *Server) listLedgerEntries(w http.ResponseWriter, r *http.Request) {
	v, err := s.scopedVendor(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	serveList(w, r, func(ctx context.Context, c *caller, p projections.Page) (projections.List[ledger.Entry], error) {
		return ledger.ListEntries(ctx, s.readDB(ctx), c.Acting, v, p)
	})
}
