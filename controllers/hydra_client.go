package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/drift"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/secrets"
)

// reconcileHydraClient makes Hydra's client match the spec and accept the Secret's credentials.
//
// Contract: returns nil only when Hydra holds exactly the desired client, marked as owned by this
// resource, with these credentials; makes no write when that is already so; never touches a
// client that belongs to another resource. A client missing at Hydra (deleted by hand, or lost
// with an in-memory database) is created again with the same ID and the Secret's secret.
// A settled resource that the drift scanner has just seen in sync, with the credentials in
// status, is not read again, unless fullCheck (a reconcile request annotation) asks for it.
// iss is the rotation state the Secret holds: with strategy KeyRollover, the keys to publish.
func (r *OAuth2ClientReconciler) reconcileHydraClient(ctx context.Context, obj *v1alpha1.OAuth2Client, srv *Server, creds secrets.Credentials, iss issuance, fullCheck bool) error {
	desired, err := r.desiredClient(obj, creds.ClientID, creds, iss)
	if err != nil {
		return stalled(v1alpha1.ReasonHydraRejected, "The spec cannot be sent to Hydra: %v", err)
	}
	fingerprint := secrets.Fingerprint(r.FingerprintKey, string(obj.UID), creds)
	if r.cacheIsBehind(obj, creds.ClientID, fingerprint) {
		return errStaleCache
	}
	if !fullCheck && obj.Status.ClientID == creds.ClientID && obj.Status.CredentialsFingerprint == fingerprint {
		switch srv.verdicts().Verdict(obj) {
		case drift.InSync:
			return nil
		case drift.ScanSoon:
			return errScanPending
		}
	}

	if !fullCheck && r.knownAtHydra(obj, srv, creds.ClientID, fingerprint) {
		return r.updateUnread(ctx, obj, srv, desired, creds, fingerprint)
	}

	if obj.Status.ClientID == "" && creds.ClientID == string(obj.UID) {
		// Never registered as far as status knows, under the ID derived from the resource:
		// create straight away. After a crash that came before the status write, Hydra answers
		// 409 and the next pass reads the client. A chosen ID is read first instead: it may
		// name a client this resource already owns (one it kept with deletionPolicy Orphan and
		// now takes back), which needs neither the namespace policy nor a claim to update.
		return r.createClient(ctx, obj, srv, desired, creds, fingerprint)
	}
	actual, err := srv.Hydra.Get(ctx, creds.ClientID)
	if hydra.IsNotFound(err) {
		return r.createClient(ctx, obj, srv, desired, creds, fingerprint)
	}
	if err != nil {
		return classify(err)
	}
	return r.compareAndUpdate(ctx, obj, srv, actual, desired, creds, fingerprint)
}

// existingClient handles a create that found the ID taken: by this resource's own earlier pass
// that crashed before writing status, by another resource, or by someone outside the operator.
func (r *OAuth2ClientReconciler) existingClient(ctx context.Context, obj *v1alpha1.OAuth2Client, srv *Server, desired *hydra.OAuth2Client, creds secrets.Credentials, fingerprint string) error {
	actual, err := srv.Hydra.Get(ctx, creds.ClientID)
	if err != nil {
		return classify(err)
	}
	return r.compareAndUpdate(ctx, obj, srv, actual, desired, creds, fingerprint)
}

// compareAndUpdate writes to Hydra only when its client differs from the desired one or the
// Secret's credentials have not been registered yet.
func (r *OAuth2ClientReconciler) compareAndUpdate(ctx context.Context, obj *v1alpha1.OAuth2Client, srv *Server, actual, desired *hydra.OAuth2Client, creds secrets.Credentials, fingerprint string) error {
	if err := r.checkOwnership(ctx, obj, actual); err != nil {
		return err
	}
	drift := hydra.Diff(desired, actual)
	rotate := creds.ClientSecret != "" && obj.Status.CredentialsFingerprint != fingerprint
	if len(drift) > 0 || rotate {
		if err := r.updateClient(ctx, obj, srv, desired, creds, drift, rotate, r.adoptedFrom(obj, actual)); err != nil {
			return err
		}
	}
	r.remember(obj, srv, creds.ClientID, fingerprint)
	r.rememberSent(obj, desired)
	return nil
}

// remember records in status, in the drift scanner and in memory that Hydra holds this
// generation with these credentials.
func (r *OAuth2ClientReconciler) remember(obj *v1alpha1.OAuth2Client, srv *Server, clientID, fingerprint string) {
	obj.Status.ClientID, obj.Status.CredentialsFingerprint = clientID, fingerprint
	srv.verdicts().MarkInSync(obj)
	r.registered.Store(obj.UID, registration{generation: obj.Generation, clientID: clientID, fingerprint: fingerprint})
}

// cacheIsBehind reports whether this process registered exactly these credentials for this
// generation, but the resource it read does not show it yet.
func (r *OAuth2ClientReconciler) cacheIsBehind(obj *v1alpha1.OAuth2Client, clientID, fingerprint string) bool {
	v, ok := r.registered.Load(obj.UID)
	if !ok {
		return false
	}
	rec := v.(registration)
	return rec.generation == obj.Generation && rec.clientID == clientID && rec.fingerprint == fingerprint &&
		obj.Status.CredentialsFingerprint != fingerprint
}

// mayRegister decides whether this resource may create or adopt a client with this ID: the
// namespace policy lets it choose the ID, and no other resource is entitled to the ID first. A
// client already marked as this resource's needs neither check: it is its own.
func (r *OAuth2ClientReconciler) mayRegister(ctx context.Context, obj *v1alpha1.OAuth2Client, clientID string) error {
	if err := r.Policy.check(obj, clientID); err != nil {
		return err
	}
	previous := meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ConditionReady)
	return r.checkClaim(ctx, obj, clientID, entered(previous, v1alpha1.ReasonClientIDConflict, obj.Generation))
}

func (r *OAuth2ClientReconciler) createClient(ctx context.Context, obj *v1alpha1.OAuth2Client, srv *Server, desired *hydra.OAuth2Client, creds secrets.Credentials, fingerprint string) error {
	if err := r.mayRegister(ctx, obj, creds.ClientID); err != nil {
		return err
	}
	withSecret := *desired
	if creds.ClientSecret != "" {
		withSecret.ClientSecret = &creds.ClientSecret
	}
	if _, err := srv.Hydra.Create(ctx, &withSecret); err != nil {
		if hydra.IsConflict(err) {
			return r.existingClient(ctx, obj, srv, desired, creds, fingerprint)
		}
		return classify(err)
	}
	// Status already naming this ID means it was registered before and has since vanished at
	// Hydra (deleted there, or lost with an in-memory database): that is drift being repaired.
	recreated := obj.Status.ClientID == creds.ClientID
	r.remember(obj, srv, creds.ClientID, fingerprint)
	r.rememberSent(obj, desired)
	if recreated {
		ctrl.LoggerFrom(ctx).Info("Re-created Hydra client that had vanished at Hydra", "clientID", creds.ClientID)
		r.event(obj, corev1.EventTypeNormal, "Recreated", fmt.Sprintf("Client %s was missing at Hydra; re-created it with the credentials in Secret %s", creds.ClientID, secretName(obj)))
		return nil
	}
	ctrl.LoggerFrom(ctx).Info("Created Hydra client", "clientID", creds.ClientID)
	r.event(obj, corev1.EventTypeNormal, "Created", fmt.Sprintf("Created client %s at Hydra; its credentials are in Secret %s", creds.ClientID, secretName(obj)))
	return nil
}

// updateClient replaces Hydra's client with the desired one. The secret is sent only when the
// Secret's credentials changed since they were last registered, because sending it costs Hydra
// a password hash and rotates the secret at once.
// A non-empty adoptedFrom says who held the client before this write makes it this resource's.
func (r *OAuth2ClientReconciler) updateClient(ctx context.Context, obj *v1alpha1.OAuth2Client, srv *Server, desired *hydra.OAuth2Client, creds secrets.Credentials, drift []string, rotate bool, adoptedFrom string) error {
	update := *desired
	if rotate {
		update.ClientSecret = &creds.ClientSecret
	}
	if _, err := srv.Hydra.Update(ctx, creds.ClientID, &update); err != nil {
		return classify(err)
	}
	reason, message := "Updated", "Updated client "+creds.ClientID+" at Hydra"
	switch {
	case adoptedFrom != "":
		reason, message = "Adopted", "Took over client "+creds.ClientID+" at Hydra from "+adoptedFrom
	case obj.Status.ObservedGeneration == obj.Generation && len(drift) > 0:
		// Nothing changed in the spec, so the difference was made at Hydra behind our back.
		reason, message = "DriftRepaired", "Reverted changes made at Hydra to client "+creds.ClientID
	}
	if len(drift) > 0 {
		message += " (fields: " + strings.Join(drift, ", ") + ")"
	}
	if rotate {
		message += "; registered the Secret's current credentials"
	}
	ctrl.LoggerFrom(ctx).Info(message, "clientID", creds.ClientID)
	r.event(obj, corev1.EventTypeNormal, reason, message)
	return nil
}

// adoptedFrom names who held a client that checkOwnership let this resource take over: ""
// when the client is already marked as this resource's.
func (r *OAuth2ClientReconciler) adoptedFrom(obj *v1alpha1.OAuth2Client, actual *hydra.OAuth2Client) string {
	if r.owns(obj, actual) {
		return ""
	}
	if namespace, name, ok := hydra.ParseHydraMaesterOwner(actual.GetOwner()); ok {
		return "hydra-maester's OAuth2Client " + namespace + "/" + name
	}
	return "outside the operator"
}

// owns reports whether Hydra's client is marked as this resource's, by this installation (or,
// in the legacy mark, by no installation in particular).
func (r *OAuth2ClientReconciler) owns(obj *v1alpha1.OAuth2Client, actual *hydra.OAuth2Client) bool {
	mark, marked := hydra.ParseOwnerMark(actual.GetOwner())
	return marked && mark.BelongsTo(r.Installation, obj.Namespace, obj.Name)
}

// checkOwnership lets the operator change only clients marked as this resource's. Any other
// client is refused in a fixed order, so that a namespace learns no more than it may: first the
// namespace policy (a namespace that may not choose this ID can't tell whether a client with it
// exists), then the claims of other resources (which tells the entitled one too), then Hydra's
// mark of another resource or of another installation sharing the server (never taken over);
// an unmarked client is taken over only with adoptExistingClient.
func (r *OAuth2ClientReconciler) checkOwnership(ctx context.Context, obj *v1alpha1.OAuth2Client, actual *hydra.OAuth2Client) error {
	id := actual.GetClientId()
	if r.owns(obj, actual) {
		return nil
	}
	mark, marked := hydra.ParseOwnerMark(actual.GetOwner())
	namespace, name := mark.Namespace, mark.Name
	if hmNamespace, hmName, byHydraMaester := hydra.ParseHydraMaesterOwner(actual.GetOwner()); byHydraMaester {
		return r.checkHydraMaesterAdoption(ctx, obj, id, hmNamespace, hmName)
	}
	if err := r.mayRegister(ctx, obj, id); err != nil {
		return err
	}
	switch {
	case marked && !mark.Legacy() && mark.Installation != r.Installation:
		return stalled(v1alpha1.ReasonClientIDConflict,
			"Client ID %q belongs to OAuth2Client %s/%s of another cluster sharing this authorization server "+
				"(installation %q, this one is %q); it is never taken over: choose another clientID", id, namespace, name, mark.Installation, r.Installation)
	case marked:
		return stalled(v1alpha1.ReasonClientIDConflict,
			"Client ID %q belongs to OAuth2Client %s/%s; choose another clientID", id, namespace, name)
	case !obj.Spec.AdoptExistingClient:
		return stalled(v1alpha1.ReasonClientIDConflict,
			"A Hydra client with ID %q exists that this operator did not create; set spec.adoptExistingClient: true to take it over", id)
	}
	return r.Policy.checkAdoption(obj)
}

// checkHydraMaesterAdoption decides on a client ory/hydra-maester registered for its resource
// namespace/name. The one of this resource's own namespace and name is taken over when the spec
// asks for it (adoptFrom: HydraMaester): hydra-maester's mark then stands in for the grant a
// chosen client ID needs, which its IDs (UUIDs Hydra generated) never have, since hydra-maester
// registered the client for this same name in this same namespace. The claims of other
// resources and the adoption policy still apply. Any other is another resource's client: it is
// refused after the namespace policy, as one of ours would be, so that a namespace learns
// nothing of clients it may not choose.
func (r *OAuth2ClientReconciler) checkHydraMaesterAdoption(ctx context.Context, obj *v1alpha1.OAuth2Client, id, namespace, name string) error {
	if namespace != obj.Namespace || name != obj.Name {
		if err := r.mayRegister(ctx, obj, id); err != nil {
			return err
		}
		return stalled(v1alpha1.ReasonClientIDConflict,
			"Client ID %q belongs to hydra-maester's OAuth2Client %s/%s (hydra.ory.sh); only an OAuth2Client of that namespace and name may adopt it", id, namespace, name)
	}
	if obj.Spec.AdoptFrom != v1alpha1.AdoptFromHydraMaester {
		return stalled(v1alpha1.ReasonClientIDConflict,
			"Client ID %q was registered by hydra-maester for its OAuth2Client %s/%s (hydra.ory.sh); set spec.adoptFrom: HydraMaester to take it over (docs/migrate-from-hydra-maester.md)", id, namespace, name)
	}
	previous := meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ConditionReady)
	if err := r.checkClaim(ctx, obj, id, entered(previous, v1alpha1.ReasonClientIDConflict, obj.Generation)); err != nil {
		return err
	}
	return r.Policy.checkAdoption(obj)
}

// classify maps a Hydra error to what happens next: a refusal of the spec stalls the resource
// with Hydra's own reason; anything else is returned as is and retried with backoff.
func classify(err error) error {
	var apiErr *hydra.APIError
	if hydra.IsRejected(err) && errors.As(err, &apiErr) {
		return stalled(v1alpha1.ReasonHydraRejected, "Hydra refused the client: %s", apiErr.Description)
	}
	return err
}
