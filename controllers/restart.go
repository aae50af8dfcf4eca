package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// Restart targets: read and patched only when a rotation is being recorded, never cached or
// watched, so the operator holds no copy of the cluster's workloads.
// +kubebuilder:rbac:groups=apps,resources=deployments;statefulsets,verbs=get;patch

// restartTargets restarts the workloads of spec.rotation.restartTargets for credentials issued
// at issuedAt, as kubectl rollout restart does: it sets an annotation of the pod template,
// here to the issue time, so a workload already restarted for these credentials is left alone
// and a pass repeated after a crash restarts nothing twice.
//
// Contract: runs after the authorization server accepted the credentials and before status
// records them, so that an error leaves the rotation unrecorded and the next pass tries again.
// A workload that is missing or has not opted in (RestartOnRotationAnnotation naming this
// resource) is skipped with a Warning Event: editing an OAuth2Client must not let anyone
// restart a workload its owners did not offer.
func (r *OAuth2ClientReconciler) restartTargets(ctx context.Context, obj *v1alpha1.OAuth2Client, issuedAt time.Time) error {
	if obj.Spec.Rotation == nil {
		return nil
	}
	stamp := issuedAt.UTC().Format(time.RFC3339)
	for _, target := range obj.Spec.Rotation.RestartTargets {
		if err := r.restartTarget(ctx, obj, target, stamp); err != nil {
			return err
		}
	}
	return nil
}

func (r *OAuth2ClientReconciler) restartTarget(ctx context.Context, obj *v1alpha1.OAuth2Client, target v1alpha1.RestartTarget, stamp string) error {
	workload, template := workloadOf(target.Kind)
	key := types.NamespacedName{Namespace: obj.Namespace, Name: target.Name}
	if err := r.APIReader.Get(ctx, key, workload); err != nil {
		if isGone(err) {
			r.event(obj, corev1.EventTypeWarning, "RestartTargetNotFound", fmt.Sprintf(
				"Did not restart %s %s after rotating the credentials: it does not exist", target.Kind, target.Name))
			return nil
		}
		return fmt.Errorf("reading restart target %s %s: %w", target.Kind, target.Name, err)
	}
	if workload.GetAnnotations()[v1alpha1.RestartOnRotationAnnotation] != obj.Name {
		r.event(obj, corev1.EventTypeWarning, "RestartTargetNotAllowed", fmt.Sprintf(
			"Did not restart %s %s after rotating the credentials: it does not carry the annotation %s=%s, which lets this OAuth2Client restart it",
			target.Kind, target.Name, v1alpha1.RestartOnRotationAnnotation, obj.Name))
		return nil
	}
	if template(workload).Annotations[v1alpha1.RestartedAtAnnotation] == stamp {
		return nil
	}
	patch, err := json.Marshal(map[string]any{"spec": map[string]any{"template": map[string]any{
		"metadata": map[string]any{"annotations": map[string]string{v1alpha1.RestartedAtAnnotation: stamp}}}}})
	if err != nil {
		return err
	}
	if err := r.Patch(ctx, workload, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("restarting %s %s: %w", target.Kind, target.Name, err)
	}
	ctrl.LoggerFrom(ctx).Info("Restarted workload for rotated credentials", "kind", target.Kind, "workload", target.Name)
	r.event(obj, corev1.EventTypeNormal, "RestartedTarget", fmt.Sprintf("Restarted %s %s to load the rotated credentials", target.Kind, target.Name))
	return nil
}

// workloadOf returns an empty object of the kind and the accessor of its pod template.
func workloadOf(kind v1alpha1.RestartTargetKind) (client.Object, func(client.Object) *corev1.PodTemplateSpec) {
	if kind == v1alpha1.RestartTargetStatefulSet {
		return &appsv1.StatefulSet{}, func(o client.Object) *corev1.PodTemplateSpec { return &o.(*appsv1.StatefulSet).Spec.Template }
	}
	return &appsv1.Deployment{}, func(o client.Object) *corev1.PodTemplateSpec { return &o.(*appsv1.Deployment).Spec.Template }
}
