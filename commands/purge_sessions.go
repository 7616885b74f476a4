package commands

import (
	"context"
	"log/slog"
	"time"
)

// SessionPurger deletes expired staff sessions and stale sign-in throttle
// rows now and then (workers role), so neither table grows without end.
type SessionPurger struct {
	Commands *Service
	// Every is the pause between purges; 0 means 10 minutes.
	Every time.Duration
	Log   *slog.Logger
	// OnPurgeFunc, when set, hears each purge's counts.
	OnPurgeFunc func(sessions, throttles int64)
}

// Run purges at once, then every Every, until ctx ends.
func (p *SessionPurger) Run(ctx context.Context) {
	every := p.Every
	if every <= 0 {
		every = 10 * time.Minute
	}
	log := p.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		sessions, throttles, err := p.Commands.PurgeSessions(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("session purge failed", "err", err)
		case err == nil && sessions+throttles > 0:
			log.Info("purged expired sessions and sign-in throttle rows", "sessions", sessions, "throttle_rows", throttles)
		}
		if err == nil && p.OnPurgeFunc != nil {
			p.OnPurgeFunc(sessions, throttles)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
