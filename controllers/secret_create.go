package controllers

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/util/csaupgrade"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/secrets"
)

// A new Secret is created, not applied: a create fails when the name is taken, so it can never
// write a Secret the operator does not own, and so a resource's first pass needs no read to find
// out that the name is free (the cache holds only the operator's own Secrets; a read of any
// other name goes to the API server and, for a new resource, answers 404). The fields a create
// sets belong to the operator's field manager as an Update, not as an Apply; until they are
// moved to its Apply entry (takeOverCreatedFields) a later apply could not remove them.

// errSecretNameTaken: the create of the resource's Secret found the name taken; the caller reads
// the Secret there and carries on with it.
var errSecretNameTaken = errors.New("a Secret of that name exists")

// createsUnread reports whether this pass may create the Secret without first reading it from
// the API server when the cache lacks it: only before the resource has ever been registered,
// and never for a Secret the user provides.
func createsUnread(obj *v1alpha1.OAuth2Client) bool {
	return obj.Status.ClientID == "" && !obj.Spec.RequireExistingSecret
}

// writeManagedSecret writes the desired content of the resource's Secret: a create when there
// is none (errSecretNameTaken when the name is taken after all), otherwise a server-side apply.
func (r *OAuth2ClientReconciler) writeManagedSecret(ctx context.Context, obj *v1alpha1.OAuth2Client, existing *corev1.Secret, desired secrets.Desired, owner metav1.OwnerReference) error {
	if existing == nil {
		err := r.Create(ctx, secrets.Object(obj.Namespace, secretName(obj), desired, &owner), client.FieldOwner(FieldManager))
		if apierrors.IsAlreadyExists(err) {
			return errSecretNameTaken
		}
		return err
	}
	if err := r.takeOverCreatedFields(ctx, existing); err != nil {
		return err
	}
	ac := secrets.ApplyConfiguration(obj.Namespace, secretName(obj), desired, &owner)
	return r.Apply(ctx, ac, client.FieldOwner(FieldManager), client.ForceOwnership)
}

// takeOverCreatedFields moves the fields a create gave the operator's field manager into its
// Apply entry, before the first apply to a Secret the operator created, so that the apply can
// remove them (a renamed key, a dropped label): the conversion client-go offers for a move from
// client-side to server-side apply. The patch carries the resourceVersion read, so it fails
// rather than overwrite the managedFields of a change in between.
func (r *OAuth2ClientReconciler) takeOverCreatedFields(ctx context.Context, existing *corev1.Secret) error {
	if !createdByOperator(existing) {
		return nil
	}
	full := &corev1.Secret{}
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(existing), full); err != nil {
		return fmt.Errorf("reading Secret %s: %w", existing.Name, err)
	}
	patch, err := csaupgrade.UpgradeManagedFieldsPatch(full, sets.New(FieldManager), FieldManager)
	if err != nil || patch == nil {
		return err
	}
	if err := r.Patch(ctx, full, client.RawPatch(types.JSONPatchType, patch)); err != nil {
		return fmt.Errorf("taking over the fields of Secret %s: %w", existing.Name, err)
	}
	return nil
}

// createdByOperator reports whether the operator's field manager holds fields of the Secret as
// an Update, as after a create. The cache keeps only the manager and operation of such entries
// (internal/operator's slimForCache).
func createdByOperator(s *corev1.Secret) bool {
	for _, m := range s.ManagedFields {
		if m.Manager == FieldManager && m.Operation == metav1.ManagedFieldsOperationUpdate && m.Subresource == "" {
			return true
		}
	}
	return false
}
