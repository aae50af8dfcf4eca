package controllers

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/secrets"
)

// minSecretLength is the shortest client secret Hydra accepts.
const minSecretLength = 6

// reconcileCredentials returns the credentials to register at Hydra.
//
// Contract: when it returns without error, those credentials are stored in the Secret. Generated
// credentials are saved before any call to Hydra, so that a crash can never leave Hydra with a
// secret that no Secret holds. A Secret the operator did not write (External Secrets, Sealed
// Secrets, a person) is read and never written; provided reports that the credentials came from
// such a Secret, which is not watched and so has to be re-read periodically.
//
// issued is when the credentials of the operator's Secret were issued (zero for a provided
// Secret): a rotation that is due is carried out here, by writing new credentials into the
// Secret before the authorization server is told of them.
//
// A resource's first pass does not ask the API server for a Secret the cache lacks: it creates
// the Secret, which fails if the name is taken, and only then reads it (secret_create.go).
func (r *OAuth2ClientReconciler) reconcileCredentials(ctx context.Context, obj *v1alpha1.OAuth2Client, srv *Server) (creds secrets.Credentials, provided bool, issued issuance, err error) {
	key := types.NamespacedName{Namespace: obj.Namespace, Name: secretName(obj)}
	existing, err := r.getSecret(ctx, key, !createsUnread(obj))
	if err != nil {
		return secrets.Credentials{}, false, issuance{}, err
	}
	creds, provided, issued, err = r.credentialsWith(ctx, obj, srv, existing)
	if errors.Is(err, errSecretNameTaken) {
		if existing, err = r.getSecret(ctx, key, true); err != nil {
			return secrets.Credentials{}, false, issuance{}, err
		}
		return r.credentialsWith(ctx, obj, srv, existing)
	}
	return creds, provided, issued, err
}

// credentialsWith is reconcileCredentials for the Secret existing (nil: none was found).
func (r *OAuth2ClientReconciler) credentialsWith(ctx context.Context, obj *v1alpha1.OAuth2Client, srv *Server, existing *corev1.Secret) (creds secrets.Credentials, provided bool, issued issuance, err error) {
	name := secretName(obj)
	if existing != nil && !isManagedSecret(existing, obj) {
		if !sharedWith(existing, obj) {
			return secrets.Credentials{}, true, issuance{}, waitFor(obj, v1alpha1.ReasonSecretNotShared, fmt.Sprintf(
				"Secret %s exists but was not written by the operator and is not shared with this resource, so the operator does not read it. "+
					"If it holds this client's credentials, whoever manages the Secret can share it: kubectl annotate secret %s %s=%s. "+
					"Otherwise choose another spec.secretName", name, name, v1alpha1.ClientAnnotation, obj.Name))
		}
		creds, err := r.providedCredentials(obj, existing)
		return creds, true, issuance{}, err
	}
	if existing == nil && obj.Spec.RequireExistingSecret {
		return secrets.Credentials{}, false, issuance{}, waitFor(obj, v1alpha1.ReasonSecretNotFound,
			fmt.Sprintf("Waiting for Secret %s with keys %s: spec.requireExistingSecret is set", name, keysText(obj)))
	}
	if existing != nil {
		if err := checkSecretOwner(existing, obj); err != nil {
			return secrets.Credentials{}, false, issuance{}, err
		}
	}
	creds, issued, err = r.applyManagedSecret(ctx, obj, existing, srv)
	return creds, false, issued, err
}

// applyManagedSecret keeps the operator's own Secret as it should be: the same client ID, the
// secret it holds (or a new one when it has none), the template's labels and keys. It writes only
// when something differs, with server-side apply, so others' labels and annotations survive.
// A key renamed in secretTemplate moves the credentials: one apply adds the new key and drops the
// old one, so no state between two writes lacks the secret, and Hydra is not written.
// A rotation that is due (rotateNow) replaces the stored secret with a new one, and the
// issue time and the carried-out request are written with it.
func (r *OAuth2ClientReconciler) applyManagedSecret(ctx context.Context, obj *v1alpha1.OAuth2Client, existing *corev1.Secret, srv *Server) (secrets.Credentials, issuance, error) {
	iss := readIssuance(existing, obj)
	creds := secrets.Credentials{ClientID: currentClientID(obj, existing)}
	if r.cacheBehindRotation(obj, existing, iss) {
		return creds, iss, errStaleCache
	}
	var secretFrom string // the key the secret was found under; "" when none held it
	var keyGenerated bool // a new private key (strategy KeyRollover)
	var err error
	if usesSecret(obj) {
		creds.ClientSecret, secretFrom = r.storedSecret(existing, obj, creds.ClientID)
		var rotate bool
		rotate, err = r.rotateNow(ctx, obj, srv, creds, iss)
		if err != nil {
			return creds, iss, err
		}
		generate := len(creds.ClientSecret) < minSecretLength || rotate
		changed := !generate && existing != nil && !r.writtenByOperator(existing, creds)
		if generate {
			generated, err := secrets.NewSecret()
			if err != nil {
				return creds, iss, err
			}
			creds.ClientSecret, secretFrom = generated, ""
		}
		iss = r.issueFor(obj, iss, generate, changed)
	} else if rollsKeys(obj) {
		if creds, iss, keyGenerated, err = r.keyFor(obj, existing, creds, iss); err != nil {
			return creds, iss, err
		}
	}
	src, err := r.secretSource(obj, creds, existing, srv.Endpoints)
	if err != nil {
		return creds, iss, err
	}
	iss.carry(&src)
	desired := secrets.Render(src, r.FingerprintKey)
	owner := ownerRef(obj)
	if !secrets.NeedsWrite(existing, desired, obj.Spec.SecretTemplate, owner) {
		return creds, iss, nil
	}
	if err := r.writeManagedSecret(ctx, obj, existing, desired, owner); err != nil {
		if apierrors.IsInvalid(err) {
			// A secretTemplate the API server refuses won't be accepted on a retry either. The
			// API server's message names the offending label or key, never a Secret's data.
			return creds, iss, stalled(v1alpha1.ReasonSecretInvalid, "The API server refused Secret %s as secretTemplate shapes it: %s",
				secretName(obj), apiMessage(err))
		}
		if errors.Is(err, errSecretNameTaken) {
			return creds, iss, err
		}
		return creds, iss, fmt.Errorf("writing Secret %s: %w", secretName(obj), err)
	}
	if existing != nil && ((secretFrom == "" && creds.ClientSecret != "") || keyGenerated) {
		r.markWritten(obj, existing.ResourceVersion, iss.issuedAt, "")
	}
	r.reportSecretWrite(ctx, obj, existing, creds, desired, secretFrom)
	return creds, iss, nil
}

// secretSource is what the managed Secret is rendered from. An oauth2-proxy cookie secret is
// kept from the existing Secret: a new one would sign every user out.
// endpoints are the server's public URLs (secretTemplate.includeEndpoints).
func (r *OAuth2ClientReconciler) secretSource(obj *v1alpha1.OAuth2Client, creds secrets.Credentials, existing *corev1.Secret, endpoints secrets.Endpoints) (secrets.Source, error) {
	src := secrets.Source{Credentials: creds, Spec: &obj.Spec, Endpoints: endpoints}
	if secrets.FormatOf(obj.Spec.SecretTemplate) != v1alpha1.SecretFormatOAuth2Proxy {
		return src, nil
	}
	var current string
	if existing != nil {
		current = string(existing.Data[secrets.OAuth2ProxyCookieSecretKey])
	}
	var err error
	src.CookieSecret, err = secrets.KeepCookieSecret(current)
	return src, err
}

// storedSecret returns the client secret the operator's Secret holds and the key it is under:
// the template's key first (writing a new value there is how a user rotates), else the key the
// operator wrote it under last, found by the Secret's credentials-hash annotation, which is
// where it still is after secretTemplate.clientSecretKey was renamed.
// clientID is the ID the Secret's credentials are for.
func (r *OAuth2ClientReconciler) storedSecret(existing *corev1.Secret, obj *v1alpha1.OAuth2Client, clientID string) (value, dataKey string) {
	if existing == nil {
		return "", ""
	}
	_, secretKey := secrets.KeyNames(obj.Spec.SecretTemplate)
	if v := string(existing.Data[secretKey]); len(v) >= minSecretLength {
		return v, secretKey
	}
	if v, k, found := secrets.FindWritten(existing, clientID, r.FingerprintKey); found && len(v) >= minSecretLength {
		return v, k
	}
	return "", ""
}

// reportSecretWrite logs a write of the Secret and records an Event for one that was not a
// creation, saying whether the credentials moved to renamed keys or were restored.
func (r *OAuth2ClientReconciler) reportSecretWrite(ctx context.Context, obj *v1alpha1.OAuth2Client, existing *corev1.Secret,
	creds secrets.Credentials, desired secrets.Desired, secretFrom string) {
	name := secretName(obj)
	log := ctrl.LoggerFrom(ctx).WithValues("secret", name, "clientID", creds.ClientID)
	if existing == nil {
		// No event of its own: the Created event names the Secret, and one event per new client
		// instead of two is a tenth of the API writes a creation costs.
		log.Info("Created Secret")
		return
	}
	if moved := movedKeys(existing, obj, creds, desired, secretFrom); len(moved) > 0 {
		// Key names only: never a value.
		msg := fmt.Sprintf("Moved the client's credentials in Secret %s to the keys secretTemplate names: %s", name, strings.Join(moved, ", "))
		log.Info("Moved credentials to renamed keys", "moved", moved)
		r.event(obj, corev1.EventTypeNormal, "SecretKeysChanged", msg)
		return
	}
	log.Info("Restored Secret")
	r.event(obj, corev1.EventTypeNormal, "SecretRestored", "Restored Secret "+name+" with the client's credentials")
}

// movedKeys describes the credentials the Secret held under keys other than the ones the template
// names now, as "old -> new". A value found nowhere else was restored, not moved.
func movedKeys(existing *corev1.Secret, obj *v1alpha1.OAuth2Client, creds secrets.Credentials, desired secrets.Desired, secretFrom string) []string {
	idKey, secretKey := secrets.KeyNames(obj.Spec.SecretTemplate)
	var moved []string
	if from := heldUnder(existing, creds.ClientID, desired); from != "" && string(existing.Data[idKey]) != creds.ClientID {
		moved = append(moved, from+" -> "+idKey)
	}
	if secretFrom != "" && secretFrom != secretKey {
		moved = append(moved, secretFrom+" -> "+secretKey)
	}
	return moved
}

// heldUnder is a key of the existing Secret that holds value and that the desired content drops:
// where the operator wrote it under a name the template no longer uses.
func heldUnder(existing *corev1.Secret, value string, desired secrets.Desired) string {
	for _, k := range slices.Sorted(maps.Keys(existing.Data)) {
		if _, kept := desired.Data[k]; !kept && string(existing.Data[k]) == value {
			return k
		}
	}
	return ""
}

// providedCredentials takes the credentials from a Secret someone else wrote, as they are.
// Such Secrets are not watched (only the operator's own are cached), so problems are waited on
// with a growing delay rather than stalled: the fix arrives as a Secret change, not a spec change.
func (r *OAuth2ClientReconciler) providedCredentials(obj *v1alpha1.OAuth2Client, s *corev1.Secret) (secrets.Credentials, error) {
	creds := secrets.Read(s, obj.Spec.SecretTemplate)
	idKey, secretKey := secrets.KeyNames(obj.Spec.SecretTemplate)
	switch {
	case creds.ClientID == "":
		return creds, waitFor(obj, v1alpha1.ReasonSecretInvalid, fmt.Sprintf("Secret %s has no %s key", s.Name, idKey))
	case obj.Spec.ClientID != "" && creds.ClientID != obj.Spec.ClientID:
		// Never the value itself: nothing read from a Secret goes into status, events or logs.
		return creds, waitFor(obj, v1alpha1.ReasonSecretInvalid,
			fmt.Sprintf("Secret %s: its %s key does not hold spec.clientID", s.Name, idKey))
	case !usesSecret(obj):
		creds.ClientSecret = ""
	case len(creds.ClientSecret) < minSecretLength:
		return creds, waitFor(obj, v1alpha1.ReasonSecretInvalid,
			fmt.Sprintf("Secret %s needs a %s key of at least %d characters", s.Name, secretKey, minSecretLength))
	}
	return creds, nil
}

// getSecret reads the Secret from the cache, which holds only Secrets the operator manages, and
// falls back to a direct read for any other (or one the cache has not seen yet) when
// readUncached. nil: no Secret (or, without readUncached, none cached).
func (r *OAuth2ClientReconciler) getSecret(ctx context.Context, key types.NamespacedName, readUncached bool) (*corev1.Secret, error) {
	s := &corev1.Secret{}
	err := r.Get(ctx, key, s)
	if isGone(err) && readUncached {
		err = r.APIReader.Get(ctx, key, s)
	}
	if isGone(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading Secret %s: %w", key.Name, err)
	}
	return s, nil
}

// isManagedSecret reports whether the operator wrote this Secret: it carries the operator's
// label, or this resource controls it (someone removed the label; the next write restores it).
func isManagedSecret(s *corev1.Secret, obj *v1alpha1.OAuth2Client) bool {
	if s.Labels[v1alpha1.ManagedByLabel] == v1alpha1.ManagedByValue {
		return true
	}
	owner := metav1.GetControllerOf(s)
	return owner != nil && owner.UID == obj.UID
}

// sharedWith reports whether the author of a Secret the operator did not write opted in to this
// resource using it: the Secret names the resource in the oauth2.clientoperator.dev/client
// annotation or label. Without that, anyone who may edit OAuth2Clients could point one at any
// Secret of the namespace (a database password, a TLS key) and have the operator read it for
// them, into Hydra or into a message.
func sharedWith(s *corev1.Secret, obj *v1alpha1.OAuth2Client) bool {
	return s.Annotations[v1alpha1.ClientAnnotation] == obj.Name || s.Labels[v1alpha1.ClientAnnotation] == obj.Name
}

// checkSecretOwner refuses an operator-managed Secret that another OAuth2Client controls, so
// two resources naming the same secretName can't overwrite each other's credentials.
func checkSecretOwner(s *corev1.Secret, obj *v1alpha1.OAuth2Client) error {
	owner := metav1.GetControllerOf(s)
	if owner == nil {
		return checkReleasedSecret(s, obj)
	}
	if owner.UID == obj.UID {
		return nil
	}
	if owner.Kind == "OAuth2Client" && owner.Name == obj.Name {
		return waitFor(obj, v1alpha1.ReasonSecretInvalid,
			fmt.Sprintf("Secret %s still belongs to an earlier OAuth2Client named %s; waiting for it to be garbage-collected", s.Name, obj.Name))
	}
	return stalled(v1alpha1.ReasonSecretInvalid,
		"Secret %s holds the credentials of %s %s; choose another spec.secretName", s.Name, owner.Kind, owner.Name)
}

// checkReleasedSecret decides whether a managed Secret with no controller, released by
// deletionPolicy Orphan, may be taken over: only by the resource that released it, re-created
// under the same name, with adoptExistingClient set and the same client ID. Anyone else would
// overwrite the kept client's ID and reuse its secret for a second client.
func checkReleasedSecret(s *corev1.Secret, obj *v1alpha1.OAuth2Client) error {
	releasedBy, recorded := s.Annotations[v1alpha1.ReleasedByAnnotation]
	switch {
	case !recorded:
		return waitFor(obj, v1alpha1.ReasonSecretInvalid, fmt.Sprintf(
			"Secret %s carries the operator's label but has no owner and no record of the resource that released it; "+
				"choose another spec.secretName, or, if its credentials are this resource's, annotate it with %s=%s",
			s.Name, v1alpha1.ReleasedByAnnotation, obj.Name))
	case releasedBy != obj.Name:
		return waitFor(obj, v1alpha1.ReasonSecretInvalid, fmt.Sprintf(
			"Secret %s holds the credentials of a client that OAuth2Client %s kept with deletionPolicy Orphan; "+
				"only a resource of that name may take them over; choose another spec.secretName", s.Name, releasedBy))
	case !obj.Spec.AdoptExistingClient:
		return waitFor(obj, v1alpha1.ReasonSecretInvalid, fmt.Sprintf(
			"Secret %s holds the credentials of the client an earlier %s kept with deletionPolicy Orphan; "+
				"set spec.adoptExistingClient: true (and spec.clientID to that client's ID) to take them over", s.Name, obj.Name))
	case secrets.Read(s, obj.Spec.SecretTemplate).ClientID != clientIDFor(obj):
		idKey, _ := secrets.KeyNames(obj.Spec.SecretTemplate)
		return waitFor(obj, v1alpha1.ReasonSecretInvalid, fmt.Sprintf(
			"Secret %s holds the credentials of the client an earlier %s kept, but its %s key does not hold this resource's client ID; "+
				"set spec.clientID to that client's ID to take them over", s.Name, obj.Name, idKey))
	}
	return nil
}

// usesSecret reports whether the client authenticates with a client secret. Public clients
// (none) and private_key_jwt clients have no secret.
func usesSecret(obj *v1alpha1.OAuth2Client) bool {
	switch obj.Spec.TokenEndpointAuthMethod {
	case v1alpha1.AuthMethodNone, v1alpha1.AuthMethodPrivateKeyJWT:
		return false
	}
	return true
}

func keysText(obj *v1alpha1.OAuth2Client) string {
	idKey, secretKey := secrets.KeyNames(obj.Spec.SecretTemplate)
	if !usesSecret(obj) {
		return idKey
	}
	return idKey + " and " + secretKey
}

// waitFor builds a waiting error whose delay grows with how long the resource has been waiting
// for the same reason: quick when a Secret is about to arrive, gentle when it is long overdue.
func waitFor(obj *v1alpha1.OAuth2Client, reason, message string) error {
	return &waitingError{reason: reason, message: message, after: waitDelay(obj, reason, time.Now())}
}

// waitDelay is a quarter of the time spent waiting so far, between 2 seconds and 2 minutes.
func waitDelay(obj *v1alpha1.OAuth2Client, reason string, now time.Time) time.Duration {
	const minDelay, maxDelay = 2 * time.Second, 2 * time.Minute
	ready := meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ConditionReady)
	if ready == nil || ready.Reason != reason {
		return minDelay
	}
	return min(max(now.Sub(ready.LastTransitionTime.Time)/4, minDelay), maxDelay)
}
