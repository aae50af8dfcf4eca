//go:build integration

package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// serverNamespace is where the suite's operator reads the Secrets of ClusterAuthorizationServers:
// internal/operator's fallback for the operator's namespace when nothing else names one.
const serverNamespace = "default"

// authenticatingHydra is the suite's Hydra behind a gateway that answers 401 to any request
// without "Authorization: Bearer <token>", as an admin API guarded by an ingress would, and, as
// a careless one might, quotes the header it refused. It counts the requests it refused.
func authenticatingHydra(t *testing.T, token string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	target, err := url.Parse(hydraProc.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	refused := &atomic.Int64{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			refused.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "unauthorized", "error_description": "refused " + r.Header.Get("Authorization")})
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, refused
}

func tokenSecret(ns, name, token string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, StringData: map[string]string{"token": token}}
}

func bearerServerSpec(adminURL, secret string) v1alpha1.AuthorizationServerSpec {
	return v1alpha1.AuthorizationServerSpec{AdminURL: adminURL, Auth: &v1alpha1.AdminAuth{
		BearerToken: &v1alpha1.BearerTokenAuth{SecretKeyRef: v1alpha1.SecretKeySelector{Name: secret, Key: "token"}}}}
}

// waitServer polls the server until its Ready condition has reason (and the conditions kstatus
// reads for it), for the current generation, and returns it.
func waitServer(t *testing.T, obj authorizationServer, reason string) authorizationServer {
	t.Helper()
	eventually(t, 30*time.Second, func() error {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		st := obj.ServerStatus()
		c := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionReady)
		if c == nil || c.Reason != reason || st.ObservedGeneration != obj.GetGeneration() {
			return fmt.Errorf("%s: want Ready reason %s, have %+v", obj.GetName(), reason, c)
		}
		return nil
	})
	return obj
}

// hydraVersion is what the suite's Hydra itself says its version is.
func hydraVersion(t *testing.T) string {
	t.Helper()
	resp, err := http.Get(hydraProc.AdminURL() + "/version")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct{ Version string }
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || v.Version == "" {
		t.Fatalf("reading Hydra's version: %v (%+v)", err, v)
	}
	return v.Version
}

// A server behind an authenticating gateway: a wrong token stalls it as Unauthorized; the
// fixed Secret heals it at the next check, with Hydra's version in status; the token is in
// neither status nor Events.
func TestAuthorizationServerHealth(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, "servers")
	good, wrong := "good-admin-token-"+ns, "wrong-admin-token-"+ns
	gateway, refused := authenticatingHydra(t, good)
	secret := tokenSecret(ns, "hydra-admin", wrong)
	create(t, secret)
	server := &v1alpha1.AuthorizationServer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hydra"}, Spec: bearerServerSpec(gateway.URL, "hydra-admin")}
	create(t, server)

	waitServer(t, server, v1alpha1.ReasonUnauthorized)
	if !meta.IsStatusConditionTrue(server.Status.Conditions, v1alpha1.ConditionStalled) || refused.Load() == 0 {
		t.Fatalf("conditions %+v, %d refused requests; want Stalled after the gateway refused the token", server.Status.Conditions, refused.Load())
	}

	secret.StringData = map[string]string{"token": good}
	if err := k8s.Update(ctx, secret); err != nil {
		t.Fatal(err)
	}
	waitServer(t, server, v1alpha1.ReasonReachable)
	if want := hydraVersion(t); server.Status.Version != want || server.Status.LastCheckTime == nil ||
		meta.FindStatusCondition(server.Status.Conditions, v1alpha1.ConditionStalled) != nil {
		t.Fatalf("status %+v; want Ready with version %s, a check time and no Stalled", server.Status, want)
	}
	waitServerEvent(t, server, corev1.EventTypeWarning, v1alpha1.ReasonUnauthorized)
	waitServerEvent(t, server, corev1.EventTypeNormal, v1alpha1.ReasonReachable)
	assertNoToken(t, server, good, wrong)
}

// A missing Secret is waited for (working, not stalled), and its arrival makes the server Ready.
func TestAuthorizationServerWaitsForItsSecret(t *testing.T) {
	ns := newNamespace(t, "servers")
	token := "late-admin-token-" + ns
	gateway, _ := authenticatingHydra(t, token)
	server := &v1alpha1.AuthorizationServer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hydra"}, Spec: bearerServerSpec(gateway.URL, "late")}
	create(t, server)
	waitServer(t, server, v1alpha1.ReasonSecretNotFound)
	if !meta.IsStatusConditionTrue(server.Status.Conditions, v1alpha1.ConditionReconciling) {
		t.Fatalf("conditions %+v; want Reconciling while the Secret is missing", server.Status.Conditions)
	}
	create(t, tokenSecret(ns, "late", token))
	waitServer(t, server, v1alpha1.ReasonReachable)
}

// A cluster server reads its Secret in the operator's namespace: a tenant's Secret of the same
// name, holding a wrong token, is never used. A server that can't be reached is working, with
// the cause, not stalled.
func TestClusterAuthorizationServerHealth(t *testing.T) {
	ns := newNamespace(t, "tenant")
	name := "cluster-admin-" + ns
	token := "cluster-admin-token-" + ns
	gateway, _ := authenticatingHydra(t, token)
	create(t, tokenSecret(serverNamespace, name, token))
	create(t, tokenSecret(ns, name, "tenant-token-"+ns))
	server := &v1alpha1.ClusterAuthorizationServer{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1alpha1.ClusterAuthorizationServerSpec{AuthorizationServerSpec: bearerServerSpec(gateway.URL, name)}}
	create(t, server)
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), server) })
	waitServer(t, server, v1alpha1.ReasonReachable)
	assertNoToken(t, server, token)

	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	server.Spec.AdminURL = closed.URL
	if err := k8s.Update(context.Background(), server); err != nil {
		t.Fatal(err)
	}
	waitServer(t, server, v1alpha1.ReasonUnreachable)
	c := meta.FindStatusCondition(server.Status.Conditions, v1alpha1.ConditionReconciling)
	if c == nil || c.Status != metav1.ConditionTrue || !strings.Contains(c.Message, "unreachable") {
		t.Fatalf("conditions %+v; want Reconciling with the cause", server.Status.Conditions)
	}
}

// waitServerEvent waits for an Event of this type and reason about obj.
func waitServerEvent(t *testing.T, obj authorizationServer, eventType, reason string) {
	t.Helper()
	eventually(t, 30*time.Second, func() error {
		list, err := serverEvents(obj)
		if err != nil {
			return err
		}
		for _, e := range list {
			if e.Type == eventType && e.Reason == reason {
				return nil
			}
		}
		return fmt.Errorf("no %s event %s among %d", eventType, reason, len(list))
	})
}

func serverEvents(obj authorizationServer) ([]eventsv1.Event, error) {
	var list eventsv1.EventList
	ns := obj.GetNamespace()
	if ns == "" {
		ns = metav1.NamespaceDefault // Events about cluster-scoped objects
	}
	if err := k8s.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		return nil, err
	}
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.UID == obj.GetUID() {
			out = append(out, e)
		}
	}
	return out, nil
}

// assertNoToken fails when any token appears in obj's status or in an Event about it.
func assertNoToken(t *testing.T, obj authorizationServer, tokens ...string) {
	t.Helper()
	status, err := json.Marshal(obj.ServerStatus())
	if err != nil {
		t.Fatal(err)
	}
	events, err := serverEvents(obj)
	if err != nil {
		t.Fatal(err)
	}
	seen, _ := json.Marshal(events)
	for _, token := range tokens {
		if strings.Contains(string(status), token) || strings.Contains(string(seen), token) {
			t.Errorf("a token appears in status or Events of %s", obj.GetName())
		}
	}
}

// A tenant with the shipped editor role can read the servers of its namespace, and the
// cluster's, but not create one: the operator would send requests, with credentials, to any
// URL a tenant names. The admin role can create both kinds.
func TestOnlyServerAdminsCreateServers(t *testing.T) {
	ctx := context.Background()
	sc := newScene(t, "server-rbac", installEditorRole(t))
	server := &v1alpha1.AuthorizationServer{ObjectMeta: metav1.ObjectMeta{Namespace: sc.ns, Name: "mine"},
		Spec: v1alpha1.AuthorizationServerSpec{AdminURL: "http://attacker.example"}}
	if err := sc.tenant.Create(ctx, server.DeepCopy()); !apierrors.IsForbidden(err) {
		t.Fatalf("the editor created an AuthorizationServer (%v)", err)
	}
	cluster := &v1alpha1.ClusterAuthorizationServer{ObjectMeta: metav1.ObjectMeta{Name: "mine-" + sc.ns},
		Spec: v1alpha1.ClusterAuthorizationServerSpec{AuthorizationServerSpec: server.Spec}}
	if err := sc.tenant.Create(ctx, cluster.DeepCopy()); !apierrors.IsForbidden(err) {
		t.Fatalf("the editor created a ClusterAuthorizationServer (%v)", err)
	}
	if err := sc.tenant.List(ctx, &v1alpha1.AuthorizationServerList{}, client.InNamespace(sc.ns)); err != nil {
		t.Fatalf("the editor can't list the servers of its namespace: %v", err)
	}

	admin := bindClusterRole(t, "server-admin-of-"+sc.ns, "authorizationserver_admin_role.yaml")
	if err := admin.Create(ctx, server.DeepCopy(), client.DryRunAll); err != nil {
		t.Fatalf("the admin role can't create an AuthorizationServer: %v", err)
	}
	if err := admin.Create(ctx, cluster.DeepCopy(), client.DryRunAll); err != nil {
		t.Fatalf("the admin role can't create a ClusterAuthorizationServer: %v", err)
	}
}

// bindClusterRole installs config/rbac/<file> under a name of the suite and binds it
// cluster-wide to a new user, whose client it returns once the binding is in effect.
func bindClusterRole(t *testing.T, user, file string) client.Client {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "config", "rbac", file))
	if err != nil {
		t.Fatal(err)
	}
	role := &rbacv1.ClusterRole{}
	if err := yaml.UnmarshalStrict(raw, role); err != nil {
		t.Fatal(err)
	}
	role.Name = "server-suite-" + role.Name
	if err := k8s.Create(context.Background(), role); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	u, err := env.AddUser(envtest.User{Name: user}, restCfg)
	if err != nil {
		t.Fatal(err)
	}
	create(t, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: user},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}})
	c, err := client.New(u.Config(), client.Options{Scheme: testScheme})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		return c.List(context.Background(), &v1alpha1.ClusterAuthorizationServerList{})
	})
	return c
}
