package hydra

import (
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// The owner mark. Every client this operator creates carries, in Hydra's owner field,
//
//	oauth2-client-operator:<namespace>/<name>@<installation>
//
// naming the OAuth2Client it belongs to and the installation (the cluster, by the operator's
// --cluster-name) that resource lives in. Hydra stores the field as given, so the mark is how
// the operator, finding a client, tells its own from one created by hand, by another tool, or
// by the operator of another cluster that shares the authorization server; and which of its
// resources a client belongs to. Kubernetes names contain neither '/' nor '@', so the parts
// separate unambiguously.
//
// Versions before the installation existed wrote the legacy mark
// oauth2-client-operator:<namespace>/<name>. It is still read, as a mark of no installation
// in particular, so that an upgraded operator keeps its clients (and rewrites their marks).

// ownerPrefix marks the owner values this operator writes. A client whose owner does not
// start with it was created by someone else and is never taken over silently.
const ownerPrefix = "oauth2-client-operator:"

// Owner is what an owner mark says: the OAuth2Client namespace/name of Installation. A legacy
// mark has no Installation.
type Owner struct {
	Installation, Namespace, Name string
}

// String is the mark as Hydra stores it.
func (o Owner) String() string {
	mark := ownerPrefix + o.Namespace + "/" + o.Name
	if o.Installation != "" {
		mark += "@" + o.Installation
	}
	return mark
}

// Legacy reports whether the mark names no installation: one written before marks had one.
func (o Owner) Legacy() bool { return o.Installation == "" }

// BelongsTo reports whether the mark is the one of the OAuth2Client namespace/name of
// installation, or the legacy mark of that resource (which an installation takes for its own:
// it wrote it before it had a name).
func (o Owner) BelongsTo(installation, namespace, name string) bool {
	return o.Namespace == namespace && o.Name == name && (o.Installation == installation || o.Legacy())
}

// OwnerIn returns the owner Hydra stores for the client of the OAuth2Client namespace/name of
// installation.
func OwnerIn(installation, namespace, name string) string {
	return Owner{Installation: installation, Namespace: namespace, Name: name}.String()
}

// OwnerFor returns the legacy mark of the OAuth2Client namespace/name, without installation:
// what versions before --cluster-name wrote.
func OwnerFor(namespace, name string) string {
	return Owner{Namespace: namespace, Name: name}.String()
}

// ParseOwnerMark is the inverse of Owner.String. ok is false for owners this operator did not
// write, so that a client created by hand or by another tool is never mistaken for a managed
// one.
func ParseOwnerMark(owner string) (Owner, bool) {
	rest, found := strings.CutPrefix(owner, ownerPrefix)
	if !found {
		return Owner{}, false
	}
	namespace, rest, found := strings.Cut(rest, "/")
	if !found || namespace == "" || strings.Contains(namespace, "@") {
		return Owner{}, false
	}
	name, installation, withInstallation := strings.Cut(rest, "@")
	if name == "" || strings.Contains(name, "/") || (withInstallation && (installation == "" || strings.ContainsAny(installation, "/@"))) {
		return Owner{}, false
	}
	return Owner{Installation: installation, Namespace: namespace, Name: name}, true
}

// ParseOwner reads the namespace and name of any of this operator's marks, of whichever
// installation.
func ParseOwner(owner string) (namespace, name string, ok bool) {
	o, ok := ParseOwnerMark(owner)
	return o.Namespace, o.Name, ok
}

// ValidInstallation reports why s can't name an installation in owner marks, or nil: a DNS
// label (lower-case letters, digits and '-', at most 63), which a namespace UID also is.
func ValidInstallation(s string) []string { return validation.IsDNS1123Label(s) }

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
