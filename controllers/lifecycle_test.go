//go:build integration

package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/testenv"
)

func TestCreateRegistersClientAndWritesSecret(t *testing.T) {
	ns := newNamespace(t, "create")
	obj := serviceClient(ns, "billing")
	obj.Spec.ClientName = "Billing service"
	create(t, obj)

	obj = waitReady(t, ns, "billing")
	if obj.Status.ClientID != string(obj.UID) || obj.Status.SecretName != "billing" {
		t.Fatalf("status: clientID %q secretName %q", obj.Status.ClientID, obj.Status.SecretName)
	}
	s := getSecret(t, ns, "billing")
	if string(s.Data["client_id"]) != obj.Status.ClientID || len(s.Data["client_secret"]) < 43 {
		t.Fatalf("Secret data keys: %v", keys(s.Data))
	}
	if ref := metav1.GetControllerOf(s); ref == nil || ref.UID != obj.UID {
		t.Fatalf("Secret has no controller reference to the OAuth2Client: %+v", s.OwnerReferences)
	}
	if err := secretWorks(ns, "billing"); err != nil {
		t.Fatal(err)
	}
	got, err := hydraAPI.Get(context.Background(), obj.Status.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if got.GetClientName() != "Billing service" || got.GetScope() != "read write" || got.GetOwner() != hydra.OwnerIn(testInstallation, ns, "billing") {
		t.Fatalf("hydra client: name %q scope %q owner %q", got.GetClientName(), got.GetScope(), got.GetOwner())
	}
	if strings.Contains(logBuf.String(), string(s.Data["client_secret"])) {
		t.Fatal("the client secret appears in the operator's logs")
	}
}

func TestSpecUpdateReachesHydra(t *testing.T) {
	ns := newNamespace(t, "update")
	obj := serviceClient(ns, "svc")
	create(t, obj)
	obj = waitReady(t, ns, "svc")

	obj.Spec.Scopes = []string{"read", "write", "admin"}
	if err := k8s.Update(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
	waitReady(t, ns, "svc")
	eventually(t, 10*time.Second, func() error {
		got, err := hydraAPI.Get(context.Background(), obj.Status.ClientID)
		if err != nil {
			return err
		}
		if got.GetScope() != "read write admin" {
			return fmt.Errorf("scope at hydra is %q", got.GetScope())
		}
		return nil
	})
	if err := secretWorks(ns, "svc"); err != nil {
		t.Fatalf("the secret must survive a spec update: %v", err)
	}
}

func TestDriftAtHydraIsReverted(t *testing.T) {
	ns := newNamespace(t, "drift")
	create(t, serviceClient(ns, "svc"))
	obj := waitReady(t, ns, "svc")
	ctx := context.Background()

	editAtHydra(t, obj.Status.ClientID, func(c *hydra.OAuth2Client) {
		c.SetScope("read write everything")
		c.RedirectUris = []string{"https://evil.example.com/cb"}
	})
	// The periodic re-check (syncPeriod) finds and reverts it without any change to the resource.
	eventually(t, 4*syncPeriod, func() error {
		got, err := hydraAPI.Get(ctx, obj.Status.ClientID)
		if err != nil {
			return err
		}
		if got.GetScope() != "read write" || len(got.RedirectUris) != 0 {
			return fmt.Errorf("not reverted yet: scope %q redirect URIs %v", got.GetScope(), got.RedirectUris)
		}
		return nil
	})
	if err := secretWorks(ns, "svc"); err != nil {
		t.Fatal(err)
	}
}

func TestClientDeletedAtHydraIsRecreatedWithSameCredentials(t *testing.T) {
	ns := newNamespace(t, "recreate")
	create(t, serviceClient(ns, "svc"))
	obj := waitReady(t, ns, "svc")
	before := getSecret(t, ns, "svc")

	if err := hydraAPI.Delete(context.Background(), obj.Status.ClientID); err != nil {
		t.Fatal(err)
	}
	eventually(t, 4*syncPeriod, func() error { return secretWorks(ns, "svc") })
	after := getSecret(t, ns, "svc")
	if after.ResourceVersion != before.ResourceVersion {
		t.Fatal("the Secret was rewritten; re-creating the client must reuse its credentials")
	}
}

func TestSecretDeletedOrEditedIsRestored(t *testing.T) {
	ns := newNamespace(t, "secret")
	create(t, serviceClient(ns, "svc"))
	waitReady(t, ns, "svc")
	ctx := context.Background()

	t.Run("deleted", func(t *testing.T) {
		if err := k8s.Delete(ctx, getSecret(t, ns, "svc")); err != nil {
			t.Fatal(err)
		}
		eventually(t, 20*time.Second, func() error { return secretWorks(ns, "svc") })
	})
	t.Run("secret value edited", func(t *testing.T) {
		s := getSecret(t, ns, "svc")
		s.Data["client_secret"] = []byte("a-secret-chosen-by-a-person")
		if err := k8s.Update(ctx, s); err != nil {
			t.Fatal(err)
		}
		// The edited secret is what applications will mount, so the operator registers it.
		eventually(t, 20*time.Second, func() error { return secretWorks(ns, "svc") })
	})
	t.Run("managed-by label removed", func(t *testing.T) {
		s := getSecret(t, ns, "svc")
		delete(s.Labels, v1alpha1.ManagedByLabel)
		if err := k8s.Update(ctx, s); err != nil {
			t.Fatal(err)
		}
		// The label-selected cache no longer sees it; the reconcile request annotation does.
		obj := &v1alpha1.OAuth2Client{}
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "svc"}, obj); err != nil {
			t.Fatal(err)
		}
		annotate(t, obj, v1alpha1.RequestedAtAnnotation, "label-removed")
		eventually(t, 20*time.Second, func() error {
			if got := getSecret(t, ns, "svc").Labels[v1alpha1.ManagedByLabel]; got != v1alpha1.ManagedByValue {
				return fmt.Errorf("label not restored: %q", got)
			}
			return secretWorks(ns, "svc")
		})
	})
	t.Run("client_id edited", func(t *testing.T) {
		s := getSecret(t, ns, "svc")
		s.Data["client_id"] = []byte("someone-else")
		if err := k8s.Update(ctx, s); err != nil {
			t.Fatal(err)
		}
		eventually(t, 20*time.Second, func() error {
			obj := &v1alpha1.OAuth2Client{}
			if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "svc"}, obj); err != nil {
				return err
			}
			if id := string(getSecret(t, ns, "svc").Data["client_id"]); id != obj.Status.ClientID {
				return fmt.Errorf("client_id is %q, want %q", id, obj.Status.ClientID)
			}
			return secretWorks(ns, "svc")
		})
	})
}

func TestExistingSecretIsUsedAndNeverOverwritten(t *testing.T) {
	ns := newNamespace(t, "existing")
	provided := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "from-vault", Annotations: sharedWithClient("billing")},
		Data:       map[string][]byte{"client_id": []byte("billing-" + ns), "client_secret": []byte("provided-secret-123456")},
	}
	create(t, provided)
	obj := serviceClient(ns, "billing")
	obj.Spec.SecretName = "from-vault"
	create(t, obj)

	obj = waitReady(t, ns, "billing")
	if obj.Status.ClientID != "billing-"+ns {
		t.Fatalf("client ID %q, want the Secret's", obj.Status.ClientID)
	}
	if err := tokenFor("billing-"+ns, "provided-secret-123456", "read"); err != nil {
		t.Fatal(err)
	}
	if s := getSecret(t, ns, "from-vault"); s.ResourceVersion != provided.ResourceVersion {
		t.Fatal("the operator wrote to a Secret it does not own")
	}
}

// TestProvidedSecretRotationReachesHydra: a Secret someone else writes is not watched, so the
// operator re-reads it every sync period; a rotation (as External Secrets does it) must reach
// Hydra without any change to the resource.
func TestProvidedSecretRotationReachesHydra(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, "existing-rotation")
	id, oldSecret, newSecret := "rotating-"+ns, "before-rotation-123456", "after-rotation-654321"
	provided := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "external", Annotations: sharedWithClient("svc")},
		Data:       map[string][]byte{"client_id": []byte(id), "client_secret": []byte(oldSecret)},
	}
	create(t, provided)
	obj := serviceClient(ns, "svc")
	obj.Spec.SecretName = "external"
	create(t, obj)
	obj = waitReady(t, ns, "svc")
	if err := tokenFor(id, oldSecret, "read"); err != nil {
		t.Fatal(err)
	}

	provided.Data["client_secret"] = []byte(newSecret)
	if err := k8s.Update(ctx, provided); err != nil {
		t.Fatal(err)
	}
	rememberSecret(newSecret)
	eventually(t, 4*syncPeriod, func() error { return tokenFor(id, newSecret, "read") })
	if err := tokenFor(id, oldSecret, "read"); err == nil {
		t.Fatal("Hydra still accepts the secret from before the rotation")
	}
	after := &v1alpha1.OAuth2Client{}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), after); err != nil {
		t.Fatal(err)
	}
	if after.Generation != obj.Generation {
		t.Fatal("the resource changed; the rotation must be picked up without any edit")
	}
	if s := getSecret(t, ns, "external"); s.ResourceVersion != provided.ResourceVersion {
		t.Fatal("the operator wrote to a Secret it does not own")
	}
}

func TestRequireExistingSecretWaitsForIt(t *testing.T) {
	ns := newNamespace(t, "wait")
	obj := serviceClient(ns, "svc")
	obj.Spec.RequireExistingSecret = true
	create(t, obj)

	waitCondition(t, ns, "svc", v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonSecretNotFound)
	waitCondition(t, ns, "svc", v1alpha1.ConditionReconciling, metav1.ConditionTrue, v1alpha1.ReasonSecretNotFound)
	if _, err := secretOrNil(ns, "svc"); err != nil {
		t.Fatal(err)
	}

	create(t, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "svc", Annotations: sharedWithClient("svc")},
		Data:       map[string][]byte{"client_id": []byte("late-" + ns), "client_secret": []byte("arrived-later-123")},
	})
	waitReady(t, ns, "svc")
	if err := tokenFor("late-"+ns, "arrived-later-123", "read"); err != nil {
		t.Fatal(err)
	}
}

func secretOrNil(ns, name string) (*corev1.Secret, error) {
	s := &corev1.Secret{}
	err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, s)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err == nil {
		return s, errors.New("the operator generated a Secret although requireExistingSecret is set")
	}
	return nil, err
}

func TestClientIDConflictBetweenNamespaces(t *testing.T) {
	nsA, nsB := newNamespace(t, "tenant-a"), newNamespace(t, "tenant-b")
	id := "shared-" + nsA
	a := serviceClient(nsA, "app")
	a.Spec.ClientID = id
	create(t, a)
	waitReady(t, nsA, "app")
	aBefore, err := hydraAPI.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}

	b := serviceClient(nsB, "app")
	b.Spec.ClientID = id
	b.Spec.Scopes = []string{"admin"}
	b.Spec.AdoptExistingClient = true // even with adoption, another resource's client is never taken
	create(t, b)
	got := waitCondition(t, nsB, "app", v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonClientIDConflict)
	if !strings.Contains(conditionMessage(got, v1alpha1.ConditionStalled), nsA+"/app") {
		t.Fatalf("the conflict message should name the owner: %q", conditionMessage(got, v1alpha1.ConditionStalled))
	}
	aAfter, err := hydraAPI.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if aAfter.GetScope() != aBefore.GetScope() || aAfter.GetOwner() != aBefore.GetOwner() {
		t.Fatal("tenant B changed tenant A's client")
	}
	if err := secretWorks(nsA, "app"); err != nil {
		t.Fatal(err)
	}
	// B's Secret must not hold credentials for A's client.
	if s, err := secretOrNil(nsB, "app"); err != nil && s != nil {
		if err := tokenFor(id, string(s.Data["client_secret"]), "read"); err == nil {
			t.Fatal("tenant B's Secret authenticates as tenant A's client")
		}
	}

	// Deleting B must leave A's client alone.
	if err := k8s.Delete(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, func() error { return goneErr(nsB, "app") })
	if err := secretWorks(nsA, "app"); err != nil {
		t.Fatalf("deleting tenant B's resource broke tenant A's client: %v", err)
	}
}

func TestUnmarkedClientNeedsAdoptionOptIn(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, "adopt")
	id := "legacy-" + ns
	secret := "legacy-secret-123456"
	if _, err := hydraAPI.Create(ctx, &hydra.OAuth2Client{ClientId: &id, ClientSecret: &secret, GrantTypes: []string{"client_credentials"}}); err != nil {
		t.Fatal(err)
	}
	obj := serviceClient(ns, "legacy")
	obj.Spec.ClientID = id
	create(t, obj)
	waitCondition(t, ns, "legacy", v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonClientIDConflict)
	if err := tokenFor(id, secret, ""); err != nil {
		t.Fatalf("the unmarked client must be left alone: %v", err)
	}

	// Opting in from a namespace the policy does not allow (only "adopters-*") is refused too.
	obj = &v1alpha1.OAuth2Client{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "legacy"}, obj); err != nil {
		t.Fatal(err)
	}
	obj.Spec.AdoptExistingClient = true
	if err := k8s.Update(ctx, obj); err != nil {
		t.Fatal(err)
	}
	waitCondition(t, ns, "legacy", v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonNamespaceNotAllowed)
}

// TestAdoptionTakesOverUnmarkedClient: with the opt-in, from a namespace the policy allows, a
// client created at Hydra by other means becomes this resource's: marked as its own, set to
// the spec, and answering to the credentials in the resource's Secret.
func TestAdoptionTakesOverUnmarkedClient(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, "adopters")
	id, legacySecret := "adoptable-"+ns, "legacy-secret-654321"
	if _, err := hydraAPI.Create(ctx, &hydra.OAuth2Client{ClientId: &id, ClientSecret: &legacySecret, GrantTypes: []string{"client_credentials"}, Scope: ptrTo("legacy")}); err != nil {
		t.Fatal(err)
	}
	obj := serviceClient(ns, "legacy")
	obj.Spec.ClientID = id
	obj.Spec.AdoptExistingClient = true
	create(t, obj)
	obj = waitReady(t, ns, "legacy")

	got, err := hydraAPI.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.GetOwner() != hydra.OwnerIn(testInstallation, ns, "legacy") || got.GetScope() != "read write" {
		t.Fatalf("adopted client: owner %q scope %q", got.GetOwner(), got.GetScope())
	}
	if obj.Status.ClientID != id {
		t.Fatalf("status.clientID %q, want %q", obj.Status.ClientID, id)
	}
	if err := secretWorks(ns, "legacy"); err != nil {
		t.Fatal(err)
	}
	// The Secret's credentials are the ones registered: the secret from before is replaced.
	if tokenFor(id, legacySecret, "read") == nil {
		t.Fatal("the adopted client still accepts the secret it had before adoption")
	}
}

func TestOrphanKeepsClientAndSecret(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, "orphan")
	obj := serviceClient(ns, "svc")
	obj.Spec.DeletionPolicy = v1alpha1.DeletionPolicyOrphan
	create(t, obj)
	obj = waitReady(t, ns, "svc")
	if err := k8s.Delete(ctx, obj); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, func() error { return goneErr(ns, "svc") })
	if _, err := hydraAPI.Get(ctx, obj.Status.ClientID); err != nil {
		t.Fatalf("the orphaned client is gone from Hydra: %v", err)
	}
	s := getSecret(t, ns, "svc")
	if metav1.GetControllerOf(s) != nil {
		t.Fatal("the orphaned Secret still has a controller and would be garbage-collected")
	}
	if err := secretWorks(ns, "svc"); err != nil {
		t.Fatal(err)
	}
}

func TestDeleteRemovesClientEvenIfAlreadyGone(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, "delete")
	create(t, serviceClient(ns, "svc"))
	create(t, serviceClient(ns, "gone"))
	svc, gone := waitReady(t, ns, "svc"), waitReady(t, ns, "gone")
	if err := hydraAPI.Delete(ctx, gone.Status.ClientID); err != nil {
		t.Fatal(err)
	}
	for _, obj := range []*v1alpha1.OAuth2Client{svc, gone} {
		if err := k8s.Delete(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 20*time.Second, func() error {
		return errors.Join(goneErr(ns, "svc"), goneErr(ns, "gone"))
	})
	if _, err := hydraAPI.Get(ctx, svc.Status.ClientID); !hydra.IsNotFound(err) {
		t.Fatalf("the client is still at Hydra: %v", err)
	}
}

func TestHydraRestartWithEmptyDatabase(t *testing.T) {
	ns := newNamespace(t, "restart")
	create(t, serviceClient(ns, "svc"))
	waitReady(t, ns, "svc")
	before := getSecret(t, ns, "svc")

	if err := hydraProc.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 4*syncPeriod, func() error { return secretWorks(ns, "svc") })
	if getSecret(t, ns, "svc").ResourceVersion != before.ResourceVersion {
		t.Fatal("the Secret changed; applications would need a restart")
	}
}

func TestHydraDownThenBack(t *testing.T) {
	ns := newNamespace(t, "outage")
	hydraProc.Stop()
	restarted := false
	defer func() {
		if !restarted {
			_ = hydraProc.Start(context.Background())
		}
	}()
	create(t, serviceClient(ns, "svc"))
	got := waitCondition(t, ns, "svc", v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonAuthorizationServerUnavailable)
	if meta := conditionMessage(got, v1alpha1.ConditionReconciling); meta == "" {
		t.Fatal("Reconciling should be true while Hydra is unavailable")
	}
	waitServerUp(t, 0)
	if err := hydraProc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	restarted = true
	// controller-runtime's backoff retries; nothing was lost: the Secret's credentials work.
	waitReadyWithin(t, ns, "svc", 60*time.Second)
	if err := secretWorks(ns, "svc"); err != nil {
		t.Fatal(err)
	}
	waitServerUp(t, 1)
}

// waitServerUp waits for the operator's gauge of the default server's state, read from the
// registry its metrics endpoint serves.
func waitServerUp(t *testing.T, want float64) {
	t.Helper()
	eventually(t, 20*time.Second, func() error {
		if got := testutil.ToFloat64(serverUp.WithLabelValues(DefaultServer)); got != want {
			return fmt.Errorf("oauth2_client_operator_authorization_server_up = %v, want %v", got, want)
		}
		return nil
	})
}

// TestDeleteWhileHydraIsGoneForGood follows the documented escape hatch: a resource whose
// deletion waits for an unreachable Hydra is let go by switching deletionPolicy to Orphan.
func TestDeleteWhileHydraIsGoneForGood(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, "hydra-gone")
	create(t, serviceClient(ns, "svc"))
	obj := waitReady(t, ns, "svc")

	hydraProc.Stop()
	restarted := false
	defer func() {
		if !restarted {
			_ = hydraProc.Start(context.Background())
		}
	}()
	if err := k8s.Delete(ctx, obj); err != nil {
		t.Fatal(err)
	}
	stuck := waitCondition(t, ns, "svc", v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonAuthorizationServerUnavailable)
	if stuck.DeletionTimestamp.IsZero() || !strings.HasPrefix(conditionMessage(stuck, v1alpha1.ConditionReady), "Deleting:") {
		t.Fatalf("want a deletion waiting for Hydra, have %+v", stuck.Status.Conditions)
	}
	waitEvent(t, stuck, "Warning", v1alpha1.ReasonAuthorizationServerUnavailable)

	patch := []byte(`{"spec":{"deletionPolicy":"Orphan"}}`)
	if err := k8s.Patch(ctx, stuck, client.RawPatch(types.MergePatchType, patch)); err != nil {
		t.Fatalf("the escape hatch is refused: %v", err)
	}
	eventually(t, 20*time.Second, func() error { return goneErr(ns, "svc") })
	s := getSecret(t, ns, "svc")
	if metav1.GetControllerOf(s) != nil {
		t.Fatal("the released Secret still has a controller and would be garbage-collected")
	}

	if err := hydraProc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	restarted = true
}

func waitReadyWithin(t *testing.T, ns, name string, d time.Duration) {
	t.Helper()
	eventually(t, d, func() error {
		obj := &v1alpha1.OAuth2Client{}
		if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
			return err
		}
		return readyErr(obj)
	})
}

func TestHydraRejectionStallsWithHydrasReason(t *testing.T) {
	ns := newNamespace(t, "rejected")
	obj := refusedByHydra(ns, "svc")
	create(t, obj)
	got := waitCondition(t, ns, "svc", v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonHydraRejected)
	if got.Status.ObservedGeneration != got.Generation {
		t.Fatal("a stalled generation is observed, so kstatus reports Failed")
	}
	// Hydra's own error_description, which names the offending URI, reaches the user.
	msg := conditionMessage(got, v1alpha1.ConditionStalled)
	if !strings.Contains(msg, "post_logout_redirect_uri 'https://other.example.com/bye' must match") {
		t.Fatalf("the Stalled message lacks Hydra's error_description: %q", msg)
	}

	// Not calling Hydra again is an absence, which no poll can wait for: watch for a bounded
	// window that spans two drift scans and sync periods, in which a retry would have happened.
	calls := operatorHydra.callsFor(string(got.UID))
	if calls == 0 {
		t.Fatal("no Hydra call counted for the client; the probe is broken")
	}
	testenv.Consistently(t, 2*syncPeriod, func() error {
		if n := operatorHydra.callsFor(string(got.UID)); n != calls {
			return fmt.Errorf("the operator called Hydra again (%d calls, was %d) for a generation Hydra refused", n, calls)
		}
		return nil
	})

	// Fixing the spec clears it, and kstatus sees a plain Ready: no Stalled, no Reconciling.
	got.Spec.PostLogoutRedirectURIs = []string{"https://app.example.com/bye"}
	if err := k8s.Update(context.Background(), got); err != nil {
		t.Fatal(err)
	}
	fixed := waitReady(t, ns, "svc")
	for _, condType := range []string{v1alpha1.ConditionStalled, v1alpha1.ConditionReconciling} {
		if c := conditionOf(fixed, condType); c != nil {
			t.Fatalf("Ready, but %s is still present: %+v", condType, *c)
		}
	}
}

func TestRequestedAtAnnotationTriggersReconcile(t *testing.T) {
	ns := newNamespace(t, "requested")
	create(t, serviceClient(ns, "svc"))
	obj := waitReady(t, ns, "svc")
	annotate(t, obj, v1alpha1.RequestedAtAnnotation, "2026-11-22T10:00:00Z")
	eventually(t, 10*time.Second, func() error {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		if obj.Status.LastHandledRequestedAt != "2026-11-22T10:00:00Z" {
			return fmt.Errorf("lastHandledRequestedAt is %q", obj.Status.LastHandledRequestedAt)
		}
		return nil
	})
}

func goneErr(ns, name string) error {
	err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &v1alpha1.OAuth2Client{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err == nil {
		return fmt.Errorf("%s/%s still exists", ns, name)
	}
	return err
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestClientIDPolicy: a namespace outside --client-id-namespaces can neither set spec.clientID
// nor bring a Secret naming a client ID, so it can't reach a client nobody has claimed yet.
func TestClientIDPolicy(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, "restricted")
	id := "unclaimed-" + ns
	if _, err := hydraAPI.Create(ctx, &hydra.OAuth2Client{ClientId: &id, GrantTypes: []string{"client_credentials"}}); err != nil {
		t.Fatal(err)
	}
	chosen := serviceClient(ns, "chosen")
	chosen.Spec.ClientID = id
	create(t, chosen)
	waitCondition(t, ns, "chosen", v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonNamespaceNotAllowed)

	create(t, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "brought", Annotations: sharedWithClient("brought")},
		Data:       map[string][]byte{"client_id": []byte(id), "client_secret": []byte("guessed-secret-123")},
	})
	brought := serviceClient(ns, "brought")
	brought.Spec.SecretName = "brought"
	create(t, brought)
	waitCondition(t, ns, "brought", v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonNamespaceNotAllowed)

	got, err := hydraAPI.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.GetOwner() != "" {
		t.Fatalf("the unclaimed client was taken over: owner %q", got.GetOwner())
	}
	if tokenFor(id, "guessed-secret-123", "") == nil {
		t.Fatal("the restricted namespace set the unclaimed client's secret")
	}

	// Operator-chosen IDs (the resource's UID) are always allowed.
	create(t, serviceClient(ns, "plain"))
	waitReady(t, ns, "plain")
}

// TestRenamedSecretKeyMovesTheSecret: renaming secretTemplate.clientSecretKey on a real API
// server moves the same secret to the new key in one server-side apply, drops the old key, and
// the secret keeps obtaining tokens: no new secret is issued.
func TestRenamedSecretKeyMovesTheSecret(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, "rename-key")
	create(t, serviceClient(ns, "svc"))
	obj := waitReady(t, ns, "svc")
	before := getSecret(t, ns, "svc")
	id, secret := string(before.Data["client_id"]), string(before.Data["client_secret"])
	rememberSecret(secret)

	patch := []byte(`{"spec":{"secretTemplate":{"clientSecretKey":"password"}}}`)
	if err := k8s.Patch(ctx, obj, client.RawPatch(types.MergePatchType, patch)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, func() error {
		s := getSecret(t, ns, "svc")
		if _, old := s.Data["client_secret"]; old || len(s.Data["password"]) == 0 {
			return fmt.Errorf("keys not moved yet: %d keys", len(s.Data))
		}
		return nil
	})
	after := getSecret(t, ns, "svc")
	if string(after.Data["password"]) != secret {
		t.Fatal("the moved key holds a new secret: the old one was replaced")
	}
	if err := tokenFor(id, secret, "read"); err != nil {
		t.Fatalf("the secret no longer works at Hydra: %v", err)
	}
	got := waitReady(t, ns, "svc")
	if got.Status.CredentialsFingerprint != obj.Status.CredentialsFingerprint {
		t.Fatal("the credentials fingerprint changed: new credentials were registered")
	}
	waitEvent(t, got, "Normal", "SecretKeysChanged")
}
