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
	tb, err := ledger.GetTrialBalance(r.Context(), s.Pool, c.Acting, at)
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
		return ledger.ListVendorBalances(ctx, s.Pool, c.Acting, c.vendorScope(), p)
	})
}

// listLedgerEntries is GET /payouts/{vendor_id}/entries: the vendor's
// ledger lines in log order. Another vendor (for vendor staff) or a vendor
// of another shop is a 404.
func (s *Server) listLedgerEntries(w http.ResponseWriter, r *http.Request) {
	v, err := pathID(r, "vendor_id", uuid.Parse)
	if err != nil {
		writeError(w, r, err)
		return
	}
	serveList(w, r, func(ctx context.Context, c *caller, p projections.Page) (projections.List[ledger.Entry], error) {
		if vs := c.vendorScope(); vs != nil && *vs != v {
			return projections.List[ledger.Entry]{}, errs.New(errs.KindNotFound, "not_found", "no such vendor")
		}
		if _, err := tenancy.GetVendor(ctx, s.Pool, c.Acting, v); err != nil {
			return projections.List[ledger.Entry]{}, err
		}
		return ledger.ListEntries(ctx, s.Pool, c.Acting, v, p)
	})
}
