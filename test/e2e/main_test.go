//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/oauth2-client-operator/oauth2-client-operator/internal/testenv"
)

// syncPeriod is the operator's --sync-period here: short, so that a Hydra that lost its
// database is repaired within seconds.
const syncPeriod = "5s"

// The environment every test runs against, set up once by TestMain.
var (
	moduleRoot string
	workDir    string // temporary; removed at the end
	cp         *testenv.ControlPlane
	hydra      *testenv.Hydra
	users      *loginConsent     // the login and consent app Hydra sends the browser to
	operator   *testenv.Operator // replaced when a test restarts it (pauseSuiteOperator)

	// operatorOpts are how TestMain started the suite's operator; pauseSuiteOperator starts it
	// again with them.
	operatorOpts testenv.OperatorOptions
	managerBin   string
	// adminTokenFile holds a random bearer token for Hydra's admin API, which every operator
	// is given: Hydra ignores it, but the leak check proves the operator never reveals it.
	adminTokenFile string

	operatorLogPath string
	hydraLogPath    string
	hydraPublicHost string // host:port of Hydra's public API
	loginHost       string // host:port of the login-and-consent app
)

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) (code int) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" || os.Getenv("HYDRA_BIN") == "" {
		fmt.Fprintln(os.Stderr, "e2e tests need KUBEBUILDER_ASSETS and HYDRA_BIN: run them with `make test-e2e`")
		return 1
	}
	// envtest logs through controller-runtime's logger; not needed here.
	ctrllog.SetLogger(logr.Discard())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	var err error
	fail := func(step string, err error) int {
		fmt.Fprintf(os.Stderr, "e2e setup: %s: %v\n", step, err)
		dumpFile("operator", operatorLogPath, 0)
		dumpFile("hydra", hydraLogPath, 0)
		return 1
	}
	if moduleRoot, err = testenv.ModuleRoot(); err != nil {
		return fail("finding the module", err)
	}
	if workDir, err = os.MkdirTemp("", "oauth2-e2e-"); err != nil {
		return fail("temporary folder", err)
	}
	defer func() {
		if os.Getenv("E2E_KEEP_WORKDIR") != "" {
			fmt.Fprintln(os.Stderr, "e2e: keeping", workDir)
			return
		}
		_ = os.RemoveAll(workDir)
	}()

	// The operator binary, built once, the way `make build` does. E2E_MANAGER_BIN reuses one.
	managerBin = os.Getenv("E2E_MANAGER_BIN")
	if managerBin == "" {
		managerBin = filepath.Join(workDir, "manager")
		buildLog, err := os.Create(filepath.Join(workDir, "build.log"))
		if err != nil {
			return fail("build log", err)
		}
		err = testenv.BuildOperator(ctx, moduleRoot, managerBin, buildLog)
		_ = buildLog.Close()
		if err != nil {
			dumpFile("go build", buildLog.Name(), 0)
			return fail("building the operator", err)
		}
	}

	// etcd and kube-apiserver, with the CRDs installed and an admin kubeconfig.
	if cp, err = testenv.StartControlPlane(testenv.ControlPlaneOptions{
		CRDDir: filepath.Join(moduleRoot, "config", "crd", "bases"),
	}); err != nil {
		return fail("starting the control plane", err)
	}
	defer func() {
		if err := cp.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: stopping the control plane:", err)
		}
	}()

	// The login and consent app listens before Hydra starts, so Hydra can be told its URLs;
	// it serves once Hydra's admin URL is known.
	loginSrv := httptest.NewUnstartedServer(nil)
	defer loginSrv.Close()
	loginHost = loginSrv.Listener.Addr().String()
	loginURL := "http://" + loginHost

	hydraLogPath = filepath.Join(workDir, "hydra.log")
	hydraLog, err := os.Create(hydraLogPath)
	if err != nil {
		return fail("hydra log", err)
	}
	defer func() { _ = hydraLog.Close() }()
	if hydra, err = testenv.StartHydra(ctx, testenv.HydraOptions{
		FastHashing: true,
		LoginURL:    loginURL + "/login",
		ConsentURL:  loginURL + "/consent",
		Log:         hydraLog,
	}); err != nil {
		return fail("starting hydra", err)
	}
	defer hydra.Stop()
	pub, _ := url.Parse(hydra.PublicURL())
	hydraPublicHost = pub.Host

	users = newLoginConsent(hydra.AdminURL())
	loginSrv.Config.Handler = users
	loginSrv.Start()

	operatorLogPath = filepath.Join(workDir, "operator.log")
	operatorLog, err := os.Create(operatorLogPath)
	if err != nil {
		return fail("operator log", err)
	}
	defer func() { _ = operatorLog.Close() }()
	adminToken := randomString(40)
	adminTokenFile = filepath.Join(workDir, "hydra-admin-token")
	if err := os.WriteFile(adminTokenFile, []byte(adminToken), 0o600); err != nil {
		return fail("admin token", err)
	}
	operatorOpts = testenv.OperatorOptions{
		Bin:            managerBin,
		Kubeconfig:     cp.KubeconfigPath,
		HydraAdminURL:  hydra.AdminURL(),
		HydraPublicURL: hydra.PublicURL(),
		Args: []string{"--sync-period=" + syncPeriod, "--zap-encoder=console", "--zap-time-encoding=iso8601",
			"--hydra-admin-token-file=" + adminTokenFile},
		Log:     operatorLog,
		Metrics: true, // for the leak check
	}
	if operator, err = testenv.StartOperator(ctx, operatorOpts); err != nil {
		return fail("starting the operator", err)
	}
	// Whichever process is the suite's operator at the end: a test may have restarted it.
	defer func() { operator.Stop() }()

	code = m.Run()
	select {
	case <-operator.Done():
		fmt.Fprintf(os.Stderr, "e2e: the operator exited during the tests: %v\n", operator.ExitErr())
		dumpFile("operator", operatorLogPath, 0)
		return 1
	default:
	}
	if !leakCheckPasses(adminToken) {
		code = 1
	}
	return code
}

// leakCheckPasses runs the leak check after all tests and reports what it found.
func leakCheckPasses(adminToken string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	findings, err := checkForLeaks(ctx, adminToken)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e leak check could not run:", err)
		return false
	}
	for _, f := range findings {
		fmt.Fprintln(os.Stderr, "e2e leak check: LEAK:", f)
	}
	return len(findings) == 0
}
