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
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
)

// The outcome of a check decides the conditions: only a success is Ready; refused credentials
// and a broken Secret are Stalled (someone must act); a missing Secret is a wait; the server
// being down is transient and its message stays the same from one failure to the next.
func TestJudgeServer(t *testing.T) {
	refused := &hydra.APIError{Op: "list", StatusCode: http.StatusUnauthorized, Description: "refused Bearer s3cret"}
	down := fmt.Errorf("hydra version: %w", &net.OpError{Op: "dial", Err: errors.New("connection refused")})
	for _, tc := range []struct {
		name        string
		err         error
		reason      string
		kind        verdictKind
		mustContain string
	}{
		{"reachable", nil, v1alpha1.ReasonReachable, verdictReady, "v2.3.0"},
		{"unauthorized", refused, v1alpha1.ReasonUnauthorized, verdictStalled, "HTTP 401"},
		{"forbidden", &hydra.APIError{Op: "list", StatusCode: http.StatusForbidden}, v1alpha1.ReasonUnauthorized, verdictStalled, "HTTP 403"},
		{"server error", &hydra.APIError{Op: "version", StatusCode: http.StatusBadGateway}, v1alpha1.ReasonUnreachable, verdictTransient, "server_error"},
		{"connection refused", down, v1alpha1.ReasonUnreachable, verdictTransient, "unreachable"},
		{"timeout", context.DeadlineExceeded, v1alpha1.ReasonUnreachable, verdictTransient, "timeout"},
		{"untrusted certificate", fmt.Errorf("hydra version: %w", &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}), v1alpha1.ReasonUnreachable, verdictTransient, "spec.caBundle"},
		{"missing Secret", &waitingError{reason: v1alpha1.ReasonSecretNotFound, message: "Secret a/b does not exist"}, v1alpha1.ReasonSecretNotFound, verdictWaiting, "a/b"},
		{"Secret without the key", stalled(v1alpha1.ReasonSecretInvalid, "no key"), v1alpha1.ReasonSecretInvalid, verdictStalled, "no key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := judgeServer("http://user:pw@hydra-admin:4445", "v2.3.0", tc.err)
			if v.reason != tc.reason || v.kind != tc.kind || !strings.Contains(v.message, tc.mustContain) {
				t.Fatalf("got %+v; want reason %s, kind %d, a message containing %q", v, tc.reason, tc.kind, tc.mustContain)
			}
			for _, leak := range []string{"s3cret", "pw@"} {
				if strings.Contains(v.message, leak) {
					t.Fatalf("the message reveals %q: %s", leak, v.message)
				}
			}
		})
	}
}

// The spec and what it references become the admin client's options.
func TestServerOptions(t *testing.T) {
	testCAPEM := selfSignedPEM(t)
	for _, tc := range []struct {
		name   string
		spec   v1alpha1.AuthorizationServerSpec
		creds  serverCredentials
		check  func(hydra.Options) bool
		reason string // of the error, if one is expected
	}{
		{"bearer token and timeout", v1alpha1.AuthorizationServerSpec{AdminURL: "http://h:4445", Timeout: "30s"}, serverCredentials{token: "t"},
			func(o hydra.Options) bool {
				return o.AdminURL == "http://h:4445" && o.BearerToken == "t" && o.Timeout == 30*time.Second
			}, ""},
		{"default timeout", v1alpha1.AuthorizationServerSpec{AdminURL: "http://h"}, serverCredentials{},
			func(o hydra.Options) bool { return o.Timeout == hydra.DefaultTimeout && o.BearerToken == "" }, ""},
		{"basic", v1alpha1.AuthorizationServerSpec{AdminURL: "http://h"}, serverCredentials{username: "u", password: "p"},
			func(o hydra.Options) bool { return o.BasicUsername == "u" && o.BasicPassword == "p" }, ""},
		{"CA bundle", v1alpha1.AuthorizationServerSpec{AdminURL: "https://h"}, serverCredentials{ca: []byte(testCAPEM)},
			func(o hydra.Options) bool { return string(o.CABundle) == testCAPEM }, ""},
		{"CA bundle without a certificate", v1alpha1.AuthorizationServerSpec{AdminURL: "https://h"}, serverCredentials{ca: []byte("nothing")},
			nil, v1alpha1.ReasonSecretInvalid},
		{"unusable client certificate", v1alpha1.AuthorizationServerSpec{AdminURL: "https://h"}, serverCredentials{certPEM: []byte("x"), keyPEM: []byte("secret-key")},
			nil, v1alpha1.ReasonSecretInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts, err := serverOptions(&tc.spec, tc.creds)
			var st *stalledError
			switch {
			case tc.reason == "" && err != nil:
				t.Fatal(err)
			case tc.reason != "" && (!errors.As(err, &st) || st.reason != tc.reason):
				t.Fatalf("got %v; want a stall with reason %s", err, tc.reason)
			case tc.reason != "" && strings.Contains(err.Error(), "secret-key"):
				t.Fatalf("the error reveals the key: %v", err)
			case tc.check != nil && !tc.check(opts):
				t.Fatalf("options %+v", opts)
			}
		})
	}
}

// selfSignedPEM is a self-signed CA certificate in PEM.
func selfSignedPEM(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// A namespaced server reads its Secrets in its own namespace, a cluster server in the
// operator's, whatever namespace a tenant's Secret of the same name is in.
func TestServerSecretsNamespace(t *testing.T) {
	auth := &v1alpha1.AdminAuth{BearerToken: &v1alpha1.BearerTokenAuth{SecretKeyRef: v1alpha1.SecretKeySelector{Name: "admin", Key: "token"}}}
	secret := func(ns, token string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "admin"}, Data: map[string][]byte{"token": []byte(token)}}
	}
	k := fake.NewClientBuilder().WithScheme(fastScheme).
		WithObjects(secret("tenant", "tenant-token"), secret("operator", "operator-token")).
		WithStatusSubresource(&v1alpha1.AuthorizationServer{}, &v1alpha1.ClusterAuthorizationServer{}).Build()
	var sent []string
	probe := func(_ context.Context, o hydra.Options) (string, error) {
		sent = append(sent, o.BearerToken)
		return "v2.3.0", nil
	}
	spec := v1alpha1.AuthorizationServerSpec{AdminURL: "http://hydra:4445", Auth: auth}
	ns := &v1alpha1.AuthorizationServer{ObjectMeta: metav1.ObjectMeta{Namespace: "tenant", Name: "s"}, Spec: spec}
	cl := &v1alpha1.ClusterAuthorizationServer{ObjectMeta: metav1.ObjectMeta{Name: "s"}, Spec: v1alpha1.ClusterAuthorizationServerSpec{AuthorizationServerSpec: spec}}
	for _, obj := range []client.Object{ns, cl} {
		if err := k.Create(context.Background(), obj); err != nil {
			t.Fatal(err)
		}
	}
	for _, obj := range []client.Object{ns, cl} {
		_, cluster := obj.(*v1alpha1.ClusterAuthorizationServer)
		r := &AuthorizationServerReconciler{Client: k, APIReader: k, Cluster: cluster, OperatorNamespace: "operator", Probe: probe}
		if _, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: client.ObjectKeyFromObject(obj)}); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Join(sent, ",") != "tenant-token,operator-token" {
		t.Fatalf("tokens sent: %v; want the tenant's for the namespaced server, the operator namespace's for the cluster one", sent)
	}
}

// A pass records its verdict in status once, with an Event only when the reason changes; a
// refused token never reaches status or Events.
func TestServerReconcileStatusAndEvents(t *testing.T) {
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "admin"}, Data: map[string][]byte{"token": []byte("wrong-token")}}
	server := &v1alpha1.AuthorizationServer{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "s", Generation: 1},
		Spec: v1alpha1.AuthorizationServerSpec{AdminURL: "http://hydra:4445",
			Auth: &v1alpha1.AdminAuth{BearerToken: &v1alpha1.BearerTokenAuth{SecretKeyRef: v1alpha1.SecretKeySelector{Name: "admin", Key: "token"}}}}}
	k := fake.NewClientBuilder().WithScheme(fastScheme).WithObjects(secret, server).
		WithStatusSubresource(&v1alpha1.AuthorizationServer{}).Build()
	rec := events.NewFakeRecorder(10)
	probe := func(_ context.Context, o hydra.Options) (string, error) {
		if o.BearerToken == "right-token" {
			return "v2.3.0", nil
		}
		return "", &hydra.APIError{Op: "list", StatusCode: http.StatusUnauthorized, Description: "token " + o.BearerToken + " refused"}
	}
	r := &AuthorizationServerReconciler{Client: k, APIReader: k, Recorder: rec, Probe: probe}
	pass := func() *v1alpha1.AuthorizationServer {
		t.Helper()
		res, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: client.ObjectKeyFromObject(server)})
		if err != nil || res.RequeueAfter <= 0 {
			t.Fatalf("result %+v, %v; want a re-check after an interval", res, err)
		}
		got := &v1alpha1.AuthorizationServer{}
		if err := k.Get(context.Background(), client.ObjectKeyFromObject(server), got); err != nil {
			t.Fatal(err)
		}
		return got
	}
	got := pass()
	pass()
	if !meta.IsStatusConditionTrue(got.Status.Conditions, v1alpha1.ConditionStalled) ||
		meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionReady).Reason != v1alpha1.ReasonUnauthorized {
		t.Fatalf("conditions %+v; want Stalled with reason Unauthorized", got.Status.Conditions)
	}
	secret.Data["token"] = []byte("right-token")
	if err := k.Update(context.Background(), secret); err != nil {
		t.Fatal(err)
	}
	got = pass()
	if !meta.IsStatusConditionTrue(got.Status.Conditions, v1alpha1.ConditionReady) || got.Status.Version != "v2.3.0" ||
		meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionStalled) != nil || got.Status.LastCheckTime == nil {
		t.Fatalf("status %+v; want Ready with version v2.3.0 and no Stalled", got.Status)
	}
	close(rec.Events)
	var seen []string
	for e := range rec.Events {
		seen = append(seen, e)
		if strings.Contains(e, "wrong-token") || strings.Contains(e, "right-token") {
			t.Errorf("an Event reveals the token: %s", e)
		}
	}
	if len(seen) != 2 {
		t.Errorf("events %q; want one for Unauthorized and one for Reachable", seen)
	}
	if s := fmt.Sprint(got.Status); strings.Contains(s, "wrong-token") {
		t.Errorf("status reveals the token: %s", s)
	}
}

// TestReferencedObjects: the objects watched for a server are exactly those its check reads.
func TestReferencedObjects(t *testing.T) {
	secret := func(name string) referencedObject { return referencedObject{namespace: "ns", name: name} }
	tests := []struct {
		name string
		spec v1alpha1.AuthorizationServerSpec
		want []referencedObject
	}{
		{"no auth, no CA", v1alpha1.AuthorizationServerSpec{}, nil},
		{"bearer token", v1alpha1.AuthorizationServerSpec{Auth: &v1alpha1.AdminAuth{
			BearerToken: &v1alpha1.BearerTokenAuth{SecretKeyRef: v1alpha1.SecretKeySelector{Name: "tok", Key: "token"}}}},
			[]referencedObject{secret("tok")}},
		{"basic", v1alpha1.AuthorizationServerSpec{Auth: &v1alpha1.AdminAuth{
			Basic: &v1alpha1.BasicAuth{SecretRef: v1alpha1.LocalObjectReference{Name: "basic"}}}},
			[]referencedObject{secret("basic")}},
		{"client certificate and CA from a Secret", v1alpha1.AuthorizationServerSpec{
			Auth:     &v1alpha1.AdminAuth{ClientCertificate: &v1alpha1.ClientCertificateAuth{SecretRef: v1alpha1.LocalObjectReference{Name: "tls"}}},
			CABundle: &v1alpha1.CABundleSource{SecretKeyRef: &v1alpha1.SecretKeySelector{Name: "ca", Key: "ca.crt"}}},
			[]referencedObject{secret("tls"), secret("ca")}},
		{"CA from a ConfigMap", v1alpha1.AuthorizationServerSpec{
			CABundle: &v1alpha1.CABundleSource{ConfigMapKeyRef: &v1alpha1.ConfigMapKeySelector{Name: "ca", Key: "ca.crt"}}},
			[]referencedObject{{configMap: true, namespace: "ns", name: "ca"}}},
		{"inline CA", v1alpha1.AuthorizationServerSpec{CABundle: &v1alpha1.CABundleSource{Inline: "PEM"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := referencedObjects("ns", &tt.spec); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("referencedObjects = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestShardedServerUsage: a shard's cache holds only its own OAuth2Clients, so a sharded
// operator asks the API server whether a server being deleted is still in use; a client of
// another shard keeps the server (InUse) until it is gone.
func TestShardedServerUsage(t *testing.T) {
	now := metav1.Now()
	server := &v1alpha1.AuthorizationServer{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "s", Generation: 1,
		DeletionTimestamp: &now, Finalizers: []string{v1alpha1.FinalizerName}}}
	other := &v1alpha1.OAuth2Client{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "other-shard", Labels: map[string]string{"oauth2.clientoperator.dev/shard": "two"}},
		Spec: v1alpha1.OAuth2ClientSpec{AuthorizationServerRef: &v1alpha1.AuthorizationServerReference{Kind: v1alpha1.AuthorizationServerKindNamespaced, Name: "s"}}}
	unrelated := &v1alpha1.OAuth2Client{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "default-server"}}
	shardCache := fake.NewClientBuilder().WithScheme(fastScheme).WithObjects(server).WithStatusSubresource(&v1alpha1.AuthorizationServer{}).
		WithIndex(&v1alpha1.OAuth2Client{}, serverIndex, func(o client.Object) []string {
			if key, ok := referencedServer(o.(*v1alpha1.OAuth2Client)); ok {
				return []string{key.String()}
			}
			return nil
		}).Build()
	apiServer := fake.NewClientBuilder().WithScheme(fastScheme).WithObjects(other, unrelated).Build()
	r := &AuthorizationServerReconciler{Client: shardCache, APIReader: apiServer, UsageUncached: true}
	pass := func() *v1alpha1.AuthorizationServer {
		t.Helper()
		if _, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: client.ObjectKeyFromObject(server)}); err != nil {
			t.Fatal(err)
		}
		got := &v1alpha1.AuthorizationServer{}
		if err := shardCache.Get(context.Background(), client.ObjectKeyFromObject(server), got); err != nil {
			return nil // the finalizer went, and the fake deleted the server
		}
		return got
	}
	got := pass()
	if got == nil || meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionReady).Reason != v1alpha1.ReasonInUse {
		t.Fatalf("with another shard's client referring to it, the server is %+v; want it kept, InUse", got)
	}
	if err := apiServer.Delete(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	if got := pass(); got != nil {
		t.Fatalf("no client refers to the server, yet it is kept: finalizers %v", got.Finalizers)
	}
}
