package operator

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/controllers"
)

// setupServerHealth registers the health checks of AuthorizationServers and, when the operator
// watches the whole cluster, ClusterAuthorizationServers: in namespaced mode it has no
// cluster-wide permission to list them, and a watch it can't start would stop the manager.
// A kind whose CRD is not installed is skipped with a log line, not an error: `helm upgrade`
// does not add new CRDs, and the OAuth2Client reconciler must keep running without them.
func setupServerHealth(mgr ctrl.Manager, o Options) error {
	log := ctrl.Log.WithName("setup")
	kinds := []bool{false}
	if len(o.WatchNamespaces) == 0 {
		kinds = append(kinds, true)
	}
	for _, cluster := range kinds {
		kind := "AuthorizationServer"
		if cluster {
			kind = "ClusterAuthorizationServer"
		}
		if !served(mgr.GetRESTMapper(), kind) {
			log.Info("Not checking authorization servers: their CRD is not installed", "kind", kind)
			continue
		}
		r := &controllers.AuthorizationServerReconciler{
			Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(),
			Recorder: mgr.GetEventRecorder("oauth2-client-operator"),
			Cluster:  cluster, OperatorNamespace: operatorNamespace(o), CheckInterval: o.ServerCheckInterval,
		}
		if err := r.SetupWithManager(mgr); err != nil {
			return fmt.Errorf("setting up the %s controller: %w", kind, err)
		}
	}
	return nil
}

// served reports whether the API server knows kind of this API group. Any error but "no such
// kind" counts as served: the controller's own start then reports it.
func served(mapper meta.RESTMapper, kind string) bool {
	gk := schema.GroupKind{Group: v1alpha1.GroupVersion.Group, Kind: kind}
	_, err := mapper.RESTMapping(gk, v1alpha1.GroupVersion.Version)
	return err == nil || !meta.IsNoMatchError(err)
}
