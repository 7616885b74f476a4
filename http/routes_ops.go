package http

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/eventstore/bus"
	"github.com/honten/honten/internal/metrics"
	"github.com/honten/honten/migrations"
)

func (s *Server) registerOpsRoutes(r chi.Router) {
	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
	r.Get("/metrics", s.metricsWithToken)
	r.Get("/openapi.json", serveOpenAPI)
}

var metricsHandler = promhttp.HandlerFor(metrics.Registry, promhttp.HandlerOpts{})

// metricsWithToken serves /metrics on the public listener only to callers
// with METRICS_TOKEN as their bearer token; without a configured token the
// metrics are served by OpsHandler alone and this answers 404.
func (s *Server) metricsWithToken(w http.ResponseWriter, r *http.Request) {
	if s.Config.MetricsToken == "" {
		notFound(w, r)
		return
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(token), []byte(s.Config.MetricsToken)) != 1 {
		writeError(w, r, errs.Unauthenticatedf("send Authorization: Bearer <METRICS_TOKEN>"))
		return
	}
	metricsHandler.ServeHTTP(w, r)
}

// OpsHandler serves /metrics, /healthz and /readyz without authentication,
// for a listener on the private network (OPS_ADDR).
func (s *Server) OpsHandler() http.Handler {
	r := chi.NewRouter()
	r.Use(withRequestID, withRecover)
	r.NotFound(notFound)
	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
	r.Method(http.MethodGet, "/metrics", metricsHandler)
	return r
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

type readiness struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

// readyz reports ready when the database answers, every migration is
// applied, and every read model has a live generation within ReadyMaxLag.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	res := readiness{Status: "ok", Checks: map[string]string{}}
	fail := func(check, msg string) {
		res.Status = "unavailable"
		res.Checks[check] = msg
	}
	if err := s.Pool.Ping(ctx); err != nil {
		fail("database", "unreachable")
	} else {
		res.Checks["database"] = "ok"
		if n, err := migrations.Pending(ctx, s.Pool); err != nil {
			fail("migrations", "unknown")
		} else if n > 0 {
			fail("migrations", "pending")
		} else {
			res.Checks["migrations"] = "ok"
		}
		if s.Projections != nil {
			s.checkProjections(ctx, fail, res.Checks)
		}
		if s.Replica != nil {
			s.checkReplica(ctx, fail, res.Checks)
		}
		// Poisoned reactions need an operator, not a restart: reported, not failed.
		if n, err := bus.UnresolvedPoisoned(ctx, s.Pool); err != nil {
			res.Checks["poison"] = "unknown"
		} else if n > 0 {
			res.Checks["poison"] = strconv.FormatInt(n, 10) + " unresolved (GET /api/v1/admin/poison)"
		} else {
			res.Checks["poison"] = "ok"
		}
	}
	status := http.StatusOK
	if res.Status != "ok" {
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, status, res)
}

// checkReplica reports the read replica's lag; a replica that does not
// answer, or is further behind than ReadyMaxLag, fails readiness (the
// reads of this process go there).
func (s *Server) checkReplica(ctx context.Context, fail func(string, string), checks map[string]string) {
	lag, err := s.ReplicaLag(ctx)
	if err != nil {
		fail("replica", "unreachable")
		return
	}
	detail := fmt.Sprintf("lag %.3fs, %d bytes", lag.Seconds, lag.Bytes)
	if lag.Paused {
		detail += ", replay paused"
	}
	if time.Duration(lag.Seconds*float64(time.Second)) > s.Config.ReadyMaxLag {
		fail("replica", "behind: "+detail)
		return
	}
	checks["replica"] = "ok: " + detail
}

func (s *Server) checkProjections(ctx context.Context, fail func(string, string), checks map[string]string) {
	sts, err := s.Projections.Liveness(ctx) // no counting over the log
	if err != nil {
		fail("projections", "unknown")
		return
	}
	if !s.caughtUp.Load() {
		if head := s.started.Load(); head != nil {
			ok, err := s.Projections.CaughtUp(ctx, *head)
			if err != nil {
				fail("projections", "unknown")
				return
			}
			if !ok {
				fail("projections", "catching up with the log as it stood at start-up")
				return
			}
			s.caughtUp.Store(true)
		}
	}
	live := map[string]bool{}
	for _, st := range sts {
		if st.State != "live" {
			continue
		}
		live[st.Model] = true
		if st.LagSeconds > s.Config.ReadyMaxLag.Seconds() {
			fail("projections", st.Name+" lags")
			return
		}
	}
	for _, m := range s.Projections.Models() {
		if !live[m] {
			fail("projections", m+" has no live generation")
			return
		}
	}
	checks["projections"] = "ok"
}
