package controllers

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/oauth2-client-operator/oauth2-client-operator/api/v1alpha1"
	"github.com/oauth2-client-operator/oauth2-client-operator/internal/hydra"
)

// DefaultServerCheckInterval is how often a server's health is checked again when nothing
// changed: often enough that a rotated Secret or a server that went away shows within a
// minute or so, rarely enough that a check (two small requests) costs nothing.
const DefaultServerCheckInterval = time.Minute

// authorizationServer is what both server kinds have in common.
type authorizationServer interface {
	client.Object
	ServerSpec() *v1alpha1.AuthorizationServerSpec
	ServerStatus() *v1alpha1.AuthorizationServerStatus
}

// AuthorizationServerReconciler checks the health of AuthorizationServers (Cluster false) or
// ClusterAuthorizationServers (Cluster true): it reads the Secrets and CA the spec names, asks
// the admin API for its version and lists one client with the credentials, and writes the
// outcome into status. It makes no change anywhere else.
//
// A check runs at once when the spec or the requested-at annotation changes, when a Secret or
// ConfigMap the spec references changes (referenceWatcher), and again every CheckInterval
// (with jitter), which notices a server that went away or came back.
type AuthorizationServerReconciler struct {
	// Client reads the server objects from the cache and patches their status.
	client.Client
	// APIReader reads the referenced Secrets and ConfigMaps, uncached.
	APIReader client.Reader
	Recorder  events.EventRecorder
	// Cluster selects the kind: ClusterAuthorizationServer when true.
	Cluster bool
	// OperatorNamespace holds the Secrets and ConfigMaps of ClusterAuthorizationServers; a
	// tenant's namespace never does.
	OperatorNamespace string
	// CheckInterval is how often a server is checked again; zero means
	// DefaultServerCheckInterval.
	CheckInterval time.Duration
	// Probe checks a server; nil means hydra.Probe. The fast tier replaces it.
	Probe func(context.Context, hydra.Options) (string, error)
	// Directory receives each server's connection, for the OAuth2Clients that refer to it; nil
	// when only health is checked.
	Directory *ServerDirectory

	// UsageUncached lists the OAuth2Clients that refer to a server being deleted from the API
	// server instead of the cache: a shard's cache holds only the shard's OAuth2Clients.
	UsageUncached bool

	// references watches the Secrets and ConfigMaps the servers reference; set up by
	// SetupWithManager, nil in the fast tier.
	references *referenceWatcher
}

// RBAC for the server kinds: read them, write their status. The Secrets' get is granted with
// the OAuth2Client reconciler's; ConfigMaps hold CA bundles.
// patch adds and removes the finalizer that keeps a server while OAuth2Clients refer to it.
// +kubebuilder:rbac:groups=oauth2.clientoperator.dev,resources=authorizationservers;clusterauthorizationservers,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=oauth2.clientoperator.dev,resources=authorizationservers/status;clusterauthorizationservers/status,verbs=get;patch
// list and watch: each referenced Secret or ConfigMap is watched by name (referenceWatcher).
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;list;watch

// SetupWithManager registers the reconciler for its kind. Only a new generation or a changed
// annotation starts a check; the reconciler's own status writes don't.
func (r *AuthorizationServerReconciler) SetupWithManager(mgr manager.Manager) error {
	if r.Cluster && r.OperatorNamespace == "" {
		return errors.New("the ClusterAuthorizationServer reconciler needs the operator's namespace")
	}
	name := "authorizationserver"
	if r.Cluster {
		name = "clusterauthorizationserver"
	}
	b := builder.ControllerManagedBy(mgr).
		For(r.newObject(), builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{},
			predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool { return !e.ObjectNew.GetDeletionTimestamp().IsZero() }})))
	core, err := corev1client.NewForConfigAndClient(mgr.GetConfig(), mgr.GetHTTPClient())
	if err != nil {
		return err
	}
	r.references = newReferenceWatcher(core.RESTClient(), r.newObject)
	if err := mgr.Add(r.references); err != nil {
		return err
	}
	b = b.WatchesRawSource(source.Channel(r.references.events, &handler.EnqueueRequestForObject{}))
	if r.Directory != nil {
		// A pass that finds the server down asks for a check now, so that the server's own
		// status tells of the outage at once, not at the next interval.
		b = b.WatchesRawSource(source.Channel(r.Directory.rechecks(r.kind()), &handler.EnqueueRequestForObject{}))
	}
	return b.
		WithOptions(controller.Options{MaxConcurrentReconciles: 1, RateLimiter: retryRateLimiter(),
			LogConstructor: logConstructor(mgr.GetLogger())}).
		Named(name).
		Complete(r)
}

func (r *AuthorizationServerReconciler) newObject() authorizationServer {
	if r.Cluster {
		return &v1alpha1.ClusterAuthorizationServer{}
	}
	return &v1alpha1.AuthorizationServer{}
}

// Reconcile checks one server and records the outcome in its status, with one status patch.
func (r *AuthorizationServerReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	obj := r.newObject()
	if err := r.Get(ctx, req.NamespacedName, obj); err != nil {
		if apierrors.IsNotFound(err) {
			r.references.forget(req.NamespacedName)
		}
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if !obj.GetDeletionTimestamp().IsZero() {
		return r.reconcileDelete(ctx, obj)
	}
	r.references.track(req.NamespacedName, referencedObjects(r.secretNamespace(obj), obj.ServerSpec()))
	if err := r.ensureFinalizer(ctx, obj); err != nil {
		return reconcile.Result{}, err
	}
	original := obj.DeepCopyObject().(authorizationServer)
	status := obj.ServerStatus()
	if requested, ok := obj.GetAnnotations()[v1alpha1.RequestedAtAnnotation]; ok {
		status.LastHandledRequestedAt = requested
	}
	version, err := r.check(ctx, obj)
	result, err := r.summarize(obj, version, err)
	if perr := r.patchStatus(ctx, original, obj); perr != nil {
		return reconcile.Result{}, errors.Join(err, perr)
	}
	return result, err
}

// check reads what the spec references and probes the server; it returns the version or
// the error that says why the server is not ready.
func (r *AuthorizationServerReconciler) check(ctx context.Context, obj authorizationServer) (string, error) {
	spec := obj.ServerSpec()
	creds, err := readServerCredentials(ctx, r.APIReader, r.secretNamespace(obj), spec)
	if err != nil {
		return "", err
	}
	opts, err := serverOptions(spec, creds)
	if err != nil {
		return "", err
	}
	probe := r.Probe
	if probe == nil {
		probe = hydra.Probe
	}
	version, err := probe(ctx, opts)
	if r.Directory != nil {
		if derr := r.publish(ctx, obj, opts, err); derr != nil {
			return version, derr
		}
	}
	return version, err
}

// publish hands the server's connection, built from the options this check used, to the
// directory, and tells the server's state the check's outcome: a success closes its circuit,
// a failure opens it, so that the passes of its clients fail at once rather than wait.
func (r *AuthorizationServerReconciler) publish(ctx context.Context, obj authorizationServer, opts hydra.Options, probeErr error) error {
	spec := obj.ServerSpec()
	opts.MaxIdleConnsPerHost = r.Directory.Workers
	key := keyOfServer(obj)
	state, err := r.Directory.configure(key, opts, spec.PublicURL, r.Directory.endpoints(ctx, key, spec.PublicURL, opts), spec.RateLimit)
	if err != nil {
		return stalled(v1alpha1.ReasonSecretInvalid, "The admin client can't be built from spec: %v", err)
	}
	if probeErr == nil {
		state.MarkReachable(ctx)
	} else if cause, _ := hydra.Availability(probeErr); cause != "" {
		_ = state.observe(ctx, probeErr)
	}
	return nil
}

// kind is the kind of server this reconciler checks.
func (r *AuthorizationServerReconciler) kind() v1alpha1.AuthorizationServerKind {
	if r.Cluster {
		return v1alpha1.AuthorizationServerKindCluster
	}
	return v1alpha1.AuthorizationServerKindNamespaced
}

// secretNamespace is where obj's Secrets and ConfigMaps are read: its own namespace, or the
// operator's for the cluster kind, so that a tenant can't point the operator at its own.
func (r *AuthorizationServerReconciler) secretNamespace(obj authorizationServer) string {
	if r.Cluster {
		return r.OperatorNamespace
	}
	return obj.GetNamespace()
}

// serverVerdict is what one check means for the conditions: the reason, its message, and
// whether it is a stall (needs a change by someone), a wait, or a transient failure.
type serverVerdict struct {
	reason, message string
	kind            verdictKind
}

type verdictKind int

const (
	verdictReady verdictKind = iota
	verdictStalled
	verdictWaiting
	verdictTransient
)

// judgeServer turns the outcome of a check into a verdict. Unauthorized is configuration:
// retrying faster would not help, so it is stalled and checked again on the interval. Every
// other failure of the probe is the server's or the network's and retried with backoff; its
// message names the cause, not the error text, so that it stays the same across retries.
func judgeServer(adminURL, version string, err error) serverVerdict {
	var st *stalledError
	var wait *waitingError
	switch {
	case err == nil:
		return serverVerdict{v1alpha1.ReasonReachable, "The admin API answered with version " + version + " and accepted the operator's credentials", verdictReady}
	case errors.As(err, &st):
		return serverVerdict{st.reason, st.message, verdictStalled}
	case errors.As(err, &wait):
		return serverVerdict{wait.reason, wait.message, verdictWaiting}
	case hydra.IsUnauthorized(err):
		// The status code only: what a gateway writes back is not worth the risk of quoting it.
		var apiErr *hydra.APIError
		errors.As(err, &apiErr)
		return serverVerdict{v1alpha1.ReasonUnauthorized, fmt.Sprintf("The admin API at %s refused the operator's credentials (HTTP %d): check spec.auth and the Secret it names",
			hydra.RedactURL(adminURL), apiErr.StatusCode), verdictStalled}
	}
	var certErr *tls.CertificateVerificationError
	if errors.As(err, &certErr) {
		return serverVerdict{v1alpha1.ReasonUnreachable, fmt.Sprintf("The admin API at %s presented a certificate the operator does not trust: check spec.caBundle",
			hydra.RedactURL(adminURL)), verdictTransient}
	}
	cause, known := hydra.Availability(err)
	if !known || cause == "" {
		return serverVerdict{v1alpha1.ReasonUnreachable, fmt.Sprintf("Checking the admin API at %s failed: %v", hydra.RedactURL(adminURL), err), verdictTransient}
	}
	return serverVerdict{v1alpha1.ReasonUnreachable, fmt.Sprintf("The admin API at %s is unavailable: %s", hydra.RedactURL(adminURL), cause), verdictTransient}
}

// summarize writes the verdict into the conditions, records an Event when the Ready
// condition's reason changes, and says when to check again.
func (r *AuthorizationServerReconciler) summarize(obj authorizationServer, version string, err error) (reconcile.Result, error) {
	status := obj.ServerStatus()
	v := judgeServer(obj.ServerSpec().AdminURL, version, err)
	// A copy: setServerConditions changes the condition in place.
	var previous *metav1.Condition
	if c := meta.FindStatusCondition(status.Conditions, v1alpha1.ConditionReady); c != nil {
		previous = c.DeepCopy()
	}
	changed := previous == nil || previous.Reason != v.reason || previous.Message != v.message
	setServerConditions(status, obj.GetGeneration(), v)
	if v.kind == verdictReady {
		status.Version = version
	}
	now := time.Now()
	if changed || status.LastCheckTime == nil || now.Sub(status.LastCheckTime.Time) >= r.interval()/2 {
		status.LastCheckTime = &metav1.Time{Time: now}
	}
	if previous == nil || previous.Reason != v.reason {
		r.event(obj, v)
	}
	if v.kind == verdictTransient {
		return reconcile.Result{}, err
	}
	return reconcile.Result{RequeueAfter: jitter(r.interval())}, nil
}

// setServerConditions sets Ready, Reconciling and Stalled for a verdict, as kstatus reads them.
func setServerConditions(status *v1alpha1.AuthorizationServerStatus, generation int64, v serverVerdict) {
	set := func(t string, s metav1.ConditionStatus) {
		meta.SetStatusCondition(&status.Conditions, metav1.Condition{Type: t, Status: s, Reason: v.reason,
			Message: truncate(v.message, 1024), ObservedGeneration: generation})
	}
	ready := metav1.ConditionFalse
	if v.kind == verdictReady {
		ready = metav1.ConditionTrue
	}
	set(v1alpha1.ConditionReady, ready)
	meta.RemoveStatusCondition(&status.Conditions, v1alpha1.ConditionReconciling)
	meta.RemoveStatusCondition(&status.Conditions, v1alpha1.ConditionStalled)
	switch v.kind {
	case verdictStalled:
		set(v1alpha1.ConditionStalled, metav1.ConditionTrue)
	case verdictWaiting, verdictTransient:
		set(v1alpha1.ConditionReconciling, metav1.ConditionTrue)
	}
	// Every verdict is the whole answer for this generation; a retry or wait follows either way.
	status.ObservedGeneration = generation
}

func (r *AuthorizationServerReconciler) event(obj authorizationServer, v serverVerdict) {
	if r.Recorder == nil {
		return
	}
	eventType := corev1.EventTypeWarning
	if v.kind == verdictReady || v.reason == v1alpha1.ReasonSecretNotFound {
		eventType = corev1.EventTypeNormal
	}
	r.Recorder.Eventf(obj, nil, eventType, v.reason, "Check", "%s", truncate(v.message, maxEventMessage))
}

func (r *AuthorizationServerReconciler) interval() time.Duration {
	if r.CheckInterval > 0 {
		return r.CheckInterval
	}
	return DefaultServerCheckInterval
}

// patchStatus writes the status when it changed, and only then.
func (r *AuthorizationServerReconciler) patchStatus(ctx context.Context, original, obj authorizationServer) error {
	if equality.Semantic.DeepEqual(original.ServerStatus(), obj.ServerStatus()) {
		return nil
	}
	return client.IgnoreNotFound(r.Status().Patch(ctx, obj, client.MergeFrom(original)))
}
