package controllers

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra/hydrafake"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/secrets"
)

// rotatingAtServer rotates with strategy ServerRotation every hour, with 10 minutes' grace.
func rotatingAtServer(obj *v1alpha1.OAuth2Client) {
	obj.Spec.Rotation = &v1alpha1.Rotation{Strategy: v1alpha1.RotationStrategyServerRotation, Period: "1h", GracePeriod: "10m"}
}

// The fake serves the rotation endpoint of Hydra after v2.3.0 here: no released Hydra has it
// (the contract test holds the fake to v2.3.0's answer without it; the unsupported case below
// and TestServerRotationStallsOnHydra run it against a real Hydra's answer).
func TestServerRotation(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	obj := resource("team", "billing", rotatingAtServer)
	w, clock := newRotationWorld(t, start, obj)
	w.hydra.SupportSecretRotation()
	if _, err := w.reconcile(obj, 3); err != nil {
		t.Fatal(err)
	}
	first := w.credentials(obj)

	clock.SetTime(start.Add(time.Hour))
	if _, err := w.reconcile(obj, 3); err != nil {
		t.Fatal(err)
	}
	second := w.credentials(obj)
	if second.ClientID != first.ClientID || second.ClientSecret == first.ClientSecret {
		t.Fatal("the rotation must keep the client and change the secret")
	}
	if !w.hydra.SecretMatches(first.ClientID, first.ClientSecret) || !w.hydra.SecretMatches(second.ClientID, second.ClientSecret) {
		t.Fatal("during the grace period both secrets must work")
	}
	if s := w.secret(obj.Namespace, obj.Name); s.Data[secrets.PendingSecretKey] != nil {
		t.Error("the pending secret is still in the Secret after the switch")
	}
	got := w.get(obj)
	if st := got.Status.Rotation; st.PreviousValidUntil == nil || !st.PreviousValidUntil.Time.Equal(start.Add(70*time.Minute)) || st.LastRotationTime == nil {
		t.Fatalf("status after the rotation: %+v", st)
	}
	if !readyTrue(got) {
		t.Fatalf("not Ready after the rotation: %+v", got.Status.Conditions)
	}

	clock.SetTime(start.Add(70*time.Minute - time.Second))
	if _, err := w.reconcile(obj, 1); err != nil || !w.hydra.SecretMatches(first.ClientID, first.ClientSecret) {
		t.Fatalf("the old secret ended before its grace period (err %v)", err)
	}
	clock.SetTime(start.Add(70 * time.Minute))
	if _, err := w.reconcile(obj, 3); err != nil {
		t.Fatal(err)
	}
	if w.hydra.SecretMatches(first.ClientID, first.ClientSecret) || !w.hydra.SecretMatches(second.ClientID, second.ClientSecret) {
		t.Fatal("after the grace period only the new secret may work")
	}
	if st := w.get(obj).Status.Rotation; st.PreviousValidUntil != nil {
		t.Errorf("status still names a grace period: %+v", st)
	}
	if !slices.Contains(w.eventReasons(), "Retired") {
		t.Errorf("no Retired event; events: %v", w.eventReasons())
	}
}

// A server without the endpoint (the fake as Hydra v2.3.0) stalls the rotation with a reason
// and a message a user can act on; the Secret's credentials keep working, and further passes
// do not rotate anything.
func TestServerRotationUnsupported(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	obj := resource("team", "billing", rotatingAtServer)
	w, clock := newRotationWorld(t, start, obj)
	if _, err := w.reconcile(obj, 3); err != nil {
		t.Fatal(err)
	}
	before := w.credentials(obj)
	clock.SetTime(start.Add(time.Hour))
	_, err := w.reconcile(obj, 3)
	got := w.get(obj)
	if o := observe(got, err); o.ready != metav1.ConditionFalse || o.reason != v1alpha1.ReasonRotationUnsupported || !o.stalled || o.retried {
		t.Fatalf("outcome %+v; want Stalled RotationUnsupported, not retried", o)
	}
	after := w.credentials(obj)
	if after != before || !w.hydra.SecretMatches(after.ClientID, after.ClientSecret) {
		t.Fatal("an unsupported rotation changed the Secret's credentials or broke them")
	}
	rotateCalls := w.hydra.Calls().Rotate
	if rotateCalls != 1 {
		t.Errorf("%d calls to the rotation endpoint; want 1", rotateCalls)
	}
}

// TestServerRotationResumesAfterFailures fails each server call of a rotation once, as a crash
// or an outage between the steps would, and checks that the Secret's credentials work after
// every pass and that the rotation and the end of the grace period complete.
func TestServerRotationResumesAfterFailures(t *testing.T) {
	for _, op := range []hydrafake.Op{hydrafake.OpRotate, hydrafake.OpClearRotated} {
		t.Run(string(op), func(t *testing.T) {
			start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			obj := resource("team", "billing", rotatingAtServer)
			w, clock := newRotationWorld(t, start, obj)
			w.hydra.SupportSecretRotation()
			if _, err := w.reconcile(obj, 3); err != nil {
				t.Fatal(err)
			}
			first := w.credentials(obj)
			clock.SetTime(start.Add(time.Hour))
			if op == hydrafake.OpClearRotated {
				if _, err := w.reconcile(obj, 3); err != nil {
					t.Fatal(err)
				}
				clock.SetTime(start.Add(71 * time.Minute))
			}
			w.hydra.FailNextOn(op, 1, http.StatusServiceUnavailable)
			for range 6 {
				_, err := w.r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(obj)})
				c := w.credentials(obj)
				if !w.hydra.SecretMatches(c.ClientID, c.ClientSecret) {
					t.Fatalf("after a pass (err %v) the Secret holds a secret the server refuses", err)
				}
			}
			c := w.credentials(obj)
			if c.ClientSecret == first.ClientSecret || w.get(obj).Status.Rotation.LastRotationTime == nil {
				t.Fatal("the rotation did not complete")
			}
			if op == hydrafake.OpClearRotated && w.hydra.SecretMatches(first.ClientID, first.ClientSecret) {
				t.Error("the old secret still works after the grace period")
			}
		})
	}
}
