package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ModuleRoot returns the folder of the go.mod that contains the working directory.
func ModuleRoot() (string, error) {
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
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// BuildOperator builds the operator binary (./cmd of the module in moduleRoot) to out, the
// way `make build` does. Compiler output goes to log.
func BuildOperator(ctx context.Context, moduleRoot, out string, log io.Writer) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd")
	cmd.Dir = moduleRoot
	if log == nil {
		log = io.Discard
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build -o %s ./cmd: %w", out, err)
	}
	return nil
}

// OperatorOptions configures an operator process.
type OperatorOptions struct {
	// Bin is the operator binary (bin/manager).
	Bin string
	// Kubeconfig is passed as --kubeconfig and KUBECONFIG, when set.
	Kubeconfig string
	// HydraAdminURL and HydraPublicURL are passed as --hydra-admin-url and --hydra-public-url,
	// when set. HydraAdminURL may be left empty when Env sets HYDRA_ADMIN_URL instead, as a
	// Deployment's env does.
	HydraAdminURL, HydraPublicURL string
	// LeadingArgs come first, right after the binary, before every flag StartOperator adds: a
	// container's args, run as its image would (TestImageBinaryRunsAsDeployed). The flags
	// after them win, so a test can move the listeners to free loopback ports.
	LeadingArgs []string
	// Args are further flags, such as --sync-period=5s or --zap-devel.
	Args []string
	// Dir is the working directory; empty means the test's.
	Dir string
	// Credential, when set, runs the process as that user and group (the test must run as
	// root): an image's USER.
	Credential *syscall.Credential
	// Env adds environment variables (KEY=VALUE).
	Env []string
	// Log receives the operator's output; nil discards it.
	Log io.Writer
	// ReadyTimeout bounds the wait for /readyz; zero means 60 seconds.
	ReadyTimeout time.Duration
	// Metrics serves the Prometheus endpoint on a free loopback port (see MetricsURL) instead
	// of disabling it, for tests that read what the operator exports.
	Metrics bool
}

// Operator is a running operator process. Its health probes, and its metrics endpoint when
// OperatorOptions.Metrics is set (disabled otherwise), listen on free loopback ports.
type Operator struct {
	opts        OperatorOptions
	probePort   int
	metricsPort int // 0: disabled

	*process
}

// StartOperator starts the operator binary as a separate process and waits until its
// /readyz answers 200.
func StartOperator(ctx context.Context, opts OperatorOptions) (*Operator, error) {
	if opts.Bin == "" {
		return nil, errors.New("no operator binary given")
	}
	if opts.HydraAdminURL == "" && !slices.ContainsFunc(opts.Env, func(e string) bool { return strings.HasPrefix(e, "HYDRA_ADMIN_URL=") }) {
		return nil, errors.New("no Hydra admin URL given")
	}
	ports, err := FreePorts(2)
	if err != nil {
		return nil, err
	}
	o := &Operator{opts: opts, probePort: ports[0]}
	metricsAddr := "0"
	if opts.Metrics {
		o.metricsPort = ports[1]
		metricsAddr = "127.0.0.1:" + strconv.Itoa(o.metricsPort)
	}
	args := append(slices.Clone(opts.LeadingArgs),
		"--metrics-bind-address="+metricsAddr,
		"--health-probe-bind-address=127.0.0.1:"+strconv.Itoa(o.probePort),
	)
	if opts.Kubeconfig != "" {
		args = append(args, "--kubeconfig="+opts.Kubeconfig)
	}
	if opts.HydraAdminURL != "" {
		args = append(args, "--hydra-admin-url="+opts.HydraAdminURL)
	}
	if opts.HydraPublicURL != "" {
		args = append(args, "--hydra-public-url="+opts.HydraPublicURL)
	}
	args = append(args, opts.Args...)
	// Not bound to ctx: the process must outlive the start-up context; Stop ends it.
	cmd := exec.Command(opts.Bin, args...)
	cmd.Dir = opts.Dir
	if opts.Credential != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: opts.Credential}
	}
	cmd.Env = append(os.Environ(), opts.Env...)
	if opts.Kubeconfig != "" {
		cmd.Env = append(cmd.Env, "KUBECONFIG="+opts.Kubeconfig)
	}
	if o.process, err = startProcess(cmd, opts.Log); err != nil {
		return nil, fmt.Errorf("starting the operator: %w", err)
	}
	if err := o.waitReady(ctx); err != nil {
		o.Stop()
		return nil, err
	}
	return o, nil
}

func (o *Operator) waitReady(ctx context.Context) error {
	timeout := o.opts.ReadyTimeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	url := fmt.Sprintf("http://127.0.0.1:%d/readyz", o.probePort)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-o.done:
			return fmt.Errorf("the operator exited before it was ready: %w", o.ExitErr())
		case <-ctx.Done():
			return fmt.Errorf("the operator is not ready at %s: %w", url, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// MetricsURL is the operator's /metrics URL, or "" when OperatorOptions.Metrics was not set.
func (o *Operator) MetricsURL() string {
	if o.metricsPort == 0 {
		return ""
	}
	return fmt.Sprintf("http://127.0.0.1:%d/metrics", o.metricsPort)
}

// Stop sends SIGTERM, which the operator handles by shutting down cleanly, and SIGKILL to the
// process group if it has not exited within 15 seconds. It waits for the exit.
func (o *Operator) Stop() { o.stop(15 * time.Second) }
