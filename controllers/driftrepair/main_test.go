//go:build integration

// Package driftrepair is the integration test of the operator's defaults for drift: it runs the
// operator as cmd/ ships it, with operator.DefaultOptions and nothing shortened, against a real
// kube-apiserver and etcd (envtest) and a real Hydra, and shows that each kind of drift the
// scan handles is repaired within a minute. It has a control plane, a Hydra and an operator of
// its own because it empties its Hydra, and because the controllers suite runs its operator
// with a 3 s sync period; a second operator in that process would share its global metrics
// registry and controller names.
package driftrepair

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"testing"

	"go.uber.org/zap/zapcore"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/operator"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/testenv"
)

var (
	k8s       client.Client
	hydraProc *testenv.Hydra
	// hydraAPI goes to Hydra directly: the test's own reads and edits are not counted.
	hydraAPI hydra.Client
	// proxy stands between the operator and Hydra and records the operator's requests.
	proxy *countingProxy
	// opts are the options the operator runs with: DefaultOptions, plus the URLs.
	opts operator.Options
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" || os.Getenv("HYDRA_BIN") == "" {
		fmt.Fprintln(os.Stderr, "integration tests need KUBEBUILDER_ASSETS and HYDRA_BIN: run them with `make test-integration`")
		return 1
	}
	logf.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.UseDevMode(true), zap.Level(zapcore.InfoLevel),
		zap.StacktraceLevel(zapcore.PanicLevel)))
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(v1alpha1.AddToScheme(scheme))

	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		_ = env.Stop()
		fmt.Fprintln(os.Stderr, "starting envtest:", err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	if k8s, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Fast hashing is Hydra's setting, not the operator's: it only makes creates cheaper.
	if hydraProc, err = testenv.StartHydra(ctx, testenv.HydraOptions{FastHashing: true}); err != nil {
		fmt.Fprintln(os.Stderr, "starting hydra:", err)
		return 1
	}
	defer hydraProc.Stop()
	if hydraAPI, err = hydra.New(hydra.Options{AdminURL: hydraProc.AdminURL(), Timeout: 5 * time.Second}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if proxy, err = newCountingProxy(hydraProc.AdminURL()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer proxy.Close()

	// The defaults of cmd/'s flags. Only what has no default (Hydra's URLs) is set, and the
	// metrics and probe listeners are off, so as not to take ports of the machine; neither
	// has anything to do with drift.
	opts = operator.DefaultOptions()
	opts.HydraAdminURL, opts.HydraPublicURL = proxy.URL, hydraProc.PublicURL()
	opts.MetricsAddr, opts.ProbeAddr = "0", "0"
	// Named, so that the test knows the owner marks to expect (unset, it is kube-system's UID).
	opts.ClusterName = "drift-suite"
	op, err := operator.New(ctx, cfg, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "building the operator:", err)
		return 1
	}
	opCtx, stopOperator := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := op.Start(opCtx); err != nil {
			fmt.Fprintln(os.Stderr, "operator:", err)
		}
	}()
	code := m.Run()
	stopOperator()
	<-done
	return code
}

// countingProxy is a reverse proxy to Hydra's admin API that records the operator's requests:
// the writes by client ID, and the list requests of each scan (a scan starts with a list
// request without page_token).
type countingProxy struct {
	*httptest.Server

	mu     sync.Mutex
	writes map[string][]string // client ID -> "METHOD path"
	scans  []int               // list requests of each scan, in order
}

func newCountingProxy(target string) (*countingProxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	p := &countingProxy{writes: map[string][]string{}}
	rp := httputil.NewSingleHostReverseProxy(u)
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.record(r)
		rp.ServeHTTP(w, r)
	}))
	return p, nil
}

func (p *countingProxy) record(r *http.Request) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case r.Method == http.MethodGet && path == "/admin/clients":
		if r.URL.Query().Get("page_token") == "" || len(p.scans) == 0 {
			p.scans = append(p.scans, 0)
		}
		p.scans[len(p.scans)-1]++
	case r.Method == http.MethodGet:
	case path == "/admin/clients": // POST: a create; the ID is in the body
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		var c struct {
			ClientID string `json:"client_id"`
		}
		_ = json.Unmarshal(body, &c)
		p.writes[c.ClientID] = append(p.writes[c.ClientID], r.Method+" "+path)
	default: // PUT, PATCH, DELETE of /admin/clients/{id}
		id, _ := url.PathUnescape(strings.TrimPrefix(path, "/admin/clients/"))
		p.writes[id] = append(p.writes[id], r.Method+" "+path)
	}
}

// reset forgets what was recorded and returns it.
func (p *countingProxy) reset() (writes map[string][]string, scans []int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	writes, scans = p.writes, p.scans
	p.writes, p.scans = map[string][]string{}, nil
	return writes, scans
}
