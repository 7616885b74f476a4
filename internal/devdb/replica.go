package devdb

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// ReplicaName is the directory under .data of the private cluster's
// streaming replica (`honten db replica-url`).
const ReplicaName = "pg-replica"

// EnsureStandby starts the streaming replica .data/<name> of the running
// cluster primary, unless it is already running, and returns it. On first
// use the replica is made with pg_basebackup -R (a copy of the primary plus
// standby.signal and primary_conninfo); it then starts like the primary,
// on a port of its own, as a hot standby that replays the primary's WAL as
// it streams in. The primary's connection settings are rewritten at each
// start, since the primary may have come back on another port.
func EnsureStandby(ctx context.Context, root string, primary Cluster, name string, log *slog.Logger) (Cluster, error) {
	p, err := prepare(ctx, root, name, log)
	if err != nil {
		return Cluster{}, err
	}
	defer p.unlock()
	log, bin, asPostgres, dataRoot, dataDir, c := p.log, p.bin, p.asPostgres, p.dataRoot, p.c.DataDir, p.c
	portFile := filepath.Join(dataRoot, name+".port")
	if b, err := os.ReadFile(portFile); err == nil {
		c.Port, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	// standby.signal is written last: without it the copy is missing or half made.
	if _, err := os.Stat(filepath.Join(dataDir, "standby.signal")); err != nil {
		if err := clearDir(dataDir); err != nil {
			return Cluster{}, err
		}
		log.Info("making a streaming replica with pg_basebackup", "dir", dataDir, "primary_port", primary.Port)
		args := []string{"-D", dataDir, "-h", primary.SocketDir, "-p", strconv.Itoa(primary.Port), "-U", "postgres",
			"-X", "stream", "-c", "fast", "-R", "--no-sync"}
		if out, err := run(ctx, asPostgres, filepath.Join(bin, "pg_basebackup"), args...); err != nil {
			return Cluster{}, fmt.Errorf("devdb: pg_basebackup: %w\n%s", err, tail(out))
		}
	} else if c.Port > 0 && running(ctx, bin, dataDir, asPostgres) && reachable(c) {
		// Running: the primary may have come back on another port since.
		changed, err := setPrimaryConninfo(dataDir, primary)
		if err != nil {
			return Cluster{}, err
		}
		if changed {
			if out, err := run(ctx, asPostgres, filepath.Join(bin, "pg_ctl"), "reload", "-D", dataDir); err != nil {
				return Cluster{}, fmt.Errorf("devdb: pg_ctl reload (replica): %w\n%s", err, out)
			}
		}
		return c, nil
	}
	if _, err := setPrimaryConninfo(dataDir, primary); err != nil {
		return Cluster{}, err
	}
	log.Info("starting the streaming replica", "dir", dataDir)
	// hot_standby_feedback: the primary keeps the rows a replica query
	// still reads, so long reads are not cancelled by replay.
	port, err := start(ctx, log, bin, asPostgres, c, " -c hot_standby=on -c hot_standby_feedback=on")
	if err != nil {
		return Cluster{}, fmt.Errorf("replica: %w", err)
	}
	c.Port = port
	if err := os.WriteFile(portFile, []byte(strconv.Itoa(port)+"\n"), 0o644); err != nil {
		return Cluster{}, fmt.Errorf("devdb: %w", err)
	}
	return c, nil
}

// clearDir empties dir, keeping dir itself (its owner and mode).
func clearDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("devdb: %w", err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("devdb: %w", err)
		}
	}
	return nil
}

// setPrimaryConninfo points the standby at primary's current socket and
// port (postgresql.auto.conf, where pg_basebackup -R wrote it), and reports
// whether that changed the file.
func setPrimaryConninfo(dataDir string, primary Cluster) (bool, error) {
	path := filepath.Join(dataDir, "postgresql.auto.conf")
	b, err := os.ReadFile(path)
	if err != nil {
		return false, fmt.Errorf("devdb: replica settings: %w", err)
	}
	var keep []string
	for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "primary_conninfo") {
			keep = append(keep, line)
		}
	}
	keep = append(keep, fmt.Sprintf("primary_conninfo = 'user=postgres host=%s port=%d sslmode=disable application_name=honten_replica'", primary.SocketDir, primary.Port))
	out := strings.Join(keep, "\n") + "\n"
	if out == string(b) {
		return false, nil
	}
	// Root writes a file the postgres user owns: the owner stays.
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		return false, fmt.Errorf("devdb: replica settings: %w", err)
	}
	return true, nil
}

// StopNamed stops the cluster .data/<name> of the repository at root (a
// replica or a named primary), if running.
func StopNamed(ctx context.Context, root, name string) error {
	bin, err := findBinaries(ctx, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	asPostgres := os.Geteuid() == 0
	dataDir := filepath.Join(root, ".data", name)
	if t, err := os.Readlink(dataDir); err == nil {
		dataDir = t
	}
	if _, err := os.Stat(filepath.Join(dataDir, "PG_VERSION")); err != nil {
		return nil
	}
	if !running(ctx, bin, dataDir, asPostgres) {
		return nil
	}
	out, err := run(ctx, asPostgres, filepath.Join(bin, "pg_ctl"), "stop", "-D", dataDir, "-m", "fast", "-w")
	if err != nil {
		return fmt.Errorf("devdb: pg_ctl stop: %w\n%s", err, out)
	}
	return nil
}

// WaitReplayed waits until the standby at replicaURL has replayed the WAL
// the primary at primaryURL had written when WaitReplayed was called.
func WaitReplayed(ctx context.Context, primaryURL, replicaURL string) error {
	p, err := pgx.Connect(ctx, primaryURL)
	if err != nil {
		return fmt.Errorf("devdb: primary: %w", err)
	}
	var lsn string
	err = p.QueryRow(ctx, `SELECT pg_current_wal_lsn()::text`).Scan(&lsn)
	p.Close(ctx)
	if err != nil {
		return fmt.Errorf("devdb: primary: %w", err)
	}
	r, err := pgx.Connect(ctx, replicaURL)
	if err != nil {
		return fmt.Errorf("devdb: replica: %w", err)
	}
	defer r.Close(context.WithoutCancel(ctx))
	for {
		var done bool
		if err := r.QueryRow(ctx, `SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn`, lsn).Scan(&done); err != nil {
			return fmt.Errorf("devdb: replica: %w", err)
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}
