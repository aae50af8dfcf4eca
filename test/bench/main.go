// Command bench is the scale benchmark of the oauth2-client-operator (`make bench`).
//
// It starts a real etcd and kube-apiserver (envtest) and a real Ory Hydra with production
// settings (memory database, default PBKDF2 hashing) behind a counting reverse proxy, runs the
// operator binary as a separate process against them, and measures for N OAuth2Clients:
// converging, the raw path (the same Hydra and Secret work done directly, for comparison),
// Hydra requests per client, an idle window with periodic resyncs, an update of every spec,
// a restart with nothing to do, the idle cost of the default flags, resident memory with and without 20,000 unrelated Secrets,
// and deleting everything. It prints a markdown table and writes the figures as JSON.
// docs/performance.md explains every figure and the targets.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// config holds the flags.
type config struct {
	operatorBin       string
	n                 int
	out               string
	namespaces        int
	createWorkers     int
	rawWorkers        int
	syncPeriod        time.Duration
	restartSyncPeriod time.Duration
	idleWindow        time.Duration
	defaultIdleWindow time.Duration
	quiet             time.Duration
	unrelatedSecrets  int
	unrelatedNS       int
	unrelatedBytes    int
	phaseTimeout      time.Duration
	operatorArgs      string
	logDir            string
	skipRaw           bool
	finalizerPolicy   bool
}

func parseFlags() config {
	var c config
	flag.StringVar(&c.operatorBin, "operator", "", "operator binary (bin/manager); empty: build ./cmd into the log folder")
	flag.IntVar(&c.n, "n", 1000, "number of OAuth2Clients")
	flag.StringVar(&c.out, "out", "", "JSON output file; default test/bench/results/bench-<n>.json in the module")
	flag.IntVar(&c.namespaces, "namespaces", 10, "namespaces the N clients are spread across")
	flag.IntVar(&c.createWorkers, "create-workers", 8, "goroutines creating, patching and deleting the OAuth2Clients")
	flag.IntVar(&c.rawWorkers, "raw-workers", 0, "goroutines of the raw path; 0 means the operator's --max-concurrent-reconciles (from -operator-args, else its default 4)")
	flag.DurationVar(&c.syncPeriod, "sync-period", 20*time.Second, "operator --sync-period and --drift-interval during converge, idle and update")
	flag.DurationVar(&c.restartSyncPeriod, "restart-sync-period", 10*time.Minute, "operator --sync-period and --drift-interval after the restarts (long, so no periodic scan falls into the restart window)")
	flag.DurationVar(&c.idleWindow, "idle-window", 0, "idle window; 0 means 1.5 x -sync-period")
	flag.DurationVar(&c.defaultIdleWindow, "default-idle-window", 2*time.Minute, "idle window of the operator with default flags (its drift scan runs every 30s); 0 skips that phase")
	flag.DurationVar(&c.quiet, "quiet", 5*time.Second, "a restarted operator is idle after this long without Hydra requests, API requests or reconciles")
	flag.IntVar(&c.unrelatedSecrets, "unrelated-secrets", 20000, "unrelated Secrets created before the second restart")
	flag.IntVar(&c.unrelatedNS, "unrelated-namespaces", 20, "namespaces the unrelated Secrets are spread across")
	flag.IntVar(&c.unrelatedBytes, "unrelated-secret-bytes", 1024, "data size of each unrelated Secret")
	flag.DurationVar(&c.phaseTimeout, "phase-timeout", 0, "deadline of each waiting phase; 0 means 3m + 100ms per client")
	flag.StringVar(&c.operatorArgs, "operator-args", "", "extra operator flags, space-separated (such as --kube-api-qps=200)")
	flag.StringVar(&c.logDir, "log-dir", "", "folder for the logs of the operator, Hydra and the control plane; default test/bench/results/bench-<n>-logs")
	flag.BoolVar(&c.skipRaw, "skip-raw", false, "skip the raw path (development only)")
	flag.BoolVar(&c.finalizerPolicy, "finalizer-policy", true, "install config/admission's MutatingAdmissionPolicy, which adds the finalizer at creation, as config/default and the chart do")
	flag.Parse()
	if c.rawWorkers == 0 {
		c.rawWorkers = reconcileWorkers(c.operatorArgs)
	}
	if c.idleWindow == 0 {
		c.idleWindow = c.syncPeriod * 3 / 2
	}
	if c.phaseTimeout == 0 {
		c.phaseTimeout = 3*time.Minute + time.Duration(c.n)*100*time.Millisecond
	}
	return c
}

func main() {
	cfg := parseFlags()
	if cfg.n < 1 || cfg.namespaces < 1 || cfg.createWorkers < 1 || cfg.rawWorkers < 1 || cfg.unrelatedNS < 1 {
		fmt.Fprintln(os.Stderr, "bench: -n, -namespaces, -create-workers, -raw-workers and -unrelated-namespaces must be at least 1")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		// A second Ctrl-C ends the harness at once; the operator and Hydra die with it
		// (they are started with a parent-death signal).
		stop()
	}()
	// The harness's watch cache logs through controller-runtime; its messages are not wanted.
	ctrllog.SetLogger(logr.Discard())
	err := run(ctx, cfg)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: FAILED:", err)
		os.Exit(1)
	}
}

// logf prints progress to standard error with the time since the start.
var started = time.Now()

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%7.1fs] %s\n", time.Since(started).Seconds(), fmt.Sprintf(format, args...))
}

func run(ctx context.Context, cfg config) (retErr error) {
	b, err := newBench(ctx, cfg)
	if b != nil {
		defer func() {
			b.res.Machine.LoadEnd = loadAvg()
			b.close() // first: stop every process, also when a phase failed or was interrupted
			if retErr != nil {
				b.res.Error = retErr.Error()
			}
			b.evaluateTargets()
			fmt.Println(b.markdown())
			if werr := b.writeJSON(); werr != nil {
				retErr = errors.Join(retErr, werr)
			} else {
				logf("wrote %s", b.outPath)
			}
		}()
	}
	if err != nil {
		return err
	}
	return b.runPhases(ctx)
}

// ceilDiv is ceil(a/b) for positive numbers.
func ceilDiv(a, b int) int { return int(math.Ceil(float64(a) / float64(b))) }

// openLog creates a log file in dir.
func openLog(dir, name string) (io.WriteCloser, error) {
	return os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
}

func splitArgs(s string) []string { return strings.Fields(s) }

// reconcileWorkers is the --max-concurrent-reconciles value in the operator's extra flags, or
// the operator's default, 4.
func reconcileWorkers(args string) int {
	workers := 4
	fields := splitArgs(args)
	for i, a := range fields {
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name != "max-concurrent-reconciles" {
			continue
		}
		if !hasValue && i+1 < len(fields) {
			value = fields[i+1]
		}
		if v, err := strconv.Atoi(value); err == nil && v > 0 {
			workers = v
		}
	}
	return workers
}
