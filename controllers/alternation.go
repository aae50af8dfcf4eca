package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/secrets"
)

// Rotation with strategy AlternatingClients: two clients at the server, the client ID and the
// client ID with AlternateClientIDSuffix. The Secret holds one of them; a rotation gives the
// other (the standby) a fresh secret and switches the Secret to it, and the client switched
// from keeps working for the grace period, so a consumer that reads the Secret again within it
// never holds credentials the server refuses. Every step is recorded in the Secret, written
// before the server call that depends on it:
//
//  1. the fresh secret is saved under secrets.PendingSecretKey (the consumer keys unchanged);
//  2. the standby is registered with it (created, or updated when it exists);
//  3. the Secret switches to the standby, naming the client switched from and when it retires;
//  4. after the grace period the client switched from is deleted at the server, then its
//     names leave the Secret.
//
// A crash between any two steps is resumed by the next pass from what the Secret holds.

// defaultGracePeriod is how long the client switched from keeps working when
// spec.rotation.gracePeriod is unset.
const defaultGracePeriod = 10 * time.Minute

// alternating reports whether the resource rotates with strategy AlternatingClients.
func alternating(obj *v1alpha1.OAuth2Client) bool {
	return obj.Spec.Rotation != nil && obj.Spec.Rotation.Strategy == v1alpha1.RotationStrategyAlternatingClients
}

// clientPair is the resource's two client IDs under AlternatingClients.
func clientPair(obj *v1alpha1.OAuth2Client) (primary, alternate string) {
	primary = clientIDFor(obj)
	return primary, primary + v1alpha1.AlternateClientIDSuffix
}

// otherOf is the client of the pair that id is not.
func otherOf(obj *v1alpha1.OAuth2Client, id string) string {
	primary, alternate := clientPair(obj)
	if id == alternate {
		return primary
	}
	return alternate
}

// currentClientID is the client ID the Secret's credentials are for: under AlternatingClients
// whichever of the pair the Secret holds (the primary when it holds neither), otherwise the
// resource's client ID.
func currentClientID(obj *v1alpha1.OAuth2Client, existing *corev1.Secret) string {
	primary, alternate := clientPair(obj)
	if existing != nil && alternating(obj) && secrets.Read(existing, obj.Spec.SecretTemplate).ClientID == alternate {
		return alternate
	}
	return primary
}

// gracePeriodOf is spec.rotation.gracePeriod, or defaultGracePeriod.
func gracePeriodOf(obj *v1alpha1.OAuth2Client) time.Duration {
	if obj.Spec.Rotation != nil {
		if d, err := time.ParseDuration(string(obj.Spec.Rotation.GracePeriod)); err == nil && d > 0 {
			return d
		}
	}
	return defaultGracePeriod
}

// carry puts the rotation state into what the Secret is rendered from.
func (iss issuance) carry(src *secrets.Source) {
	src.IssuedAt, src.RotationRequest = iss.issuedAt, iss.request
	src.PendingSecret, src.PreviousClientID, src.PreviousValidUntil = iss.pending, iss.previousID, iss.previousUntil
	src.PendingPrivateKey, src.PreviousPublicKey = iss.pendingKey, iss.previousKey
	src.SecretKeptAtServer = iss.keptAtServer
}

// reconcileAlternation carries a rotation with strategy AlternatingClients forward by the
// steps above, from the state the Secret holds (iss), once the current client is registered
// as desired (reconcileHydraClient succeeded), and returns the state the Secret holds
// afterwards. It retires the client switched from when its grace period has ended, and starts a
// rotation only when none is under way, the resource may rotate and one is due.
func (r *OAuth2ClientReconciler) reconcileAlternation(ctx context.Context, obj *v1alpha1.OAuth2Client, srv *Server, creds secrets.Credentials, iss issuance) (issuance, error) {
	now := r.now()
	if iss.previousID != "" && iss.pending == "" {
		if now.Before(iss.previousUntil) {
			return iss, nil
		}
		return r.retirePrevious(ctx, obj, srv, creds, iss)
	}
	if iss.pending == "" {
		due, _ := rotationDue(obj.Spec.Rotation, obj.Annotations[v1alpha1.RotateRequestedAtAnnotation], iss, now)
		if !due || !mayRotate(obj) {
			return iss, nil
		}
		fresh, err := secrets.NewSecret()
		if err != nil {
			return iss, err
		}
		iss.pending, iss.request = fresh, obj.Annotations[v1alpha1.RotateRequestedAtAnnotation]
		if err := r.writeRotationState(ctx, obj, srv, creds, iss); err != nil { // step 1
			return iss, err
		}
		r.markWritten(obj, iss.version, iss.issuedAt, iss.pending)
	}
	standby := secrets.Credentials{ClientID: otherOf(obj, creds.ClientID), ClientSecret: iss.pending}
	if err := r.registerStandby(ctx, obj, srv, standby); err != nil { // step 2
		rotations.WithLabelValues(srv.Name, string(strategyOf(obj)), "error").Inc()
		return iss, err
	}
	issuedAt := now
	if !issuedAt.After(iss.issuedAt) {
		issuedAt = iss.issuedAt.Add(time.Second)
	}
	switched := issuance{issuedAt: issuedAt, request: iss.request, previousID: creds.ClientID, previousUntil: now.Add(gracePeriodOf(obj)), version: iss.version}
	if err := r.writeRotationState(ctx, obj, srv, standby, switched); err != nil { // step 3
		return iss, err
	}
	r.markWritten(obj, iss.version, switched.issuedAt, "")
	r.remember(obj, srv, standby.ClientID, secrets.Fingerprint(r.FingerprintKey, string(obj.UID), standby))
	ctrl.LoggerFrom(ctx).Info("Switched the Secret to the standby client", "clientID", standby.ClientID, "previous", creds.ClientID)
	return switched, nil
}

// registerStandby registers the standby client with its fresh secret: created when missing
// (with the namespace policy and claims a new client needs), updated when it is this
// resource's; a client of that ID that belongs to anyone else stalls the rotation.
func (r *OAuth2ClientReconciler) registerStandby(ctx context.Context, obj *v1alpha1.OAuth2Client, srv *Server, standby secrets.Credentials) error {
	desired, err := hydra.Desired(&obj.Spec, standby.ClientID, hydra.OwnerIn(r.Installation, obj.Namespace, obj.Name))
	if err != nil {
		return stalled(v1alpha1.ReasonHydraRejected, "The spec cannot be sent to Hydra: %v", err)
	}
	desired.ClientSecret = &standby.ClientSecret
	actual, err := srv.Hydra.Get(ctx, standby.ClientID)
	switch {
	case hydra.IsNotFound(err):
		if err := r.mayRegister(ctx, obj, standby.ClientID); err != nil {
			return err
		}
		_, err = srv.Hydra.Create(ctx, desired)
		return classify(err) // a conflict (a crash after the create) is retried as an update
	case err != nil:
		return classify(err)
	case !r.owns(obj, actual):
		return stalled(v1alpha1.ReasonClientIDConflict,
			"Client ID %q, the second client of rotation strategy AlternatingClients, exists at the server and is not this resource's; it is never taken over: delete it there, or use strategy Replace", standby.ClientID)
	}
	_, err = srv.Hydra.Update(ctx, standby.ClientID, desired)
	return classify(err)
}

// retirePrevious deletes the client the last rotation switched from (if it is still there and
// this resource's), then drops its names from the Secret.
func (r *OAuth2ClientReconciler) retirePrevious(ctx context.Context, obj *v1alpha1.OAuth2Client, srv *Server, creds secrets.Credentials, iss issuance) (issuance, error) {
	previous := iss.previousID
	if previous != creds.ClientID { // never the client in use, whatever the annotation says
		actual, err := srv.Hydra.Get(ctx, previous)
		switch {
		case hydra.IsNotFound(err):
		case err != nil:
			return iss, classify(err)
		case r.owns(obj, actual):
			if err := srv.Hydra.Delete(ctx, previous); err != nil && !hydra.IsNotFound(err) {
				return iss, classify(err)
			}
			ctrl.LoggerFrom(ctx).Info("Retired the client switched from", "clientID", previous)
			r.event(obj, corev1.EventTypeNormal, "Retired", fmt.Sprintf(
				"Deleted client %s at the authorization server: the grace period after the rotation to client %s ended", previous, creds.ClientID))
		}
	}
	retired := iss
	retired.previousID, retired.previousUntil = "", time.Time{}
	if err := r.writeRotationState(ctx, obj, srv, creds, retired); err != nil {
		return iss, err
	}
	r.markWritten(obj, iss.version, retired.issuedAt, "")
	return retired, nil
}

// writeRotationState writes the Secret with creds and the rotation state iss, always: a step
// that drops an annotation is not something secrets.NeedsWrite looks for.
func (r *OAuth2ClientReconciler) writeRotationState(ctx context.Context, obj *v1alpha1.OAuth2Client, srv *Server, creds secrets.Credentials, iss issuance) error {
	src, err := r.secretSource(obj, creds, nil, srv.Endpoints)
	if err != nil {
		return err
	}
	iss.carry(&src)
	owner := ownerRef(obj)
	ac := secrets.ApplyConfiguration(obj.Namespace, secretName(obj), secrets.Render(src, r.FingerprintKey), &owner)
	if err := r.Apply(ctx, ac, client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("writing Secret %s: %w", secretName(obj), err)
	}
	return nil
}
