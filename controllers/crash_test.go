//go:build integration

package controllers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	toolscache "k8s.io/client-go/tools/cache"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/drift"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
)

// errCrashed is what every call returns once the simulated process has died.
var errCrashed = errors.New("simulated crash: the operator process is gone")

// faults counts the external calls of one simulated operator process (to Hydra and to the API
// server) and kills it after the crashAfter-th call has completed: from then on every call
// fails, including the deferred status write, as if the process had been SIGKILLed.
type faults struct {
	mu                     sync.Mutex
	crashAfter             int // 0: never
	calls                  int
	hydraWrites, apiWrites int
	hydraReads             int
}

func (f *faults) before() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.crashAfter > 0 && f.calls >= f.crashAfter {
		return errCrashed
	}
	return nil
}

func (f *faults) after(hydraCall, write bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	switch {
	case hydraCall && write:
		f.hydraWrites++
	case hydraCall:
		f.hydraReads++
	case write:
		f.apiWrites++
	}
}

func (f *faults) crashed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.crashAfter > 0 && f.calls >= f.crashAfter
}

// faultyHydra wraps the real Hydra client.
type faultyHydra struct {
	inner hydra.Client
	f     *faults
}

func (h faultyHydra) Get(ctx context.Context, id string) (*hydra.OAuth2Client, error) {
	if err := h.f.before(); err != nil {
		return nil, err
	}
	defer h.f.after(true, false)
	return h.inner.Get(ctx, id)
}

func (h faultyHydra) Create(ctx context.Context, c *hydra.OAuth2Client) (*hydra.OAuth2Client, error) {
	if err := h.f.before(); err != nil {
		return nil, err
	}
	defer h.f.after(true, true)
	return h.inner.Create(ctx, c)
}

func (h faultyHydra) Update(ctx context.Context, id string, c *hydra.OAuth2Client) (*hydra.OAuth2Client, error) {
	if err := h.f.before(); err != nil {
		return nil, err
	}
	defer h.f.after(true, true)
	return h.inner.Update(ctx, id, c)
}

func (h faultyHydra) Delete(ctx context.Context, id string) error {
	if err := h.f.before(); err != nil {
		return err
	}
	defer h.f.after(true, true)
	return h.inner.Delete(ctx, id)
}

func (h faultyHydra) List(ctx context.Context, owner string, size int, fn func([]hydra.OAuth2Client) error) error {
	if err := h.f.before(); err != nil {
		return err
	}
	defer h.f.after(true, false)
	return h.inner.List(ctx, owner, size, fn)
}

func (h faultyHydra) RotateSecret(ctx context.Context, id, secret string) error {
	if err := h.f.before(); err != nil {
		return err
	}
	defer h.f.after(true, true)
	return h.inner.RotateSecret(ctx, id, secret)
}

func (h faultyHydra) ClearRotatedSecrets(ctx context.Context, id string) error {
	if err := h.f.before(); err != nil {
		return err
	}
	defer h.f.after(true, true)
	return h.inner.ClearRotatedSecrets(ctx, id)
}

// faultyClient wraps a direct (uncached) API client.
type faultyClient struct {
	client.Client
	f *faults
}

func (c faultyClient) call(write bool, fn func() error) error {
	if err := c.f.before(); err != nil {
		return err
	}
	defer c.f.after(false, write)
	return fn()
}

func (c faultyClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	return c.call(false, func() error { return c.Client.Get(ctx, key, obj, opts...) })
}

func (c faultyClient) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	return c.call(true, func() error { return c.Client.Patch(ctx, obj, patch, opts...) })
}

func (c faultyClient) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	return c.call(true, func() error { return c.Client.Update(ctx, obj, opts...) })
}

func (c faultyClient) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	return c.call(true, func() error { return c.Client.Create(ctx, obj, opts...) })
}

func (c faultyClient) Delete(ctx context.Context, obj client.Object, opts ...client.DeleteOption) error {
	return c.call(true, func() error { return c.Client.Delete(ctx, obj, opts...) })
}

func (c faultyClient) Apply(ctx context.Context, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
	return c.call(true, func() error { return c.Client.Apply(ctx, obj, opts...) })
}

func (c faultyClient) Status() client.SubResourceWriter {
	return faultyStatus{SubResourceWriter: c.Client.Status(), c: c}
}

type faultyStatus struct {
	client.SubResourceWriter
	c faultyClient
}

func (s faultyStatus) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	return s.c.call(true, func() error { return s.SubResourceWriter.Patch(ctx, obj, patch, opts...) })
}

func (s faultyStatus) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	return s.c.call(true, func() error { return s.SubResourceWriter.Update(ctx, obj, opts...) })
}

// directReconciler is one simulated operator process in the hidden namespace.
func directReconciler(f *faults) *OAuth2ClientReconciler {
	c := faultyClient{Client: k8s, f: f}
	return &OAuth2ClientReconciler{
		Client: c, APIReader: c, Scheme: testScheme,
		Hydra:      faultyHydra{inner: hydraAPI, f: f},
		SyncPeriod: time.Hour, FingerprintKey: testFingerprintKey, Installation: testInstallation,
	}
}

// reconcileUntil runs passes of r until done() or the pass budget is spent; a crashed process
// stops at once.
func reconcileUntil(r *OAuth2ClientReconciler, f *faults, key client.ObjectKey, done func() bool) error {
	for range 10 {
		_, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: key})
		if f.crashed() || done() {
			return nil
		}
		if err != nil && !errors.Is(err, errCrashed) {
			// Transient errors are retried like the controller's queue would.
			continue
		}
	}
	return fmt.Errorf("%s did not converge in 10 passes", key)
}

func isReady(key client.ObjectKey) func() bool {
	return func() bool {
		obj := &v1alpha1.OAuth2Client{}
		return k8s.Get(context.Background(), key, obj) == nil && readyErr(obj) == nil
	}
}

// isRotated: the rotation the test requested is recorded, and the resource is Ready.
func isRotated(key client.ObjectKey) func() bool {
	return func() bool {
		obj := &v1alpha1.OAuth2Client{}
		return k8s.Get(context.Background(), key, obj) == nil && readyErr(obj) == nil &&
			obj.Status.Rotation != nil && obj.Status.Rotation.LastRotationTime != nil && obj.Status.Rotation.LastHandledRequest == "crash-test"
	}
}

func isGoneFn(key client.ObjectKey) func() bool {
	return func() bool { return goneErr(key.Namespace, key.Name) == nil }
}

func directNS(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: directNamespace}}
	if err := k8s.Create(context.Background(), ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	return directNamespace
}

// TestCrashAfterEveryCallConverges kills the operator after each external call of a create, an
// update, a rotation (strategies Replace, AlternatingClients and KeyRollover, on request) and a delete, then lets a new process resume. Afterwards there is exactly one Hydra
// client for the resource (none after delete), and the Secret's credentials obtain a token.
func TestCrashAfterEveryCallConverges(t *testing.T) {
	ns := directNS(t)
	ctx := context.Background()

	// Count the calls of an undisturbed create, update and delete.
	probe := &faults{}
	key := client.ObjectKey{Namespace: ns, Name: "probe"}
	create(t, serviceClient(ns, "probe"))
	if err := reconcileUntil(directReconciler(probe), probe, key, isReady(key)); err != nil {
		t.Fatal(err)
	}
	createCalls := probe.calls
	if createCalls < 4 {
		t.Fatalf("a create made only %d external calls; the probe is not counting", createCalls)
	}

	phases := []struct {
		name    string
		prepare func(t *testing.T, key client.ObjectKey) // brings the resource to the phase's start
		act     func(t *testing.T, key client.ObjectKey) // the user's change
		done    func(key client.ObjectKey) func() bool
		check   func(t *testing.T, key client.ObjectKey)
	}{
		{
			name:    "create",
			prepare: func(t *testing.T, key client.ObjectKey) {},
			act:     func(t *testing.T, key client.ObjectKey) { create(t, serviceClient(key.Namespace, key.Name)) },
			done:    isReady,
			check:   checkOneWorkingClient,
		},
		{
			name:    "update",
			prepare: readyDirect,
			act: func(t *testing.T, key client.ObjectKey) {
				obj := &v1alpha1.OAuth2Client{}
				if err := k8s.Get(ctx, key, obj); err != nil {
					t.Fatal(err)
				}
				obj.Spec.Scopes = []string{"read", "write", "admin"}
				obj.Spec.TokenEndpointAuthMethod = v1alpha1.AuthMethodClientSecretPost
				if err := k8s.Update(ctx, obj); err != nil {
					t.Fatal(err)
				}
			},
			done:  isReady,
			check: checkOneWorkingClient,
		},
		{
			name:    "rotate",
			prepare: readyDirect,
			act: func(t *testing.T, key client.ObjectKey) {
				obj := &v1alpha1.OAuth2Client{}
				if err := k8s.Get(ctx, key, obj); err != nil {
					t.Fatal(err)
				}
				annotate(t, obj, v1alpha1.RotateRequestedAtAnnotation, "crash-test")
			},
			done:  isRotated,
			check: checkOneWorkingClient,
		},
		{
			name: "rotate-alternating",
			prepare: readyDirectWith(func(obj *v1alpha1.OAuth2Client) {
				obj.Spec.Rotation = &v1alpha1.Rotation{Strategy: v1alpha1.RotationStrategyAlternatingClients}
			}),
			act: func(t *testing.T, key client.ObjectKey) {
				obj := &v1alpha1.OAuth2Client{}
				if err := k8s.Get(ctx, key, obj); err != nil {
					t.Fatal(err)
				}
				annotate(t, obj, v1alpha1.RotateRequestedAtAnnotation, "crash-test")
			},
			done:  isRotated,
			check: checkAlternated,
		},
		{
			name: "rotate-keyrollover",
			prepare: readyDirectWith(func(obj *v1alpha1.OAuth2Client) {
				obj.Spec.TokenEndpointAuthMethod = v1alpha1.AuthMethodPrivateKeyJWT
				obj.Spec.Rotation = &v1alpha1.Rotation{Strategy: v1alpha1.RotationStrategyKeyRollover}
			}),
			act: func(t *testing.T, key client.ObjectKey) {
				obj := &v1alpha1.OAuth2Client{}
				if err := k8s.Get(ctx, key, obj); err != nil {
					t.Fatal(err)
				}
				annotate(t, obj, v1alpha1.RotateRequestedAtAnnotation, "crash-test")
			},
			done:  isRotated,
			check: checkKeysRolled,
		},
		{
			name:    "delete",
			prepare: readyDirect,
			act: func(t *testing.T, key client.ObjectKey) {
				obj := &v1alpha1.OAuth2Client{}
				if err := k8s.Get(ctx, key, obj); err != nil {
					t.Fatal(err)
				}
				if err := k8s.Delete(ctx, obj); err != nil {
					t.Fatal(err)
				}
			},
			done: isGoneFn,
			check: func(t *testing.T, key client.ObjectKey) {
				if n := len(ownedClients(t, key.Namespace, key.Name)); n != 0 {
					t.Fatalf("%d Hydra clients left behind", n)
				}
			},
		},
	}
	for _, phase := range phases {
		for k := 1; k <= createCalls+4; k++ {
			key := client.ObjectKey{Namespace: ns, Name: fmt.Sprintf("%s-crash-after-%d", phase.name, k)}
			phase.prepare(t, key)
			phase.act(t, key)
			crashing := &faults{crashAfter: k}
			_ = reconcileUntil(directReconciler(crashing), crashing, key, phase.done(key))
			healthy := &faults{}
			if err := reconcileUntil(directReconciler(healthy), healthy, key, phase.done(key)); err != nil {
				t.Fatalf("%s, crash after call %d: %v", phase.name, k, err)
			}
			phase.check(t, key)
		}
	}
}

// readyDirect creates the resource and reconciles it to Ready with an undisturbed process.
func readyDirect(t *testing.T, key client.ObjectKey) { readyDirectWith(nil)(t, key) }

// readyDirectWith is readyDirect for a service client that shape changes first.
func readyDirectWith(shape func(*v1alpha1.OAuth2Client)) func(t *testing.T, key client.ObjectKey) {
	return func(t *testing.T, key client.ObjectKey) {
		t.Helper()
		obj := serviceClient(key.Namespace, key.Name)
		if shape != nil {
			shape(obj)
		}
		create(t, obj)
		f := &faults{}
		if err := reconcileUntil(directReconciler(f), f, key, isReady(key)); err != nil {
			t.Fatal(err)
		}
	}
}

func checkOneWorkingClient(t *testing.T, key client.ObjectKey) {
	t.Helper()
	clients := ownedClients(t, key.Namespace, key.Name)
	if len(clients) != 1 {
		t.Fatalf("%s: %d Hydra clients, want exactly 1", key.Name, len(clients))
	}
	obj := &v1alpha1.OAuth2Client{}
	if err := k8s.Get(context.Background(), key, obj); err != nil {
		t.Fatal(err)
	}
	if clients[0].GetClientId() != obj.Status.ClientID {
		t.Fatalf("%s: Hydra has %q, status says %q", key.Name, clients[0].GetClientId(), obj.Status.ClientID)
	}
	s := getSecret(t, key.Namespace, key.Name)
	if err := tokenWith(obj, string(s.Data["client_id"]), string(s.Data["client_secret"])); err != nil {
		t.Fatalf("%s: the Secret's credentials fail: %v", key.Name, err)
	}
}

// checkAlternated: after an AlternatingClients rotation the Secret holds the second client,
// status names it, the one switched from is still there (its grace period has not ended),
// and no other client of the resource exists.
func checkAlternated(t *testing.T, key client.ObjectKey) {
	t.Helper()
	obj := &v1alpha1.OAuth2Client{}
	if err := k8s.Get(context.Background(), key, obj); err != nil {
		t.Fatal(err)
	}
	s := getSecret(t, key.Namespace, key.Name)
	id := string(s.Data["client_id"])
	if id != string(obj.UID)+v1alpha1.AlternateClientIDSuffix || obj.Status.ClientID != id || len(s.Data["pending_client_secret"]) != 0 {
		t.Fatalf("%s: Secret holds %q, status %q (pending secret left: %v)", key.Name, id, obj.Status.ClientID, len(s.Data["pending_client_secret"]) != 0)
	}
	if n := len(ownedClients(t, key.Namespace, key.Name)); n != 2 {
		t.Fatalf("%s: %d Hydra clients, want the two of the pair", key.Name, n)
	}
	if err := tokenWith(obj, id, string(s.Data["client_secret"])); err != nil {
		t.Fatalf("%s: the Secret's credentials fail: %v", key.Name, err)
	}
}

// checkKeysRolled: after a KeyRollover rotation there is one client, the Secret signs with a
// new key and keeps the public key it switched from (its grace period has not ended), status
// names both, and an assertion signed with the Secret's key obtains a token.
func checkKeysRolled(t *testing.T, key client.ObjectKey) {
	t.Helper()
	obj := &v1alpha1.OAuth2Client{}
	if err := k8s.Get(context.Background(), key, obj); err != nil {
		t.Fatal(err)
	}
	if n := len(ownedClients(t, key.Namespace, key.Name)); n != 1 {
		t.Fatalf("%s: %d Hydra clients, want exactly 1", key.Name, n)
	}
	s := getSecret(t, key.Namespace, key.Name)
	st := obj.Status.Rotation
	if st.CurrentKeyID != string(s.Data["key_id"]) || st.PreviousKeyID == "" || st.PreviousKeyID == st.CurrentKeyID ||
		len(s.Data["previous_public_key"]) == 0 || len(s.Data["pending_private_key"]) != 0 {
		t.Fatalf("%s: Secret key %q (pending left: %v), status %+v", key.Name, s.Data["key_id"], len(s.Data["pending_private_key"]) != 0, st)
	}
	if err := assertionTokenAt(hydraProc.PublicURL(), string(s.Data["client_id"]), string(s.Data["private_key"]), string(s.Data["key_id"])); err != nil {
		t.Fatalf("%s: the Secret's key fails: %v", key.Name, err)
	}
}

// tokenWith authenticates the way the client is registered (basic or post).
func tokenWith(obj *v1alpha1.OAuth2Client, id, secret string) error {
	if obj.Spec.TokenEndpointAuthMethod == v1alpha1.AuthMethodClientSecretPost {
		return tokenPost(id, secret, "read")
	}
	return tokenFor(id, secret, "read")
}

// TestSteadyStateResyncMakesNoWrites reconciles Ready clients again, as a periodic resync or a
// restart does, and counts the calls: no write to Hydra and none to the API server.
func TestSteadyStateResyncMakesNoWrites(t *testing.T) {
	ns := directNS(t)
	const n = 20
	var keys []client.ObjectKey
	for i := range n {
		key := client.ObjectKey{Namespace: ns, Name: fmt.Sprintf("steady-%d", i)}
		keys = append(keys, key)
		readyDirect(t, key)
	}
	counting := &faults{}
	r := directReconciler(counting)
	for _, key := range keys {
		if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: key}); err != nil {
			t.Fatal(err)
		}
	}
	if counting.hydraWrites != 0 || counting.apiWrites != 0 {
		t.Fatalf("a resync of %d Ready clients wrote %d times to Hydra and %d times to the API server", n, counting.hydraWrites, counting.apiWrites)
	}
	if counting.hydraReads > n {
		t.Fatalf("a resync of %d clients read Hydra %d times", n, counting.hydraReads)
	}
	t.Logf("resync of %d Ready clients without the scanner: %d Hydra reads, 0 writes", n, counting.hydraReads)

	// With the drift scanner, as the operator runs: one paged list for all clients, and the
	// resync (or a restart) that follows reads no client on its own.
	scanning := &faults{}
	r = directReconciler(scanning)
	queue := make(chan event.GenericEvent, 1024)
	scanner := drift.New(drift.Options{Reader: k8s, Installation: testInstallation, Hydra: r.Hydra, Queue: queue, Interval: time.Hour, PageSize: 500, StartupGrace: time.Minute})
	r.Drift = scanner
	if _, _, err := scanner.Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	if scanning.hydraReads != 1 {
		t.Fatalf("the scan made %d list calls, want 1", scanning.hydraReads)
	}
	// Reading the cached objects from a store, as the operator does, finds the same.
	store := toolscache.NewStore(toolscache.MetaNamespaceKeyFunc)
	for _, key := range keys {
		obj := &v1alpha1.OAuth2Client{}
		if err := k8s.Get(context.Background(), key, obj); err != nil {
			t.Fatal(err)
		}
		if err := store.Add(obj); err != nil {
			t.Fatal(err)
		}
	}
	// A buffered queue, so a wrong verdict fails below instead of blocking.
	fromStore := drift.New(drift.Options{Reader: k8s, Installation: testInstallation, Store: store, Hydra: hydraAPI, Queue: make(chan event.GenericEvent, 1024), Interval: time.Hour, PageSize: 500})
	if checked, queued, err := fromStore.Scan(context.Background()); err != nil || checked != n || queued != 0 {
		t.Fatalf("a scan of the store checked %d and queued %d (err %v), want %d and 0", checked, queued, err, n)
	}
	for _, key := range keys {
		if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: key}); err != nil {
			t.Fatal(err)
		}
	}
	if scanning.hydraReads != 1 || scanning.hydraWrites != 0 || scanning.apiWrites != 0 {
		t.Fatalf("after a scan, a resync of %d clients made %d Hydra reads, %d Hydra writes, %d API writes; want 1, 0, 0",
			n, scanning.hydraReads, scanning.hydraWrites, scanning.apiWrites)
	}

	// A client changed at Hydra is not verified by the scan, so its resource is queued.
	id := ownedClients(t, ns, keys[0].Name)[0].GetClientId()
	editAtHydra(t, id, func(c *hydra.OAuth2Client) { c.SetScope("everything") })
	_, queued, err := scanner.Scan(context.Background())
	if err != nil || queued != 1 {
		t.Fatalf("scan after tampering queued %d resources (err %v), want 1", queued, err)
	}
	if got := (<-queue).Object.GetName(); got != keys[0].Name {
		t.Fatalf("queued %s, want %s", got, keys[0].Name)
	}
}
