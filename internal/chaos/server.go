package chaos

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Build compiles cmd/honten of the module at root into dir and returns the
// binary's path.
func Build(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "honten")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/honten")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("chaos: go build: %w\n%s", err, out)
	}
	return bin, nil
}

// FreeAddr returns a loopback address with a port free right now.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Process is one supervised `honten serve` child: started, SIGKILLed and
// started again on the same address; when it exits on its own (a
// component gave up) it is restarted too, as a service manager would.
type Process struct {
	Name   string
	Binary string
	// Roles is the --roles flag.
	Roles string
	// Addr is the HTTP address (API role only).
	Addr string
	// DatabaseURL is the database the process serves.
	DatabaseURL string
	// LogPath receives the process's stderr and stdout (appended).
	LogPath string
	// LogLevel is the process's LOG_LEVEL; "" means warn.
	LogLevel string
	Log      *slog.Logger
	// Env is added to the process's environment (KEY=value each).
	Env []string

	mu       sync.Mutex
	cmd      *exec.Cmd
	done     chan struct{}
	logFrom  int64 // where the current start's output begins in LogPath
	starts   int
	kills    int
	crashes  int
	stopping bool
}

// Start starts the process unless it runs.
func (p *Process) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return nil
	}
	return p.startLocked()
}

func (p *Process) startLocked() error {
	args := []string{"serve", "--roles=" + p.Roles, "--no-migrate"}
	if p.Addr != "" {
		args = append(args, "--addr="+p.Addr)
	}
	cmd := exec.Command(p.Binary, args...)
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DATABASE_URL=") && !strings.HasPrefix(kv, "ROLES=") && !strings.HasPrefix(kv, "HTTP_ADDR=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "DATABASE_URL="+p.DatabaseURL, "LOG_LEVEL="+cmp.Or(p.LogLevel, "warn"), "LOG_FORMAT=text", "CONSISTENCY_WAIT=5s", "TRUSTED_PROXIES=127.0.0.1/32,::1/128")
	cmd.Env = append(cmd.Env, p.Env...)
	f, err := os.OpenFile(p.LogPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if st, err := f.Stat(); err == nil {
		p.logFrom = st.Size()
	}
	fmt.Fprintf(f, "--- %s start %d at %s\n", p.Name, p.starts+1, time.Now().UTC().Format(time.RFC3339Nano))
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("chaos: start %s: %w", p.Name, err)
	}
	p.cmd, p.done = cmd, make(chan struct{})
	p.starts++
	done := p.done
	go func() {
		err := cmd.Wait()
		f.Close()
		p.mu.Lock()
		defer p.mu.Unlock()
		close(done)
		if p.cmd != cmd {
			return
		}
		p.cmd = nil
		if p.stopping {
			return
		}
		// It exited on its own: count it and start it again.
		p.crashes++
		p.Log.Warn("chaos: process exited on its own; restarting", "process", p.Name, "err", err)
		if err := p.startLocked(); err != nil {
			p.Log.Error("chaos: restart failed", "process", p.Name, "err", err)
		}
	}()
	return nil
}

// Kill sends SIGKILL and waits until the process is gone. It reports
// whether a process was running.
func (p *Process) Kill() bool {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	if cmd == nil {
		p.mu.Unlock()
		return false
	}
	p.cmd = nil // the waiter sees it is not its own exit
	p.kills++
	p.mu.Unlock()
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
	return true
}

// Stop ends the process with SIGTERM (a graceful shutdown), waiting up to
// grace before a SIGKILL, and keeps it stopped.
func (p *Process) Stop(grace time.Duration) {
	p.mu.Lock()
	p.stopping = true
	cmd, done := p.cmd, p.done
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(grace):
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-done
	}
}

// Pid is the id of the running process, 0 when it does not run.
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Counts returns how often the process was started, killed, and exited on
// its own.
func (p *Process) Counts() (starts, kills, crashes int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.starts, p.kills, p.crashes
}

// WaitRunning waits until the current start of the process has logged
// that it runs its roles (past start-up: analyzer loaded, read models
// ensured), or ctx ends. It needs LogLevel "info" or lower.
func (p *Process) WaitRunning(ctx context.Context) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		p.mu.Lock()
		from := p.logFrom
		p.mu.Unlock()
		if b, err := os.ReadFile(p.LogPath); err == nil && int64(len(b)) >= from && bytes.Contains(b[from:], []byte("honten running")) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("chaos: %s not running: %w", p.Name, ctx.Err())
		case <-t.C:
		}
	}
}

// WaitReady waits until GET /readyz answers 200 (API processes), or ctx
// ends.
func (p *Process) WaitReady(ctx context.Context) error {
	if p.Addr == "" {
		return errors.New("chaos: WaitReady needs the api role")
	}
	c := &http.Client{Timeout: 5 * time.Second}
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	var last string
	for {
		req, err := http.NewRequestWithContext(ctx, "GET", "http://"+p.Addr+"/readyz", nil)
		if err != nil {
			return err
		}
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("chaos: %s not ready (last: %s): %w", p.Name, last, ctx.Err())
		case <-t.C:
		}
	}
}
