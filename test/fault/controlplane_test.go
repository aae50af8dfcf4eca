//go:build fault

package fault

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

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
	dir        string
	// auditLog is the API server's audit log of every request except reads, so a test can
	// attribute API writes to one client (each operator replica may get its own user).
	auditLog string
	running  bool
}

// auditPolicy logs the metadata of every request that is not a read, once it is complete.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived", "ResponseStarted"]
rules:
- level: None
  verbs: ["get", "list", "watch"]
- level: Metadata
`

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
	policy, auditLog := filepath.Join(dir, "audit-policy.yaml"), filepath.Join(dir, "audit.log")
	if err := os.WriteFile(policy, []byte(auditPolicy), 0o600); err != nil {
		return nil, err
	}
	api.Configure().Set("audit-policy-file", policy).Set("audit-log-path", auditLog)
	env.ControlPlane.KubectlPath = filepath.Join(assetsDir, "kubectl")

	c := &controlPlane{env: env, api: api, dir: dir, auditLog: auditLog, running: true}
	var err error
	if c.cfg, err = env.Start(); err != nil {
		_ = c.stop()
		return nil, fmt.Errorf("starting etcd and kube-apiserver: %w", err)
	}
	if c.kubeconfig, err = c.userKubeconfig("admin"); err != nil {
		_ = c.stop()
		return nil, err
	}
	c.cfg = rest.CopyConfig(c.cfg)
	c.cfg.QPS, c.cfg.Burst = 500, 1000
	c.cfg.UserAgent = "fault-test"
	return c, nil
}

// userKubeconfig adds an administrator (system:masters) named user and writes a kubeconfig for
// it; the API server's audit log names that user for each of its writes.
func (c *controlPlane) userKubeconfig(user string) (string, error) {
	u, err := c.env.AddUser(envtest.User{Name: user, Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return "", fmt.Errorf("adding the user %s: %w", user, err)
	}
	kubeconfig, err := u.KubeConfig()
	if err != nil {
		return "", err
	}
	path := filepath.Join(c.dir, "kubeconfig-"+user)
	return path, os.WriteFile(path, kubeconfig, 0o600)
}

// auditEvent is the part of an API server audit event the tests read.
type auditEvent struct {
	Verb string `json:"verb"`
	User struct {
		Username string `json:"username"`
	} `json:"user"`
	ObjectRef *struct {
		Resource  string `json:"resource"`
		APIGroup  string `json:"apiGroup"`
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
	RequestReceived time.Time `json:"requestReceivedTimestamp"`
}

// carriedOut calls fn with each request of the audit log that the API server carried out (2xx)
// on an object.
func (c *controlPlane) carriedOut(fn func(ev auditEvent)) error {
	f, err := os.Open(c.auditLog)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev auditEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return fmt.Errorf("audit log: %w", err)
		}
		if ev.ObjectRef != nil && ev.ResponseStatus != nil && ev.ResponseStatus.Code < 300 {
			fn(ev)
		}
	}
	return sc.Err()
}

// apiWrites lists the writes by user that the API server received at or after since and carried
// out (2xx), leaving out Events: an Event is a note about what happened, not state, and client-go
// records one ("stopped leading") on its way out.
func (c *controlPlane) apiWrites(user string, since time.Time) ([]string, error) {
	var out []string
	err := c.carriedOut(func(ev auditEvent) {
		if ev.User.Username == user && !ev.RequestReceived.Before(since) && ev.ObjectRef.Resource != "events" {
			out = append(out, fmt.Sprintf("%s %s.%s at %s", ev.Verb, ev.ObjectRef.Resource, ev.ObjectRef.APIGroup, ev.RequestReceived.Format(time.RFC3339Nano)))
		}
	})
	return out, err
}

// objectWriters maps each object of resource (such as "oauth2clients") to the users whose writes
// to it (2xx, subresources included) the API server carried out, by "namespace/name".
func (c *controlPlane) objectWriters(resource string) (map[string]map[string]int, error) {
	out := map[string]map[string]int{}
	err := c.carriedOut(func(ev auditEvent) {
		if ev.ObjectRef.Resource != resource || ev.ObjectRef.Name == "" || !isWriteVerb(ev.Verb) {
			return
		}
		key := ev.ObjectRef.Namespace + "/" + ev.ObjectRef.Name
		if out[key] == nil {
			out[key] = map[string]int{}
		}
		out[key][ev.User.Username]++
	})
	return out, err
}

func isWriteVerb(verb string) bool {
	switch verb {
	case "create", "update", "patch", "delete":
		return true
	}
	return false
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
