package controllers

import (
	"context"
	"net/http"
	"testing"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra/hydrafake"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/secrets"
)

// alternatingHourly rotates with strategy AlternatingClients every hour, with 10 minutes' grace.
func alternatingHourly(obj *v1alpha1.OAuth2Client) {
	obj.Spec.Rotation = &v1alpha1.Rotation{Strategy: v1alpha1.RotationStrategyAlternatingClients, Period: "1h", GracePeriod: "10m"}
}

// exists reports whether the server has a client with this ID.
func (w *fastWorld) exists(id string) bool {
	_, err := w.api.Get(context.Background(), id)
	return err == nil
}

func TestAlternatingClientsRotation(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	obj := resource("team", "batch", alternatingHourly)
	w, clock := newRotationWorld(t, start, obj)
	if _, err := w.reconcile(obj, 3); err != nil {
		t.Fatal(err)
	}
	primary, alternate := string(obj.UID), string(obj.UID)+v1alpha1.AlternateClientIDSuffix
	first := w.credentials(obj)
	if first.ClientID != primary || w.exists(alternate) {
		t.Fatalf("after creation the Secret holds %q and the alternate exists: %v; want only the primary", first.ClientID, w.exists(alternate))
	}

	// The rotation: the Secret switches to the alternate, with a fresh secret; both work.
	clock.SetTime(start.Add(time.Hour))
	if _, err := w.reconcile(obj, 3); err != nil {
		t.Fatal(err)
	}
	second := w.credentials(obj)
	if second.ClientID != alternate || second.ClientSecret == first.ClientSecret {
		t.Fatalf("after the rotation the Secret holds client %q; want %q with a fresh secret", second.ClientID, alternate)
	}
	if !w.hydra.SecretMatches(first.ClientID, first.ClientSecret) || !w.hydra.SecretMatches(second.ClientID, second.ClientSecret) {
		t.Fatal("during the grace period both the old and the new credentials must work")
	}
	if s := w.secret(obj.Namespace, obj.Name); s.Data[secrets.PendingSecretKey] != nil {
		t.Error("the pending secret is still in the Secret after the switch")
	}
	got := w.get(obj)
	st := got.Status.Rotation
	if got.Status.ClientID != alternate || st.PreviousClientID != primary || st.PreviousValidUntil == nil ||
		!st.PreviousValidUntil.Time.Equal(start.Add(70*time.Minute)) || st.LastRotationTime == nil {
		t.Fatalf("status after the rotation: clientID %q, rotation %+v", got.Status.ClientID, st)
	}
	if !readyTrue(got) {
		t.Fatalf("not Ready after the rotation: %+v", got.Status.Conditions)
	}

	// A second early, the old client still works; when the grace period ends it is deleted.
	clock.SetTime(start.Add(70*time.Minute - time.Second))
	res, err := w.reconcile(obj, 1)
	if err != nil || !w.exists(primary) {
		t.Fatalf("the old client was retired before its grace period ended (err %v)", err)
	}
	if res.RequeueAfter != time.Second {
		t.Errorf("RequeueAfter %s a second before the retirement; want 1s", res.RequeueAfter)
	}
	clock.SetTime(start.Add(70 * time.Minute))
	if _, err := w.reconcile(obj, 3); err != nil {
		t.Fatal(err)
	}
	if w.exists(primary) || !w.hydra.SecretMatches(second.ClientID, second.ClientSecret) {
		t.Fatal("after the grace period the old client must be gone and the current one work")
	}
	if st := w.get(obj).Status.Rotation; st.PreviousClientID != "" || st.PreviousValidUntil != nil {
		t.Errorf("status still names a retired client: %+v", st)
	}

	// The next rotation goes back to the primary, registered again with a fresh secret.
	clock.SetTime(start.Add(2 * time.Hour))
	if _, err := w.reconcile(obj, 3); err != nil {
		t.Fatal(err)
	}
	third := w.credentials(obj)
	if third.ClientID != primary || third.ClientSecret == first.ClientSecret || !w.hydra.SecretMatches(third.ClientID, third.ClientSecret) ||
		!w.hydra.SecretMatches(second.ClientID, second.ClientSecret) {
		t.Fatal("the second rotation did not switch back to the primary with a fresh secret while the alternate kept working")
	}

	// Deleting the resource deletes both clients.
	if err := w.k8s.Delete(context.Background(), w.get(obj)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.reconcile(obj, 3); err != nil {
		t.Fatal(err)
	}
	if w.exists(primary) || w.exists(alternate) {
		t.Errorf("after deletion: primary exists %v, alternate exists %v; want neither", w.exists(primary), w.exists(alternate))
	}
}

// TestAlternatingClientsResumesAfterFailures fails each server call of a rotation once, as a
// crash or an outage between the steps would, and checks that the Secret's credentials work
// after every failed pass and that the rotation completes.
func TestAlternatingClientsResumesAfterFailures(t *testing.T) {
	for _, op := range []hydrafake.Op{hydrafake.OpGet, hydrafake.OpCreate, hydrafake.OpDelete} {
		t.Run(string(op), func(t *testing.T) {
			start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			obj := resource("team", "batch", alternatingHourly)
			w, clock := newRotationWorld(t, start, obj)
			if _, err := w.reconcile(obj, 3); err != nil {
				t.Fatal(err)
			}
			first := w.credentials(obj)
			clock.SetTime(start.Add(time.Hour))
			if op == hydrafake.OpDelete {
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
					t.Fatalf("after a pass (err %v) the Secret holds credentials the server refuses", err)
				}
			}
			c := w.credentials(obj)
			st := w.get(obj).Status.Rotation
			if c.ClientID == first.ClientID || st.LastRotationTime == nil {
				t.Fatalf("the rotation did not complete: Secret holds %q, status %+v", c.ClientID, st)
			}
			if op == hydrafake.OpDelete && (w.exists(first.ClientID) || st.PreviousClientID != "") {
				t.Errorf("the old client was not retired: exists %v, status %+v", w.exists(first.ClientID), st)
			}
		})
	}
}

// A request during the grace period of the last rotation waits for the retirement (it can't
// use the client still in its grace period), without a pass a second until then.
func TestAlternatingClientsRequestDuringGracePeriod(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	obj := resource("team", "batch", alternatingHourly)
	w, clock := newRotationWorld(t, start, obj)
	if _, err := w.reconcile(obj, 3); err != nil {
		t.Fatal(err)
	}
	clock.SetTime(start.Add(time.Hour))
	if _, err := w.reconcile(obj, 3); err != nil {
		t.Fatal(err)
	}
	rotated := w.credentials(obj)

	clock.SetTime(start.Add(61 * time.Minute))
	w.annotate(obj, v1alpha1.RotateRequestedAtAnnotation, "again")
	res, err := w.reconcile(obj, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := w.credentials(obj); got != rotated {
		t.Fatal("a request rotated while the last rotation's grace period ran")
	}
	// No scanner here, so the sync period (a minute) comes first; not a pass every second.
	if res.RequeueAfter < 50*time.Second {
		t.Errorf("RequeueAfter %s; want the sync period, not a pass a second while the request waits", res.RequeueAfter)
	}
	clock.SetTime(start.Add(70 * time.Minute))
	for range 3 {
		if _, err := w.reconcile(obj, 3); err != nil {
			t.Fatal(err)
		}
	}
	got := w.credentials(obj)
	if got.ClientID != string(obj.UID) || got.ClientSecret == rotated.ClientSecret || w.get(obj).Status.Rotation.LastHandledRequest != "again" {
		t.Fatalf("after the retirement the request was not carried out: Secret holds %q", got.ClientID)
	}
}
