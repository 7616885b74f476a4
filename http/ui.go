package http

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/eventstore"
)

// The browser UIs — the backoffice at /admin/ and the demo storefront at /
// — are server-rendered HTML from this package: templates and assets are
// embedded (no front-end build). The backoffice calls the same query
// functions, commands and permission table (rolePerms) as the JSON admin
// API; the storefront is a client of the storefront JSON API, called in
// process, exactly as a shop's own front end would call it over the network.
//
//go:embed ui/templates/*.html ui/static/*
var uiFiles embed.FS

// Cookie names of the browser UIs.
const (
	cookieSession = "honten_session" // the staff session token (the API's bearer token)
	cookieCSRF    = "honten_csrf"    // the double-submit CSRF secret
	cookieLang    = "honten_lang"    // "ja" or "en"
	cookieCart    = "honten_cart"    // "<cart id>.<cart token>"
	cookieOrder   = "honten_order"   // "<order id>.<access token>" of the last checkout
	cookieShop    = "honten_shop"    // the storefront's shop code
)

// uiCSP is the Content-Security-Policy of every UI page: no inline script
// or style, nothing from elsewhere.
const uiCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// isUIPath reports whether a path belongs to the browser UIs rather than
// the API and operations routes.
func isUIPath(p string) bool {
	if p == "/" || p == "/admin" || p == "/search" || p == "/cart" || p == "/checkout" || p == "/lang" {
		return true
	}
	for _, prefix := range []string{"/admin/", "/static/", "/p/", "/c/", "/cart/", "/order/"} {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

// ui is the browser UIs' handler state.
type ui struct {
	s      *Server
	pages  map[string]*template.Template
	router chi.Router
}

func newUI(s *Server) *ui {
	u := &ui{s: s, pages: map[string]*template.Template{}, router: chi.NewRouter()}
	funcs := template.FuncMap{
		"t":     func(l lang, key string) string { return l.T(key) },
		"money": formatMoney,
		"date": func(t any) string {
			switch v := t.(type) {
			case time.Time:
				return v.In(jst).Format("2006-01-02 15:04")
			case *time.Time:
				if v == nil {
					return ""
				}
				return v.In(jst).Format("2006-01-02 15:04")
			}
			return ""
		},
		"rfc3339": func(t *time.Time) string {
			if t == nil {
				return ""
			}
			return t.UTC().Format(time.RFC3339)
		},
		"deref": func(s *string) string {
			if s == nil {
				return ""
			}
			return *s
		},
		"list": func(xs ...string) []string { return xs },
		// can reports whether the staff member holds a permission (menus
		// and forms show only what the role may use).
		"can": func(c *caller, p string) bool { return c != nil && allowed(c, perm(p)) },
		// cmd is a fresh command id for one form (its Idempotency-Key).
		"cmd": newCmd,
		"day": func(t any) string {
			switch v := t.(type) {
			case time.Time:
				return v.In(jst).Format(time.DateOnly)
			case *time.Time:
				if v != nil {
					return v.In(jst).Format(time.DateOnly)
				}
			}
			return ""
		},
	}
	base := template.Must(template.New("base").Funcs(funcs).ParseFS(uiFiles, "ui/templates/layout.html"))
	names, err := fs.Glob(uiFiles, "ui/templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "ui/templates/"), ".html")
		if name == "layout" {
			continue
		}
		u.pages[name] = template.Must(template.Must(base.Clone()).ParseFS(uiFiles, n))
	}
	r := u.router
	r.Use(withRequestID, withReferrerPolicy, withLogging(s.Logger), withRecover, uiHeaders, withCSRF)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		u.fail(w, r, errs.NotFoundf("page"))
	})
	static, err := fs.Sub(uiFiles, "ui/static")
	if err != nil {
		panic(err)
	}
	r.Handle("/static/*", http.StripPrefix("/static/", cacheStatic(http.FileServerFS(static))))
	r.Get("/lang", u.setLang)
	u.adminRoutes(r)
	u.storeRoutes(r)
	return u
}

// jst is Japan Standard Time, the shops' display time zone.
var jst = time.FixedZone("JST", 9*60*60)

func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// uiHeaders sets the security headers of every UI response.
func uiHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", uiCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

// secure reports whether cookies get the Secure flag: the request came
// over TLS (directly, or through a proxy that says so).
func secure(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
}

func setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	c := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteLaxMode}
	if maxAge < 0 {
		c.MaxAge = -1
	} else if maxAge > 0 {
		c.MaxAge = int(maxAge / time.Second)
	}
	http.SetCookie(w, c)
}

func cookieValue(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}

// withCSRF gives every browser a random CSRF secret cookie and refuses any
// unsafe request whose form field "csrf" does not equal it (double submit;
// the cookie is SameSite=Lax and HttpOnly, the pages carry the value).
func withCSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret := cookieValue(r, cookieCSRF)
		if len(secret) != 43 {
			b := make([]byte, 32)
			_, _ = rand.Read(b)
			secret = base64.RawURLEncoding.EncodeToString(b)
			setCookie(w, r, cookieCSRF, secret, 0) // a form posted without the cookie fails below, as it must
		}
		ctx := context.WithValue(r.Context(), keyCSRF, secret)
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<20)
			sent := r.PostFormValue("csrf") // url-encoded or multipart
			if cookieValue(r, cookieCSRF) == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(cookieValue(r, cookieCSRF))) != 1 {
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				w.WriteHeader(http.StatusForbidden)
				_, _ = w.Write([]byte("403 forbidden: the form's CSRF token is missing or stale; reload the page and try again\n"))
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

type uiKey int

const keyCSRF uiKey = iota

// uiPage is what every template gets.
type uiPage struct {
	L     lang
	CSRF  string
	Title string
	// Path is the request's path with its query, for the language switch.
	Path string
	// Staff is the signed-in staff member (backoffice pages).
	Staff *caller
	// Shop is the storefront's shop name.
	Shop   string
	Flash  string
	Error  string
	Fields map[string]string
	Data   any
}

// render writes the named page with status.
func (u *ui) render(w http.ResponseWriter, r *http.Request, status int, name string, p uiPage) {
	t, ok := u.pages[name]
	if !ok {
		panic("ui: no template " + name)
	}
	p.L = langOf(r)
	p.CSRF, _ = r.Context().Value(keyCSRF).(string)
	p.Path = r.URL.RequestURI()
	if p.Staff == nil {
		p.Staff = callerFrom(r.Context())
	}
	if p.Flash == "" {
		p.Flash = p.L.T(r.URL.Query().Get("flash"))
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		logFrom(r.Context()).Error("render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// fail renders an error page for err with its HTTP status (a client
// mistake is a 4xx; anything else a logged 500).
func (u *ui) fail(w http.ResponseWriter, r *http.Request, err error) {
	kind := errs.KindOf(err)
	status, ok := statusOf[kind]
	if !ok {
		status = http.StatusInternalServerError
	}
	msg := http.StatusText(status)
	var fields map[string]string
	if e, ok := errs.As(err); ok && status < 500 {
		msg, fields = fieldErrors(e)
	}
	if status >= 500 {
		logFrom(r.Context()).Error("ui request failed", "err", err)
	}
	u.render(w, r, status, "error", uiPage{Title: http.StatusText(status), Error: msg, Fields: fields, Data: status})
}

// fieldErrors maps a validation error's fields to messages for a form.
func fieldErrors(err error) (string, map[string]string) {
	e, ok := errs.As(err)
	if !ok || errs.KindOf(err) == errs.KindInternal {
		return "internal error", nil
	}
	out := map[string]string{}
	for _, f := range e.Fields {
		out[f.Field] = f.Message
	}
	return e.Message, out
}

// redirect answers a form post with 303 See Other to a local path.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// localPath keeps a redirect target on this site: a path, never "//host".
func localPath(p, fallback string) string {
	u, err := url.Parse(p)
	if err != nil || u.IsAbs() || u.Host != "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.Contains(p, "\\") {
		return fallback
	}
	return p
}

// setLang is GET /lang?l=en|ja&back=/path: switch the UI language.
func (u *ui) setLang(w http.ResponseWriter, r *http.Request) {
	l := r.URL.Query().Get("l")
	if _, ok := catalogs[l]; ok {
		setCookie(w, r, cookieLang, l, 365*24*time.Hour)
	}
	redirect(w, r, localPath(r.URL.Query().Get("back"), "/"))
}

// formatMoney shows an amount as the shops do: ¥1,200 for yen.
func formatMoney(m any) string {
	var mm money.Money
	switch v := m.(type) {
	case money.Money:
		mm = v
	case *money.Money:
		if v == nil {
			return ""
		}
		mm = *v
	default:
		return fmt.Sprint(m)
	}
	amount := mm.Amount().StringFixed(mm.Currency().Decimals())
	neg := strings.HasPrefix(amount, "-")
	amount = strings.TrimPrefix(amount, "-")
	intPart, frac, _ := strings.Cut(amount, ".")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := b.String()
	if frac != "" {
		out += "." + frac
	}
	sign := ""
	if neg {
		sign = "-"
	}
	if mm.Currency() == "JPY" {
		return sign + "¥" + out
	}
	return sign + out + " " + string(mm.Currency())
}

// formCommandID reads the hidden "cmd" field every action form carries (a
// UUID made when the form was rendered): a resubmitted form is the same
// command, which the event store deduplicates.
func formCommandID(r *http.Request) (uuid.UUID, bool) {
	id, err := uuid.Parse(r.PostFormValue("cmd"))
	if err != nil || id.Version() != 7 {
		return uuid.Nil, false
	}
	return id, true
}

// isDuplicate reports a resubmitted form whose command the store had
// already applied: the first submission did the work.
func isDuplicate(err error) bool { return errors.Is(err, eventstore.ErrDuplicate) }
