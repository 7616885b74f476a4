package http

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/commands/reconcile"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/statement"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/internal/database"
	"github.com/honten/honten/internal/zengin"
	"github.com/honten/honten/projections"
)

func (s *Server) statementRoutes() []adminRoute {
	return []adminRoute{
		{"POST", "/bank-statements", permPaymentsWrite, s.importStatement},
		{"GET", "/bank-statements/{id}", permPaymentsWrite, s.getStatement},
		{"GET", "/bank-statements/{id}/lines", permPaymentsWrite, s.listStatementLines},
		{"POST", "/bank-statement-lines/{id}/match", permPaymentsWrite, s.matchStatementLine},
		{"POST", "/bank-statement-lines/{id}/ignore", permPaymentsWrite, s.ignoreStatementLine},
		{"POST", "/cod-remittances", permPaymentsWrite, s.importRemittance},
		{"GET", "/cod-remittances/{id}", permPaymentsWrite, s.getRemittance},
	}
}

// readUpload reads a file body; an empty one is a 422.
func readUpload(r *http.Request) ([]byte, error) {
	file, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, jsonError(err)
	}
	if len(file) == 0 {
		return nil, errs.Field("file", "is empty")
	}
	return file, nil
}

// column reads a column of a map from the query: a header name, or a
// 1-based position when it is a number.
func column(q url.Values, name string, v *errs.Collector) zengin.Column {
	s := strings.TrimSpace(q.Get(name))
	if s == "" {
		return zengin.Column{}
	}
	if n, err := strconv.Atoi(s); err == nil {
		v.Check(n >= 1, name, "must be a header name or a position from 1")
		return zengin.Column{Index: n}
	}
	return zengin.Column{Name: s}
}

// encodingParam reads ?encoding= (utf-8 or cp932, default def).
func encodingParam(q url.Values, def zengin.Encoding, v *errs.Collector) zengin.Encoding {
	switch strings.ToLower(q.Get("encoding")) {
	case "":
		return def
	case "utf-8", "utf8":
		return zengin.UTF8
	case "cp932", "shift_jis", "sjis":
		return zengin.CP932
	}
	v.Add("encoding", "must be utf-8 or cp932")
	return def
}

// statementOptions reads ?format=zengin|csv, ?preset=smbc|mufg, or a
// column map: date, amount or deposit and withdrawal, payer, reference,
// balance (header names or positions), date_layout, encoding, header,
// skip_rows.
func statementOptions(q url.Values) (reconcile.Options, error) {
	o := reconcile.Options{Format: q.Get("format"), Preset: q.Get("preset")}
	if o.Format == "" {
		o.Format = reconcile.FormatZengin
	}
	var v errs.Collector
	if o.Format == reconcile.FormatCSV && o.Preset == "" && q.Get("date") != "" {
		m := zengin.CSVMap{Encoding: encodingParam(q, zengin.UTF8, &v), Header: q.Get("header") != "false", DateLayout: q.Get("date_layout"),
			Date: column(q, "date", &v), Amount: column(q, "amount", &v), Deposit: column(q, "deposit", &v), Withdrawal: column(q, "withdrawal", &v),
			Payer: column(q, "payer", &v), Reference: column(q, "reference", &v), Balance: column(q, "balance", &v)}
		if m.DateLayout == "" {
			m.DateLayout = "2006/1/2"
		}
		if sr := q.Get("skip_rows"); sr != "" {
			n, err := strconv.Atoi(sr)
			v.Check(err == nil && n >= 0 && n <= 100, "skip_rows", "must be from 0 to 100")
			m.SkipRows = n
		}
		v.Check(m.Amount.Name != "" || m.Amount.Index > 0 || m.Deposit.Name != "" || m.Deposit.Index > 0, "amount", "name an amount column, or deposit and withdrawal columns")
		o.CSV = &m
	}
	if err := v.Err(); err != nil {
		return o, err
	}
	return o, o.Check()
}

// importStatement is POST /bank-statements with the file as the body: 202
// with the import; its progress, counts and errors (with line numbers) are
// at GET /bank-statements/{id}.
func (s *Server) importStatement(w http.ResponseWriter, r *http.Request) {
	opts, err := statementOptions(r.URL.Query())
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.submitJob(w, r, reconcile.KindStatement, opts, "/api/v1/admin/bank-statements/", func(ctx context.Context, c *caller, id uuid.UUID) (any, error) {
		return s.Reconcile.Statement(ctx, s.Pool, c.Acting, id)
	})
}

// importRemittance is POST /cod-remittances with the carrier's CSV: 202
// with the import; GET /cod-remittances/{id} lists its lines and statuses.
// The column map defaults to a UTF-8 header tracking_no,amount,fee,remitted_on;
// ?tracking_no=&amount=&fee=&remitted_on= (names or positions),
// ?encoding=, ?header=false and ?date_layout= change it.
func (s *Server) importRemittance(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	m := reconcile.DefaultRemittanceMap
	var v errs.Collector
	m.Encoding = encodingParam(q, zengin.UTF8, &v)
	if q.Get("header") == "false" {
		m.Header = false
	}
	for name, col := range map[string]*zengin.Column{"tracking_no": &m.TrackingNo, "amount": &m.Amount, "fee": &m.Fee, "remitted_on": &m.RemittedOn} {
		if c := column(q, name, &v); c.Name != "" || c.Index > 0 {
			*col = c
		}
	}
	if !m.Header {
		for name, col := range map[string]zengin.Column{"tracking_no": m.TrackingNo, "amount": m.Amount, "fee": m.Fee, "remitted_on": m.RemittedOn} {
			v.Check(col.Index > 0, name, "needs a position when the file has no header")
		}
	}
	m.DateLayout = q.Get("date_layout")
	if err := v.Err(); err != nil {
		writeError(w, r, err)
		return
	}
	s.submitJob(w, r, reconcile.KindRemittance, m, "/api/v1/admin/cod-remittances/", func(ctx context.Context, c *caller, id uuid.UUID) (any, error) {
		return s.Reconcile.Remittance(ctx, s.Pool, c.Acting, id)
	})
}

// submitJob queues an import of the body and starts it in the background.
func (s *Server) submitJob(w http.ResponseWriter, r *http.Request, kind string, options any, location string, get func(ctx context.Context, c *caller, id uuid.UUID) (any, error)) {
	file, err := readUpload(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	c := callerFrom(r.Context())
	id := c.by(r).DerivedID(0)
	if err := s.Reconcile.Submit(r.Context(), c.Acting, id, kind, "staff:"+c.Staff.String(), file, options); err != nil {
		writeError(w, r, err)
		return
	}
	v, err := get(r.Context(), c, id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.startReconcileJob(c.Acting, id, kind)
	w.Header().Set("Location", location+id.String())
	writeJSON(w, http.StatusAccepted, v)
}

// startReconcileJob runs an import in the background, bound to the
// server's life, confined to its tenant (row-level security).
func (s *Server) startReconcileJob(t tenant.ID, id uuid.UUID, kind string) {
	ctx := s.BaseContext
	if ctx == nil {
		ctx = context.Background()
	}
	ctx = database.WithTenant(ctx, t.UUID)
	go func() {
		var err error
		if kind == reconcile.KindStatement {
			_, _, err = s.Reconcile.RunStatement(ctx, id)
		} else {
			_, err = s.Reconcile.RunRemittance(ctx, id)
		}
		if err != nil && ctx.Err() == nil {
			s.Logger.Error("import failed", "job", id, "kind", kind, "err", err)
		}
	}()
}

func (s *Server) getStatement(w http.ResponseWriter, r *http.Request) {
	serveOne(w, r, uuid.Parse, func(ctx context.Context, c *caller, id uuid.UUID) (reconcile.StatementView, int64, error) {
		v, err := s.Reconcile.Statement(ctx, s.Pool, c.Acting, id)
		return v, 0, err
	})
}

func (s *Server) getRemittance(w http.ResponseWriter, r *http.Request) {
	serveOne(w, r, uuid.Parse, func(ctx context.Context, c *caller, id uuid.UUID) (reconcile.RemittanceView, int64, error) {
		v, err := s.Reconcile.Remittance(ctx, s.Pool, c.Acting, id)
		return v, 0, err
	})
}

// listStatementLines is GET /bank-statements/{id}/lines?status=: the lines
// in file order; unmatched deposits carry ranked suggestions.
func (s *Server) listStatementLines(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", uuid.Parse)
	if err != nil {
		writeError(w, r, err)
		return
	}
	status := r.URL.Query().Get("status")
	switch status {
	case "", statement.StatusMatched, statement.StatusUnmatched, statement.StatusIgnored:
	default:
		writeError(w, r, errs.Field("status", "must be matched, unmatched or ignored"))
		return
	}
	serveList(w, r, func(ctx context.Context, c *caller, p projections.Page) (projections.List[reconcile.LineView], error) {
		tn, err := s.Commands.LoadTenant(ctx, c.Acting)
		if err != nil {
			return projections.List[reconcile.LineView]{}, err
		}
		return s.Reconcile.Lines(ctx, s.readDB(ctx), c.Acting, id, status, tn.Settings().PaymentGrace(), p)
	})
}

// lineFor finds a line and refuses staff decisions while its statement's
// import is running.
func (s *Server) lineFor(ctx context.Context, c *caller, id statement.LineID) (reconcile.LineView, error) {
	l, err := reconcile.Line(ctx, s.Pool, c.Acting, id.UUID)
	if err != nil {
		return l, err
	}
	done, err := s.Reconcile.ImportFinished(ctx, s.Pool, c.Acting, l.StatementID)
	if err != nil {
		return l, err
	}
	if !done {
		return l, commands.ErrStatementImporting
	}
	return l, nil
}

func (s *Server) statementLineView(ctx context.Context, id statement.LineID) (view, error) {
	l, err := reconcile.Line(ctx, s.Pool, callerFrom(ctx).Acting, id.UUID)
	if err != nil {
		return view{}, err
	}
	return view{body: l}, nil
}

type matchLineRequest struct {
	OrderID string `json:"order_id"`
}

// matchStatementLine is POST /bank-statement-lines/{id}/match {"order_id"}:
// staff confirm the order's payment with the line; 200 with the line.
func (s *Server) matchStatementLine(w http.ResponseWriter, r *http.Request) {
	var in matchLineRequest
	id, ok := decodeAt(w, r, statement.ParseLineID, &in)
	if !ok {
		return
	}
	oid, err := order.ParseID(in.OrderID)
	if err != nil {
		writeError(w, r, errs.Field("order_id", "must be an order id"))
		return
	}
	c := callerFrom(r.Context())
	l, err := s.lineFor(r.Context(), c, id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	cmd := commands.MatchStatementLine{Tenant: c.Acting, By: c.by(r), Statement: statement.ID{UUID: l.StatementID}, Line: id, Order: oid}
	s.execute(w, r, http.StatusOK, func(ctx context.Context) (commands.Result, error) {
		return s.Commands.MatchStatementLine(ctx, cmd)
	}, func(ctx context.Context) (view, error) { return s.statementLineView(ctx, id) })
}

type ignoreLineRequest struct {
	Reason string `json:"reason"`
}

// ignoreStatementLine is POST /bank-statement-lines/{id}/ignore {"reason"}:
// 200 with the line.
func (s *Server) ignoreStatementLine(w http.ResponseWriter, r *http.Request) {
	var in ignoreLineRequest
	id, ok := decodeAt(w, r, statement.ParseLineID, &in)
	if !ok {
		return
	}
	c := callerFrom(r.Context())
	l, err := s.lineFor(r.Context(), c, id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	cmd := commands.IgnoreStatementLine{Tenant: c.Acting, By: c.by(r), Statement: statement.ID{UUID: l.StatementID}, Line: id, Reason: in.Reason}
	s.execute(w, r, http.StatusOK, func(ctx context.Context) (commands.Result, error) {
		return s.Commands.IgnoreStatementLine(ctx, cmd)
	}, func(ctx context.Context) (view, error) { return s.statementLineView(ctx, id) })
}
