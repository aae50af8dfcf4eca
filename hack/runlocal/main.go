// Command runlocal runs the operator on a throw-away local environment: etcd and
// kube-apiserver (envtest), kube-controller-manager with only its garbage collector and
// namespace controllers, Ory Hydra with an in-memory database, and a login and consent app for
// local use only (internal/loginapp), and a second Hydra, "staging", whose admin API wants a
// bearer token (for the guide's walkthrough of two authorization servers), all on loopback. Hydra listens on its usual ports 4444
// (public, the issuer) and 4445 (admin) and the login app on 3000 when they are free, so the
// URLs a consumer is configured with stay the same across restarts. It installs the CRDs,
// applies config/samples/, streams the operator's log to the terminal, and on Ctrl-C (SIGINT),
// SIGTERM, SIGHUP or SIGQUIT stops everything it started and exits 0. `make run-local` builds and runs it:
//
//	bin/runlocal -manager bin/manager -assets "$(hack/testbins.sh envtest)" -hydra "$(hack/testbins.sh hydra)"
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/oauth2-client-operator/oauth2-client-operator/internal/loginapp"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/testenv"
)

// The ports used when the flags are not given and the port is free: Hydra's own defaults, and
// the port Ory's example login apps use.
const (
	defaultHydraPublicPort = 4444
	defaultHydraAdminPort  = 4445
	defaultLoginPort       = 3000
)

type config struct {
	manager, assets, hydra, controllerManager string
	crds, samples, dir                        string
	syncPeriod                                string
	sampleNamespace                           string
	sampleSecret                              string

	hydraPublicPort, hydraAdminPort, loginPort int
	// explicit holds the names of the flags given on the command line: a port asked for
	// explicitly must be free, a default one falls back to a free port.
	explicit map[string]bool
}

func main() {
	var c config
	flag.StringVar(&c.manager, "manager", "bin/manager", "operator binary (make build writes bin/manager)")
	flag.StringVar(&c.assets, "assets", os.Getenv("KUBEBUILDER_ASSETS"), "folder with etcd, kube-apiserver, kubectl and kube-controller-manager (hack/testbins.sh envtest)")
	flag.StringVar(&c.hydra, "hydra", os.Getenv("HYDRA_BIN"), "hydra binary (hack/testbins.sh hydra)")
	flag.StringVar(&c.controllerManager, "controller-manager", "", "kube-controller-manager binary; empty: the one in -assets")
	flag.StringVar(&c.crds, "crds", "config/crd/bases", "CRD manifests to install")
	flag.StringVar(&c.samples, "samples", "config/samples", "manifests to apply once the operator runs; empty: none")
	flag.StringVar(&c.dir, "dir", ".local", "folder for the kubeconfig, the env file and logs")
	flag.StringVar(&c.syncPeriod, "sync-period", "30s", "the operator's --sync-period")
	flag.StringVar(&c.sampleNamespace, "sample-namespace", "default", "namespace of the sample whose Secret the instructions show")
	flag.StringVar(&c.sampleSecret, "sample-secret", "example-service", "Secret of the client_credentials sample the instructions show")
	flag.IntVar(&c.hydraPublicPort, "hydra-public-port", defaultHydraPublicPort, "Hydra's public port (the issuer URL); 0: any free port. The default falls back to a free port when taken")
	flag.IntVar(&c.hydraAdminPort, "hydra-admin-port", defaultHydraAdminPort, "Hydra's admin port; 0: any free port. The default falls back to a free port when taken")
	flag.IntVar(&c.loginPort, "login-port", defaultLoginPort, "the login app's port; 0: any free port. The default falls back to a free port when taken")
	flag.Parse()
	c.explicit = map[string]bool{}
	flag.Visit(func(f *flag.Flag) { c.explicit[f.Name] = true })
	if c.controllerManager == "" && c.assets != "" {
		c.controllerManager = testenv.ControllerManagerPath(c.assets)
	}
	// envtest logs through controller-runtime's logger; its messages are not needed here.
	ctrllog.SetLogger(logr.Discard())

	restoreTerminal := takeTerminal()
	err := run(c)
	restoreTerminal()
	if err != nil {
		fmt.Fprintln(os.Stderr, "run-local:", err)
		os.Exit(1)
	}
}

func say(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "run-local: "+format+"\n", args...)
}

// check refuses missing inputs before anything is started.
func (c config) check() error {
	for name, path := range map[string]string{"-manager": c.manager, "-hydra": c.hydra, "-assets": c.assets, "-controller-manager": c.controllerManager} {
		if path == "" {
			return fmt.Errorf("%s is required", name)
		}
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("%s: %w (make run-local builds it)", name, err)
		}
	}
	return nil
}

// listen opens a loopback listener on the port of a flag: 0 means any free port; a port the
// user gave must be free; a default port that is taken falls back to a free one, with a note.
func (c config) listen(flagName string, port int) (net.Listener, error) {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err == nil || port == 0 {
		return l, err
	}
	if c.explicit[flagName] {
		return nil, fmt.Errorf("-%s=%d: %w", flagName, port, err)
	}
	l, err2 := net.Listen("tcp", "127.0.0.1:0")
	if err2 != nil {
		return nil, err2
	}
	say("port %d is taken (%v); using %d instead. Its URL changes on every start until it is free (or choose one with -%s)",
		port, err, l.Addr().(*net.TCPAddr).Port, flagName)
	return l, nil
}

// freePort is listen for a port another process will bind: the listener only reserves it.
func (c config) freePort(flagName string, port int) (int, error) {
	l, err := c.listen(flagName, port)
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func run(c config) error {
	// Ctrl-\ (SIGQUIT) too: its default, a goroutine dump and exit 2, would leave etcd and
	// kube-apiserver running (they are not killed with their parent).
	ctx, stopSignals := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	defer stopSignals()

	if err := c.check(); err != nil {
		return err
	}
	dir, err := filepath.Abs(c.dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	e := &localEnv{c: c, dir: dir, kubeconfig: filepath.Join(dir, "kubeconfig"), envFile: filepath.Join(dir, "env")}
	defer e.stop()
	for _, step := range []func(context.Context) error{e.reservePorts, e.startCluster, e.startHydra, e.startStaging, e.writeEnvFile, e.startOperator} {
		if err := step(ctx); err != nil {
			if ctx.Err() != nil {
				return nil // interrupted while starting: not a failure
			}
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
	}
	printInstructions(c, e.kubeconfig, e.envFile, e.issuer, e.hydra.AdminURL(), e.loginURL)
	return e.wait(ctx)
}

// localEnv is what run starts, step by step, and stops in reverse order.
type localEnv struct {
	c                           config
	dir, kubeconfig, envFile    string
	cleanups                    []func()
	loginListener               net.Listener
	loginURL, issuer            string
	publicPort, adminPort       int
	cp                          *testenv.ControlPlane
	kcm                         *testenv.ControllerManager
	hydra                       *testenv.Hydra
	staging                     *testenv.Hydra
	stagingAdminURL             string
	stagingToken                string
	op                          *testenv.Operator
	loginDone                   chan error
	kcmLogPath, operatorLogPath string
}

// stop stops everything started, in reverse order, and removes the files that describe the
// running environment: they would point at ports that no longer answer.
func (e *localEnv) stop() {
	say("stopping")
	for i := len(e.cleanups) - 1; i >= 0; i-- {
		e.cleanups[i]()
	}
	_ = os.Remove(e.kubeconfig)
	_ = os.Remove(e.envFile)
	say("stopped")
}

func (e *localEnv) logFile(name string) (*os.File, error) {
	f, err := os.Create(filepath.Join(e.dir, name))
	if err == nil {
		e.cleanups = append(e.cleanups, func() { _ = f.Close() })
	}
	return f, err
}

// reservePorts comes first: a port asked for that is taken fails before anything starts.
func (e *localEnv) reservePorts(context.Context) error {
	var err error
	if e.loginListener, err = e.c.listen("login-port", e.c.loginPort); err != nil {
		return err
	}
	l := e.loginListener
	e.cleanups = append(e.cleanups, func() { _ = l.Close() })
	e.loginURL = "http://" + l.Addr().String()
	if e.publicPort, err = e.c.freePort("hydra-public-port", e.c.hydraPublicPort); err != nil {
		return err
	}
	if e.adminPort, err = e.c.freePort("hydra-admin-port", e.c.hydraAdminPort); err != nil {
		return err
	}
	if e.publicPort == e.adminPort {
		return fmt.Errorf("-hydra-public-port and -hydra-admin-port are both %d", e.publicPort)
	}
	return nil
}

// startCluster starts etcd, kube-apiserver and kube-controller-manager.
func (e *localEnv) startCluster(context.Context) error {
	say("starting etcd and kube-apiserver")
	cpLog, err := e.logFile("controlplane.log")
	if err != nil {
		return err
	}
	if e.cp, err = testenv.StartControlPlane(testenv.ControlPlaneOptions{
		AssetsDir: e.c.assets, CRDDir: e.c.crds, KubeconfigPath: e.kubeconfig, Log: cpLog,
	}); err != nil {
		return err
	}
	cp := e.cp
	e.cleanups = append(e.cleanups, func() {
		if err := cp.Stop(); err != nil {
			say("stopping the control plane: %v", err)
		}
	})

	say("starting kube-controller-manager (%s)", strings.Join(testenv.ControllerManagerControllers, ", "))
	kcmLog, err := e.logFile("controller-manager.log")
	if err != nil {
		return err
	}
	e.kcmLogPath = kcmLog.Name()
	if e.kcm, err = testenv.StartControllerManager(testenv.ControllerManagerOptions{
		Bin: e.c.controllerManager, Kubeconfig: e.kubeconfig, Log: kcmLog,
	}); err != nil {
		return err
	}
	e.cleanups = append(e.cleanups, e.kcm.Stop)
	return nil
}

// startHydra starts Hydra with its login and consent URLs at the login app, then the login app
// (which needs Hydra's admin URL).
func (e *localEnv) startHydra(ctx context.Context) error {
	say("starting Hydra")
	hydraLog, err := e.logFile("hydra.log")
	if err != nil {
		return err
	}
	if e.hydra, err = testenv.StartHydra(ctx, testenv.HydraOptions{
		Bin: e.c.hydra, Log: hydraLog,
		PublicPort: e.publicPort, AdminPort: e.adminPort,
		LoginURL: e.loginURL + "/login", ConsentURL: e.loginURL + "/consent",
	}); err != nil {
		return err
	}
	e.cleanups = append(e.cleanups, e.hydra.Stop)
	if e.issuer, err = discoverIssuer(ctx, e.hydra.PublicURL()); err != nil {
		return err
	}

	say("starting the login app on %s", e.loginURL)
	srv := &http.Server{Handler: loginapp.New(e.hydra.AdminURL()), ReadHeaderTimeout: 10 * time.Second}
	e.loginDone = make(chan error, 1)
	go func(l net.Listener, done chan<- error) { done <- srv.Serve(l) }(e.loginListener, e.loginDone)
	e.cleanups = append(e.cleanups, func() {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	})
	return nil
}

// startOperator starts the operator, applies the samples and waits for the sample's Secret.
func (e *localEnv) startOperator(ctx context.Context) error {
	say("starting the operator (%s); its log follows", e.c.manager)
	opLog, err := e.logFile("operator.log")
	if err != nil {
		return err
	}
	e.operatorLogPath = opLog.Name()
	if e.op, err = testenv.StartOperator(ctx, testenv.OperatorOptions{
		Bin:            e.c.manager,
		Kubeconfig:     e.kubeconfig,
		HydraAdminURL:  e.hydra.AdminURL(),
		HydraPublicURL: e.hydra.PublicURL(),
		// Console logs instead of JSON, at the default level: what an operator in a cluster logs.
		Args: []string{"--zap-encoder=console", "--zap-time-encoding=iso8601", "--sync-period=" + e.c.syncPeriod},
		Log:  io.MultiWriter(os.Stderr, opLog),
	}); err != nil {
		return err
	}
	e.cleanups = append(e.cleanups, e.op.Stop)

	if e.c.samples == "" {
		return nil
	}
	out, err := e.cp.Kubectl(ctx, "apply", "-f", e.c.samples)
	if err != nil {
		return fmt.Errorf("applying the samples: %w", err)
	}
	fmt.Fprint(os.Stderr, indent(string(out)))
	waitForSecret(ctx, e.cp, e.c.sampleNamespace, e.c.sampleSecret)
	return nil
}

// wait returns nil on a signal, and an error when a process it started ends by itself.
func (e *localEnv) wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		fmt.Fprintln(os.Stderr)
		return nil
	case <-e.op.Done():
		return fmt.Errorf("the operator exited: %w (its log is in %s)", e.op.ExitErr(), e.operatorLogPath)
	case <-e.kcm.Done():
		return fmt.Errorf("kube-controller-manager exited: %w (its log is in %s)", e.kcm.ExitErr(), e.kcmLogPath)
	case err := <-e.loginDone:
		return fmt.Errorf("the login app stopped: %w", err)
	}
}

// discoverIssuer reads the issuer from Hydra's OpenID Connect discovery document: the exact
// string consumers compare with the iss claim.
func discoverIssuer(ctx context.Context, publicURL string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, publicURL+"/.well-known/openid-configuration", nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("reading Hydra's discovery document: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	var doc struct {
		Issuer string `json:"issuer"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || doc.Issuer == "" {
		return "", errors.Join(fmt.Errorf("hydra's discovery document has no issuer (status %d)", resp.StatusCode), err)
	}
	return doc.Issuer, nil
}

// waitForSecret waits up to a minute for the sample's Secret, so the instructions are printed
// once they work; it only reports when the Secret does not appear.
func waitForSecret(ctx context.Context, cp *testenv.ControlPlane, ns, name string) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	ticker := time.NewTicker(250 * time.Millisecond)
	defer ticker.Stop()
	for {
		if _, err := cp.Kubectl(ctx, "get", "secret", "-n", ns, name); err == nil {
			return
		}
		select {
		case <-ctx.Done():
			if !errors.Is(ctx.Err(), context.Canceled) {
				say("the Secret %s/%s did not appear within a minute; see the operator's log above", ns, name)
			}
			return
		case <-ticker.C:
		}
	}
}

func printInstructions(c config, kubeconfig, envFile, issuer, adminURL, loginURL string) {
	rel := envFile
	if wd, err := os.Getwd(); err == nil {
		if r, err := filepath.Rel(wd, envFile); err == nil && !strings.HasPrefix(r, "..") {
			rel = r
		}
	}
	secret := fmt.Sprintf("kubectl get secret -n %s %s", c.sampleNamespace, c.sampleSecret)
	fmt.Fprintf(os.Stderr, `
================================================================================
The operator runs against a local kube-apiserver and Hydra.

  Issuer (Hydra public): %[5]s
  Hydra admin API:       %[6]s
  Login app:             %[7]s   (LOCAL USE ONLY: one button signs in "%[8]s")

In another terminal:

  source %[1]s      # KUBECONFIG=%[2]s, HYDRA_ADMIN_URL, HYDRA_PUBLIC_URL,
                         # ISSUER, LOGIN_APP_URL, STAGING_* (a second Hydra, for the
                         # user guide's "Two authorization servers"), kubectl on PATH
  kubectl get oauth2clients -A
  %[3]s -o jsonpath='{.data.client_id}' | base64 -d; echo

A token for the sample service (client_credentials, HTTP Basic):

  curl -s -u "$(%[3]s -o jsonpath='{.data.client_id}' | base64 -d):$(%[3]s -o jsonpath='{.data.client_secret}' | base64 -d)" \
    -d grant_type=client_credentials -d scope=read "$HYDRA_PUBLIC_URL/oauth2/token"

A browser login: an authorization_code client sends the browser to $ISSUER/oauth2/auth,
Hydra to the login app, and its button back to the client's redirect URI.

Logs: %[4]s/{operator,hydra,controlplane,controller-manager}.log. Ctrl-C stops everything.
================================================================================
`, rel, kubeconfig, secret, filepath.Dir(envFile), issuer, adminURL, loginURL, loginapp.DefaultSubject)
}

func indent(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString("  " + line + "\n")
	}
	return b.String()
}

// shellQuote quotes s for a POSIX shell when it contains anything but safe characters.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+=:,@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
