package controllers

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/secrets"
)

// reconcileDelete runs while the resource is being deleted.
//
// Contract: the finalizer is removed only after the Hydra client is gone (deletionPolicy Delete)
// or the Secret has been released so it outlives the resource (Orphan). A client that belongs to
// another resource is never deleted. While Hydra cannot be reached the finalizer stays and the
// deletion is retried; setting deletionPolicy to Orphan lets the resource go without Hydra.
// The server a reference names must exist and be checked; a server object that is gone (its
// own finalizer keeps it while resources refer to it, so only a forced removal does that)
// leaves nothing to do there, and the finalizer goes with a Warning.
func (r *OAuth2ClientReconciler) reconcileDelete(ctx context.Context, obj *v1alpha1.OAuth2Client) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(obj, v1alpha1.FinalizerName) {
		return ctrl.Result{}, nil
	}
	previous := meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ConditionReady).DeepCopy()
	setProgressing(obj, v1alpha1.ReasonDeleting, "Deleting: removing the client from Hydra")
	srv, err := r.serverFor(ctx, obj)
	if gone := serverGone(err); gone != "" {
		// Nothing can be registered at a server that does not exist or that this operator does
		// not serve. An orphaned resource's Secret is still released (without endpoint keys).
		r.event(obj, corev1.EventTypeWarning, v1alpha1.ReasonAuthorizationServerNotFound, "Deleting without removing anything at the server: "+gone)
		srv, err = &Server{}, nil
		if obj.Spec.DeletionPolicy != v1alpha1.DeletionPolicyOrphan {
			srv = nil
		}
	}
	switch {
	case srv == nil && err == nil:
	case err != nil:
		return r.deletionBlocked(obj, previous, err)
	case obj.Spec.DeletionPolicy == v1alpha1.DeletionPolicyOrphan:
		err = r.releaseSecret(ctx, obj, srv.Endpoints)
	default:
		err = r.deleteHydraClient(ctx, obj, srv)
	}
	if err != nil {
		return r.deletionBlocked(obj, previous, err)
	}
	r.registered.Delete(obj.UID)
	r.sent.Delete(obj.UID)
	r.replaced.Delete(obj.UID)
	patch := client.MergeFromWithOptions(obj.DeepCopy(), client.MergeFromWithOptimisticLock{})
	controllerutil.RemoveFinalizer(obj, v1alpha1.FinalizerName)
	return ctrl.Result{}, client.IgnoreNotFound(r.Patch(ctx, obj, patch))
}

// serverGone is the message of a serverFor error that says the server object does not exist
// or is not served; "" for any other.
func serverGone(err error) string {
	var waiting *waitingError
	var stall *stalledError
	switch {
	case errors.As(err, &waiting) && waiting.reason == v1alpha1.ReasonAuthorizationServerNotFound:
		return waiting.message
	case errors.As(err, &stall) && stall.reason == v1alpha1.ReasonAuthorizationServerNotFound:
		return stall.message
	}
	return ""
}

// deletionBlocked reports a deletion that has to wait: for the server to answer, or to be
// ready to use. The finalizer stays.
func (r *OAuth2ClientReconciler) deletionBlocked(obj *v1alpha1.OAuth2Client, previous *metav1.Condition, err error) (ctrl.Result, error) {
	var unavailable *ServerUnavailableError
	var waiting *waitingError
	reason, message := "", ""
	switch {
	case errors.As(err, &unavailable):
		reason, message = unavailableReason(unavailable), "Deleting: "+unavailableMessage(unavailable)
	case errors.As(err, &waiting):
		reason, message = waiting.reason, "Deleting: "+waiting.message
	default:
		return ctrl.Result{}, err
	}
	setProgressing(obj, reason, message)
	if entered(previous, reason, obj.Generation) {
		r.event(obj, corev1.EventTypeWarning, reason, message+" (if the server is gone for good, set spec.deletionPolicy to Orphan)")
	}
	if waiting == nil {
		return ctrl.Result{}, err
	}
	// A wait is not a failure: retried after its delay, not with backoff.
	return ctrl.Result{RequeueAfter: waiting.after}, nil
}

// deleteHydraClient deletes every client this resource may have registered and owns. The ID is
// normally in status; after a crash before the status write it is the one the resource derives,
// or the one in its Secret.
func (r *OAuth2ClientReconciler) deleteHydraClient(ctx context.Context, obj *v1alpha1.OAuth2Client, srv *Server) error {
	for _, id := range r.candidateClientIDs(ctx, obj) {
		actual, err := srv.Hydra.Get(ctx, id)
		if hydra.IsNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		if !r.owns(obj, actual) {
			continue
		}
		if err := srv.Hydra.Delete(ctx, id); err != nil && !hydra.IsNotFound(err) {
			return err
		}
		ctrl.LoggerFrom(ctx).Info("Deleted Hydra client", "clientID", id)
		r.event(obj, corev1.EventTypeNormal, "Deleted", "Deleted client "+id+" at Hydra")
	}
	return nil
}

func (r *OAuth2ClientReconciler) candidateClientIDs(ctx context.Context, obj *v1alpha1.OAuth2Client) []string {
	ids := []string{}
	add := func(id string) {
		for _, have := range ids {
			if have == id {
				return
			}
		}
		if id != "" {
			ids = append(ids, id)
		}
	}
	add(obj.Status.ClientID)
	add(clientIDFor(obj))
	if alternating(obj) || (obj.Status.Rotation != nil && obj.Status.Rotation.PreviousClientID != "") {
		// Both clients of AlternatingClients, also after the strategy changed while one was
		// still in its grace period.
		primary, alternate := clientPair(obj)
		add(primary)
		add(alternate)
	}
	if obj.Status.ClientID == "" {
		s, err := r.getSecret(ctx, types.NamespacedName{Namespace: obj.Namespace, Name: secretName(obj)}, true)
		if err == nil && s != nil {
			add(secrets.Read(s, obj.Spec.SecretTemplate).ClientID)
		}
	}
	return ids
}

// releaseSecret removes the resource's controller reference from its managed Secret, so that
// garbage collection keeps the credentials of an orphaned Hydra client.
func (r *OAuth2ClientReconciler) releaseSecret(ctx context.Context, obj *v1alpha1.OAuth2Client, endpoints secrets.Endpoints) error {
	s, err := r.getSecret(ctx, types.NamespacedName{Namespace: obj.Namespace, Name: secretName(obj)}, true)
	if err != nil || s == nil || !isManagedSecret(s, obj) || checkSecretOwner(s, obj) != nil {
		return err
	}
	creds := secrets.Read(s, obj.Spec.SecretTemplate)
	creds.PrivateKey = storedKey(s) // the client's key (strategy KeyRollover) stays with it
	src, err := r.secretSource(obj, creds, s, endpoints)
	if err != nil {
		return err
	}
	desired := secrets.Render(src, r.FingerprintKey)
	// Recorded so that only this resource, re-created under the same name, may take it over.
	desired.Annotations[v1alpha1.ReleasedByAnnotation] = obj.Name
	if err := r.takeOverCreatedFields(ctx, s); err != nil { // else the owner reference would stay
		return err
	}
	ac := secrets.ApplyConfiguration(obj.Namespace, s.Name, desired, nil)
	if err := r.Apply(ctx, ac, client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("releasing Secret %s: %w", s.Name, err)
	}
	r.event(obj, corev1.EventTypeNormal, "Orphaned", "Kept the Hydra client and released Secret "+s.Name+" (deletionPolicy Orphan)")
	return nil
}
