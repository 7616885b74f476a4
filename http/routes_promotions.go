package http

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"net/http"
	"path"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/cart"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/promotion"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/integrations/files"
	"github.com/honten/honten/internal/database"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/projections/orderviews"
)

func (s *Server) promotionRoutes() []adminRoute {
	return []adminRoute{
		{"GET", "/promotions", permPromotionsRead, s.listPromotions},
		{"POST", "/promotions", permPromotionsWrite, s.createPromotion},
		{"GET", "/promotions/{id}", permPromotionsRead, s.getPromotion},
		{"PATCH", "/promotions/{id}", permPromotionsWrite, s.patchPromotion},
		{"DELETE", "/promotions/{id}", permPromotionsWrite, s.deletePromotion},
		{"POST", "/promotions/{id}/codes", permPromotionsWrite, s.generateCodes},
		{"GET", "/promotions/{id}/code-jobs/{job_id}", permPromotionsRead, s.getCodeJob},
		{"GET", "/promotions/{id}/codes.csv", permPromotionsRead, s.exportCodes},
		{"GET", "/orders/{id}/deliveries", permOrdersRead, s.listDeliveries},
		{"POST", "/deliveries/{id}/reissue", permOrdersWrite, s.reissueDelivery},
	}
}

func (s *Server) promotionStoreRoutes() []storeRoute {
	return []storeRoute{
		{"POST", "/carts/{id}/coupons", s.applyCoupon, false},
		{"DELETE", "/carts/{id}/coupons/{code}", s.removeCoupon, false},
		{"GET", "/downloads/{token}", s.download, false},
	}
}

type appliesToView struct {
	SKUs       []string    `json:"skus"`
	Categories []uuid.UUID `json:"categories"`
	Vendors    []uuid.UUID `json:"vendors"`
}

type promotionView struct {
	ID               uuid.UUID       `json:"id"`
	Title            string          `json:"title"`
	Kind             string          `json:"kind"`
	Value            decimal.Decimal `json:"value"`
	AppliesTo        appliesToView   `json:"applies_to"`
	MinSubtotal      *money.Money    `json:"min_subtotal"`
	StartsAt         *time.Time      `json:"starts_at"`
	EndsAt           *time.Time      `json:"ends_at"`
	Combinable       bool            `json:"combinable"`
	Priority         int             `json:"priority"`
	UsageLimit       *int64          `json:"usage_limit"`
	PerCustomerLimit *int64          `json:"per_customer_limit"`
	Codes            []string        `json:"codes"`
	Automatic        bool            `json:"automatic"`
	Used             int64           `json:"used"`
	GeneratedCodes   int64           `json:"generated_codes"`
	Deleted          bool            `json:"deleted"`
	Version          int64           `json:"version"`
	CreatedAt        time.Time       `json:"created_at"`
	UpdatedAt        time.Time       `json:"updated_at"`
}

func toPromotionView(p commands.PromotionRow) promotionView {
	sp := p.Spec
	codes := sp.Codes
	if codes == nil {
		codes = []string{}
	}
	skus := sp.AppliesTo.SKUs
	if skus == nil {
		skus = []string{}
	}
	cats, vends := sp.AppliesTo.Categories, sp.AppliesTo.Vendors
	if cats == nil {
		cats = []uuid.UUID{}
	}
	if vends == nil {
		vends = []uuid.UUID{}
	}
	return promotionView{ID: p.ID, Title: sp.Title, Kind: string(sp.Kind), Value: sp.Value, AppliesTo: appliesToView{skus, cats, vends},
		MinSubtotal: sp.MinSubtotal, StartsAt: sp.StartsAt, EndsAt: sp.EndsAt, Combinable: sp.Combinable, Priority: sp.Priority,
		UsageLimit: sp.UsageLimit, PerCustomerLimit: sp.PerCustomerLimit, Codes: codes, Automatic: p.Automatic, Used: p.Used,
		GeneratedCodes: p.Codes, Deleted: p.Deleted, Version: p.Version, CreatedAt: p.CreatedAt.UTC(), UpdatedAt: p.UpdatedAt.UTC()}
}

// promotionRequest is the body of POST and PATCH /promotions: absent
// fields are left as they are (PATCH) or at their zero (POST). codes
// present (even []) makes a coupon promotion; absent, an automatic one.
type promotionRequest struct {
	Title            *string          `json:"title"`
	Kind             *string          `json:"kind"`
	Value            *decimal.Decimal `json:"value"`
	AppliesTo        *appliesToView   `json:"applies_to"`
	MinSubtotal      *money.Money     `json:"min_subtotal"`
	StartsAt         *time.Time       `json:"starts_at"`
	EndsAt           *time.Time       `json:"ends_at"`
	Combinable       *bool            `json:"combinable"`
	Priority         *int             `json:"priority"`
	UsageLimit       *int64           `json:"usage_limit"`
	PerCustomerLimit *int64           `json:"per_customer_limit"`
	Codes            *[]string        `json:"codes"`
}

func (in promotionRequest) apply(sp *promotion.Spec) {
	if in.Title != nil {
		sp.Title = *in.Title
	}
	if in.Kind != nil {
		sp.Kind = promotion.Kind(*in.Kind)
	}
	if in.Value != nil {
		sp.Value = *in.Value
	}
	if in.AppliesTo != nil {
		sp.AppliesTo = promotion.AppliesTo{SKUs: in.AppliesTo.SKUs, Categories: in.AppliesTo.Categories, Vendors: in.AppliesTo.Vendors}
	}
	if in.MinSubtotal != nil {
		sp.MinSubtotal = in.MinSubtotal
	}
	if in.StartsAt != nil {
		sp.StartsAt = in.StartsAt
	}
	if in.EndsAt != nil {
		sp.EndsAt = in.EndsAt
	}
	if in.Combinable != nil {
		sp.Combinable = *in.Combinable
	}
	if in.Priority != nil {
		sp.Priority = *in.Priority
	}
	if in.UsageLimit != nil {
		sp.UsageLimit = in.UsageLimit
	}
	if in.PerCustomerLimit != nil {
		sp.PerCustomerLimit = in.PerCustomerLimit
	}
	if in.Codes != nil {
		sp.Codes, sp.Coupon = *in.Codes, true
	}
}

func (s *Server) readPromotion(ctx context.Context, t uuid.UUID, id uuid.UUID) (promotionView, error) {
	rows, err := commands.Promotions(ctx, s.Pool, tenant.ID{UUID: t}, &id, nil, 1)
	if err != nil {
		return promotionView{}, err
	}
	if len(rows) == 0 {
		return promotionView{}, commands.ErrPromotionNotFound
	}
	return toPromotionView(rows[0]), nil
}

func (s *Server) listPromotions(w http.ResponseWriter, r *http.Request) {
	serveList(w, r, func(ctx context.Context, c *caller, p projections.Page) (projections.List[promotionView], error) {
		var after *uuid.UUID
		if p.Cursor != "" {
			u, err := uuid.Parse(p.Cursor)
			if err != nil {
				return projections.List[promotionView]{}, errs.Field("cursor", "is not a cursor of this list")
			}
			after = &u
		}
		rows, err := commands.Promotions(ctx, s.Pool, c.Acting, nil, after, p.Limit+1)
		if err != nil {
			return projections.List[promotionView]{}, err
		}
		out := projections.List[promotionView]{Items: []promotionView{}}
		for i, row := range rows {
			if i == p.Limit {
				next := rows[i-1].ID.String()
				out.NextCursor = &next
				break
			}
			out.Items = append(out.Items, toPromotionView(row))
		}
		return out, nil
	})
}

func (s *Server) getPromotion(w http.ResponseWriter, r *http.Request) {
	serveOne(w, r, promotion.ParseID, func(ctx context.Context, c *caller, id promotion.ID) (promotionView, int64, error) {
		v, err := s.readPromotion(ctx, c.Acting.UUID, id.UUID)
		return v, v.Version, err
	})
}

func (s *Server) createPromotion(w http.ResponseWriter, r *http.Request) {
	var in promotionRequest
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	c := callerFrom(r.Context())
	by := c.by(r)
	var spec promotion.Spec
	in.apply(&spec)
	id := by.DerivedID(0)
	s.executeReading(w, r, http.StatusCreated, noModels, func(ctx context.Context) (commands.Result, error) {
		_, res, err := s.Commands.CreatePromotion(ctx, commands.CreatePromotion{Tenant: c.Acting, By: by, Spec: spec})
		return res, err
	}, func(ctx context.Context) (view, error) {
		v, err := s.readPromotion(ctx, c.Acting.UUID, id)
		return view{body: v, version: v.Version}, err
	})
}

func (s *Server) patchPromotion(w http.ResponseWriter, r *http.Request) {
	var in promotionRequest
	id, ifv, ok := decodeChange(w, r, promotion.ParseID, &in)
	if !ok {
		return
	}
	c := callerFrom(r.Context())
	s.executeReading(w, r, http.StatusOK, noModels, func(ctx context.Context) (commands.Result, error) {
		return s.Commands.UpdatePromotion(ctx, commands.UpdatePromotion{Tenant: c.Acting, By: c.by(r), Promotion: id, IfVersion: ifv, Change: in.apply})
	}, func(ctx context.Context) (view, error) {
		v, err := s.readPromotion(ctx, c.Acting.UUID, id.UUID)
		return view{body: v, version: v.Version}, err
	})
}

func (s *Server) deletePromotion(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", promotion.ParseID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	ifv, err := ifMatch(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	c := callerFrom(r.Context())
	s.executeReading(w, r, http.StatusOK, noModels, func(ctx context.Context) (commands.Result, error) {
		return s.Commands.DeletePromotion(ctx, commands.DeletePromotion{Tenant: c.Acting, By: c.by(r), Promotion: id, IfVersion: ifv})
	}, func(ctx context.Context) (view, error) {
		v, err := s.readPromotion(ctx, c.Acting.UUID, id.UUID)
		return view{body: v, version: v.Version}, err
	})
}

type generateCodesRequest struct {
	Count  *int   `json:"count"`
	Prefix string `json:"prefix"`
}

// generateCodes is POST /promotions/{id}/codes: 202 with the job, whose
// progress GET /promotions/{id}/code-jobs/{job_id} reports.
func (s *Server) generateCodes(w http.ResponseWriter, r *http.Request) {
	var in generateCodesRequest
	id, ok := decodeAt(w, r, promotion.ParseID, &in)
	if !ok {
		return
	}
	if in.Count == nil {
		writeError(w, r, errs.Field("count", "is required"))
		return
	}
	c := callerFrom(r.Context())
	by := c.by(r)
	var job uuid.UUID
	s.executeReading(w, r, http.StatusAccepted, noModels, func(ctx context.Context) (commands.Result, error) {
		var res commands.Result
		var err error
		job, res, err = s.Commands.GenerateCodes(ctx, commands.GenerateCodes{Tenant: c.Acting, By: by, Promotion: id, Count: *in.Count, Prefix: in.Prefix})
		if err == nil {
			s.startCodeJob(c.Acting.UUID, id, job)
		}
		return res, err
	}, func(ctx context.Context) (view, error) {
		if job == uuid.Nil {
			job = by.DerivedID(0)
		}
		j, err := commands.CodeJobOf(ctx, s.Pool, c.Acting, id.UUID, job)
		return view{body: j}, err
	})
}

// startCodeJob writes a code batch in the background, bound to the
// server's life, confined to its tenant (row-level security).
func (s *Server) startCodeJob(t uuid.UUID, p promotion.ID, job uuid.UUID) {
	ctx := s.BaseContext
	if ctx == nil {
		ctx = context.Background()
	}
	ctx = database.WithTenant(ctx, t)
	go func() {
		if err := s.Commands.RunCodeJob(ctx, tenant.ID{UUID: t}, p, job); err != nil && ctx.Err() == nil {
			s.Logger.Error("code generation failed", "job", job, "err", err)
		}
	}()
}

func (s *Server) getCodeJob(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", promotion.ParseID)
	var job uuid.UUID
	if err == nil {
		job, err = pathID(r, "job_id", uuid.Parse)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	j, err := commands.CodeJobOf(r.Context(), s.Pool, callerFrom(r.Context()).Acting, id.UUID, job)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, j)
}

// exportCodes streams a promotion's generated codes as CSV.
func (s *Server) exportCodes(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", promotion.ParseID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	c := callerFrom(r.Context())
	if _, err := s.readPromotion(r.Context(), c.Acting.UUID, id.UUID); err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="codes-`+id.String()+`.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"code", "job_id", "redeemed_order_id"})
	n := 0
	rc := http.NewResponseController(w)
	err = commands.ExportCodes(r.Context(), s.Pool, c.Acting, id.UUID, func(code string, job uuid.UUID, o *uuid.UUID) error {
		redeemed := ""
		if o != nil {
			redeemed = o.String()
		}
		if err := cw.Write([]string{code, job.String(), redeemed}); err != nil {
			return err
		}
		if n++; n%5000 == 0 {
			cw.Flush()
			if s.Config.WriteTimeout > 0 {
				_ = rc.SetWriteDeadline(time.Now().Add(s.Config.WriteTimeout))
			}
		}
		return cw.Error()
	})
	cw.Flush()
	if err != nil {
		logFrom(r.Context()).Error("export codes", "err", err)
	}
}

// --- storefront coupons

type couponRequest struct {
	Code string `json:"code"`
}

// cartPromotion is one promotion the cart gets, with its discount.
type cartPromotion struct {
	ID       uuid.UUID   `json:"id"`
	Title    string      `json:"title"`
	Code     string      `json:"code,omitempty"`
	Discount money.Money `json:"discount"`
}

// refusedCoupon is a code on the cart that does not apply now.
type refusedCoupon struct {
	Code   string `json:"code"`
	Reason string `json:"reason"`
}

func (s *Server) applyCoupon(w http.ResponseWriter, r *http.Request) {
	var in couponRequest
	id, token, ok := cartRequest(w, r, &in)
	if !ok {
		return
	}
	if in.Code == "" || len(in.Code) > 100 {
		writeError(w, r, errs.Field("code", "is required"))
		return
	}
	t := tenantFrom(r.Context())
	s.executeReading(w, r, http.StatusOK, []string{"cart_views"}, func(ctx context.Context) (commands.Result, error) {
		return s.Commands.ApplyCoupon(ctx, commands.ApplyCoupon{Tenant: t, By: shopBy(r, "cart:"+id.String()), Cart: id, Token: token, Code: in.Code})
	}, func(ctx context.Context) (view, error) {
		c, err := s.readCart(ctx, t, id, token)
		return view{body: c}, err
	})
}

func (s *Server) removeCoupon(w http.ResponseWriter, r *http.Request) {
	id, token, ok := cartRequest(w, r, nil)
	if !ok {
		return
	}
	code := chiParam(r, "code")
	t := tenantFrom(r.Context())
	s.executeReading(w, r, http.StatusOK, []string{"cart_views"}, func(ctx context.Context) (commands.Result, error) {
		return s.Commands.RemoveCoupon(ctx, commands.RemoveCoupon{Tenant: t, By: shopBy(r, "cart:"+id.String()), Cart: id, Token: token, Code: code})
	}, func(ctx context.Context) (view, error) {
		c, err := s.readCart(ctx, t, id, token)
		return view{body: c}, err
	})
}

// cartPromotions prices the cart's promotions and returns them, the codes
// refused, and each line's discount.
func (s *Server) cartPromotions(ctx context.Context, t tenant.ID, id cart.ID, token string) ([]cartPromotion, []refusedCoupon, map[uuid.UUID]money.Money, error) {
	p, err := s.Commands.PriceCart(ctx, t, id, token)
	if err != nil {
		return nil, nil, nil, err
	}
	promos := []cartPromotion{}
	for _, a := range p.Outcome.Applied {
		promos = append(promos, cartPromotion{ID: a.Promotion, Title: a.Title, Code: a.Code, Discount: a.Discount})
	}
	refused := []refusedCoupon{}
	for _, r := range p.Refused {
		refused = append(refused, refusedCoupon{Code: r.Code, Reason: r.Reason})
	}
	return promos, refused, p.Outcome.LineDiscounts, nil
}

// --- deliveries

type deliveryView struct {
	commands.DownloadLink
	URL string `json:"url"`
}

func downloadURL(token string) string { return "/api/v1/store/downloads/" + token }

func toDeliveryViews(ls []commands.DownloadLink) []deliveryView {
	out := make([]deliveryView, 0, len(ls))
	for _, l := range ls {
		out = append(out, deliveryView{DownloadLink: l, URL: downloadURL(l.Token)})
	}
	return out
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", order.ParseID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	c := callerFrom(r.Context())
	// The order's lines and their vendors, from its placed event: vendor
	// staff see an order with a line of theirs, and only their lines' links.
	const q = `SELECT l->>'id', l->>'vendor_id' FROM events e, jsonb_array_elements(e.payload->'lines') l
WHERE e.tenant_id = $1 AND e.stream_id = $2 AND e.event_type = 'order.placed.v1'`
	rows, err := s.Pool.Query(r.Context(), q, c.Acting, id.UUID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	mine := map[string]bool{}
	n := 0
	for rows.Next() {
		var line, vendor string
		if err := rows.Scan(&line, &vendor); err != nil {
			rows.Close()
			writeError(w, r, err)
			return
		}
		n++
		if vs := c.vendorScope(); vs == nil || vs.String() == vendor {
			mine[line] = true
		}
	}
	rows.Close()
	if n == 0 || len(mine) == 0 {
		writeError(w, r, errs.NotFoundf("order"))
		return
	}
	all, err := s.Commands.DownloadLinks(r.Context(), s.Pool, c.Acting, id.UUID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	ls := all[:0]
	for _, l := range all {
		if mine[l.Line.String()] {
			ls = append(ls, l)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": toDeliveryViews(ls), "next_cursor": nil})
}

type reissueRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) reissueDelivery(w http.ResponseWriter, r *http.Request) {
	var in reissueRequest
	id, err := pathID(r, "id", uuid.Parse)
	if err == nil {
		err = decodeOptionalJSON(r, &in)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	if len(in.Reason) > 500 {
		writeError(w, r, errs.Field("reason", "at most 500 characters"))
		return
	}
	c := callerFrom(r.Context())
	if c.vendorScope() != nil {
		writeError(w, r, commands.ErrDeliveryNotFound)
		return
	}
	var link commands.DownloadLink
	s.executeReading(w, r, http.StatusOK, noModels, func(ctx context.Context) (commands.Result, error) {
		var res commands.Result
		var err error
		link, res, err = s.Commands.ReissueDelivery(ctx, commands.ReissueDelivery{Tenant: c.Acting, By: c.by(r), Delivery: id, Reason: in.Reason})
		return res, err
	}, func(ctx context.Context) (view, error) {
		if link.Token == "" {
			return view{}, errs.New(errs.KindConflict, "link_shown_once", "this link was made by an earlier request with the same Idempotency-Key")
		}
		return view{body: deliveryView{DownloadLink: link, URL: downloadURL(link.Token)}}, nil
	})
}

// download is GET /downloads/{token}: the file of a digital line. Each
// download is an event; an expired, used-up or replaced link is a 410.
func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	t := tenantFrom(r.Context())
	token := chiParam(r, "token")
	var obj *files.Object
	var openErr error
	defer func() {
		if obj != nil {
			_ = obj.Body.Close()
		}
	}()
	got, _, err := s.Commands.Download(r.Context(), commands.Download{Tenant: t, By: shopBy(r, "download"), Token: token},
		func(d commands.DownloadFile) error {
			if d.File == "" || s.Config.Files == nil {
				return errFileMissing
			}
			if obj, openErr = s.Config.Files.Open(r.Context(), d.File); openErr != nil {
				return errFileMissing
			}
			return nil
		})
	if err != nil {
		if errors.Is(err, errFileMissing) {
			logFrom(r.Context()).Error("download file missing", "err", openErr)
		}
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", contentDisposition(path.Base(got.File)))
	if rs, ok := obj.Body.(io.ReadSeeker); ok {
		http.ServeContent(w, r, "", obj.ModTime, rs)
		return
	}
	if obj.Size >= 0 {
		w.Header().Set("Content-Length", strconv.FormatInt(obj.Size, 10))
	}
	if !obj.ModTime.IsZero() {
		w.Header().Set("Last-Modified", obj.ModTime.UTC().Format(http.TimeFormat))
	}
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, obj.Body); err != nil {
		logFrom(r.Context()).Warn("download interrupted", "err", err)
	}
}

// errFileMissing is a delivery whose file is not in the downloads
// directory: nothing is counted, and the buyer may try again later.
var errFileMissing = errs.New(errs.KindUnavailable, "download_unavailable", "the file is not available right now: try again later or contact the shop")

// contentDisposition names a download's file: as an ASCII fallback, and
// in full as RFC 6266's filename* (UTF-8, percent-encoded) when it has
// other characters (抹茶の淹れ方.pdf).
func contentDisposition(name string) string {
	ascii := safeName(name)
	out := `attachment; filename="` + ascii + `"`
	if ascii != name {
		out += "; filename*=UTF-8''" + files.PercentEncode(name)
	}
	return out
}

// safeName keeps a file name to characters safe in a header.
func safeName(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r < 0x20 || r == '"' || r == '\\' || r > 0x7e {
			r = '_'
		}
		out = append(out, r)
	}
	return string(out)
}

// buyerOrder is the buyer's order with the links of its digital lines.
type buyerOrder struct {
	orderviews.BuyerOrder
	Downloads []deliveryView `json:"downloads"`
}

// withDownloads adds the order's download links (none before payment).
func (s *Server) withDownloads(ctx context.Context, o orderviews.BuyerOrder) (any, int64, error) {
	ls, err := s.Commands.DownloadLinks(ctx, s.Pool, tenantFrom(ctx), o.ID)
	if err != nil {
		return nil, 0, err
	}
	return buyerOrder{BuyerOrder: o, Downloads: toDeliveryViews(ls)}, 0, nil
}
