// Package progress reports the progress of long work (replays, imports,
// benchmarks): a bar with rate and ETA on a terminal, structured log lines
// every few seconds otherwise.
package progress

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// Reporter receives progress updates. Implementations are safe for
// concurrent use. A nil *Bar is a valid Reporter that reports nothing.
type Reporter interface {
	// Total sets the expected amount of work (0 if unknown).
	Total(n int64)
	// Add records n more units done.
	Add(n int64)
	// Done finishes the report.
	Done()
}

// Bar is a Reporter that draws a bar on a terminal or logs lines elsewhere.
type Bar struct {
	label string
	unit  string
	w     io.Writer
	tty   bool
	log   *slog.Logger
	every time.Duration

	mu        sync.Mutex
	total     int64
	done      int64
	start     time.Time
	lastPrint time.Time
}

// New returns a Bar writing to stderr: a bar when stderr is a terminal,
// log lines through log otherwise.
func New(label, unit string, log *slog.Logger) *Bar {
	return &Bar{label: label, unit: unit, w: os.Stderr, tty: term.IsTerminal(int(os.Stderr.Fd())),
		log: log, every: 2 * time.Second, start: time.Now()}
}

// Total implements Reporter.
func (b *Bar) Total(n int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.total = n
	b.mu.Unlock()
}

// Add implements Reporter.
func (b *Bar) Add(n int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done += n
	now := time.Now()
	interval := b.every
	if b.tty {
		interval = 100 * time.Millisecond
	}
	if now.Sub(b.lastPrint) >= interval {
		b.lastPrint = now
		b.print(now, false)
	}
}

// Done implements Reporter.
func (b *Bar) Done() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.print(time.Now(), true)
}

// Rate returns units per second so far.
func (b *Bar) Rate() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	el := time.Since(b.start).Seconds()
	if el <= 0 {
		return 0
	}
	return float64(b.done) / el
}

func (b *Bar) print(now time.Time, final bool) {
	el := now.Sub(b.start)
	rate := 0.0
	if el > 0 {
		rate = float64(b.done) / el.Seconds()
	}
	eta := time.Duration(0)
	if rate > 0 && b.total > b.done {
		eta = time.Duration(float64(b.total-b.done) / rate * float64(time.Second))
	}
	if !b.tty {
		if b.log != nil {
			b.log.Info(b.label, "done", b.done, "total", b.total, "rate_per_s", int64(rate),
				"eta", eta.Round(time.Second).String(), "elapsed", el.Round(time.Millisecond).String(), "finished", final)
		}
		return
	}
	const width = 30
	bar := strings.Repeat("░", width)
	pct := 0.0
	if b.total > 0 {
		pct = float64(b.done) / float64(b.total)
		if pct > 1 {
			pct = 1
		}
		filled := int(pct * width)
		bar = strings.Repeat("█", filled) + strings.Repeat("░", width-filled)
	}
	end := ""
	if final {
		end = "\n"
	}
	fmt.Fprintf(b.w, "\r%-22s %s %5.1f%% %d/%d %s  %.0f %s/s  ETA %s   %s",
		b.label, bar, pct*100, b.done, b.total, b.unit, rate, b.unit, eta.Round(time.Second), end)
}
