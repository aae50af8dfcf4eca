package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
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
	specBefore, _, _ := unstructured.NestedMap(first.Object, "spec")
	specAfter, _, _ := unstructured.NestedMap(second.Object, "spec")
	if fmt.Sprint(specBefore) != fmt.Sprint(specAfter) {
		t.Fatalf("spec differs from the manifest:\n%v\n%v", specBefore, specAfter)
	}
	for _, mf := range second.GetManagedFields() {
		if mf.Manager == FieldManager && mf.Subresource == "" && mf.Operation == metav1.ManagedFieldsOperationApply {
			t.Fatalf("the operator owns main-resource fields: %s", mf.FieldsV1.String())
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
		Labels:          map[string]string{"team": "payments"},
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

	// Another controller labels the Secret; a reconcile must keep the label.
	patch := []byte(`{"metadata":{"labels":{"argocd.argoproj.io/instance":"other"},"annotations":{"kept":"yes"}}}`)
	if err := k8s.Patch(ctx, s, client.RawPatch(types.MergePatchType, patch)); err != nil {
		t.Fatal(err)
	}
	annotate(t, obj, v1alpha1.RequestedAtAnnotation, "now")
	eventually(t, 10*time.Second, func() error {
		got := &v1alpha1.OAuth2Client{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), got); err != nil {
			return err
		}
		if got.Status.LastHandledRequestedAt != "now" {
			return fmt.Errorf("not reconciled yet")
		}
		return nil
	})
	s = getSecret(t, ns, "svc")
	if s.Labels["argocd.argoproj.io/instance"] != "other" || s.Annotations["kept"] != "yes" {
		t.Fatal("a reconcile removed labels or annotations another controller set on the Secret")
	}

	// Rotating the credentials changes the hash, so Deployments that copy it roll.
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
}

func TestSecretTemplateEndpoints(t *testing.T) {
	ns := newNamespace(t, "endpoints")
	obj := serviceClient(ns, "svc")
	obj.Spec.SecretTemplate = &v1alpha1.SecretTemplate{IncludeEndpoints: true}
	create(t, obj)
	waitReady(t, ns, "svc")
	s := getSecret(t, ns, "svc")
	want := secrets.EndpointsFromPublicURL(hydraProc.PublicURL())
	if string(s.Data[secrets.TokenEndpointKey]) != want.Token || string(s.Data[secrets.IssuerURLKey]) != want.Issuer {
		t.Fatalf("endpoint keys: %q %q", s.Data[secrets.TokenEndpointKey], s.Data[secrets.IssuerURLKey])
	}
}
