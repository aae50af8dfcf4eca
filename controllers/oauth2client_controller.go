// Package controllers holds the OAuth2Client reconciler.
package controllers

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/secrets"
)

// FieldManager is the server-side apply field manager for everything the operator writes.
const FieldManager = "oauth2-client-operator"

// controllerName names the controller in metrics and logs.
const controllerName = "oauth2client"

// OAuth2ClientReconciler registers each OAuth2Client at Hydra and keeps its credentials in a
// Secret. It is level-based and idempotent: every pass re-derives what to do from the resource,
// the Secret and Hydra, so a crash between any two calls is repaired by the next pass.
type OAuth2ClientReconciler struct {
	// Client reads OAuth2Clients and operator-managed Secrets from the cache and writes to the API.
	client.Client
	// APIReader reads Secrets the operator does not manage (user-provided credentials), which
	// are deliberately not cached: caching every Secret in the cluster costs memory and RBAC.
	APIReader client.Reader
	Scheme    *runtime.Scheme
	// Hydra is the authorization server's admin API, as ServerState.Observe wraps it: only then
	// do passes report an outage with reason AuthorizationServerUnavailable, and the pass that
	// sees the server's state change records it as an Event.
	Hydra    hydra.Client
	Recorder events.EventRecorder
	// QuietSuccess leaves out the Normal Events of routine success (Created, Updated,
	// Deleted): one API request less per change, for clusters where the status and the
	// operator's log are enough. Warnings and the Events of repairs and takeovers stay.
	QuietSuccess bool
	// SyncPeriod is how often a Ready resource has a pass again (with ±10% jitter) when nothing
	// watched tells of a change: with Drift set, only a resource with a provided Secret (to see
	// its rotation) and a ClientIDConflict; without, every Ready resource. The drift scanner
	// runs on an interval of its own (internal/operator's DriftInterval), far shorter, because
	// its scan is a few list requests where a pass per resource costs requests per resource.
	SyncPeriod time.Duration
	// Endpoints are the authorization server's public URLs, for secretTemplate.includeEndpoints.
	Endpoints secrets.Endpoints
	// Policy restricts which namespaces may choose client IDs or adopt clients.
	Policy NamespacePolicy
	// MaxConcurrentReconciles bounds the parallel reconciles of one authorization server's
	// clients (and so parallel requests to it); the controller runs twice as many workers, so
	// that a server that hangs leaves the others their share.
	MaxConcurrentReconciles int
	// Drift, when set, answers for the periodic drift check of all clients, which a scanner
	// does with paged list reads (internal/drift); without it every Ready client is re-read on
	// its own every SyncPeriod. DriftQueue is where that scanner sends the resources it finds
	// drifted, for this controller to reconcile: set both or neither.
	Drift      DriftVerdicts
	DriftQueue <-chan event.GenericEvent
	// Installation names this cluster in the owner mark of every client the operator registers
	// (--cluster-name), so that operators of two clusters sharing one authorization server
	// never adopt, rewrite or delete each other's clients. Required.
	Installation string
	// Servers holds the servers that AuthorizationServer and ClusterAuthorizationServer objects
	// describe, for resources with spec.authorizationServerRef; ServerKinds says which of the
	// two kinds this operator serves (their CRDs installed; the cluster kind only when it
	// watches every namespace). Nil: every reference is refused.
	Servers     *ServerDirectory
	ServerKinds map[v1alpha1.AuthorizationServerKind]bool
	// FingerprintKey keys the credentials fingerprint in status and on Secrets: a secret of the
	// installation, so that the fingerprint can't be used to test guesses of a weak secret.
	FingerprintKey []byte
	// Clock tells the time of rotation schedules; nil is the system clock. Tests inject a fake
	// one to see a rotation fire on time without waiting for it.
	Clock clock.PassiveClock

	// defaultSlots are the default server's Server.slots, made by SetupWithManager.
	defaultSlots       chan struct{}
	defaultLastRelease atomic.Int64

	// claimsIndexed: the cache indexes OAuth2Clients by claimed client ID (SetupWithManager).
	claimsIndexed bool

	// registered remembers what this process last registered at Hydra per resource, to tell a
	// cache that has not caught up with the operator's own status write from real work.
	registered sync.Map // types.UID -> registration
	// replaced remembers, per resource, what this process last wrote of a rotation, to tell a
	// Secret cache that has not caught up from a rotation that is due (cacheBehindRotation).
	replaced sync.Map // types.UID -> rotationWrite
	// sent remembers, per resource, the client this process last knew Hydra to hold as desired,
	// to update it without reading it first (hydra_update.go).
	sent sync.Map // types.UID -> sentClient
}

// registration is what a pass registered at Hydra for one resource.
type registration struct {
	generation            int64
	clientID, fingerprint string
}

// RBAC, least privilege; each rule says why the operator needs it.
// OAuth2Clients: watched into the cache (get/list/watch); patch adds and removes the finalizer.
// +kubebuilder:rbac:groups=oauth2.clientoperator.dev,resources=oauth2clients,verbs=get;list;watch;patch
// Status is written with a merge patch of the status subresource only.
// +kubebuilder:rbac:groups=oauth2.clientoperator.dev,resources=oauth2clients/status,verbs=get;patch
// Owner references with blockOwnerDeletion on the Secret need update on the owner's finalizers.
// +kubebuilder:rbac:groups=oauth2.clientoperator.dev,resources=oauth2clients/finalizers,verbs=update
// Secrets: get reads user-provided credentials; list/watch feed the cache, which a label
// selector limits to the Secrets the operator wrote; create and patch are server-side apply of
// those Secrets. No update, no delete: garbage collection removes them with their owner.
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;patch
// Events about each OAuth2Client (created, updated, drift repaired, errors).
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// SetupWithManager registers the reconciler: it watches OAuth2Clients and the Secrets it owns.
func (r *OAuth2ClientReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if len(r.FingerprintKey) == 0 {
		return errors.New("the reconciler needs a FingerprintKey")
	}
	if errs := hydra.ValidInstallation(r.Installation); len(errs) > 0 {
		return fmt.Errorf("the reconciler needs an Installation name (--cluster-name): %q: %s", r.Installation, strings.Join(errs, "; "))
	}
	if err := indexClaimsAcrossNamespaces(context.Background(), mgr.GetCache()); err != nil {
		return fmt.Errorf("indexing OAuth2Clients by client ID: %w", err)
	}
	r.claimsIndexed = true
	r.defaultSlots = make(chan struct{}, max(1, r.MaxConcurrentReconciles))
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1alpha1.OAuth2Client{}, serverIndex, func(o client.Object) []string {
		return indexedServer(o.(*v1alpha1.OAuth2Client))
	}); err != nil {
		return fmt.Errorf("indexing OAuth2Clients by server: %w", err)
	}
	b := ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.OAuth2Client{}, builder.WithPredicates(needsReconcile())).
		Owns(&corev1.Secret{})
	if r.ServerKinds[v1alpha1.AuthorizationServerKindNamespaced] {
		b = b.Watches(&v1alpha1.AuthorizationServer{}, r.serverHandler(), builder.WithPredicates(serverBecameReady()))
	}
	if r.ServerKinds[v1alpha1.AuthorizationServerKindCluster] {
		b = b.Watches(&v1alpha1.ClusterAuthorizationServer{}, r.serverHandler(), builder.WithPredicates(serverBecameReady())).
			WatchesMetadata(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(r.clientsOfNamespace), builder.WithPredicates(namespaceLabelsChanged()))
	}
	if (r.Drift == nil) != (r.DriftQueue == nil) {
		return errors.New("the reconciler needs both Drift and DriftQueue, or neither")
	}
	if r.DriftQueue != nil {
		b = b.WatchesRawSource(source.Channel(r.DriftQueue, &handler.EnqueueRequestForObject{}))
	}
	return b.
		WithOptions(controller.Options{
			// Twice the workers any one server may use (Server.slots): a bulkhead.
			MaxConcurrentReconciles: 2 * max(1, r.MaxConcurrentReconciles),
			RateLimiter:             retryRateLimiter(),
			LogConstructor:          logConstructor(mgr.GetLogger()),
		}).
		Named(controllerName).
		Complete(r)
}

// retryRateLimiter spaces out retries of failed passes: exponential per resource from 100ms up
// to a minute (controller-runtime's default grows to over 16 minutes, far too long to notice
// that Hydra is back), and at most 20 retries a second overall so an outage isn't hammered.
func retryRateLimiter() workqueue.TypedRateLimiter[reconcile.Request] {
	return workqueue.NewTypedMaxOfRateLimiter(
		workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](100*time.Millisecond, time.Minute),
		&workqueue.TypedBucketRateLimiter[reconcile.Request]{Limiter: rate.NewLimiter(rate.Limit(20), 100)},
	)
}

// needsReconcile lets through what changes the desired state: a new generation of the spec,
// a reconcile request annotation, and the start of deletion. The operator's own status and
// finalizer writes pass none of these, so they don't cause another pass and another Hydra read.
func needsReconcile() predicate.Predicate {
	return predicate.Or(
		predicate.GenerationChangedPredicate{},
		predicate.AnnotationChangedPredicate{},
		predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
			return e.ObjectOld.GetDeletionTimestamp().IsZero() != e.ObjectNew.GetDeletionTimestamp().IsZero()
		}},
	)
}

// Reconcile fetches the resource, defers one status patch, handles deletion and the finalizer,
// then runs the sub-reconcilers: credentials into the Secret first, then the Hydra client, then
// what is left of a rotation.
func (r *OAuth2ClientReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	obj := &v1alpha1.OAuth2Client{}
	// First, so it runs last: it sees the error of the status patch too.
	defer func() {
		if retErr != nil {
			logFailure(ctx, obj, retErr)
		}
	}()
	if err := r.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	original := obj.DeepCopy()
	ctx = withServerChangeEvents(ctx, r, obj)
	defer func() {
		if err := r.patchStatus(ctx, original, obj); err != nil {
			// The record of what was registered is only trustworthy once status holds it too.
			r.registered.Delete(obj.UID)
			r.sent.Delete(obj.UID)
			retErr = errors.Join(retErr, err)
		}
	}()

	if !obj.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, obj)
	}
	if err := r.ensureFinalizer(ctx, obj); err != nil {
		return ctrl.Result{}, err
	}
	obj.Status.SecretName = secretName(obj)
	requested, isRequested := obj.Annotations[v1alpha1.RequestedAtAnnotation]
	fullCheck := isRequested && requested != obj.Status.LastHandledRequestedAt
	if isRequested {
		obj.Status.LastHandledRequestedAt = requested
	}

	srv, err := r.serverFor(ctx, obj)
	if err != nil {
		return r.summarize(ctx, obj, nil, false, err)
	}
	if !srv.acquire(ctx) {
		// The server's passes hold all the workers they may: let other servers' clients run.
		return ctrl.Result{RequeueAfter: jitter(time.Second)}, nil
	}
	defer srv.release()
	creds, provided, issued, err := r.reconcileCredentials(ctx, obj, srv)
	if err == nil {
		err = r.reconcileHydraClient(ctx, obj, srv, creds, issued, fullCheck)
	}
	switch {
	case err == nil && provided:
		r.refuseProvidedRotation(obj)
	case err == nil:
		err = r.reconcileRotation(ctx, obj, srv, creds, issued)
	case rotationPending(obj, issued):
		rotations.WithLabelValues(srv.Name, string(strategyOf(obj)), "error").Inc()
	}
	return r.summarize(ctx, obj, srv, provided, err)
}

// summarize turns the outcome of a pass into conditions and what the controller does next:
// success requeues at the sync period; waiting requeues after a delay; stalled waits for a
// change to the spec; anything else is transient and retried with the controller's backoff.
// srv is the pass's server (nil when it could not be resolved); providedSecret: the credentials
// came from a Secret the operator neither writes nor watches.
func (r *OAuth2ClientReconciler) summarize(ctx context.Context, obj *v1alpha1.OAuth2Client, srv *Server, providedSecret bool, err error) (ctrl.Result, error) {
	// A copy: the setters below change the condition in place.
	var previous *metav1.Condition
	if c := meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ConditionReady); c != nil {
		previous = c.DeepCopy()
	}
	var stalled *stalledError
	var waiting *waitingError
	switch {
	case errors.Is(err, errScanPending):
		return ctrl.Result{RequeueAfter: jitter(2 * time.Second)}, nil
	case errors.Is(err, errStaleCache):
		return ctrl.Result{RequeueAfter: 500 * time.Millisecond}, nil
	case err == nil:
		setReady(obj, v1alpha1.ReasonReconciled, "The client is registered at Hydra and its credentials are in Secret "+obj.Status.SecretName)
		if wait := untilNextRotation(obj, providedSecret, r.now()); wait > 0 && (wait < r.SyncPeriod || srv.Drift != nil) {
			return ctrl.Result{RequeueAfter: wait}, nil
		}
		if srv != nil && srv.Drift != nil && !providedSecret {
			return ctrl.Result{}, nil // the scanner re-checks it
		}
		// Without a scanner every client is re-checked this way. With one, a provided Secret
		// still is: no watch tells of its rotation (by External Secrets, say), and the scanner
		// compares only Hydra's copy with the spec. Such a pass costs one API read of the Secret;
		// it reads Hydra only if the scanner saw a difference, and writes only a changed secret.
		return ctrl.Result{RequeueAfter: jitter(r.SyncPeriod)}, nil
	case errors.As(err, &stalled):
		setStalled(obj, stalled.reason, stalled.message)
		if entered(previous, stalled.reason, obj.Generation) {
			r.event(obj, corev1.EventTypeWarning, stalled.reason, stalled.message)
		}
		// A conflict may clear when the other owner goes away; a rejection only with a new spec.
		if stalled.reason == v1alpha1.ReasonClientIDConflict {
			return ctrl.Result{RequeueAfter: jitter(r.SyncPeriod)}, nil
		}
		return ctrl.Result{}, nil
	case errors.As(err, &waiting):
		setProgressing(obj, waiting.reason, waiting.message)
		if entered(previous, waiting.reason, obj.Generation) {
			r.event(obj, waitEventType(waiting.reason), waiting.reason, waiting.message)
		}
		return ctrl.Result{RequeueAfter: waiting.after}, nil
	default:
		reason, message := failureReason(err), err.Error()
		var unavailable *ServerUnavailableError
		if errors.As(err, &unavailable) {
			message = unavailableMessage(unavailable)
		}
		setProgressing(obj, reason, message)
		if entered(previous, reason, obj.Generation) {
			r.event(obj, corev1.EventTypeWarning, reason, message)
		}
		return ctrl.Result{}, err // Reconcile logs it
	}
}

// entered reports whether a pass that ends with reason moves the resource into a new state: an
// event is recorded on that transition only, not on every retry of an outage or a wait, which
// would cost an API write per retry and bury the events that matter.
func entered(previous *metav1.Condition, reason string, generation int64) bool {
	return previous == nil || previous.Reason != reason || previous.ObservedGeneration != generation
}

// waitEventType: waiting for a Secret that is yet to arrive is the normal course of a GitOps
// sync; a Secret that is there but unusable needs someone to fix it.
func waitEventType(reason string) string {
	if reason == v1alpha1.ReasonSecretNotFound {
		return corev1.EventTypeNormal
	}
	return corev1.EventTypeWarning
}

// ensureFinalizer adds the finalizer before anything is created at Hydra, so that no client
// can exist there without a finalizer to remove it.
func (r *OAuth2ClientReconciler) ensureFinalizer(ctx context.Context, obj *v1alpha1.OAuth2Client) error {
	if controllerutil.ContainsFinalizer(obj, v1alpha1.FinalizerName) {
		return nil
	}
	patch := client.MergeFromWithOptions(obj.DeepCopy(), client.MergeFromWithOptimisticLock{})
	controllerutil.AddFinalizer(obj, v1alpha1.FinalizerName)
	err := r.Patch(ctx, obj, patch)
	if !apierrors.IsConflict(err) {
		return err
	}
	// The cache is behind the API server, as it is for a few seconds after the API server comes
	// back from a restart, until the watch reconnects. Waiting for it would only grow the
	// backoff; the resource as the API server has it is one read away.
	fresh := &v1alpha1.OAuth2Client{}
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(obj), fresh); err != nil {
		return err
	}
	if !controllerutil.ContainsFinalizer(fresh, v1alpha1.FinalizerName) {
		patch = client.MergeFromWithOptions(fresh.DeepCopy(), client.MergeFromWithOptimisticLock{})
		controllerutil.AddFinalizer(fresh, v1alpha1.FinalizerName)
		if err := r.Patch(ctx, fresh, patch); err != nil {
			return err
		}
	}
	obj.Finalizers, obj.ResourceVersion = fresh.Finalizers, fresh.ResourceVersion
	return nil
}

// patchStatus writes the status when it changed, and only then: a pass with nothing to do makes
// no write. The patch carries only status, so it never conflicts with spec or metadata edits.
func (r *OAuth2ClientReconciler) patchStatus(ctx context.Context, original, obj *v1alpha1.OAuth2Client) error {
	if equality.Semantic.DeepEqual(original.Status, obj.Status) {
		return nil
	}
	base := obj.DeepCopy()
	base.Status = original.Status
	err := r.Status().Patch(ctx, obj, client.MergeFrom(base))
	return client.IgnoreNotFound(err)
}

// apiMessage is the API server's own message in an API error, without client-go's wrapping.
func apiMessage(err error) string {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return status.Status().Message
	}
	return err.Error()
}

// secretName is the Secret that holds the credentials: spec.secretName or the resource's name.
func secretName(obj *v1alpha1.OAuth2Client) string {
	if obj.Spec.SecretName != "" {
		return obj.Spec.SecretName
	}
	return obj.Name
}

// clientIDFor is the client ID the operator registers when neither spec.clientID nor a
// user-provided Secret names one: the resource's UID. Deriving it, rather than storing a random
// one, means a pass that crashed before saving anything still picks the same ID next time.
func clientIDFor(obj *v1alpha1.OAuth2Client) string {
	if obj.Spec.ClientID != "" {
		return obj.Spec.ClientID
	}
	return string(obj.UID)
}

func ownerRef(obj *v1alpha1.OAuth2Client) metav1.OwnerReference {
	return *metav1.NewControllerRef(obj, v1alpha1.GroupVersion.WithKind("OAuth2Client"))
}

// jitter spreads periodic re-checks of many clients over ±10% of the period, so that a restart
// or a burst of creations doesn't turn into synchronised bursts of Hydra reads forever after.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(float64(d) * (0.9 + 0.2*rand.Float64()))
}
