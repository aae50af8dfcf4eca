// Package testenv starts the real processes that tests, the benchmark and `make run-local` run
// against: an Ory Hydra server on free loopback ports, and helpers around envtest.
package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// HydraOptions configures a Hydra process.
type HydraOptions struct {
	// Bin is the hydra binary; empty means the HYDRA_BIN environment variable.
	Bin string
	// FastHashing lowers PBKDF2 to one iteration: functional tests only, never benchmarks.
	FastHashing bool
	// LoginURL and ConsentURL are where Hydra sends the browser to log in and consent.
	LoginURL, ConsentURL string
	// Log receives Hydra's output; nil discards it.
	Log io.Writer
	// Env adds environment variables (KEY=VALUE).
	Env []string
	// PublicPort and AdminPort are the loopback ports to listen on; zero means a free port.
	// `make run-local` asks for fixed ones so the issuer URL stays the same across restarts.
	PublicPort, AdminPort int
	// DatabaseDir, when set, holds Hydra's database in a SQLite file in this folder instead of
	// in memory. Hydra's in-memory database lives only while one of its connections is open,
	// and database/sql closes the connection of a transaction whose request was cancelled:
	// when every open connection served a request of an operator that was then SIGKILLed, the
	// database vanished and Hydra answered "Unable to locate the table" from then on (seen in
	// the fault tier's TestOperatorSIGKILL). Start empties the file, as it does the memory.
	DatabaseDir string
}

// Hydra is a running Hydra process with a database of its own (in memory unless
// HydraOptions.DatabaseDir), listening on loopback only.
type Hydra struct {
	opts       HydraOptions
	adminPort  int
	publicPort int

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// StartHydra starts Hydra on loopback ports (the ones in opts, free ones otherwise) and waits
// until it is ready.
func StartHydra(ctx context.Context, opts HydraOptions) (*Hydra, error) {
	if opts.Bin == "" {
		opts.Bin = os.Getenv("HYDRA_BIN")
	}
	if opts.Bin == "" {
		return nil, errors.New("no hydra binary: set HYDRA_BIN (make testbins builds one; hack/testbins.sh hydra prints its path)")
	}
	ports, err := FreePorts(2)
	if err != nil {
		return nil, err
	}
	h := &Hydra{opts: opts, adminPort: ports[0], publicPort: ports[1]}
	if opts.AdminPort != 0 {
		h.adminPort = opts.AdminPort
	}
	if opts.PublicPort != 0 {
		h.publicPort = opts.PublicPort
	}
	if h.adminPort == h.publicPort {
		return nil, fmt.Errorf("hydra's admin and public ports are both %d", h.adminPort)
	}
	if err := h.Start(ctx); err != nil {
		h.Stop() // a process that never became ready would otherwise outlive the caller's handle
		return nil, err
	}
	return h, nil
}

// AdminURL is the base URL of the admin API.
func (h *Hydra) AdminURL() string { return fmt.Sprintf("http://127.0.0.1:%d", h.adminPort) }

// PublicURL is the base URL of the public API (the issuer).
func (h *Hydra) PublicURL() string { return fmt.Sprintf("http://127.0.0.1:%d", h.publicPort) }

// Start starts the process (again) on the same ports, with an empty database.
func (h *Hydra) Start(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cmd != nil {
		return errors.New("hydra is already running")
	}
	dsn, err := h.emptyDatabase(ctx)
	if err != nil {
		return err
	}
	// Not bound to ctx: the process must outlive the start-up context; Stop ends it.
	cmd := exec.Command(h.opts.Bin, "serve", "all", "--dev", "--sqa-opt-out")
	cmd.Env = append(os.Environ(),
		"DSN="+dsn,
		"SECRETS_SYSTEM=this-is-only-a-test-secret-0123456789",
		"URLS_SELF_ISSUER="+h.PublicURL(),
		"SERVE_PUBLIC_HOST=127.0.0.1", "SERVE_PUBLIC_PORT="+strconv.Itoa(h.publicPort),
		"SERVE_ADMIN_HOST=127.0.0.1", "SERVE_ADMIN_PORT="+strconv.Itoa(h.adminPort),
		"LOG_LEVEL=warn",
		"LOG_LEAK_SENSITIVE_VALUES=false",
	)
	if h.opts.FastHashing {
		cmd.Env = append(cmd.Env, "OAUTH2_HASHERS_PBKDF2_ITERATIONS=1")
	}
	if h.opts.LoginURL != "" {
		cmd.Env = append(cmd.Env, "URLS_LOGIN="+h.opts.LoginURL)
	}
	if h.opts.ConsentURL != "" {
		cmd.Env = append(cmd.Env, "URLS_CONSENT="+h.opts.ConsentURL)
	}
	cmd.Env = append(cmd.Env, h.opts.Env...)
	out := h.opts.Log
	if out == nil {
		out = io.Discard
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting hydra: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	h.cmd, h.done = cmd, done
	return h.waitReady(ctx, done)
}

// emptyDatabase is the DSN of an empty database for the next start: Hydra's in-memory one, or
// a new SQLite file in DatabaseDir with Hydra's tables (Hydra migrates only an in-memory
// database by itself). The file trades durability for speed (no fsync): it must outlive
// Hydra's connections, not the machine.
func (h *Hydra) emptyDatabase(ctx context.Context) (string, error) {
	if h.opts.DatabaseDir == "" {
		return "memory", nil
	}
	if err := os.MkdirAll(h.opts.DatabaseDir, 0o755); err != nil {
		return "", err
	}
	file := filepath.Join(h.opts.DatabaseDir, "hydra.sqlite")
	for _, f := range []string{file, file + "-wal", file + "-shm"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
	}
	dsn := "sqlite://" + file + "?_fk=true&_journal_mode=WAL&_synchronous=OFF&_busy_timeout=10000"
	migrate := exec.CommandContext(ctx, h.opts.Bin, "migrate", "sql", "--read-from-env", "--yes")
	migrate.Env = append(os.Environ(), "DSN="+dsn, "LOG_LEVEL=warn")
	if out, err := migrate.CombinedOutput(); err != nil {
		return "", fmt.Errorf("creating hydra's tables in %s: %w: %s", file, err, out)
	}
	return dsn, nil
}

func (h *Hydra) waitReady(ctx context.Context, done <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	url := h.AdminURL() + "/health/ready"
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-done:
			return errors.New("hydra exited before it was ready")
		case <-ctx.Done():
			return fmt.Errorf("hydra not ready at %s: %w", url, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop kills the process and waits for it to exit. An in-memory database is lost with it; a
// file in DatabaseDir is emptied by the next Start.
func (h *Hydra) Stop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cmd == nil {
		return
	}
	_ = syscall.Kill(-h.cmd.Process.Pid, syscall.SIGKILL)
	<-h.done
	h.cmd, h.done = nil, nil
}

// Restart stops Hydra and starts it again on the same ports with an empty database.
func (h *Hydra) Restart(ctx context.Context) error {
	h.Stop()
	return h.Start(ctx)
}

// FreePorts returns n distinct free TCP ports on 127.0.0.1.
func FreePorts(n int) ([]int, error) {
	var ports []int
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
