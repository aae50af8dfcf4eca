package controllers

import (
	"context"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// referencedObject is a Secret or ConfigMap that a server's spec names.
type referencedObject struct {
	configMap       bool
	namespace, name string
}

// referencedObjects are the Secrets and ConfigMaps in namespace that spec reads: its admin
// credentials and its CA bundle. An inline CA bundle references nothing.
func referencedObjects(namespace string, spec *v1alpha1.AuthorizationServerSpec) []referencedObject {
	var refs []referencedObject
	secret := func(name string) { refs = append(refs, referencedObject{namespace: namespace, name: name}) }
	if a := spec.Auth; a != nil {
		switch {
		case a.BearerToken != nil:
			secret(a.BearerToken.SecretKeyRef.Name)
		case a.Basic != nil:
			secret(a.Basic.SecretRef.Name)
		case a.ClientCertificate != nil:
			secret(a.ClientCertificate.SecretRef.Name)
		}
	}
	if ca := spec.CABundle; ca != nil {
		switch {
		case ca.SecretKeyRef != nil:
			secret(ca.SecretKeyRef.Name)
		case ca.ConfigMapKeyRef != nil:
			refs = append(refs, referencedObject{configMap: true, namespace: namespace, name: ca.ConfigMapKeyRef.Name})
		}
	}
	return refs
}

// referenceWatcher asks for a server's check as soon as a Secret or ConfigMap it references is
// created, changed or deleted, so that a rotated token or CA heals the server (and the clients
// behind it) in seconds rather than at the next interval.
//
// Each referenced object gets an informer of its own, narrowed by a field selector to that one
// name: the manager's cache holds only the Secrets the operator writes, and watching all
// Secrets to learn of a handful would cache every credential of the cluster. Servers are few,
// so the informers are too; one that several servers share is started once and stopped with
// the last of them.
type referenceWatcher struct {
	// core is a REST client for the core API group (Secrets and ConfigMaps).
	core rest.Interface
	// newServer makes the object whose name an event carries to the reconciler.
	newServer func() authorizationServer
	events    chan event.GenericEvent

	// ctx bounds every informer: the manager's, once Start runs.
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	informer map[referencedObject]*referenceInformer
	servers  map[client.ObjectKey][]referencedObject
}

// referenceInformer is the informer of one referenced object and the servers that reference it.
type referenceInformer struct {
	stop    context.CancelFunc
	servers map[client.ObjectKey]bool
}

// referenceEventBuffer holds events the reconciler has not read yet. A burst beyond it is
// dropped: the servers concerned are already queued, and the interval checks them anyway.
const referenceEventBuffer = 256

func newReferenceWatcher(core rest.Interface, newServer func() authorizationServer) *referenceWatcher {
	ctx, cancel := context.WithCancel(context.Background())
	return &referenceWatcher{core: core, newServer: newServer, events: make(chan event.GenericEvent, referenceEventBuffer),
		ctx: ctx, cancel: cancel, informer: map[referencedObject]*referenceInformer{}, servers: map[client.ObjectKey][]referencedObject{}}
}

// Start stops every informer when the manager stops. Informers start as servers are tracked,
// which happens in reconciles, after the manager started.
func (w *referenceWatcher) Start(ctx context.Context) error {
	<-ctx.Done()
	w.cancel()
	return nil
}

// NeedLeaderElection: every replica checks servers (the check only reads), so every replica
// watches what they reference.
func (w *referenceWatcher) NeedLeaderElection() bool { return false }

// track makes the watched objects of server those in refs: it starts an informer for each new
// one and stops those no server references any more.
// A nil watcher watches nothing (the fast tier's reconcilers have none).
func (w *referenceWatcher) track(server client.ObjectKey, refs []referencedObject) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, ref := range refs {
		inf := w.informer[ref]
		if inf == nil {
			inf = &referenceInformer{stop: w.startInformer(ref), servers: map[client.ObjectKey]bool{}}
			w.informer[ref] = inf
		}
		inf.servers[server] = true
	}
	for _, old := range w.servers[server] {
		if !containsReference(refs, old) {
			w.release(server, old)
		}
	}
	if len(refs) == 0 {
		delete(w.servers, server)
		return
	}
	w.servers[server] = refs
}

// forget stops watching for server: it is gone.
func (w *referenceWatcher) forget(server client.ObjectKey) { w.track(server, nil) }

// watching is the number of objects watched, for tests.
func (w *referenceWatcher) watching() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.informer)
}

// release drops server from ref's informer, and stops it when no server is left. w.mu is held.
func (w *referenceWatcher) release(server client.ObjectKey, ref referencedObject) {
	inf := w.informer[ref]
	if inf == nil {
		return
	}
	delete(inf.servers, server)
	if len(inf.servers) == 0 {
		inf.stop()
		delete(w.informer, ref)
	}
}

func containsReference(refs []referencedObject, ref referencedObject) bool {
	for _, r := range refs {
		if r == ref {
			return true
		}
	}
	return false
}

// startInformer runs an informer on ref alone until the returned function is called.
func (w *referenceWatcher) startInformer(ref referencedObject) context.CancelFunc {
	resource, object := "secrets", runtime.Object(&corev1.Secret{})
	if ref.configMap {
		resource, object = "configmaps", &corev1.ConfigMap{}
	}
	lw := toolscache.NewListWatchFromClient(w.core, resource, ref.namespace, fields.OneTermEqualSelector("metadata.name", ref.name))
	informer := toolscache.NewSharedIndexInformer(lw, object, 0, toolscache.Indexers{})
	notify := func() { w.notify(ref) }
	// The initial list is what the server's check read already; only what follows is news.
	_, _ = informer.AddEventHandler(toolscache.ResourceEventHandlerDetailedFuncs{
		AddFunc: func(_ interface{}, initial bool) {
			if !initial {
				notify()
			}
		},
		UpdateFunc: func(_, _ interface{}) { notify() },
		DeleteFunc: func(interface{}) { notify() },
	})
	ctx, cancel := context.WithCancel(w.ctx)
	go informer.Run(ctx.Done())
	return cancel
}

// notify queues a check of every server that references ref, without blocking the informer.
func (w *referenceWatcher) notify(ref referencedObject) {
	w.mu.Lock()
	inf := w.informer[ref]
	var servers []client.ObjectKey
	if inf != nil {
		for s := range inf.servers {
			servers = append(servers, s)
		}
	}
	w.mu.Unlock()
	for _, s := range servers {
		obj := w.newServer()
		obj.SetNamespace(s.Namespace)
		obj.SetName(s.Name)
		select {
		case w.events <- event.GenericEvent{Object: obj}:
		default:
		}
	}
}
