//go:build integration

package controllers

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/testenv"
)

// testPKI is a CA with a server certificate for 127.0.0.1 and a client certificate, for the
// TLS proxies in front of the test's Hydras.
type testPKI struct {
	caPEM                 []byte
	server                tls.Certificate
	clientCert, clientKey []byte
	pool                  *x509.CertPool
	caCert                *x509.Certificate
	caKey                 *ecdsa.PrivateKey
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	p := &testPKI{}
	var err error
	if p.caKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "servers-test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &p.caKey.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	if p.caCert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	p.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	p.pool = x509.NewCertPool()
	p.pool.AddCert(p.caCert)
	certPEM, keyPEM := p.issue(t, 2, &x509.Certificate{Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	if p.server, err = tls.X509KeyPair(certPEM, keyPEM); err != nil {
		t.Fatal(err)
	}
	p.clientCert, p.clientKey = p.issue(t, 3, &x509.Certificate{Subject: pkix.Name{CommonName: "oauth2-client-operator"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	return p
}

// issue signs tmpl with the CA and returns the certificate and key in PEM.
func (p *testPKI) issue(t *testing.T, serial int64, tmpl *x509.Certificate) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber, tmpl.NotBefore, tmpl.NotAfter = big.NewInt(serial), time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.caCert, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

// tlsProxy is an admin API behind TLS that the test can make hang, and that counts the
// requests passes send (the health check's /version and one-client list aside).
type tlsProxy struct {
	*httptest.Server
	hanging   atomic.Bool
	release   chan struct{}
	passCalls atomic.Int64
	inFlight  atomic.Int64
	// passesInFlight counts the passes' requests being served; maxPassesInFlight is its peak.
	passesInFlight, maxPassesInFlight atomic.Int64
	mu                                sync.Mutex
	current                           map[*http.Request]string
}

// waiting lists the requests in flight.
func (p *tlsProxy) waiting() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, r := range p.current {
		out = append(out, r)
	}
	return out
}

// newTLSProxy serves adminURL over TLS. With token set it wants "Authorization: Bearer
// <token>" (token() is read per request, so the test can rotate it); with mTLS it wants a
// client certificate the CA signed.
func newTLSProxy(t *testing.T, pki *testPKI, adminURL string, token func() string, mTLS bool) *tlsProxy {
	t.Helper()
	target, err := url.Parse(adminURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	p := &tlsProxy{release: make(chan struct{}), current: map[*http.Request]string{}}
	p.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A pass reads, creates, replaces or deletes one client; the health check and the drift
		// scan list.
		fromPass := strings.HasPrefix(r.URL.Path, "/admin/clients/") || (r.URL.Path == "/admin/clients" && r.Method == http.MethodPost)
		if fromPass {
			p.passCalls.Add(1)
			n := p.passesInFlight.Add(1)
			defer p.passesInFlight.Add(-1)
			for {
				m := p.maxPassesInFlight.Load()
				if n <= m || p.maxPassesInFlight.CompareAndSwap(m, n) {
					break
				}
			}
		}
		p.inFlight.Add(1)
		defer p.inFlight.Add(-1)
		p.mu.Lock()
		p.current[r] = r.Method + " " + r.URL.String()
		p.mu.Unlock()
		defer func() { p.mu.Lock(); delete(p.current, r); p.mu.Unlock() }()
		if p.hanging.Load() {
			// Read the body first: only then does the server notice that the client gave up
			// and end the request's context.
			_, _ = io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
			case <-p.release:
			}
			return
		}
		if token != nil && r.Header.Get("Authorization") != "Bearer "+token() {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	p.TLS = &tls.Config{Certificates: []tls.Certificate{pki.server}, MinVersion: tls.VersionTLS12}
	if mTLS {
		p.TLS.ClientAuth, p.TLS.ClientCAs = tls.RequireAndVerifyClientCert, pki.pool
	}
	p.StartTLS()
	t.Cleanup(func() {
		p.hanging.Store(false)
		close(p.release)
		p.Close()
	})
	return p
}

// twoServers is the scene of the tests below: the suite's Hydra behind a bearer-token TLS
// proxy as AuthorizationServer "a" of ns, and a second Hydra behind an mTLS proxy as
// ClusterAuthorizationServer "b-<ns>", which selects namespaces labelled servers-test=<ns>.
type twoServers struct {
	ns             string
	hydraB         *testenv.Hydra
	proxyA, proxyB *tlsProxy
	token          atomic.Value // string: what proxy A wants
	a              *v1alpha1.AuthorizationServer
	b              *v1alpha1.ClusterAuthorizationServer
}

func newTwoServers(t *testing.T) *twoServers {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s := &twoServers{ns: newNamespace(t, "servers")}
	labelNamespace(t, s.ns, map[string]string{"servers-test": s.ns})
	var err error
	if s.hydraB, err = testenv.StartHydra(ctx, testenv.HydraOptions{FastHashing: true}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.hydraB.Stop)
	pki := newTestPKI(t)
	s.token.Store("token-a-" + s.ns)
	s.proxyA = newTLSProxy(t, pki, hydraProc.AdminURL(), func() string { return s.token.Load().(string) }, false)
	s.proxyB = newTLSProxy(t, pki, s.hydraB.AdminURL(), nil, true)

	create(t, tokenSecret(s.ns, "hydra-a-token", "token-a-"+s.ns))
	create(t, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "hydra-ca"}, Data: map[string]string{"ca.crt": string(pki.caPEM)}})
	clientTLS := "hydra-b-client-" + s.ns
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: serverNamespace, Name: clientTLS}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{corev1.TLSCertKey: pki.clientCert, corev1.TLSPrivateKeyKey: pki.clientKey}})
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: serverNamespace, Name: clientTLS + "-ca"}, Data: map[string][]byte{"ca.crt": pki.caPEM}})

	specA := bearerServerSpec(s.proxyA.URL, "hydra-a-token")
	specA.CABundle = &v1alpha1.CABundleSource{ConfigMapKeyRef: &v1alpha1.ConfigMapKeySelector{Name: "hydra-ca", Key: "ca.crt"}}
	specA.PublicURL, specA.Timeout = hydraProc.PublicURL(), "2s"
	s.a = &v1alpha1.AuthorizationServer{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "a"}, Spec: specA}
	create(t, s.a)
	s.b = &v1alpha1.ClusterAuthorizationServer{ObjectMeta: metav1.ObjectMeta{Name: "b-" + s.ns}, Spec: v1alpha1.ClusterAuthorizationServerSpec{
		AuthorizationServerSpec: v1alpha1.AuthorizationServerSpec{AdminURL: s.proxyB.URL, PublicURL: s.hydraB.PublicURL(), Timeout: "2s",
			Auth:     &v1alpha1.AdminAuth{ClientCertificate: &v1alpha1.ClientCertificateAuth{SecretRef: v1alpha1.LocalObjectReference{Name: clientTLS}}},
			CABundle: &v1alpha1.CABundleSource{SecretKeyRef: &v1alpha1.SecretKeySelector{Name: clientTLS + "-ca", Key: "ca.crt"}}},
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"servers-test": s.ns}},
	}}
	create(t, s.b)
	// Registered after the proxies and Hydra B, so it runs before they stop.
	t.Cleanup(func() { s.release(t) })
	waitServer(t, s.a, v1alpha1.ReasonReachable)
	waitServer(t, s.b, v1alpha1.ReasonReachable)
	return s
}

// release deletes every client that refers to the test's servers, then the servers, and waits
// until they are gone, so no health check or drift scan of this test outlives its Hydras.
func (s *twoServers) release(t *testing.T) {
	t.Helper()
	s.proxyA.hanging.Store(false) // a hung server could not confirm its clients' deletion
	ctx := context.Background()
	var all v1alpha1.OAuth2ClientList
	if err := k8s.List(ctx, &all); err != nil {
		t.Error(err)
		return
	}
	for i := range all.Items {
		ref := all.Items[i].Spec.AuthorizationServerRef
		if ref != nil && (ref.Name == s.a.Name && all.Items[i].Namespace == s.ns || ref.Name == s.b.Name) {
			_ = k8s.Delete(ctx, &all.Items[i])
		}
	}
	_ = k8s.Delete(ctx, s.a)
	_ = k8s.Delete(ctx, s.b)
	eventually(t, 30*time.Second, func() error {
		for _, obj := range []client.Object{&v1alpha1.AuthorizationServer{}, &v1alpha1.ClusterAuthorizationServer{}} {
			key := client.ObjectKeyFromObject(s.a)
			if _, cluster := obj.(*v1alpha1.ClusterAuthorizationServer); cluster {
				key = client.ObjectKeyFromObject(s.b)
			}
			if err := k8s.Get(ctx, key, obj); !apierrors.IsNotFound(err) {
				return fmt.Errorf("server %s still there (err %w)", key, err)
			}
		}
		return nil
	})
}

// onServer is a client_credentials client of ns that refers to the server of kind and name.
func onServer(ns, name string, kind v1alpha1.AuthorizationServerKind, server string) *v1alpha1.OAuth2Client {
	c := serviceClient(ns, name)
	c.Spec.AuthorizationServerRef = &v1alpha1.AuthorizationServerReference{Kind: kind, Name: server}
	c.Spec.SecretTemplate = &v1alpha1.SecretTemplate{IncludeEndpoints: true}
	return c
}

func labelNamespace(t *testing.T, ns string, labels map[string]string) {
	t.Helper()
	obj := &corev1.Namespace{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Name: ns}, obj); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(obj.DeepCopy())
	obj.Labels = labels
	if err := k8s.Patch(context.Background(), obj, patch); err != nil {
		t.Fatal(err)
	}
}

// registeredAt reads the client from the Hydra whose admin API is adminURL.
func registeredAt(adminURL, id string) (*hydra.OAuth2Client, error) {
	api, err := hydra.New(hydra.Options{AdminURL: adminURL, Timeout: 5 * time.Second})
	if err != nil {
		return nil, err
	}
	return api.Get(context.Background(), id)
}

// One cluster, two authorization servers: each client is registered at the server it names,
// under this cluster's owner mark, and its Secret's credentials and token endpoint obtain a
// token there; the other server has never heard of it.
func TestClientsOnTwoServers(t *testing.T) {
	s := newTwoServers(t)
	create(t, onServer(s.ns, "on-a", v1alpha1.AuthorizationServerKindNamespaced, "a"))
	create(t, onServer(s.ns, "on-b", v1alpha1.AuthorizationServerKindCluster, s.b.Name))
	for _, c := range []struct {
		name, admin, otherAdmin, public string
	}{
		{"on-a", hydraProc.AdminURL(), s.hydraB.AdminURL(), hydraProc.PublicURL()},
		{"on-b", s.hydraB.AdminURL(), hydraProc.AdminURL(), s.hydraB.PublicURL()},
	} {
		obj := waitReady(t, s.ns, c.name)
		secret := getSecret(t, s.ns, c.name)
		id, pw := string(secret.Data["client_id"]), string(secret.Data["client_secret"])
		if got, err := registeredAt(c.admin, id); err != nil || got.GetOwner() != hydra.OwnerIn(testInstallation, s.ns, c.name) {
			t.Fatalf("%s at its server: %v, owner %q", c.name, err, got.GetOwner())
		}
		if _, err := registeredAt(c.otherAdmin, id); !hydra.IsNotFound(err) {
			t.Fatalf("%s at the other server: %v, want not found", c.name, err)
		}
		if got := string(secret.Data["token_endpoint"]); !strings.HasPrefix(got, c.public) {
			t.Errorf("%s: token_endpoint %q, want its server's (%s)", c.name, got, c.public)
		}
		if err := tokenRequestAt(c.public, id, pw, "read", false); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if obj.Status.ClientID != id {
			t.Errorf("%s: status.clientID %q, Secret %q", c.name, obj.Status.ClientID, id)
		}
	}
	// Deleting the clients removes them from their servers; then a server may go.
	for _, name := range []string{"on-a", "on-b"} {
		id := string(getSecret(t, s.ns, name).Data["client_id"])
		if err := k8s.Delete(context.Background(), &v1alpha1.OAuth2Client{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: name}}); err != nil {
			t.Fatal(err)
		}
		admin := hydraProc.AdminURL()
		if name == "on-b" {
			admin = s.hydraB.AdminURL()
		}
		eventually(t, 30*time.Second, func() error {
			if _, err := registeredAt(admin, id); !hydra.IsNotFound(err) {
				return errString("still at the server: " + name)
			}
			return nil
		})
	}
}

// A server is kept while a client refers to it: deleting it first (as deleting a namespace
// does) leaves it InUse until the client, removed from the server with the kept connection,
// is gone.
func TestServerKeptWhileInUse(t *testing.T) {
	s := newTwoServers(t)
	create(t, onServer(s.ns, "user", v1alpha1.AuthorizationServerKindNamespaced, "a"))
	waitReady(t, s.ns, "user")
	id := string(getSecret(t, s.ns, "user").Data["client_id"])
	if err := k8s.Delete(context.Background(), s.a); err != nil {
		t.Fatal(err)
	}
	waitServer(t, s.a, v1alpha1.ReasonInUse)
	if err := k8s.Delete(context.Background(), &v1alpha1.OAuth2Client{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "user"}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, func() error {
		err := k8s.Get(context.Background(), client.ObjectKeyFromObject(s.a), &v1alpha1.AuthorizationServer{})
		if err == nil {
			return errString("the server is still there")
		}
		return client.IgnoreNotFound(err)
	})
	if _, err := registeredAt(hydraProc.AdminURL(), id); !hydra.IsNotFound(err) {
		t.Fatalf("the client is still at the server after both went: %v", err)
	}
}

// A namespace the cluster server does not select is refused with a message that says so;
// labelling the namespace lets the waiting client through without any other change.
func TestClusterServerSelectsNamespaces(t *testing.T) {
	s := newTwoServers(t)
	outside := newNamespace(t, "servers-outside")
	create(t, onServer(outside, "outsider", v1alpha1.AuthorizationServerKindCluster, s.b.Name))
	obj := waitCondition(t, outside, "outsider", v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonNamespaceNotAllowed)
	if c := meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ConditionReady); !strings.Contains(c.Message, "does not serve namespace "+outside) {
		t.Fatalf("message %q", c.Message)
	}
	if n := s.proxyB.passCalls.Load(); n != 0 {
		t.Fatalf("the server got %d requests for a namespace it does not serve", n)
	}
	labelNamespace(t, outside, map[string]string{"servers-test": s.ns})
	waitReady(t, outside, "outsider")
	// A namespaced server of another namespace can't be named: the reference has no namespace,
	// so the same name in this namespace is simply not found.
	create(t, onServer(outside, "elsewhere", v1alpha1.AuthorizationServerKindNamespaced, "a"))
	waitCondition(t, outside, "elsewhere", v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonAuthorizationServerNotFound)
}

// A wrong token stalls the server as Unauthorized; a client created meanwhile waits with
// AuthorizationServerNotReady; rotating the token Secret heals the server at its next check,
// and the client follows without any change of its own.
func TestServerTokenRotation(t *testing.T) {
	s := newTwoServers(t)
	s.token.Store("rotated-token-" + s.ns) // the gateway now wants a token the Secret lacks
	annotateServer(t, s.a)
	waitServer(t, s.a, v1alpha1.ReasonUnauthorized)
	if !meta.IsStatusConditionTrue(s.a.Status.Conditions, v1alpha1.ConditionStalled) {
		t.Fatalf("conditions %+v, want Stalled", s.a.Status.Conditions)
	}
	create(t, onServer(s.ns, "waits", v1alpha1.AuthorizationServerKindNamespaced, "a"))
	waitCondition(t, s.ns, "waits", v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonAuthorizationServerNotReady)

	secret := getSecret(t, s.ns, "hydra-a-token")
	secret.Data["token"] = []byte("rotated-token-" + s.ns)
	if err := k8s.Update(context.Background(), secret); err != nil {
		t.Fatal(err)
	}
	waitServer(t, s.a, v1alpha1.ReasonReachable)
	waitReady(t, s.ns, "waits")
	assertNoToken(t, s.a, "token-a-"+s.ns, "rotated-token-"+s.ns)
}

// annotateServer asks for a check of the server now.
func annotateServer(t *testing.T, obj client.Object) {
	t.Helper()
	patch := []byte(`{"metadata":{"annotations":{"` + v1alpha1.RequestedAtAnnotation + `":"` + time.Now().Format(time.RFC3339Nano) + `"}}}`)
	if err := k8s.Patch(context.Background(), obj, client.RawPatch(types.MergePatchType, patch)); err != nil {
		t.Fatal(err)
	}
}

// While server A hangs, the clients of server B converge about as fast as when A answers: A's
// passes hold at most their share of the workers (half) until its first timeout, and after that none, as
// its circuit is open until a health check passes. B's convergence with A answering and with
// A starting to hang at the same moment is logged as a ratio (a figure, as the benchmarks
// report them, not a timed assertion); what is asserted is the mechanism: no pass sends A a
// request once A is known to be down, and at most A's share of the workers wait on it at once.
func TestServerHangIsolation(t *testing.T) {
	s := newTwoServers(t)
	const n = 30
	createOn := func(prefix string, kind v1alpha1.AuthorizationServerKind, server string) {
		for i := range n {
			create(t, onServer(s.ns, fmt.Sprintf("%s-%d", prefix, i), kind, server))
		}
	}
	converge := func(prefix string) time.Duration {
		start := time.Now()
		createOn(prefix, v1alpha1.AuthorizationServerKindCluster, s.b.Name)
		for i := range n {
			waitReady(t, s.ns, fmt.Sprintf("%s-%d", prefix, i))
		}
		return time.Since(start)
	}
	converge("warm") // the first clients of a server pay for its connections and first scan
	// The same work both times: 30 clients of A created just before B's, so that what differs
	// is only whether A answers.
	createOn("calm-a", v1alpha1.AuthorizationServerKindNamespaced, "a")
	baseline := converge("calm")

	s.proxyA.hanging.Store(true)
	createOn("stuck", v1alpha1.AuthorizationServerKindNamespaced, "a")
	during := converge("busy")
	t.Logf("B's %d clients converged in %v while A answered and %v while A began to hang, with %d new clients of A each time: ratio %.2f",
		n, baseline, during, n, float64(during)/float64(baseline))

	waitServer(t, s.a, v1alpha1.ReasonUnreachable)
	waitCondition(t, s.ns, "stuck-0", v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonAuthorizationServerNotReady)
	// Passes that were already waiting on A when it was found down end within a timeout.
	var settled int64
	eventually(t, 10*time.Second, func() error {
		if n := s.proxyA.inFlight.Load(); n > 1 { // the health check's own probe may be in flight
			return fmt.Errorf("%d requests still waiting on A: %v", n, s.proxyA.waiting())
		}
		settled = s.proxyA.passCalls.Load()
		return nil
	})
	// Give A's clients passes to make: more clients, and a retry of every stuck one.
	createOn("later", v1alpha1.AuthorizationServerKindNamespaced, "a")
	for i := range n {
		annotate(t, &v1alpha1.OAuth2Client{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: fmt.Sprintf("stuck-%d", i)}},
			v1alpha1.RequestedAtAnnotation, time.Now().Format(time.RFC3339Nano))
	}
	waitCondition(t, s.ns, fmt.Sprintf("later-%d", n-1), v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonAuthorizationServerNotReady)
	if sent := s.proxyA.passCalls.Load() - settled; sent != 0 {
		t.Errorf("passes sent %d requests to A while it was known to be down", sent)
	}
	// The suite runs 8 workers, of which one server's passes may hold 4.
	if m := s.proxyA.maxPassesInFlight.Load(); m > 4 {
		t.Errorf("%d requests waited on A at once; its passes may hold half the workers", m)
	}
}

type errString string

func (e errString) Error() string { return string(e) }
