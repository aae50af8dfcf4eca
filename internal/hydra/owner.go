package hydra

import (
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// The owner mark. Every client this operator creates carries, in Hydra's owner field,
//
//	oauth2-client-operator:<namespace>/<name>
//
// naming the OAuth2Client it belongs to. Hydra stores the field as given, so the mark is how
// the operator, finding a client, tells its own from one created by hand or by another tool,
// and which of its resources a client belongs to. Kubernetes names cannot contain '/', so the
// first '/' after the prefix separates namespace and name unambiguously. Every installation
// has the mark stored in Hydra: a new format would make the operator take every existing
// client for someone else's.

// ownerPrefix marks the owner values this operator writes. A client whose owner does not
// start with it was created by someone else and is never taken over silently.
const ownerPrefix = "oauth2-client-operator:"

// OwnerFor returns the owner Hydra stores for the client of the OAuth2Client namespace/name.
// It tells the operator, when it finds a client, whether the client is its own, someone
// else's, or another resource's; and it lets List find every client of this operator.
func OwnerFor(namespace, name string) string {
	return ownerPrefix + namespace + "/" + name
}

// ParseOwner is the inverse of OwnerFor. ok is false for owners this operator did not write,
// so that a client created by hand or by another tool is never mistaken for a managed one.
func ParseOwner(owner string) (namespace, name string, ok bool) {
	rest, found := strings.CutPrefix(owner, ownerPrefix)
	if !found {
		return "", "", false
	}
	namespace, name, found = strings.Cut(rest, "/")
	if !found || namespace == "" || name == "" || strings.Contains(name, "/") {
		return "", "", false
	}
	return namespace, name, true
}

// ParseHydraMaesterOwner reads the owner mark ory/hydra-maester writes on the clients it
// registers, "<name>/<namespace>" of its hydra.ory.sh OAuth2Client (name first, unlike ours).
// Only a mark whose parts are valid Kubernetes names counts, so that an owner written by hand
// ("team/app v2", "https://...") is not taken for one. A client with this mark may be adopted
// only by the resource of that same namespace and name, and only when its spec asks for it.
func ParseHydraMaesterOwner(owner string) (namespace, name string, ok bool) {
	name, namespace, found := strings.Cut(owner, "/")
	if !found || len(validation.IsDNS1123Subdomain(name)) > 0 || len(validation.IsDNS1123Label(namespace)) > 0 {
		return "", "", false
	}
	return namespace, name, true
}
