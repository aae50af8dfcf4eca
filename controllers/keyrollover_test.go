package controllers

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra/hydrafake"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/secrets"
)

// rollingKeys is a private_key_jwt client whose keys the operator generates and rolls over
// every hour, with 10 minutes' grace.
func rollingKeys(obj *v1alpha1.OAuth2Client) {
	obj.Spec.TokenEndpointAuthMethod = "private_key_jwt"
	obj.Spec.Rotation = &v1alpha1.Rotation{Strategy: v1alpha1.RotationStrategyKeyRollover, Period: "1h", GracePeriod: "10m"}
}

// signingKey is the key ID of the private key in the resource's Secret, as a consumer that
// signs its assertions with it would send; it also checks that key_id names that key.
func (w *fastWorld) signingKey(obj *v1alpha1.OAuth2Client) string {
	w.t.Helper()
	s := w.secret(obj.Namespace, secretName(obj))
	if s == nil {
		w.t.Fatalf("no Secret %s", secretName(obj))
	}
	kid := keyIDOf(string(s.Data[secrets.PrivateKeyKey]))
	if kid == "" || string(s.Data[secrets.KeyIDKey]) != kid {
		w.t.Fatalf("the Secret's key_id %q does not name its private key (%q)", s.Data[secrets.KeyIDKey], kid)
	}
	return kid
}

// publishedKeyIDs are the key IDs of the client's jwks at the server.
func (w *fastWorld) publishedKeyIDs(clientID string) []string {
	w.t.Helper()
	c, err := w.api.Get(context.Background(), clientID)
	if err != nil {
		w.t.Fatalf("client %s: %v", clientID, err)
	}
	raw, err := json.Marshal(c.Jwks)
	if err != nil {
		w.t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		w.t.Fatal(err)
	}
	for _, k := range set.Keys {
		if !k.IsPublic() {
			w.t.Fatalf("the server was given a private key (kid %s)", k.KeyID)
		}
	}
	return secrets.KeyIDs(set)
}

func TestKeyRollover(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	obj := resource("team", "signer", rollingKeys)
	w, clock := newRotationWorld(t, start, obj)
	if _, err := w.reconcile(obj, 3); err != nil {
		t.Fatal(err)
	}
	clientID := w.credentials(obj).ClientID
	first := w.signingKey(obj)
	if got := w.publishedKeyIDs(clientID); !slices.Equal(got, []string{first}) {
		t.Fatalf("after creation the server publishes %v; want the Secret's key %s", got, first)
	}
	if st := w.get(obj).Status.Rotation; st == nil || st.CurrentKeyID != first || st.PreviousKeyID != "" {
		t.Fatalf("status after creation: %+v; want currentKeyID %s", st, first)
	}

	// The rotation: a new key in the Secret, both published.
	clock.SetTime(start.Add(time.Hour))
	if _, err := w.reconcile(obj, 3); err != nil {
		t.Fatal(err)
	}
	second := w.signingKey(obj)
	if second == first {
		t.Fatal("the rotation kept the key")
	}
	if got := w.publishedKeyIDs(clientID); !slices.Equal(got, secrets.KeyIDs(keySetOf(t, first, second))) {
		t.Fatalf("during the grace period the server publishes %v; want %s and %s", got, first, second)
	}
	s := w.secret(obj.Namespace, secretName(obj))
	if s.Data[secrets.PendingPrivateKeyKey] != nil || s.Data[secrets.PreviousPublicKeyKey] == nil {
		t.Fatal("after the switch the Secret must hold the previous public key and no pending key")
	}
	got := w.get(obj)
	st := got.Status.Rotation
	if st.CurrentKeyID != second || st.PreviousKeyID != first || st.PreviousValidUntil == nil ||
		!st.PreviousValidUntil.Time.Equal(start.Add(70*time.Minute)) || st.LastRotationTime == nil {
		t.Fatalf("status after the rotation: %+v", st)
	}
	if !readyTrue(got) {
		t.Fatalf("not Ready after the rotation: %+v", got.Status.Conditions)
	}

	// A second early the old key is still published; when the grace period ends it goes.
	clock.SetTime(start.Add(70*time.Minute - time.Second))
	if _, err := w.reconcile(obj, 1); err != nil || len(w.publishedKeyIDs(clientID)) != 2 {
		t.Fatalf("the old key was retired before its grace period ended (err %v)", err)
	}
	clock.SetTime(start.Add(70 * time.Minute))
	if _, err := w.reconcile(obj, 3); err != nil {
		t.Fatal(err)
	}
	if got := w.publishedKeyIDs(clientID); !slices.Equal(got, []string{second}) {
		t.Fatalf("after the grace period the server publishes %v; want only %s", got, second)
	}
	if st := w.get(obj).Status.Rotation; st.PreviousKeyID != "" || st.PreviousValidUntil != nil {
		t.Errorf("status still names a retired key: %+v", st)
	}
	if s := w.secret(obj.Namespace, secretName(obj)); s.Data[secrets.PreviousPublicKeyKey] != nil {
		t.Error("the retired key is still in the Secret")
	}
	if !slices.Contains(w.eventReasons(), "Retired") {
		t.Errorf("no Retired event; events: %v", w.eventReasons())
	}
}

// keySetOf is the sorted set of these key IDs, as secrets.KeySet orders keys.
func keySetOf(t *testing.T, kids ...string) jose.JSONWebKeySet {
	t.Helper()
	set := jose.JSONWebKeySet{}
	for _, kid := range kids {
		set.Keys = append(set.Keys, jose.JSONWebKey{KeyID: kid})
	}
	slices.SortFunc(set.Keys, func(a, b jose.JSONWebKey) int {
		if a.KeyID < b.KeyID {
			return -1
		}
		return 1
	})
	return set
}

// TestKeyRolloverResumesAfterFailures fails each server call of a rotation once, as a crash or
// an outage between the steps would, and checks that after every pass the server publishes the
// key the Secret signs with, and that the rotation and the retirement complete.
func TestKeyRolloverResumesAfterFailures(t *testing.T) {
	for _, op := range []hydrafake.Op{hydrafake.OpGet, hydrafake.OpUpdate} {
		for _, phase := range []string{"rotation", "retirement"} {
			t.Run(string(op)+"/"+phase, func(t *testing.T) {
				start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
				obj := resource("team", "signer", rollingKeys)
				w, clock := newRotationWorld(t, start, obj)
				if _, err := w.reconcile(obj, 3); err != nil {
					t.Fatal(err)
				}
				first := w.signingKey(obj)
				clock.SetTime(start.Add(time.Hour))
				if phase == "retirement" {
					if _, err := w.reconcile(obj, 3); err != nil {
						t.Fatal(err)
					}
					clock.SetTime(start.Add(71 * time.Minute))
				}
				w.hydra.FailNextOn(op, 1, http.StatusServiceUnavailable)
				for range 6 {
					_, err := w.r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(obj)})
					clientID := w.credentials(obj).ClientID
					if kid := w.signingKey(obj); !slices.Contains(w.publishedKeyIDs(clientID), kid) {
						t.Fatalf("after a pass (err %v) the Secret signs with key %s, which the server does not publish", err, kid)
					}
				}
				current := w.signingKey(obj)
				published := w.publishedKeyIDs(w.credentials(obj).ClientID)
				if current == first {
					t.Fatal("the rotation did not complete")
				}
				if phase == "retirement" && !slices.Equal(published, []string{current}) {
					t.Errorf("the old key was not retired: the server publishes %v", published)
				}
			})
		}
	}
}

// A key written into the Secret by hand is published as it is, like a secret written there.
func TestKeyRolloverPublishesAKeyWrittenIntoTheSecret(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	obj := resource("team", "signer", rollingKeys)
	w, _ := newRotationWorld(t, start, obj)
	if _, err := w.reconcile(obj, 3); err != nil {
		t.Fatal(err)
	}
	own, err := secrets.NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	s := w.secret(obj.Namespace, secretName(obj))
	s.Data[secrets.PrivateKeyKey] = []byte(own)
	if err := w.k8s.Update(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if _, err := w.reconcile(obj, 3); err != nil {
		t.Fatal(err)
	}
	kid := w.signingKey(obj)
	if kid != keyIDOf(own) || !slices.Equal(w.publishedKeyIDs(w.credentials(obj).ClientID), []string{kid}) {
		t.Fatalf("the key written into the Secret is not the one published (Secret %s)", kid)
	}
}
