package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// ControlPlaneOptions configures a local control plane (etcd and kube-apiserver).
type ControlPlaneOptions struct {
	// AssetsDir holds kube-apiserver, etcd and kubectl; empty means the KUBEBUILDER_ASSETS
	// environment variable (hack/testbins.sh envtest prints the folder).
	AssetsDir string
	// CRDDir holds the CRD manifests to install (config/crd/bases); missing is an error.
	CRDDir string
	// KubeconfigPath is where the admin kubeconfig is written; empty means a file in a
	// temporary folder that Stop removes.
	KubeconfigPath string
	// Log receives the output of etcd and kube-apiserver; nil discards it.
	Log io.Writer
	// Profiling serves Go's /debug/pprof on the API server (to administrators), which envtest
	// turns off: the benchmark takes the API server's CPU profile with it.
	Profiling bool
}

// ControlPlane is a running etcd and kube-apiserver on loopback ports (envtest), with the
// project's CRDs installed and a kubeconfig file for an administrator.
type ControlPlane struct {
	// Env is the envtest environment; Env.Stop is called by Stop.
	Env *envtest.Environment
	// Config connects to the API server with administrator rights.
	Config *rest.Config
	// KubeconfigPath is the kubeconfig file of an administrator (group system:masters).
	KubeconfigPath string
	// KubectlPath is the kubectl binary next to kube-apiserver.
	KubectlPath string

	tmpDir  string // removed by Stop; holds the kubeconfig unless a path was given
	running bool
}

// StartControlPlane starts etcd and kube-apiserver on free loopback ports, installs the CRDs
// and writes a kubeconfig for an administrator. Call Stop when done, also after an error.
func StartControlPlane(opts ControlPlaneOptions) (*ControlPlane, error) {
	assets := opts.AssetsDir
	if assets == "" {
		assets = os.Getenv("KUBEBUILDER_ASSETS")
	}
	if assets == "" {
		return nil, errors.New("no control plane binaries: set KUBEBUILDER_ASSETS (hack/testbins.sh envtest prints the folder)")
	}
	assets, err := filepath.Abs(assets)
	if err != nil {
		return nil, err
	}
	for _, bin := range []string{"etcd", "kube-apiserver", "kubectl"} {
		if _, err := os.Stat(filepath.Join(assets, bin)); err != nil {
			return nil, fmt.Errorf("control plane binary missing (make testbins builds it): %w", err)
		}
	}
	if opts.CRDDir == "" {
		return nil, errors.New("no CRD folder given")
	}

	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{opts.CRDDir},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: assets,
	}
	// Name the binaries explicitly: envtest would prefer KUBEBUILDER_ASSETS from the
	// environment over BinaryAssetsDirectory, and the caller's folder must win.
	env.ControlPlane.Etcd = &envtest.Etcd{Path: filepath.Join(assets, "etcd")}
	env.ControlPlane.GetAPIServer().Path = filepath.Join(assets, "kube-apiserver")
	env.ControlPlane.KubectlPath = filepath.Join(assets, "kubectl")
	if opts.Profiling {
		env.ControlPlane.GetAPIServer().Configure().Set("profiling", "true")
	}
	if opts.Log != nil {
		env.ControlPlane.Etcd.Out, env.ControlPlane.Etcd.Err = opts.Log, opts.Log
		api := env.ControlPlane.GetAPIServer()
		api.Out, api.Err = opts.Log, opts.Log
	}

	cp := &ControlPlane{Env: env, KubectlPath: env.ControlPlane.KubectlPath}
	if cp.tmpDir, err = os.MkdirTemp("", "oauth2-controlplane-"); err != nil {
		return nil, err
	}
	cp.running = true // Stop also cleans up after a half-finished start
	if cp.Config, err = env.Start(); err != nil {
		_ = cp.Stop()
		return nil, fmt.Errorf("starting etcd and kube-apiserver: %w", err)
	}

	admin, err := env.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		_ = cp.Stop()
		return nil, fmt.Errorf("adding an admin user: %w", err)
	}
	kubeconfig, err := admin.KubeConfig()
	if err != nil {
		_ = cp.Stop()
		return nil, fmt.Errorf("writing a kubeconfig: %w", err)
	}
	cp.KubeconfigPath = opts.KubeconfigPath
	if cp.KubeconfigPath == "" {
		cp.KubeconfigPath = filepath.Join(cp.tmpDir, "kubeconfig")
	}
	if cp.KubeconfigPath, err = filepath.Abs(cp.KubeconfigPath); err != nil {
		_ = cp.Stop()
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(cp.KubeconfigPath), 0o755); err != nil {
		_ = cp.Stop()
		return nil, err
	}
	if err := os.WriteFile(cp.KubeconfigPath, kubeconfig, 0o600); err != nil {
		_ = cp.Stop()
		return nil, fmt.Errorf("writing the kubeconfig: %w", err)
	}
	return cp, nil
}

// Kubectl runs kubectl with the administrator's kubeconfig and returns its standard output.
// The error includes standard error.
func (c *ControlPlane) Kubectl(ctx context.Context, args ...string) ([]byte, error) {
	return c.KubectlStdin(ctx, nil, args...)
}

// KubectlStdin is Kubectl with standard input (for `kubectl apply -f -`).
func (c *ControlPlane) KubectlStdin(ctx context.Context, stdin io.Reader, args ...string) ([]byte, error) {
	full := append([]string{"--kubeconfig=" + c.KubeconfigPath, "--cache-dir=" + filepath.Join(c.tmpDir, "kubectl-cache")}, args...)
	cmd := exec.CommandContext(ctx, c.KubectlPath, full...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+c.KubeconfigPath)
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("kubectl %v: %w: %s", args, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return stdout.Bytes(), nil
}

// ServiceAccountUser is the user name, and the groups, that the API server gives a
// ServiceAccount's tokens: what a pod running as that ServiceAccount is authorized as.
func ServiceAccountUser(namespace, name string) (user string, groups []string) {
	return "system:serviceaccount:" + namespace + ":" + name,
		[]string{"system:serviceaccounts", "system:serviceaccounts:" + namespace}
}

// WriteImpersonatingKubeconfig writes a kubeconfig to path that authenticates as the
// administrator but asks the API server to act as user with groups (impersonation), so a
// process using it gets exactly that user's RBAC permissions. The administrator, in
// system:masters, may impersonate anyone.
func (c *ControlPlane) WriteImpersonatingKubeconfig(path, user string, groups []string) error {
	cfg, err := clientcmd.LoadFromFile(c.KubeconfigPath)
	if err != nil {
		return fmt.Errorf("reading the admin kubeconfig: %w", err)
	}
	ctx, ok := cfg.Contexts[cfg.CurrentContext]
	if !ok {
		return fmt.Errorf("the admin kubeconfig has no context %q", cfg.CurrentContext)
	}
	auth, ok := cfg.AuthInfos[ctx.AuthInfo]
	if !ok {
		return fmt.Errorf("the admin kubeconfig has no user %q", ctx.AuthInfo)
	}
	auth.Impersonate = user
	auth.ImpersonateGroups = append([]string(nil), groups...)
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("writing the impersonating kubeconfig: %w", err)
	}
	return nil
}

// Stop stops kube-apiserver and etcd, removes their data, and removes the temporary folder
// (with the kubeconfig, unless it was written to a path of the caller's choice).
func (c *ControlPlane) Stop() error {
	var errs []error
	if c.running {
		errs = append(errs, c.Env.Stop())
		c.running = false
	}
	if c.tmpDir != "" {
		errs = append(errs, os.RemoveAll(c.tmpDir))
		c.tmpDir = ""
	}
	return errors.Join(errs...)
}
