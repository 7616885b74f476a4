// Package apitest runs a whole Honten process on a fresh database and a free
// port, with the same wiring as cmd/honten, and gives tests a small HTTP
// client for it.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/pgtest"
)

// Env is a running Honten.
type Env struct {
	t    testing.TB
	Base string
	Main *app.Main
	HTTP *http.Client
}

// Options tune an Env.
type Options struct {
	// Now is the process clock (Main.Now); nil means time.Now.
	Now func() time.Time
	// DatabaseURL is the database to run on; empty means a fresh one.
	DatabaseURL string
	// ConsistencyWait overrides the tests' long read-your-writes wait.
	ConsistencyWait time.Duration
	// Configure, when set, adjusts the configuration before the start.
	Configure func(*app.Config)
	// Log, when set, is the process logger (tests that read the logs).
	Log *slog.Logger
}

// New starts Honten for the test and stops it when the test ends.
func New(t testing.TB) *Env { return NewWith(t, Options{}) }

// NewWith is New with options.
func NewWith(t testing.TB, o Options) *Env {
	t.Helper()
	cfg, err := app.ConfigFromEnv()
	require.NoError(t, err)
	cfg.DatabaseURL = o.DatabaseURL
	if cfg.DatabaseURL == "" {
		cfg.DatabaseURL = pgtest.NewURL(t)
	}
	cfg.HTTPAddr = "127.0.0.1:0"
	// Projectors, the reservation lanes and the bus subscribers each hold a
	// connection while a policy takes another: 12 could starve the policies.
	cfg.DBMaxConns = 30
	// Reads that wait for the read models (X-Min-Position, sign-in) wait
	// only while behind; on a loaded CI machine under the race detector a
	// projector can be many seconds behind (a write answers after every read
	// model has applied it, so the slowest projector sets the pace).
	cfg.ConsistencyWait = 60 * time.Second
	if o.ConsistencyWait > 0 {
		cfg.ConsistencyWait = o.ConsistencyWait
	}
	cfg.LogLevel = slog.LevelError
	// Every test client is 127.0.0.1: the per-client cart limits are off
	// unless a test turns them on.
	cfg.CartCreateRate, cfg.CartAddRate = 0, 0
	// Tests upload imports back to back, faster than tiny jobs finish.
	cfg.ImportMaxActive = 100
	if o.Configure != nil {
		o.Configure(&cfg)
	}
	m := app.New(cfg)
	if o.Now != nil {
		m.Now = o.Now
	}
	if o.Log != nil {
		m.Log = o.Log
	}
	stop, err := m.Start(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, stop()) })
	// A generous client deadline: under the race detector a sign-in's
	// argon2id hash costs seconds, and a test binary signs many shops in at
	// once through one hashing gate; a request that hangs still fails.
	return &Env{t: t, Base: "http://" + m.Addr(), Main: m, HTTP: &http.Client{Timeout: 2 * time.Minute}}
}

// Response is a received response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v.
func (r Response) JSON(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.Body, v), string(r.Body))
}

// Map decodes the body as a JSON object.
func (r Response) Map(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.JSON(t, &m)
	return m
}

// Req is a request to send.
type Req struct {
	Method, Path string
	Body         any // marshalled as JSON unless a string or []byte
	Token        string
	Header       map[string]string
	// Undocumented skips the OpenAPI contract check, for requests that
	// probe what the document does not describe (unknown routes).
	Undocumented bool
}

// Do sends a request and checks the exchange against the OpenAPI document
// (see Contract); a mismatch fails the test.
func (e *Env) Do(t testing.TB, r Req) Response {
	t.Helper()
	var raw []byte
	switch b := r.Body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		raw, err = json.Marshal(b)
		require.NoError(t, err)
	}
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(r.Method, e.Base+r.Path, body)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	resp, err := e.HTTP.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if !r.Undocumented {
		c, err := OpenAPIContract()
		require.NoError(t, err)
		if msg := c.Check(req, raw, resp, got); msg != "" {
			t.Errorf("OpenAPI contract: %s", msg)
		}
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: got}
}

// Shop is a tenant with a signed-in owner.
type Shop struct {
	Tenant   tenant.ID
	Code     string
	Owner    string // owner e-mail
	Password string
	Token    string // the owner's bearer token
	Created  commands.TenantCreated
}

// Shop creates a tenant of type typ ("single_brand" or "mall") with an
// owner through the command layer (as `honten staff create` does) and signs
// the owner in over HTTP. platformAdmin makes the owner a platform admin.
func (e *Env) Shop(t testing.TB, code, typ string, platformAdmin bool) Shop {
	t.Helper()
	ctx := context.Background()
	by := commands.By{Actor: "cli"}
	created, _, err := e.Main.Commands.CreateTenant(ctx, commands.CreateTenant{By: by, Code: code, Name: code + " 本店", Type: typ})
	require.NoError(t, err)
	sh := Shop{Tenant: created.Tenant, Code: code, Owner: "owner@" + code + ".example.jp", Password: "correct horse battery", Created: created}
	_, _, err = e.Main.Commands.InviteStaff(ctx, commands.InviteStaff{Tenant: created.Tenant, By: by, ByRole: "owner",
		Email: sh.Owner, Name: "店主", Role: "owner", Password: sh.Password, PlatformAdmin: platformAdmin})
	require.NoError(t, err)
	sh.Token = e.SignIn(t, code, sh.Owner, sh.Password)
	return sh
}

// SignIn signs in and returns the bearer token.
func (e *Env) SignIn(t testing.TB, shopCode, email, password string) string {
	t.Helper()
	resp := e.Do(t, Req{Method: "POST", Path: "/api/v1/admin/session", Header: map[string]string{"X-Tenant": shopCode},
		Body: map[string]string{"email": email, "password": password}})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	var out struct {
		Token string `json:"token"`
	}
	resp.JSON(t, &out)
	return out.Token
}

// Settle waits until every policy of the workers role has handled every
// committed event of its topics — so nothing more happens on its own — and
// the read models have caught up with the log.
func (e *Env) Settle(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	const behind = `SELECT count(*) FROM unnest($1::text[], $2::text[]) AS h(grp, topic)
WHERE NOT EXISTS (SELECT 1 FROM watermill_offsets_events o WHERE o.consumer_group = h.grp AND o.topic = h.topic)
   OR EXISTS (SELECT 1 FROM events ev, watermill_offsets_events o
              WHERE o.consumer_group = h.grp AND o.topic = h.topic AND ev.stream_type = h.topic
                AND (ev.tx_id, ev.global_position) > (o.last_processed_transaction_id, o.offset_acked))`
	var groups, topics []string
	for _, h := range e.Main.Handlers() {
		for _, topic := range h.Topics {
			groups, topics = append(groups, h.Name), append(topics, topic)
		}
	}
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, e.Main.Pool.QueryRow(ctx, behind, groups, topics).Scan(&n))
		return n == 0
	}, 30*time.Second, 5*time.Millisecond, "policies did not settle")
	var last struct {
		tx  string
		pos int64
	}
	require.NoError(t, e.Main.Pool.QueryRow(ctx, `SELECT coalesce((SELECT tx_id::text FROM events ORDER BY tx_id DESC, global_position DESC LIMIT 1), '0'),
       coalesce((SELECT global_position FROM events ORDER BY tx_id DESC, global_position DESC LIMIT 1), 0)`).Scan(&last.tx, &last.pos))
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var pos eventstore.Position
	pos.Tx, _ = strconv.ParseUint(last.tx, 10, 64)
	pos.Pos = last.pos
	require.NoError(t, e.Main.Runner.WaitFor(wctx, pos))
}
