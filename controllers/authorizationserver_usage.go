package controllers

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/secrets"
)

// inUseRecheck is how often a server being deleted looks again for OAuth2Clients that still
// refer to it.
const inUseRecheck = 5 * time.Second

// ensureFinalizer adds the finalizer that keeps the server object until no OAuth2Client refers
// to it: deleting a server first (as deleting a namespace does, all at once) would otherwise
// leave its clients unable to remove their registrations, and their deletion stuck.
func (r *AuthorizationServerReconciler) ensureFinalizer(ctx context.Context, obj authorizationServer) error {
	if r.Directory == nil || controllerutil.ContainsFinalizer(obj, v1alpha1.FinalizerName) {
		return nil
	}
	patch := client.MergeFromWithOptions(obj.DeepCopyObject().(client.Object), client.MergeFromWithOptimisticLock{})
	controllerutil.AddFinalizer(obj, v1alpha1.FinalizerName)
	return r.Patch(ctx, obj, patch)
}

// reconcileDelete lets a server go once no OAuth2Client refers to it; until then its
// connection stays in the directory (the clients being deleted need it) and its Ready
// condition says what it waits for.
func (r *AuthorizationServerReconciler) reconcileDelete(ctx context.Context, obj authorizationServer) (reconcile.Result, error) {
	if !controllerutil.ContainsFinalizer(obj, v1alpha1.FinalizerName) {
		return reconcile.Result{}, nil
	}
	key := keyOfServer(obj)
	users, err := r.clientsOf(ctx, key)
	if err != nil {
		return reconcile.Result{}, err
	}
	if n := len(users); n > 0 {
		original := obj.DeepCopyObject().(authorizationServer)
		message := fmt.Sprintf("Being deleted: %d OAuth2Client(s) still refer to this server, such as %s/%s; it goes once they are deleted",
			n, users[0].Namespace, users[0].Name)
		status := obj.ServerStatus()
		previous := meta.FindStatusCondition(status.Conditions, v1alpha1.ConditionReady)
		if previous == nil || previous.Reason != v1alpha1.ReasonInUse {
			setServerConditions(status, obj.GetGeneration(), serverVerdict{reason: v1alpha1.ReasonInUse, message: message, kind: verdictWaiting})
		}
		return reconcile.Result{RequeueAfter: inUseRecheck}, r.patchStatus(ctx, original, obj)
	}
	r.Directory.remove(key)
	r.references.forget(client.ObjectKeyFromObject(obj))
	patch := client.MergeFromWithOptions(obj.DeepCopyObject().(client.Object), client.MergeFromWithOptimisticLock{})
	controllerutil.RemoveFinalizer(obj, v1alpha1.FinalizerName)
	return reconcile.Result{}, client.IgnoreNotFound(r.Patch(ctx, obj, patch))
}

// clientsOf lists the OAuth2Clients that refer to the server of key: from the cache's index,
// or, with UsageUncached (a shard), from the API server, in the server's namespace for an
// AuthorizationServer.
func (r *AuthorizationServerReconciler) clientsOf(ctx context.Context, key serverKey) ([]v1alpha1.OAuth2Client, error) {
	list := &v1alpha1.OAuth2ClientList{}
	if !r.UsageUncached {
		err := r.List(ctx, list, client.MatchingFields{serverIndex: key.String()})
		return list.Items, err
	}
	if err := r.APIReader.List(ctx, list, client.InNamespace(key.namespace)); err != nil {
		return nil, err
	}
	var users []v1alpha1.OAuth2Client
	for _, obj := range list.Items {
		if ref, ok := referencedServer(&obj); ok && ref == key {
			users = append(users, obj)
		}
	}
	return users, nil
}

// endpoints are the public URLs of the server at publicURL, for the Secrets of its clients:
// those its discovery document names, else the standard paths under publicURL; read once per
// URL and kept (a discovery document changes with the issuer, which changes the URL too).
func (d *ServerDirectory) endpoints(ctx context.Context, key serverKey, publicURL string, opts hydra.Options) secrets.Endpoints {
	if publicURL == "" {
		return secrets.Endpoints{}
	}
	d.mu.RLock()
	e := d.entries[key]
	d.mu.RUnlock()
	if e != nil && e.publicURL == publicURL {
		return e.server.Endpoints
	}
	found, err := hydra.Discover(ctx, publicURL, opts)
	if err != nil {
		return secrets.EndpointsFromPublicURL(publicURL)
	}
	return secrets.Endpoints{Issuer: found.Issuer, Token: found.Token, Authorization: found.Authorization, JWKS: found.JWKS}
}

// rechecks is the channel on which the servers of kind ask for a check now; the server
// reconciler of that kind watches it.
func (d *ServerDirectory) rechecks(kind v1alpha1.AuthorizationServerKind) chan event.GenericEvent {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.recheck == nil {
		d.recheck = map[v1alpha1.AuthorizationServerKind]chan event.GenericEvent{}
	}
	if d.recheck[kind] == nil {
		d.recheck[kind] = make(chan event.GenericEvent, 16)
	}
	return d.recheck[kind]
}

// askForCheck queues a check of the server of key, unless one is queued already.
func (d *ServerDirectory) askForCheck(key serverKey) {
	ch := d.rechecks(key.kind)
	var obj client.Object = &v1alpha1.AuthorizationServer{ObjectMeta: metav1.ObjectMeta{Namespace: key.namespace, Name: key.name}}
	if key.kind == v1alpha1.AuthorizationServerKindCluster {
		obj = &v1alpha1.ClusterAuthorizationServer{ObjectMeta: metav1.ObjectMeta{Name: key.name}}
	}
	select {
	case ch <- event.GenericEvent{Object: obj}:
	default:
	}
}
