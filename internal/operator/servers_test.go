package operator

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// A kind the API server doesn't serve is skipped (its controller would stop the manager), and
// one it serves is set up.
func TestServed(t *testing.T) {
	mapper := meta.NewDefaultRESTMapper(nil)
	mapper.Add(v1alpha1.GroupVersion.WithKind("AuthorizationServer"), meta.RESTScopeNamespace)
	if !isServed(mapper, "AuthorizationServer") {
		t.Error("an installed kind counts as not served")
	}
	if isServed(mapper, "ClusterAuthorizationServer") {
		t.Error("a kind without its CRD counts as served")
	}
}
