package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/secrets"
)

// issuance is when the credentials in the operator's Secret were issued and which rotation
// request, if any, issued them, as the Secret's annotations record it. Both are written in the
// same write as the credentials, so a crash never separates them, and a pass after a crash
// knows that a rotation it did not finish recording was carried out.
type issuance struct {
	// issuedAt is zero when unknown: a Secret written before rotation existed, of a resource
	// without spec.rotation.
	issuedAt time.Time
	// request is the rotate-requested-at value carried out last.
	request string
	// pending, previousID and previousUntil are the state of a rotation with strategy
	// AlternatingClients (alternation.go): the fresh secret saved for the standby client, and
	// the client switched from, valid until previousUntil.
	pending       string
	previousID    string
	previousUntil time.Time
	// pendingKey and previousKey are the state of a rotation with strategy KeyRollover
	// (keyrollover.go): the fresh private key saved before its public key is published, and the
	// public key (a JWK) switched from, valid until previousUntil.
	pendingKey  string
	previousKey string
	// keptAtServer: the server keeps the secret switched from working until previousUntil
	// (strategy ServerRotation, serverrotation.go; pending is its fresh secret).
	keptAtServer bool
	// version is the resourceVersion of the Secret this was read from: a pass that writes a
	// rotation step records it as replaced (cacheBehindRotation).
	version string
}

// Reasons a rotation is due.
const (
	rotationScheduled = "Scheduled"
	rotationRequested = "Requested"
	// rotationByHand: someone wrote a new secret into the operator's Secret.
	rotationByHand = "SecretChanged"
)

// readIssuance reads the issue time and the carried-out request from the operator's Secret.
// Without the annotation the issue time of a resource with spec.rotation is the Secret's
// creation: credentials the operator generated were generated then.
func readIssuance(existing *corev1.Secret, obj *v1alpha1.OAuth2Client) issuance {
	if existing == nil {
		return issuance{}
	}
	iss := issuance{
		request:    existing.Annotations[v1alpha1.RotationRequestAnnotation],
		pending:    string(existing.Data[secrets.PendingSecretKey]),
		previousID: existing.Annotations[v1alpha1.PreviousClientIDAnnotation],
		version:    existing.ResourceVersion,
	}
	if t, err := time.Parse(time.RFC3339, existing.Annotations[v1alpha1.PreviousValidUntilAnnotation]); err == nil {
		iss.previousUntil = t
	}
	if len(iss.pending) < minSecretLength {
		iss.pending = ""
	}
	readKeyState(existing, &iss)
	iss.keptAtServer = rotatesAtServer(obj) && !iss.previousUntil.IsZero()
	if t, err := time.Parse(time.RFC3339, existing.Annotations[v1alpha1.CredentialsIssuedAtAnnotation]); err == nil {
		iss.issuedAt = t
	} else if obj.Spec.Rotation != nil {
		iss.issuedAt = existing.CreationTimestamp.Time
	}
	return iss
}

// rotationDue reports whether credentials issued as iss are due for rotation at now, and why:
// a rotate-requested-at value not carried out yet, or the end of spec.rotation.period. A
// request is honoured without spec.rotation too, with strategy Replace.
func rotationDue(rot *v1alpha1.Rotation, requested string, iss issuance, now time.Time) (bool, string) {
	if requested != "" && requested != iss.request {
		return true, rotationRequested
	}
	next, ok := nextRotation(rot, iss.issuedAt)
	if ok && !now.Before(next) {
		return true, rotationScheduled
	}
	return false, ""
}

// nextRotation is when credentials issued at issuedAt are rotated on schedule; false when
// there is no schedule (no period) or the issue time is unknown.
func nextRotation(rot *v1alpha1.Rotation, issuedAt time.Time) (time.Time, bool) {
	if rot == nil || rot.Period == "" || issuedAt.IsZero() {
		return time.Time{}, false
	}
	period, err := time.ParseDuration(string(rot.Period))
	if err != nil || period <= 0 {
		return time.Time{}, false
	}
	return issuedAt.Add(period), true
}

// untilNextRotation is how long a settled resource may wait for its next pass so that a
// rotation happens on time: at its scheduled time, or at once for a request that a pass could
// not carry out yet (it arrived while the resource was not Ready). 0: nothing to wait for, as
// for credentials from a provided Secret, which the operator never rotates.
func untilNextRotation(obj *v1alpha1.OAuth2Client, provided bool, now time.Time) time.Duration {
	st := obj.Status.Rotation
	if provided || (!usesSecret(obj) && !rollsKeys(obj)) || st == nil {
		return 0
	}
	if requested := obj.Annotations[v1alpha1.RotateRequestedAtAnnotation]; requested != "" && requested != st.LastHandledRequest &&
		st.PreviousValidUntil == nil { // an AlternatingClients request waits for the retirement below
		return time.Second
	}
	var wait time.Duration
	for _, at := range []*metav1.Time{st.NextRotationTime, st.PreviousValidUntil} {
		if at != nil && (wait == 0 || at.Sub(now) < wait) {
			wait = max(at.Sub(now), time.Second)
		}
	}
	return wait
}

// rotationPending reports whether the pass wrote credentials that status does not know of
// yet: a rotation carried out in the Secret, not yet accepted by the server.
func rotationPending(obj *v1alpha1.OAuth2Client, iss issuance) bool {
	st := obj.Status.Rotation
	return st != nil && st.CredentialsIssuedAt != nil && iss.issuedAt.After(st.CredentialsIssuedAt.Time)
}

// now is the reconciler's clock (injected in tests), to the second: issue times are stored
// as RFC 3339 in the Secret and as metav1.Time in status, both of whole seconds.
func (r *OAuth2ClientReconciler) now() time.Time {
	if r.Clock != nil {
		return r.Clock.Now().UTC().Truncate(time.Second)
	}
	return time.Now().UTC().Truncate(time.Second)
}

// issueFor decides the issuance of the credentials this pass writes to the operator's Secret.
// generated: the pass generated a new secret (none was stored, or a rotation is due); changed:
// the Secret holds a secret the operator did not write (someone put a new one in, a rotation
// by hand). Either starts the schedule again.
// Issue times only grow, by a second at least: they are stored to the second, and credentials
// issued in the same second as the ones they replace must still read as newer.
func (r *OAuth2ClientReconciler) issueFor(obj *v1alpha1.OAuth2Client, iss issuance, generated, changed bool) issuance {
	if !generated && !changed {
		return iss
	}
	issuedAt := r.now()
	if !issuedAt.After(iss.issuedAt) {
		issuedAt = iss.issuedAt.Add(time.Second)
	}
	if generated {
		iss.issuedAt, iss.request, iss.pending, iss.pendingKey = issuedAt, obj.Annotations[v1alpha1.RotateRequestedAtAnnotation], "", ""
		return iss
	}
	iss.issuedAt = issuedAt
	return iss
}

// writtenByOperator reports whether the Secret's secret is the one the operator last wrote,
// as its credentials-hash annotation records.
func (r *OAuth2ClientReconciler) writtenByOperator(existing *corev1.Secret, creds secrets.Credentials) bool {
	return existing.Annotations[v1alpha1.CredentialsHashAnnotation] == secrets.Fingerprint(r.FingerprintKey, "", creds)
}

// reconcileRotation finishes what a rotation needs after the current client is registered as
// desired.
//
// Contract: runs only after reconcileCredentials and reconcileHydraClient succeeded, for the
// operator's own Secret. It carries an AlternatingClients rotation forward (alternation.go),
// restarts the restart targets for credentials status does not know yet, and only then records
// them in status, so that an error leaves the rotation unrecorded and the next pass finishes it.
func (r *OAuth2ClientReconciler) reconcileRotation(ctx context.Context, obj *v1alpha1.OAuth2Client, srv *Server, creds secrets.Credentials, issued issuance) error {
	var err error
	switch {
	case alternating(obj):
		issued, err = r.reconcileAlternation(ctx, obj, srv, creds, issued)
	case rollsKeys(obj):
		creds, issued, err = r.reconcileKeyRollover(ctx, obj, srv, creds, issued)
	case rotatesAtServer(obj):
		creds, issued, err = r.reconcileServerRotation(ctx, obj, srv, creds, issued)
	}
	if err == nil && rotationPending(obj, issued) {
		err = r.restartTargets(ctx, obj, issued.issuedAt)
	}
	if err != nil {
		if rotationPending(obj, issued) {
			rotations.WithLabelValues(srv.Name, string(strategyOf(obj)), "error").Inc()
		}
		return err
	}
	r.recordIssuance(ctx, obj, srv, issued)
	recordKeyIDs(obj, creds, issued)
	return nil
}

// recordKeyIDs names the keys the server accepts in status (strategy KeyRollover), so that the
// drift scanner can check the client's jwks without reading the Secret; it clears them for any
// other strategy.
func recordKeyIDs(obj *v1alpha1.OAuth2Client, creds secrets.Credentials, iss issuance) {
	st := obj.Status.Rotation
	if st == nil {
		return
	}
	st.CurrentKeyID, st.PreviousKeyID = "", ""
	if !rollsKeys(obj) {
		return
	}
	st.CurrentKeyID = keyIDOf(creds.PrivateKey)
	if previous, err := secrets.ParsePublicJWK(iss.previousKey); err == nil {
		st.PreviousKeyID = previous.KeyID
	}
}

// recordIssuance keeps status.rotation in step with the credentials the authorization server
// has just accepted; it runs only after that. Credentials issued later than those status knew
// of are a rotation: logged, recorded as an Event and counted. A resource whose Secret has no
// issue time (written before the operator recorded one, and never rotated since) has none.
func (r *OAuth2ClientReconciler) recordIssuance(ctx context.Context, obj *v1alpha1.OAuth2Client, srv *Server, iss issuance) {
	if iss.issuedAt.IsZero() {
		return
	}
	st := obj.Status.Rotation
	if st == nil {
		st = &v1alpha1.RotationStatus{}
		obj.Status.Rotation = st
	}
	issued := metav1.NewTime(iss.issuedAt)
	rotated := st.CredentialsIssuedAt != nil && st.CredentialsIssuedAt.Before(&issued)
	reason := rotationReason(st, iss)
	st.PreviousClientID, st.PreviousValidUntil = iss.previousID, nil
	if iss.previousID != "" || iss.previousKey != "" || iss.keptAtServer {
		st.PreviousValidUntil = &metav1.Time{Time: iss.previousUntil}
	}
	if rotated {
		r.reportRotation(ctx, obj, srv, reason)
		st.LastRotationTime = &issued
	}
	st.CredentialsIssuedAt = &issued
	st.LastHandledRequest = iss.request
	st.NextRotationTime = nil
	if next, ok := nextRotation(obj.Spec.Rotation, iss.issuedAt); ok {
		st.NextRotationTime = &metav1.Time{Time: next}
	}
}

// rotationReason says why the credentials issued as iss replaced those status knew of: derived
// from the record, not remembered by the pass that issued them, so a pass after a crash says
// the same.
func rotationReason(st *v1alpha1.RotationStatus, iss issuance) string {
	switch {
	case iss.request != st.LastHandledRequest:
		return rotationRequested
	case st.NextRotationTime != nil && !iss.issuedAt.Before(st.NextRotationTime.Time):
		return rotationScheduled
	}
	return rotationByHand
}

// reportRotation logs, records and counts a rotation the authorization server accepted.
func (r *OAuth2ClientReconciler) reportRotation(ctx context.Context, obj *v1alpha1.OAuth2Client, srv *Server, reason string) {
	why := "after a new secret was written into Secret " + secretName(obj)
	switch reason {
	case rotationScheduled:
		why = "on schedule (spec.rotation.period " + string(obj.Spec.Rotation.Period) + ")"
	case rotationRequested:
		why = "as the " + v1alpha1.RotateRequestedAtAnnotation + " annotation requested"
	}
	msg := fmt.Sprintf("Rotated the credentials of client %s %s; Secret %s holds the new secret, the only one the authorization server accepts now",
		obj.Status.ClientID, why, secretName(obj))
	if st := obj.Status.Rotation; alternating(obj) && st != nil {
		msg = fmt.Sprintf("Rotated the credentials %s: Secret %s now holds client %s with a fresh secret; client %s keeps working until the grace period ends",
			why, secretName(obj), obj.Status.ClientID, st.PreviousClientID)
	}
	ctrl.LoggerFrom(ctx).Info("Rotated credentials", "clientID", obj.Status.ClientID, "reason", reason)
	r.event(obj, corev1.EventTypeNormal, "Rotated", msg)
	rotations.WithLabelValues(srv.Name, string(strategyOf(obj)), "success").Inc()
}

// strategyOf is the resource's rotation strategy; Replace for a request without spec.rotation.
func strategyOf(obj *v1alpha1.OAuth2Client) v1alpha1.RotationStrategy {
	if obj.Spec.Rotation == nil {
		return v1alpha1.RotationStrategyReplace
	}
	return obj.Spec.Rotation.Strategy
}

// rotationWrite is what a pass last wrote of a rotation: the Secret version it replaced, the
// issue time and pending secret or key it wrote, and when.
type rotationWrite struct {
	replacedVersion string
	issuedAt        time.Time
	pending         string
	at              time.Time
}

// staleCacheWindow bounds how long a Secret that shows less than this process wrote counts as
// a cache that has not caught up, rather than a change someone made (a restore from a backup).
const staleCacheWindow = 30 * time.Second

// markWritten records a rotation write of this pass (see rotationWrite).
func (r *OAuth2ClientReconciler) markWritten(obj *v1alpha1.OAuth2Client, replacedVersion string, issuedAt time.Time, pending string) {
	r.replaced.Store(obj.UID, rotationWrite{replacedVersion: replacedVersion, issuedAt: issuedAt, pending: pending, at: time.Now()})
}

// cacheBehindRotation reports whether the Secret read does not show yet what this process
// wrote of a rotation: it is the very version the write replaced, or, shortly after the write,
// it holds credentials issued earlier or lacks the pending secret it saved. A rotation decided
// on it would rotate again what was just rotated. Any other version is current.
// iss is what the Secret read holds (readIssuance).
func (r *OAuth2ClientReconciler) cacheBehindRotation(obj *v1alpha1.OAuth2Client, existing *corev1.Secret, iss issuance) bool {
	v, ok := r.replaced.Load(obj.UID)
	if !ok || existing == nil {
		return false
	}
	w := v.(rotationWrite)
	if existing.ResourceVersion == w.replacedVersion {
		return true
	}
	if time.Since(w.at) > staleCacheWindow {
		return false
	}
	return iss.issuedAt.Before(w.issuedAt) || (w.pending != "" && iss.pending+iss.pendingKey != w.pending && !iss.issuedAt.After(w.issuedAt))
}

// rotateNow decides whether this pass rotates the stored credentials. A rotation that is due
// waits while a new generation of the spec is not registered yet or the resource is Stalled
// (new credentials should not join a client the server refuses), and it waits for the server to
// answer a read of the client first: the new secret is written to the Secret before the server
// is told of it, and with strategy Replace the Secret's credentials fail from that write until
// the server accepts them, so a server that is down must not be found out only after the write.
func (r *OAuth2ClientReconciler) rotateNow(ctx context.Context, obj *v1alpha1.OAuth2Client, srv *Server, stored secrets.Credentials, iss issuance) (bool, error) {
	if len(stored.ClientSecret) < minSecretLength || !mayRotate(obj) || alternating(obj) || rotatesAtServer(obj) {
		return false, nil
	}
	due, _ := rotationDue(obj.Spec.Rotation, obj.Annotations[v1alpha1.RotateRequestedAtAnnotation], iss, r.now())
	if !due {
		return false, nil
	}
	if _, err := srv.Hydra.Get(ctx, stored.ClientID); err != nil && !hydra.IsNotFound(err) {
		rotations.WithLabelValues(srv.Name, string(strategyOf(obj)), "error").Inc()
		return false, fmt.Errorf("rotation waits for the authorization server: %w", classify(err))
	}
	return true, nil
}

// mayRotate reports whether the client is registered as its current generation asks and not
// Stalled; a pass that failed for a transient reason (the server was down) does not count.
func mayRotate(obj *v1alpha1.OAuth2Client) bool {
	return obj.Status.ClientID != "" && obj.Status.ObservedGeneration == obj.Generation &&
		!meta.IsStatusConditionTrue(obj.Status.Conditions, v1alpha1.ConditionStalled)
}

// refuseProvidedRotation answers a rotation asked of credentials from a Secret the operator
// does not write (shared with the resource): it can't rotate them, so it says so with a Warning
// Event, once per rotate-requested-at value (recorded as handled) and once for spec.rotation
// (status.rotation, empty, records that it was said).
func (r *OAuth2ClientReconciler) refuseProvidedRotation(obj *v1alpha1.OAuth2Client) {
	requested := obj.Annotations[v1alpha1.RotateRequestedAtAnnotation]
	st := obj.Status.Rotation
	newRequest := requested != "" && (st == nil || requested != st.LastHandledRequest)
	if !newRequest && (obj.Spec.Rotation == nil || st != nil) {
		return
	}
	if st == nil {
		st = &v1alpha1.RotationStatus{}
		obj.Status.Rotation = st
	}
	if newRequest {
		st.LastHandledRequest = requested
	}
	r.event(obj, corev1.EventTypeWarning, "RotationNotPossible", fmt.Sprintf(
		"Did not rotate: the credentials come from Secret %s, which the operator reads but never writes; "+
			"whoever writes that Secret rotates them, and the operator registers a new client_secret written there", secretName(obj)))
}
