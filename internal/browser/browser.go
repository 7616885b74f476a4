// Package browser finds (and, like internal/devdb does for PostgreSQL,
// installs when missing) the headless Chromium the browser tests drive with
// chromedp, and starts it with the flags a sandboxless CI container needs.
//
// It is test tooling: nothing in the server imports it.
package browser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/chromedp/chromedp"
)

// InstallCommand is the one command that installs the browser.
const InstallCommand = "sudo apt-get install -y chromium"

// ErrNoBrowser means Chromium is not installed and could not be installed here.
var ErrNoBrowser = errors.New("headless Chromium not found; install it with: " + InstallCommand)

var names = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

func lookup() (string, bool) {
	if p := os.Getenv("CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, true
		}
	}
	return "", false
}

var installMu sync.Mutex

// Find returns the path of a Chromium binary, installing Debian's chromium
// package with apt-get when it is missing and the process runs as root.
// Otherwise it returns ErrNoBrowser, which names the command to run.
func Find(ctx context.Context) (string, error) {
	if p, ok := lookup(); ok {
		return p, nil
	}
	installMu.Lock()
	defer installMu.Unlock()
	if p, ok := lookup(); ok {
		return p, nil
	}
	if os.Geteuid() != 0 {
		return "", ErrNoBrowser
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return "", ErrNoBrowser
	}
	install := func() ([]byte, error) {
		cmd := exec.CommandContext(ctx, "apt-get", "install", "-y", "--no-install-recommends", "chromium", "fonts-ipafont-gothic")
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		return cmd.CombinedOutput()
	}
	if _, err := install(); err != nil {
		// A fresh container has no package lists yet.
		if out, err := exec.CommandContext(ctx, "apt-get", "update").CombinedOutput(); err != nil {
			return "", fmt.Errorf("%w (apt-get update: %v: %s)", ErrNoBrowser, err, tail(out))
		}
		if out, err := install(); err != nil {
			return "", fmt.Errorf("%w (apt-get install: %v: %s)", ErrNoBrowser, err, tail(out))
		}
	}
	if p, ok := lookup(); ok {
		return p, nil
	}
	return "", ErrNoBrowser
}

func tail(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 500 {
		s = s[len(s)-500:]
	}
	return s
}

// Start launches headless Chromium at path with a fresh profile under dir
// and returns a browser context (tabs are chromedp.NewContext of it) and
// the function that closes it.
func Start(ctx context.Context, path, dir string) (context.Context, context.CancelFunc, error) {
	profile := filepath.Join(dir, "profile")
	if err := os.MkdirAll(profile, 0o700); err != nil {
		return nil, nil, err
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // root in a container has no user namespace sandbox
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("mute-audio", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		cancelBrowser()
		cancelAlloc()
		return nil, nil, fmt.Errorf("start chromium %s: %w", path, err)
	}
	return bctx, func() { cancelBrowser(); cancelAlloc() }, nil
}
