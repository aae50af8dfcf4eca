package testenv

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ControllerManagerControllers are the kube-controller-manager controllers `make run-local`
// runs: owner references (the operator's Secrets go with their OAuth2Client) and namespace
// deletion work as on a cluster. Names as `kube-controller-manager --help` lists them.
var ControllerManagerControllers = []string{"garbage-collector-controller", "namespace-controller"}

// ControllerManagerOptions configures a kube-controller-manager process.
type ControllerManagerOptions struct {
	// Bin is the kube-controller-manager binary (hack/testbins.sh envtest puts it next to
	// kube-apiserver).
	Bin string
	// Kubeconfig is an administrator's kubeconfig (ControlPlane.KubeconfigPath).
	Kubeconfig string
	// Controllers to run; empty means ControllerManagerControllers.
	Controllers []string
	// Log receives the process's output; nil discards it.
	Log io.Writer
}

// ControllerManager is a running kube-controller-manager with only some controllers.
type ControllerManager struct {
	*process
}

// ControllerManagerPath is where hack/testbins.sh installs kube-controller-manager: in the
// folder with kube-apiserver (KUBEBUILDER_ASSETS).
func ControllerManagerPath(assetsDir string) string {
	return filepath.Join(assetsDir, "kube-controller-manager")
}

// StartControllerManager starts kube-controller-manager against the API server in the
// kubeconfig. It serves no port (--secure-port=0): nothing here reads its health or metrics,
// and a fixed port would clash between parallel runs. It does not wait for the controllers'
// caches; they catch up with whatever exists when they sync.
func StartControllerManager(opts ControllerManagerOptions) (*ControllerManager, error) {
	if opts.Bin == "" {
		return nil, errors.New("no kube-controller-manager binary given")
	}
	if _, err := os.Stat(opts.Bin); err != nil {
		return nil, fmt.Errorf("kube-controller-manager missing (make testbins builds it): %w", err)
	}
	if opts.Kubeconfig == "" {
		return nil, errors.New("no kubeconfig given")
	}
	controllers := opts.Controllers
	if len(controllers) == 0 {
		controllers = ControllerManagerControllers
	}
	args := []string{
		"--kubeconfig=" + opts.Kubeconfig,
		"--controllers=" + strings.Join(controllers, ","),
		"--leader-elect=false",
		"--secure-port=0",
		// The admin identity of the kubeconfig; envtest's API server has no ServiceAccount
		// token signing configured for per-controller identities.
		"--use-service-account-credentials=false",
	}
	p, err := startProcess(exec.Command(opts.Bin, args...), opts.Log)
	if err != nil {
		return nil, fmt.Errorf("starting kube-controller-manager: %w", err)
	}
	return &ControllerManager{process: p}, nil
}

// Stop sends SIGTERM, then SIGKILL to the process group after 10 seconds, and waits for the exit.
func (m *ControllerManager) Stop() { m.stop(10 * time.Second) }
