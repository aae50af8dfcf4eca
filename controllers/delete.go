package controllers

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
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
func (r *OAuth2ClientReconciler) reconcileDelete(ctx context.Context, obj *v1alpha1.OAuth2Client) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(obj, v1alpha1.FinalizerName) {
		return ctrl.Result{}, nil
	}
	previous := meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ConditionReady).DeepCopy()
	setProgressing(obj, v1alpha1.ReasonDeleting, "Deleting: removing the client from Hydra")
	var err error
	if obj.Spec.DeletionPolicy == v1alpha1.DeletionPolicyOrphan {
		err = r.releaseSecret(ctx, obj)
	} else {
		err = r.deleteHydraClient(ctx, obj)
	}
	var unavailable *ServerUnavailableError
	if errors.As(err, &unavailable) {
		message := "Deleting: " + unavailableMessage(unavailable)
		setProgressing(obj, v1alpha1.ReasonAuthorizationServerUnavailable, message)
		if entered(previous, v1alpha1.ReasonAuthorizationServerUnavailable, obj.Generation) {
			r.event(obj, corev1.EventTypeWarning, v1alpha1.ReasonAuthorizationServerUnavailable,
				message+" (if the server is gone for good, set spec.deletionPolicy to Orphan)")
		}
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	r.registered.Delete(obj.UID)
	patch := client.MergeFromWithOptions(obj.DeepCopy(), client.MergeFromWithOptimisticLock{})
	controllerutil.RemoveFinalizer(obj, v1alpha1.FinalizerName)
	return ctrl.Result{}, client.IgnoreNotFound(r.Patch(ctx, obj, patch))
}

// deleteHydraClient deletes every client this resource may have registered and owns. The ID is
// normally in status; after a crash before the status write it is the one the resource derives,
// or the one in its Secret.
func (r *OAuth2ClientReconciler) deleteHydraClient(ctx context.Context, obj *v1alpha1.OAuth2Client) error {
	for _, id := range r.candidateClientIDs(ctx, obj) {
		actual, err := r.Hydra.Get(ctx, id)
		if hydra.IsNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		if !r.owns(obj, actual) {
			continue
		}
		if err := r.Hydra.Delete(ctx, id); err != nil && !hydra.IsNotFound(err) {
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
	if obj.Status.ClientID == "" {
		s, err := r.getSecret(ctx, types.NamespacedName{Namespace: obj.Namespace, Name: secretName(obj)})
		if err == nil && s != nil {
			add(secrets.Read(s, obj.Spec.SecretTemplate).ClientID)
		}
	}
	return ids
}

// releaseSecret removes the resource's controller reference from its managed Secret, so that
// garbage collection keeps the credentials of an orphaned Hydra client.
func (r *OAuth2ClientReconciler) releaseSecret(ctx context.Context, obj *v1alpha1.OAuth2Client) error {
	s, err := r.getSecret(ctx, types.NamespacedName{Namespace: obj.Namespace, Name: secretName(obj)})
	if err != nil || s == nil || !isManagedSecret(s, obj) || checkSecretOwner(s, obj) != nil {
		return err
	}
	src, err := r.secretSource(obj, secrets.Read(s, obj.Spec.SecretTemplate), s)
	if err != nil {
		return err
	}
	desired := secrets.Render(src, r.FingerprintKey)
	// Recorded so that only this resource, re-created under the same name, may take it over.
	desired.Annotations[v1alpha1.ReleasedByAnnotation] = obj.Name
	ac := secrets.ApplyConfiguration(obj.Namespace, s.Name, desired, nil)
	if err := r.Apply(ctx, ac, client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("releasing Secret %s: %w", s.Name, err)
	}
	r.event(obj, corev1.EventTypeNormal, "Orphaned", "Kept the Hydra client and released Secret "+s.Name+" (deletionPolicy Orphan)")
	return nil
}
