package operator

import (
	"context"
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/controllers"
)

// servedServerKinds are the server kinds this operator serves: each whose CRD is installed,
// the cluster kind only when the operator watches the whole cluster (in namespaced mode it has
// no cluster-wide permission to list them, and a watch it can't start would stop the manager).
// A kind whose CRD is not installed is skipped with a log line, not an error: `helm upgrade`
// does not add new CRDs, and the OAuth2Client reconciler must keep running without them.
func servedServerKinds(mgr ctrl.Manager, o Options) map[v1alpha1.AuthorizationServerKind]bool {
	log := ctrl.Log.WithName("setup")
	kinds := []v1alpha1.AuthorizationServerKind{v1alpha1.AuthorizationServerKindNamespaced}
	if len(o.WatchNamespaces) == 0 {
		kinds = append(kinds, v1alpha1.AuthorizationServerKindCluster)
	}
	served := map[v1alpha1.AuthorizationServerKind]bool{}
	for _, kind := range kinds {
		if !isServed(mgr.GetRESTMapper(), string(kind)) {
			log.Info("Not serving authorization servers of this kind: its CRD is not installed", "kind", kind)
			continue
		}
		served[kind] = true
	}
	return served
}

// setupServerHealth registers the reconcilers of the served server kinds, which check each
// server's health and hand its connection to directory.
func setupServerHealth(mgr ctrl.Manager, o Options, kinds map[v1alpha1.AuthorizationServerKind]bool, directory *controllers.ServerDirectory) error {
	for kind := range kinds {
		r := &controllers.AuthorizationServerReconciler{
			Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(),
			Recorder: mgr.GetEventRecorder("oauth2-client-operator"),
			Cluster:  kind == v1alpha1.AuthorizationServerKindCluster, OperatorNamespace: operatorNamespace(o),
			CheckInterval: o.ServerCheckInterval, Directory: directory,
			// A shard caches only its own OAuth2Clients: whether a server is still in use is
			// asked of the API server, across every shard.
			UsageUncached: o.WatchLabelSelector != "",
		}
		if err := r.SetupWithManager(mgr); err != nil {
			return fmt.Errorf("setting up the %s controller: %w", kind, err)
		}
	}
	return nil
}

// isServed reports whether the API server knows kind of this API group. Any error but "no
// such kind" counts as served: the controller's own start then reports it.
func isServed(mapper meta.RESTMapper, kind string) bool {
	gk := schema.GroupKind{Group: v1alpha1.GroupVersion.Group, Kind: kind}
	_, err := mapper.RESTMapping(gk, v1alpha1.GroupVersion.Version)
	return err == nil || !meta.IsNoMatchError(err)
}

// leaderTasks runs tasks added at any time (the drift scanners of servers created while the
// operator runs) for as long as this replica leads, each until it is stopped.
type leaderTasks struct {
	mu      sync.Mutex
	ctx     context.Context
	pending []func(context.Context)
}

// NeedLeaderElection: the tasks write to Hydra's clients' resources through the queue, which
// only the leader's controller reads.
func (t *leaderTasks) NeedLeaderElection() bool { return true }

// Start runs the pending tasks, and those added later, until ctx ends.
func (t *leaderTasks) Start(ctx context.Context) error {
	t.mu.Lock()
	t.ctx = ctx
	for _, task := range t.pending {
		go task(ctx)
	}
	t.pending = nil
	t.mu.Unlock()
	<-ctx.Done()
	return nil
}

// run starts task now if this replica leads, else when it does; the returned function stops it.
func (t *leaderTasks) run(task func(context.Context) error) (stop func()) {
	var once sync.Once
	stopped := make(chan struct{})
	wrapped := func(parent context.Context) {
		ctx, cancel := context.WithCancel(parent)
		defer cancel()
		go func() {
			select {
			case <-stopped:
				cancel()
			case <-ctx.Done():
			}
		}()
		_ = task(ctx)
	}
	t.mu.Lock()
	if t.ctx != nil {
		go wrapped(t.ctx)
	} else {
		t.pending = append(t.pending, wrapped)
	}
	t.mu.Unlock()
	return func() { once.Do(func() { close(stopped) }) }
}
