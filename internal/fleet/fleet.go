package fleet

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/honten/honten/internal/chaos"
)

// Options describe a fleet.
type Options struct {
	// Binary is the honten binary the processes run.
	Binary string
	// DatabaseURL is the (migrated) database of every process.
	DatabaseURL string
	// ReplicaURL, when set, is given to the API processes (REPLICA_URL).
	ReplicaURL string
	// Listen is the balancer's address (host:port).
	Listen string
	// APIs and Workers are the numbers of API processes and of processes
	// running the projectors and workers; defaults 2 and 2.
	APIs, Workers int
	// Dir holds the logs and HAProxy's configuration.
	Dir string
	// LogLevel of the processes; "" means info (WaitRunning needs it).
	LogLevel string
	// Env is added to every process's environment.
	Env []string
	Log *slog.Logger
}

// Fleet is a running fleet.
type Fleet struct {
	APIs, Workers []*chaos.Process
	LB            *HAProxy
}

// URL is the balancer's base URL.
func (f *Fleet) URL() string { return "http://" + f.LB.Addr }

// Start starts the worker processes (the first one to start takes every
// leader lock; the others stand by), the API processes on free loopback
// ports, waits until each is ready, and starts HAProxy in front of them.
func Start(ctx context.Context, o Options) (*Fleet, error) {
	if o.APIs <= 0 {
		o.APIs = 2
	}
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.LogLevel == "" {
		o.LogLevel = "info"
	}
	f := &Fleet{}
	// Each process names its connections after itself (pg_stat_activity).
	proc := func(name, roles, addr string, env []string) *chaos.Process {
		env = append(append([]string{}, env...), "DB_APPLICATION_NAME=honten-"+name)
		return &chaos.Process{Name: name, Binary: o.Binary, Roles: roles, Addr: addr, DatabaseURL: o.DatabaseURL,
			LogPath: filepath.Join(o.Dir, name+".log"), LogLevel: o.LogLevel, Log: o.Log, Env: env}
	}
	for i := range o.Workers {
		p := proc(fmt.Sprintf("worker%d", i+1), "projectors,workers", "", o.Env)
		f.Workers = append(f.Workers, p)
		if err := p.Start(); err != nil {
			f.Stop()
			return nil, err
		}
		if i == 0 {
			// The first one leads: it runs before the standbys start.
			if err := p.WaitRunning(ctx); err != nil {
				f.Stop()
				return nil, err
			}
		}
	}
	apiEnv := o.Env
	if o.ReplicaURL != "" {
		apiEnv = append(append([]string{}, o.Env...), "REPLICA_URL="+o.ReplicaURL)
	}
	var backends []string
	for i := range o.APIs {
		addr, err := chaos.FreeAddr()
		if err != nil {
			f.Stop()
			return nil, err
		}
		p := proc(fmt.Sprintf("api%d", i+1), "api", addr, apiEnv)
		f.APIs = append(f.APIs, p)
		backends = append(backends, addr)
		if err := p.Start(); err != nil {
			f.Stop()
			return nil, err
		}
	}
	for _, p := range append(f.APIs[:len(f.APIs):len(f.APIs)], f.Workers...) {
		wait := p.WaitRunning
		if p.Addr != "" {
			wait = p.WaitReady
		}
		if err := wait(ctx); err != nil {
			f.Stop()
			return nil, err
		}
	}
	lb, err := StartHAProxy(ctx, o.Dir, o.Listen, backends, o.Log)
	if err != nil {
		f.Stop()
		return nil, err
	}
	f.LB = lb
	return f, nil
}

// Stop stops the balancer, then every process gracefully.
func (f *Fleet) Stop() {
	if f.LB != nil {
		f.LB.Stop(5 * time.Second)
	}
	for _, p := range append(f.APIs[:len(f.APIs):len(f.APIs)], f.Workers...) {
		p.Stop(15 * time.Second)
	}
}
