//go:build integration

package controllers

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
)

// tokenLoad is a consumer of a client's Secret asking for a client_credentials token 20 times a
// second, with the credentials it has at that moment, and recording each outcome.
type tokenLoad struct {
	ns, secret string
	// refresh is how long the consumer keeps a copy of the Secret: 0 reads the Secret from the
	// API server before every request (a consumer that re-reads its mounted file each time,
	// with an instant kubelet); more is a kubelet that syncs the volume that much later.
	refresh time.Duration
	// request asks for a token with the credentials of a copy of the Secret.
	request func(*corev1.Secret) error

	mu       sync.Mutex
	outcomes []tokenOutcome
	firstErr error // the first failed request's error, for the log
}

type tokenOutcome struct {
	at time.Time
	ok bool
}

const tokenRate = 20 // requests per second, as the issue asks

// assertionMu keeps client-assertion requests one at a time (assertionToken).
var assertionMu sync.Mutex

func (l *tokenLoad) run(ctx context.Context, t *testing.T) {
	tick := time.NewTicker(time.Second / tokenRate)
	defer tick.Stop()
	var creds *corev1.Secret
	var readAt time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if creds == nil || time.Since(readAt) >= l.refresh {
			s := &corev1.Secret{}
			if err := k8s.Get(ctx, client.ObjectKey{Namespace: l.ns, Name: l.secret}, s); err != nil {
				if ctx.Err() == nil {
					t.Errorf("reading Secret %s: %v", l.secret, err)
				}
				return
			}
			creds, readAt = s, time.Now()
		}
		err := l.request(creds)
		l.mu.Lock()
		if err != nil && l.firstErr == nil {
			l.firstErr = err
		}
		l.outcomes = append(l.outcomes, tokenOutcome{at: time.Now(), ok: err == nil})
		l.mu.Unlock()
	}
}

// failures counts the failed requests and the window from the first failure to the last.
func (l *tokenLoad) failures() (total, failed int, window time.Duration, lastOK bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var first, last time.Time
	for _, o := range l.outcomes {
		if o.ok {
			continue
		}
		failed++
		if first.IsZero() {
			first = o.at
		}
		last = o.at
	}
	if failed > 0 {
		window = last.Sub(first) + time.Second/tokenRate
	}
	return len(l.outcomes), failed, window, len(l.outcomes) > 0 && l.outcomes[len(l.outcomes)-1].ok
}

// kubeletDelay is how long the late consumer keeps its copy of the Secret.
const kubeletDelay = 3 * time.Second

// loadedRotation is one rotation requested with the annotation while two consumers ask for
// tokens: fresh reads the Secret before every request, late keeps a copy for kubeletDelay, as a
// pod whose mounted Secret the kubelet refreshes late.
type loadedRotation struct {
	ns            string
	before, after *corev1.Secret
	rotated       *v1alpha1.OAuth2Client
	fresh, late   *tokenLoad
	rotatedAfter  time.Duration
}

// rotateUnderLoad creates a service client with rot, starts both consumers, requests a
// rotation, waits until status records it and the late consumer has refreshed its copy twice
// (and its last request worked), and stops the consumers.
func rotateUnderLoad(t *testing.T, prefix string, rot *v1alpha1.Rotation) loadedRotation {
	t.Helper()
	lr := loadedRotation{ns: newNamespace(t, prefix)}
	obj := serviceClient(lr.ns, "svc")
	obj.Spec.Rotation = rot
	request := basicToken
	if rot.Strategy == v1alpha1.RotationStrategyKeyRollover {
		obj.Spec.TokenEndpointAuthMethod, request = v1alpha1.AuthMethodPrivateKeyJWT, assertionToken
	}
	create(t, obj)
	obj = waitReady(t, lr.ns, "svc")
	lr.before = getSecret(t, lr.ns, "svc")
	rememberSecretsIn(lr.before)

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	lr.fresh = &tokenLoad{ns: lr.ns, secret: "svc", request: request}
	lr.late = &tokenLoad{ns: lr.ns, secret: "svc", refresh: kubeletDelay, request: request}
	var wg sync.WaitGroup
	for _, l := range []*tokenLoad{lr.fresh, lr.late} {
		wg.Add(1)
		go func() { defer wg.Done(); l.run(ctx, t) }()
	}
	eventually(t, 10*time.Second, func() error {
		if n, failed, _, _ := lr.late.failures(); n < tokenRate || failed > 0 {
			return fmt.Errorf("load before the rotation: %d requests, %d failed", n, failed)
		}
		return nil
	})

	requested := time.Now()
	annotate(t, obj, v1alpha1.RotateRequestedAtAnnotation, requested.UTC().Format(time.RFC3339Nano))
	eventually(t, 30*time.Second, func() error {
		lr.rotated = &v1alpha1.OAuth2Client{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), lr.rotated); err != nil {
			return err
		}
		if st := lr.rotated.Status.Rotation; st == nil || st.LastRotationTime == nil {
			return fmt.Errorf("not rotated yet: %+v", lr.rotated.Status.Rotation)
		}
		return readyErr(lr.rotated)
	})
	lr.rotatedAfter = time.Since(requested)
	eventually(t, 3*kubeletDelay, func() error {
		if _, _, _, lastOK := lr.late.failures(); !lastOK || time.Since(requested) < 2*kubeletDelay {
			return fmt.Errorf("the late consumer has not refreshed twice and recovered yet")
		}
		return nil
	})
	stop()
	wg.Wait()
	lr.after = getSecret(t, lr.ns, "svc")
	rememberSecretsIn(lr.after)
	return lr
}

// basicToken asks for a token with the Secret's client_secret (HTTP Basic).
func basicToken(s *corev1.Secret) error {
	return tokenFor(string(s.Data["client_id"]), string(s.Data["client_secret"]), "read")
}

// assertionToken asks for a token with a client assertion signed by the Secret's private key
// under its key ID (private_key_jwt). Requests are sent one at a time: Hydra records each
// assertion's jti to refuse replays, and the test's Hydra, on in-memory SQLite, answers a second
// such write at the same moment with a 500 ("Unable to serialize access due to a concurrent
// update in another session"), whatever the credentials; a production database does not.
func assertionToken(s *corev1.Secret) error {
	assertionMu.Lock()
	defer assertionMu.Unlock()
	return assertionTokenAt(hydraProc.PublicURL(), string(s.Data["client_id"]), string(s.Data["private_key"]), string(s.Data["key_id"]))
}

// TestReplaceRotationUnderTokenLoad rotates a client's secret with strategy Replace under the
// two consumers of rotateUnderLoad. Replace makes the old secret invalid at once, so it
// measures the window of failed requests each consumer sees (docs/user-guide.md, "Rotating
// credentials"), and checks that it is bounded, that both consumers recover, and that only the
// new secret works after.
func TestReplaceRotationUnderTokenLoad(t *testing.T) {
	lr := rotateUnderLoad(t, "rotate-replace", &v1alpha1.Rotation{Strategy: v1alpha1.RotationStrategyReplace})
	before, after := lr.before, lr.after
	if string(after.Data["client_secret"]) == string(before.Data["client_secret"]) {
		t.Fatal("the Secret holds the same secret after the rotation")
	}
	if err := tokenFor(string(before.Data["client_id"]), string(before.Data["client_secret"]), "read"); err == nil {
		t.Error("the old secret still works after a Replace rotation")
	}
	if err := secretWorks(lr.ns, "svc"); err != nil {
		t.Fatal(err)
	}
	if lr.rotated.Status.Rotation.LastHandledRequest == "" {
		t.Error("status.rotation.lastHandledRequest is empty")
	}

	nFresh, failedFresh, windowFresh, okFresh := lr.fresh.failures()
	nLate, failedLate, windowLate, okLate := lr.late.failures()
	t.Logf("ROTATION replace: rotatedAfter=%s fresh: requests=%d failed=%d window=%s | kubelet delay %s: requests=%d failed=%d window=%s",
		lr.rotatedAfter.Round(time.Millisecond), nFresh, failedFresh, windowFresh, kubeletDelay, nLate, failedLate, windowLate)
	if !okFresh || !okLate {
		t.Error("a consumer's last token request failed: it did not recover from the rotation")
	}
	// A consumer that reads the Secret every time fails only between the operator's Secret
	// write and the server's update, one request to the server later.
	if windowFresh > time.Second {
		t.Errorf("the consumer that re-reads the Secret failed for %s; want under a second", windowFresh)
	}
	// A late consumer fails from the server's update until its copy is refreshed.
	if windowLate > kubeletDelay+time.Second {
		t.Errorf("the late consumer failed for %s; want at most its refresh delay %s plus a second", windowLate, kubeletDelay)
	}
}

// TestAlternatingClientsRotationUnderTokenLoad rotates with strategy AlternatingClients under
// the same two consumers. The Secret switches to the standby client only after the server
// accepts its fresh secret, and the client switched from keeps working for the grace period,
// so neither consumer may see a single failed token request.
func TestAlternatingClientsRotationUnderTokenLoad(t *testing.T) {
	lr := rotateUnderLoad(t, "rotate-alternating", &v1alpha1.Rotation{Strategy: v1alpha1.RotationStrategyAlternatingClients, GracePeriod: "2m"})
	rotated := lr.rotated
	oldID, newID := string(lr.before.Data["client_id"]), string(lr.after.Data["client_id"])
	if newID != oldID+v1alpha1.AlternateClientIDSuffix || rotated.Status.ClientID != newID || rotated.Status.Rotation.PreviousClientID != oldID {
		t.Fatalf("after the rotation: Secret client %q, status client %q, previous %q; want %q after %q",
			newID, rotated.Status.ClientID, rotated.Status.Rotation.PreviousClientID, oldID+v1alpha1.AlternateClientIDSuffix, oldID)
	}
	if err := tokenFor(oldID, string(lr.before.Data["client_secret"]), "read"); err != nil {
		t.Errorf("the client switched from must keep working during the grace period: %v", err)
	}
	if err := secretWorks(lr.ns, "svc"); err != nil {
		t.Fatal(err)
	}
	if n := len(ownedClients(t, lr.ns, "svc")); n != 2 {
		t.Errorf("%d clients of the resource at Hydra during the grace period; want 2", n)
	}

	nFresh, failedFresh, _, _ := lr.fresh.failures()
	nLate, failedLate, _, _ := lr.late.failures()
	t.Logf("ROTATION alternating: rotatedAfter=%s fresh: requests=%d failed=%d | kubelet delay %s: requests=%d failed=%d",
		lr.rotatedAfter.Round(time.Millisecond), nFresh, failedFresh, kubeletDelay, nLate, failedLate)
	if failedFresh != 0 || failedLate != 0 {
		t.Errorf("token requests failed during an AlternatingClients rotation: %d of %d (re-reading), %d of %d (late); want none",
			failedFresh, nFresh, failedLate, nLate)
	}

	// Deleting the resource deletes both clients.
	if err := k8s.Delete(context.Background(), rotated); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, func() error { return goneErr(lr.ns, "svc") })
	if n := len(ownedClients(t, lr.ns, "svc")); n != 0 {
		t.Errorf("%d clients left at Hydra after deletion", n)
	}
}

// TestKeyRolloverRotationUnderTokenLoad rotates a private_key_jwt client's key with strategy
// KeyRollover under the same two consumers, which sign client assertions with the Secret's
// private key. The new public key is published before the Secret switches to its private key,
// and the key switched from stays published for the grace period, so no request may fail.
func TestKeyRolloverRotationUnderTokenLoad(t *testing.T) {
	lr := rotateUnderLoad(t, "rotate-keys", &v1alpha1.Rotation{Strategy: v1alpha1.RotationStrategyKeyRollover, GracePeriod: "2m"})
	rotated := lr.rotated
	oldKID, newKID := string(lr.before.Data["key_id"]), string(lr.after.Data["key_id"])
	st := rotated.Status.Rotation
	if oldKID == "" || newKID == oldKID || st.CurrentKeyID != newKID || st.PreviousKeyID != oldKID || st.PreviousValidUntil == nil {
		t.Fatalf("after the rotation: Secret key %q (before %q), status current %q previous %q until %v",
			newKID, oldKID, st.CurrentKeyID, st.PreviousKeyID, st.PreviousValidUntil)
	}
	if string(lr.after.Data["client_id"]) != string(lr.before.Data["client_id"]) || len(lr.after.Data["client_secret"]) != 0 {
		t.Error("KeyRollover must keep the client ID and never write a client_secret")
	}
	if err := assertionToken(lr.before); err != nil {
		t.Errorf("the key switched from must keep working during the grace period: %v", err)
	}
	if err := assertionToken(lr.after); err != nil {
		t.Fatal(err)
	}
	actual, err := hydraAPI.Get(context.Background(), rotated.Status.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if !hydra.HoldsKeys(actual, []string{newKID, oldKID}) {
		t.Errorf("Hydra's jwks during the grace period: %v; want exactly keys %s and %s", actual.Jwks, newKID, oldKID)
	}

	nFresh, failedFresh, _, _ := lr.fresh.failures()
	nLate, failedLate, _, _ := lr.late.failures()
	t.Logf("ROTATION keyrollover: rotatedAfter=%s fresh: requests=%d failed=%d | kubelet delay %s: requests=%d failed=%d",
		lr.rotatedAfter.Round(time.Millisecond), nFresh, failedFresh, kubeletDelay, nLate, failedLate)
	if failedFresh != 0 || failedLate != 0 {
		t.Errorf("token requests failed during a KeyRollover rotation: %d of %d (re-reading), %d of %d (late); want none; first errors: %v; %v",
			failedFresh, nFresh, failedLate, nLate, lr.fresh.firstErr, lr.late.firstErr)
	}
}

// TestServerRotationStallsOnHydra requests a rotation with strategy ServerRotation from a real
// Hydra v2.3.0, which has no secret rotation endpoint: the resource is Stalled with reason
// RotationUnsupported and a message that names the way out, and the Secret's credentials are
// the ones it had, which still obtain a token.
func TestServerRotationStallsOnHydra(t *testing.T) {
	ns := newNamespace(t, "rotate-server")
	obj := serviceClient(ns, "svc")
	obj.Spec.Rotation = &v1alpha1.Rotation{Strategy: v1alpha1.RotationStrategyServerRotation}
	create(t, obj)
	obj = waitReady(t, ns, "svc")
	before := getSecret(t, ns, "svc")
	rememberSecretsIn(before)
	annotate(t, obj, v1alpha1.RotateRequestedAtAnnotation, "now")
	stalledObj := waitCondition(t, ns, "svc", v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonRotationUnsupported)
	if !meta.IsStatusConditionTrue(stalledObj.Status.Conditions, v1alpha1.ConditionStalled) {
		t.Errorf("not Stalled: %+v", stalledObj.Status.Conditions)
	}
	msg := meta.FindStatusCondition(stalledObj.Status.Conditions, v1alpha1.ConditionReady).Message
	for _, want := range []string{"has none", "AlternatingClients", "Replace"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the message %q does not say %q", msg, want)
		}
	}
	after := getSecret(t, ns, "svc")
	if string(after.Data["client_secret"]) != string(before.Data["client_secret"]) {
		t.Error("an unsupported rotation changed the Secret's client_secret")
	}
	if err := secretWorks(ns, "svc"); err != nil {
		t.Errorf("the Secret's credentials fail after the refused rotation: %v", err)
	}
}
