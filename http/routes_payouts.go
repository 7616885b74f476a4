package http

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/payout"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/domain/vendor"
	"github.com/honten/honten/internal/zengin"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/projections/ledger"
	"github.com/honten/honten/projections/tenancy"
)

// shopCurrency returns the acting shop's currency.
func (s *Server) shopCurrency(ctx context.Context) (money.Currency, error) {
	tv, err := tenancy.GetTenant(ctx, s.readDB(ctx), callerFrom(ctx).Acting)
	if err != nil {
		return "", err
	}
	return money.Currency(strings.TrimSpace(tv.DefaultCurrency)), nil
}

// getPayoutAccount is GET /payouts/{vendor_id}/account: the bank account
// the vendor's payouts go to (404 payout_account_not_set before one is).
func (s *Server) getPayoutAccount(w http.ResponseWriter, r *http.Request) {
	v, err := s.scopedVendor(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	a, err := ledger.PayoutAccount(r.Context(), s.readDB(r.Context()), callerFrom(r.Context()).Acting, v)
	if err == nil && a == nil {
		err = errs.New(errs.KindNotFound, "payout_account_not_set", "the vendor has no payout account yet")
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

// setPayoutAccount is PUT /payouts/{vendor_id}/account: the account the
// vendor's payouts go to (recorded on the vendor's history).
func (s *Server) setPayoutAccount(w http.ResponseWriter, r *http.Request) {
	v, err := s.scopedVendor(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var in tenant.BankAccount
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	if err := checkKanaHolder(in.AccountHolder); err != nil {
		writeError(w, r, err)
		return
	}
	c := callerFrom(r.Context())
	cmd := commands.SetPayoutAccount{Tenant: c.Acting, By: c.by(r), Vendor: vendor.ID{UUID: v}, Account: in}
	s.executeReading(w, r, http.StatusOK, ledgerModel, func(ctx context.Context) (commands.Result, error) {
		return s.Commands.SetPayoutAccount(ctx, cmd)
	}, func(ctx context.Context) (view, error) {
		a, err := ledger.PayoutAccount(ctx, s.readDB(ctx), c.Acting, v)
		if err == nil && a == nil {
			err = errs.New(errs.KindNotFound, "payout_account_not_set", "the vendor has no payout account yet")
		}
		return view{body: a}, err
	})
}

// payoutRequest is the body of POST /payouts/{vendor_id}.
type payoutRequest struct {
	Amount    money.Money `json:"amount"`
	PaidAt    *time.Time  `json:"paid_at"`
	Reference string      `json:"reference"`
	RunID     *string     `json:"run_id"`
}

// payoutView is a recorded payout.
type payoutView struct {
	ID        uuid.UUID   `json:"id"`
	Vendor    uuid.UUID   `json:"vendor_id"`
	Amount    money.Money `json:"amount"`
	PaidAt    time.Time   `json:"paid_at"`
	Reference string      `json:"reference"`
	RunID     *uuid.UUID  `json:"run_id"`
	// Balance is the vendor's ledger balance after the payout.
	Balance ledger.VendorBalance `json:"balance"`
}

// recordPayout is POST /payouts/{vendor_id}: a payout paid (the ledger
// moves it from payable to paid out). 201 with the payout and the vendor's
// balance; 409 exceeds_payable, payout_reference_used, payout_run_item_paid.
func (s *Server) recordPayout(w http.ResponseWriter, r *http.Request) {
	v, err := s.scopedVendor(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var in payoutRequest
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	ctx := r.Context()
	c := callerFrom(ctx)
	cur, err := s.shopCurrency(ctx)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var fe errs.Collector
	fe.Check(in.Amount.Currency() != "", "amount", "is required")
	fe.Check(in.PaidAt != nil, "paid_at", "is required (RFC 3339)")
	var run *payout.RunID
	if in.RunID != nil {
		id, err := payout.ParseRunID(*in.RunID)
		fe.Check(err == nil, "run_id", "must be a payout run id")
		run = &id
	}
	if err := fe.Err(); err != nil {
		writeError(w, r, err)
		return
	}
	released, err := ledger.Released(ctx, s.readDB(ctx), c.Acting, v, cur)
	if err != nil {
		writeError(w, r, err)
		return
	}
	cmd := commands.RecordPayout{Tenant: c.Acting, By: c.by(r), Vendor: vendor.ID{UUID: v}, Amount: in.Amount, PaidAt: *in.PaidAt,
		Reference: in.Reference, Run: run, Released: released}
	var id uuid.UUID
	s.executeReading(w, r, http.StatusCreated, ledgerModel, func(ctx context.Context) (commands.Result, error) {
		res, err := s.Commands.RecordPayout(ctx, cmd)
		id = res.ID
		return res, err
	}, func(ctx context.Context) (view, error) {
		bal, err := ledger.ListVendorBalances(ctx, s.readDB(ctx), c.Acting, &v, projections.Page{Limit: 1})
		if err != nil {
			return view{}, err
		}
		out := payoutView{ID: id, Vendor: v, Amount: in.Amount, PaidAt: in.PaidAt.UTC(), Reference: strings.TrimSpace(in.Reference)}
		if run != nil {
			out.RunID = &run.UUID
		}
		if len(bal.Items) > 0 {
			out.Balance = bal.Items[0]
		}
		return view{body: out}, nil
	})
}

// runRequest is the body of POST /payout-runs.
type runRequest struct {
	PeriodEnd *time.Time  `json:"period_end"`
	MinAmount money.Money `json:"min_amount"`
}

// createPayoutRun is POST /payout-runs: every vendor whose payable at
// period_end (still payable, not in an earlier run's unpaid transfers)
// reaches min_amount. 201 with the run; 409 nothing_to_pay.
func (s *Server) createPayoutRun(w http.ResponseWriter, r *http.Request) {
	var in runRequest
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	ctx := r.Context()
	c := callerFrom(ctx)
	cur, err := s.shopCurrency(ctx)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var fe errs.Collector
	fe.Check(in.PeriodEnd != nil, "period_end", "is required (RFC 3339)")
	if in.MinAmount.Currency() == "" {
		in.MinAmount = money.Zero(cur)
	}
	fe.Check(in.MinAmount.Currency() == cur, "min_amount", "must be in "+string(cur))
	if err := fe.Err(); err != nil {
		writeError(w, r, err)
		return
	}
	candidates, err := ledger.RunCandidates(ctx, s.readDB(ctx), c.Acting, *in.PeriodEnd, cur)
	if err != nil {
		writeError(w, r, err)
		return
	}
	cmd := commands.CreatePayoutRun{Tenant: c.Acting, By: c.by(r), PeriodEnd: *in.PeriodEnd, MinAmount: in.MinAmount, Candidates: candidates}
	var id payout.RunID
	s.executeReading(w, r, http.StatusCreated, ledgerModel, func(ctx context.Context) (commands.Result, error) {
		var res commands.Result
		var err error
		id, res, err = s.Commands.CreatePayoutRun(ctx, cmd)
		return res, err
	}, func(ctx context.Context) (view, error) {
		run, err := ledger.GetRun(ctx, s.readDB(ctx), c.Acting, id.UUID)
		return view{body: run}, err
	})
}

// listPayoutRuns is GET /payout-runs: newest first.
func (s *Server) listPayoutRuns(w http.ResponseWriter, r *http.Request) {
	serveList(w, r, func(ctx context.Context, c *caller, p projections.Page) (projections.List[ledger.Run], error) {
		return ledger.ListRuns(ctx, s.readDB(ctx), c.Acting, p)
	})
}

// getPayoutRun is GET /payout-runs/{id}: the run, each transfer marked
// paid once its payout is recorded.
func (s *Server) getPayoutRun(w http.ResponseWriter, r *http.Request) {
	serveOne(w, r, payout.ParseRunID, func(ctx context.Context, c *caller, id payout.RunID) (ledger.Run, int64, error) {
		run, err := ledger.GetRun(ctx, s.readDB(ctx), c.Acting, id.UUID)
		return run, 0, err
	})
}

// statementRange reads from and to: RFC 3339 times (to exclusive) or dates
// (to inclusive: through the end of that day, UTC). from defaults to the
// beginning, to to now.
func statementRange(r *http.Request, now time.Time) (time.Time, time.Time, error) {
	q := r.URL.Query()
	from, to := time.Unix(0, 0).UTC(), now
	var v errs.Collector
	if s := q.Get("from"); s != "" {
		t, ok := parseTimeParam(s)
		v.Check(ok, "from", "must be an RFC 3339 time or a date (YYYY-MM-DD)")
		from = t
	}
	if s := q.Get("to"); s != "" {
		t, ok := parseTimeParam(s)
		v.Check(ok, "to", "must be an RFC 3339 time or a date (YYYY-MM-DD)")
		if len(s) == len(time.DateOnly) {
			t = t.AddDate(0, 0, 1)
		}
		to = t
	}
	if err := v.Err(); err != nil {
		return from, to, err
	}
	if !to.After(from) {
		return from, to, errs.Field("to", "must be after from")
	}
	return from, to, nil
}

// vendorStatement is GET /payouts/{vendor_id}/statement[.csv]?from=&to=:
// what the shop owed the vendor at from, every line on the vendor's held
// and payable accounts until to with the running balance, and what it owed
// at to. Streamed from the database cursor: memory stays constant.
func (s *Server) vendorStatement(w http.ResponseWriter, r *http.Request) {
	v, err := s.scopedVendor(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	ctx := r.Context()
	from, to, err := statementRange(r, s.Commands.Now().Add(time.Second))
	if err != nil {
		writeError(w, r, err)
		return
	}
	cur, err := s.shopCurrency(ctx)
	if err != nil {
		writeError(w, r, err)
		return
	}
	c := callerFrom(ctx)
	if strings.HasSuffix(r.URL.Path, ".csv") {
		s.statementCSV(w, r, c, v, cur, from, to)
		return
	}
	enc := json.NewEncoder(w)
	started := false
	first := true
	closing, err := ledger.Statement(ctx, s.readDB(ctx), c.Acting, v, cur, from, to, func(o ledger.Owed) error {
		head, err := json.Marshal(map[string]any{"vendor_id": v, "currency": cur, "from": from, "to": to, "opening": o})
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		started = true
		_, err = w.Write(append(head[:len(head)-1], `,"entries":[`...))
		return err
	}, func(l ledger.StatementLine) error {
		if !first {
			if _, err := w.Write([]byte(",")); err != nil {
				return err
			}
		}
		first = false
		return enc.Encode(l)
	})
	if err != nil {
		if !started {
			writeError(w, r, err)
			return
		}
		s.Logger.Error("statement cut short", "vendor", v, "err", err)
		return
	}
	tail, err := json.Marshal(closing)
	if err != nil {
		return
	}
	_, _ = w.Write([]byte(`],"closing":`))
	_, _ = w.Write(tail)
	_, _ = w.Write([]byte("}\n"))
}

// statementCSV writes the statement as CSV: a row for the opening balance,
// one per line, one for the closing balance.
func (s *Server) statementCSV(w http.ResponseWriter, r *http.Request, c *caller, v uuid.UUID, cur money.Currency, from, to time.Time) {
	cw := csv.NewWriter(w)
	started := false
	name := "statement-" + v.String() + "-" + from.Format("20060102") + "-" + to.Format("20060102") + ".csv"
	closing, err := ledger.Statement(r.Context(), s.readDB(r.Context()), c.Acting, v, cur, from, to, func(o ledger.Owed) error {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		w.WriteHeader(http.StatusOK)
		started = true
		_ = cw.Write([]string{"at", "kind", "account", "order_id", "event_id", "position", "debit", "credit", "held", "payable", "owed"})
		return cw.Write([]string{from.Format(time.RFC3339), "opening", "", "", "", "", "", "", o.Held.AmountString(), o.Payable.AmountString(), o.Owed.AmountString()})
	}, func(l ledger.StatementLine) error {
		order := ""
		if l.OrderID != nil {
			order = l.OrderID.String()
		}
		return cw.Write([]string{l.At.Format(time.RFC3339), "entry", l.Account, order, l.EventID.String(), l.Position,
			l.Debit.AmountString(), l.Credit.AmountString(), "", "", l.Balance.AmountString()})
	})
	if err != nil {
		if !started {
			writeError(w, r, err)
			return
		}
		s.Logger.Error("statement cut short", "vendor", v, "err", err)
		return
	}
	_ = cw.Write([]string{to.Format(time.RFC3339), "closing", "", "", "", "", "", "", closing.Held.AmountString(), closing.Payable.AmountString(), closing.Owed.AmountString()})
	cw.Flush()
}

// ledgerModel names the ledger read model for the consistency wait.
var ledgerModel = []string{projections.Model(ledger.Name)}

// errNoClientCode: the shop has not set the 委託者コード its bank assigned.
var errNoClientCode = errs.Conflict("transfer_client_code_missing",
	"set transfer_client_code (the 委託者コード from your bank) and the shop's bank_account in the settings first")

// zenginAccountType maps an account type to its 預金種目 code.
func zenginAccountType(t string) zengin.AccountType {
	switch t {
	case "current":
		return zengin.Current
	case "savings":
		return zengin.Savings
	}
	return zengin.Ordinary
}

// zenginName folds a name for a Zengin file, or returns "" when it has no
// bank kana form (an optional bank or branch name written in kanji).
func zenginName(s string, max int) string {
	f := zengin.Fold(s)
	if zengin.ValidName(f) != nil || len(f) > max {
		return ""
	}
	return f
}

// payoutRunZengin is GET /payout-runs/{id}/zengin[?date=YYYY-MM-DD]: the
// run's 総合振込 transfer file (cp932, 120-byte records with CRLF) from the
// shop's bank account, for the transfer date (default: the next day, JST).
func (s *Server) payoutRunZengin(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", payout.ParseRunID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	ctx := r.Context()
	c := callerFrom(ctx)
	date, err := transferDate(r, s.Commands.Now())
	if err != nil {
		writeError(w, r, err)
		return
	}
	run, err := ledger.GetRun(ctx, s.readDB(ctx), c.Acting, id.UUID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	h, err := s.transferHeader(ctx, c, date)
	if err != nil {
		writeError(w, r, err)
		return
	}
	items := make([]zengin.Transfer, len(run.Items))
	for i, it := range run.Items {
		items[i] = zenginTransfer(it.Account, it.Amount)
	}
	writeTransferFile(w, r, h, items, "payout-run-"+id.String()+".txt")
}
