package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
)

// serverWait is how long a resource waits before it looks again for a server object that does
// not exist or has not been checked; the server's watch usually brings it back sooner.
const serverWait = 30 * time.Second

// RBAC: the namespaces' labels, which a ClusterAuthorizationServer's namespaceSelector matches.
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch

// defaultServer is the server of the operator's flags, for resources without a reference.
func (r *OAuth2ClientReconciler) defaultServer() *Server {
	return &Server{Name: DefaultServer, Hydra: r.Hydra, Endpoints: r.Endpoints, Drift: r.Drift, slots: r.defaultSlots, lastRelease: &r.defaultLastRelease}
}

// serverFor is the server obj's pass registers its client at.
//
// Contract: without spec.authorizationServerRef, the default server. With one, the server of
// that object when it exists, is served by this operator, selects the resource's namespace (a
// ClusterAuthorizationServer; not checked while the resource is deleted, so that a namespace
// no longer selected can still remove its client) and its check has read its credentials;
// otherwise an error that says which of these is missing: a wait for an object that may yet
// come, a stall for a namespace the server does not serve.
func (r *OAuth2ClientReconciler) serverFor(ctx context.Context, obj *v1alpha1.OAuth2Client) (*Server, error) {
	key, ok := referencedServer(obj)
	if !ok {
		return r.defaultServer(), nil
	}
	if r.Servers == nil || !r.ServerKinds[key.kind] {
		return nil, stalled(v1alpha1.ReasonAuthorizationServerNotFound,
			"This operator serves no %s objects: their CRD is not installed, or (for ClusterAuthorizationServer) the operator watches only some namespaces", key.kind)
	}
	server, err := r.serverObject(ctx, key)
	if err != nil {
		return nil, err
	}
	if cluster, isCluster := server.(*v1alpha1.ClusterAuthorizationServer); isCluster && obj.DeletionTimestamp.IsZero() {
		if err := r.checkNamespaceSelected(ctx, cluster, obj.Namespace); err != nil {
			return nil, err
		}
	}
	srv := r.Servers.Lookup(key)
	if srv == nil {
		why := "it has not been checked yet"
		if c := meta.FindStatusCondition(server.ServerStatus().Conditions, v1alpha1.ConditionReady); c != nil && c.Status != metav1.ConditionTrue {
			why = c.Reason + ": " + c.Message
		}
		return nil, &waitingError{reason: v1alpha1.ReasonAuthorizationServerNotReady, after: serverWait,
			message: fmt.Sprintf("The authorization server %s is not ready (%s)", key, why)}
	}
	return srv, nil
}

// serverObject reads the server object of key from the cache.
func (r *OAuth2ClientReconciler) serverObject(ctx context.Context, key serverKey) (authorizationServer, error) {
	var server authorizationServer = &v1alpha1.AuthorizationServer{}
	where := " in namespace " + key.namespace
	if key.kind == v1alpha1.AuthorizationServerKindCluster {
		server, where = &v1alpha1.ClusterAuthorizationServer{}, ""
	}
	err := r.Get(ctx, client.ObjectKey{Namespace: key.namespace, Name: key.name}, server)
	if isGone(err) {
		return nil, &waitingError{reason: v1alpha1.ReasonAuthorizationServerNotFound, after: serverWait,
			message: fmt.Sprintf("%s %q does not exist%s (spec.authorizationServerRef); an administrator creates it", key.kind, key.name, where)}
	}
	return server, err
}

// checkNamespaceSelected refuses a namespace the cluster server's namespaceSelector does not
// select: an unset or empty selector selects none, so that an administrator opts namespaces in.
func (r *OAuth2ClientReconciler) checkNamespaceSelected(ctx context.Context, server *v1alpha1.ClusterAuthorizationServer, namespace string) error {
	selected := false
	if sel := server.Spec.NamespaceSelector; sel != nil && (len(sel.MatchLabels) > 0 || len(sel.MatchExpressions) > 0) {
		selector, err := metav1.LabelSelectorAsSelector(sel)
		if err != nil {
			return stalled(v1alpha1.ReasonNamespaceNotAllowed, "ClusterAuthorizationServer %q has an invalid namespaceSelector: %v", server.Name, err)
		}
		ns := &metav1.PartialObjectMetadata{}
		ns.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
		if err := r.Get(ctx, client.ObjectKey{Name: namespace}, ns); err != nil {
			return err
		}
		selected = selector.Matches(labels.Set(ns.Labels))
	}
	if !selected {
		return stalled(v1alpha1.ReasonNamespaceNotAllowed,
			"ClusterAuthorizationServer %q does not serve namespace %s: its namespaceSelector does not select the namespace's labels (an administrator labels the namespace or changes the selector)", server.Name, namespace)
	}
	return nil
}

// clientsOfServer maps a server object to the reconcile requests of the OAuth2Clients that
// refer to it, from the cache's index.
func (r *OAuth2ClientReconciler) clientsOfServer(ctx context.Context, obj client.Object) []reconcile.Request {
	server, ok := obj.(authorizationServer)
	if !ok {
		return nil
	}
	list := &v1alpha1.OAuth2ClientList{}
	opts := []client.ListOption{client.MatchingFields{serverIndex: keyOfServer(server).String()}}
	if server.GetNamespace() != "" {
		opts = append(opts, client.InNamespace(server.GetNamespace()))
	}
	if err := r.List(ctx, list, opts...); err != nil {
		return nil
	}
	var out []reconcile.Request
	for _, nn := range requestsFor(list.Items) {
		out = append(out, reconcile.Request{NamespacedName: nn})
	}
	return out
}

// clientsOfNamespace maps a namespace whose labels changed to the OAuth2Clients in it that
// refer to a ClusterAuthorizationServer: the change may opt them in or out.
func (r *OAuth2ClientReconciler) clientsOfNamespace(ctx context.Context, obj client.Object) []reconcile.Request {
	list := &v1alpha1.OAuth2ClientList{}
	if err := r.List(ctx, list, client.InNamespace(obj.GetName())); err != nil {
		return nil
	}
	var out []reconcile.Request
	for i := range list.Items {
		if k, ok := referencedServer(&list.Items[i]); ok && k.kind == v1alpha1.AuthorizationServerKindCluster {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
		}
	}
	return out
}

// serverBecameReady passes a server's update when its Ready condition's status changed, or
// its namespaceSelector did: the only changes its clients need to hear of. Its periodic check
// (a new lastCheckTime) is not one of them.
func serverBecameReady() predicate.Predicate {
	readyOf := func(o client.Object) metav1.ConditionStatus {
		if s, ok := o.(authorizationServer); ok {
			if c := meta.FindStatusCondition(s.ServerStatus().Conditions, v1alpha1.ConditionReady); c != nil {
				return c.Status
			}
		}
		return metav1.ConditionUnknown
	}
	return predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return true },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			if readyOf(e.ObjectOld) != readyOf(e.ObjectNew) {
				return true
			}
			oldC, okOld := e.ObjectOld.(*v1alpha1.ClusterAuthorizationServer)
			newC, okNew := e.ObjectNew.(*v1alpha1.ClusterAuthorizationServer)
			return okOld && okNew && oldC.Generation != newC.Generation
		},
	}
}

// namespaceLabelsChanged passes a namespace's update when its labels changed.
func namespaceLabelsChanged() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return false },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			return !labels.Equals(e.ObjectOld.GetLabels(), e.ObjectNew.GetLabels())
		},
	}
}

// serverWatches are the watches of the server kinds this operator serves, for SetupWithManager.
func (r *OAuth2ClientReconciler) serverHandler() handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(r.clientsOfServer)
}
