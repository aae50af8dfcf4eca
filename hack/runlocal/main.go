// Command runlocal runs the operator on a throw-away local environment: etcd and
// kube-apiserver (envtest), kube-controller-manager with only its garbage collector and
// namespace controllers, Ory Hydra with an in-memory database, and a login and consent app for
// local use only (internal/loginapp), all on loopback. Hydra listens on its usual ports 4444
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

func run(c config) (err error) {
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
	kubeconfig := filepath.Join(dir, "kubeconfig")
	envFile := filepath.Join(dir, "env")
	// Files that describe the running environment are removed at the end: they would point
	// at ports that no longer answer.
	defer func() {
		_ = os.Remove(kubeconfig)
		_ = os.Remove(envFile)
	}()

	// Everything started is stopped in reverse order, also when a later step fails.
	var cleanups []func()
	defer func() {
		say("stopping")
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
		say("stopped")
	}()
	logFile := func(name string) (*os.File, error) {
		f, err := os.Create(filepath.Join(dir, name))
		if err == nil {
			cleanups = append(cleanups, func() { _ = f.Close() })
		}
		return f, err
	}

	// The ports first: a port asked for that is taken fails before anything starts.
	loginListener, err := c.listen("login-port", c.loginPort)
	if err != nil {
		return err
	}
	cleanups = append(cleanups, func() { _ = loginListener.Close() })
	publicPort, err := c.freePort("hydra-public-port", c.hydraPublicPort)
	if err != nil {
		return err
	}
	adminPort, err := c.freePort("hydra-admin-port", c.hydraAdminPort)
	if err != nil {
		return err
	}
	if publicPort == adminPort {
		return fmt.Errorf("-hydra-public-port and -hydra-admin-port are both %d", publicPort)
	}

	say("starting etcd and kube-apiserver")
	cpLog, err := logFile("controlplane.log")
	if err != nil {
		return err
	}
	cp, err := testenv.StartControlPlane(testenv.ControlPlaneOptions{
		AssetsDir: c.assets, CRDDir: c.crds, KubeconfigPath: kubeconfig, Log: cpLog,
	})
	if err != nil {
		return err
	}
	cleanups = append(cleanups, func() {
		if err := cp.Stop(); err != nil {
			say("stopping the control plane: %v", err)
		}
	})
	if ctx.Err() != nil {
		return nil
	}

	say("starting kube-controller-manager (%s)", strings.Join(testenv.ControllerManagerControllers, ", "))
	kcmLog, err := logFile("controller-manager.log")
	if err != nil {
		return err
	}
	kcm, err := testenv.StartControllerManager(testenv.ControllerManagerOptions{
		Bin: c.controllerManager, Kubeconfig: kubeconfig, Log: kcmLog,
	})
	if err != nil {
		return err
	}
	cleanups = append(cleanups, kcm.Stop)

	loginURL := "http://" + loginListener.Addr().String()
	say("starting Hydra")
	hydraLog, err := logFile("hydra.log")
	if err != nil {
		return err
	}
	hydra, err := testenv.StartHydra(ctx, testenv.HydraOptions{
		Bin: c.hydra, Log: hydraLog,
		PublicPort: publicPort, AdminPort: adminPort,
		LoginURL: loginURL + "/login", ConsentURL: loginURL + "/consent",
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	cleanups = append(cleanups, hydra.Stop)
	issuer, err := discoverIssuer(ctx, hydra.PublicURL())
	if err != nil {
		return err
	}

	say("starting the login app on %s", loginURL)
	loginSrv := &http.Server{Handler: loginapp.New(hydra.AdminURL()), ReadHeaderTimeout: 10 * time.Second}
	loginDone := make(chan error, 1)
	go func() { loginDone <- loginSrv.Serve(loginListener) }()
	cleanups = append(cleanups, func() {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = loginSrv.Shutdown(shutdownCtx)
	})

	kubectlDir := filepath.Dir(cp.KubectlPath)
	envText := fmt.Sprintf("export KUBECONFIG=%s\nexport HYDRA_ADMIN_URL=%s\nexport HYDRA_PUBLIC_URL=%s\nexport ISSUER=%s\nexport LOGIN_APP_URL=%s\nexport PATH=%s:$PATH\n",
		shellQuote(kubeconfig), hydra.AdminURL(), hydra.PublicURL(), shellQuote(issuer), loginURL, shellQuote(kubectlDir))
	if err := os.WriteFile(envFile, []byte(envText), 0o644); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return nil
	}

	say("starting the operator (%s); its log follows", c.manager)
	opLog, err := logFile("operator.log")
	if err != nil {
		return err
	}
	op, err := testenv.StartOperator(ctx, testenv.OperatorOptions{
		Bin:            c.manager,
		Kubeconfig:     kubeconfig,
		HydraAdminURL:  hydra.AdminURL(),
		HydraPublicURL: hydra.PublicURL(),
		// Console logs instead of JSON, at the default level: what an operator in a cluster logs.
		Args: []string{"--zap-encoder=console", "--zap-time-encoding=iso8601", "--sync-period=" + c.syncPeriod},
		Log:  io.MultiWriter(os.Stderr, opLog),
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	cleanups = append(cleanups, op.Stop)

	if c.samples != "" {
		out, err := cp.Kubectl(ctx, "apply", "-f", c.samples)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("applying the samples: %w", err)
		}
		fmt.Fprint(os.Stderr, indent(string(out)))
		waitForSecret(ctx, cp, c.sampleNamespace, c.sampleSecret)
	}
	printInstructions(c, kubeconfig, envFile, issuer, hydra.AdminURL(), loginURL)

	select {
	case <-ctx.Done():
		fmt.Fprintln(os.Stderr)
		return nil
	case <-op.Done():
		return fmt.Errorf("the operator exited: %w (its log is in %s)", op.ExitErr(), opLog.Name())
	case <-kcm.Done():
		return fmt.Errorf("kube-controller-manager exited: %w (its log is in %s)", kcm.ExitErr(), kcmLog.Name())
	case err := <-loginDone:
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
                         # ISSUER, LOGIN_APP_URL, kubectl on PATH
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
