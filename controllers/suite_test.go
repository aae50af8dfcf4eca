//go:build integration

package controllers

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	josejwt "github.com/go-jose/go-jose/v3/jwt"
	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/testenv"
)

// The integration suite runs the operator, wired by internal/operator as cmd/ ships it, against
// a real kube-apiserver and etcd (envtest) and a real Hydra process. The namespace
// directNamespace is hidden from the manager, so tests can drive a reconciler of their own
// there (crash injection, counting writes) without the manager racing them.

// directNamespace is hidden from the manager.
const directNamespace = "direct-tests"

var (
	testScheme = runtime.NewScheme()
	restCfg    *rest.Config
	env        *envtest.Environment // RBAC is on; tests add users of their own
	k8s        client.Client        // the test's own client, straight to the API server
	hydraProc  *testenv.Hydra
	hydraAPI   hydra.Client
	// logBuf captures every operator log line, so tests can check that no secret leaks.
	logBuf = &syncBuffer{}
	// operatorHydra wraps the manager's Hydra client; it counts the calls about each client
	// ID, so a test can show that the operator left a client alone.
	operatorHydra *countingHydra
)

const syncPeriod = 3 * time.Second

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" || os.Getenv("HYDRA_BIN") == "" {
		fmt.Fprintln(os.Stderr, "integration tests need KUBEBUILDER_ASSETS and HYDRA_BIN: run them with `make test-integration`")
		return 1
	}
	// Stack traces only from panics, as cmd/ sets them: a failed pass is one line.
	logf.SetLogger(zap.New(zap.WriteTo(io.MultiWriter(logBuf, os.Stderr)), zap.UseDevMode(true), zap.Level(zapLevel()),
		zap.StacktraceLevel(zapcore.PanicLevel)))
	utilruntime.Must(clientgoscheme.AddToScheme(testScheme))
	utilruntime.Must(v1alpha1.AddToScheme(testScheme))

	env = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	var err error
	if restCfg, err = env.Start(); err != nil {
		// Start can fail after the processes are up (a CRD the API server refuses); stop them.
		_ = env.Stop()
		fmt.Fprintln(os.Stderr, "starting envtest:", err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	if k8s, err = client.New(restCfg, client.Options{Scheme: testScheme}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// The suite's operator leaves --cluster-name unset, as cmd/ ships: the name in its owner
	// marks is kube-system's UID.
	kubeSystem := &corev1.Namespace{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Name: "kube-system"}, kubeSystem); err != nil {
		fmt.Fprintln(os.Stderr, "reading kube-system:", err)
		return 1
	}
	testInstallation = string(kubeSystem.UID)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hydraProc, err = testenv.StartHydra(ctx, testenv.HydraOptions{FastHashing: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting hydra:", err)
		return 1
	}
	defer hydraProc.Stop()
	if hydraAPI, err = hydra.New(hydra.Options{AdminURL: hydraProc.AdminURL(), Timeout: 5 * time.Second}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	stopManager, err := startManager(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting manager:", err)
		return 1
	}
	watcher, err := client.NewWithWatch(restCfg, client.Options{Scheme: testScheme})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	watchCtx, stopWatch := context.WithCancel(ctx)
	go watchSecrets(watchCtx, watcher)
	code := m.Run()
	stopWatch()
	// After every test, so that it sees everything the operator said during the whole suite.
	if err := checkNoSecretLeaks(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: secret leak check:", err)
		code = 1
	}
	stopManager()
	return code
}

func zapLevel() zapcore.Level {
	if os.Getenv("TEST_VERBOSE_LOGS") != "" {
		return zapcore.DebugLevel
	}
	return zapcore.InfoLevel
}

// startManager runs the operator as cmd/ does, through internal/operator (see StartOperator),
// with a short sync period, small list pages, and directNamespace hidden from it.
func startManager(ctx context.Context) (func(), error) {
	if StartOperator == nil {
		return nil, errors.New("StartOperator is not set: operator_test.go is missing from the test build")
	}
	return StartOperator(ctx, SuiteOperator{
		RestConfig:     restCfg,
		HydraAdminURL:  hydraProc.AdminURL(),
		HydraPublicURL: hydraProc.PublicURL(),
		WrapHydra: func(c hydra.Client) hydra.Client {
			operatorHydra = &countingHydra{Client: c}
			return operatorHydra
		},
		HiddenNamespace: directNamespace,
		SyncPeriod:      syncPeriod,
		// Small pages, so that every scan reads several.
		PageSize:           7,
		StartupGrace:       10 * time.Second,
		AdoptionNamespaces: []string{"adopters-*"},
		// Only the namespaces of tests that choose client IDs (spec.clientID or a Secret)
		// outside their own prefix.
		ClientIDRules:  []string{"tenant-*", "existing-*", "wait-*", "adopt-*", "adopters-*", "immutable-*", "ssa-*"},
		FingerprintKey: testFingerprintKey,
		// Longer than any test: a fixed Secret must heal a server through the watch of the
		// Secrets servers reference, not through the next scheduled check.
		ServerCheckInterval: 10 * time.Minute,
	})
}

// StartOperator starts the operator with the suite's settings and returns a function that
// stops it. operator_test.go sets it: it runs internal/operator, which imports this package,
// so a file of this package can't import it (a cycle). The external test package
// controllers_test can, and Go builds it, and internal/operator with it, against this package
// including its test files, which is how it reaches this variable before TestMain runs.
var StartOperator func(ctx context.Context, s SuiteOperator) (stop func(), err error)

// SuiteOperator is what the suite chooses about the operator it runs; operator_test.go turns
// it into internal/operator's Options and leaves everything else as cmd/ ships it.
type SuiteOperator struct {
	RestConfig                    *rest.Config
	HydraAdminURL, HydraPublicURL string
	// WrapHydra wraps the operator's Hydra client, to count its calls.
	WrapHydra func(hydra.Client) hydra.Client
	// HiddenNamespace is left out of the manager's OAuth2Client cache, for tests that drive a
	// reconciler of their own there.
	HiddenNamespace                   string
	SyncPeriod                        time.Duration
	PageSize                          int
	StartupGrace                      time.Duration
	AdoptionNamespaces, ClientIDRules []string
	FingerprintKey                    []byte
	ServerCheckInterval               time.Duration
}

// ---- helpers ---------------------------------------------------------------------------

// testFingerprintKey is the suite's installation key for credentials fingerprints.
var testFingerprintKey = []byte("integration-suite-fingerprint-key-0123456789")

// testInstallation is the cluster name in the suite's owner marks: kube-system's UID.
var testInstallation string

// sharedWithClient is the annotation by which a Secret's author lets the OAuth2Client name use it.
func sharedWithClient(name string) map[string]string {
	return map[string]string{v1alpha1.ClientAnnotation: name}
}

// eventually polls fn until it returns nil or the deadline passes (internal/testenv).
var eventually = testenv.Eventually

func newNamespace(t *testing.T, prefix string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}
	if err := k8s.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

func create(t *testing.T, obj client.Object) {
	t.Helper()
	if err := k8s.Create(context.Background(), obj); err != nil {
		t.Fatalf("creating %s: %v", obj.GetName(), err)
	}
}

// waitReady waits until the resource is Ready for its current generation and returns it.
func waitReady(t *testing.T, ns, name string) *v1alpha1.OAuth2Client {
	t.Helper()
	obj := &v1alpha1.OAuth2Client{}
	eventually(t, 30*time.Second, func() error {
		if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
			return err
		}
		return readyErr(obj)
	})
	return obj
}

func readyErr(obj *v1alpha1.OAuth2Client) error {
	c := meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ConditionReady)
	if c == nil || c.Status != metav1.ConditionTrue || obj.Status.ObservedGeneration != obj.Generation {
		return fmt.Errorf("%s not Ready for generation %d: %+v (observed %d)", obj.Name, obj.Generation, c, obj.Status.ObservedGeneration)
	}
	return nil
}

// waitCondition waits until a condition has the given status and reason.
func waitCondition(t *testing.T, ns, name, condType string, status metav1.ConditionStatus, reason string) *v1alpha1.OAuth2Client {
	t.Helper()
	obj := &v1alpha1.OAuth2Client{}
	eventually(t, 30*time.Second, func() error {
		if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
			return err
		}
		c := meta.FindStatusCondition(obj.Status.Conditions, condType)
		if c == nil || c.Status != status || c.Reason != reason {
			return fmt.Errorf("%s: want %s=%s (%s), have %+v", name, condType, status, reason, c)
		}
		return nil
	})
	return obj
}

func getSecret(t *testing.T, ns, name string) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, s); err != nil {
		t.Fatalf("reading Secret %s: %v", name, err)
	}
	return s
}

// tokenFor runs a client_credentials request with HTTP Basic authentication at Hydra's public
// token endpoint and returns nil when Hydra issues an access token.
func tokenFor(id, secret, scope string) error {
	return tokenRequest(id, secret, scope, false)
}

// tokenPost is tokenFor with client_secret_post: the credentials travel in the form body.
func tokenPost(id, secret, scope string) error {
	return tokenRequest(id, secret, scope, true)
}

func tokenRequest(id, secret, scope string, post bool) error {
	return tokenRequestAt(hydraProc.PublicURL(), id, secret, scope, post)
}

// tokenRequestAt is tokenRequest at the Hydra whose public API is publicURL.
func tokenRequestAt(publicURL, id, secret, scope string, post bool) error {
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}
	if post {
		form.Set("client_id", id)
		form.Set("client_secret", secret)
	}
	req, _ := http.NewRequest(http.MethodPost, publicURL+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if !post {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	var out struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal(body, &out)
	if resp.StatusCode != http.StatusOK || out.AccessToken == "" {
		return fmt.Errorf("token request for %s: %d %s", id, resp.StatusCode, body)
	}
	return nil
}

// assertionTokenAt asks the Hydra whose public API is publicURL for a client_credentials
// token, authenticating with a client assertion (RFC 7523) signed by privatePEM under keyID.
func assertionTokenAt(publicURL, id, privatePEM, keyID string) error {
	block, _ := pem.Decode([]byte(privatePEM))
	if block == nil {
		return fmt.Errorf("client %s: no private key", id)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", keyID))
	if err != nil {
		return err
	}
	tokenURL := publicURL + "/oauth2/token"
	now := time.Now()
	assertion, err := josejwt.Signed(signer).Claims(josejwt.Claims{
		Issuer: id, Subject: id, Audience: josejwt.Audience{tokenURL}, ID: rand.Text(),
		IssuedAt: josejwt.NewNumericDate(now), Expiry: josejwt.NewNumericDate(now.Add(time.Minute)),
	}).CompactSerialize()
	if err != nil {
		return err
	}
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"read"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}}
	resp, err := http.PostForm(tokenURL, form)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("token request for %s with key %s: %d %s", id, keyID, resp.StatusCode, body)
	}
	return nil
}

// secretWorks checks that the credentials in the Secret obtain a token.
func secretWorks(ns, name string) error {
	s := &corev1.Secret{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, s); err != nil {
		return err
	}
	return tokenFor(string(s.Data["client_id"]), string(s.Data["client_secret"]), "read")
}

// ownedClients lists the Hydra clients marked as belonging to ns/name.
func ownedClients(t *testing.T, ns, name string) []hydra.OAuth2Client {
	t.Helper()
	var all []hydra.OAuth2Client
	err := hydraAPI.List(context.Background(), hydra.OwnerIn(testInstallation, ns, name), 500, func(page []hydra.OAuth2Client) error {
		all = append(all, page...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return all
}

func annotate(t *testing.T, obj *v1alpha1.OAuth2Client, key, value string) {
	t.Helper()
	patch := []byte(fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, key, value))
	if err := k8s.Patch(context.Background(), obj, client.RawPatch("application/merge-patch+json", patch)); err != nil {
		t.Fatal(err)
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// suiteLeaks holds every client secret the suite has come across, for the leak check that runs
// after all tests: a Secret listed at the end holds only the last of a rotated client's secrets.
var suiteLeaks = testenv.NewLeaks()

// rememberSecret registers a client secret for the final leak check.
func rememberSecret(v string) { suiteLeaks.Remember(v, "a client secret the suite saw") }

// countingHydra passes every call on to Hydra and counts the calls about each client ID (the
// drift scanner's list calls name no client and are not counted).
type countingHydra struct {
	hydra.Client
	calls sync.Map // client ID -> *atomic.Int64
	// failing: client IDs whose Get answers 503 without reaching Hydra -> *atomic.Int64, how
	// many times it did.
	failing sync.Map
}

// failGets makes every Get of the client ID fail as an unavailable Hydra would, until the
// returned function is called; failures tells how many Gets failed so far.
func (h *countingHydra) failGets(id string) (stop func(), failures func() int64) {
	n := &atomic.Int64{}
	h.failing.Store(id, n)
	return func() { h.failing.Delete(id) }, n.Load
}

func (h *countingHydra) count(id string) {
	n, _ := h.calls.LoadOrStore(id, &atomic.Int64{})
	n.(*atomic.Int64).Add(1)
}

// callsFor is how many calls the operator has made about this client ID so far.
func (h *countingHydra) callsFor(id string) int64 {
	if n, ok := h.calls.Load(id); ok {
		return n.(*atomic.Int64).Load()
	}
	return 0
}

func (h *countingHydra) Get(ctx context.Context, id string) (*hydra.OAuth2Client, error) {
	h.count(id)
	if n, ok := h.failing.Load(id); ok {
		n.(*atomic.Int64).Add(1)
		return nil, &hydra.APIError{Op: "get", StatusCode: http.StatusServiceUnavailable}
	}
	return h.Client.Get(ctx, id)
}

func (h *countingHydra) Create(ctx context.Context, c *hydra.OAuth2Client) (*hydra.OAuth2Client, error) {
	h.count(c.GetClientId())
	return h.Client.Create(ctx, c)
}

func (h *countingHydra) Update(ctx context.Context, id string, c *hydra.OAuth2Client) (*hydra.OAuth2Client, error) {
	h.count(id)
	return h.Client.Update(ctx, id, c)
}

func (h *countingHydra) Delete(ctx context.Context, id string) error {
	h.count(id)
	return h.Client.Delete(ctx, id)
}

// editAtHydra changes a client directly at Hydra, behind the operator's back, as a person
// with access to Hydra's admin API would.
func editAtHydra(t *testing.T, clientID string, edit func(*hydra.OAuth2Client)) {
	t.Helper()
	c, err := hydraAPI.Get(context.Background(), clientID)
	if err != nil {
		t.Fatal(err)
	}
	edit(c)
	if _, err := hydraAPI.Update(context.Background(), clientID, c); err != nil {
		t.Fatal(err)
	}
}

// refusedByHydra is a valid manifest that only Hydra can refuse: a post-logout redirect URI
// that matches none of the redirect URIs.
func refusedByHydra(ns, name string) *v1alpha1.OAuth2Client {
	obj := serviceClient(ns, name)
	obj.Spec.GrantTypes = []v1alpha1.GrantType{"authorization_code"}
	obj.Spec.ResponseTypes = []v1alpha1.ResponseType{"code"}
	obj.Spec.RedirectURIs = []string{"https://app.example.com/cb"}
	obj.Spec.PostLogoutRedirectURIs = []string{"https://other.example.com/bye"}
	return obj
}
