// Package fleet runs Honten as several processes on one database: API
// processes (`honten serve --roles=api`) behind HAProxy, and processes
// running the projectors and workers, one active per projector and worker
// lane and the others standing by (leader election on PostgreSQL advisory
// locks). `honten fleet` (make fleet) starts one for development and
// demonstration; the tests use it to kill processes under load.
//
// HAProxy is Debian's package: found on the PATH or in /usr/sbin, installed
// with apt when missing and running as root, else the error names the one
// command to run.
package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/honten/honten/internal/devdb"
)

// ErrNoHAProxy means HAProxy is not installed and could not be installed here.
var ErrNoHAProxy = errors.New("haproxy not found; install it with: sudo apt-get install -y haproxy")

// HAProxyBinary returns the haproxy binary, installing Debian's package
// with apt-get when it is missing and the process runs as root.
func HAProxyBinary(ctx context.Context, log *slog.Logger) (string, error) {
	return devdb.AptBinary(ctx, log, "haproxy", "haproxy", ErrNoHAProxy)
}

// HAProxyConfig is the configuration of a balancer listening on listen
// (host:port) in front of the API processes at backends (host:port each).
//
// Each backend is health-checked on GET /readyz every 250 ms and taken out
// after two failures, so a dead process stops getting requests within about
// half a second. A request that could not be sent to a backend (connection
// refused) is sent to another one (retry-on conn-failure, redispatch); a
// request a backend received and then died on is answered 502 and never
// resent by the balancer: the client resends it with the same
// Idempotency-Key, which gives one effect.
func HAProxyConfig(listen string, backends []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `global
    maxconn 4096

defaults
    mode http
    timeout connect 1s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 10s
    option forwardfor
    retries 3
    retry-on conn-failure
    option redispatch 1

frontend honten
    bind %s
    default_backend api

backend api
    balance leastconn
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 250ms fastinter 250ms downinter 500ms fall 2 rise 2
`, listen)
	for i, addr := range backends {
		fmt.Fprintf(&b, "    server api%d %s check\n", i+1, addr)
	}
	return b.String()
}

// HAProxy is a running balancer.
type HAProxy struct {
	Addr string
	cmd  *exec.Cmd
	done chan struct{}
}

// StartHAProxy writes the configuration into dir and starts HAProxy in the
// foreground (its log in dir/haproxy.log). Stop ends it.
func StartHAProxy(ctx context.Context, dir, listen string, backends []string, log *slog.Logger) (*HAProxy, error) {
	bin, err := HAProxyBinary(ctx, log)
	if err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(cfg, []byte(HAProxyConfig(listen, backends)), 0o644); err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	if out, err := exec.CommandContext(ctx, bin, "-c", "-q", "-f", cfg).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("fleet: haproxy -c: %w\n%s", err, out)
	}
	f, err := os.Create(filepath.Join(dir, "haproxy.log"))
	if err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	cmd := exec.Command(bin, "-db", "-f", cfg)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("fleet: start haproxy: %w", err)
	}
	h := &HAProxy{Addr: listen, cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); f.Close(); close(h.done) }() //nolint:errcheck
	return h, nil
}

// Stop ends HAProxy (SIGTERM, then SIGKILL after grace) and waits for it.
func (h *HAProxy) Stop(grace time.Duration) {
	select {
	case <-h.done:
		return
	default:
	}
	h.cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck
	select {
	case <-h.done:
	case <-time.After(grace):
		h.cmd.Process.Kill() //nolint:errcheck
		<-h.done
	}
}

// Pid is HAProxy's process id.
func (h *HAProxy) Pid() int { return h.cmd.Process.Pid }
