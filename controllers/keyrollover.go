package controllers

import (
	"context"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/secrets"
)

// Rotation with strategy KeyRollover: a private_key_jwt client whose keys the operator
// generates. The Secret holds the private key (secrets.PrivateKeyKey) and its key ID; the
// client's jwks at the server holds the public keys. A rotation, each step recorded in the
// Secret before the server call that depends on it:
//
//  1. a fresh key is saved under secrets.PendingPrivateKeyKey (the consumer keys unchanged);
//  2. its public key is added to the client's jwks, next to the current one;
//  3. the Secret switches to the fresh key, keeping the public key it switched from under
//     secrets.PreviousPublicKeyKey with the end of the grace period;
//  4. after the grace period that key leaves the client's jwks, then the Secret.
//
// Between 2 and 4 the server accepts assertions signed with either key, so a consumer that
// reads the Secret again within the grace period never signs with a key the server refuses.
// A crash between any two steps is resumed by the next pass from what the Secret holds.

// rollsKeys reports whether the operator generates the client's keys (strategy KeyRollover).
func rollsKeys(obj *v1alpha1.OAuth2Client) bool {
	return obj.Spec.Rotation != nil && obj.Spec.Rotation.Strategy == v1alpha1.RotationStrategyKeyRollover
}

// storedKey is the private key in the operator's Secret; "" when it holds none it can use.
func storedKey(existing *corev1.Secret) string {
	if existing == nil {
		return ""
	}
	key := string(existing.Data[secrets.PrivateKeyKey])
	if _, err := secrets.PublicJWK(key); err != nil {
		return ""
	}
	return key
}

// readKeyState reads what a rotation with strategy KeyRollover left in the Secret; a value
// that does not parse counts as absent.
func readKeyState(existing *corev1.Secret, iss *issuance) {
	if pending := string(existing.Data[secrets.PendingPrivateKeyKey]); pending != "" {
		if _, err := secrets.PublicJWK(pending); err == nil {
			iss.pendingKey = pending
		}
	}
	if previous := string(existing.Data[secrets.PreviousPublicKeyKey]); previous != "" {
		if _, err := secrets.ParsePublicJWK(previous); err == nil {
			iss.previousKey = previous
		}
	}
}

// publishedKeys is the key set the server is to hold for a client whose Secret holds creds and
// the rotation state iss: the current key, the pending one and the one switched from.
func publishedKeys(creds secrets.Credentials, iss issuance) (jose.JSONWebKeySet, error) {
	var keys []jose.JSONWebKey
	for _, private := range []string{creds.PrivateKey, iss.pendingKey} {
		if private == "" {
			continue
		}
		jwk, err := secrets.PublicJWK(private)
		if err != nil {
			return jose.JSONWebKeySet{}, fmt.Errorf("the generated private key: %w", err)
		}
		keys = append(keys, jwk)
	}
	if iss.previousKey != "" {
		jwk, err := secrets.ParsePublicJWK(iss.previousKey)
		if err != nil {
			return jose.JSONWebKeySet{}, fmt.Errorf("the previous public key: %w", err)
		}
		keys = append(keys, jwk)
	}
	return secrets.KeySet(keys...), nil
}

// desiredClient is the client the server should hold under clientID: the spec's, and for
// operator-generated keys the key set the Secret's state publishes.
func (r *OAuth2ClientReconciler) desiredClient(obj *v1alpha1.OAuth2Client, clientID string, creds secrets.Credentials, iss issuance) (*hydra.OAuth2Client, error) {
	desired, err := hydra.Desired(&obj.Spec, clientID, hydra.OwnerIn(r.Installation, obj.Namespace, obj.Name))
	if err != nil || !rollsKeys(obj) {
		return desired, err
	}
	set, err := publishedKeys(creds, iss)
	if err == nil {
		err = hydra.WithKeys(desired, set)
	}
	return desired, err
}

// keyIDOf is the key ID of a PEM private key; "" when it has none.
func keyIDOf(private string) string {
	jwk, err := secrets.PublicJWK(private)
	if err != nil {
		return ""
	}
	return jwk.KeyID
}

// reconcileKeyRollover carries a rotation with strategy KeyRollover forward by the steps above,
// from the state the Secret holds (creds, iss), once the client is registered as desired
// (reconcileHydraClient succeeded), and returns what the Secret holds afterwards. It retires
// the key switched from when its grace period has ended, and starts a rotation only when none
// is under way, the resource may rotate and one is due.
func (r *OAuth2ClientReconciler) reconcileKeyRollover(ctx context.Context, obj *v1alpha1.OAuth2Client, srv *Server, creds secrets.Credentials, iss issuance) (secrets.Credentials, issuance, error) {
	now := r.now()
	if iss.previousKey != "" && iss.pendingKey == "" {
		if now.Before(iss.previousUntil) {
			return creds, iss, nil
		}
		retired, err := r.retirePreviousKey(ctx, obj, srv, creds, iss)
		return creds, retired, err
	}
	if iss.pendingKey == "" {
		due, _ := rotationDue(obj.Spec.Rotation, obj.Annotations[v1alpha1.RotateRequestedAtAnnotation], iss, now)
		if !due || !mayRotate(obj) {
			return creds, iss, nil
		}
		fresh, err := secrets.NewPrivateKey()
		if err != nil {
			return creds, iss, err
		}
		iss.pendingKey, iss.request = fresh, obj.Annotations[v1alpha1.RotateRequestedAtAnnotation]
		if err := r.writeRotationState(ctx, obj, srv, creds, iss); err != nil { // step 1
			return creds, iss, err
		}
		r.markWritten(obj, iss.version, iss.issuedAt, iss.pendingKey)
	}
	if err := r.publishKeys(ctx, obj, srv, creds, iss); err != nil { // step 2
		rotations.WithLabelValues(srv.Name, string(strategyOf(obj)), "error").Inc()
		return creds, iss, err
	}
	issuedAt := now
	if !issuedAt.After(iss.issuedAt) {
		issuedAt = iss.issuedAt.Add(time.Second)
	}
	previous, err := secrets.PublicJWK(creds.PrivateKey)
	if err != nil {
		return creds, iss, err
	}
	previousJSON, err := previous.MarshalJSON()
	if err != nil {
		return creds, iss, err
	}
	switched := issuance{issuedAt: issuedAt, request: iss.request, previousKey: string(previousJSON),
		previousUntil: now.Add(gracePeriodOf(obj)), version: iss.version}
	next := secrets.Credentials{ClientID: creds.ClientID, PrivateKey: iss.pendingKey}
	if err := r.writeRotationState(ctx, obj, srv, next, switched); err != nil { // step 3
		return creds, iss, err
	}
	r.markWritten(obj, iss.version, switched.issuedAt, "")
	r.remember(obj, srv, next.ClientID, secrets.Fingerprint(r.FingerprintKey, string(obj.UID), next))
	ctrl.LoggerFrom(ctx).Info("Switched the Secret to a new key", "clientID", next.ClientID, "keyID", keyIDOf(next.PrivateKey), "previousKeyID", previous.KeyID)
	return next, switched, nil
}

// publishKeys makes the client's jwks at the server the key set the Secret's state publishes
// (publishedKeys), reading the client first: only this resource's client is written.
func (r *OAuth2ClientReconciler) publishKeys(ctx context.Context, obj *v1alpha1.OAuth2Client, srv *Server, creds secrets.Credentials, iss issuance) error {
	desired, err := r.desiredClient(obj, creds.ClientID, creds, iss)
	if err != nil {
		return stalled(v1alpha1.ReasonHydraRejected, "The spec cannot be sent to Hydra: %v", err)
	}
	actual, err := srv.Hydra.Get(ctx, creds.ClientID)
	if err != nil {
		return classify(err) // missing: the next pass's reconcileHydraClient creates it with these keys
	}
	if err := r.checkOwnership(ctx, obj, actual); err != nil {
		return err
	}
	if len(hydra.Diff(desired, actual)) == 0 {
		return nil
	}
	_, err = srv.Hydra.Update(ctx, creds.ClientID, desired)
	return classify(err)
}

// retirePreviousKey removes the key the last rotation switched from from the client's jwks,
// then drops it from the Secret.
func (r *OAuth2ClientReconciler) retirePreviousKey(ctx context.Context, obj *v1alpha1.OAuth2Client, srv *Server, creds secrets.Credentials, iss issuance) (issuance, error) {
	retired := iss
	retired.previousKey, retired.previousUntil = "", time.Time{}
	if err := r.publishKeys(ctx, obj, srv, creds, retired); err != nil {
		return iss, err
	}
	if previous, err := secrets.ParsePublicJWK(iss.previousKey); err == nil {
		ctrl.LoggerFrom(ctx).Info("Retired the key switched from", "clientID", creds.ClientID, "keyID", previous.KeyID)
		r.event(obj, corev1.EventTypeNormal, "Retired", fmt.Sprintf(
			"Removed key %s from client %s at the authorization server: the grace period after the rotation to key %s ended",
			previous.KeyID, creds.ClientID, keyIDOf(creds.PrivateKey)))
	}
	if err := r.writeRotationState(ctx, obj, srv, creds, retired); err != nil {
		return iss, err
	}
	r.markWritten(obj, iss.version, retired.issuedAt, "")
	srv.verdicts().MarkInSync(obj)
	return retired, nil
}

// keyFor is the private key the operator's Secret is to hold (strategy KeyRollover): the one
// it holds, or a new one when it holds none it can use. A key someone wrote into the Secret is
// used as it is and, like a secret written there, starts the schedule again.
func (r *OAuth2ClientReconciler) keyFor(obj *v1alpha1.OAuth2Client, existing *corev1.Secret, creds secrets.Credentials, iss issuance) (secrets.Credentials, issuance, bool, error) {
	creds.PrivateKey = storedKey(existing)
	generate := creds.PrivateKey == ""
	changed := !generate && !r.writtenByOperator(existing, creds)
	if generate {
		key, err := secrets.NewPrivateKey()
		if err != nil {
			return creds, iss, false, err
		}
		creds.PrivateKey = key
	}
	return creds, r.issueFor(obj, iss, generate, changed), generate, nil
}
