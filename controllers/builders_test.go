package controllers

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// Builders and readers shared by the fast tier and the integration tier (no build tag).

func conditionOf(obj *v1alpha1.OAuth2Client, condType string) *metav1.Condition {
	for i := range obj.Status.Conditions {
		if obj.Status.Conditions[i].Type == condType {
			return &obj.Status.Conditions[i]
		}
	}
	return nil
}

func ptrTo[T any](v T) *T { return &v }

func conditionMessage(obj *v1alpha1.OAuth2Client, condType string) string {
	for _, c := range obj.Status.Conditions {
		if c.Type == condType {
			return c.Message
		}
	}
	return ""
}

func serviceClient(ns, name string) *v1alpha1.OAuth2Client {
	return &v1alpha1.OAuth2Client{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.OAuth2ClientSpec{
			GrantTypes: []v1alpha1.GrantType{"client_credentials"},
			Scopes:     []string{"read", "write"},
		},
	}
}
