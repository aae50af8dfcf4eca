package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/testenv"
)

// bench holds the processes of one run and its results.
type bench struct {
	cfg     config
	outPath string
	logDir  string
	opBin   string

	cp      *testenv.ControlPlane
	hydra   *testenv.Hydra
	proxy   *countingProxy
	op      *testenv.Operator
	opLog   *os.File
	logs    []io.Closer
	metrics string // the running operator's metrics URL
	pprof   string // the running operator's /debug/pprof/ URL

	scheme        *runtime.Scheme
	k8s           client.Client
	tracker       *tracker
	stopTracker   context.CancelFunc
	hydraDirect   *hydraAdmin // straight to Hydra: the harness's checks, never counted
	hydraViaProxy *hydraAdmin // through the proxy, counted apart: the raw path

	res Results
}

// newBench starts the control plane, Hydra, the proxy and the harness's watch. It returns the
// bench also on error, so that the caller can stop what was started.
func newBench(ctx context.Context, cfg config) (*bench, error) {
	root, err := testenv.ModuleRoot()
	if err != nil {
		return nil, err
	}
	b := &bench{cfg: cfg, outPath: cfg.out, logDir: cfg.logDir}
	if b.outPath == "" {
		b.outPath = filepath.Join(root, "test", "bench", "results", "bench-"+strconv.Itoa(cfg.n)+".json")
	}
	if b.logDir == "" {
		b.logDir = filepath.Join(root, "test", "bench", "results", "bench-"+strconv.Itoa(cfg.n)+"-logs")
	}
	b.res = Results{N: cfg.n, Date: time.Now().UTC().Format(time.RFC3339), Machine: describeMachine()}
	b.res.Versions.HarnessGo = runtimeVersion()
	if err := os.MkdirAll(b.logDir, 0o755); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(b.outPath), 0o755); err != nil {
		return nil, err
	}
	logf("N=%d; logs in %s", cfg.n, b.logDir)

	if err := b.prepareOperatorBinary(ctx, root); err != nil {
		return b, err
	}

	cpLog, err := openLog(b.logDir, "controlplane.log")
	if err != nil {
		return b, err
	}
	b.logs = append(b.logs, cpLog)
	logf("starting etcd and kube-apiserver")
	b.cp, err = testenv.StartControlPlane(testenv.ControlPlaneOptions{CRDDir: filepath.Join(root, "config", "crd", "bases"), Log: cpLog, Profiling: true})
	if err != nil {
		return b, err
	}

	b.scheme = runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(b.scheme); err != nil {
		return b, err
	}
	if err := v1alpha1.AddToScheme(b.scheme); err != nil {
		return b, err
	}
	restCfg := rest.CopyConfig(b.cp.Config)
	restCfg.QPS, restCfg.Burst = -1, 0 // the harness is not rate-limited on the client side
	restCfg.UserAgent = harnessUserAgent
	if b.k8s, err = client.New(restCfg, client.Options{Scheme: b.scheme}); err != nil {
		return b, err
	}
	if err := b.prepareCluster(ctx, root, restCfg); err != nil {
		return b, err
	}

	hydraLog, err := openLog(b.logDir, "hydra.log")
	if err != nil {
		return b, err
	}
	b.logs = append(b.logs, hydraLog)
	logf("starting Hydra (memory database, default PBKDF2 hashing)")
	if b.hydra, err = testenv.StartHydra(ctx, testenv.HydraOptions{Log: hydraLog}); err != nil {
		return b, err
	}
	b.res.Versions.Hydra = hydraVersion(ctx, os.Getenv("HYDRA_BIN"))
	if b.proxy, err = startProxy(b.hydra.AdminURL()); err != nil {
		return b, err
	}
	conns := 2 * max(cfg.rawWorkers, cfg.createWorkers)
	b.hydraDirect = newHydraAdmin(b.hydra.AdminURL(), conns)
	b.hydraViaProxy = newHydraAdmin(b.proxy.URL(), conns)

	if b.opLog, err = os.OpenFile(filepath.Join(b.logDir, "operator.log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644); err != nil {
		return b, err
	}
	b.logs = append(b.logs, b.opLog)

	b.tracker = newTracker()
	trackerCtx, cancel := context.WithCancel(context.Background())
	b.stopTracker = cancel
	if err := b.tracker.start(trackerCtx, restCfg, b.scheme); err != nil {
		return b, err
	}
	return b, nil
}

// close stops everything the bench started, in reverse order. It is safe after a failed start.
func (b *bench) close() {
	if b.op != nil {
		b.op.Stop()
		b.op = nil
	}
	if b.stopTracker != nil {
		b.stopTracker()
	}
	if b.proxy != nil {
		if err := b.proxy.Close(); err != nil {
			logf("%v", err)
		}
	}
	if b.hydra != nil {
		b.hydra.Stop()
	}
	if b.cp != nil {
		if err := b.cp.Stop(); err != nil {
			logf("stopping the control plane: %v", err)
		}
	}
	for _, l := range b.logs {
		_ = l.Close()
	}
	logf("stopped every process the harness started")
}

// startOperator starts the operator binary against the proxy, with its metrics endpoint on a
// free loopback port. A syncPeriod is passed as --sync-period and as --drift-interval, so that
// the phases measured before --drift-interval existed scan as they did; 0 passes neither (the
// operator's defaults).
func (b *bench) startOperator(ctx context.Context, syncPeriod time.Duration, label string) (*OperatorRun, error) {
	ports, err := testenv.FreePorts(2)
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(ports[0])
	b.pprof = "http://127.0.0.1:" + strconv.Itoa(ports[1]) + "/debug/pprof/"
	args := []string{"--metrics-bind-address=" + addr, "--pprof-bind-address=127.0.0.1:" + strconv.Itoa(ports[1])}
	if syncPeriod > 0 {
		args = append(args, "--sync-period="+syncPeriod.String(), "--drift-interval="+syncPeriod.String())
	}
	args = append(args, splitArgs(b.cfg.operatorArgs)...)
	fmt.Fprintf(b.opLog, "\n===== bench: %s: starting the operator with %v =====\n", label, args)
	run := &OperatorRun{Phase: label, Args: args}
	start := time.Now()
	op, err := testenv.StartOperator(ctx, testenv.OperatorOptions{
		Bin:            b.opBin,
		Kubeconfig:     b.cp.KubeconfigPath,
		HydraAdminURL:  b.proxy.URL(),
		HydraPublicURL: b.hydra.PublicURL(),
		Args:           args,
		Log:            b.opLog,
		ReadyTimeout:   2 * time.Minute,
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w (log: %s)", label, err, b.opLog.Name())
	}
	b.op, b.metrics = op, "http://"+addr+"/metrics"
	run.ReadySeconds = time.Since(start).Seconds()
	// /readyz can answer before the metrics server listens: the two start side by side.
	if err := b.waitUntil(ctx, label+": metrics", 30*time.Second, pollInterval, func() string { return b.metrics }, func() (bool, error) {
		_, err := scrapeMetrics(ctx, b.metrics)
		return err == nil, nil
	}); err != nil {
		return nil, err
	}
	logf("%s: operator pid %d ready after %.1fs (%v)", label, op.Pid(), run.ReadySeconds, args)
	return run, nil
}

// stopOperator sends SIGTERM and waits for the exit.
func (b *bench) stopOperator(label string) (seconds float64, err error) {
	if b.op == nil {
		return 0, nil
	}
	start := time.Now()
	fmt.Fprintf(b.opLog, "\n===== bench: %s: stopping the operator (SIGTERM) =====\n", label)
	b.op.Stop()
	err = b.op.ExitErr()
	b.op = nil
	return time.Since(start).Seconds(), err
}

// prepareOperatorBinary builds the operator unless one was given, and records its versions.
func (b *bench) prepareOperatorBinary(ctx context.Context, root string) error {
	b.opBin = b.cfg.operatorBin
	if b.opBin == "" {
		b.opBin = filepath.Join(b.logDir, "manager")
		logf("building the operator into %s", b.opBin)
		if err := testenv.BuildOperator(ctx, root, b.opBin, os.Stderr); err != nil {
			return err
		}
	}
	abs, err := filepath.Abs(b.opBin)
	if err != nil {
		return err
	}
	b.opBin = abs
	if _, err := os.Stat(b.opBin); err != nil {
		return fmt.Errorf("operator binary (make build writes bin/manager): %w", err)
	}
	binaryVersions(b.opBin, &b.res.Versions)
	if b.res.Versions.OperatorRevision == "" { // built with -buildvcs=false
		b.res.Versions.OperatorRevision = gitRevision(ctx, root)
	}
	return nil
}

// operatorAlive fails when the operator process has exited.
func (b *bench) operatorAlive() error {
	if b.op == nil {
		return nil
	}
	select {
	case <-b.op.Done():
		return fmt.Errorf("the operator exited: %w (log: %s)", b.op.ExitErr(), b.opLog.Name())
	default:
		return nil
	}
}

// apiRequests scrapes the operator's client-go request counters.
func (b *bench) apiRequests(ctx context.Context) (APIRequests, error) {
	m, err := scrapeMetrics(ctx, b.metrics)
	if err != nil {
		return nil, err
	}
	return apiRequests(m), nil
}

// ---- waiting and working in parallel --------------------------------------------------------

// waitUntil polls cond every interval until it is true, fails after timeout, and reports
// progress every 10 seconds. It stops early when ctx ends or the operator exits.
func (b *bench) waitUntil(ctx context.Context, what string, timeout, interval time.Duration, status func() string, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	lastReport := time.Now()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		ok, err := cond()
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if ok {
			return nil
		}
		if err := b.operatorAlive(); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not within %s: %s", what, timeout, status())
		}
		if time.Since(lastReport) >= 10*time.Second {
			logf("%s: %s", what, status())
			lastReport = time.Now()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", what, ctx.Err())
		case <-ticker.C:
		}
	}
}

// parallel calls fn for 0..n-1 on workers goroutines and stops at the first error.
func parallel(ctx context.Context, workers, n int, fn func(ctx context.Context, i int) error) error {
	inner, cancel := context.WithCancel(ctx)
	defer cancel()
	indexes := make(chan int)
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range indexes {
				if err := fn(inner, i); err != nil {
					once.Do(func() { firstErr = err; cancel() })
				}
			}
		}()
	}
feed:
	for i := range n {
		select {
		case indexes <- i:
		case <-inner.Done():
			break feed
		}
	}
	close(indexes)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// retry calls fn up to attempts times while it fails with an error worth retrying (a
// timeout, overload, a 5xx, Hydra's transient "concurrent update"), with a growing pause.
func retry(ctx context.Context, attempts int, fn func() error) error {
	var err error
	for a := range attempts {
		if err = fn(); err == nil || !retryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(time.Duration(50<<a) * time.Millisecond):
		}
	}
	return err
}

func retryable(err error) bool {
	switch {
	case apierrors.IsAlreadyExists(err), apierrors.IsNotFound(err), apierrors.IsInvalid(err),
		apierrors.IsForbidden(err), apierrors.IsUnauthorized(err), apierrors.IsBadRequest(err),
		errors.Is(err, context.Canceled):
		return false
	}
	return true
}

// installManifests creates the objects of a multi-document YAML file.
func installManifests(ctx context.Context, c client.Client, path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
	for {
		obj := &unstructured.Unstructured{}
		if err := dec.Decode(&obj.Object); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
		if len(obj.Object) == 0 {
			continue
		}
		if err := c.Create(ctx, obj); err != nil {
			return err
		}
	}
}

// prepareCluster installs what the install bundle adds besides the CRDs (the finalizer policy,
// unless -finalizer-policy=false) and records the API server's version.
func (b *bench) prepareCluster(ctx context.Context, root string, restCfg *rest.Config) error {
	if b.cfg.finalizerPolicy {
		if err := installManifests(ctx, b.k8s, filepath.Join(root, "config", "admission", "finalizer_policy.yaml")); err != nil {
			return fmt.Errorf("installing the finalizer policy: %w", err)
		}
		logf("installed config/admission's finalizer policy")
	}
	if dc, err := discovery.NewDiscoveryClientForConfig(restCfg); err == nil {
		if v, err := dc.ServerVersion(); err == nil {
			b.res.Versions.Kubernetes = v.GitVersion
		}
	}
	return nil
}
