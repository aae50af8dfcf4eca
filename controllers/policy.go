package controllers

import (
	"path"
	"slices"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// NamespacePolicy is the operator-level policy on what a namespace may ask for. Choosing a
// client ID (spec.clientID, or a client_id in a user-provided Secret) and adopting clients the
// operator did not create reach beyond the namespace, so a platform team can limit them.
// Ownership marks at Hydra already stop one namespace from taking another's client; this policy
// also keeps namespaces away from clients nobody has claimed yet.
type NamespacePolicy struct {
	// ClientIDNamespaces may choose client IDs; nil means every namespace. Entries are names
	// or shell patterns such as platform-*.
	ClientIDNamespaces []string
	// AdoptionNamespaces may adopt existing unmarked clients; nil means every namespace.
	AdoptionNamespaces []string
}

func allowed(patterns []string, namespace string) bool {
	return patterns == nil || slices.ContainsFunc(patterns, func(p string) bool {
		ok, err := path.Match(p, namespace)
		return err == nil && ok
	})
}

// check refuses a chosen client ID from a namespace the policy does not allow to choose one.
func (p NamespacePolicy) check(obj *v1alpha1.OAuth2Client, clientID string) error {
	if clientID == string(obj.UID) || allowed(p.ClientIDNamespaces, obj.Namespace) {
		return nil
	}
	return stalled(v1alpha1.ReasonNamespaceNotAllowed,
		"Namespace %s may not choose client IDs (operator flag --client-id-namespaces); remove spec.clientID and the Secret's client_id", obj.Namespace)
}

// checkAdoption refuses adoption from a namespace the policy does not allow to adopt.
func (p NamespacePolicy) checkAdoption(obj *v1alpha1.OAuth2Client) error {
	if allowed(p.AdoptionNamespaces, obj.Namespace) {
		return nil
	}
	return stalled(v1alpha1.ReasonNamespaceNotAllowed,
		"Namespace %s may not adopt existing Hydra clients (operator flag --adoption-namespaces)", obj.Namespace)
}
