package controllers

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra/hydrafake"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/secrets"
)

// The fast tier: the reconciler's decisions, table-driven, without a control plane or a Hydra
// process. The API server is controller-runtime's fake client (with the status subresource and
// the claims index the manager's cache has); Hydra is hydrafake, which the contract table in
// internal/hydra holds to a real Hydra, reached through the real adapter. It runs in
// `make test-unit`. What only real processes can show (caches, watches, RBAC, garbage
// collection, crashes between calls) stays in the integration tier.

// fastWorld is one case's cluster and Hydra, and the reconciler between them.
type fastWorld struct {
	t      *testing.T
	k8s    client.Client
	hydra  *hydrafake.Fake
	api    hydra.Client // the real adapter, pointed at the fake; the reconciler's is observed
	r      *OAuth2ClientReconciler
	events *events.FakeRecorder
}

var fastScheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(v1alpha1.AddToScheme(s))
	return s
}()

func newFastWorld(t *testing.T, objs ...client.Object) *fastWorld {
	t.Helper()
	k := fake.NewClientBuilder().WithScheme(fastScheme).
		WithReturnManagedFields(). // as the API server: the operator reads who owns a Secret's fields
		WithStatusSubresource(&v1alpha1.OAuth2Client{}).
		WithIndex(&v1alpha1.OAuth2Client{}, clientIDIndex, claimedIDs).
		WithObjects(objs...).
		Build()
	h := hydrafake.Start(t)
	api, err := hydra.New(hydra.Options{AdminURL: h.URL, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	rec := events.NewFakeRecorder(100)
	r := &OAuth2ClientReconciler{
		Client: k, APIReader: k, Scheme: fastScheme, Hydra: NewServerState(DefaultServer).Observe(api), Recorder: rec,
		SyncPeriod: time.Minute, FingerprintKey: []byte("fast-tier-fingerprint-key-0123456789"),
		Installation:  fastInstallation,
		Policy:        NamespacePolicy{ClientIDRules: []string{"granted"}, AdoptionNamespaces: []string{"granted"}},
		claimsIndexed: true,
	}
	return &fastWorld{t: t, k8s: k, hydra: h, api: api, r: r, events: rec}
}

// resource is a client_credentials OAuth2Client as a user would apply it, with the UID and
// creation time the API server would give it.
func resource(ns, name string, shape ...func(*v1alpha1.OAuth2Client)) *v1alpha1.OAuth2Client {
	obj := &v1alpha1.OAuth2Client{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ns, Name: name, UID: types.UID("uid-" + ns + "-" + name), Generation: 1,
			CreationTimestamp: metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
		},
		Spec: v1alpha1.OAuth2ClientSpec{GrantTypes: []v1alpha1.GrantType{"client_credentials"}, Scopes: []string{"read"}},
	}
	for _, f := range shape {
		f(obj)
	}
	return obj
}

// reconcile runs passes until one needs no retry (or n passes), as the controller would.
func (w *fastWorld) reconcile(obj *v1alpha1.OAuth2Client, n int) (ctrl.Result, error) {
	w.t.Helper()
	var res ctrl.Result
	var err error
	for range n {
		res, err = w.r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(obj)})
		if err == nil {
			break
		}
	}
	return res, err
}

func (w *fastWorld) get(obj *v1alpha1.OAuth2Client) *v1alpha1.OAuth2Client {
	w.t.Helper()
	got := &v1alpha1.OAuth2Client{}
	if err := w.k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), got); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		w.t.Fatal(err)
	}
	return got
}

func (w *fastWorld) secret(ns, name string) *corev1.Secret {
	w.t.Helper()
	s := &corev1.Secret{}
	if err := w.k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, s); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		w.t.Fatal(err)
	}
	return s
}

// registered puts a client at Hydra, as someone else (or an earlier pass) made it.
func (w *fastWorld) registered(id, owner, secret string) {
	w.t.Helper()
	c := &hydra.OAuth2Client{ClientId: &id, GrantTypes: []string{"client_credentials"}, Scope: ptrTo("read")}
	if owner != "" {
		c.Owner = &owner
	}
	if secret != "" {
		c.ClientSecret = &secret
	}
	if _, err := w.api.Create(context.Background(), c); err != nil {
		w.t.Fatal(err)
	}
}

func (w *fastWorld) eventReasons() []string {
	var out []string
	for {
		select {
		case e := <-w.events.Events:
			f := strings.Fields(e)
			if len(f) > 1 {
				out = append(out, f[1])
			}
		default:
			return out
		}
	}
}

// outcome is what a user sees after the passes: the Ready condition and the Stalled one.
type outcome struct {
	ready   metav1.ConditionStatus
	reason  string
	stalled bool
	retried bool // the pass returned an error: the controller retries with backoff
}

func observe(obj *v1alpha1.OAuth2Client, err error) outcome {
	o := outcome{retried: err != nil}
	if c := meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ConditionReady); c != nil {
		o.ready, o.reason = c.Status, c.Reason
	}
	o.stalled = meta.IsStatusConditionTrue(obj.Status.Conditions, v1alpha1.ConditionStalled)
	return o
}

// fastInstallation is the fast tier's cluster name in owner marks.
const fastInstallation = "fast-cluster"

func TestReconcileDecisions(t *testing.T) {
	owned := func(ns, name string) string { return hydra.OwnerIn(fastInstallation, ns, name) }
	tests := []struct {
		name string
		obj  *v1alpha1.OAuth2Client
		// before shapes the world first: clients at Hydra, Secrets, faults.
		before func(w *fastWorld, obj *v1alpha1.OAuth2Client)
		passes int
		want   outcome
		// check looks at what the passes left behind.
		check func(t *testing.T, w *fastWorld, obj *v1alpha1.OAuth2Client)
	}{{
		name:   "create: the Secret first, then Hydra, then Ready",
		obj:    resource("shop", "svc"),
		passes: 1,
		want:   outcome{ready: metav1.ConditionTrue, reason: v1alpha1.ReasonReconciled},
		check: func(t *testing.T, w *fastWorld, obj *v1alpha1.OAuth2Client) {
			s := w.secret("shop", "svc")
			id, secret := string(s.Data["client_id"]), string(s.Data["client_secret"])
			if id != string(obj.UID) || len(secret) != 43 || !w.hydra.SecretMatches(id, secret) {
				t.Fatalf("client %q with a %d-character secret; Hydra accepts it: %t", id, len(secret), w.hydra.SecretMatches(id, secret))
			}
			if c, _ := w.api.Get(context.Background(), id); c.GetOwner() != owned("shop", "svc") {
				t.Fatalf("owner %q", c.GetOwner())
			}
			if got := w.get(obj); got.Status.ClientID != id || got.Status.ObservedGeneration != 1 || len(got.Finalizers) != 1 {
				t.Fatalf("status %+v, finalizers %v", got.Status, got.Finalizers)
			}
			if calls := w.hydra.Calls(); calls.Create != 1 || calls.Update != 0 {
				t.Fatalf("Hydra calls %+v: one create and nothing else", calls)
			}
		},
	}, {
		name:   "a second pass of a Ready client writes nothing",
		obj:    resource("shop", "svc"),
		passes: 1,
		want:   outcome{ready: metav1.ConditionTrue, reason: v1alpha1.ReasonReconciled},
		check: func(t *testing.T, w *fastWorld, obj *v1alpha1.OAuth2Client) {
			before := w.hydra.Calls()
			rv := w.secret("shop", "svc").ResourceVersion
			if _, err := w.reconcile(obj, 1); err != nil {
				t.Fatal(err)
			}
			after := w.hydra.Calls()
			if after.Create+after.Update+after.Delete != before.Create+before.Update+before.Delete {
				t.Fatalf("Hydra writes in a pass with nothing to do: %+v -> %+v", before, after)
			}
			if w.secret("shop", "svc").ResourceVersion != rv {
				t.Fatal("the Secret was written in a pass with nothing to do")
			}
		},
	}, {
		name:   "an ID under the namespace's prefix is the tenant's",
		obj:    resource("shop", "svc", func(o *v1alpha1.OAuth2Client) { o.Spec.ClientID = "shop.svc" }),
		passes: 1,
		want:   outcome{ready: metav1.ConditionTrue, reason: v1alpha1.ReasonReconciled},
	}, {
		// Hydra is read first (a client marked as this resource's own would need no grant), but
		// nothing is written, and the refusal doesn't tell whether the client exists.
		name:   "an ID outside the prefix is refused without a Hydra write",
		obj:    resource("shop", "svc", func(o *v1alpha1.OAuth2Client) { o.Spec.ClientID = "other.svc" }),
		passes: 1,
		want:   outcome{ready: metav1.ConditionFalse, reason: v1alpha1.ReasonNamespaceNotAllowed, stalled: true},
		check:  expectNoHydraWrites,
	}, {
		name: "another resource's client is a conflict and stays untouched",
		obj:  resource("granted", "svc", func(o *v1alpha1.OAuth2Client) { o.Spec.ClientID = "taken" }),
		before: func(w *fastWorld, _ *v1alpha1.OAuth2Client) {
			w.registered("taken", owned("other", "app"), "other-secret")
		},
		passes: 1,
		want:   outcome{ready: metav1.ConditionFalse, reason: v1alpha1.ReasonClientIDConflict, stalled: true},
		check: func(t *testing.T, w *fastWorld, _ *v1alpha1.OAuth2Client) {
			if calls := w.hydra.Calls(); calls.Update+calls.Delete != 0 || !w.hydra.SecretMatches("taken", "other-secret") {
				t.Fatalf("the other resource's client was written: %+v", calls)
			}
		},
	}, {
		// Two clusters share the server: the client is the same namespace and name's, of the
		// other cluster. Even adoptExistingClient does not take it.
		name: "a client of another cluster's resource of the same name is a conflict and stays untouched",
		obj: resource("granted", "svc", func(o *v1alpha1.OAuth2Client) {
			o.Spec.ClientID = "shared"
			o.Spec.AdoptExistingClient = true
		}),
		before: func(w *fastWorld, _ *v1alpha1.OAuth2Client) {
			w.registered("shared", hydra.OwnerIn("other-cluster", "granted", "svc"), "other-secret")
		},
		passes: 1,
		want:   outcome{ready: metav1.ConditionFalse, reason: v1alpha1.ReasonClientIDConflict, stalled: true},
		check: func(t *testing.T, w *fastWorld, obj *v1alpha1.OAuth2Client) {
			if calls := w.hydra.Calls(); calls.Update+calls.Delete != 0 || !w.hydra.SecretMatches("shared", "other-secret") {
				t.Fatalf("the other cluster's client was written: %+v", calls)
			}
			if c := meta.FindStatusCondition(w.get(obj).Status.Conditions, v1alpha1.ConditionReady); !strings.Contains(c.Message, `installation "other-cluster"`) {
				t.Fatalf("the message does not name the other cluster: %q", c.Message)
			}
			// Deleting the resource leaves the other cluster's client alone.
			if err := w.k8s.Delete(context.Background(), w.get(obj)); err != nil {
				t.Fatal(err)
			}
			if _, err := w.reconcile(obj, 1); err != nil {
				t.Fatal(err)
			}
			if got := w.get(obj); got != nil {
				t.Fatalf("the resource was not deleted: finalizers %v", got.Finalizers)
			}
			if _, err := w.api.Get(context.Background(), "shared"); err != nil {
				t.Fatalf("the other cluster's client after deleting this resource: %v", err)
			}
		},
	}, {
		// Upgrading from a version without --cluster-name: the resource's client carries the
		// mark without an installation, which this installation wrote; it is kept and re-marked.
		name: "a client with the legacy mark of this resource is its own, and gets the installation's mark",
		obj:  resource("granted", "svc", func(o *v1alpha1.OAuth2Client) { o.Spec.ClientID = "old" }),
		before: func(w *fastWorld, _ *v1alpha1.OAuth2Client) {
			w.registered("old", hydra.OwnerFor("granted", "svc"), "")
		},
		passes: 1,
		want:   outcome{ready: metav1.ConditionTrue, reason: v1alpha1.ReasonReconciled},
		check: func(t *testing.T, w *fastWorld, _ *v1alpha1.OAuth2Client) {
			if c, err := w.api.Get(context.Background(), "old"); err != nil || c.GetOwner() != owned("granted", "svc") {
				t.Fatalf("owner after the upgrade: %q (%v)", c.GetOwner(), err)
			}
			// The one create is the test's own, above.
			if calls := w.hydra.Calls(); calls.Create != 1 || calls.Delete != 0 || calls.Update != 1 {
				t.Fatalf("Hydra calls %+v: want the client updated in place, not re-created", calls)
			}
		},
	}, {
		name:   "an unmarked client needs adoptExistingClient",
		obj:    resource("granted", "svc", func(o *v1alpha1.OAuth2Client) { o.Spec.ClientID = "legacy" }),
		before: func(w *fastWorld, _ *v1alpha1.OAuth2Client) { w.registered("legacy", "", "legacy-secret") },
		passes: 1,
		want:   outcome{ready: metav1.ConditionFalse, reason: v1alpha1.ReasonClientIDConflict, stalled: true},
	}, {
		name: "adoption takes an unmarked client over, marks it and registers the Secret's secret",
		obj: resource("granted", "svc", func(o *v1alpha1.OAuth2Client) {
			o.Spec.ClientID = "legacy"
			o.Spec.AdoptExistingClient = true
		}),
		before: func(w *fastWorld, _ *v1alpha1.OAuth2Client) { w.registered("legacy", "", "legacy-secret") },
		passes: 1,
		want:   outcome{ready: metav1.ConditionTrue, reason: v1alpha1.ReasonReconciled},
		check: func(t *testing.T, w *fastWorld, _ *v1alpha1.OAuth2Client) {
			c, err := w.api.Get(context.Background(), "legacy")
			if err != nil || c.GetOwner() != owned("granted", "svc") {
				t.Fatalf("owner after adoption: %q (%v)", c.GetOwner(), err)
			}
			secret := string(w.secret("granted", "svc").Data["client_secret"])
			if !w.hydra.SecretMatches("legacy", secret) || w.hydra.SecretMatches("legacy", "legacy-secret") {
				t.Fatal("Hydra does not hold the Secret's secret after adoption")
			}
		},
	}, {
		name: "adoption from a namespace not allowed to adopt",
		obj: resource("shop", "svc", func(o *v1alpha1.OAuth2Client) {
			o.Spec.ClientID = "shop.legacy"
			o.Spec.AdoptExistingClient = true
		}),
		before: func(w *fastWorld, _ *v1alpha1.OAuth2Client) { w.registered("shop.legacy", "", "legacy-secret") },
		passes: 1,
		want:   outcome{ready: metav1.ConditionFalse, reason: v1alpha1.ReasonNamespaceNotAllowed, stalled: true},
	}, {
		// What `manager migrate` writes for hydra-maester's shop/web: its Secret, shared, with
		// its keys; the client Hydra gave a UUID, which no grant covers.
		name:   "adoptFrom HydraMaester takes over its client of the same name: same ID and secret, our mark",
		obj:    migrated("shop", "web"),
		before: func(w *fastWorld, obj *v1alpha1.OAuth2Client) { w.hydraMaesterState(obj, "web/shop", true) },
		passes: 1,
		want:   outcome{ready: metav1.ConditionTrue, reason: v1alpha1.ReasonReconciled},
		check: func(t *testing.T, w *fastWorld, obj *v1alpha1.OAuth2Client) {
			c, err := w.api.Get(context.Background(), maesterID)
			if err != nil || c.GetOwner() != owned("shop", "web") {
				t.Fatalf("owner after adoption: %q (%v)", c.GetOwner(), err)
			}
			if !w.hydra.SecretMatches(maesterID, maesterSecret) {
				t.Fatal("the secret hydra-maester's Secret holds no longer works")
			}
			if calls := w.hydra.Calls(); calls.Create != 1 || calls.Update != 1 || calls.Delete != 0 {
				t.Fatalf("Hydra calls %+v: one update and nothing else (the one create is the test's)", calls)
			}
			if got := w.get(obj); got.Status.ClientID != maesterID {
				t.Fatalf("status.clientID %q", got.Status.ClientID)
			}
			if reasons := strings.Join(w.eventReasons(), " "); !strings.Contains(reasons, "Adopted") {
				t.Fatalf("events %q: no Adopted event", reasons)
			}
			// Afterwards the client is the resource's own: if it vanishes at Hydra, it is
			// re-created under the same ID with the same secret, though no grant covers the ID.
			if err := w.api.Delete(context.Background(), maesterID); err != nil {
				t.Fatal(err)
			}
			if _, err := w.reconcile(w.get(obj), 1); err != nil {
				t.Fatal(err)
			}
			if !w.hydra.SecretMatches(maesterID, maesterSecret) {
				t.Fatal("the adopted client was not re-created with its secret")
			}
		},
	}, {
		name:   "hydra-maester's client of the same name is not taken without adoptFrom",
		obj:    migrated("shop", "web", func(o *v1alpha1.OAuth2Client) { o.Spec.AdoptFrom = "" }),
		before: func(w *fastWorld, obj *v1alpha1.OAuth2Client) { w.hydraMaesterState(obj, "web/shop", true) },
		passes: 1,
		want:   outcome{ready: metav1.ConditionFalse, reason: v1alpha1.ReasonClientIDConflict, stalled: true},
		check:  expectMaesterClientUntouched,
	}, {
		// adoptExistingClient takes unmarked clients only: hydra-maester's mark is a mark.
		name: "adoptExistingClient does not take hydra-maester's client",
		obj: migrated("shop", "web", func(o *v1alpha1.OAuth2Client) {
			o.Spec.AdoptFrom, o.Spec.AdoptExistingClient = "", true
		}),
		before: func(w *fastWorld, obj *v1alpha1.OAuth2Client) { w.hydraMaesterState(obj, "web/shop", true) },
		passes: 1,
		want:   outcome{ready: metav1.ConditionFalse, reason: v1alpha1.ReasonClientIDConflict, stalled: true},
		check:  expectMaesterClientUntouched,
	}, {
		name:   "hydra-maester's client of another name in the same namespace is refused",
		obj:    migrated("shop", "web"),
		before: func(w *fastWorld, obj *v1alpha1.OAuth2Client) { w.hydraMaesterState(obj, "billing/shop", true) },
		passes: 1,
		want:   outcome{ready: metav1.ConditionFalse, reason: v1alpha1.ReasonNamespaceNotAllowed, stalled: true},
		check:  expectMaesterClientUntouched,
	}, {
		// The namespace policy speaks first, so that shop learns nothing of other's client.
		name:   "hydra-maester's client of the same name in another namespace is refused",
		obj:    migrated("shop", "web"),
		before: func(w *fastWorld, obj *v1alpha1.OAuth2Client) { w.hydraMaesterState(obj, "web/other", true) },
		passes: 1,
		want:   outcome{ready: metav1.ConditionFalse, reason: v1alpha1.ReasonNamespaceNotAllowed, stalled: true},
		check:  expectMaesterClientUntouched,
	}, {
		// Even where a grant lets the namespace choose the ID, another resource's client stays
		// its own.
		name:   "hydra-maester's client of another namespace is refused even with a grant",
		obj:    migrated("granted", "web"),
		before: func(w *fastWorld, obj *v1alpha1.OAuth2Client) { w.hydraMaesterState(obj, "web/shop", true) },
		passes: 1,
		want:   outcome{ready: metav1.ConditionFalse, reason: v1alpha1.ReasonClientIDConflict, stalled: true},
		check:  expectMaesterClientUntouched,
	}, {
		name:   "adoption from hydra-maester in a namespace not allowed to adopt",
		obj:    migrated("shop", "web"),
		before: func(w *fastWorld, obj *v1alpha1.OAuth2Client) { w.hydraMaesterState(obj, "web/shop", false) },
		passes: 1,
		want:   outcome{ready: metav1.ConditionFalse, reason: v1alpha1.ReasonNamespaceNotAllowed, stalled: true},
		check:  expectMaesterClientUntouched,
	}, {
		name: "an ID another resource registered first is refused, and the owner is told",
		obj: resource("granted", "late", func(o *v1alpha1.OAuth2Client) {
			o.Spec.ClientID = "shared"
			o.CreationTimestamp = metav1.NewTime(o.CreationTimestamp.Add(time.Hour))
		}),
		before: func(w *fastWorld, _ *v1alpha1.OAuth2Client) {
			owner := resource("first", "app", func(o *v1alpha1.OAuth2Client) { o.Spec.ClientID = "shared" })
			if err := w.k8s.Create(context.Background(), owner); err != nil {
				w.t.Fatal(err)
			}
			owner.Status.ClientID = "shared"
			if err := w.k8s.Status().Update(context.Background(), owner); err != nil {
				w.t.Fatal(err)
			}
		},
		passes: 1,
		want:   outcome{ready: metav1.ConditionFalse, reason: v1alpha1.ReasonClientIDConflict, stalled: true},
		check: func(t *testing.T, w *fastWorld, _ *v1alpha1.OAuth2Client) {
			expectNoHydraWrites(t, w, nil)
			if reasons := strings.Join(w.eventReasons(), " "); !strings.Contains(reasons, "ClientIDContested") {
				t.Fatalf("events %q: the owner is not told", reasons)
			}
		},
	}, {
		name:   "drift at Hydra is reverted on a full check",
		obj:    resource("shop", "svc"),
		passes: 1,
		want:   outcome{ready: metav1.ConditionTrue, reason: v1alpha1.ReasonReconciled},
		check: func(t *testing.T, w *fastWorld, obj *v1alpha1.OAuth2Client) {
			id := string(obj.UID)
			c, _ := w.api.Get(context.Background(), id)
			c.Scope = ptrTo("read admin")
			if _, err := w.api.Update(context.Background(), id, c); err != nil {
				t.Fatal(err)
			}
			_ = w.eventReasons()
			if _, err := w.reconcile(obj, 1); err != nil {
				t.Fatal(err)
			}
			if c, _ := w.api.Get(context.Background(), id); c.GetScope() != "read" {
				t.Fatalf("scope at Hydra %q after the pass", c.GetScope())
			}
			if reasons := w.eventReasons(); len(reasons) != 1 || reasons[0] != "DriftRepaired" {
				t.Fatalf("events %v", reasons)
			}
		},
	}, {
		name:   "a client lost at Hydra comes back with the Secret's credentials",
		obj:    resource("shop", "svc"),
		passes: 1,
		want:   outcome{ready: metav1.ConditionTrue, reason: v1alpha1.ReasonReconciled},
		check: func(t *testing.T, w *fastWorld, obj *v1alpha1.OAuth2Client) {
			id := string(obj.UID)
			secret := string(w.secret("shop", "svc").Data["client_secret"])
			if err := w.api.Delete(context.Background(), id); err != nil {
				t.Fatal(err)
			}
			if _, err := w.reconcile(obj, 1); err != nil {
				t.Fatal(err)
			}
			if !w.hydra.SecretMatches(id, secret) {
				t.Fatal("the re-created client does not accept the Secret's secret")
			}
		},
	}, {
		name:   "a lost Secret gets a new secret, registered at Hydra",
		obj:    resource("shop", "svc"),
		passes: 1,
		want:   outcome{ready: metav1.ConditionTrue, reason: v1alpha1.ReasonReconciled},
		check: func(t *testing.T, w *fastWorld, obj *v1alpha1.OAuth2Client) {
			old := w.secret("shop", "svc")
			if err := w.k8s.Delete(context.Background(), old); err != nil {
				t.Fatal(err)
			}
			if _, err := w.reconcile(obj, 1); err != nil {
				t.Fatal(err)
			}
			fresh := string(w.secret("shop", "svc").Data["client_secret"])
			if fresh == string(old.Data["client_secret"]) || !w.hydra.SecretMatches(string(obj.UID), fresh) {
				t.Fatal("Hydra does not hold the new secret")
			}
		},
	}, {
		name:   "renaming secretTemplate.clientSecretKey moves the secret to the new key; Hydra is not written",
		obj:    resource("shop", "svc"),
		passes: 1,
		want:   outcome{ready: metav1.ConditionTrue, reason: v1alpha1.ReasonReconciled},
		check: func(t *testing.T, w *fastWorld, obj *v1alpha1.OAuth2Client) {
			renameKeyAfterReady(t, w, obj, "client_secret", "password", func(st *v1alpha1.SecretTemplate) { st.ClientSecretKey = "password" })
		},
	}, {
		name:   "renaming secretTemplate.clientIDKey moves the client ID to the new key; Hydra is not written",
		obj:    resource("shop", "svc"),
		passes: 1,
		want:   outcome{ready: metav1.ConditionTrue, reason: v1alpha1.ReasonReconciled},
		check: func(t *testing.T, w *fastWorld, obj *v1alpha1.OAuth2Client) {
			renameKeyAfterReady(t, w, obj, "client_id", "username", func(st *v1alpha1.SecretTemplate) { st.ClientIDKey = "username" })
		},
	}, {
		name: "renaming a custom clientSecretKey again moves the secret on; Hydra is not written",
		obj: resource("shop", "svc", func(o *v1alpha1.OAuth2Client) {
			o.Spec.SecretTemplate = &v1alpha1.SecretTemplate{ClientSecretKey: "password"}
		}),
		passes: 1,
		want:   outcome{ready: metav1.ConditionTrue, reason: v1alpha1.ReasonReconciled},
		check: func(t *testing.T, w *fastWorld, obj *v1alpha1.OAuth2Client) {
			renameKeyAfterReady(t, w, obj, "password", "secret", func(st *v1alpha1.SecretTemplate) { st.ClientSecretKey = "secret" })
		},
	}, {
		name:   "deleting the client_secret key issues a new secret, registered at Hydra",
		obj:    resource("shop", "svc"),
		passes: 1,
		want:   outcome{ready: metav1.ConditionTrue, reason: v1alpha1.ReasonReconciled},
		check: func(t *testing.T, w *fastWorld, obj *v1alpha1.OAuth2Client) {
			s := w.secret("shop", "svc")
			old := string(s.Data["client_secret"])
			delete(s.Data, "client_secret")
			if err := w.k8s.Update(context.Background(), s); err != nil {
				t.Fatal(err)
			}
			if _, err := w.reconcile(obj, 1); err != nil {
				t.Fatal(err)
			}
			fresh := string(w.secret("shop", "svc").Data["client_secret"])
			if fresh == "" || fresh == old || !w.hydra.SecretMatches(string(obj.UID), fresh) {
				t.Fatal("Hydra does not hold a new secret")
			}
		},
	}, {
		name: "format ServiceBinding: a servicebinding.io/oauth2 Secret whose client-id and client-secret Hydra accepts",
		obj: resource("shop", "svc", func(o *v1alpha1.OAuth2Client) {
			o.Spec.SecretTemplate = &v1alpha1.SecretTemplate{Format: v1alpha1.SecretFormatServiceBinding}
		}),
		passes: 1,
		want:   outcome{ready: metav1.ConditionTrue, reason: v1alpha1.ReasonReconciled},
		check: func(t *testing.T, w *fastWorld, obj *v1alpha1.OAuth2Client) {
			s := w.secret("shop", "svc")
			id, secret := string(s.Data["client-id"]), string(s.Data["client-secret"])
			if s.Type != "servicebinding.io/oauth2" || string(s.Data["type"]) != "oauth2" || string(s.Data["provider"]) != "hydra" {
				t.Fatalf("type %q, binding type %q, provider %q", s.Type, s.Data["type"], s.Data["provider"])
			}
			if _, has := s.Data["client_id"]; has || !w.hydra.SecretMatches(id, secret) {
				t.Fatalf("keys %v; Hydra accepts client-id and client-secret: %t", slices.Sorted(maps.Keys(s.Data)), w.hydra.SecretMatches(id, secret))
			}
		},
	}, {
		name: "format OAuth2Proxy: the cookie secret survives a new client secret and a release",
		obj: resource("shop", "svc", func(o *v1alpha1.OAuth2Client) {
			o.Spec.SecretTemplate = &v1alpha1.SecretTemplate{Format: v1alpha1.SecretFormatOAuth2Proxy}
			o.Spec.DeletionPolicy = v1alpha1.DeletionPolicyOrphan
		}),
		passes: 1,
		want:   outcome{ready: metav1.ConditionTrue, reason: v1alpha1.ReasonReconciled},
		check: func(t *testing.T, w *fastWorld, obj *v1alpha1.OAuth2Client) {
			s := w.secret("shop", "svc")
			cookie, old := string(s.Data["OAUTH2_PROXY_COOKIE_SECRET"]), string(s.Data["OAUTH2_PROXY_CLIENT_SECRET"])
			if len(cookie) != 43 || string(s.Data["OAUTH2_PROXY_PROVIDER"]) != "oidc" {
				t.Fatalf("cookie secret of %d characters, provider %q", len(cookie), s.Data["OAUTH2_PROXY_PROVIDER"])
			}
			delete(s.Data, "OAUTH2_PROXY_CLIENT_SECRET")
			if err := w.k8s.Update(context.Background(), s); err != nil {
				t.Fatal(err)
			}
			if _, err := w.reconcile(obj, 1); err != nil {
				t.Fatal(err)
			}
			s = w.secret("shop", "svc")
			fresh := string(s.Data["OAUTH2_PROXY_CLIENT_SECRET"])
			if fresh == old || !w.hydra.SecretMatches(string(s.Data["OAUTH2_PROXY_CLIENT_ID"]), fresh) {
				t.Fatal("Hydra does not hold the new client secret")
			}
			if got := string(s.Data["OAUTH2_PROXY_COOKIE_SECRET"]); got != cookie {
				t.Fatal("a new client secret changed the cookie secret: every oauth2-proxy session would end")
			}
			deleteAndReconcile(t, w, obj)
			if got := string(w.secret("shop", "svc").Data["OAUTH2_PROXY_COOKIE_SECRET"]); got != cookie {
				t.Fatal("releasing the Secret changed the cookie secret")
			}
		},
	}, {
		name: "a Secret the operator did not write is not read without the opt-in",
		obj:  resource("shop", "svc", func(o *v1alpha1.OAuth2Client) { o.Spec.SecretName = "db" }),
		before: func(w *fastWorld, _ *v1alpha1.OAuth2Client) {
			if err := w.k8s.Create(context.Background(), &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "db"},
				Data:       map[string][]byte{"client_id": []byte("shop.db"), "client_secret": []byte("db-password")},
			}); err != nil {
				w.t.Fatal(err)
			}
		},
		passes: 1,
		want:   outcome{ready: metav1.ConditionFalse, reason: v1alpha1.ReasonSecretNotShared},
		check:  expectNoHydraCalls,
	}, {
		name: "a shared Secret's credentials are registered as they are",
		obj:  resource("shop", "svc", func(o *v1alpha1.OAuth2Client) { o.Spec.SecretName = "vault" }),
		before: func(w *fastWorld, _ *v1alpha1.OAuth2Client) {
			if err := w.k8s.Create(context.Background(), &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "vault", Annotations: map[string]string{v1alpha1.ClientAnnotation: "svc"}},
				Data:       map[string][]byte{"client_id": []byte("shop.vault"), "client_secret": []byte("from-vault-123")},
			}); err != nil {
				w.t.Fatal(err)
			}
		},
		passes: 1,
		want:   outcome{ready: metav1.ConditionTrue, reason: v1alpha1.ReasonReconciled},
		check: func(t *testing.T, w *fastWorld, _ *v1alpha1.OAuth2Client) {
			if !w.hydra.SecretMatches("shop.vault", "from-vault-123") {
				t.Fatal("Hydra does not hold the provided secret")
			}
		},
	}, {
		name:   "an outage: AuthorizationServerUnavailable, no status write per retry, one event per change of the server's state",
		obj:    resource("shop", "svc"),
		before: func(w *fastWorld, _ *v1alpha1.OAuth2Client) { w.hydra.FailNext(1, http.StatusServiceUnavailable) },
		passes: 1,
		want:   outcome{ready: metav1.ConditionFalse, reason: v1alpha1.ReasonAuthorizationServerUnavailable, retried: true},
		check: func(t *testing.T, w *fastWorld, obj *v1alpha1.OAuth2Client) {
			expectServerUp(t, 0)
			// Another answer of the same cause (a gateway's 502 after Hydra's 503) is the same
			// outage: the status, message included, stays as it is.
			rv := obj.ResourceVersion
			w.hydra.FailNext(1, http.StatusBadGateway)
			if _, err := w.reconcile(obj, 1); err == nil {
				t.Fatal("the second pass of the outage did not ask to be retried")
			}
			if got := w.get(obj); got.ResourceVersion != rv {
				t.Fatalf("a repeated failure wrote the status: %+v", got.Status.Conditions)
			}
			if _, err := w.reconcile(obj, 1); err != nil {
				t.Fatal(err)
			}
			if o := observe(w.get(obj), nil); o.reason != v1alpha1.ReasonReconciled {
				t.Fatalf("after the outage: %+v", o)
			}
			expectServerUp(t, 1)
			expectEventCounts(t, w.eventReasons(), map[string]int{
				reasonServerDown: 1, reasonServerUp: 1, v1alpha1.ReasonAuthorizationServerUnavailable: 1,
			})
		},
	}, {
		name:   "a timeout is an outage too",
		obj:    resource("shop", "svc"),
		before: func(w *fastWorld, _ *v1alpha1.OAuth2Client) { w.hydra.HangNext(1) },
		passes: 1,
		want:   outcome{ready: metav1.ConditionFalse, reason: v1alpha1.ReasonAuthorizationServerUnavailable, retried: true},
		check: func(t *testing.T, _ *fastWorld, obj *v1alpha1.OAuth2Client) {
			if msg := conditionMessage(obj, v1alpha1.ConditionReady); !strings.Contains(msg, "(timeout)") {
				t.Fatalf("message %q does not name the cause", msg)
			}
		},
	}, {
		name:   "the admin API refuses the operator: AuthorizationServerUnavailable, not Stalled",
		obj:    resource("shop", "svc"),
		before: func(w *fastWorld, _ *v1alpha1.OAuth2Client) { w.hydra.FailNext(1, http.StatusUnauthorized) },
		passes: 1,
		want:   outcome{ready: metav1.ConditionFalse, reason: v1alpha1.ReasonAuthorizationServerUnavailable, retried: true},
		check: func(t *testing.T, _ *fastWorld, obj *v1alpha1.OAuth2Client) {
			if msg := conditionMessage(obj, v1alpha1.ConditionReady); !strings.Contains(msg, "refused the operator's credentials") {
				t.Fatalf("message %q does not say what to check", msg)
			}
		},
	}, {
		// The drift scanner's list calls go through the same state but belong to no pass: the
		// end of the outage is logged and served as the gauge, with no Event on any resource.
		name:   "a list call outside any pass ends the outage without an Event",
		obj:    resource("shop", "svc"),
		before: func(w *fastWorld, _ *v1alpha1.OAuth2Client) { w.hydra.FailNext(1, http.StatusServiceUnavailable) },
		passes: 1,
		want:   outcome{ready: metav1.ConditionFalse, reason: v1alpha1.ReasonAuthorizationServerUnavailable, retried: true},
		check: func(t *testing.T, w *fastWorld, _ *v1alpha1.OAuth2Client) {
			_ = w.eventReasons()
			if err := w.r.Hydra.List(context.Background(), "", 10, func([]hydra.OAuth2Client) error { return nil }); err != nil {
				t.Fatal(err)
			}
			expectServerUp(t, 1)
			if reasons := w.eventReasons(); len(reasons) != 0 {
				t.Fatalf("events %v from a call outside any pass", reasons)
			}
		},
	}, {
		name: "Hydra refuses the spec: Stalled with Hydra's reason, not retried",
		obj:  resource("shop", "svc"),
		before: func(w *fastWorld, _ *v1alpha1.OAuth2Client) {
			w.hydra.FailNextOn(hydrafake.OpCreate, 1, http.StatusBadRequest)
		},
		passes: 1,
		want:   outcome{ready: metav1.ConditionFalse, reason: v1alpha1.ReasonHydraRejected, stalled: true},
	}, {
		name:   "deletion with Delete removes the client, then the finalizer",
		obj:    resource("shop", "svc"),
		passes: 1,
		want:   outcome{ready: metav1.ConditionTrue, reason: v1alpha1.ReasonReconciled},
		check: func(t *testing.T, w *fastWorld, obj *v1alpha1.OAuth2Client) {
			deleteAndReconcile(t, w, obj)
			if _, err := w.api.Get(context.Background(), string(obj.UID)); !hydra.IsNotFound(err) {
				t.Fatalf("the client is still at Hydra: %v", err)
			}
		},
	}, {
		name:   "deletion with Orphan keeps the client and releases the Secret to its namesake",
		obj:    resource("shop", "svc", func(o *v1alpha1.OAuth2Client) { o.Spec.DeletionPolicy = v1alpha1.DeletionPolicyOrphan }),
		passes: 1,
		want:   outcome{ready: metav1.ConditionTrue, reason: v1alpha1.ReasonReconciled},
		check: func(t *testing.T, w *fastWorld, obj *v1alpha1.OAuth2Client) {
			deleteAndReconcile(t, w, obj)
			s := w.secret("shop", "svc")
			if _, err := w.api.Get(context.Background(), string(obj.UID)); err != nil {
				t.Fatalf("the kept client is gone: %v", err)
			}
			if metav1.GetControllerOf(s) != nil || s.Annotations[v1alpha1.ReleasedByAnnotation] != "svc" {
				t.Fatalf("the Secret was not released: %v %v", s.OwnerReferences, s.Annotations)
			}
		},
	}, {
		name:   "deletion while Hydra is unavailable keeps the finalizer and retries",
		obj:    resource("shop", "svc"),
		passes: 1,
		want:   outcome{ready: metav1.ConditionTrue, reason: v1alpha1.ReasonReconciled},
		check: func(t *testing.T, w *fastWorld, obj *v1alpha1.OAuth2Client) {
			if err := w.k8s.Delete(context.Background(), w.get(obj)); err != nil {
				t.Fatal(err)
			}
			w.hydra.FailNext(1, http.StatusBadGateway)
			if _, err := w.reconcile(obj, 1); err == nil {
				t.Fatal("the pass did not ask to be retried")
			}
			got := w.get(obj)
			if got == nil || observe(got, nil).reason != v1alpha1.ReasonAuthorizationServerUnavailable {
				t.Fatalf("resource %v", got)
			}
		},
	}, {
		name:   "oversized metadata is refused before Hydra sees it",
		obj:    resource("shop", "svc", withMetadataOf(hydra.MaxMetadataBytes+1)),
		passes: 1,
		want:   outcome{ready: metav1.ConditionFalse, reason: v1alpha1.ReasonHydraRejected, stalled: true},
		check:  expectNoHydraCalls,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newFastWorld(t, tc.obj.DeepCopy())
			if tc.before != nil {
				tc.before(w, tc.obj)
			}
			_, err := w.reconcile(tc.obj, tc.passes)
			got := w.get(tc.obj)
			if o := observe(got, err); o != tc.want {
				t.Fatalf("outcome %+v (error %v), want %+v; conditions %+v", o, err, tc.want, got.Status.Conditions)
			}
			if tc.check != nil {
				tc.check(t, w, got)
			}
		})
	}
}

// renameKeyAfterReady renames one key of secretTemplate on a Ready resource and checks that the
// credentials moved: the same value under the new key, the old key gone, no Hydra write, the
// credentials still accepted by Hydra, and an Event that says so.
func renameKeyAfterReady(t *testing.T, w *fastWorld, obj *v1alpha1.OAuth2Client, oldKey, newKey string, rename func(*v1alpha1.SecretTemplate)) {
	t.Helper()
	before := w.secret("shop", "svc")
	value := string(before.Data[oldKey])
	if value == "" {
		t.Fatalf("the Secret has no %s key before the rename", oldKey)
	}
	_, secretKey := secrets.KeyNames(obj.Spec.SecretTemplate)
	secret := string(before.Data[secretKey])
	fingerprint := obj.Status.CredentialsFingerprint
	w.eventReasons()
	calls := w.hydra.Calls()
	if obj.Spec.SecretTemplate == nil {
		obj.Spec.SecretTemplate = &v1alpha1.SecretTemplate{}
	}
	rename(obj.Spec.SecretTemplate)
	obj.Generation++
	if err := w.k8s.Update(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
	if _, err := w.reconcile(obj, 1); err != nil {
		t.Fatal(err)
	}
	after := w.secret("shop", "svc")
	if string(after.Data[newKey]) != value {
		t.Fatalf("the new key %s does not hold the old value (keys %v)", newKey, slices.Sorted(maps.Keys(after.Data)))
	}
	if _, stays := after.Data[oldKey]; stays {
		t.Fatalf("the old key %s is still there", oldKey)
	}
	if now := w.hydra.Calls(); now.Create != calls.Create || now.Update != calls.Update {
		t.Fatalf("Hydra was written: %+v, before %+v", now, calls)
	}
	if !w.hydra.SecretMatches(string(obj.UID), secret) {
		t.Fatal("Hydra no longer accepts the secret")
	}
	got := w.get(obj)
	if got.Status.CredentialsFingerprint != fingerprint || observe(got, nil).reason != v1alpha1.ReasonReconciled {
		t.Fatalf("status changed: fingerprint %q (was %q), %+v", got.Status.CredentialsFingerprint, fingerprint, got.Status.Conditions)
	}
	if reasons := w.eventReasons(); !slices.Equal(reasons, []string{"SecretKeysChanged"}) {
		t.Fatalf("events %v, want SecretKeysChanged", reasons)
	}
}

func expectNoHydraCalls(t *testing.T, w *fastWorld, _ *v1alpha1.OAuth2Client) {
	t.Helper()
	if calls := w.hydra.Calls(); calls.Create+calls.Update+calls.Delete+calls.Get != 0 {
		t.Fatalf("Hydra calls %+v", calls)
	}
}

func expectNoHydraWrites(t *testing.T, w *fastWorld, _ *v1alpha1.OAuth2Client) {
	t.Helper()
	if calls := w.hydra.Calls(); calls.Create+calls.Update+calls.Delete != 0 {
		t.Fatalf("Hydra writes %+v", calls)
	}
}

func deleteAndReconcile(t *testing.T, w *fastWorld, obj *v1alpha1.OAuth2Client) {
	t.Helper()
	if err := w.k8s.Delete(context.Background(), w.get(obj)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.reconcile(obj, 1); err != nil {
		t.Fatal(err)
	}
	if w.get(obj) != nil {
		t.Fatal("the resource is still there: the finalizer was not removed")
	}
}

func withMetadataOf(n int) func(*v1alpha1.OAuth2Client) {
	return func(o *v1alpha1.OAuth2Client) {
		o.Spec.Metadata = &apiextensionsv1.JSON{Raw: []byte(`{"k":"` + strings.Repeat("a", n) + `"}`)}
	}
}

// expectServerUp checks the gauge of the default server's state, which the fast world's
// reconciler observes.
func expectServerUp(t *testing.T, want float64) {
	t.Helper()
	if got := testutil.ToFloat64(serverUp.WithLabelValues(DefaultServer)); got != want {
		t.Fatalf("oauth2_client_operator_authorization_server_up = %v, want %v", got, want)
	}
}

// expectEventCounts checks how many events of each reason in want were recorded.
func expectEventCounts(t *testing.T, reasons []string, want map[string]int) {
	t.Helper()
	got := map[string]int{}
	for _, r := range reasons {
		if _, counted := want[r]; counted {
			got[r]++
		}
	}
	if !maps.Equal(got, want) {
		t.Fatalf("events by reason %v (all: %v), want %v", got, reasons, want)
	}
}

// TestFinalizerConflictReadsTheAPIServer: a cache that is behind the API server (as just after
// the API server comes back) makes the finalizer patch conflict; the pass reads the resource
// from the API server and goes on, instead of failing and growing its backoff.
func TestFinalizerConflictReadsTheAPIServer(t *testing.T) {
	obj := resource("shop", "svc")
	w := newFastWorld(t, obj.DeepCopy())
	conflicts := 0
	stale := interceptor.NewClient(w.k8s.(client.WithWatch), interceptor.Funcs{
		Patch: func(ctx context.Context, c client.WithWatch, o client.Object, p client.Patch, opts ...client.PatchOption) error {
			if _, isResource := o.(*v1alpha1.OAuth2Client); isResource && conflicts == 0 {
				conflicts++
				return apierrors.NewConflict(v1alpha1.GroupVersion.WithResource("oauth2clients").GroupResource(), o.GetName(),
					errors.New("the object has been modified"))
			}
			return c.Patch(ctx, o, p, opts...)
		},
	})
	w.r.Client = stale // the cache's view; w.r.APIReader stays the API server's
	if _, err := w.reconcile(obj, 1); err != nil {
		t.Fatalf("the pass failed on a stale cache: %v", err)
	}
	got := w.get(obj)
	if conflicts != 1 || len(got.Finalizers) != 1 || observe(got, nil).reason != v1alpha1.ReasonReconciled {
		t.Fatalf("conflicts %d, finalizers %v, outcome %+v", conflicts, got.Finalizers, observe(got, nil))
	}
}

// The client and Secret hydra-maester left for a resource: a UUID Hydra generated, and the
// secret its Secret holds under its default keys.
const (
	maesterID     = "3f1c2a9e-8d7b-4c6a-9e5f-0a1b2c3d4e5f"
	maesterSecret = "hydra-maester-generated-secret"
)

// migrated is the OAuth2Client `manager migrate` writes for hydra-maester's resource ns/name.
func migrated(ns, name string, shape ...func(*v1alpha1.OAuth2Client)) *v1alpha1.OAuth2Client {
	return resource(ns, name, append([]func(*v1alpha1.OAuth2Client){func(o *v1alpha1.OAuth2Client) {
		o.Spec.SecretName = name + "-credentials"
		o.Spec.RequireExistingSecret = true
		o.Spec.SecretTemplate = &v1alpha1.SecretTemplate{ClientIDKey: "CLIENT_ID", ClientSecretKey: "CLIENT_SECRET"}
		o.Spec.AdoptFrom = v1alpha1.AdoptFromHydraMaester
	}}, shape...)...)
}

// hydraMaesterState puts at Hydra the client hydra-maester registered with owner mark, and in
// the resource's namespace the Secret it wrote, shared with the resource.
// adoptAnywhere lets every namespace adopt, as the operator's default --adoption-namespaces
// does (the fast world allows only "granted").
func (w *fastWorld) hydraMaesterState(obj *v1alpha1.OAuth2Client, owner string, adoptAnywhere bool) {
	w.t.Helper()
	if adoptAnywhere {
		w.r.Policy.AdoptionNamespaces = nil
	}
	w.registered(maesterID, owner, maesterSecret)
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: obj.Namespace, Name: obj.Spec.SecretName,
			Annotations: map[string]string{v1alpha1.ClientAnnotation: obj.Name}},
		Data: map[string][]byte{"CLIENT_ID": []byte(maesterID), "CLIENT_SECRET": []byte(maesterSecret)},
	}
	if err := w.k8s.Create(context.Background(), s); err != nil {
		w.t.Fatal(err)
	}
}

// expectMaesterClientUntouched: hydra-maester's client was neither written nor deleted, and
// still has its mark and its secret.
func expectMaesterClientUntouched(t *testing.T, w *fastWorld, _ *v1alpha1.OAuth2Client) {
	t.Helper()
	owner := ""
	if c, err := w.api.Get(context.Background(), maesterID); err == nil {
		owner = c.GetOwner()
	}
	if calls := w.hydra.Calls(); calls.Update+calls.Delete != 0 || calls.Create != 1 || !w.hydra.SecretMatches(maesterID, maesterSecret) {
		t.Fatalf("hydra-maester's client was written: calls %+v (the one create is the test's), owner %q", calls, owner)
	}
}
