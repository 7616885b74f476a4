package http

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/customer"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/projections/customerviews"
	"github.com/honten/honten/projections/orderviews"
)

// customerModels are the read models customer responses read.
var customerModels = []string{"customer_views"}

func (s *Server) storefrontCustomerRoutes() []storeRoute {
	return []storeRoute{
		{"POST", "/customers", s.registerCustomer, false},
		{"POST", "/customers/session", s.customerSignIn, false},
		{"DELETE", "/customers/session", s.customerSignOut, false},
		{"GET", "/customers/me", s.getCustomerMe, false},
		{"PATCH", "/customers/me", s.patchCustomerMe, false},
		{"GET", "/customers/me/addresses", s.listCustomerAddresses, false},
		{"POST", "/customers/me/addresses", s.addCustomerAddress, false},
		{"DELETE", "/customers/me/addresses/{id}", s.removeCustomerAddress, false},
		{"GET", "/customers/me/orders", s.listCustomerOrders, false},
		{"POST", "/customers/password-reset", s.requestPasswordReset, false},
		{"POST", "/customers/password-reset/confirm", s.confirmPasswordReset, false},
		{"POST", "/customers/email-verification/confirm", s.confirmCustomerEmail, false},
	}
}

func (s *Server) customerRoutes() []adminRoute {
	return []adminRoute{
		{"GET", "/customers", permCustomersRead, s.listCustomers},
		{"POST", "/customers/forget-guest", permCustomersWrite, s.forgetGuest},
		{"GET", "/customers/{id}", permCustomersRead, s.getCustomer},
		{"POST", "/customers/{id}/forget", permCustomersWrite, s.forgetCustomer},
	}
}

// bearer returns the request's bearer token, or "".
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") && len(h) <= 300 {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// customerOf authenticates the request's customer session; it writes the
// 401 and returns false when there is none.
func (s *Server) customerOf(w http.ResponseWriter, r *http.Request) (customer.ID, bool) {
	tok := bearer(r)
	if tok == "" {
		writeError(w, r, commands.ErrCustomerSession)
		return customer.ID{}, false
	}
	id, err := s.Commands.AuthenticateCustomer(r.Context(), tenantFrom(r.Context()), tok)
	if err != nil {
		writeError(w, r, err)
		return customer.ID{}, false
	}
	return id, true
}

func customerBy(r *http.Request, id customer.ID) commands.By {
	return commands.By{Actor: "customer:" + id.String(), Correlation: correlation(r), CommandID: commandID(r)}
}

type registerCustomerRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name"`
}

// registerCustomer is POST /store/customers: a new account (201 with the
// profile); a token verifying the e-mail is e-mailed through the outbox.
func (s *Server) registerCustomer(w http.ResponseWriter, r *http.Request) {
	var in registerCustomerRequest
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	t := tenantFrom(r.Context())
	var reg commands.CustomerRegistered
	s.executeReading(w, r, http.StatusCreated, customerModels, func(ctx context.Context) (commands.Result, error) {
		var res commands.Result
		var err error
		reg, res, err = s.Commands.RegisterCustomer(ctx, commands.RegisterCustomer{Tenant: t, By: shopBy(r, "anonymous"),
			Email: in.Email, Password: in.Password, Name: in.Name})
		return res, err
	}, func(ctx context.Context) (view, error) {
		c, err := customerviews.Get(ctx, s.Pool, t, reg.ID.UUID)
		return view{body: c}, err
	})
}

type customerSignInRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type customerSessionResponse struct {
	Token     string                 `json:"token"`
	ExpiresAt time.Time              `json:"expires_at"`
	Customer  customerviews.Customer `json:"customer"`
}

// customerSignIn is POST /store/customers/session.
func (s *Server) customerSignIn(w http.ResponseWriter, r *http.Request) {
	var in customerSignInRequest
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	var v errs.Collector
	v.Check(in.Email != "" && len(in.Email) <= 254, "email", "is required")
	v.Check(in.Password != "" && len(in.Password) <= 1024, "password", "is required")
	if err := v.Err(); err != nil {
		writeError(w, r, err)
		return
	}
	t := tenantFrom(r.Context())
	sess, err := s.Commands.SignInCustomer(r.Context(), commands.CustomerSignIn{Tenant: t, Email: in.Email, Password: in.Password, Client: s.clientIP(r)})
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.catchUp(r.Context(), customerModels...)
	c, err := customerviews.Get(r.Context(), s.Pool, t, sess.Customer.UUID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, customerSessionResponse{Token: sess.Token, ExpiresAt: sess.ExpiresAt, Customer: c})
}

// customerSignOut is DELETE /store/customers/session: 204, also for an
// unknown session.
func (s *Server) customerSignOut(w http.ResponseWriter, r *http.Request) {
	if tok := bearer(r); tok != "" {
		if err := s.Commands.SignOutCustomer(r.Context(), tenantFrom(r.Context()), tok); err != nil {
			writeError(w, r, err)
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// getCustomerMe is GET /store/customers/me.
func (s *Server) getCustomerMe(w http.ResponseWriter, r *http.Request) {
	id, ok := s.customerOf(w, r)
	if !ok {
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	c, err := customerviews.Get(r.Context(), s.Pool, tenantFrom(r.Context()), id.UUID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeView(w, c, c.Version)
}

type patchCustomerRequest struct {
	Name  *string `json:"name"`
	Phone *string `json:"phone"`
}

// patchCustomerMe is PATCH /store/customers/me {"name"?, "phone"?}.
func (s *Server) patchCustomerMe(w http.ResponseWriter, r *http.Request) {
	id, ok := s.customerOf(w, r)
	if !ok {
		return
	}
	var in patchCustomerRequest
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	t := tenantFrom(r.Context())
	s.executeReading(w, r, http.StatusOK, customerModels, func(ctx context.Context) (commands.Result, error) {
		return s.Commands.UpdateCustomerProfile(ctx, commands.UpdateCustomerProfile{Tenant: t, By: customerBy(r, id), Customer: id, Name: in.Name, Phone: in.Phone})
	}, func(ctx context.Context) (view, error) {
		c, err := customerviews.Get(ctx, s.Pool, t, id.UUID)
		return view{body: c, version: c.Version}, err
	})
}

type addressesResponse struct {
	Items []customer.Address `json:"items"`
}

// listCustomerAddresses is GET /store/customers/me/addresses.
func (s *Server) listCustomerAddresses(w http.ResponseWriter, r *http.Request) {
	id, ok := s.customerOf(w, r)
	if !ok {
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	items, err := customerviews.Addresses(r.Context(), s.Pool, tenantFrom(r.Context()), id.UUID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, addressesResponse{Items: items})
}

type addressRequest struct {
	Name       string `json:"name"`
	Phone      string `json:"phone"`
	PostalCode string `json:"postal_code"`
	Prefecture string `json:"prefecture"`
	City       string `json:"city"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2"`
}

// addCustomerAddress is POST /store/customers/me/addresses: 201 with the
// address, validated like checkout's shipping address.
func (s *Server) addCustomerAddress(w http.ResponseWriter, r *http.Request) {
	id, ok := s.customerOf(w, r)
	if !ok {
		return
	}
	var in addressRequest
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	t := tenantFrom(r.Context())
	var addr customer.Address
	s.executeReading(w, r, http.StatusCreated, noModels, func(ctx context.Context) (commands.Result, error) {
		a, res, err := s.Commands.AddCustomerAddress(ctx, commands.AddCustomerAddress{Tenant: t, By: customerBy(r, id), Customer: id,
			Name: in.Name, Phone: in.Phone, Address: struct{ PostalCode, Prefecture, City, Line1, Line2 string }{in.PostalCode, in.Prefecture, in.City, in.Line1, in.Line2}})
		addr = a
		return res, err
	}, func(ctx context.Context) (view, error) {
		if addr.ID == uuid.Nil {
			return view{}, errs.New(errs.KindConflict, "request_in_progress", "this address was added by an earlier request with the same Idempotency-Key")
		}
		return view{body: addr}, nil
	})
}

// removeCustomerAddress is DELETE /store/customers/me/addresses/{id}: 200
// with the addresses left.
func (s *Server) removeCustomerAddress(w http.ResponseWriter, r *http.Request) {
	id, ok := s.customerOf(w, r)
	if !ok {
		return
	}
	aid, err := uuid.Parse(chiParam(r, "id"))
	if err != nil {
		writeError(w, r, customer.ErrAddressNotFound)
		return
	}
	t := tenantFrom(r.Context())
	s.executeReading(w, r, http.StatusOK, customerModels, func(ctx context.Context) (commands.Result, error) {
		return s.Commands.RemoveCustomerAddress(ctx, t, customerBy(r, id), id, aid)
	}, func(ctx context.Context) (view, error) {
		items, err := customerviews.Addresses(ctx, s.Pool, t, id.UUID)
		return view{body: addressesResponse{Items: items}}, err
	})
}

// listCustomerOrders is GET /store/customers/me/orders: the customer's
// orders, newest first — placed signed in, or as a guest with the e-mail
// they verified.
func (s *Server) listCustomerOrders(w http.ResponseWriter, r *http.Request) {
	id, ok := s.customerOf(w, r)
	if !ok {
		return
	}
	p, err := page(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	l, err := orderviews.List(r.Context(), s.Pool, tenantFrom(r.Context()), orderviews.Filter{Customer: &id.UUID}, p)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, l)
}

type passwordResetRequest struct {
	Email string `json:"email"`
}

// requestPasswordReset is POST /store/customers/password-reset {"email"}:
// always 202 (the answer does not tell whether the e-mail has an account).
func (s *Server) requestPasswordReset(w http.ResponseWriter, r *http.Request) {
	var in passwordResetRequest
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	if in.Email == "" || len(in.Email) > 254 {
		writeError(w, r, errs.Field("email", "is required"))
		return
	}
	if err := s.Commands.RequestPasswordReset(r.Context(), tenantFrom(r.Context()), in.Email, s.clientIP(r)); err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, statusResponse{"accepted"})
}

type tokenPasswordRequest struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

// confirmPasswordReset is POST /store/customers/password-reset/confirm
// {"token","password"}: 200; every session of the account ends.
func (s *Server) confirmPasswordReset(w http.ResponseWriter, r *http.Request) {
	var in tokenPasswordRequest
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	t := tenantFrom(r.Context())
	s.executeReading(w, r, http.StatusOK, noModels, func(ctx context.Context) (commands.Result, error) {
		return s.Commands.ConfirmPasswordReset(ctx, t, shopBy(r, "anonymous"), in.Token, in.Password)
	}, func(ctx context.Context) (view, error) { return view{body: statusResponse{"password_changed"}}, nil })
}

type statusResponse struct {
	Status string `json:"status"`
}

type tokenRequest struct {
	Token string `json:"token"`
}

// confirmCustomerEmail is POST /store/customers/email-verification/confirm
// {"token"}: 200; the guest orders placed with the e-mail become the
// customer's.
func (s *Server) confirmCustomerEmail(w http.ResponseWriter, r *http.Request) {
	var in tokenRequest
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	t := tenantFrom(r.Context())
	s.executeReading(w, r, http.StatusOK, noModels, func(ctx context.Context) (commands.Result, error) {
		return s.Commands.VerifyCustomerEmail(ctx, t, shopBy(r, "anonymous"), in.Token)
	}, func(ctx context.Context) (view, error) { return view{body: statusResponse{"email_verified"}}, nil })
}

// listCustomers is GET /admin/customers?q=&limit=&cursor=.
func (s *Server) listCustomers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	if len(q) > 200 {
		writeError(w, r, errs.Field("q", "at most 200 characters"))
		return
	}
	serveList(w, r, func(ctx context.Context, c *caller, p projections.Page) (projections.List[customerviews.Customer], error) {
		return customerviews.List(ctx, s.Pool, c.Acting, q, p)
	})
}

// customerDetail is a customer with their address book and timeline.
type customerDetail struct {
	customerviews.Customer
	Addresses []customer.Address `json:"addresses"`
	Timeline  []historyEntry     `json:"timeline"`
}

// getCustomer is GET /admin/customers/{id}: the customer, their address
// book and their events (personal data unsealed, or the erasure marker).
func (s *Server) getCustomer(w http.ResponseWriter, r *http.Request) {
	serveOne(w, r, customer.ParseID, func(ctx context.Context, c *caller, id customer.ID) (customerDetail, int64, error) {
		cv, err := customerviews.Get(ctx, s.Pool, c.Acting, id.UUID)
		if err != nil {
			return customerDetail{}, 0, err
		}
		d := customerDetail{Customer: cv}
		if d.Addresses, err = customerviews.Addresses(ctx, s.Pool, c.Acting, id.UUID); err != nil {
			return customerDetail{}, 0, err
		}
		envs, err := s.Store.Load(ctx, s.Pool, c.Acting, id.UUID)
		if err != nil {
			return customerDetail{}, 0, err
		}
		d.Timeline = make([]historyEntry, 0, len(envs))
		for _, e := range envs {
			d.Timeline = append(d.Timeline, entry(e))
		}
		return d, cv.Version, nil
	})
}

type forgetResponse struct {
	Keys   int   `json:"keys_destroyed"`
	Emails int64 `json:"emails_erased"`
}

// forgetCustomer is POST /admin/customers/{id}/forget: the customer's
// personal data is erased (crypto-shredding); the history stays.
func (s *Server) forgetCustomer(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", customer.ParseID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	c := callerFrom(r.Context())
	var out commands.Forgotten
	s.executeReading(w, r, http.StatusOK, noModels, func(ctx context.Context) (commands.Result, error) {
		var res commands.Result
		var err error
		out, res, err = s.Commands.ForgetCustomer(ctx, c.Acting, c.by(r), id)
		return res, err
	}, func(ctx context.Context) (view, error) {
		return view{body: forgetResponse{Keys: out.Keys, Emails: out.Emails}}, nil
	})
}

type forgetGuestRequest struct {
	Email string `json:"email"`
}

// forgetGuest is POST /admin/customers/forget-guest {"email"}: the personal
// data of the guest orders placed with the e-mail is erased.
func (s *Server) forgetGuest(w http.ResponseWriter, r *http.Request) {
	var in forgetGuestRequest
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	c := callerFrom(r.Context())
	var out commands.Forgotten
	s.executeReading(w, r, http.StatusOK, noModels, func(ctx context.Context) (commands.Result, error) {
		var res commands.Result
		var err error
		out, res, err = s.Commands.ForgetGuest(ctx, c.Acting, c.by(r), in.Email)
		return res, err
	}, func(ctx context.Context) (view, error) {
		return view{body: forgetResponse{Keys: out.Keys, Emails: out.Emails}}, nil
	})
}
