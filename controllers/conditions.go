package controllers

import (
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// The three setters below are the only places conditions change. They follow kstatus: Ready is
// always present; Reconciling and Stalled only while true; observedGeneration moves to the
// current generation only when the operator is done with it (applied, or refused for good).

// setReady records that the current generation is fully applied.
func setReady(obj *v1alpha1.OAuth2Client, reason, message string) {
	setCondition(obj, v1alpha1.ConditionReady, metav1.ConditionTrue, reason, message)
	meta.RemoveStatusCondition(&obj.Status.Conditions, v1alpha1.ConditionReconciling)
	meta.RemoveStatusCondition(&obj.Status.Conditions, v1alpha1.ConditionStalled)
	obj.Status.ObservedGeneration = obj.Generation
}

// setStalled records that the operator cannot make progress until something changes.
func setStalled(obj *v1alpha1.OAuth2Client, reason, message string) {
	setCondition(obj, v1alpha1.ConditionReady, metav1.ConditionFalse, reason, message)
	setCondition(obj, v1alpha1.ConditionStalled, metav1.ConditionTrue, reason, message)
	meta.RemoveStatusCondition(&obj.Status.Conditions, v1alpha1.ConditionReconciling)
	obj.Status.ObservedGeneration = obj.Generation
}

// setProgressing records work in progress: a retry, a wait, or deletion.
func setProgressing(obj *v1alpha1.OAuth2Client, reason, message string) {
	setCondition(obj, v1alpha1.ConditionReady, metav1.ConditionFalse, reason, message)
	setCondition(obj, v1alpha1.ConditionReconciling, metav1.ConditionTrue, reason, message)
	meta.RemoveStatusCondition(&obj.Status.Conditions, v1alpha1.ConditionStalled)
}

func setCondition(obj *v1alpha1.OAuth2Client, conditionType string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(&obj.Status.Conditions, metav1.Condition{
		Type:               conditionType,
		Status:             status,
		Reason:             reason,
		Message:            truncate(message, 1024),
		ObservedGeneration: obj.Generation,
	})
}

// truncate shortens s to at most n bytes, on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("...")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
