// Command runlocal runs the operator on a throw-away local environment: etcd and
// kube-apiserver (envtest) and Ory Hydra with an in-memory database, all on free loopback
// ports. It installs the CRDs, applies config/samples/, streams the operator's log to the
// terminal and stops everything on Ctrl-C. `make run-local` runs it:
//
//	go run ./hack/runlocal -manager bin/manager -assets "$(hack/testbins.sh envtest)" -hydra "$(hack/testbins.sh hydra)"
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/oauth2-client-operator/oauth2-client-operator/internal/testenv"
)

type config struct {
	manager, assets, hydra string
	crds, samples, dir     string
	syncPeriod             string
	sampleNamespace        string
	sampleSecret           string
}

func main() {
	var c config
	flag.StringVar(&c.manager, "manager", "bin/manager", "operator binary (make build writes bin/manager)")
	flag.StringVar(&c.assets, "assets", os.Getenv("KUBEBUILDER_ASSETS"), "folder with etcd, kube-apiserver and kubectl (hack/testbins.sh envtest)")
	flag.StringVar(&c.hydra, "hydra", os.Getenv("HYDRA_BIN"), "hydra binary (hack/testbins.sh hydra)")
	flag.StringVar(&c.crds, "crds", "config/crd/bases", "CRD manifests to install")
	flag.StringVar(&c.samples, "samples", "config/samples", "manifests to apply once the operator runs; empty: none")
	flag.StringVar(&c.dir, "dir", ".local", "folder for the kubeconfig, the env file and logs")
	flag.StringVar(&c.syncPeriod, "sync-period", "30s", "the operator's --sync-period")
	flag.StringVar(&c.sampleNamespace, "sample-namespace", "default", "namespace of the sample whose Secret the instructions show")
	flag.StringVar(&c.sampleSecret, "sample-secret", "example-service", "Secret of the client_credentials sample the instructions show")
	flag.Parse()
	// envtest logs through controller-runtime's logger; its messages are not needed here.
	ctrllog.SetLogger(logr.Discard())

	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "run-local:", err)
		os.Exit(1)
	}
}

func say(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "run-local: "+format+"\n", args...)
}

// check refuses missing inputs before anything is started.
func (c config) check() error {
	for name, path := range map[string]string{"-manager": c.manager, "-hydra": c.hydra, "-assets": c.assets} {
		if path == "" {
			return fmt.Errorf("%s is required", name)
		}
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("%s: %w (make run-local builds it)", name, err)
		}
	}
	return nil
}

func run(c config) (err error) {
	ctx, stopSignals := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
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

	say("starting etcd and kube-apiserver")
	cpLog, err := os.Create(filepath.Join(dir, "controlplane.log"))
	if err != nil {
		return err
	}
	cleanups = append(cleanups, func() { _ = cpLog.Close() })
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

	say("starting Hydra")
	hydraLog, err := os.Create(filepath.Join(dir, "hydra.log"))
	if err != nil {
		return err
	}
	cleanups = append(cleanups, func() { _ = hydraLog.Close() })
	hydra, err := testenv.StartHydra(ctx, testenv.HydraOptions{Bin: c.hydra, Log: hydraLog})
	if err != nil {
		return err
	}
	cleanups = append(cleanups, hydra.Stop)

	kubectlDir := filepath.Dir(cp.KubectlPath)
	envText := fmt.Sprintf("export KUBECONFIG=%s\nexport HYDRA_ADMIN_URL=%s\nexport HYDRA_PUBLIC_URL=%s\nexport PATH=%s:$PATH\n",
		shellQuote(kubeconfig), hydra.AdminURL(), hydra.PublicURL(), shellQuote(kubectlDir))
	if err := os.WriteFile(envFile, []byte(envText), 0o644); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return nil
	}

	say("starting the operator (%s); its log follows", c.manager)
	opLog, err := os.Create(filepath.Join(dir, "operator.log"))
	if err != nil {
		return err
	}
	cleanups = append(cleanups, func() { _ = opLog.Close() })
	op, err := testenv.StartOperator(ctx, testenv.OperatorOptions{
		Bin:            c.manager,
		Kubeconfig:     kubeconfig,
		HydraAdminURL:  hydra.AdminURL(),
		HydraPublicURL: hydra.PublicURL(),
		// Human-readable console logs instead of JSON.
		Args: []string{"--zap-devel", "--sync-period=" + c.syncPeriod},
		Log:  io.MultiWriter(os.Stderr, opLog),
	})
	if err != nil {
		return err
	}
	cleanups = append(cleanups, op.Stop)

	if c.samples != "" {
		out, err := cp.Kubectl(ctx, "apply", "-f", c.samples)
		if err != nil {
			return fmt.Errorf("applying the samples: %w", err)
		}
		fmt.Fprint(os.Stderr, indent(string(out)))
		waitForSecret(ctx, cp, c.sampleNamespace, c.sampleSecret)
	}
	printInstructions(c, kubeconfig, envFile)

	select {
	case <-ctx.Done():
		fmt.Fprintln(os.Stderr)
		return nil
	case <-op.Done():
		return fmt.Errorf("the operator exited: %w (its log is in %s)", op.ExitErr(), opLog.Name())
	}
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

func printInstructions(c config, kubeconfig, envFile string) {
	rel := envFile
	if wd, err := os.Getwd(); err == nil {
		if r, err := filepath.Rel(wd, envFile); err == nil && !strings.HasPrefix(r, "..") {
			rel = r
		}
	}
	secret := fmt.Sprintf("kubectl get secret -n %s %s", c.sampleNamespace, c.sampleSecret)
	fmt.Fprintf(os.Stderr, `
================================================================================
The operator runs against a local kube-apiserver and Hydra. In another terminal:

  source %[1]s      # KUBECONFIG=%[2]s, HYDRA_ADMIN_URL, HYDRA_PUBLIC_URL, kubectl on PATH

  kubectl get oauth2clients -A
  %[3]s -o jsonpath='{.data.client_id}' | base64 -d; echo

A token for the sample service (client_credentials, HTTP Basic):

  curl -s -u "$(%[3]s -o jsonpath='{.data.client_id}' | base64 -d):$(%[3]s -o jsonpath='{.data.client_secret}' | base64 -d)" \
    -d grant_type=client_credentials -d scope=read "$HYDRA_PUBLIC_URL/oauth2/token"

Logs: %[4]s/{operator,hydra,controlplane}.log. Ctrl-C stops everything.
================================================================================
`, rel, kubeconfig, secret, filepath.Dir(envFile))
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
