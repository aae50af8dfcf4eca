//go:build integration

package controllers

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
)

// Tenant isolation: whatever client ID a resource in namespace B asks for, it can never update,
// delete, adopt or read the credentials of the Hydra client of a resource in namespace A. B's
// namespaces below match the suite's --client-id-namespaces ("tenant-*"), so B is allowed to
// choose client IDs and only ownership stands in its way. Adoption (adoptExistingClient with
// A's chosen ID) is covered by TestClientIDConflictBetweenNamespaces.

// TestTenantCannotClaimAnotherTenantsDefaultClientID: A lets the operator choose its client ID
// (its UID); B names that ID in spec.clientID.
func TestTenantCannotClaimAnotherTenantsDefaultClientID(t *testing.T) {
	victim := newVictim(t)

	nsB := newNamespace(t, "tenant-iso-claim")
	b := serviceClient(nsB, "intruder")
	b.Spec.ClientID = victim.id
	b.Spec.Scopes = []string{"admin"}
	create(t, b)
	waitCondition(t, nsB, "intruder", v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonClientIDConflict)

	victim.expectUntouched(t)
	expectNoCredentialsOf(t, victim, nsB, b.Name)
	deleteAndExpectUntouched(t, victim, b)
}

// TestTenantCannotTakeOverClientWithItsOwnSecret: B brings a Secret with A's client_id and a
// client_secret of its choosing, as if to set A's secret at Hydra.
func TestTenantCannotTakeOverClientWithItsOwnSecret(t *testing.T) {
	victim := newVictim(t)

	nsB := newNamespace(t, "tenant-iso-secret")
	const chosenSecret = "intruder-chosen-secret-123456"
	rememberSecret(chosenSecret)
	create(t, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: nsB, Name: "brought", Annotations: sharedWithClient("intruder")},
		Data:       map[string][]byte{"client_id": []byte(victim.id), "client_secret": []byte(chosenSecret)},
	})
	b := serviceClient(nsB, "intruder")
	b.Spec.SecretName = "brought"
	create(t, b)
	waitCondition(t, nsB, "intruder", v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonClientIDConflict)

	victim.expectUntouched(t)
	if err := tokenFor(victim.id, chosenSecret, "read"); err == nil {
		t.Fatal("the intruder's secret authenticates as the victim's client: Hydra took it")
	}
	deleteAndExpectUntouched(t, victim, b)
}

// victim is tenant A: a Ready client with an operator-chosen ID, and Hydra's copy of it as it
// was before anyone else acted.
type victim struct {
	ns, name, id, secret string
	atHydra              []byte // Hydra's client as JSON; updated_at changes with any write
}

func newVictim(t *testing.T) *victim {
	t.Helper()
	ns := newNamespace(t, "tenant-iso-victim")
	create(t, serviceClient(ns, "app"))
	obj := waitReady(t, ns, "app")
	if obj.Status.ClientID != string(obj.UID) {
		t.Fatalf("the default client ID is %q, want the resource's UID %q", obj.Status.ClientID, obj.UID)
	}
	v := &victim{ns: ns, name: "app", id: obj.Status.ClientID, secret: string(getSecret(t, ns, "app").Data["client_secret"])}
	v.atHydra = v.hydraJSON(t)
	return v
}

// newHydraMaesterVictim is a client ory/hydra-maester registered for its resource name in a
// namespace of its own: a UUID-like ID, hydra-maester's owner mark "<name>/<namespace>", and the
// Secret the application reads.
func newHydraMaesterVictim(t *testing.T, name string) *victim {
	t.Helper()
	ns := newNamespace(t, "tenant-iso-maester")
	v := &victim{ns: ns, name: name, id: "6c1f0e52-" + randomText(8), secret: "maester-secret-" + randomText(12)}
	owner := name + "/" + ns
	c := &hydra.OAuth2Client{ClientId: &v.id, ClientSecret: &v.secret, Owner: &owner,
		GrantTypes: []string{"client_credentials"}, Scope: ptrTo("read")}
	if _, err := hydraAPI.Create(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string][]byte{"client_secret": []byte(v.secret)}})
	v.atHydra = v.hydraJSON(t)
	return v
}

func (v *victim) hydraJSON(t *testing.T) []byte {
	t.Helper()
	c, err := hydraAPI.Get(context.Background(), v.id)
	if err != nil {
		t.Fatalf("the victim's client at Hydra: %v", err)
	}
	raw, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// expectUntouched: Hydra's client is exactly as before (same fields, same updated_at), and the
// victim's own credentials still obtain a token.
func (v *victim) expectUntouched(t *testing.T) {
	t.Helper()
	if now := v.hydraJSON(t); string(now) != string(v.atHydra) {
		t.Fatalf("the victim's client changed at Hydra:\nbefore %s\nafter  %s", v.atHydra, now)
	}
	if err := tokenFor(v.id, v.secret, "read"); err != nil {
		t.Fatalf("the victim's credentials no longer work: %v", err)
	}
	if s := getSecret(t, v.ns, v.name); string(s.Data["client_secret"]) != v.secret {
		t.Fatal("the victim's Secret changed")
	}
}

// expectNoCredentialsOf: the intruder's Secret, if the operator wrote one, holds neither the
// victim's secret nor anything else that authenticates as the victim's client.
func expectNoCredentialsOf(t *testing.T, v *victim, ns, name string) {
	t.Helper()
	s := &corev1.Secret{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, s); err != nil {
		return // no Secret at all: nothing to read
	}
	got := string(s.Data["client_secret"])
	if got == v.secret {
		t.Fatal("the intruder's Secret holds the victim's client secret")
	}
	if got != "" && tokenFor(v.id, got, "read") == nil {
		t.Fatal("the intruder's Secret authenticates as the victim's client")
	}
}

// deleteAndExpectUntouched deletes the intruder (deletionPolicy Delete, the default) and checks
// that the victim's client survived it.
func deleteAndExpectUntouched(t *testing.T, v *victim, intruder *v1alpha1.OAuth2Client) {
	t.Helper()
	if intruder.Spec.DeletionPolicy != "" && intruder.Spec.DeletionPolicy != v1alpha1.DeletionPolicyDelete {
		t.Fatalf("the intruder must ask for its client to be deleted, not %q", intruder.Spec.DeletionPolicy)
	}
	if err := k8s.Delete(context.Background(), intruder); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, func() error { return goneErr(intruder.Namespace, intruder.Name) })
	v.expectUntouched(t)
}
