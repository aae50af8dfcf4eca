//go:build integration

package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/yaml"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/drift"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/secrets"
)

// applyYAML server-side-applies a manifest as Argo CD (with ServerSideApply) and kubectl
// apply --server-side do.
func applyYAML(t *testing.T, manifest string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(manifest), &u.Object); err != nil {
		t.Fatal(err)
	}
	ac := client.ApplyConfigurationFromUnstructured(u)
	if err := k8s.Apply(context.Background(), ac, client.FieldOwner("argocd-controller"), client.ForceOwnership); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(u), u); err != nil {
		t.Fatal(err)
	}
	return u
}

// TestServerSideApplyTwiceChangesNothing: a GitOps tool that re-applies the same manifest after
// the operator has done its work sees no difference, because the operator writes neither spec
// nor the metadata the manifest sets, and the CRD defaults nothing into spec.
func TestServerSideApplyTwiceChangesNothing(t *testing.T) {
	ns := newNamespace(t, "ssa")
	manifest := fmt.Sprintf(`
apiVersion: oauth2.clientoperator.dev/v1alpha1
kind: OAuth2Client
metadata:
  name: web
  namespace: %s
  labels:
    app.kubernetes.io/instance: shop
  annotations:
    team: payments
spec:
  grantTypes: [authorization_code, refresh_token]
  responseTypes: [code]
  redirectURIs: [https://shop.example.com/callback]
  scopes: [openid, offline_access]
`, ns)
	first := applyYAML(t, manifest)
	ready := waitReady(t, ns, "web")
	second := applyYAML(t, manifest)
	if second.GetResourceVersion() != ready.ResourceVersion {
		t.Fatalf("re-applying the same manifest changed the object (resourceVersion %s -> %s)", ready.ResourceVersion, second.GetResourceVersion())
	}
	// The live spec is exactly the manifest's: nothing defaulted into it, nothing written to it.
	manifestObj := map[string]any{}
	if err := yaml.Unmarshal([]byte(manifest), &manifestObj); err != nil {
		t.Fatal(err)
	}
	for name, live := range map[string]*unstructured.Unstructured{"first apply": first, "second apply": second} {
		if !equality.Semantic.DeepEqual(manifestObj["spec"], live.Object["spec"]) {
			t.Fatalf("%s: live spec differs from the manifest:\n%v\n%v", name, manifestObj["spec"], live.Object["spec"])
		}
	}
	// Besides the GitOps tool, only the finalizer may be owned in the main resource.
	for _, mf := range second.GetManagedFields() {
		if mf.Manager == "argocd-controller" || mf.Subresource == "status" {
			continue
		}
		if owned := ownedPaths(t, mf); !reflect.DeepEqual(owned, []string{"f:metadata.f:finalizers"}) {
			t.Fatalf("manager %q (%s) owns main-resource fields besides the finalizer: %v", mf.Manager, mf.Operation, owned)
		}
	}
	// The operator's own labels and annotations never reach the Secret from the resource.
	s := getSecret(t, ns, "web")
	if _, ok := s.Labels["app.kubernetes.io/instance"]; ok {
		t.Fatal("the resource's labels were copied onto the Secret (Argo CD would prune it)")
	}
	if _, ok := s.Annotations["team"]; ok {
		t.Fatal("the resource's annotations were copied onto the Secret")
	}
}

func TestSecretTemplateAndForeignLabelsSurvive(t *testing.T) {
	ns := newNamespace(t, "template")
	ctx := context.Background()
	obj := serviceClient(ns, "svc")
	obj.Spec.SecretTemplate = &v1alpha1.SecretTemplate{
		Labels:          map[string]v1alpha1.LabelValue{"team": "payments"},
		Annotations:     map[string]string{"reloader.stakater.com/match": "true"},
		ClientIDKey:     "OAUTH_CLIENT_ID",
		ClientSecretKey: "OAUTH_CLIENT_SECRET",
	}
	create(t, obj)
	waitReady(t, ns, "svc")
	s := getSecret(t, ns, "svc")
	if s.Labels["team"] != "payments" || s.Annotations["reloader.stakater.com/match"] != "true" {
		t.Fatalf("template labels/annotations missing: %v %v", s.Labels, s.Annotations)
	}
	if len(s.Data["OAUTH_CLIENT_ID"]) == 0 || len(s.Data["OAUTH_CLIENT_SECRET"]) == 0 || len(s.Data["client_id"]) != 0 {
		t.Fatalf("key names not honoured: %v", keys(s.Data))
	}
	hash := s.Annotations[v1alpha1.CredentialsHashAnnotation]
	if hash == "" {
		t.Fatal("no credentials hash annotation")
	}
	if !createdByOperator(s) {
		t.Fatalf("the Secret was not created under field manager %q: %+v", FieldManager, s.ManagedFields)
	}

	// Another controller labels the Secret; the operator's next write of it must keep the label.
	// A template change forces that write (a reconcile with nothing to change writes nothing).
	patch := []byte(`{"metadata":{"labels":{"argocd.argoproj.io/instance":"other"},"annotations":{"kept":"yes"}}}`)
	if err := k8s.Patch(ctx, s, client.RawPatch(types.MergePatchType, patch)); err != nil {
		t.Fatal(err)
	}
	latest := &v1alpha1.OAuth2Client{}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), latest); err != nil {
		t.Fatal(err)
	}
	latest.Spec.SecretTemplate.Labels["tier"] = "gold"
	delete(latest.Spec.SecretTemplate.Labels, "team") // set by the create: the apply must be able to drop it
	if err := k8s.Update(ctx, latest); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		got := getSecret(t, ns, "svc")
		if got.Labels["tier"] != "gold" || got.Labels["team"] != "" {
			return fmt.Errorf("the template's labels are not on the Secret yet: %v", got.Labels)
		}
		return nil
	})
	s = getSecret(t, ns, "svc")
	expectForeignMetadataKept(t, s)
	if !appliedBy(s, FieldManager) || createdByOperator(s) {
		t.Fatalf("after its first apply the Secret's fields are not all held by server-side apply under %q: %+v", FieldManager, s.ManagedFields)
	}

	// Rotating the credentials changes the hash, so Deployments that copy it roll.
	s = getSecret(t, ns, "svc")
	s.Data["OAUTH_CLIENT_SECRET"] = []byte("rotated-by-a-person-123")
	if err := k8s.Update(ctx, s); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		got := getSecret(t, ns, "svc")
		if got.Annotations[v1alpha1.CredentialsHashAnnotation] == hash {
			return fmt.Errorf("hash annotation unchanged")
		}
		return tokenFor(string(got.Data["OAUTH_CLIENT_ID"]), "rotated-by-a-person-123", "read")
	})
	expectForeignMetadataKept(t, getSecret(t, ns, "svc"))
}

// ownedPaths lists the top two levels of the fields a managed-fields entry owns.
func ownedPaths(t *testing.T, mf metav1.ManagedFieldsEntry) []string {
	t.Helper()
	var fields map[string]map[string]any
	if err := json.Unmarshal([]byte(mf.FieldsV1.GetRawString()), &fields); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for top, below := range fields {
		for second := range below {
			if second != "." {
				paths = append(paths, top+"."+second)
			}
		}
	}
	sort.Strings(paths)
	return paths
}

// appliedBy reports whether manager owns fields of obj through server-side apply.
func appliedBy(obj metav1.Object, manager string) bool {
	for _, f := range obj.GetManagedFields() {
		if f.Manager == manager && f.Operation == metav1.ManagedFieldsOperationApply {
			return true
		}
	}
	return false
}

func expectForeignMetadataKept(t *testing.T, s *corev1.Secret) {
	t.Helper()
	if s.Labels["argocd.argoproj.io/instance"] != "other" || s.Annotations["kept"] != "yes" {
		t.Fatalf("the operator's write removed labels or annotations another controller set on the Secret: %v %v", s.Labels, s.Annotations)
	}
}

// TestSecretTemplateEndpoints compares the endpoint keys with what Hydra itself advertises in its
// discovery document, read here independently of the operator.
func TestSecretTemplateEndpoints(t *testing.T) {
	ns := newNamespace(t, "endpoints")
	obj := serviceClient(ns, "svc")
	obj.Spec.SecretTemplate = &v1alpha1.SecretTemplate{IncludeEndpoints: true}
	create(t, obj)
	waitReady(t, ns, "svc")
	s := getSecret(t, ns, "svc")

	resp, err := http.Get(hydraProc.PublicURL() + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	for key, field := range map[string]string{
		secrets.IssuerURLKey:             "issuer",
		secrets.TokenEndpointKey:         "token_endpoint",
		secrets.AuthorizationEndpointKey: "authorization_endpoint",
		secrets.JWKSURIKey:               "jwks_uri",
	} {
		if got, want := string(s.Data[key]), doc[field]; got == "" || got != want {
			t.Errorf("Secret key %s = %q, want Hydra's %s %q", key, got, field, want)
		}
	}
}

// TestRequestedAtForcesFullCheck: the reconcile request annotation makes the next pass read and
// repair the client at Hydra even when the drift scanner's last scan vouches for it, as `flux
// reconcile --force`-style tooling expects; the same value again costs nothing.
func TestRequestedAtForcesFullCheck(t *testing.T) {
	ctx := context.Background()
	key := client.ObjectKey{Namespace: directNS(t), Name: "requested-at"}
	readyDirect(t, key)
	counting := &faults{}
	r := directReconciler(counting)
	queue := make(chan event.GenericEvent, 1024)
	scanner := drift.New(drift.Options{Reader: namespacedReader{k8s, key.Namespace}, Installation: testInstallation, Hydra: r.Hydra, Queue: queue, Interval: time.Hour, PageSize: 500, StartupGrace: time.Minute})
	r.Drift = scanner
	// Nobody runs this scanner's controller: drain what it queues so a scan never blocks.
	drainCtx, stopDraining := context.WithCancel(ctx)
	defer stopDraining()
	go func(events <-chan event.GenericEvent) {
		for {
			select {
			case <-events:
			case <-drainCtx.Done():
				return
			}
		}
	}(queue)
	if _, _, err := scanner.Scan(ctx); err != nil {
		t.Fatal(err)
	}
	obj := &v1alpha1.OAuth2Client{}
	if err := k8s.Get(ctx, key, obj); err != nil {
		t.Fatal(err)
	}
	// Changed at Hydra after the scan: only a full check can notice before the next scan.
	editAtHydra(t, obj.Status.ClientID, func(c *hydra.OAuth2Client) { c.SetScope("everything") })
	reconcileOnce := func() {
		t.Helper()
		if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: key}); err != nil {
			t.Fatal(err)
		}
	}
	hydraScope := func() string {
		t.Helper()
		got, err := hydraAPI.Get(ctx, obj.Status.ClientID)
		if err != nil {
			t.Fatal(err)
		}
		return got.GetScope()
	}
	reconcileOnce()
	if hydraScope() != "everything" || counting.hydraReads != 1 {
		t.Fatalf("without the annotation the pass should trust the scan (Hydra reads %d, want only the scan's list)", counting.hydraReads)
	}

	annotate(t, obj, v1alpha1.RequestedAtAnnotation, "2026-11-24T10:00:00Z")
	reconcileOnce()
	if got := hydraScope(); got != "read write" {
		t.Fatalf("after the reconcile request Hydra's scope is %q, want it repaired to %q", got, "read write")
	}
	if err := k8s.Get(ctx, key, obj); err != nil {
		t.Fatal(err)
	}
	if obj.Status.LastHandledRequestedAt != "2026-11-24T10:00:00Z" {
		t.Fatalf("status.lastHandledRequestedAt = %q", obj.Status.LastHandledRequestedAt)
	}

	reads := counting.hydraReads
	reconcileOnce()
	if counting.hydraReads != reads || counting.hydraWrites != 1 {
		t.Fatalf("a request already handled caused %d more Hydra reads and %d writes in all, want 0 and 1",
			counting.hydraReads-reads, counting.hydraWrites)
	}
}

// namespacedReader lists only one namespace, so that a scanner in a test sees only its own
// resources, not those the other tests left in the shared API server.
type namespacedReader struct {
	client.Reader
	namespace string
}

func (r namespacedReader) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	return r.Reader.List(ctx, list, append(opts, client.InNamespace(r.namespace))...)
}
