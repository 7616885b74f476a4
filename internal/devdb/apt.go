package devdb

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
)

// AptBinary finds the program name on the PATH or in /usr/sbin or
// /usr/bin, or — running as root with apt-get — installs Debian's package
// pkg and finds it then; else it returns missing, which should name the
// one command to run.
func AptBinary(ctx context.Context, log *slog.Logger, name, pkg string, missing error) (string, error) {
	find := func() string {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		for _, dir := range []string{"/usr/sbin", "/usr/bin"} {
			if st, err := os.Stat(filepath.Join(dir, name)); err == nil && st.Mode()&0o111 != 0 {
				return filepath.Join(dir, name)
			}
		}
		return ""
	}
	if p := find(); p != "" {
		return p, nil
	}
	if os.Geteuid() != 0 {
		return "", missing
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return "", missing
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// Test packages run as processes of their own, and several may need
	// the same program at once: one installs while the others wait for
	// it, then find what it installed. apt-get also waits for a dpkg lock
	// that another program holds, instead of failing at once.
	unlock, err := lockFile(filepath.Join(os.TempDir(), "honten-apt.lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if p := find(); p != "" {
		return p, nil
	}
	log.Info(name+" missing: installing the "+pkg+" package with apt-get", "package", pkg)
	env := append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	install := func() ([]byte, error) {
		cmd := exec.CommandContext(ctx, "apt-get", "-o", "DPkg::Lock::Timeout=300", "install", "-y", "--no-install-recommends", pkg)
		cmd.Env = env
		return cmd.CombinedOutput()
	}
	if _, err := install(); err != nil {
		// A fresh machine has no package lists yet.
		upd := exec.CommandContext(ctx, "apt-get", "-o", "DPkg::Lock::Timeout=300", "update")
		upd.Env = env
		if out, err := upd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("devdb: apt-get update: %w\n%s", err, out)
		}
		if out, err := install(); err != nil {
			return "", fmt.Errorf("devdb: apt-get install %s: %w\n%s", pkg, err, out)
		}
	}
	if p := find(); p != "" {
		return p, nil
	}
	return "", missing
}
