package controllers

import (
	"path"
	"slices"
	"strings"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// NamespacePolicy is the operator-level policy on what a namespace may ask for. Client IDs are
// global at the authorization server while namespaces are tenants, so by default a namespace may
// register only the IDs the operator derives (the resource's UID) and IDs under its own prefix,
// "<namespace>." (namespace names can't contain a dot, so no namespace's prefix is another's).
// Anything else, and adopting clients the operator did not create, needs an administrator's
// grant. Ownership marks at Hydra and first-claim binding (claims.go) stop one namespace from
// taking another's client; this policy also keeps namespaces away from IDs nobody claimed yet.
type NamespacePolicy struct {
	// ClientIDRules grant namespaces client IDs beyond their own prefix. Each rule is a namespace
	// pattern (a shell pattern such as platform-*), which may then choose any ID, or
	// "namespace-pattern=id-pattern", which may choose the IDs that match id-pattern. nil grants
	// nothing beyond the prefix; "*" restores the old behaviour of any namespace, any ID.
	ClientIDRules []string
	// AdoptionNamespaces may adopt existing unmarked clients (whose ID they may also choose);
	// nil means every namespace.
	AdoptionNamespaces []string
}

func allowed(patterns []string, namespace string) bool {
	return patterns == nil || slices.ContainsFunc(patterns, func(p string) bool { return match(p, namespace) })
}

func match(pattern, s string) bool {
	ok, err := path.Match(pattern, s)
	return err == nil && ok
}

// mayChoose reports whether a resource in namespace may register clientID, given its own UID.
func (p NamespacePolicy) mayChoose(namespace, uid, clientID string) bool {
	if clientID == uid || (strings.HasPrefix(clientID, namespace+".") && len(clientID) > len(namespace)+1) {
		return true
	}
	return slices.ContainsFunc(p.ClientIDRules, func(rule string) bool {
		nsPattern, idPattern, hasID := strings.Cut(rule, "=")
		return match(nsPattern, namespace) && (!hasID || match(idPattern, clientID))
	})
}

// check refuses a client ID the namespace may not choose. The ID this resource's status records
// is its own: the operator registered or adopted it for this resource after a grant or an
// ownership mark allowed it (status is written only by the operator), so that a client of it
// that vanished at Hydra is re-created even without a grant, such as one adopted from
// hydra-maester under the UUID Hydra gave it.
func (p NamespacePolicy) check(obj *v1alpha1.OAuth2Client, clientID string) error {
	if primary, alternate := clientPair(obj); alternating(obj) && clientID == alternate {
		// The second client of AlternatingClients goes with the first.
		clientID = primary
	}
	if p.mayChoose(obj.Namespace, string(obj.UID), clientID) || (clientID != "" && clientID == obj.Status.ClientID) {
		return nil
	}
	return stalled(v1alpha1.ReasonNamespaceNotAllowed,
		"Namespace %s may choose only client IDs that start with %q (or leave spec.clientID unset to get the resource's UID); "+
			"other IDs need an administrator's grant (operator flag --client-id-namespaces)", obj.Namespace, obj.Namespace+".")
}

// checkAdoption refuses adoption from a namespace the policy does not allow to adopt.
func (p NamespacePolicy) checkAdoption(obj *v1alpha1.OAuth2Client) error {
	if allowed(p.AdoptionNamespaces, obj.Namespace) {
		return nil
	}
	return stalled(v1alpha1.ReasonNamespaceNotAllowed,
		"Namespace %s may not adopt existing Hydra clients (operator flag --adoption-namespaces)", obj.Namespace)
}
