//go:build fault

package fault

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/oauth2-client-operator/oauth2-client-operator/internal/testenv"
)

// Settings that can be overridden from the environment.
var (
	// hydraOutage is how long Hydra stays down in TestHydraOutageMidCreate
	// (FAULT_HYDRA_OUTAGE, a Go duration; default a minute).
	hydraOutage = envDuration("FAULT_HYDRA_OUTAGE", 60*time.Second)
	// keepLogs keeps every test's log folder (FAULT_KEEP_LOGS=1); otherwise the logs are only
	// printed, in part, when a test fails.
	keepLogs = os.Getenv("FAULT_KEEP_LOGS") != ""
)

// The package-wide state set up by TestMain.
var (
	moduleRoot  string
	managerBin  string // the operator binary, built once from ./cmd
	assetsDir   string // KUBEBUILDER_ASSETS: etcd, kube-apiserver, kubectl
	crdDir      string
	hydraBinary string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	assetsDir, hydraBinary = os.Getenv("KUBEBUILDER_ASSETS"), os.Getenv("HYDRA_BIN")
	if assetsDir == "" || hydraBinary == "" {
		fmt.Fprintln(os.Stderr, "fault tests need KUBEBUILDER_ASSETS (hack/testbins.sh envtest) and HYDRA_BIN (hack/testbins.sh hydra): run them with `make test-fault`")
		return 1
	}
	// envtest logs through controller-runtime's logger; not needed here.
	ctrllog.SetLogger(logr.Discard())

	var err error
	if moduleRoot, err = testenv.ModuleRoot(); err != nil {
		fmt.Fprintln(os.Stderr, "fault:", err)
		return 1
	}
	crdDir = filepath.Join(moduleRoot, "config", "crd", "bases")
	work, err := os.MkdirTemp("", "oauth2-fault-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "fault:", err)
		return 1
	}
	defer func() { _ = os.RemoveAll(work) }()

	// The operator binary, built once the way `make build` does; FAULT_MANAGER_BIN reuses one.
	if managerBin = os.Getenv("FAULT_MANAGER_BIN"); managerBin == "" {
		managerBin = filepath.Join(work, "manager")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		err := testenv.BuildOperator(ctx, moduleRoot, managerBin, os.Stderr)
		cancel()
		if err != nil {
			fmt.Fprintln(os.Stderr, "fault: building the operator:", err)
			return 1
		}
	}
	return m.Run()
}

func envDuration(name string, fallback time.Duration) time.Duration {
	if v := os.Getenv(name); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			panic(fmt.Sprintf("%s=%q: %v", name, v, err))
		}
		return d
	}
	return fallback
}

func envInt64(name string, fallback int64) int64 {
	if v := os.Getenv(name); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			panic(fmt.Sprintf("%s=%q: %v", name, v, err))
		}
		return n
	}
	return fallback
}
