package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/secrets"
)

// Rotation with strategy ServerRotation: the authorization server's own rotation endpoint
// (hydra.Client.RotateSecret) makes a new secret current and keeps the old one working, on the
// same client. Each step is recorded in the Secret before the server call that depends on it:
//
//  1. a fresh secret is saved under secrets.PendingSecretKey (the consumer keys unchanged);
//  2. the server rotates to it, keeping the current secret working;
//  3. the Secret switches to it, with the end of the grace period;
//  4. after the grace period the server ends the secrets it kept, then the Secret forgets it.
//
// Step 2 repeated after a crash rotates to the same secret again, which the server accepts.
// A server without the endpoint (every Hydra up to v2.3.0) stalls the resource at step 2, with
// its current credentials untouched.

// rotatesAtServer reports whether the resource rotates with strategy ServerRotation.
func rotatesAtServer(obj *v1alpha1.OAuth2Client) bool {
	return obj.Spec.Rotation != nil && obj.Spec.Rotation.Strategy == v1alpha1.RotationStrategyServerRotation
}

// reconcileServerRotation carries a rotation with strategy ServerRotation forward by the steps
// above, from the state the Secret holds (creds, iss), once the client is registered as desired
// (reconcileHydraClient succeeded), and returns what the Secret holds afterwards. It ends the
// secret switched from when its grace period is over, and starts a rotation only when none is
// under way, the resource may rotate and one is due.
func (r *OAuth2ClientReconciler) reconcileServerRotation(ctx context.Context, obj *v1alpha1.OAuth2Client, srv *Server, creds secrets.Credentials, iss issuance) (secrets.Credentials, issuance, error) {
	now := r.now()
	if iss.keptAtServer && iss.pending == "" {
		if now.Before(iss.previousUntil) {
			return creds, iss, nil
		}
		ended, err := r.endKeptSecrets(ctx, obj, srv, creds, iss)
		return creds, ended, err
	}
	if iss.pending == "" {
		due, _ := rotationDue(obj.Spec.Rotation, obj.Annotations[v1alpha1.RotateRequestedAtAnnotation], iss, now)
		if !due || !mayRotate(obj) {
			return creds, iss, nil
		}
		fresh, err := secrets.NewSecret()
		if err != nil {
			return creds, iss, err
		}
		iss.pending, iss.request = fresh, obj.Annotations[v1alpha1.RotateRequestedAtAnnotation]
		if err := r.writeRotationState(ctx, obj, srv, creds, iss); err != nil { // step 1
			return creds, iss, err
		}
		r.markWritten(obj, iss.version, iss.issuedAt, iss.pending)
	}
	if err := srv.Hydra.RotateSecret(ctx, creds.ClientID, iss.pending); err != nil { // step 2
		rotations.WithLabelValues(srv.Name, string(strategyOf(obj)), "error").Inc()
		if hydra.IsRotationUnsupported(err) {
			return creds, iss, stalled(v1alpha1.ReasonRotationUnsupported,
				"Rotation strategy ServerRotation needs the authorization server's secret rotation endpoint, and server %s has none "+
					"(Hydra has it only after v2.3.0); the current credentials keep working. Use strategy AlternatingClients "+
					"(client_credentials clients) or Replace, or upgrade the server", srv.Name)
		}
		return creds, iss, classify(err)
	}
	issuedAt := now
	if !issuedAt.After(iss.issuedAt) {
		issuedAt = iss.issuedAt.Add(time.Second)
	}
	switched := issuance{issuedAt: issuedAt, request: iss.request, keptAtServer: true, previousUntil: now.Add(gracePeriodOf(obj)), version: iss.version}
	next := secrets.Credentials{ClientID: creds.ClientID, ClientSecret: iss.pending}
	if err := r.writeRotationState(ctx, obj, srv, next, switched); err != nil { // step 3
		return creds, iss, err
	}
	r.markWritten(obj, iss.version, switched.issuedAt, "")
	r.remember(obj, srv, next.ClientID, secrets.Fingerprint(r.FingerprintKey, string(obj.UID), next))
	ctrl.LoggerFrom(ctx).Info("Switched the Secret to the secret the server rotated to", "clientID", next.ClientID)
	return next, switched, nil
}

// endKeptSecrets ends, at the server, the secrets the last rotation kept working, then drops
// the end of the grace period from the Secret.
func (r *OAuth2ClientReconciler) endKeptSecrets(ctx context.Context, obj *v1alpha1.OAuth2Client, srv *Server, creds secrets.Credentials, iss issuance) (issuance, error) {
	if err := srv.Hydra.ClearRotatedSecrets(ctx, creds.ClientID); err != nil && !hydra.IsNotFound(err) {
		return iss, classify(err)
	}
	ctrl.LoggerFrom(ctx).Info("Ended the secret switched from", "clientID", creds.ClientID)
	r.event(obj, corev1.EventTypeNormal, "Retired", fmt.Sprintf(
		"Ended the secret client %s had before the last rotation, at the authorization server: its grace period ended", creds.ClientID))
	ended := iss
	ended.keptAtServer, ended.previousUntil = false, time.Time{}
	if err := r.writeRotationState(ctx, obj, srv, creds, ended); err != nil {
		return iss, err
	}
	r.markWritten(obj, iss.version, ended.issuedAt, "")
	return ended, nil
}
