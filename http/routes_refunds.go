package http

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/internal/zengin"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/projections/ledger"
	"github.com/honten/honten/projections/tenancy"
)

// refundRequest is the body of POST /orders/{id}/refunds.
type refundRequest struct {
	Amount    money.Money `json:"amount"`
	PaidAt    *time.Time  `json:"paid_at"`
	Reference string      `json:"reference"`
}

// refundView reads an order's refund for a command's response.
func (s *Server) refundView(ctx context.Context, id order.ID) (view, error) {
	rf, err := ledger.GetRefund(ctx, s.readDB(ctx), callerFrom(ctx).Acting, id.UUID)
	return view{body: rf}, err
}

// payRefund is POST /orders/{id}/refunds: money owed back paid to the
// buyer. 201 with the order's refund; 409 refund_exceeds_due,
// refund_reference_used.
func (s *Server) payRefund(w http.ResponseWriter, r *http.Request) {
	var in refundRequest
	id, ok := decodeAt(w, r, order.ParseID, &in)
	if !ok {
		return
	}
	var fe errs.Collector
	fe.Check(in.Amount.Currency() != "", "amount", "is required")
	fe.Check(in.PaidAt != nil, "paid_at", "is required (RFC 3339)")
	if err := fe.Err(); err != nil {
		writeError(w, r, err)
		return
	}
	c := callerFrom(r.Context())
	cmd := commands.PayRefund{Tenant: c.Acting, By: c.by(r), Order: id, Amount: in.Amount, PaidAt: *in.PaidAt, Reference: in.Reference}
	s.executeReading(w, r, http.StatusCreated, ledgerModel, func(ctx context.Context) (commands.Result, error) {
		return s.Commands.PayRefund(ctx, cmd)
	}, func(ctx context.Context) (view, error) { return s.refundView(ctx, id) })
}

// setRefundAccount is PUT /orders/{id}/refund-account: the account the
// buyer asked to be refunded to.
func (s *Server) setRefundAccount(w http.ResponseWriter, r *http.Request) {
	var in tenant.BankAccount
	id, ok := decodeAt(w, r, order.ParseID, &in)
	if !ok {
		return
	}
	if err := checkKanaHolder(in.AccountHolder); err != nil {
		writeError(w, r, err)
		return
	}
	c := callerFrom(r.Context())
	cmd := commands.SetRefundAccount{Tenant: c.Acting, By: c.by(r), Order: id, Account: in}
	s.executeReading(w, r, http.StatusOK, ledgerModel, func(ctx context.Context) (commands.Result, error) {
		return s.Commands.SetRefundAccount(ctx, cmd)
	}, func(ctx context.Context) (view, error) { return s.refundView(ctx, id) })
}

// listRefunds is GET /refunds?status=due|paid: what buyers are owed back.
func (s *Server) listRefunds(w http.ResponseWriter, r *http.Request) {
	serveList(w, r, func(ctx context.Context, c *caller, p projections.Page) (projections.List[ledger.Refund], error) {
		return ledger.ListRefunds(ctx, s.readDB(ctx), c.Acting, r.URL.Query().Get("status"), p)
	})
}

// checkKanaHolder checks that an account holder's name folds to the kana
// banks print (it goes into Zengin transfer files).
func checkKanaHolder(holder string) error {
	if holder == "" {
		return nil
	}
	f := zengin.Fold(holder)
	if err := zengin.ValidName(f); err != nil || len(f) > 30 {
		return errs.Field("account_holder", "must be the holder's name in kana as the bank has it (≤ 30 half-width characters)")
	}
	return nil
}

// refundsZengin is GET /refunds.zengin?ids=ORDER,ORDER…[&date=]: a 総合振込
// transfer file paying back each order's outstanding refund to the account
// its buyer gave. 409 refund_not_payable names an order with nothing
// outstanding or no account.
func (s *Server) refundsZengin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c := callerFrom(ctx)
	raw := strings.Split(r.URL.Query().Get("ids"), ",")
	var ids []uuid.UUID
	for _, v := range raw {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		id, err := uuid.Parse(v)
		if err != nil {
			writeError(w, r, errs.Field("ids", "must be order ids separated by commas"))
			return
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 || len(ids) > 1000 {
		writeError(w, r, errs.Field("ids", "must name 1 to 1,000 orders"))
		return
	}
	date, err := transferDate(r, s.Commands.Now())
	if err != nil {
		writeError(w, r, err)
		return
	}
	h, err := s.transferHeader(ctx, c, date)
	if err != nil {
		writeError(w, r, err)
		return
	}
	items := make([]zengin.Transfer, 0, len(ids))
	for _, id := range ids {
		rf, err := ledger.GetRefund(ctx, s.readDB(ctx), c.Acting, id)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if !rf.Outstanding.IsPositive() || rf.Account == nil {
			writeError(w, r, errs.Conflict("refund_not_payable", "order "+id.String()+" has no refund outstanding or no refund account"))
			return
		}
		items = append(items, zenginTransfer(*rf.Account, rf.Outstanding))
	}
	writeTransferFile(w, r, h, items, "refunds-"+date.Format("20060102")+".txt")
}

// transferDate reads ?date=YYYY-MM-DD, the transfer date of a Zengin file
// (default: the next day, JST).
func transferDate(r *http.Request, now time.Time) (time.Time, error) {
	date := now.In(zengin.JST).AddDate(0, 0, 1)
	if v := r.URL.Query().Get("date"); v != "" {
		d, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return date, errs.Field("date", "must be a date (YYYY-MM-DD)")
		}
		date = d
	}
	return date, nil
}

// transferHeader is the header of the shop's transfer files: its account
// and the 委託者コード its bank assigned.
func (s *Server) transferHeader(ctx context.Context, c *caller, date time.Time) (zengin.TransferHeader, error) {
	tv, err := tenancy.GetTenant(ctx, s.readDB(ctx), c.Acting)
	if err != nil {
		return zengin.TransferHeader{}, err
	}
	src := tv.Settings.BankAccount
	if src == nil || tv.Settings.TransferClientCode == "" {
		return zengin.TransferHeader{}, errNoClientCode
	}
	return zengin.TransferHeader{ClientCode: tv.Settings.TransferClientCode, ClientName: zengin.Fold(src.AccountHolder),
		Date: zengin.MonthDay{Month: date.Month(), Day: date.Day()}, BankCode: src.BankCode, BankName: zenginName(src.BankName, 15),
		BranchCode: src.BranchCode, BranchName: zenginName(src.BranchName, 15), AccountType: zenginAccountType(src.AccountType),
		AccountNumber: src.AccountNumber}, nil
}

// zenginTransfer is a transfer of amount to account a.
func zenginTransfer(a tenant.BankAccount, amount money.Money) zengin.Transfer {
	return zengin.Transfer{BankCode: a.BankCode, BankName: zenginName(a.BankName, 15), BranchCode: a.BranchCode,
		BranchName: zenginName(a.BranchName, 15), AccountType: zenginAccountType(a.AccountType), AccountNumber: a.AccountNumber,
		Name: zengin.Fold(a.AccountHolder), Amount: amount.Amount()}
}

// writeTransferFile answers with a 総合振込 file (cp932, CRLF), or 409
// transfer_file_invalid naming what the format refuses.
func writeTransferFile(w http.ResponseWriter, r *http.Request, h zengin.TransferHeader, items []zengin.Transfer, name string) {
	var buf bytes.Buffer
	if err := zengin.WriteTransfer(&buf, h, items, zengin.TransferOptions{}); err != nil {
		writeError(w, r, errs.Conflict("transfer_file_invalid", "the transfer file cannot be written: "+err.Error()))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=Shift_JIS")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}
