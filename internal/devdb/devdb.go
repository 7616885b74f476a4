// Package devdb runs the private PostgreSQL cluster that `make run` and
// `make test` use when DATABASE_URL is unset: initdb on first use under
// .data/pg in the repository, a free port, a unix socket, and — when the
// process runs as root, which PostgreSQL refuses — the server runs as the
// `postgres` user. When the server binaries are missing it installs them with
// apt (as root) or says the one command to run.
//
// It is a development convenience; production points DATABASE_URL at a
// managed server.
package devdb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cluster is a running private cluster.
type Cluster struct {
	DataDir   string
	SocketDir string
	Port      int
}

// URL returns a connection URL for database db on the cluster's unix socket.
func (c Cluster) URL(db string) string {
	q := url.Values{}
	q.Set("host", c.SocketDir)
	q.Set("port", strconv.Itoa(c.Port))
	q.Set("sslmode", "disable")
	return "postgres://postgres@/" + url.PathEscape(db) + "?" + q.Encode()
}

// ErrNoBinaries means the PostgreSQL server binaries are not installed and
// could not be installed here.
var ErrNoBinaries = errors.New("PostgreSQL server binaries not found; install them with: sudo apt-get install -y postgresql")

// FindRoot returns the repository root: the nearest ancestor of the working
// directory holding go.mod.
func FindRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("devdb: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Ensure starts the private cluster of the repository at root unless it is
// already running, and returns it. Concurrent callers (parallel test
// binaries) are serialised with a file lock.
func Ensure(ctx context.Context, root string, log *slog.Logger) (Cluster, error) {
	return EnsureNamed(ctx, root, "pg", log)
}

// EnsureNamed is Ensure for the cluster .data/<name> of the repository at
// root (its port in .data/<name>.port): "pg" is the private cluster, other
// names are clusters of their own (the replication tests' primary).
func EnsureNamed(ctx context.Context, root, name string, log *slog.Logger) (Cluster, error) {
	p, err := prepare(ctx, root, name, log)
	if err != nil {
		return Cluster{}, err
	}
	defer p.unlock()
	log, bin, asPostgres, dataRoot, dataDir, c := p.log, p.bin, p.asPostgres, p.dataRoot, p.c.DataDir, p.c

	if _, err := os.Stat(filepath.Join(dataDir, "PG_VERSION")); err != nil {
		log.Info("initialising private PostgreSQL cluster", "dir", dataDir)
		if err := initCluster(ctx, bin, dataDir, asPostgres); err != nil {
			return Cluster{}, err
		}
	}

	portFile := filepath.Join(dataRoot, name+".port")
	if b, err := os.ReadFile(portFile); err == nil {
		c.Port, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	if c.Port > 0 && running(ctx, bin, dataDir, asPostgres) && reachable(c) {
		return c, nil
	}
	log.Info("starting private PostgreSQL cluster", "dir", dataDir, "socket", c.SocketDir)
	port, err := start(ctx, log, bin, asPostgres, c, "")
	if err != nil {
		return Cluster{}, err
	}
	c.Port = port
	if err := os.WriteFile(portFile, []byte(strconv.Itoa(port)+"\n"), 0o644); err != nil {
		return Cluster{}, fmt.Errorf("devdb: %w", err)
	}
	return c, nil
}

// Stop stops the private cluster of the repository at root, if running.
func Stop(ctx context.Context, root string) error {
	bin, err := findBinaries(ctx, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	asPostgres := os.Geteuid() == 0
	dataDir := filepath.Join(root, ".data", "pg")
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

// findBinaries returns the newest installed PostgreSQL server bin directory,
// installing the postgresql package with apt when running as root.
func findBinaries(ctx context.Context, log *slog.Logger) (string, error) {
	if dir := lookBinaries(); dir != "" {
		return dir, nil
	}
	if os.Geteuid() != 0 {
		return "", ErrNoBinaries
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return "", ErrNoBinaries
	}
	log.Info("PostgreSQL binaries missing: installing the postgresql package with apt-get")
	env := append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	for _, args := range [][]string{{"update"}, {"install", "-y", "--no-install-recommends", "postgresql"}} {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("devdb: apt-get %s: %w\n%s", strings.Join(args, " "), err, tail(out))
		}
	}
	if dir := lookBinaries(); dir != "" {
		return dir, nil
	}
	return "", ErrNoBinaries
}

func lookBinaries() string {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	sort.Slice(matches, func(i, j int) bool { return majorOf(matches[i]) > majorOf(matches[j]) })
	for _, m := range matches {
		if isExec(filepath.Join(filepath.Dir(m), "initdb")) && isExec(filepath.Join(filepath.Dir(m), "postgres")) {
			return filepath.Dir(m)
		}
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			dir := filepath.Dir(r)
			if isExec(filepath.Join(dir, "initdb")) && isExec(filepath.Join(dir, "postgres")) {
				return dir
			}
		}
	}
	return ""
}

func majorOf(path string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return v
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode()&0o111 != 0
}

// dataDirectory returns .data/<name>, or — when the server runs as postgres and
// cannot reach the repository (a clone under /root) — a directory under
// /var/tmp that .data/pg links to.
func dataDirectory(ctx context.Context, dataRoot, name string, asPostgres bool) (string, error) {
	dir := filepath.Join(dataRoot, name)
	if target, err := os.Readlink(dir); err == nil {
		if err := os.MkdirAll(target, 0o700); err != nil {
			return "", fmt.Errorf("devdb: %w", err)
		}
		if asPostgres {
			if err := chownPostgres(target); err != nil {
				return "", err
			}
		}
		return target, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("devdb: %w", err)
	}
	if !asPostgres {
		return dir, nil
	}
	if err := chownPostgres(dir); err != nil {
		return "", err
	}
	if _, err := run(ctx, true, "test", "-r", dir, "-a", "-w", dir, "-a", "-x", dir); err == nil {
		return dir, nil
	}
	// Not reachable by postgres: keep the cluster outside the repository.
	key := dataRoot
	if name != "pg" {
		key += "/" + name
	}
	sum := sha256.Sum256([]byte(key))
	alt := filepath.Join("/var/tmp", "honten-pg-"+hex.EncodeToString(sum[:4]))
	if err := os.MkdirAll(alt, 0o700); err != nil {
		return "", fmt.Errorf("devdb: %w", err)
	}
	if err := chownPostgres(alt); err != nil {
		return "", err
	}
	if err := os.Remove(dir); err != nil {
		return "", fmt.Errorf("devdb: %s is not empty and not reachable by the postgres user: %w", dir, err)
	}
	if err := os.Symlink(alt, dir); err != nil {
		return "", fmt.Errorf("devdb: %w", err)
	}
	return alt, nil
}

// socketDir keeps the socket path under the 107-byte limit of sun_path.
func socketDir(dataDir string) string {
	if len(dataDir)+len("/.s.PGSQL.65535.lock") < 100 {
		return dataDir
	}
	sum := sha256.Sum256([]byte(dataDir))
	return filepath.Join(os.TempDir(), "honten-pg-"+hex.EncodeToString(sum[:4]))
}

func initCluster(ctx context.Context, bin, dataDir string, asPostgres bool) error {
	args := []string{"-D", dataDir, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions"}
	if out, err := run(ctx, asPostgres, filepath.Join(bin, "initdb"), args...); err != nil {
		return fmt.Errorf("devdb: initdb: %w\n%s", err, tail(out))
	}
	// Memory and connection tuning only: durability settings keep their
	// defaults (fsync, synchronous_commit, full_page_writes stay on).
	conf := `
# --- honten private cluster ---
listen_addresses = ''
max_connections = 300
shared_buffers = 512MB
work_mem = 16MB
maintenance_work_mem = 256MB
effective_cache_size = 4GB
max_wal_size = 4GB
wal_buffers = 16MB
checkpoint_completion_target = 0.9
random_page_cost = 1.1
log_min_duration_statement = -1
log_lock_waits = on
`
	f, err := os.OpenFile(filepath.Join(dataDir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("devdb: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(conf); err != nil {
		return fmt.Errorf("devdb: %w", err)
	}
	return nil
}

func running(ctx context.Context, bin, dataDir string, asPostgres bool) bool {
	_, err := run(ctx, asPostgres, filepath.Join(bin, "pg_ctl"), "status", "-D", dataDir)
	return err == nil
}

func reachable(c Cluster) bool {
	conn, err := net.DialTimeout("unix", filepath.Join(c.SocketDir, fmt.Sprintf(".s.PGSQL.%d", c.Port)), time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("devdb: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// run runs a command, as the postgres user when asPostgres.
func run(ctx context.Context, asPostgres bool, name string, args ...string) ([]byte, error) {
	var cmd *exec.Cmd
	if asPostgres {
		if _, err := exec.LookPath("runuser"); err == nil {
			cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
		} else {
			quoted := make([]string, 0, len(args)+1)
			for _, a := range append([]string{name}, args...) {
				quoted = append(quoted, "'"+strings.ReplaceAll(a, "'", `'\''`)+"'")
			}
			cmd = exec.CommandContext(ctx, "su", "postgres", "-s", "/bin/sh", "-c", strings.Join(quoted, " "))
		}
	} else {
		cmd = exec.CommandContext(ctx, name, args...)
	}
	cmd.Dir = "/"
	// pg_ctl start leaves the server running: do not tie it to our stdio.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd.CombinedOutput()
}

func chownPostgres(path string) error {
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("devdb: running as root needs a postgres user (install the postgresql package): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(path, uid, gid); err != nil {
		return fmt.Errorf("devdb: chown %s: %w", path, err)
	}
	return nil
}

func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("devdb: lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("devdb: lock: %w", err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN) //nolint:errcheck
		f.Close()
	}, nil
}

// start starts the cluster c with pg_ctl on a free port (extra: more
// server options) and returns the port. A server that exits while starting
// is given one more try on another port, since a start can fail for a
// passing reason (a resource another cluster held a moment); the error
// carries the end of the server log, which says why.
func start(ctx context.Context, log *slog.Logger, bin string, asPostgres bool, c Cluster, extra string) (int, error) {
	logPath := filepath.Join(c.DataDir, "server.log")
	var failed error
	for attempt := 1; attempt <= 2; attempt++ {
		port, err := freePort()
		if err != nil {
			return 0, err
		}
		opts := fmt.Sprintf("-p %d -k %s%s", port, c.SocketDir, extra)
		args := []string{"start", "-D", c.DataDir, "-l", logPath, "-w", "-t", "60", "-o", opts}
		out, err := run(ctx, asPostgres, filepath.Join(bin, "pg_ctl"), args...)
		if err == nil {
			return port, nil
		}
		serverLog, _ := os.ReadFile(logPath)
		failed = fmt.Errorf("devdb: pg_ctl start %s: %w\n%s\n(server log %s ends:)\n%s", c.DataDir, err, out, logPath, tail(serverLog))
		if running(ctx, bin, c.DataDir, asPostgres) || ctx.Err() != nil {
			break // up but slow, or given up: a second server is not the answer
		}
		log.Warn("PostgreSQL did not start; trying once more", "dir", c.DataDir, "attempt", attempt, "err", failed)
	}
	return 0, failed
}

func tail(b []byte) string {
	const n = 2000
	if len(b) > n {
		return "…" + string(b[len(b)-n:])
	}
	return string(b)
}

// Restart restarts the private cluster of the repository at root with
// pg_ctl restart in mode "fast" (clean shutdown) or "immediate" (no
// shutdown checkpoint: the start replays the WAL, as after a power cut). It
// keeps the port and socket, and waits until the server accepts connections.
func Restart(ctx context.Context, root, mode string) error {
	if mode != "fast" && mode != "immediate" {
		return fmt.Errorf("devdb: restart mode %q (want fast or immediate)", mode)
	}
	bin, err := findBinaries(ctx, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	asPostgres := os.Geteuid() == 0
	dataDir, err := dataDirectory(ctx, filepath.Join(root, ".data"), "pg", asPostgres)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(filepath.Join(root, ".data", "pg.port"))
	if err != nil {
		return fmt.Errorf("devdb: the private cluster is not running: %w", err)
	}
	port, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	opts := fmt.Sprintf("-p %d -k %s", port, socketDir(dataDir))
	args := []string{"restart", "-D", dataDir, "-m", mode, "-l", filepath.Join(dataDir, "server.log"), "-w", "-t", "120", "-o", opts}
	if out, err := run(ctx, asPostgres, filepath.Join(bin, "pg_ctl"), args...); err != nil {
		return fmt.Errorf("devdb: pg_ctl restart: %w\n%s", err, tail(out))
	}
	return nil
}

// EnableLogins lets the roles of migration 0060 log in on the private
// cluster (trust authentication on a private socket: no passwords). An
// existing server gets its roles from docs/database-roles.md instead.
func EnableLogins(ctx context.Context, ownerURL string) error {
	conn, err := pgx.Connect(ctx, ownerURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	const q = `SELECT rolname FROM pg_roles WHERE rolname IN ('honten_app', 'honten_worker') AND NOT rolcanlogin`
	rows, err := conn.Query(ctx, q)
	if err != nil {
		return err
	}
	roles, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, r := range roles {
		if _, err := conn.Exec(ctx, `ALTER ROLE `+pgx.Identifier{r}.Sanitize()+` LOGIN`); err != nil {
			return fmt.Errorf("enable login of %s: %w", r, err)
		}
	}
	return nil
}

// prepared is what starting any cluster of the repository needs: the lock
// on .data (held until unlock), the server binaries, and the cluster's data
// and socket directories, owned by postgres when running as root.
type prepared struct {
	log        *slog.Logger
	bin        string
	asPostgres bool
	dataRoot   string
	c          Cluster
	unlock     func()
}

func prepare(ctx context.Context, root, name string, log *slog.Logger) (prepared, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dataRoot := filepath.Join(root, ".data")
	if err := os.MkdirAll(dataRoot, 0o755); err != nil {
		return prepared{}, fmt.Errorf("devdb: %w", err)
	}
	unlock, err := lockFile(filepath.Join(dataRoot, "devdb.lock"))
	if err != nil {
		return prepared{}, err
	}
	fail := func(err error) (prepared, error) { unlock(); return prepared{}, err }
	bin, err := findBinaries(ctx, log)
	if err != nil {
		return fail(err)
	}
	asPostgres := os.Geteuid() == 0
	dataDir, err := dataDirectory(ctx, dataRoot, name, asPostgres)
	if err != nil {
		return fail(err)
	}
	c := Cluster{DataDir: dataDir, SocketDir: socketDir(dataDir)}
	if err := os.MkdirAll(c.SocketDir, 0o755); err != nil {
		return fail(fmt.Errorf("devdb: socket dir: %w", err))
	}
	if asPostgres {
		if err := chownPostgres(c.SocketDir); err != nil {
			return fail(err)
		}
	}
	return prepared{log: log, bin: bin, asPostgres: asPostgres, dataRoot: dataRoot, c: c, unlock: unlock}, nil
}
