//go:build fault

package fault

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// controlPlane is etcd and kube-apiserver started through envtest, like
// testenv.StartControlPlane, but with the API server's certificate folder chosen here rather
// than a temporary one envtest deletes on Stop. That is what makes the API server restartable:
// a restart keeps its port, its serving certificate, the client CA and so every kubeconfig
// already handed out, and etcd (not restarted) keeps the data.
type controlPlane struct {
	env        *envtest.Environment
	api        *envtest.APIServer
	cfg        *rest.Config // administrator (system:masters)
	kubeconfig string
	running    bool
}

func startControlPlane(dir string, log io.Writer) (*controlPlane, error) {
	certDir := filepath.Join(dir, "apiserver")
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		return nil, err
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{crdDir},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: assetsDir,
	}
	env.ControlPlane.Etcd = &envtest.Etcd{Path: filepath.Join(assetsDir, "etcd"), Out: log, Err: log}
	api := env.ControlPlane.GetAPIServer()
	api.Path = filepath.Join(assetsDir, "kube-apiserver")
	api.Out, api.Err = log, log
	api.CertDir = certDir // kept across Stop and Start; removed with dir
	// On SIGTERM, close the watches (the operator's informers) after 2s instead of waiting for
	// them: otherwise the API server waits for them to end by themselves, far past envtest's
	// stop timeout, as a kubelet would not.
	api.Configure().Set("shutdown-watch-termination-grace-period", "2s")
	env.ControlPlane.KubectlPath = filepath.Join(assetsDir, "kubectl")

	c := &controlPlane{env: env, api: api, running: true}
	var err error
	if c.cfg, err = env.Start(); err != nil {
		_ = c.stop()
		return nil, fmt.Errorf("starting etcd and kube-apiserver: %w", err)
	}
	admin, err := env.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		_ = c.stop()
		return nil, fmt.Errorf("adding an admin user: %w", err)
	}
	kubeconfig, err := admin.KubeConfig()
	if err != nil {
		_ = c.stop()
		return nil, err
	}
	c.kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(c.kubeconfig, kubeconfig, 0o600); err != nil {
		_ = c.stop()
		return nil, err
	}
	c.cfg = rest.CopyConfig(c.cfg)
	c.cfg.QPS, c.cfg.Burst = 500, 1000
	c.cfg.UserAgent = "fault-test"
	return c, nil
}

// stopAPIServer stops kube-apiserver (SIGTERM, as a rolling update would) and waits for it to
// exit; etcd keeps running.
func (c *controlPlane) stopAPIServer() error { return c.api.Stop() }

// startAPIServer starts kube-apiserver again on the same port with the same certificates and
// the same etcd, and waits until it is healthy.
func (c *controlPlane) startAPIServer() error { return c.api.Start() }

func (c *controlPlane) stop() error {
	if !c.running {
		return nil
	}
	c.running = false
	err := c.env.Stop()
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}
