// Package natstest starts Debian's nats-server with JetStream for tests, as
// pgtest starts PostgreSQL: installed with apt when missing and running as
// root, else the test fails naming the one command to run.
package natstest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/honten/honten/internal/devdb"
)

// ErrNoServer means nats-server is not installed and could not be installed here.
var ErrNoServer = errors.New("nats-server not found; install it with: sudo apt-get install -y nats-server")

// Start runs a nats-server with JetStream (storage in a temporary
// directory) on a free loopback port for the test, stopped when it ends,
// and returns its URL.
func Start(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin, err := devdb.AptBinary(ctx, nil, "nats-server", "nats-server", ErrNoServer)
	if err != nil {
		t.Fatalf("natstest: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("natstest: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	logf, err := os.Create(filepath.Join(dir, "nats.log"))
	if err != nil {
		t.Fatalf("natstest: %v", err)
	}
	cmd := exec.Command(bin, "-js", "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-sd", filepath.Join(dir, "js"))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("natstest: start nats-server: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(done) }() //nolint:errcheck
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill() //nolint:errcheck
			<-done
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return "nats://" + addr
		}
		select {
		case <-done:
			b, _ := os.ReadFile(filepath.Join(dir, "nats.log"))
			t.Fatalf("natstest: nats-server exited:\n%s", b)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("natstest: nats-server not answering on %s", addr)
		}
	}
}
