//go:build integration

package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/validation"
)

// TestValidationAtApplyTime sends every case of internal/validation/testdata/cases.yaml (and of
// authorizationserver_cases.yaml, for the server kinds) to the real API server (server-side dry run, as `kubectl apply --dry-run=server` would): each invalid
// manifest is refused with a message a user can act on, and each valid one accepted. The same
// cases run in-process in internal/validation, so the two tiers can't disagree unnoticed.
func TestValidationAtApplyTime(t *testing.T) {
	ns := newNamespace(t, "validation")
	var cases []validation.Case
	for _, file := range []string{"cases.yaml", "authorizationserver_cases.yaml"} {
		c, err := validation.LoadCases("../internal/validation/testdata/" + file)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, c...)
	}
	for i, tc := range cases {
		t.Run(tc.Kind+"/"+tc.Name, func(t *testing.T) {
			obj := &unstructured.Unstructured{Object: validation.ObjectOf(tc.Kind, fmt.Sprintf("case-%d", i), tc.Spec)}
			if obj.GetNamespace() != "" {
				obj.SetNamespace(ns)
			}
			err := k8s.Create(context.Background(), obj, client.DryRunAll)
			switch {
			case tc.Error == "" && err != nil:
				t.Fatalf("a valid manifest was refused: %v", err)
			case tc.Error != "" && err == nil:
				t.Fatalf("accepted; want refusal with %q", tc.Error)
			case tc.Error != "" && !strings.Contains(err.Error(), tc.Error):
				t.Fatalf("refused with %q; want a message containing %q", err, tc.Error)
			}
		})
	}
}

// TestAuthorizationServerRefIsImmutable checks the transition rule against the API server: the
// reference can't be changed, added or removed, and the message says what to do instead.
func TestAuthorizationServerRefIsImmutable(t *testing.T) {
	ns := newNamespace(t, "immutable")
	pinned := serviceClient(ns, "pinned")
	pinned.Spec.AuthorizationServerRef = &v1alpha1.AuthorizationServerReference{Kind: v1alpha1.AuthorizationServerKindNamespaced, Name: "staging"}
	create(t, pinned)
	loose := serviceClient(ns, "loose-server")
	create(t, loose)
	for _, tc := range []struct {
		obj   *v1alpha1.OAuth2Client
		patch string
	}{
		{pinned, `{"spec":{"authorizationServerRef":{"name":"production"}}}`},
		{pinned, `{"spec":{"authorizationServerRef":{"kind":"ClusterAuthorizationServer"}}}`},
		{pinned, `{"spec":{"authorizationServerRef":null}}`},
		{loose, `{"spec":{"authorizationServerRef":{"kind":"AuthorizationServer","name":"staging"}}}`},
	} {
		err := k8s.Patch(context.Background(), tc.obj.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(tc.patch)), client.DryRunAll)
		if err == nil || !strings.Contains(err.Error(), "authorizationServerRef is immutable") {
			t.Fatalf("%s %s: %v", tc.obj.Name, tc.patch, err)
		}
	}
}

// TestServerRefHasNoNamespace: an OAuth2Client can't name an AuthorizationServer of another
// namespace. The reference has no namespace field, so kubectl (whose field validation is
// Strict) is refused with "unknown field", and a client that skips validation has the field
// pruned: the reference then means the server of the resource's own namespace.
func TestServerRefHasNoNamespace(t *testing.T) {
	ns := newNamespace(t, "crossns")
	obj := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": v1alpha1.GroupVersion.String(), "kind": "OAuth2Client",
		"metadata": map[string]interface{}{"namespace": ns, "name": "elsewhere"},
		"spec": map[string]interface{}{
			"grantTypes":             []interface{}{"client_credentials"},
			"authorizationServerRef": map[string]interface{}{"kind": "AuthorizationServer", "name": "staging", "namespace": "other"},
		},
	}}
	err := k8s.Create(context.Background(), obj.DeepCopy(), client.DryRunAll, client.FieldValidation("Strict"))
	if err == nil || !strings.Contains(err.Error(), `unknown field "spec.authorizationServerRef.namespace"`) {
		t.Fatalf("a reference with a namespace, strict field validation: %v, want an unknown-field error", err)
	}
	created := obj.DeepCopy()
	if err := k8s.Create(context.Background(), created, client.DryRunAll, client.FieldValidation("Ignore")); err != nil {
		t.Fatal(err)
	}
	if ref, _, _ := unstructured.NestedStringMap(created.Object, "spec", "authorizationServerRef"); ref["namespace"] != "" || len(ref) != 2 {
		t.Fatalf("the stored reference is %v, want kind and name only", ref)
	}
}

// TestClientIDIsImmutable checks the transition rule: clientID can't be changed, added or removed.
func TestClientIDIsImmutable(t *testing.T) {
	ns := newNamespace(t, "immutable")
	fixed := serviceClient(ns, "fixed")
	fixed.Spec.ClientID = "fixed-" + ns
	create(t, fixed)
	loose := serviceClient(ns, "loose")
	create(t, loose)
	cases := []struct {
		obj   *v1alpha1.OAuth2Client
		patch string
	}{
		{fixed, `{"spec":{"clientID":"other"}}`},
		{fixed, `{"spec":{"clientID":null}}`},
		{loose, `{"spec":{"clientID":"added-later"}}`},
	}
	for _, tc := range cases {
		err := k8s.Patch(context.Background(), tc.obj.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(tc.patch)), client.DryRunAll)
		if err == nil || !strings.Contains(err.Error(), "clientID is immutable") {
			t.Fatalf("%s %s: %v", tc.obj.Name, tc.patch, err)
		}
	}
}
